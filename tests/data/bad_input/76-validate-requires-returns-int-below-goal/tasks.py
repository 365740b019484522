import luigi


class Clean(luigi.Task):
    def requires(self):
        return 42  # a number, where luigi needs a Task

    def output(self):
        return luigi.LocalTarget("build/clean.csv")


class Report(luigi.Task):
    def requires(self):
        return Clean()

    def output(self):
        return luigi.LocalTarget("build/report.txt")
