"""``dashpipe worker``: assistants on other machines (here, other working directories that share
only luigid and S3) build what a run scheduled, each task once, and replace a worker killed
mid-task."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import luigi.rpc
import pytest

from pipelines import ExitCode
from tests.helpers import Gate, run_cli, start_cli, wait_until
from tests.servers import Server, start_luigid

LEAVES = 9

TASKS = """
import fcntl
import os
import threading
from pathlib import Path

import luigi

from pipelines import Task
from targets import FileTarget


def mark(kind, task):
    Path(kind).mkdir(exist_ok=True)
    Path(kind, task.task_id).touch(exist_ok=False)  # a second run in one place fails loudly


class Leaf(Task):
    root = luigi.Parameter()
    gate = luigi.Parameter()
    i = luigi.IntParameter()

    def output(self):
        return FileTarget(f"{self.root}/leaf_{self.i}.txt")

    def run(self):
        if os.environ.get("HOLD_TASKS"):
            mark("held", self)
            threading.Event().wait()  # until this worker is killed
        with open(self.gate) as gate:
            fcntl.flock(gate, fcntl.LOCK_SH)
        with self.output().open("w") as out:
            out.write(f"leaf {self.i}")
        mark("ran", self)


class All(Task):
    root = luigi.Parameter()
    gate = luigi.Parameter()

    def requires(self):
        return [Leaf(root=self.root, gate=self.gate, i=i) for i in range(LEAVES)]

    def output(self):
        return FileTarget(f"{self.root}/all.txt")

    def run(self):
        texts = [target.open("r").read() for target in self.input()]
        with self.output().open("w") as out:
            out.write(",".join(texts))
        mark("ran", self)
""".replace("LEAVES", str(LEAVES))

# A dead worker's task is failed after 3 s without a ping (workers ping every second) and handed
# out again half a second later; prunes come with requests, and idle workers ask ten times a second.
SCHEDULER_CONFIG = """\
[scheduler]
worker_disconnect_delay = 3
retry_delay = 0.5
prune_on_get_work = true
"""
WORKER_CONFIG = "[worker]\nwait_interval = 0.1\nwait_jitter = 0\n"


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[Server]:
    server = start_luigid(tmp_path, state=tmp_path / "scheduler-state", config=SCHEDULER_CONFIG)
    yield server
    server.stop()


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _stop(process: subprocess.Popen) -> str:
    """luigi's SIGUSR1: the worker finishes what it is running (the goal's record, say), then
    exits; its output."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGUSR1)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "stopped after its running tasks finished" in output, output
    return output


