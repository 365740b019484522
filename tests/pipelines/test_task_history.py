"""The central scheduler's task history: luigi's tables and rows, written a batch per commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import luigi.configuration
import luigi.scheduler
import pytest
from luigi.db_task_history import DbTaskHistory

from pipelines.execute import task_history
from pipelines.execute.central_scheduler import CentralScheduler
from pipelines.execute.task_history import BatchedTaskHistory
from tests.helpers import wait_until


@pytest.fixture
def history_at(tmp_path: Path) -> Iterator[Any]:
    """Points [task_history] db_connection at a fresh SQLite file in tmp_path, per call."""
    config = luigi.configuration.get_config()
    had_section = config.has_section("task_history")
    if not had_section:
        config.add_section("task_history")
    before = config.get("task_history", "db_connection", None)

    def point(name: str) -> None:
        config.set("task_history", "db_connection", f"sqlite:///{tmp_path / name}")

    yield point
    if before is None:
        config.remove_option("task_history", "db_connection")
    else:
        config.set("task_history", "db_connection", before)
    if not had_section:
        config.remove_section("task_history")


def drive(scheduler: luigi.scheduler.Scheduler, size: int) -> None:
    """A worker's calls: schedule a fan-in, run it (one leaf fails, then succeeds), report."""
    for index in range(size):
        scheduler.add_task(worker="w", task_id=f"Leaf_{index}", family="Leaf", params={"i": str(index)})
    leaves = [f"Leaf_{index}" for index in range(size)]
    scheduler.add_task(worker="w", task_id="Root", family="Root", params={}, deps=leaves)
    for _ in range(size + 1):
        task_id = scheduler.get_work(worker="w", host="box-1")["task_id"]
        if task_id == "Leaf_3":
            scheduler.add_task(worker="w", task_id=task_id, status="FAILED", expl="boom")
            scheduler.forgive_failures(task_id=task_id)
            task_id = scheduler.get_work(worker="w", host="box-2")["task_id"]
        scheduler.add_task(worker="w", task_id=task_id, status="DONE")


def rows(history: DbTaskHistory) -> list[tuple[Any, ...]]:
    with history._session() as session:
        return sorted(
            (
                record.task_id,
                record.name,
                record.host,
                tuple(sorted((name, parameter.value) for name, parameter in record.parameters.items())),
                tuple(event.event_name for event in sorted(record.events, key=lambda event: event.id)),
            )
            for record in history.find_all_runs(session)
        )


def test_the_rows_are_luigis(history_at: Any) -> None:
    history_at("luigi.db")
    luigis = luigi.scheduler.Scheduler(task_history_impl=DbTaskHistory())
    history_at("ours.db")
    ours = CentralScheduler(record_task_history=True)
    for scheduler in (luigis, ours):
        drive(scheduler, 20)
    assert ours._task_history.flush()
    expected = rows(luigis._task_history)
    assert len(expected) == 21
    assert (
        "Leaf_3",
        "Leaf",
        "box-2",
        (("i", "3"),),
        ("PENDING", "RUNNING", "FAILED", "PENDING", "RUNNING", "DONE"),
    ) in expected
    assert rows(ours._task_history) == expected


def test_events_that_queue_up_while_a_commit_runs_share_the_next_one(
    history_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    history_at("batched.db")
    batches: list[int] = []
    writer_busy, go_on = threading.Event(), threading.Event()
    write = BatchedTaskHistory._write

    def slow_first_write(self: BatchedTaskHistory, events: list[Any]) -> None:
        batches.append(len(events))
        if len(batches) == 1:
            writer_busy.set()
            assert go_on.wait(30)
        write(self, events)

    monkeypatch.setattr(BatchedTaskHistory, "_write", slow_first_write)
    scheduler = CentralScheduler(record_task_history=True)
    scheduler.add_task(worker="w", task_id="First", family="First", params={})
    assert writer_busy.wait(30)
    drive(scheduler, 100)
    go_on.set()
    assert scheduler._task_history.flush()
    # The first event alone, then the 306 of the fan-in in one commit (3 a task, 2 more for the retry).
    assert batches == [1, 3 * 101 + 3]
    assert len(rows(scheduler._task_history)) == 102


def test_events_that_come_one_by_one_within_the_wait_share_a_commit(
    history_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    history_at("lingered.db")
    batches: list[int] = []
    write = BatchedTaskHistory._write

    def counted_write(self: BatchedTaskHistory, events: list[Any]) -> None:
        batches.append(len(events))
        write(self, events)

    monkeypatch.setattr(BatchedTaskHistory, "_write", counted_write)
    monkeypatch.setattr(task_history, "LINGER_S", 60.0)  # only the flush below ends the wait
    scheduler = CentralScheduler(record_task_history=True)
    scheduler.add_task(worker="w", task_id="First", family="First", params={})
    wait_until(lambda: scheduler._task_history._events.empty(), "the writer to take the first event")
    for index in range(9):
        scheduler.add_task(worker="w", task_id=f"Later_{index}", family="Later", params={})
    assert scheduler._task_history.flush(timeout=30)
    assert batches == [10]
    assert len(rows(scheduler._task_history)) == 10


def test_dump_writes_out_what_is_queued(history_at: Any, tmp_path: Path) -> None:
    history_at("dumped.db")
    scheduler = CentralScheduler(record_task_history=True, state_path=str(tmp_path / "state.pickle"))
    drive(scheduler, 5)
    scheduler.dump()  # what luigid does on SIGTERM and at exit
    history_at("dumped.db")
    assert len(rows(DbTaskHistory())) == 6
