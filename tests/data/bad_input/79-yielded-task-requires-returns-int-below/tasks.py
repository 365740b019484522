import luigi


class Broken(luigi.Task):
    def requires(self):
        return 42

    def output(self):
        return luigi.LocalTarget("build/broken.txt")


class AboveBroken(luigi.Task):
    def requires(self):
        return Broken()

    def output(self):
        return luigi.LocalTarget("build/above.txt")


class Load(luigi.Task):
    def output(self):
        return luigi.LocalTarget("build/load.txt")

    def run(self):
        yield AboveBroken()
