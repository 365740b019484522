import luigi


class Extract(luigi.Task):
    retries = 2
    retry_delay = -1

    def output(self):
        return luigi.LocalTarget("raw.txt")


class Report(luigi.Task):
    def requires(self):
        return Extract()

    def output(self):
        return luigi.LocalTarget("out.txt")
