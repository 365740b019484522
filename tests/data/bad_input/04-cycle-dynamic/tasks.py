import luigi


class Load(luigi.Task):
    """Yields a dependency at run time that needs Load itself: it could never finish."""

    def output(self):
        return luigi.LocalTarget("build/load.txt")

    def run(self):
        yield Index()
        with self.output().open("w") as out:
            out.write("x")


class Index(luigi.Task):
    def requires(self):
        return Load()

    def output(self):
        return luigi.LocalTarget("build/index.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("x")
