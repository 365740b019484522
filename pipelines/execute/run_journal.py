"""Each run's journal: what happened, as it happened, beside the build records.

Every ``run`` and ``backfill`` appends events (the run began, a task started, finished, failed,
was retried or skipped, the run ended with its exit code) to a journal of its own, in a
``runs`` directory beside the build records of its goals (``reports/.dashpipe/runs/RUN/``, or
under ``[dashpipe] records`` when that is set), so any machine that sees the outputs sees the
runs; ``dashpipe dashboard`` and ``run -n``'s time estimate read them (``run_history.py``).

A journal is a directory of JSON Lines parts. On local disk the run appends to one part; an
object store cannot append, so each flush uploads a new part, whole or not at all. Events are
queued in memory and written by a thread of the run's own, at most every ``FLUSH_S`` seconds
(local) or ``REMOTE_FLUSH_S`` (object stores), never forced to disk: a run killed mid-way loses
at most the last moments of its journal, which a reader shows as a run that never ended. A
journal that cannot be written is a warning at the end of the run, never its failure.
``[dashpipe] run_journal = off`` turns journals off.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import posixpath
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import luigi
import luigi.configuration
import orjson

from pipelines.assessment.graph import is_external
from pipelines.assessment.records import RecordSettings, record_target
from pipelines.common.describe import describe
from pipelines.execute import retry
from pipelines.execute.outcome import Outcome, RunObserver, RunReport, TaskReport
from pipelines.execute.task_logs import configured_directory
from targets import FileTarget
from targets.storage import redact, redact_text

RUNS_DIRECTORY = "runs"
JOURNAL_FORMAT = 1
FLUSH_S = 0.5
REMOTE_FLUSH_S = 2.0
ERROR_EXCERPT = 2000  # characters of a failure's text kept in the journal; the log has the rest


def journals_enabled() -> bool:
    config = luigi.configuration.get_config()
    value = config.get("dashpipe", "run_journal", "on") if config.has_section("dashpipe") else "on"
    return str(value).strip().lower() not in ("off", "false", "no", "0", "none")


def runs_location(task: luigi.Task, settings: RecordSettings | None = None) -> FileTarget:
    """The ``runs`` directory beside ``task``'s build record, with the storage options to reach it."""
    record = record_target(task, settings)
    directory = posixpath.join(posixpath.dirname(record.url), RUNS_DIRECTORY)
    return FileTarget(directory, **record.storage_options)


def journal_locations(
    goals: Iterable[luigi.Task], settings: RecordSettings | None = None
) -> list[FileTarget]:
    """The ``runs`` directories of ``goals``, each once, in the order a run picks its own from."""
    found: dict[str, FileTarget] = {}
    for goal in goals:
        if is_external(goal):
            continue
        try:
            location = runs_location(goal, settings)
        except Exception:  # output() raised: the assessment reports it; this goal has no place
            continue
        found.setdefault(location.url, location)
    return [found[url] for url in sorted(found)]


