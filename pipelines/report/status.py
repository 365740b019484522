"""What ``dashpipe status``, ``explain`` and the dashboard say of each task: its verdict, with one
root cause per stale task, in the same words everywhere."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import click

from pipelines.assessment.graph import outputs_of
from pipelines.assessment.records import BuildRecord, forget, make_record, record_target, write_record
from pipelines.assessment.staleness import REBUILDS, Assessment, State, Verdict
from pipelines.common.describe import describe
from pipelines.common.plural import counted
from pipelines.common.task_names import picked

_COLOUR = {
    State.UP_TO_DATE: "green",
    State.STALE: "yellow",
    State.MISSING: "yellow",
    State.FORCED: "yellow",
    State.UPSTREAM: "cyan",
    State.MISSING_INPUT: "red",
    State.NO_RECORD: None,
    State.INPUT: None,
}

# Each count is of tasks, so the phrase agrees with it: "1 parameter changed", "3 parameters changed".
# The singular is the kind's name in JSON, which stays as it is.
_PLURAL_CAUSES = {
    "parameter changed": "parameters changed",
    "code version changed": "code versions changed",
    "input changed": "inputs changed",
    "output missing": "outputs missing",
    "output modified outside the pipeline": "outputs modified outside the pipeline",
    "last build did not finish": "last builds did not finish",
    "build record unreadable": "build records unreadable",
    "no build record": "no build records",
}


def verdict_line(verdict: Verdict) -> str:
    label = click.style(f"{verdict.state.value:>13}", fg=_COLOUR[verdict.state])
    return f"{label}  {describe(verdict.task)}" + (f": {verdict.reason}" if verdict.reason else "")


def status_text(assessment: Assessment, show_all: bool = False) -> str:
    """Tasks by state; those rebuilt only because of what they need come last; a footer counts reasons."""
    verdicts = [v for v in assessment.verdicts.values() if v.state is not State.INPUT]
    shown = verdicts if show_all else [v for v in verdicts if v.state is not State.UP_TO_DATE]
    direct = [v for v in shown if v.state is not State.UPSTREAM]
    downstream = [v for v in shown if v.state is State.UPSTREAM]
    lines = [verdict_line(v) for v in direct]
    if downstream:
        lines.append("rebuild only because a task they need rebuilds:")
        lines.extend(verdict_line(v) for v in downstream)
    return "\n".join([*lines, *footer_lines(assessment)])


def footer_lines(assessment: Assessment) -> list[str]:
    """The tasks counted by state and the reasons counted by kind, as ``status`` ends."""
    counts = assessment.counts()
    rebuild = sum(counts[state.value] for state in REBUILDS)
    footer = ", ".join(
        f"{count} {state}" for state, count in sorted(counts.items()) if state != State.INPUT.value
    )
    tasks = counted(sum(n for state, n in counts.items() if state != State.INPUT.value), "task")
    lines = [f"{tasks}: {footer}" + (" — nothing to rebuild" if not rebuild else "")]
    causes = [
        counted(n, cause, _PLURAL_CAUSES.get(cause, cause))
        for cause, n in reason_counts(assessment).most_common()
    ]
    if causes:
        lines.append("reasons: " + ", ".join(causes))
    return lines


def reason_kind(verdict: Verdict) -> str | None:
    """The kind of a rebuild's root cause, for the footer that counts them."""
    return verdict.cause.value if verdict.rebuilds and verdict.cause else None


def reason_counts(assessment: Assessment) -> Counter[str]:
    return Counter(kind for kind in map(reason_kind, assessment.verdicts.values()) if kind)


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "id": verdict.task.task_id,
        "name": describe(verdict.task),
        "family": verdict.task.get_task_family(),
        "state": verdict.state.value,
        "reason": verdict.reason or None,
        "cause": verdict.cause.name.lower() if verdict.cause else None,
        "details": verdict.details,
        "rebuilds": verdict.rebuilds,
        "recorded": _record_summary(verdict.record),
    }


def _record_summary(record: BuildRecord | None) -> dict[str, Any] | None:
    if record is None or record.extra.get("unreadable") or record.extra.get("first build"):
        return None
    return {
        "finished": dt.datetime.fromtimestamp(record.finished, dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(record.seconds, 3),
        "host": record.host,
        "version": record.version,
    }


def status_json(assessment: Assessment) -> str:
    return json.dumps(
        {
            "tasks": [_verdict_json(v) for v in assessment.verdicts.values()],
            "counts": dict(assessment.counts()),
        },
        indent=2,
    )


def explain_text(assessment: Assessment, verdict: Verdict) -> str:
    task = verdict.task
    lines = [
        f"{describe(task)}  [{task.task_id}]",
        f"  verdict: {verdict.state.value}" + (f" — {verdict.reason}" if verdict.reason else ""),
    ]
    lines.extend(f"  - {detail}" for detail in verdict.details[1:])
    lines.append("  outputs:")
    lines.extend(f"    {url}" for url in outputs_of(task))
    lines.append(f"  build record: {record_target(task)}")
    record = verdict.record
    if record is None:
        lines.append("    none")
    elif record.extra.get("unreadable"):
        lines.append("    unreadable")
    elif record.extra.get("first build"):
        lines.append("    none yet: a run began building it and did not finish")
    else:
        summary = _record_summary(record)
        assert summary is not None
        lines.append(
            f"    built {summary['finished']} on {record.host or '?'} in {summary['seconds']}s"
            + (f", code version {record.version}" if record.version else "")
        )
        lines.extend(f"    param {name} = {value}" for name, value in sorted(record.params.items()))
        lines.extend(f"    input {url}" for url in sorted(record.inputs))
    needs = assessment.graph.edges[task.task_id]
    if needs:
        lines.append("  needs:")
        lines.extend(f"    {verdict_line(assessment.verdicts[d]).strip()}" for d in needs)
    return "\n".join(lines)


def mark_fresh(assessment: Assessment, names: frozenset[str]) -> tuple[int, list[str]]:
    """Record current outputs as up to date without running; returns (recorded, skipped with why)."""
    recorded, skipped = 0, []
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    for verdict in assessment.verdicts.values():
        if verdict.state in (State.INPUT, State.MISSING_INPUT) or not _selected(verdict, names):
            continue
        if verdict.state is State.MISSING:
            skipped.append(f"{describe(verdict.task)}: {verdict.reason}")
            continue
        write_record(verdict.task, make_record(verdict.task, now, now))
        recorded += 1
    return recorded, skipped


def forget_records(assessment: Assessment, names: frozenset[str]) -> int:
    return sum(
        forget(verdict.task)
        for verdict in assessment.verdicts.values()
        if verdict.state not in (State.INPUT, State.MISSING_INPUT) and _selected(verdict, names)
    )


def _selected(verdict: Verdict, names: frozenset[str]) -> bool:
    return not names or picked(names, verdict.task.get_task_family())
