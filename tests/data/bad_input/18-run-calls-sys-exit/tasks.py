import sys

import luigi

class Quit(luigi.Task):
    def output(self):
        return luigi.LocalTarget("build/quit.txt")

    def run(self):
        sys.exit(3)
