import luigi


class Shard(luigi.Task):
    """Each shard reads the next one, and the last reads the first: a loop through parameters."""

    i = luigi.IntParameter()

    def requires(self):
        return Shard(i=(self.i + 1) % 3)

    def output(self):
        return luigi.LocalTarget(f"build/shard-{self.i}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("x")
