"""Every reason a task is stale, on every backend, through the same assess/run path the CLI uses."""

from __future__ import annotations

import re
from pathlib import Path

import luigi
import pytest
from luigi.parameter import ParameterVisibility

from pipelines import External, Task, run_tasks
from pipelines.assessment.records import record_target
from pipelines.assessment.staleness import Cause, Policy, State, assess
from pipelines.errors import ExitCode
from pipelines.execute.outcome import Outcome
from pipelines.report.status import forget_records, mark_fresh
from targets import FileTarget
from tests.conftest import Backend

PRIVATE = {"significant": False, "visibility": ParameterVisibility.PRIVATE}


class Step(Task):
    root = luigi.Parameter()
    options = luigi.DictParameter(default={}, **PRIVATE)

    def target(self, name: str) -> FileTarget:  # type: ignore[override]
        return FileTarget(f"{self.root}/{name}", **self.options)


class Multiply(Step):
    """Repeats the raw text ``factor`` times; ``factor`` is not part of the output's URL."""

    factor = luigi.IntParameter(default=2)
    version = "1"

    def requires(self):
        return External(url=f"{self.root}/raw.txt", options=self.options)

    def output(self):
        return self.target("multiplied.txt")

    def run(self):
        with self.input().open("r") as source, self.output().open("w") as destination:
            destination.write(source.read().strip() * self.factor)


class Measure(Step):
    """Its output depends only on the length of its input: a rebuild upstream may leave it unchanged."""

    factor = luigi.IntParameter(default=2)

    def requires(self):
        return self.clone(Multiply)

    def output(self):
        return self.target("length.txt")

    def run(self):
        with self.input().open("r") as source, self.output().open("w") as destination:
            destination.write(str(len(source.read())))


def write(backend: Backend, name: str, text: str) -> None:
    with backend.target(name).open("w") as handle:
        handle.write(text)


def rewrite_same_bytes(backend: Backend, name: str) -> None:
    """Write a file again with identical bytes, bypassing dash-pipeline: a new mtime, ETag or generation."""
    fs = backend.fs()
    path = fs._strip_protocol(backend.url(name))
    data = fs.cat_file(path)
    fs.rm(path)
    fs.pipe_file(path, data)


def build(backend: Backend, factor: int = 2, policy: Policy | None = None):
    goal = Measure(root=backend.url(), options=backend.options, factor=factor)
    report = run_tasks([goal], assessment=assess([goal], policy or Policy()))
    assert report.exit_code == ExitCode.OK, [(r.name, r.error) for r in report.tasks]
    return {r.task.get_task_family(): r.outcome for r in report.tasks}


def verdicts(backend: Backend, factor: int = 2, policy: Policy | None = None):
    goal = Measure(root=backend.url(), options=backend.options, factor=factor)
    return {v.task.get_task_family(): v for v in assess([goal], policy or Policy()).verdicts.values()}


@pytest.fixture
def built(backend: Backend) -> Backend:
    write(backend, "raw.txt", "ab")
    outcomes = build(backend)
    assert outcomes["Multiply"] is Outcome.RAN and outcomes["Measure"] is Outcome.RAN
    return backend


def test_a_fresh_build_is_up_to_date(built: Backend) -> None:
    assert {name: v.state for name, v in verdicts(built).items()} == {
        "External": State.INPUT,
        "Multiply": State.UP_TO_DATE,
        "Measure": State.UP_TO_DATE,
    }
    assert set(build(built).values()) == {Outcome.UP_TO_DATE}


def test_changed_input_rebuilds_and_says_why(built: Backend) -> None:
    write(built, "raw.txt", "abc")
    found = verdicts(built)
    assert found["Multiply"].state is State.STALE
    assert found["Multiply"].reason.startswith(f"input {built.url('raw.txt')} changed (")
    assert found["Measure"].state is State.UPSTREAM and "Multiply" in found["Measure"].reason
    outcomes = build(built)
    assert outcomes["Multiply"] is Outcome.RAN and outcomes["Measure"] is Outcome.RAN
    with built.target("length.txt").open("r") as handle:
        assert handle.read() == "6"


def test_input_rewritten_with_identical_bytes_is_not_a_change(built: Backend) -> None:
    rewrite_same_bytes(built, "raw.txt")
    assert verdicts(built)["Multiply"].state is State.UP_TO_DATE


def test_output_overwritten_by_hand_is_stale(built: Backend) -> None:
    write(built, "multiplied.txt", "hand edited")
    found = verdicts(built)
    assert found["Multiply"].state is State.STALE
    assert "modified outside the pipeline" in found["Multiply"].reason
    assert found["Measure"].state is State.STALE  # its recorded input changed too
    build(built)
    with built.target("multiplied.txt").open("r") as handle:
        assert handle.read() == "abab"


def test_output_rewritten_with_identical_bytes_is_up_to_date(built: Backend) -> None:
    rewrite_same_bytes(built, "multiplied.txt")
    assert verdicts(built)["Multiply"].state is State.UP_TO_DATE


