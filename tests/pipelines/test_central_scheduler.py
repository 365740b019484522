"""Runs through a real central scheduler, started with ``dashpipe scheduler``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from pipelines import ExitCode
from tests.helpers import REPO, Gate, run_cli, start_cli, wait_until
from tests.pipelines.test_example_pipeline import ran
from tests.servers import Server

GREETINGS = str(REPO / "tests" / "data" / "yaml" / "greetings.yaml")


def test_runs_share_the_central_scheduler_and_forced_rebuilds_are_not_swallowed(
    luigid_server: Server, tmp_path: Path
) -> None:
    args = ["run", GREETINGS, "--root", str(tmp_path), "--scheduler", luigid_server.url]
    first = run_cli(*args, cwd=tmp_path)
    assert first.exit_code == ExitCode.OK, first.output
    assert len(ran(first)) == 4
    query = urllib.parse.quote(json.dumps({"status": "DONE"}))
    with urllib.request.urlopen(f"{luigid_server.url}/api/task_list?data={query}") as reply:
        done = json.loads(reply.read())["response"]
    assert {task["name"] for task in done.values()} >= {
        "greetings.greet",
        "greetings.loud",
        "greetings.words",
    }
    # luigid's done-cooldown would ignore a task re-marked PENDING right after it was DONE.
    forced = run_cli(*args, "--force", "greet", cwd=tmp_path)
    assert forced.exit_code == ExitCode.OK, forced.output
    assert ran(forced) == ["greetings.greet", "greetings.loud", "greetings.words"]


def test_default_scheduler_url_from_luigi_cfg(luigid_server: Server, tmp_path: Path) -> None:
    config = f"[core]\ndefault-scheduler-url = {luigid_server.url}\n"
    result = run_cli("run", GREETINGS, "--root", str(tmp_path), "-v", cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.OK, result.output
    assert luigid_server.url.split("//")[1] in result.output  # luigi's log names the scheduler it used


DEDUP = """
pipeline: dedup
params:
  root: {type: string}
steps:
  base:
    # Holds at a gate the test opens once every run has scheduled it.
    shell: >-
      flock -s {root}/gate true &&
      echo base >> {root}/runs.log && echo base > {outputs.o}
    outputs: {o: "{root}/base.txt"}
  left:
    shell: "echo left >> {root}/runs.log && cat {inputs.i} > {outputs.o}"
    inputs: {i: base.o}
    outputs: {o: "{root}/left.txt"}
  right:
    shell: "echo right >> {root}/runs.log && cat {inputs.i} > {outputs.o}"
    inputs: {i: base.o}
    outputs: {o: "{root}/right.txt"}
  up:
    shell: "echo up >> {root}/runs.log && cat {inputs.i} > {outputs.o}"
    inputs: {i: base.o}
    outputs: {o: "{root}/up.txt"}
  down:
    shell: "echo down >> {root}/runs.log && cat {inputs.i} > {outputs.o}"
    inputs: {i: base.o}
    outputs: {o: "{root}/down.txt"}
"""


def scheduled_by(server: Server, family: str) -> int:
    """How many workers have scheduled the task of ``family`` (pending or already running)."""
    counts = [0]
    for status in ("PENDING", "RUNNING"):
        query = urllib.parse.quote(json.dumps({"status": status}))
        with urllib.request.urlopen(f"{server.url}/api/task_list?data={query}") as reply:
            tasks = json.loads(reply.read())["response"]
        counts += [len(task["workers"]) for task in tasks.values() if task["name"] == family]
    return max(counts)


@pytest.mark.parametrize("processes", [2, 4])
def test_overlapping_runs_share_the_work_and_run_each_task_once(
    processes: int, luigid_server: Server, tmp_path: Path
) -> None:
    (tmp_path / "dedup.yaml").write_text(DEDUP)
    gate = Gate(tmp_path / "gate")
    runs = [
        start_cli(
            "run", "dedup.yaml", step, "--root", str(tmp_path), "--scheduler", luigid_server.url, cwd=tmp_path
        )
        for step in ["left", "right", "up", "down"][:processes]
    ]
    try:
        wait_until(  # every run wants the shared step
            lambda: scheduled_by(luigid_server, "dedup.base") >= processes,
            "every run to schedule the shared step",
            runs,
        )
        gate.open()
        outputs = [run.communicate(timeout=120)[0] for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    assert [run.returncode for run in runs] == [0] * processes, outputs
    expected = ["base", *["left", "right", "up", "down"][:processes]]
    assert sorted((tmp_path / "runs.log").read_text().split()) == sorted(expected)
    assert any("built by another worker" in output for output in outputs), outputs


def test_history_and_metrics_show_runs_without_private_parameters(
    luigid_server: Server, tmp_path: Path
) -> None:
    (tmp_path / "secret_task.py").write_text(
        "import luigi\n"
        "from luigi.parameter import ParameterVisibility\n\n"
        "class Fetch(luigi.Task):\n"
        "    day = luigi.Parameter()\n"
        "    token = luigi.Parameter(visibility=ParameterVisibility.PRIVATE)\n"
        "    def output(self):\n        return luigi.LocalTarget(f'fetched-{self.day}.txt')\n"
        "    def run(self):\n        self.output().open('w').close()\n"
    )
    token = "tok-history-must-not-keep-this"
    result = run_cli(
        "run",
        "secret_task.py:Fetch",
        "--day",
        "mon",
        "--token",
        token,
        "--scheduler",
        luigid_server.url,
        cwd=tmp_path,
    )
    assert result.exit_code == ExitCode.OK, result.output

    def finished_runs() -> list:
        history = run_cli("history", "Fetch", "--db", luigid_server.extra["history"], "--json", cwd=tmp_path)
        assert history.exit_code == ExitCode.OK, history.output
        assert token not in history.stdout
        return [run for run in json.loads(history.stdout) if run["outcome"] == "done"]

    # The scheduler writes history in batches, a commit behind its replies.
    wait_until(finished_runs, "the finished run in the scheduler's history", timeout_s=30)
    runs = finished_runs()
    assert runs[0]["task"] == "Fetch"
    assert runs[0]["params"] == {"day": "mon"} and runs[0]["seconds"] is not None
    text = run_cli("history", "--db", luigid_server.extra["history"], cwd=tmp_path).stdout
    assert "Fetch(day=mon)" in text and "done" in text
    with urllib.request.urlopen(f"{luigid_server.url}/metrics") as reply:
        metrics = reply.read().decode()
    done = [
        line for line in metrics.splitlines() if line.startswith("luigi_task_done_total{") and "Fetch" in line
    ]
    assert done and float(done[0].rsplit(" ", 1)[1]) >= 1
    assert token not in metrics


RESTART = """
pipeline: restart
params:
  root: {type: string}
