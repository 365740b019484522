import luigi

class Report(luigi.Task):
    def output(self):
        return luigi.LocalTarget(self.path)
