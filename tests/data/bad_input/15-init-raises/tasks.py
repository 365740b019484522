import luigi

class Even(luigi.Task):
    n = luigi.IntParameter(default=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.n % 2:
            raise ValueError("n must be even")