steps:
  slow:
    shell: >-
      touch {root}/reached && flock -s {root}/gate true &&
      echo slow >> {root}/runs.log && echo slow > {outputs.o}
    outputs: {o: "{root}/slow.txt"}
  after:
    shell: "echo after >> {root}/runs.log && cat {inputs.i} > {outputs.o}"
    inputs: {i: slow.o}
    outputs: {o: "{root}/after.txt"}
"""


def test_a_run_survives_a_scheduler_restart(tmp_path: Path) -> None:
    from tests.servers import free_port, start_luigid

    port, state = free_port(), tmp_path / "state"
    (tmp_path / "logs").mkdir()
    scheduler = start_luigid(tmp_path / "logs", port=port, state=state)
    (tmp_path / "restart.yaml").write_text(RESTART)
    gate = Gate(tmp_path / "gate")
    config = tmp_path / "retry.cfg"
    config.write_text("[core]\nrpc-retry-attempts = 60\nrpc-retry-wait = 1\n")
    run = start_cli(
        "run",
        "restart.yaml",
        "--root",
        str(tmp_path),
        "--scheduler",
        scheduler.url,
        cwd=tmp_path,
        env={**os.environ, "LUIGI_CONFIG_PATH": str(config)},
    )
    restarted = None
    try:
        wait_until((tmp_path / "reached").exists, "the run to start its first step", [run])
        scheduler.stop()  # luigid saves its state on the way down
        restarted = start_luigid(tmp_path / "logs", port=port, state=state)
        gate.open()
        output = run.communicate(timeout=180)[0]
    finally:
        if run.poll() is None:
            run.kill()
        for server in (scheduler, restarted):
            if server is not None:
                server.stop()
    assert run.returncode == 0, output
    assert (tmp_path / "runs.log").read_text().split() == ["slow", "after"]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Debian's Chromium, headless, as the workplace runs it: no network of its own, a fresh profile."""
    import shutil

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is not installed (scripts/test.sh installs Debian's chromium)"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=8000",
        "--window-size=1400,900",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)


def test_the_visualiser_shows_yaml_steps_by_pipeline_and_step(tmp_path: Path) -> None:
    from tests.servers import start_luigid

    (tmp_path / "logs").mkdir()
    scheduler = start_luigid(tmp_path / "logs")  # its own: the page lists ten tasks at a time
    try:
        sales = str(REPO / "examples" / "sales" / "pipeline.yaml")
        built = run_cli(
            "run",
            sales,
            "--date",
            "2026-11-24",
            "--root",
            str(tmp_path / "out"),
            "--scheduler",
            scheduler.url,
            cwd=REPO,
        )
        assert built.exit_code == ExitCode.OK, built.output
        page = f"{scheduler.url}/static/visualiser/index.html"
        dom = chromium("--dump-dom", page, profile=tmp_path / "profile-1").stdout
        table_rows = re.findall(r'<tr[^>]*class="(?:odd|even)"[^>]*>(.*?)</tr>', dom, re.S)  # rendered rows
        rows = [row for row in table_rows if "sales.clean" in row or "sales.report" in row]
        assert len(rows) >= 2, dom[-2000:]
        text = [re.sub(r"<[^>]+>", "", row) for row in rows]  # what a reader sees in each row
        assert all("DONE" in row and "date=2026-11-24" in row for row in text), text
        screenshot = tmp_path / "visualiser.png"
        chromium(f"--screenshot={screenshot}", page, profile=tmp_path / "profile-2")
        assert screenshot.stat().st_size > 10_000  # a rendered page, kept as docs/img/visualiser.png
    finally:
        scheduler.stop()
