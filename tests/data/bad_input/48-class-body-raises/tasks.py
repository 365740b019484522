import luigi


class Report(luigi.Task):
    per_day = 24
    per_minute = per_day / 0

    def output(self):
        return luigi.LocalTarget("out.txt")
