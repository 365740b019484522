"""A run's journal stands in for a "building" record per task: a run killed after a task
published its output, before the task's record, leaves that task stale, on every backend."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from pipelines import ExitCode
from pipelines.assessment.build_journal import is_journal
from tests.conftest import Backend, make_backend
from tests.helpers import Gate, run_cli, start_cli, wait_until
from tests.pipelines.test_example_pipeline import ran

TASKS = """
import fcntl
from pathlib import Path

import luigi

from pipelines import Task
from targets import FileTarget


class Part(Task):
    root = luigi.Parameter()
    gate = luigi.Parameter()
    name = luigi.Parameter()

    def output(self):
        return FileTarget(f"{self.root}/{self.name}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(self.name)
        if self.name == "waits":
            # Published; the run is killed here, before this task's record is written.
            Path(f"{self.gate}.reached").touch()
            with open(self.gate) as gate:
                fcntl.flock(gate, fcntl.LOCK_SH)


class Both(Task):
    root = luigi.Parameter()
    gate = luigi.Parameter()

    def requires(self):
        return [Part(root=self.root, gate=self.gate, name=name) for name in ("first", "waits")]

    def output(self):
        return FileTarget(f"{self.root}/both.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("both")
"""


def journals(backend: Backend) -> list[str]:
    fs = backend.fs()
    directory = fs._strip_protocol(backend.url("out", ".dashpipe"))
    fs.invalidate_cache()
    if not fs.exists(directory):
        return []
    return [
        name
        for name in (path.rsplit("/", 1)[-1] for path in fs.ls(directory, detail=False))
        if is_journal(name)
    ]


@pytest.mark.parametrize("name", ["local", "s3", "gcs"])
def test_a_first_build_killed_after_publishing_is_stale_until_rebuilt(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend = make_backend(name, request, tmp_path)
    (tmp_path / "journal_tasks.py").write_text(TASKS)
    config = tmp_path / "luigi.cfg"
    config.write_text(backend.config)
    env = {**os.environ, **backend.env, "LUIGI_CONFIG_PATH": str(config)}
    gate = Gate(tmp_path / "gate")
    args = ["journal_tasks.py:Both", "--root", backend.url("out"), "--gate", str(gate.path)]
    process = start_cli("run", *args, cwd=tmp_path, env=env, start_new_session=True)
    try:
        reached = tmp_path / "gate.reached"
        wait_until(reached.exists, f"the run to reach the gate ({reached})", [process])
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert backend.fs().exists(backend.fs()._strip_protocol(backend.url("out", "waits.txt")))
    assert len(journals(backend)) == 1  # one record directory, one run

    status = run_cli("status", *args, "--json", cwd=tmp_path, config=backend.config, env=backend.env)
    tasks = json.loads(status.stdout)["tasks"]
    (waits,) = [task for task in tasks if "waits" in task["name"]]
    (both,) = [task for task in tasks if task["family"] == "Both"]
    assert waits["state"] == "stale", waits
    assert waits["reason"] == "its last build did not finish (interrupted, or failed)"
    assert waits["recorded"] is None
    assert both["state"] == "missing", both

    gate.open()
    rerun = run_cli("run", *args, cwd=tmp_path, config=backend.config, env=backend.env)
    assert rerun.exit_code == ExitCode.OK, rerun.output
    assert "Both" in ran(rerun)
    assert ran(rerun).count("Part") in (1, 2)  # "waits", and "first" if the kill came first
    assert journals(backend) == []  # the rerun removed its own; the killed run's is settled
    status = run_cli("status", *args, cwd=tmp_path, config=backend.config, env=backend.env)
    assert "3 tasks: 3 up to date — nothing to rebuild" in status.stdout, status.output


def test_a_task_that_failed_after_publishing_stays_stale_once_the_journal_is_gone(tmp_path: Path) -> None:
    tasks = tmp_path / "fails.py"
    tasks.write_text(
        "import luigi\nfrom pipelines import Task\nfrom targets import FileTarget\n\n"
        "class Fails(Task):\n    root = luigi.Parameter()\n\n"
        "    def output(self):\n        return FileTarget(f'{self.root}/out.txt')\n\n"
        "    def run(self):\n        with self.output().open('w') as out:\n            out.write('x')\n"
        "        raise RuntimeError('after publishing')\n"
    )
    args = ["fails.py:Fails", "--root", str(tmp_path / "out")]
    failed = run_cli("run", *args, cwd=tmp_path)
    assert failed.exit_code == ExitCode.TASK_FAILED, failed.output
    assert not [name for name in os.listdir(tmp_path / "out" / ".dashpipe") if is_journal(name)]
    status = run_cli("status", *args, "--json", cwd=tmp_path)
    (task,) = json.loads(status.stdout)["tasks"]
    assert task["state"] == "stale" and task["cause"] == "interrupted", task
