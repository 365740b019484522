"""Runs as their journals tell them (see run_journal.py): read in bulk, kept as long as the journals.

A :class:`JournalReader` lists the ``runs`` directories it is given and reads each journal
once: a run that ended never changes again, and of one still going only what was added since
the last look is read (the rest of a local part, the new parts on an object store). So the
dashboard's live view costs one listing and the journal's new lines per refresh.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipelines.execute.run_journal import JOURNAL_FORMAT
from targets import FileTarget
from targets.storage import storage_errors


@dataclass
class TaskRun:
    """One task in one run: when it started and ended, how, and on which worker lane."""

    task_id: str
    name: str
    family: str
    started: float | None = None
    finished: float | None = None
    outcome: str = "running"  # running, done, failed, skipped
    error: str | None = None
    log: str | None = None
    needs: list[str] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)
    lane: str = ""
    critical: bool = False

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@dataclass
class Run:
    run_id: str
    url: str
    began: float
    command: str = ""
    goals: list[str] = field(default_factory=list)
    host: str = ""
    user: str = ""
    pid: int = 0
    workers: int = 1
    scheduler: str | None = None
    planned: int = 0
    logs: str | None = None  # the task log directory; a task's log is LOGS/RUN/TASK_ID.log
    pending: int | None = None
    last_event: float = 0.0
    ended: float | None = None
    exit_code: int | None = None
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    not_run: list[dict[str, Any]] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """``running``, ``succeeded``, ``failed``, or ``interrupted`` (it never ended, and its
        process on this machine is gone)."""
        if self.exit_code is not None:
            return "succeeded" if self.exit_code == 0 else "failed"
        return "interrupted" if _process_gone(self.host, self.pid) else "running"

    @property
    def seconds(self) -> float:
        return (self.ended or self.last_event) - self.began

    def log_url(self, task_id: str) -> str | None:
        """Where the task's log would be, if it wrote one in this run."""
        return f"{self.logs.rstrip('/')}/{self.run_id}/{task_id}.log" if self.logs else None

    def progress(self) -> dict[str, int]:
        """Counts like the terminal's progress line: tasks done, failed, skipped, running, left."""
        counts = {"done": 0, "failed": 0, "skipped": 0, "running": 0}
        for task in self.tasks.values():
            counts[task.outcome] = counts.get(task.outcome, 0) + 1
        total = self.pending if self.pending is not None else self.planned
        counts["left"] = max(0, total - sum(counts.values()))
        counts["total"] = max(total, sum(counts[key] for key in ("done", "failed", "skipped", "running")))
        return counts


def _process_gone(host: str, pid: int) -> bool:
    if host != socket.gethostname() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def apply_events(run: Run | None, url: str, lines: Iterable[bytes]) -> Run | None:
    """``run`` with the events of ``lines`` applied; a line cut short by a crash is skipped."""
    for line in lines:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind, at = event.get("event"), float(event.get("at") or 0.0)
        if kind == "run":
            if event.get("format") != JOURNAL_FORMAT:
                return None
            run = Run(
                run_id=str(event.get("run", posixpath.basename(url))),
                url=url,
                began=at,
                command=str(event.get("command", "")),
                goals=list(event.get("goals") or []),
                host=str(event.get("host", "")),
                user=str(event.get("user", "")),
                pid=int(event.get("pid") or 0),
                workers=int(event.get("workers") or 1),
                scheduler=event.get("scheduler"),
                planned=int(event.get("planned") or 0),
                logs=event.get("logs"),
            )
        if run is None:
            continue  # the part with the run's first event is not there (yet): nothing to attach to
        run.last_event = max(run.last_event, at)
        task_id = event.get("task")
        if kind == "scheduled":
            run.pending = int(event.get("pending") or 0)
        elif kind == "start" and task_id:
            task = run.tasks.get(task_id)
            if task is None or task.started is not None:  # not seen yet, or run again by luigi
                task = run.tasks[task_id] = TaskRun(task_id, "", "")
            task.name, task.family = str(event.get("name") or task_id), str(event.get("family") or "")
            task.started, task.needs = at, list(event.get("needs") or [])
        elif kind in ("done", "failed", "skipped") and task_id:
            task = run.tasks.get(task_id) or run.tasks.setdefault(
                task_id, TaskRun(task_id, str(event.get("name") or task_id), "", started=at)
            )
            task.finished, task.outcome = at, kind
            task.error, task.log = event.get("error"), event.get("log")
        elif kind == "retry" and task_id:
            # From a task's own process, appended straight to the journal: it can come before
            # the run's buffered line that says the task started.
            task = run.tasks.setdefault(task_id, TaskRun(task_id, task_id, ""))
            task.retries.append(
                {key: event.get(key) for key in ("at", "attempt", "attempts", "error", "wait")}
            )
        elif kind == "end":
            run.ended, run.exit_code = at, int(event.get("exit") or 0)
            run.not_run = list(event.get("not_run") or [])
            run.elsewhere = list(event.get("elsewhere") or [])
            run.phases = dict(event.get("phases") or {})
    return run


