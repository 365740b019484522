import luigi

class Split(luigi.Task):
    def output(self):
        return ["build/train.csv", "build/test.csv"]
