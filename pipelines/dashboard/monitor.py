"""The dashboard's one source of data, shared by every open tab.

The assessment is ``status``'s (``pipelines.assess``) and is made again only when it is asked
for and is older than ``recheck_every`` seconds, or a run has ended since it was made, or
someone asks for a fresh one; one assessment at a time, however many tabs ask. Journals are
read incrementally (execute/run_history.py) at most once a ``runs_every`` seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
import fsspec
import luigi

from pipelines.assessment.graph import output_targets
from pipelines.assessment.records import target_key
from pipelines.assessment.staleness import Assessment, State
from pipelines.common.describe import describe
from pipelines.dashboard.luigid_watch import SchedulerWatch
from pipelines.dashboard.task_states import NEEDS_ATTENTION, LastRuns, Shown, last_runs_of_tasks, shown_states
from pipelines.execute.estimate import Estimate, estimate_rebuild
from pipelines.execute.run_history import JournalReader, Run, assign_lanes, mark_critical_path
from pipelines.execute.run_journal import journal_locations
from pipelines.report.status import explain_text
from pipelines.session import assess
from targets.errors import DashPipelineError
from targets.storage import redact, redact_text

LOG_TAIL_BYTES = 64 * 1024
# Runs read per journal directory, newest first: months of nightly runs of a large pipeline would
# otherwise all be held in memory.
RUNS_READ = 200


@dataclass(frozen=True)
class Snapshot:
    """What the pages show, as of ``checked`` (when the assessment was made)."""

    assessment: Assessment
    runs: list[Run]
    shown: dict[str, Shown]
    checked: float
    problems: list[str]


class Monitor:
    def __init__(
        self,
        goals: list[luigi.Task],
        title: str,
        scheduler_url: str | None = None,
        recheck_every: float = 60.0,
        runs_every: float = 1.0,
        assessor: Callable[[list[luigi.Task]], Assessment] = assess,
    ) -> None:
        self.goals = goals
        self.title = title
        self.recheck_every = recheck_every
        self.runs_every = runs_every
        self._assessor = assessor
        self.reader = JournalReader(journal_locations(goals), newest=RUNS_READ)
        self.scheduler = SchedulerWatch(scheduler_url) if scheduler_url else None
        self._assess_lock = threading.Lock()
        self._runs_lock = threading.Lock()
        self._assessment: Assessment | None = None
        self._assessed_at = float("-inf")  # monotonic
        self._checked = 0.0  # wall clock, when the assessment began
        self._assess_problem: str | None = None
        self._runs: list[Run] = []
        self._runs_at = float("-inf")
        self._runs_problem: str | None = None
        self._last_runs_key: tuple[tuple[str, float], ...] = ()
        self._last_runs_found: LastRuns = {}

    def runs(self) -> list[Run]:
        with self._runs_lock:
            if time.monotonic() - self._runs_at >= self.runs_every:
                try:
                    self._runs = self.reader.runs()
                    self._runs_problem = None
                except DashPipelineError as exc:
                    self._runs_problem = str(exc)
                self._runs_at = time.monotonic()
            return list(self._runs)

    def assessment(self, fresh: bool = False) -> Assessment:
        runs = self.runs()
        with self._assess_lock:
            ended_since = any(run.ended is not None and run.ended >= self._checked for run in runs)
            old = time.monotonic() - self._assessed_at >= self.recheck_every
            if self._assessment is None or fresh or old or ended_since:
                began = time.time()
                try:
                    self._assessment = self._assessor(self.goals)
                    self._assess_problem = None
                except DashPipelineError as exc:
                    if self._assessment is None:
                        raise
                    self._assess_problem = f"the last check failed, showing the one before: {exc}"
                self._checked, self._assessed_at = began, time.monotonic()
            return self._assessment

    def snapshot(self, fresh: bool = False) -> Snapshot:
        assessment = self.assessment(fresh)
        runs = self.runs()
        running = self.scheduler.running() if self.scheduler else {}
        problems = [
            problem
            for problem in (
                self._assess_problem,
                self._runs_problem,
                self.scheduler.problem if self.scheduler else None,
            )
            if problem
        ]
        shown = shown_states(assessment, runs, running, self._last_runs(runs))
        return Snapshot(assessment, runs, shown, self._checked, problems)

    def _last_runs(self, runs: list[Run]) -> LastRuns:
        # Every task's newest run, walked again only when a journal has grown: with hundreds of
        # runs of thousands of tasks, a walk per refresh of every tab would be most of its cost.
        key = tuple((run.run_id, run.last_event) for run in runs)
        with self._runs_lock:
            if key != self._last_runs_key:
                self._last_runs_key, self._last_runs_found = key, last_runs_of_tasks(runs)
            return self._last_runs_found

    def estimate(self, snapshot: Snapshot, workers: int) -> Estimate | None:
        return estimate_rebuild(snapshot.assessment, snapshot.runs, workers)

    def status_rows(self, snapshot: Snapshot, include_all: bool = False) -> list[dict[str, Any]]:
        """Each task (by default only those that are not up to date) as ``status --json`` has it,
        with the state the dashboard shows."""
        rows = []
        for task_id, entry in snapshot.shown.items():
            if not include_all and entry.state not in NEEDS_ATTENTION:
                continue
            verdict = snapshot.assessment.verdicts[task_id]
            rows.append(
                {
                    "id": task_id,
                    "name": describe(verdict.task),
                    "family": verdict.task.get_task_family(),
                    "state": entry.state,
                    "verdict": verdict.state.value,
                    "reason": entry.reason or None,
                    "cause": entry.cause,
                }
            )
        return rows

    def task_detail(self, snapshot: Snapshot, task_id: str) -> dict[str, Any] | None:
        verdict = snapshot.assessment.verdicts.get(task_id)
        if verdict is None:
            return None
        task, record = verdict.task, verdict.record
        recorded = record.outputs if record is not None else {}
        outputs = []
        for index, target in enumerate(output_targets(task)):
            key = target_key(target, task_id, index)
            fingerprint = recorded.get(key) if isinstance(recorded, dict) else None
            outputs.append({"url": redact(str(target)), **_fingerprint_summary(fingerprint)})
        built = None
        if record is not None and not record.extra.get("unreadable") and not record.extra.get("first build"):
            built = {
                "finished": iso_time(record.finished),
                "seconds": round(record.seconds, 3),
                "host": record.host,
                "user": record.user,
            }
        history = []
        log_url = None
        for run in snapshot.runs:  # newest first
            task_run = run.tasks.get(task_id)
            if task_run is None:
                continue
            history.append(
                {
                    "run": run.run_id,
                    "started": iso_time(task_run.started),
                    "seconds": None if task_run.seconds is None else round(task_run.seconds, 3),
                    "outcome": task_run.outcome,
                    "error": task_run.error,
                    "host": run.host,
                }
            )
            if log_url is None:
                log_url = task_run.log or run.log_url(task_id)
        shown = snapshot.shown[task_id]
        return {
            "id": task_id,
            "name": describe(task),
            "state": shown.state,
            "reason": shown.reason,
            "verdict": verdict.state.value,
            "explain": click.unstyle(explain_text(snapshot.assessment, verdict)),
            "outputs": outputs,
            "built": built,
            "runs": history[:10],
            "log_url": redact(log_url) if log_url else None,
            "log": read_log_tail(log_url) if log_url else None,
            "needs_input": verdict.state is State.MISSING_INPUT,
        }

    def run_detail(self, run_id: str) -> Run | None:
        run = next((each for each in self.runs() if each.run_id == run_id), None)
        if run is not None:
            assign_lanes(run)
            mark_critical_path(run)
        return run


def _fingerprint_summary(fingerprint: Any) -> dict[str, Any]:
    if not isinstance(fingerprint, dict):
        return {"size": None, "fingerprint": None}
    identity = next(
        (
            f"{name} {str(fingerprint[name])[:16]}"
            for name in ("sha256", "md5", "etag", "generation", "crc32c", "mtime_ns")
            if fingerprint.get(name)
        ),
        None,
    )
    return {"size": fingerprint.get("size"), "fingerprint": identity}


def read_log_tail(url: str) -> str | None:
    """The last LOG_TAIL_BYTES of a task's log (masked as it was written), or None if there is none."""
    try:
        fs, path = fsspec.core.url_to_fs(url)
        size = fs.size(path)
        data = fs.cat_file(path, start=max(0, size - LOG_TAIL_BYTES))
    except (OSError, ValueError, ImportError):
        return None
    text = data.decode("utf-8", errors="replace")
    return redact_text(text if len(data) < LOG_TAIL_BYTES else "…" + text[text.find("\n") + 1 :])


def iso_time(timestamp: float | None) -> str | None:
    """A wall-clock time as the API and the panel give it: ISO 8601 in UTC, to the second."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")
