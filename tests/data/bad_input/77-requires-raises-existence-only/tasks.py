import luigi


def orders_for(task):
    return Orders(day=task.day)  # the task has no parameter day


class Orders(luigi.ExternalTask):
    day = luigi.DateParameter()


class Totals(luigi.Task):
    def requires(self):
        return orders_for(self)

    def output(self):
        return luigi.LocalTarget("build/totals.txt")
