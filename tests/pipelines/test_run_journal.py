"""Every run keeps a journal beside its build records; readers see runs as they happen and after."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from pipelines.errors import ExitCode
from pipelines.execute.estimate import Estimate, durations_by_family, estimate, percentile
from pipelines.execute.run_history import JournalReader, Run, TaskRun, apply_events, mark_critical_path
from pipelines.execute.run_journal import RUNS_DIRECTORY
from targets import FileTarget
from tests.conftest import Backend
from tests.helpers import run_cli
from tests.pipelines.test_retries_timeouts import TASKS as RETRYING

PIPELINE = """
pipeline: journal
params:
  root: {type: string}
  fail: {type: bool, default: false}
steps:
  first:
    shell: "echo one > {outputs.o}"
    outputs: {o: "{root}/first.txt"}
  second:
    shell: "if [ {fail} = True ]; then echo 'disk on fire' >&2; exit 3; fi; cat {inputs.i} > {outputs.o}"
    inputs: {i: first.o}
    outputs: {o: "{root}/second.txt"}
  third:
    shell: "cat {inputs.i} > {outputs.o}"
    inputs: {i: second.o}
    outputs: {o: "{root}/third.txt"}
"""
FAMILIES = ["journal.first", "journal.second", "journal.third"]


def events_of(run_dir: Path) -> list[dict]:
    return [orjson.loads(line) for line in (run_dir / "000000.jsonl").read_bytes().splitlines()]


def only_run_dir(runs: Path) -> Path:
    (run_dir,) = runs.iterdir()
    return run_dir


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    path = tmp_path / "journal.yaml"
    path.write_text(PIPELINE)
    return path


def test_a_run_journals_each_task_beside_its_records(tmp_path: Path, pipeline: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("run", str(pipeline), "--root", str(out), "-j", "2")
    assert result.exit_code == ExitCode.OK, result.output
    runs = out / ".dashpipe" / RUNS_DIRECTORY
    events = events_of(only_run_dir(runs))
    kinds = [event["event"] for event in events]
    assert kinds[0] == "run" and kinds[-1] == "end"
    assert events[0]["command"] == str(pipeline)
    assert events[0]["workers"] == 2 and events[0]["planned"] == 3
    assert events[-1]["exit"] == 0
    started = {event["family"]: event for event in events if event["event"] == "start"}
    assert sorted(started) == ["journal.first", "journal.second", "journal.third"]
    assert started["journal.third"]["needs"] == [started["journal.second"]["task"]]
    assert kinds.count("done") == 3

    (run,) = JournalReader([FileTarget(str(runs))]).runs()
    assert run.state == "succeeded"
    assert run.progress() == {"done": 3, "failed": 0, "skipped": 0, "running": 0, "left": 0, "total": 3}
    assert [run.tasks[task].family for task in mark_critical_path(run)] == FAMILIES

    again = run_cli("run", str(pipeline), "--root", str(out))
    assert again.exit_code == ExitCode.OK
    newest, oldest = JournalReader([FileTarget(str(runs))]).runs()
    assert oldest.run_id == run.run_id
    assert newest.tasks == {} and newest.planned == 0 and newest.state == "succeeded"


def test_a_failed_run_journals_the_error_its_log_and_what_it_blocked(tmp_path: Path, pipeline: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "run",
        str(pipeline),
        "--root",
        str(out),
        "--fail",
        config=f"[dashpipe]\ntask_logs = {tmp_path}/logs\n",
    )
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    (run,) = JournalReader([FileTarget(str(out / ".dashpipe" / RUNS_DIRECTORY))]).runs()
    assert run.state == "failed" and run.exit_code == ExitCode.TASK_FAILED
    failed = next(task for task in run.tasks.values() if task.outcome == "failed")
    assert failed.family == "journal.second"
    assert "disk on fire" in (failed.error or "")
    assert failed.log is not None and "disk on fire" in Path(failed.log).read_text()
    ((blocked, blockers),) = [(entry["name"], entry["blocked_by"]) for entry in run.not_run]
    assert blocked.startswith("journal.third(") and blockers == [failed.name]


def test_journals_can_be_turned_off(tmp_path: Path, pipeline: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("run", str(pipeline), "--root", str(out), config="[dashpipe]\nrun_journal = off\n")
    assert result.exit_code == ExitCode.OK, result.output
    assert not (out / ".dashpipe" / RUNS_DIRECTORY).exists()


def test_a_journal_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path: Path, pipeline: Path) -> None:
    out = tmp_path / "out"
    (out / ".dashpipe").mkdir(parents=True)
    (out / ".dashpipe" / RUNS_DIRECTORY).write_text("a file where the runs directory goes")
    result = run_cli("run", str(pipeline), "--root", str(out))
    assert result.exit_code == ExitCode.OK, result.output
    assert "dashpipe: warning: run journal" in result.stderr and "not written" in result.stderr
    assert (out / "third.txt").read_text() == "one\n"


@pytest.mark.parametrize("task", ["Flaky", "TimedFlaky"], ids=["in-process", "own-process"])
def test_retries_are_journaled(tmp_path: Path, task: str) -> None:
    # A task with a timeout runs in a process of its own: its retry is reported from there.
    (tmp_path / "retrying.py").write_text(RETRYING + "\n\nclass TimedFlaky(Flaky):\n    timeout = 60\n")
    result = run_cli("run", f"{tmp_path / 'retrying.py'}:{task}", "--root", str(tmp_path))
    assert result.exit_code == ExitCode.OK, result.output
    (run,) = JournalReader([FileTarget(str(tmp_path / ".dashpipe" / RUNS_DIRECTORY))]).runs()
    (task_run,) = run.tasks.values()
    assert task_run.outcome == "done"
    assert [(retry["attempt"], retry["attempts"], retry["error"]) for retry in task_run.retries] == [
        (1, 3, "network blip")
    ]


@pytest.mark.parametrize("backend", ["s3", "gcs"], indirect=True)
def test_journals_on_object_stores_are_read_back(backend: Backend, tmp_path: Path) -> None:
    pipeline = tmp_path / "journal.yaml"
    pipeline.write_text(PIPELINE)
    result = run_cli("run", str(pipeline), "--root", backend.root, config=backend.config, env=backend.env)
    assert result.exit_code == ExitCode.OK, result.output
    runs = backend.target(".dashpipe", RUNS_DIRECTORY)
    (run,) = JournalReader([runs]).runs()
    assert run.state == "succeeded"
    assert sorted(task.family for task in run.tasks.values()) == FAMILIES
    parts = backend.fs().find(runs.location.path)
    assert parts and all(path.endswith(".jsonl") for path in parts)


def _line(event: str, at: float, **fields: object) -> bytes:
    return orjson.dumps({"event": event, "at": at, **fields}) + b"\n"


def test_a_growing_journal_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "20261207T000000Z-abcdef"
    run_dir.mkdir(parents=True)
    part = run_dir / "000000.jsonl"
    head = _line("run", 1.0, format=1, run=run_dir.name, host="elsewhere", pid=1, planned=2)
    start = _line("start", 2.0, task="a", family="A", name="A()")
    part.write_bytes(head + start[:10])  # a line being written
    reader = JournalReader([FileTarget(str(tmp_path / "runs"))])
    (run,) = reader.runs()
    assert run.state == "running" and run.tasks == {}

    with part.open("ab") as handle:
        handle.write(start[10:] + _line("done", 4.0, task="a"))
    (run,) = reader.runs()
    assert run.tasks["a"].seconds == 2.0
    assert run.progress()["left"] == 1

    with part.open("ab") as handle:
        handle.write(_line("end", 5.0, exit=0))
    (run,) = reader.runs()
    assert run.state == "succeeded"
    part.write_bytes(b"not read again: the run ended\n")
    (run,) = reader.runs()
    assert run.state == "succeeded" and "a" in run.tasks


def _run(*tasks: TaskRun) -> Run:
    run = Run("r", "url", began=0.0, host="h")
    run.tasks = {task.task_id: task for task in tasks}
    return run


def test_the_critical_path_follows_what_waited_longest_for_a_dependency_or_a_lane() -> None:
    # Two lanes: a (0-1) then c (1-5, needs a) on one; b (0-3) then d (3-4, needs b) on the other.
    run = _run(
        TaskRun("a", "a", "F", 0.0, 1.0, "done"),
        TaskRun("b", "b", "F", 0.0, 3.0, "done"),
        TaskRun("c", "c", "F", 1.0, 5.0, "done", needs=["a"]),
        TaskRun("d", "d", "F", 3.0, 4.0, "done", needs=["b"]),
    )
    assert mark_critical_path(run) == ["a", "c"]
    assert {task.lane for task in run.tasks.values()} == {"h #1", "h #2"}
    assert run.tasks["a"].lane == run.tasks["c"].lane != run.tasks["b"].lane

    # One lane: e could start at once but waited for the lane, behind f.
    serial = _run(TaskRun("f", "f", "F", 0.0, 2.0, "done"), TaskRun("e", "e", "F", 2.0, 3.0, "done"))
    assert mark_critical_path(serial) == ["f", "e"]


def test_a_journal_of_another_format_is_not_a_run() -> None:
    assert apply_events(None, "url", [_line("run", 1.0, format=99)]) is None
    assert apply_events(None, "url", [b"{not json"]) is None


class _Task:
    def __init__(self, task_id: str, family: str) -> None:
        self.task_id, self._family = task_id, family

    def get_task_family(self) -> str:
        return self._family


def test_the_estimate_lays_tasks_out_on_the_workers() -> None:
    durations = {"Part": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 10.0], "Sum": [2.0]}
    assert percentile(durations["Part"], 0.5) == 1.0 and percentile(durations["Part"], 0.9) == 1.0
    parts = [_Task(f"p{i}", "Part") for i in range(4)]
    total = _Task("sum", "Sum")
    edges = {"sum": [part.task_id for part in parts]}
    one = estimate([*parts, total], edges, durations, workers=1)
    two = estimate([*parts, total], edges, durations, workers=2)
    assert (one.p50, two.p50) == (6.0, 4.0)
    new = estimate([*parts, _Task("x", "New")], {}, durations, workers=4)
    assert new.unknown == {"New": 1}
    assert "1 of 5 tasks never ran before" in new.text()
    assert Estimate(0, 0, 3, 1, {"New": 3}).text().startswith("no past runs")


def test_run_n_estimates_from_the_journals(tmp_path: Path, pipeline: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("run", str(pipeline), "--root", str(out)).exit_code == ExitCode.OK
    (out / "first.txt").unlink()
    dry = run_cli("run", "-n", "--json", str(pipeline), "--root", str(out))
    assert dry.exit_code == ExitCode.OUT_OF_DATE, dry.output
    planned = json.loads(dry.stdout)
    (run,) = JournalReader([FileTarget(str(out / ".dashpipe" / RUNS_DIRECTORY))]).runs()
    took = durations_by_family([run])
    assert planned["estimate"]["tasks"] == 3 and planned["estimate"]["unknown"] == {}
    assert planned["estimate"]["p50_seconds"] == pytest.approx(
        sum(seconds for (seconds,) in took.values()), abs=1e-3
    )
    text = run_cli("run", "-n", str(pipeline), "--root", str(out))
    assert "estimated " in text.stdout and "with 1 worker" in text.stdout


def test_a_backfill_is_one_run_with_every_date(tmp_path: Path) -> None:
    pipeline = tmp_path / "daily.yaml"
    pipeline.write_text(
        "pipeline: daily\nparams:\n  root: {type: string}\n  day: {type: date}\nsteps:\n"
        "  report:\n    shell: 'echo {day} > {outputs.o}'\n    outputs: {o: '{root}/{day}.txt'}\n"
    )
    out = tmp_path / "out"
    args = ["backfill", str(pipeline), "--root", str(out), "--from", "2026-11-01", "--to", "2026-11-03"]
    result = run_cli(*args)
    assert result.exit_code == ExitCode.OK, result.output
    (run,) = JournalReader([FileTarget(str(out / ".dashpipe" / RUNS_DIRECTORY))]).runs()
    assert run.command == f"{pipeline} backfill" and len(run.goals) == 3
    assert sorted(task.name.split("day=")[1].rstrip(")") for task in run.tasks.values()) == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
    ]
