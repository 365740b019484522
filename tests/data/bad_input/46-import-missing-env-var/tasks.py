import os

import luigi

BUCKET = os.environ["MISSING_VAR"]


class Report(luigi.Task):
    def output(self):
        return luigi.LocalTarget("out.txt")
