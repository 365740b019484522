import luigi

class Load(luigi.Task):
    def output(self):
        return luigi.LocalTarget("build/load.txt")

    def run(self):
        yield "data/other.txt"
