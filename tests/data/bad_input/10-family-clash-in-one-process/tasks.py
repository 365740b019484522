import luigi

from teams import a, b


class Both(luigi.WrapperTask):
    """Needs both teams' parts: two different tasks to this process, one task to a shared luigid."""

    def requires(self):
        return [a.Part(i=8), b.Part(i=9)]
