"""A central scheduler that does not answer ends the run with exit 5 within the connect timeout,
naming the URL, before anything runs."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from pipelines import ExitCode
from tests.helpers import run_cli

TASKS = """\
import luigi


class Hello(luigi.Task):
    def output(self):
        return luigi.LocalTarget("hello.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("hello")
"""


def test_scheduler_that_accepts_but_never_answers(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASKS)
    # The kernel completes connections to a listening socket nobody accepts from: a hung luigid.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        began = time.monotonic()
        result = run_cli(
            "run",
            "tasks.py:Hello",
            "--scheduler",
            url,
            cwd=tmp_path,
            config="[core]\nrpc-connect-timeout = 1\n",
        )
        took = time.monotonic() - began
    assert result.exit_code == ExitCode.SCHEDULER_ERROR, result.output
    assert f"scheduler {url} did not answer: no answer within the connect timeout" in result.output
    assert "Traceback" not in result.output
    assert took < 15, f"took {took:.1f} s with a 1 s connect timeout"
    assert not (tmp_path / "hello.txt").exists()
