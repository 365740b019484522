import luigi

class Raw(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("data/raw.csv")


class Clean(luigi.Task):
    def requires(self):
        return Raw

    def output(self):
        return luigi.LocalTarget("build/clean.csv")
