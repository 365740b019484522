"""Each task's state as the dashboard shows it: its verdict in ``status``'s words, unless a run
says more: it is running now, its last build failed, or it was blocked and is still not built."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipelines.assessment.staleness import Assessment, State
from pipelines.execute.run_history import Run, TaskRun

RUNNING = "running"
FAILED = "failed"
BLOCKED = "blocked"

# Most telling first: a family's node takes the colour of its most telling task.
STATE_ORDER = (
    FAILED,
    RUNNING,
    State.MISSING_INPUT.value,
    BLOCKED,
    State.STALE.value,
    State.FORCED.value,
    State.MISSING.value,
    State.UPSTREAM.value,
    State.NO_RECORD.value,
    State.UP_TO_DATE.value,
    State.INPUT.value,
)
NEEDS_ATTENTION = frozenset(STATE_ORDER) - {State.UP_TO_DATE.value, State.INPUT.value}


@dataclass(frozen=True)
class Shown:
    state: str
    reason: str
    cause: str | None  # the kind of the verdict's root cause, as ``status --json`` names it


def slug(state: str) -> str:
    """A state as a CSS class and URL word: ``up to date`` → ``up-to-date``."""
    return state.replace(" ", "-")


LastRuns = dict[str, tuple[Run, TaskRun | None, dict | None]]


def last_runs_of_tasks(runs: Iterable[Run]) -> LastRuns:
    """Each task's newest run: the run, the task's record in it if it started there, else what the
    run's end said of it (not run, and why)."""
    found: dict[str, tuple[Run, TaskRun | None, dict | None]] = {}
    for run in sorted(runs, key=lambda each: each.began):
        for task_id, task_run in run.tasks.items():
            found[task_id] = (run, task_run, None)
        for entry in run.not_run:
            found[entry["task"]] = (run, None, entry)
    return found


def shown_states(
    assessment: Assessment,
    runs: Iterable[Run],
    running_at_scheduler: Iterable[str] = (),
    last: LastRuns | None = None,
) -> dict[str, Shown]:
    """``last`` is :func:`last_runs_of_tasks` of ``runs``, when the caller keeps it."""
    plan = assessment.plan()
    blocked = {task.task_id for task in plan.blocked}
    at_scheduler = set(running_at_scheduler)
    if last is None:
        last = last_runs_of_tasks(runs)
    shown: dict[str, Shown] = {}
    for task_id, verdict in assessment.verdicts.items():
        cause = verdict.cause.name.lower() if verdict.cause else None
        state, reason = verdict.state.value, verdict.reason
        run, task_run, not_run = last.get(task_id, (None, None, None))
        run_id = run.run_id if run is not None else ""
        running_here = task_run is not None and task_run.outcome == RUNNING and _live(run)
        if running_here or task_id in at_scheduler:
            state, reason = RUNNING, _running_reason(run if running_here else None, verdict.reason)
        elif verdict.rebuilds and task_run is not None and task_run.outcome == FAILED:
            state, reason = FAILED, f"last build failed in run {run_id}: {task_run.error or 'no message'}"
        elif task_id in blocked:
            state = BLOCKED
            reason = f"{verdict.reason}; an input it needs is missing" if verdict.reason else "input missing"
        elif verdict.rebuilds and not_run is not None and not_run.get("blocked_by"):
            state = BLOCKED
            blockers = ", ".join(not_run["blocked_by"])
            reason = f"{verdict.reason}; not built in run {run_id}, blocked by {blockers}"
        shown[task_id] = Shown(state, reason, cause)
    return shown


def _live(run: Run | None) -> bool:
    return run is not None and run.state == RUNNING


def _running_reason(run: Run | None, reason: str) -> str:
    where = f"in run {run.run_id} on {run.host}" if run is not None else "at the scheduler"
    return f"running {where}" + (f" ({reason})" if reason else "")


def counts(shown: Mapping[str, Shown]) -> dict[str, int]:
    found: dict[str, int] = {}
    for entry in shown.values():
        found[entry.state] = found.get(entry.state, 0) + 1
    return {state: found[state] for state in STATE_ORDER if state in found}


def most_telling(states: Iterable[str]) -> str:
    present = set(states)
    return next((state for state in STATE_ORDER if state in present), State.UP_TO_DATE.value)
