import luigi

class Check(luigi.Task):
    def output(self):
        return luigi.LocalTarget("build/check.txt")

    def complete(self):
        raise RuntimeError("cannot tell whether the export finished")
