import luigi


class Report(luigi.Task):
    retries = 1
    retry_backoff = 0

    def output(self):
        return luigi.LocalTarget("out.txt")
