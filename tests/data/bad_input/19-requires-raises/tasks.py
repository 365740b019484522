import luigi

class Totals(luigi.Task):
    def requires(self):
        return {"orders": Orders(day=self.day)}

    def output(self):
        return luigi.LocalTarget("build/totals.txt")


class Orders(luigi.ExternalTask):
    day = luigi.DateParameter()
