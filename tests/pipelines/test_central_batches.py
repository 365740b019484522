"""A run against ``dashpipe scheduler`` sends its calls in batches; luigi's own workers, and
dashpipe runs against luigi's own luigid, go on talking luigi's protocol one call at a time."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

from pipelines import ExitCode
from tests.helpers import REPO, run_cli
from tests.servers import Server, start_luigid, start_plain_luigid

PLAIN_BUILD = """
import sys, luigi
from benchmarks.generated import PlainFanIn
ok = luigi.build([PlainFanIn(root=sys.argv[1], n=50)], scheduler_url=sys.argv[2], log_level="WARNING")
sys.exit(0 if ok else 1)
"""


def requests_served(server: Server) -> collections.Counter[str]:
    """The RPCs the server has answered so far, by name, from its access log."""
    log = server.log_path.read_text(errors="replace")
    return collections.Counter(re.findall(r"\b200 POST /api/(\w+)", log))


def build_fan_in(server: Server, root: Path, n: int) -> None:
    """``dashpipe run`` of a fan-in of ``n`` leaves through ``server``; it must succeed."""
    result = run_cli(
        "run", "benchmarks/generated.py:FanIn", "--root", str(root), "--n", str(n),
        "--scheduler", server.url, cwd=REPO,
    )  # fmt: skip
    assert result.exit_code == ExitCode.OK, result.output


def test_a_run_schedules_and_reports_in_batches(tmp_path: Path) -> None:
    server = start_luigid(tmp_path)
    try:
        build_fan_in(server, tmp_path / "out", 200)
        served = requests_served(server)
    finally:
        server.stop()
    assert len(list((tmp_path / "out" / "leaves").rglob("*.txt"))) == 200
    assert served["add_task"] == 0, served
    # luigi's worker makes three requests a task (scheduled, asked for, done). Here each request
    # for work carries the reports of the tasks before it, and tasks this quick are handed out
    # several at a time (as many as the worker runs in 50 ms).
    calls = sum(count for name, count in served.items() if name != "ping")
    assert 1 <= served["add_tasks_and_get_work"] < 201 / 4, served
    assert calls < 201 / 3, served


def test_luigis_own_worker_is_served_one_call_at_a_time(tmp_path: Path) -> None:
    server = start_luigid(tmp_path)
    try:
        built = subprocess.run(
            [sys.executable, "-c", PLAIN_BUILD, str(tmp_path / "plain"), server.url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        served = requests_served(server)
    finally:
        server.stop()
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "plain" / "fan-in-50.txt").read_text() == "50\n"
    assert served["add_task"] >= 2 * 51 and served["add_tasks_and_get_work"] == 0, served


def test_a_run_against_luigis_own_luigid_does_not_batch(tmp_path: Path) -> None:
    server = start_plain_luigid(tmp_path)
    try:
        build_fan_in(server, tmp_path / "out", 20)
    finally:
        server.stop()
    assert (tmp_path / "out" / "fan-in-20.txt").read_text() == "20\n"


FAILING_FAN_IN = """
import luigi

from pipelines import Task
from targets import FileTarget


class Quick(Task):
    root = luigi.Parameter()
    i = luigi.IntParameter()

    def output(self):
        return FileTarget(f"{self.root}/{self.i:03d}.txt")

    def run(self):
        if self.i == 30:
            raise RuntimeError("leaf 30 fails")
        with self.output().open("w") as out:
            out.write(str(self.i))


class Many(Task):
    root = luigi.Parameter()

    def requires(self):
        return [Quick(root=self.root, i=i) for i in range(100)]

    def output(self):
        return FileTarget(f"{self.root}/all.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("all")
"""


def test_tasks_handed_out_in_advance_go_back_when_a_run_stops(tmp_path: Path) -> None:
    import luigi.rpc

    (tmp_path / "many.py").write_text(FAILING_FAN_IN)
    server = start_luigid(tmp_path)
    try:
        result = run_cli("run", "many.py:Many", "--root", str(tmp_path / "out"), "--scheduler", server.url,
                         cwd=tmp_path)  # fmt: skip
        remote = luigi.rpc.RemoteScheduler(server.url)
        listed = {
            status: remote._request("/api/task_list", {"status": status, "upstream_status": "", "search": ""})
            for status in ("RUNNING", "PENDING", "DONE", "FAILED")
        }
    finally:
        server.stop()
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    built = len(list((tmp_path / "out").glob("*.txt")))
    assert len(listed["FAILED"]) == 1 and len(listed["DONE"]) == built, listed
    # Nothing is left running for a worker that is gone: what it was handed and did not start,
    # and what never ran, is pending for the next run or an assistant.
    assert listed["RUNNING"] == {}, listed["RUNNING"]
    assert len(listed["PENDING"]) == 101 - built - 1, sorted(listed["PENDING"])
