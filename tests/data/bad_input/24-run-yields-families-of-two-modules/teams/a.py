import luigi


class Part(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget("build/a/part-%d.txt" % self.i)

    def run(self):
        with self.output().open("w") as out:
            out.write("a")
