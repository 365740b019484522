import luigi

from targets import FileTarget


class Hello(luigi.Task):
    def output(self):
        return FileTarget("reports/hello.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("hello\n")