class RunJournal(RunObserver):
    """The journal of one run, fed as a :class:`RunObserver` and by :meth:`begin` and :meth:`end`."""

    def __init__(self, directory: FileTarget, run_id: str) -> None:
        self.run_id = run_id
        self.url = posixpath.join(directory.url, run_id)
        self._location = FileTarget(posixpath.join(self.url, "000000.jsonl"), **directory.storage_options)
        self._local = self._location.location.is_local
        self._pid = os.getpid()
        self._queue: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._parts = 0
        self._handle: Any = None
        self.problem: str | None = None
        self._edges: Mapping[str, list[str]] = {}
        self._names: dict[str, str] = {}
        self._writer = threading.Thread(target=self._write_forever, name="run-journal", daemon=True)

    @classmethod
    def open(cls, goals: list[luigi.Task], run_id: str) -> RunJournal | None:
        """The journal of a run of ``goals``, in the first of their ``runs`` directories; None when
        journals are off or no goal has a place for one."""
        if not journals_enabled():
            return None
        locations = journal_locations(goals)
        return cls(locations[0], run_id) if locations else None

    def begin(
        self,
        title: str,
        goals: list[luigi.Task],
        workers: int,
        scheduler_url: str | None,
        edges: Mapping[str, list[str]] | None = None,
        to_run: Iterable[luigi.Task] = (),
    ) -> None:
        self._edges = edges or {}
        planned = [task for task in to_run if not is_external(task)]
        self._emit(
            "run",
            format=JOURNAL_FORMAT,
            run=self.run_id,
            # The PIPELINE argument and the goals as `status` names them; never the command line,
            # which holds the values of private parameters too.
            command=redact_text(title),
            goals=[describe(goal) for goal in goals],
            host=socket.gethostname(),
            user=_user(),
            pid=os.getpid(),
            workers=workers,
            scheduler=redact(scheduler_url) if scheduler_url else None,
            planned=len(planned),
            logs=configured_directory(),  # a task's log is LOGS/RUN/TASK_ID.log, when it wrote one
        )
        retry.add_listener(self._retried)
        if self._local:
            # Written now: its first line comes before any that a task's own process appends.
            # On an object store the first flush waits, so a short run costs one upload.
            self._flush()
        self._writer.start()

    def scheduled(self, pending: int) -> None:
        self._emit("scheduled", pending=pending)

    def started(self, task: luigi.Task) -> None:
        task_id = task.task_id
        name = self._names[task_id] = describe(task)
        self._emit(
            "start",
            task=task_id,
            family=task.get_task_family(),
            name=name,
            needs=self._edges.get(task_id, []),
        )

    def finished(self, report: TaskReport) -> None:
        event = {Outcome.RAN: "done", Outcome.FAILED: "failed"}.get(report.outcome, "skipped")
        self._emit(
            event,
            task=report.task.task_id,
            seconds=report.seconds,
            error=report.error and report.error[:ERROR_EXCERPT],
            log=report.log,
        )

    def not_loaded(self, task_id: str, reason: str) -> None:
        self._emit("failed", task=task_id, name=task_id, error=reason[:ERROR_EXCERPT])

    def _retried(
        self, task: luigi.Task, attempt: int, attempts: int, error: BaseException, wait: float
    ) -> None:
        self._emit(
            "retry",
            task=task.task_id,
            attempt=attempt,
            attempts=attempts,
            error=redact_text(str(error))[:ERROR_EXCERPT],
            wait=wait,
        )

    def end(self, report: RunReport | None, exit_code: int) -> None:
        """The run's last event, then every queued event is written; safe to call once only."""
        retry.remove_listener(self._retried)
        fields: dict[str, Any] = {"exit": int(exit_code)}
        if report is not None:
            counts: dict[str, int] = {}
            for task_report in report.tasks:
                counts[task_report.outcome.value] = counts.get(task_report.outcome.value, 0) + 1
            fields["counts"] = counts
            fields["not_run"] = [
                {
                    "task": task_report.task.task_id,
                    "name": task_report.name,
                    "outcome": task_report.outcome.value,
                    "reason": task_report.error,
                    "blocked_by": task_report.blocked_by,
                }
                for task_report in report.tasks
                if task_report.outcome.is_problem and task_report.task.task_id not in self._names
            ]
            fields["elsewhere"] = [
                task_report.task.task_id
                for task_report in report.tasks
                if task_report.error == "built by another worker"
            ]
            fields["phases"] = {phase: round(seconds, 3) for phase, seconds in report.seconds.items()}
        self._emit("end", **fields)
        self.close()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        if self._writer.is_alive():
            self._writer.join(timeout=30)
        else:
            self._flush()  # never started: begin() was not reached
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()

    def _emit(self, event: str, **fields: Any) -> None:
        entry = {"event": event, "at": time.time(), **fields}
        if os.getpid() != self._pid:
            self._from_child(entry)
            return
        with self._lock:
            self._queue.append(entry)

    def _from_child(self, entry: dict[str, Any]) -> None:
        # A task run in a process of its own (-j N, a timeout) reports its retries from there:
        # appended straight to the local part (one small write with O_APPEND lands whole); an
        # object store's part cannot be appended to, and the task's log says it instead.
        if not self._local or self.problem:
            return
        with contextlib.suppress(OSError), open(self._location.location.path, "ab") as handle:
            handle.write(orjson.dumps(entry) + b"\n")

    def _open_local_part(self) -> None:
        if self._handle is not None or self.problem:
            return
        try:
            os.makedirs(posixpath.dirname(self._location.location.path), exist_ok=True)
            self._handle = open(self._location.location.path, "ab")  # noqa: SIM115 (kept open all run)
        except OSError as exc:
            self.problem = f"run journal {redact(self.url)} not written: {redact_text(str(exc))}"

    def _write_forever(self) -> None:
        interval = FLUSH_S if self._local else REMOTE_FLUSH_S
        while not self._closing:
            self._wake.wait(interval)
            self._flush()
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        if not batch or self.problem:
            return
        data = b"".join(orjson.dumps(entry, default=str) + b"\n" for entry in batch)
        try:
            if self._local:
                self._open_local_part()
                if self._handle is None:
                    return  # could not be opened: self.problem says why
                self._handle.write(data)
                self._handle.flush()
            else:
                location = self._location.location
                part = posixpath.join(posixpath.dirname(location.path), f"{self._parts:06d}.jsonl")
                location.fs.pipe_file(part, data)
                self._parts += 1
        except Exception as exc:  # a journal never fails its run: any storage error ends it, said once
            self.problem = f"run journal {redact(self.url)} not written: {redact_text(str(exc))}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
