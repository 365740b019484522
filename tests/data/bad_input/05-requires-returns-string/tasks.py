import luigi


class Report(luigi.Task):
    def requires(self):
        return "data/raw.csv"  # a path, where luigi needs a Task

    def output(self):
        return luigi.LocalTarget("build/report.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("x")
