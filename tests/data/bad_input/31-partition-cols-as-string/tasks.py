import luigi
import pyarrow as pa

from targets import ParquetTarget


class Sales(luigi.Task):
    def output(self):
        return ParquetTarget("build/sales", partition_cols="store")  # a string, not a list

    def run(self):
        self.output().write(pa.table({"store": ["a"], "amount": [1]}))
