import luigi

from targets import FileTarget


class Export(luigi.Task):
    root = luigi.Parameter()

    def output(self):
        return FileTarget(f"{self.root}/export.csv")