def assign_lanes(run: Run) -> None:
    """Give each task a worker lane (``host #N``): the first lane free when it started, so a
    lane never holds two tasks at once and -j N shows N lanes."""
    free_at: list[float] = []
    for task in sorted(run.tasks.values(), key=lambda each: each.started or 0.0):
        start = task.started or 0.0
        end = task.finished if task.finished is not None else float("inf")
        lane = next((index for index, free in enumerate(free_at) if free <= start), None)
        if lane is None:
            lane = len(free_at)
            free_at.append(end)
        else:
            free_at[lane] = end
        task.lane = f"{run.host or 'worker'} #{lane + 1}"


def mark_critical_path(run: Run) -> list[str]:
    """Mark and return the chain that decided the run's length: from the task that finished last,
    back through whichever finished last of what it needed and the task before it on its lane
    (with fewer lanes than ready tasks, waiting for a lane delays a task as much as a dependency)."""
    if any(not task.lane for task in run.tasks.values()):
        assign_lanes(run)
    finished = [task for task in run.tasks.values() if task.finished is not None]
    if not finished:
        return []
    before_on_lane: dict[str, TaskRun] = {}
    by_lane: dict[str, list[TaskRun]] = {}
    for task in sorted(finished, key=lambda each: each.started or 0.0):
        by_lane.setdefault(task.lane, []).append(task)
    for lane_tasks in by_lane.values():
        for earlier, later in itertools.pairwise(lane_tasks):
            before_on_lane[later.task_id] = earlier
    current = max(finished, key=lambda task: task.finished or 0.0)
    path = [current.task_id]
    while True:
        current.critical = True
        candidates = [run.tasks[need] for need in current.needs if need in run.tasks]
        if current.task_id in before_on_lane:
            candidates.append(before_on_lane[current.task_id])
        candidates = [task for task in candidates if task.finished is not None and not task.critical]
        if not candidates:
            break
        current = max(candidates, key=lambda task: task.finished or 0.0)
        path.append(current.task_id)
    return path[::-1]


class JournalReader:
    """The runs in some ``runs`` directories, read incrementally; see the module docstring.
    ``newest`` keeps to that many runs per directory (run ids sort by start time)."""

    def __init__(self, locations: Iterable[FileTarget], newest: int | None = None) -> None:
        self.locations = list(locations)
        self.newest = newest
        self._runs: dict[str, Run] = {}  # run directory URL -> the run as read so far
        self._read: dict[str, int] = {}  # part URL -> bytes read from it

    def runs(self) -> list[Run]:
        """Every run found, newest first."""
        for location in self.locations:
            self._refresh(location)
        runs = list(self._runs.values())
        runs.sort(key=lambda run: (run.began, run.run_id), reverse=True)
        return runs

    def run(self, run_id: str) -> Run | None:
        return next((run for run in self.runs() if run.run_id == run_id), None)

    def _refresh(self, location: FileTarget) -> None:
        fs, directory = location.location.fs, location.location.path.rstrip("/")
        with storage_errors(location.url, "read run journals in"):
            # One listing of every part of every run (recursive: one paged request on an object
            # store), then the parts that grew, fetched together.
            fs.invalidate_cache(directory)
            try:
                found = fs.find(directory, detail=True)
            except (FileNotFoundError, NotADirectoryError):
                return
            parts: dict[str, list[tuple[str, int]]] = {}
            for path, entry in found.items():
                run_dir, name = posixpath.split(path)
                if name.endswith(".jsonl") and posixpath.dirname(run_dir) == directory:
                    parts.setdefault(run_dir, []).append((path, int(entry.get("size") or 0)))
            chosen = sorted(parts)[-self.newest :] if self.newest else sorted(parts)
            wanted: dict[str, list[tuple[str, int]]] = {}
            for run_dir in chosen:
                url = fs.unstrip_protocol(run_dir)
                known = self._runs.get(url)
                if known is not None and known.exit_code is not None:
                    continue  # ended: its journal is complete
                grown = [
                    (path, size) for path, size in sorted(parts[run_dir]) if size > self._read.get(path, 0)
                ]
                if grown:
                    wanted[url] = grown
            whole = [path for grown in wanted.values() for path, _ in grown if not self._read.get(path)]
            fetched = fs.cat(whole, on_error="omit") if whole else {}
            for url, grown in wanted.items():
                run = self._runs.get(url)
                for path, _ in grown:
                    start = self._read.get(path, 0)
                    data = fs.cat_file(path, start=start) if start else fetched.get(path)
                    if not isinstance(data, bytes):
                        continue
                    # Only whole lines: the rest of a line being appended is read next time.
                    lines = data[: data.rfind(b"\n") + 1]
                    self._read[path] = start + len(lines)
                    run = apply_events(run, url, lines.splitlines())
                if run is not None:
                    self._runs[url] = run
