import luigi

class Daily(luigi.Task):
    day = luigi.DateParameter(default="yesterday")

    def output(self):
        return luigi.LocalTarget("build/daily.txt")
