import luigi


class First(luigi.Task):
    def output(self):
        return luigi.LocalTarget("build/out.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("first")


class Second(luigi.Task):
    """Writes the file First writes, spelt another way."""

    def requires(self):
        return First()

    def output(self):
        return luigi.LocalTarget("build/tmp/../out.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("second")