def test_missing_output(built: Backend) -> None:
    built.target("multiplied.txt").remove()
    found = verdicts(built)
    assert found["Multiply"].state is State.MISSING
    assert found["Multiply"].reason == f"output {built.url('multiplied.txt')} missing"
    assert found["Multiply"].cause is Cause.MISSING and found["Measure"].cause is Cause.UPSTREAM


def test_changed_parameter_names_the_parameter(built: Backend) -> None:
    found = verdicts(built, factor=3)
    assert found["Multiply"].state is State.STALE
    assert found["Multiply"].reason == "param factor: 2 → 3"
    assert found["Multiply"].cause is Cause.PARAMETER


def test_changed_code_version(built: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Multiply, "version", "2")
    assert verdicts(built)["Multiply"].reason == "code version 1 → 2"
    assert verdicts(built)["Multiply"].cause is Cause.CODE


def test_a_version_set_where_there_was_none_says_none(
    built: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Measure, "version", "source", raising=False)
    reason = verdicts(built)["Measure"].reason
    assert re.fullmatch(r"code version \(none\) → source [0-9a-f]{12}", reason), reason


def test_early_cutoff_keeps_downstream_when_the_rebuild_changes_nothing(built: Backend) -> None:
    write(built, "raw.txt", "xy")  # same length: Multiply's output changes, Measure's input length does not
    outcomes = build(built)
    assert outcomes["Multiply"] is Outcome.RAN
    assert outcomes["Measure"] is Outcome.RAN  # its input really changed ("abab" → "xyxy")
    write(built, "raw.txt", "xy")  # identical content again: Multiply is up to date
    assert set(build(built).values()) == {Outcome.UP_TO_DATE}
    built.target("multiplied.txt").remove()  # rebuilt with the same bytes as before
    outcomes = build(built)
    assert outcomes["Multiply"] is Outcome.RAN
    assert outcomes["Measure"] is Outcome.UP_TO_DATE  # early cutoff: nothing it reads changed
    # luigi hands this process the same Measure instance again: the cutoff must not carry over.
    write(built, "raw.txt", "xyz")
    assert build(built) == {"External": Outcome.UP_TO_DATE, "Multiply": Outcome.RAN, "Measure": Outcome.RAN}
    assert built.target("length.txt").open("r").read() == "6"


def test_outputs_without_record(built: Backend) -> None:
    goal = Measure(root=built.url(), options=built.options)
    forgotten = forget_records(assess([goal]), frozenset({"Multiply"}))
    assert forgotten == 1
    assert verdicts(built)["Multiply"].state is State.NO_RECORD
    assert verdicts(built)["Measure"].state is State.UP_TO_DATE
    strict = verdicts(built, policy=Policy(unrecorded_is_stale=True))
    assert strict["Multiply"].state is State.STALE and strict["Measure"].state is State.UPSTREAM
    recorded, skipped = mark_fresh(assess([goal]), frozenset())
    assert (recorded, skipped) == (2, [])
    assert verdicts(built)["Multiply"].state is State.UP_TO_DATE


def test_force_one_step_and_everything_downstream(built: Backend) -> None:
    found = verdicts(built, policy=Policy(force=frozenset({"Multiply"})))
    assert found["Multiply"].state is State.FORCED and found["Measure"].state is State.FORCED
    outcomes = build(built, policy=Policy(force=frozenset({"Multiply"})))
    assert outcomes["Multiply"] is Outcome.RAN and outcomes["Measure"] is Outcome.RAN
    assert verdicts(built, policy=Policy(force_all=True))["External"].state is State.INPUT


def test_records_hold_no_private_parameters(built: Backend) -> None:
    from pipelines.assessment.record_store import read_records

    goal = Measure(root=built.url(), options=built.options)
    record = read_records([goal])[goal.task_id]
    assert record is not None and set(record.params) == {"root", "factor"}
    for value in built.options.values():  # endpoints, tokens: storage options never reach a record
        assert str(value) not in record.to_json()


def test_source_version_opt_in(tmp_path) -> None:
    from pipelines.assessment.records import code_version

    class Sourced(Task):
        version = "source"

    class Explicit(Task):
        version = "3"

    assert code_version(Explicit()) == "3"
    digest = code_version(Sourced())
    assert digest is not None and digest.startswith("source ") and len(digest) == len("source ") + 12


# --- Cases a review found: each once made a task look up to date when it was not. -------------


class RewritesItsInput(Step):
    """Reads its input, which someone replaces while it runs."""

    def requires(self):
        return External(url=f"{self.root}/raw.txt")

    def output(self):
        return self.target("copy.txt")

    def run(self):
        with self.input().open("r") as source:
            text = source.read()
        with self.input().open("w") as concurrent_writer:
            concurrent_writer.write("changed during the run")
        with self.output().open("w") as destination:
            destination.write(text)


def test_input_changed_during_the_run_leaves_the_result_stale(tmp_path) -> None:
    (tmp_path / "raw.txt").write_text("original")
    task = RewritesItsInput(root=str(tmp_path))
    assert run_tasks([task], assessment=assess([task])).exit_code == ExitCode.OK
    verdict = assess([task]).verdicts[task.task_id]
    assert verdict.state is State.STALE and verdict.reason.startswith(f"input {tmp_path}/raw.txt changed")


