import luigi


class Report(luigi.Task):
    retries = "3"

    def output(self):
        return luigi.LocalTarget("out.txt")
