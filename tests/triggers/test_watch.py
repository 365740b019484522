"""``dashpipe watch`` as a user runs it: a process of its own, inputs written beside it, runs
counted from their journals (every pass is a run, and every run keeps one)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import pty
import re
import select
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.errors import ExitCode
from pipelines.execute.run_history import JournalReader, Run
from pipelines.execute.run_journal import RUNS_DIRECTORY
from pipelines.triggers.input_watch import changed, snapshot
from pipelines.triggers.schedule import Schedule
from targets import FileTarget
from tests.conftest import Backend
from tests.helpers import REPO, run_cli, start_cli, wait_until
from tests.servers import AccessLog
from tests.triggers.inbox import COPYING, PIPELINE


@dataclass
class Watching:
    process: subprocess.Popen
    runs_at: Path
    log: Path

    def runs(self) -> list[Run]:
        """The runs that ended, oldest first."""
        found = JournalReader([FileTarget(str(self.runs_at))]).runs()
        return sorted((run for run in found if run.exit_code is not None), key=lambda run: run.began)

    def wait_for_runs(self, count: int) -> list[Run]:
        wait_until(lambda: len(self.runs()) >= count, f"{count} runs to end", [self.process], timeout_s=90)
        return self.runs()

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "inbox.yaml").write_text(PIPELINE)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "orders.csv").write_text("o1\n")
    (tmp_path / "in" / "prices.csv").write_text("p1\n")
    return tmp_path


def start_watch(
    root: Path,
    *extra: str,
    name: str = "watch",
    env: dict[str, str] | None = None,
    pipeline: str = "inbox.yaml",
) -> Watching:
    """The watcher of ``pipeline`` under ``root`` (its outputs in root/out); ``env`` is added to
    this process's."""
    log = root / f"{name}.log"
    process = start_cli(
        "watch",
        str(root / pipeline),
        "--root",
        str(root),
        *extra,
        cwd=REPO,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    return Watching(process, root / "out" / ".dashpipe" / RUNS_DIRECTORY, log)


@pytest.fixture
def watchers() -> Iterator[list[Watching]]:
    started: list[Watching] = []
    yield started
    for watching in started:
        if watching.process.poll() is None:
            os.killpg(watching.process.pid, signal.SIGKILL)
            watching.process.wait(timeout=30)


def ran(run: Run) -> list[str]:
    return sorted(task.family for task in run.tasks.values() if task.outcome == "done")


def test_a_changed_input_runs_exactly_its_stale_tasks_once(inbox: Path, watchers: list[Watching]) -> None:
    watching = start_watch(inbox, "--interval", "0.2", "--settle", "0.3")
    watchers.append(watching)
    (first,) = watching.wait_for_runs(1)
    assert ran(first) == ["inbox.orders", "inbox.prices"]

    (inbox / "in" / "orders.csv").write_text("o1\no2\n")
    second = watching.wait_for_runs(2)[1]
    assert ran(second) == ["inbox.orders"]
    assert (inbox / "out" / "orders.txt").read_text() == "o1\no2\n"

    # Ten files in a burst (one of them an input, the rest strangers in its directory): one run.
    for index in range(9):
        (inbox / "in" / f"unrelated-{index}.csv").write_text("x\n")
    (inbox / "in" / "prices.csv").write_text("p2\n")
    third = watching.wait_for_runs(3)[2]
    assert ran(third) == ["inbox.prices"]

    watching.process.send_signal(signal.SIGTERM)
    assert watching.process.wait(timeout=60) == ExitCode.OK, watching.output()
    assert len(watching.runs()) == 3, watching.output()


def test_a_file_written_slowly_is_built_from_once_it_is_whole(inbox: Path, watchers: list[Watching]) -> None:
    watching = start_watch(inbox, "--interval", "0.1", "--settle", "1.5")
    watchers.append(watching)
    watching.wait_for_runs(1)
    with (inbox / "in" / "orders.csv").open("w") as slow:
        slow.write("first half\n")
        slow.flush()
        # The writer goes on only once the watcher has seen the half-written file.
        wait_until(
            lambda: "waiting 1.5s for the change to settle" in watching.output(), "the watcher to notice", []
        )
        slow.write("second half\n")
    second = watching.wait_for_runs(2)[1]
    assert ran(second) == ["inbox.orders"]
    assert (inbox / "out" / "orders.txt").read_text() == "first half\nsecond half\n"


def test_a_watcher_killed_and_restarted_catches_up(inbox: Path, watchers: list[Watching]) -> None:
    watching = start_watch(inbox, "--interval", "0.2", "--settle", "0.2")
    watchers.append(watching)
    watching.wait_for_runs(1)
    os.killpg(watching.process.pid, signal.SIGKILL)
    watching.process.wait(timeout=30)

    (inbox / "in" / "prices.csv").write_text("p9\n")
    again = start_watch(inbox, "--interval", "0.2", "--settle", "0.2", name="again")
    watchers.append(again)
    second = again.wait_for_runs(2)[1]
    assert ran(second) == ["inbox.prices"]
    assert (inbox / "out" / "prices.txt").read_text() == "p9\n"


def test_one_watcher_per_goals_on_a_machine(inbox: Path, watchers: list[Watching]) -> None:
    watching = start_watch(inbox, "--interval", "0.2")
    watchers.append(watching)
    watching.wait_for_runs(1)
    second = run_cli("watch", str(inbox / "inbox.yaml"), "--root", str(inbox), "--interval", "0.2")
    assert second.exit_code == ExitCode.USAGE
    assert f"another watcher keeps {inbox / 'inbox.yaml'} built on this machine" in second.stderr
    assert f"(pid {watching.process.pid})" in second.stderr


def test_once_runs_one_pass_with_the_exit_code_of_its_run(inbox: Path) -> None:
    (inbox / "in" / "orders.csv").unlink()
    result = run_cli("watch", str(inbox / "inbox.yaml"), "--root", str(inbox), "--once")
    assert result.exit_code == ExitCode.MISSING_INPUT, result.output
    assert (inbox / "out" / "prices.txt").read_text() == "p1\n"
    nothing = run_cli("watch", str(inbox / "inbox.yaml"), "--root", str(inbox), "-n")
    assert nothing.exit_code == ExitCode.USAGE and "give --once with it" in nothing.stderr


def test_only_declared_inputs_count(tmp_path: Path) -> None:
    inputs = [FileTarget(str(tmp_path / "a.csv")), FileTarget(str(tmp_path / "b.csv"))]
    before = snapshot(inputs)
    assert before == {target.location.url: None for target in inputs}
    (tmp_path / "a.csv.tmp").write_text("being uploaded")
    (tmp_path / "other.csv").write_text("not ours")
    assert changed(before, snapshot(inputs)) == []
    (tmp_path / "a.csv").write_text("arrived")
    assert changed(before, snapshot(inputs)) == [inputs[0].location.url]


@pytest.mark.parametrize("backend", ["s3", "gcs"], indirect=True)
def test_an_uploaded_object_runs_its_stale_tasks_once(
    backend: Backend, tmp_path: Path, watchers: list[Watching], request: pytest.FixtureRequest
) -> None:
    pipeline = tmp_path / "remote.yaml"
    # Steps in Python, so that they read and write the object store themselves.
    (tmp_path / "copying.py").write_text(COPYING)
    pipeline.write_text(PIPELINE.replace('shell: "cat {inputs.raw} > {outputs.o}"', "run: copying:copy"))
    fs = backend.fs()
    fs.pipe_file(fs._strip_protocol(backend.url("in", "orders.csv")), b"o1\n")
    fs.pipe_file(fs._strip_protocol(backend.url("in", "prices.csv")), b"p1\n")
    config = tmp_path / "luigi.cfg"
    config.write_text(backend.config)
    log = tmp_path / "watch.log"
    process = start_cli(
        "watch",
        str(pipeline),
        "--root",
        backend.root,
        "--interval",
        "0.2",
        "--settle",
        "0.2",
        cwd=tmp_path,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **backend.env, "LUIGI_CONFIG_PATH": str(config)},
    )
    runs = backend.target("out", ".dashpipe", RUNS_DIRECTORY)
    watching = Watching(process, Path("unused"), log)
    watchers.append(watching)

    def ended() -> list[Run]:
        found = JournalReader([runs]).runs()
        return sorted((run for run in found if run.exit_code is not None), key=lambda run: run.began)

    def wait_for(count: int) -> list[Run]:
        wait_until(lambda: len(ended()) >= count, f"{count} runs", [process], timeout_s=90)
        return ended()

    assert ran(wait_for(1)[0]) == ["inbox.orders", "inbox.prices"]
    if backend.name == "s3":
        # A stranger in the inputs' prefix: the watcher looks (and lists) twice more, and runs nothing.
        server = request.getfixturevalue("s3_server")
        listed = AccessLog(server)
        fs.pipe_file(fs._strip_protocol(backend.url("in", "unrelated.csv")), b"x\n")
        lists: list[str] = []

        def looked_twice() -> bool:
            lists.extend(path for method, path in listed.since() if method == "GET" and "prefix=" in path)
            return len(lists) >= 2

        wait_until(looked_twice, "the watcher to list the inputs' prefix twice more", [process])
        assert len(ended()) == 1
    fs.pipe_file(fs._strip_protocol(backend.url("in", "orders.csv")), b"o1\no2\n")
    second = wait_for(2)[1]
    assert ran(second) == ["inbox.orders"]
    assert fs.cat_file(fs._strip_protocol(backend.url("out", "orders.txt"))) == b"o1\no2\n"