class MakesADirectory(Step):
    def requires(self):
        return External(url=f"{self.root}/raw.txt")

    def output(self):
        return self.target("parts")

    def run(self):
        with self.input().open("r") as source, self.output().temporary_path() as directory:
            import os

            os.makedirs(directory)
            with open(f"{directory}/part-0", "w") as part:
                part.write(source.read())


class ReadsTheDirectory(Step):
    def requires(self):
        return self.clone(MakesADirectory)

    def output(self):
        return self.target("summary.txt")

    def run(self):
        with open(f"{self.input().path}/part-0") as part, self.output().open("w") as destination:
            destination.write(part.read().upper())


def test_no_early_cutoff_when_an_input_cannot_be_fingerprinted(tmp_path) -> None:
    (tmp_path / "raw.txt").write_text("one")
    goal = ReadsTheDirectory(root=str(tmp_path))
    assert run_tasks([goal], assessment=assess([goal])).exit_code == ExitCode.OK
    (tmp_path / "raw.txt").write_text("two")
    report = run_tasks([goal], assessment=assess([goal]))
    outcomes = {r.task.get_task_family(): r.outcome for r in report.tasks}
    assert outcomes["ReadsTheDirectory"] is Outcome.RAN  # a directory's content cannot be compared
    assert (tmp_path / "summary.txt").read_text() == "TWO"


class NoOutputFile(Task):
    """Outputs a plain luigi target whose str() is not a URL: records key it by task and position."""

    root = luigi.Parameter()
    factor = luigi.IntParameter(default=1)

    class Flag(luigi.Target):
        def __init__(self, path: str) -> None:
            self.marker = path

        def exists(self) -> bool:
            import os

            return os.path.exists(self.marker)

    def output(self):
        return self.Flag(f"{self.root}/flag")

    def run(self):
        with open(self.output().marker, "w") as flag:
            flag.write(str(self.factor))


def test_central_records_notice_a_changed_parameter_and_unnamed_targets_stay_up_to_date(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import use_luigi_config

    config = tmp_path / "luigi.cfg"
    config.write_text(f"[dashpipe]\nrecords = {tmp_path}/records\n")
    use_luigi_config(monkeypatch, config)
    first = NoOutputFile(root=str(tmp_path), factor=1)
    assert run_tasks([first], assessment=assess([first])).exit_code == ExitCode.OK
    assert assess([first]).verdicts[first.task_id].state is State.UP_TO_DATE  # same key in a new check
    changed = NoOutputFile(root=str(tmp_path), factor=2)
    verdict = assess([changed]).verdicts[changed.task_id]
    assert verdict.state is State.STALE and verdict.reason == "param factor: 1 → 2"


class WritesHalfThenDies(Step):
    def output(self):
        return self.target("half.txt")

    def run(self):
        with open(self.output().path, "w") as raw:  # not atomic, on purpose
            raw.write("half")
        raise RuntimeError("killed halfway")


def test_a_first_build_that_failed_halfway_is_stale(tmp_path) -> None:
    task = WritesHalfThenDies(root=str(tmp_path))
    assert run_tasks([task], assessment=assess([task])).exit_code == ExitCode.TASK_FAILED
    verdict = assess([task]).verdicts[task.task_id]
    assert verdict.state is State.STALE
    assert verdict.reason == "its last build did not finish (interrupted, or failed)"


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_a_record_cut_short_rebuilds_instead_of_passing_for_no_record(built: Backend) -> None:
    # A final record is not forced to disk: after a power cut it may be found cut short.
    record = Path(record_target(Multiply(root=built.url(), options=built.options)).path)
    record.write_bytes(record.read_bytes()[:20])
    verdict = verdicts(built)["Multiply"]
    assert verdict.state is State.STALE and verdict.reason == "build record unreadable (a write cut short?)"
    assert build(built)["Multiply"] is Outcome.RAN
    assert verdicts(built)["Multiply"].state is State.UP_TO_DATE


class Plain(luigi.Task):
    """A plain luigi task: its output is written without fsync, so every fsync is a record's."""

    root = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(f"{self.root}/plain.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write("plain")


@pytest.mark.parametrize(("setting", "record_flushes"), [("", 0), ("durable_records = true\n", 4)])
def test_records_are_forced_to_disk_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, record_flushes: int
) -> None:
    import os

    from tests.helpers import use_luigi_config

    config = tmp_path / "luigi.cfg"
    config.write_text(f"[dashpipe]\n{setting}")
    use_luigi_config(monkeypatch, config)
    flushes = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushes.append(fd), real_fsync(fd)))
    task = Plain(root=str(tmp_path / "out"))
    assert run_tasks([task], assessment=assess([task])).exit_code == ExitCode.OK
    # The run's journal and the final record, each a file and its directory.
    assert len(flushes) == record_flushes
    assert verdicts_of(task) is State.UP_TO_DATE


def verdicts_of(task: luigi.Task) -> State:
    return assess([task]).verdicts[task.task_id].state
