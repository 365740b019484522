import luigi

class Loop(luigi.Task):
    def requires(self):
        return Loop()

    def output(self):
        return luigi.LocalTarget("build/loop.txt")
