"""luigi's task history (``record_task_history``), written in batches by a thread of its own.

luigi's ``DbTaskHistory`` writes each event (a task scheduled, started, done or failed) in its
own session, with its own commit, in the scheduler's one thread: three events a task, and on
SQLite every commit is a synced write, so luigid spends about 24 ms a task on history alone
(12 s of a 500-task run measured on a 2-core VM). Here events are queued as they happen and a
writer thread commits whatever has queued up since its last commit, in one session, after
waiting up to 0.2 s from the first event for others to join it: many events per commit. The
tables, and every query luigid's history pages make, are luigi's.

The history lags the scheduler by at most 0.2 s and one commit. Events still queued when luigid is
killed with SIGKILL are lost; on SIGTERM, SIGINT or a normal exit luigid dumps its state, and
the queue is written out first.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from luigi.db_task_history import DbTaskHistory, TaskEvent, TaskParameter, TaskRecord
from luigi.scheduler import DONE, FAILED, PENDING, RUNNING

logger = logging.getLogger("luigi-interface")

FLUSH_TIMEOUT_S = 30.0
# How long the writer waits for more events before it commits what it has.
LINGER_S = 0.2
MOST_EVENTS = 5000


@dataclass(frozen=True)
class _Event:
    task_id: str
    family: str
    params: dict[str, Any]
    host: str | None
    name: str
    at: datetime.datetime


class BatchedTaskHistory(DbTaskHistory):
    """``DbTaskHistory`` with group commit; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._events: queue.Queue[_Event | threading.Event] = queue.Queue()
        self._record_ids: dict[str, int] = {}  # luigi task id -> its row in `tasks`, as luigi keeps it
        self._writer = threading.Thread(target=self._write_forever, name="task-history-writer", daemon=True)
        self._writer.start()

    def task_scheduled(self, task: Any) -> None:
        self._enqueue(task, PENDING)

    def task_started(self, task: Any, worker_host: str | None) -> None:
        self._enqueue(task, RUNNING, worker_host)

    def task_finished(self, task: Any, successful: bool) -> None:
        self._enqueue(task, DONE if successful else FAILED)

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every event queued so far is committed (or failed to be); False on timeout."""
        written = threading.Event()
        self._events.put(written, block=False)
        return written.wait(timeout)

    def _enqueue(self, task: Any, name: str, host: str | None = None) -> None:
        # A snapshot: the scheduler goes on changing the task while the event waits.
        event = _Event(task.id, task.family, dict(task.params), host, name, datetime.datetime.now())
        self._events.put(event, block=False)

    def _write_forever(self) -> None:
        while True:
            batch = [self._events.get()]
            # A worker reports one task per request, so the queue rarely holds more than one
            # event when looked at; waiting a moment for more turns one commit (and its sync)
            # per event into one per batch. A flush() waiting ends the wait at once.
            deadline = time.monotonic() + LINGER_S
            while not isinstance(batch[-1], threading.Event) and len(batch) < MOST_EVENTS:
                try:
                    batch.append(self._events.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            events = [item for item in batch if isinstance(item, _Event)]
            if events:
                self._write(events)
            for item in batch:
                if isinstance(item, threading.Event):  # a flush() waiting for what came before it
                    item.set()

    def _write(self, events: list[_Event]) -> None:
        # SQLAlchemy Core, not the ORM luigi uses: the rows are luigi's, at a fraction of the CPU,
        # which this thread would otherwise take from the one answering workers.
        records, parameters, task_events = TaskRecord.__table__, TaskParameter.__table__, TaskEvent.__table__
        created: dict[str, int] = {}
        hosts: dict[int, str] = {}
        parameter_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        try:
            with self.engine.begin() as connection:
                for event in events:
                    record_id = self._record_ids.get(event.task_id) or created.get(event.task_id)
                    if record_id is None:
                        inserted = connection.execute(
                            records.insert().values(task_id=event.task_id, name=event.family, host=event.host)
                        )
                        record_id = created[event.task_id] = inserted.inserted_primary_key[0]
                        parameter_rows += [
                            {"task_id": record_id, "name": name, "value": value}
                            for name, value in event.params.items()
                        ]
                    elif event.host:
                        hosts[record_id] = event.host  # as luigi does: the host that ran it last
                    event_rows.append({"task_id": record_id, "event_name": event.name, "ts": event.at})
                if parameter_rows:
                    connection.execute(parameters.insert(), parameter_rows)
                if hosts:
                    by_id = records.update().where(records.c.id == sqlalchemy.bindparam("record_id"))
                    connection.execute(
                        by_id.values(host=sqlalchemy.bindparam("new_host")),
                        [{"record_id": record_id, "new_host": host} for record_id, host in hosts.items()],
                    )
                connection.execute(task_events.insert(), event_rows)
        except Exception:
            # As luigi's scheduler does with a failed history write: warn and go on scheduling.
            logger.warning("Error saving %d task history events", len(events), exc_info=True)
            return
        self._record_ids.update(created)
