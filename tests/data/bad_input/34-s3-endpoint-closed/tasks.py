import luigi

from targets import FileTarget


class Upload(luigi.Task):
    def output(self):
        return FileTarget("s3://reports/daily.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("x")
