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
    # One request per task handed out carries the report of the one before; luigi's worker
    # makes three a task (scheduled, asked for, done).
    assert served["add_tasks_and_get_work"] >= 201
    calls = sum(count for name, count in served.items() if name != "ping")
    assert calls < 201 * 1.1, served


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
