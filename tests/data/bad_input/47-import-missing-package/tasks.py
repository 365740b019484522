import luigi
import no_such_package_dashpipe  # noqa: F401


class Report(luigi.Task):
    pass