TICKS = """
import luigi

from pipelines import Task


class Tick(Task):
    root = luigi.Parameter()
    at = luigi.DateSecondParameter()

    def output(self):
        return self.target(f"{self.root}/ticks/{self.at:%Y%m%dT%H%M%S}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(self.at.isoformat())
"""


def start_ticks(root: Path, *extra: str, name: str = "ticks") -> Watching:
    log = root / f"{name}.log"
    process = start_cli(
        "watch",
        f"{root / 'ticks.py'}:Tick",
        "--root",
        str(root),
        "--cron",
        "* * * * * */2",  # every two seconds: croniter takes the seconds last
        *extra,
        cwd=REPO,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Watching(process, root / "ticks" / ".dashpipe" / RUNS_DIRECTORY, log)


def slots_built(run: Run) -> list[dt.datetime]:
    values = [task.name.split("at=")[1].rstrip(")") for task in run.tasks.values()]
    return sorted(dt.datetime.strptime(value, "%Y-%m-%dT%H%M%S") for value in values)  # as luigi writes it


def test_a_schedule_with_seconds_runs_each_slot_on_time(tmp_path: Path, watchers: list[Watching]) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    watching = start_ticks(tmp_path, "--interval", "5")
    watchers.append(watching)
    runs = watching.wait_for_runs(3)
    built = [slot for run in runs for slot in slots_built(run)]
    assert all(slot.second % 2 == 0 for slot in built), built
    assert [later - earlier for earlier, later in itertools.pairwise(built)] == [dt.timedelta(seconds=2)] * 2
    for run in runs[1:]:  # the first pass catches up on the slot before the watcher started
        (slot,) = slots_built(run)
        late = run.began - slot.replace(tzinfo=dt.timezone.utc).timestamp()
        assert 0 <= late < 1.5, (slot, late)


def test_missed_slots_are_caught_up_after_a_restart(tmp_path: Path, watchers: list[Watching]) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    watching = start_ticks(tmp_path, "--interval", "5")
    watchers.append(watching)
    (first,) = watching.wait_for_runs(1)
    os.killpg(watching.process.pid, signal.SIGKILL)
    watching.process.wait(timeout=30)
    killed = dt.datetime.now(dt.timezone.utc)
    every_two_seconds = Schedule.parse("* * * * * */2", catchup=5)
    wait_until(
        lambda: len(every_two_seconds.due(killed, dt.datetime.now(dt.timezone.utc))) >= 2,
        "two slots to come due while the watcher is down",
    )

    restarted = start_ticks(tmp_path, "--interval", "5", "--catchup", "5", name="restarted")
    watchers.append(restarted)
    caught_up = restarted.wait_for_runs(2)[1]
    slots = slots_built(caught_up)
    # The last five slots, oldest first, in one run; the one built before the kill is skipped.
    window = sorted([*slots, *slots_built(first)])
    assert len(window) == 5 and slots[-1] > slots_built(first)[-1], window
    assert [later - earlier for earlier, later in itertools.pairwise(window)] == [dt.timedelta(seconds=2)] * 4


def test_a_schedule_that_is_none_is_an_error_naming_it(tmp_path: Path, inbox: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    bad = run_cli("watch", f"{tmp_path / 'ticks.py'}:Tick", "--root", str(tmp_path), "--cron", "every day")
    assert bad.exit_code == ExitCode.USAGE and "--cron 'every day' is not a cron expression" in bad.stderr
    zone = run_cli(
        "watch",
        f"{tmp_path / 'ticks.py'}:Tick",
        "--root",
        str(tmp_path),
        "--cron",
        "0 6 * * *",
        "--timezone",
        "Mars",
    )
    assert zone.exit_code == ExitCode.USAGE and "--timezone 'Mars' is not a timezone" in zone.stderr
    undated = run_cli("watch", str(inbox / "inbox.yaml"), "--root", str(inbox), "--cron", "0 6 * * *")
    assert undated.exit_code == ExitCode.INVALID_PIPELINE
    assert "the schedule's slot fills a date or date-time parameter" in undated.stderr


class Terminal:
    """The leader side of a pseudo-terminal: what a person at it would have seen, bytes as sent."""

    def __init__(self) -> None:
        self.leader, self.follower = pty.openpty()
        self.seen = b""

    def read(self) -> str:
        while select.select([self.leader], [], [], 0)[0]:
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:  # the watcher ended and closed its side
                break
            if not chunk:
                break
            self.seen += chunk
        return self.seen.decode("utf-8", "replace")


def test_on_a_terminal_the_state_is_one_line_rewritten(inbox: Path, watchers: list[Watching]) -> None:
    terminal = Terminal()
    process = start_cli(
        "watch",
        str(inbox / "inbox.yaml"),
        "--root",
        str(inbox),
        "--interval",
        "0.2",
        "--settle",
        "0.2",
        cwd=REPO,
        stdout=terminal.follower,
        stderr=terminal.follower,
        start_new_session=True,
    )
    os.close(terminal.follower)
    watchers.append(Watching(process, inbox / "out" / ".dashpipe" / RUNS_DIRECTORY, inbox / "unused"))
    state = re.compile(
        r"\r\x1b\[Kdashpipe watch: last run \d\d:\d\d:\d\d ok; watching 2 inputs \(every 0.2s\)(?!\r?\n)"
    )
    wait_until(lambda: state.search(terminal.read()), "the state line", [process])

    (inbox / "in" / "orders.csv").write_text("o1\no2\n")
    wait_until(lambda: len(state.findall(terminal.read())) >= 2, "the state line again", [process])
    seen = terminal.read()
    # The line was cleared before the run wrote its report, and never left on a line of its own.
    assert "watching 2 inputs (every 0.2s)\n" not in seen.replace("\r\n", "\n")
    first, second = (match.end() for match in state.finditer(seen))
    assert seen[first:].startswith("\r\x1b[K"), seen[first : first + 80]
    assert "built" in seen[first:second] or "inbox.orders" in seen[first:second], seen[first:second]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == ExitCode.OK