def _markers(directories: list[Path], kind: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for directory in directories:
        for marker in (directory / kind).glob("*") if (directory / kind).exists() else []:
            found.setdefault(marker.name, []).append(directory.name)
    return found


def test_assistants_build_each_task_once_and_replace_a_killed_one(
    scheduler: Server, s3_server: Server, tmp_path: Path
) -> None:
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3", endpoint_url=s3_server.url, skip_instance_cache=True)
    fs.mkdir(bucket)
    root = f"s3://{bucket}/out"
    config = tmp_path / "luigi.cfg"
    config.write_text(f"[s3]\nendpoint_url = {s3_server.url}\n{WORKER_CONFIG}")
    env = {**os.environ, "LUIGI_CONFIG_PATH": str(config)}
    places = {name: tmp_path / name for name in ("run", "w1", "w2", "w3", "checkout")}
    for place in places.values():
        place.mkdir()
        (place / "fan.py").write_text(TASKS)
    gate = Gate(tmp_path / "gate")
    goal = ["fan.py:All", "--root", root, "--gate", str(gate.path)]
    worker = ["worker", "--scheduler", scheduler.url, "fan.py"]

    def start_worker(name: str, **extra: str) -> subprocess.Popen:
        return start_cli(*worker, cwd=places[name], env={**env, **extra}, start_new_session=True)

    processes = [start_worker("w1", HOLD_TASKS="1")]
    try:
        run = start_cli(
            "run", *goal, "--scheduler", scheduler.url, cwd=places["run"], env=env, start_new_session=True
        )
        processes.append(run)
        # w1 takes a leaf and holds it; the run's own worker waits at the gate with another.
        wait_until(lambda: _markers([places["w1"]], "held"), "w1 to take a task", processes)
        (held,) = _markers([places["w1"]], "held")
        processes += [start_worker("w2"), start_worker("w3")]
        _kill(processes[0])
        gate.open()
        all_txt = f"{bucket}/out/all.txt"

        def built() -> bool:
            fs.invalidate_cache()
            return fs.exists(all_txt)

        wait_until(built, "the goal to be built", processes[2:])
        run_output, _ = run.communicate(timeout=60)
        w2_output, w3_output = _stop(processes[2]), _stop(processes[3])
    finally:
        for process in processes:
            _kill(process)

    workers = [places[name] for name in ("run", "w1", "w2", "w3")]
    ran = _markers(workers, "ran")
    assert len(ran) == LEAVES + 1, ran  # every leaf and the goal
    assert all(len(where) == 1 for where in ran.values()), ran  # each built once
    assert "w1" not in ran[held] and len(ran[held]) == 1, ran  # the held task was built elsewhere
    assert {"w2", "w3"} & {where[0] for where in ran.values()}, ran  # assistants did build
    fs.invalidate_cache()
    assert fs.cat(all_txt).decode() == ",".join(f"leaf {i}" for i in range(LEAVES))
    assert "ran" in w2_output + w3_output, (w2_output, w3_output)
    assert run.returncode in (ExitCode.OK, ExitCode.TASK_FAILED), run_output  # see below
    if run.returncode == ExitCode.TASK_FAILED:
        # The run gave up on the held task before luigid handed it out again: it says where it failed.
        assert "failed on" in run_output, run_output

    # A fresh checkout elsewhere sees every output up to date, with its record.
    status = run_cli("status", *goal, "--json", cwd=places["checkout"], env=env)
    assert status.exit_code == ExitCode.OK, status.output
    states = {task["name"]: (task["state"], task["reason"]) for task in json.loads(status.stdout)["tasks"]}
    assert len(states) == LEAVES + 1, states
    assert {state for state, _ in states.values()} == {"up to date"}, states


def test_a_task_an_assistant_cannot_load_fails_naming_why(scheduler: Server, tmp_path: Path) -> None:
    (tmp_path / "known.py").write_text(
        "import luigi\n\n\nclass Known(luigi.Task):\n    a = luigi.IntParameter()\n"
        "    b = luigi.IntParameter(default=2)  # new in this worker's version\n"
    )
    remote = luigi.rpc.RemoteScheduler(scheduler.url)
    sent = {
        # Its code is not here.
        "Missing_task_1": {"family": "Missing", "module": "no_such_module_here", "params": {}},
        # Its code is, but not the version the run had: the task rebuilt here has another id.
        "Known_1_3f2a": {"family": "Known", "module": "known", "params": {"a": "1"}},
    }
    for task_id, task in sent.items():
        remote.add_task(worker="elsewhere", task_id=task_id, status="PENDING", runnable=True, **task)
    config = tmp_path / "luigi.cfg"
    config.write_text(WORKER_CONFIG)
    worker = start_cli(
        "worker",
        "--scheduler",
        scheduler.url,
        "known.py",
        cwd=tmp_path,
        env={**os.environ, "LUIGI_CONFIG_PATH": str(config)},
        start_new_session=True,
    )
    try:

        def failed() -> bool:
            query = {"status": "FAILED", "upstream_status": "", "search": ""}
            listed = remote._request("/api/task_list", query)
            return set(sent) <= set(listed)

        wait_until(failed, "the assistant to fail both tasks", [worker])
        output = _stop(worker)
    finally:
        _kill(worker)
    missing = json.loads(remote.fetch_error(task_id="Missing_task_1")["error"])
    assert missing.startswith("cannot load task Missing: importing its module 'no_such_module_here'"), missing
    assert "start `dashpipe worker` with the file or YAML pipeline that defines it" in missing
    known = json.loads(remote.fetch_error(task_id="Known_1_3f2a")["error"])
    assert known.startswith("the task rebuilt here from Known's parameters is Known_1_2_"), known
    assert known.endswith("not Known_1_3f2a: is this worker's code the version the run scheduled?"), known
    assert "Traceback" not in output and "Missing_task_1: cannot load task Missing" in output, output
    assert "Known_1_3f2a: the task rebuilt here" in output, output
