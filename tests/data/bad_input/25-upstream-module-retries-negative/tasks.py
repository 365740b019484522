import luigi

from lib.extract import Extract


class Report(luigi.Task):
    def requires(self):
        return Extract()

    def output(self):
        return luigi.LocalTarget("build/report.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("report")
