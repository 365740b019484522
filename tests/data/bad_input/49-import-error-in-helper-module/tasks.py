import luigi
from settings import DB_URL  # noqa: F401


class Report(luigi.Task):
    pass
