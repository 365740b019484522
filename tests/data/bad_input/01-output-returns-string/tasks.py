import luigi


class Report(luigi.Task):
    def output(self):
        return "build/report.txt"  # a path, where luigi needs a Target

    def run(self):
        pass
