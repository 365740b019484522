import luigi


class Report(luigi.Task):
    worker_timeout = -5

    def output(self):
        return luigi.LocalTarget("out.txt")
