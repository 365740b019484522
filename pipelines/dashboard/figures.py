"""The plotly figures: one run as a Gantt chart of its tasks by worker lane, and trends across runs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

import plotly.graph_objects as go

from pipelines.execute.run_history import Run, TaskRun

OUTCOME_COLOURS = {
    "done": "#3a9d5d",
    "failed": "#c0392b",
    "skipped": "#9aa5b1",
    "running": "#2f7fd1",
}
CRITICAL_COLOUR = "#e67e22"
# Families drawn in the duration trend: the ones that took the most time overall.
TREND_FAMILIES = 12


def _when(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)


def gantt(run: Run, now: float) -> go.Figure:
    """One bar per task that ran, on its lane, coloured by outcome; the critical path in its own colour."""
    groups: dict[str, list[TaskRun]] = defaultdict(list)
    for task in run.tasks.values():
        if task.started is None:
            continue
        key = "critical path" if task.critical and task.outcome == "done" else task.outcome
        groups[key].append(task)
    figure = go.Figure()
    for key in ("critical path", "done", "running", "skipped", "failed"):
        tasks = groups.get(key)
        if not tasks:
            continue
        ends = [task.finished if task.finished is not None else now for task in tasks]
        figure.add_trace(
            go.Bar(
                name=key,
                orientation="h",
                base=[_when(task.started or 0.0) for task in tasks],
                x=[
                    max(1.0, (end - (task.started or end)) * 1000.0)
                    for task, end in zip(tasks, ends, strict=True)
                ],
                y=[task.lane for task in tasks],
                text=[task.name for task in tasks],
                textposition="inside",
                insidetextanchor="start",
                marker_color=CRITICAL_COLOUR if key == "critical path" else OUTCOME_COLOURS.get(key, "#888"),
                customdata=[
                    [task.name, task.outcome, round(end - (task.started or end), 3)]
                    for task, end in zip(tasks, ends, strict=True)
                ],
                hovertemplate="%{customdata[0]}<br>%{customdata[1]} in %{customdata[2]}s<extra></extra>",
            )
        )
    lanes = sorted({task.lane for task in run.tasks.values() if task.lane})
    figure.update_layout(
        barmode="overlay",
        showlegend=True,
        height=max(220, 60 + 28 * len(lanes)),
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        xaxis={"type": "date", "title": None},
        yaxis={"categoryorder": "array", "categoryarray": lanes[::-1], "title": None},
        legend={"orientation": "h", "y": 1.08},
    )
    return figure


def duration_trend(runs: Iterable[Run]) -> go.Figure:
    """Each family's successful build time in each run (median of the run's tasks of that family)."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    totals: dict[str, float] = defaultdict(float)
    for run in runs:
        per_family: dict[str, list[float]] = defaultdict(list)
        for task in run.tasks.values():
            if task.outcome == "done" and task.seconds is not None:
                per_family[task.family].append(task.seconds)
        for family, seconds in per_family.items():
            seconds.sort()
            points[family].append((run.began, seconds[len(seconds) // 2]))
            totals[family] += sum(seconds)
    figure = go.Figure()
    for family in sorted(totals, key=totals.__getitem__, reverse=True)[:TREND_FAMILIES]:
        series = sorted(points[family])
        figure.add_trace(
            go.Scatter(
                name=family,
                mode="lines+markers",
                x=[_when(at) for at, _ in series],
                y=[seconds for _, seconds in series],
            )
        )
    figure.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        yaxis={"title": "seconds per task (median in the run)", "rangemode": "tozero"},
    )
    return figure


def failures_per_day(runs: Iterable[Run]) -> go.Figure:
    days: dict[str, int] = defaultdict(int)
    failed_runs: dict[str, int] = defaultdict(int)
    for run in runs:
        day = _when(run.began).date().isoformat()
        days[day] += sum(1 for task in run.tasks.values() if task.outcome == "failed")
        failed_runs[day] += run.state == "failed"
    ordered = sorted(days)
    figure = go.Figure(
        [
            go.Bar(name="failed tasks", x=ordered, y=[days[day] for day in ordered], marker_color="#c0392b"),
            go.Bar(
                name="failed runs", x=ordered, y=[failed_runs[day] for day in ordered], marker_color="#e67e22"
            ),
        ]
    )
    figure.update_layout(
        height=300, barmode="group", margin={"l": 10, "r": 10, "t": 30, "b": 30}, xaxis={"type": "category"}
    )
    return figure
