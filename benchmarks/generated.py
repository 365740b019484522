"""Generated pipelines for benchmarks: N trivial tasks in a fan-in or a chain."""

from __future__ import annotations

import luigi

from pipelines import Task
from targets import FileTarget


class Leaf(Task):
    root = luigi.Parameter()
    index = luigi.IntParameter()

    def output(self):
        return FileTarget(f"{self.root}/leaves/{self.index // 1000:03d}/{self.index:06d}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{self.index}\n")


class FanIn(Task):
    """One task needing ``n`` leaves."""

    root = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        return [Leaf(root=self.root, index=index) for index in range(self.n)]

    def output(self):
        return FileTarget(f"{self.root}/fan-in-{self.n}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{len(self.input())}\n")


class RemoteLeaf(Leaf):
    """A Leaf whose output lives on an object store reached with ``options``."""

    options = luigi.DictParameter(default={}, significant=False)

    def output(self):
        return FileTarget(f"{self.root}/leaves/{self.index // 1000:03d}/{self.index:06d}.txt", **self.options)


class RemoteFanIn(FanIn):
    options = luigi.DictParameter(default={}, significant=False)

    def requires(self):
        return [RemoteLeaf(root=self.root, index=index, options=self.options) for index in range(self.n)]

    def output(self):
        return FileTarget(f"{self.root}/fan-in-{self.n}.txt", **self.options)


class SleepyLeaf(Leaf):
    """A leaf that waits 50 ms, like a task waiting on I/O: what parallel workers overlap."""

    def run(self):
        import time

        time.sleep(0.05)
        super().run()


class SleepyFanIn(FanIn):
    def requires(self):
        return [SleepyLeaf(root=self.root, index=index) for index in range(self.n)]


class SleepyDay(Task):
    """One date's partition of a backfill, waiting 50 ms as on an upload or a query."""

    root = luigi.Parameter()
    date = luigi.DateParameter()

    def output(self):
        return FileTarget(f"{self.root}/days/{self.date:%Y-%m-%d}.txt")

    def run(self):
        import time

        time.sleep(0.05)
        with self.output().open("w") as handle:
            handle.write(f"{self.date}\n")


# Plain luigi: what a team already has. The build benchmark runs these same classes through
# luigi.build and through dashpipe, so the comparison is of the engines, not of the targets.


class PlainLeaf(luigi.Task):
    root = luigi.Parameter()
    index = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"{self.root}/leaves/{self.index // 1000:03d}/{self.index:06d}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{self.index}\n")


class PlainFanIn(luigi.Task):
    """One task needing ``n`` leaves."""

    root = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        return [PlainLeaf(root=self.root, index=index) for index in range(self.n)]

    def output(self):
        return luigi.LocalTarget(f"{self.root}/fan-in-{self.n}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{len(self.input())}\n")


class PlainChain(luigi.Task):
    """Link ``n`` of a chain: it needs link ``n - 1``, down to link 1."""

    root = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        return PlainChain(root=self.root, n=self.n - 1) if self.n > 1 else []

    def output(self):
        return luigi.LocalTarget(f"{self.root}/chain/{self.n // 1000:03d}/{self.n:06d}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{self.n}\n")


class Chain(Task):
    """Link ``n`` of a chain: it needs link ``n - 1``, down to link 1."""

    root = luigi.Parameter()
    n = luigi.IntParameter()

    def requires(self):
        return Chain(root=self.root, n=self.n - 1) if self.n > 1 else []

    def output(self):
        return FileTarget(f"{self.root}/chain/{self.n // 1000:03d}/{self.n:06d}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{self.n}\n")
