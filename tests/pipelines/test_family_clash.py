"""Two modules' tasks of one family and parameters are one task to a shared scheduler: the run
that finds it done by the other says so and names the way out, instead of a bare "not run"."""

from __future__ import annotations

from pathlib import Path

from pipelines import ExitCode
from tests.helpers import run_cli
from tests.servers import start_plain_luigid

PART = """\
import luigi


class Part(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget("part-%d.txt" % self.i)

    def run(self):
        with self.output().open("w") as out:
            out.write("{team}")
"""


def test_same_family_from_another_module_on_a_shared_luigid(tmp_path: Path) -> None:
    server = start_plain_luigid(tmp_path)
    try:
        for team in ("a", "b"):
            (tmp_path / team).mkdir()
            (tmp_path / team / "parts.py").write_text(PART.format(team=team))
        first = run_cli("run", "parts.py:Part", "--i", "8", "--scheduler", server.url, cwd=tmp_path / "a")
        assert first.exit_code == ExitCode.OK, first.output
        second = run_cli("run", "parts.py:Part", "--i", "8", "--scheduler", server.url, cwd=tmp_path / "b")
    finally:
        server.stop()
    assert second.exit_code == ExitCode.TASK_FAILED, second.output
    assert "Part(i=8): the scheduler has it as done" in second.output
    assert "yet its outputs are missing here" in second.output
    assert "task_namespace" in second.output
    assert "Traceback" not in second.output
    assert not (tmp_path / "b" / "part-8.txt").exists()
