import luigi


class Hello(luigi.Task):
    def output(self):
        return luigi.LocalTarget("build/hello.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("hello\n")
