"""A chain of plain luigi tasks whose first link fails: what blocks everything after it.

Imported by tests, and run by path through the CLI (``tests/pipelines/chain_tasks.py:Link``).
"""

from __future__ import annotations

import luigi


class Link(luigi.Task):
    """Link ``n`` needs link ``n - 1``; link 1 fails."""

    root = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        return Link(root=self.root, n=self.n - 1) if self.n > 1 else []

    def output(self):
        return luigi.LocalTarget(f"{self.root}/link-{self.n}.txt")

    def run(self):
        if self.n == 1:
            raise ValueError("the first link broke")
        with self.output().open("w") as handle:
            handle.write("link")
