"""No graph walk recurses: a chain far deeper than Python's recursion limit goes through every
command that walks the graph."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipelines import ExitCode
from tests.helpers import run_cli

DEPTH = 3 * sys.getrecursionlimit()

CHAIN = """\
import luigi


class Link(luigi.Task):
    n = luigi.IntParameter()

    def requires(self):
        return Link(n=self.n - 1) if self.n else []

    def output(self):
        return luigi.LocalTarget(f"build/link-{self.n}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(str(self.n))
"""


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("chain")
    (directory / "chain.py").write_text(CHAIN)
    return directory


@pytest.mark.parametrize(
    "command", [["dag"], ["dag", "--format", "json"], ["status"], ["run", "-n"], ["list"]], ids=" ".join
)
def test_a_deep_chain_goes_through(command: list[str], chain: Path) -> None:
    result = run_cli(*command, "chain.py:Link", "--n", str(DEPTH), cwd=chain)
    assert "Traceback" not in result.output and "RecursionError" not in result.output, result.output[-2000:]
    expected = ExitCode.OUT_OF_DATE if command == ["run", "-n"] else ExitCode.OK
    assert result.exit_code == expected, result.output[-2000:]
    assert f"Link(n={DEPTH})" in result.output
