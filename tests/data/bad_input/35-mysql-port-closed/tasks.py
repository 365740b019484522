import luigi

from targets import MySqlTableTarget


class Load(luigi.Task):
    def output(self):
        return MySqlTableTarget("mysql://loader@127.0.0.1:9/reporting/daily?update_id=2026-11-24")
