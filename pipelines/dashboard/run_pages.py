"""The pages about runs: the list, one run as a Gantt chart with its critical path, failures and
their logs, the run in progress (live), and trends across runs."""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import Input, Output, dcc, html

from pipelines.dashboard import figures
from pipelines.dashboard.html_parts import problems, progress_text, run_link, table, when
from pipelines.dashboard.monitor import Monitor, read_log_tail
from pipelines.execute.estimate import seconds_text
from pipelines.execute.run_history import Run

RUNS_LISTED = 100
LIVE_REFRESH_MS = 1000
JUST_FINISHED = 10
GRAPH_CONFIG: Any = {"displaylogo": False}  # plotly's own logo adds nothing here


def runs_page(monitor: Monitor) -> html.Div:
    runs = monitor.runs()[:RUNS_LISTED]
    if not runs:
        return html.Div([html.H2("Runs"), html.P("No runs yet.")])
    rows = [
        (
            run_link(run.run_id),
            html.Span(run.state, className=f"state {run.state}"),
            when(run.began),
            seconds_text(run.seconds),
            progress_text(run),
            run.command,
            f"{run.user}@{run.host}",
        )
        for run in runs
    ]
    headers = ["run", "outcome", "started", "took", "tasks", "command", "who"]
    return html.Div([html.H2("Runs"), table(headers, rows, id="runs-table")])


def run_page(monitor: Monitor, run_id: str) -> html.Div:
    run = monitor.run_detail(run_id)
    if run is None:
        return html.Div(
            [html.H2("Run not found"), html.P(f"No journal of run {run_id} where this pipeline keeps it.")]
        )
    ran = sorted(run.tasks.values(), key=lambda task: task.started or 0.0)
    workers = f"{run.workers} worker{'s' if run.workers != 1 else ''}"
    exit_code = f" · exit code {run.exit_code}" if run.exit_code is not None else ""
    parts: list[Any] = [
        html.H2(f"Run {run.run_id}"),
        html.P(
            f"{run.state} · {run.command} · started {when(run.began)} · took {seconds_text(run.seconds)} · "
            f"{run.user}@{run.host} · {workers}{exit_code}"
        ),
        html.P(progress_text(run), id="run-progress"),
    ]
    if ran:
        parts.append(dcc.Graph(id="gantt", figure=figures.gantt(run, time.time()), config=GRAPH_CONFIG))
    failures = [task for task in ran if task.outcome == "failed"]
    if failures:
        parts.append(html.H3("Failures"))
        parts += [_failure(run, task) for task in failures]
    if run.not_run:
        parts += [html.H3("Not run"), html.Ul([html.Li(_not_run_text(entry)) for entry in run.not_run])]
    if ran:
        rows = [
            (
                task.name,
                task.lane,
                when(task.started),
                "" if task.seconds is None else f"{task.seconds:.2f}s",
                task.outcome + (f" after {len(task.retries)} retries" if task.retries else ""),
                "yes" if task.critical else "",
            )
            for task in ran
        ]
        headers = ["task", "lane", "started", "took", "outcome", "critical path"]
        parts += [html.H3("Tasks"), table(headers, rows, id="run-tasks")]
    return html.Div(parts)


def _failure(run: Run, task: Any) -> html.Div:
    log_url = task.log or run.log_url(task.task_id)
    log = read_log_tail(log_url) if log_url else None
    shown_log = (
        html.Details([html.Summary(f"log {log_url}"), html.Pre(log, className="log")], open=True)
        if log
        else None
    )
    return html.Div(
        [html.H4(task.name), html.Pre(task.error or "no message", className="error"), shown_log],
        className="failure",
    )


def _not_run_text(entry: dict[str, Any]) -> str:
    text = f"{entry['name']}: {entry['outcome']}"
    if entry.get("reason"):
        text += f" — {entry['reason']}"
    if entry.get("blocked_by"):
        text += f" (blocked by {', '.join(entry['blocked_by'])})"
    return text


def live_page() -> html.Div:
    return html.Div(
        [html.H2("Live"), html.Div(id="live"), dcc.Interval(id="live-tick", interval=LIVE_REFRESH_MS)]
    )


def register_callbacks(app: dash.Dash, monitor: Monitor) -> None:
    @app.callback(Output("live", "children"), Input("live-tick", "n_intervals"))
    def refresh(_tick: int | None) -> Any:
        return live_content(monitor)


def progress_line(progress: dict[str, int], seconds: float) -> str:
    """As the terminal's progress line has it: [finished/total] and the counts."""
    finished = progress["done"] + progress["failed"] + progress["skipped"]
    counts = ", ".join(f"{progress[key]:,} {key}" for key in ("done", "failed", "skipped", "running"))
    return f"[{finished:,}/{progress['total']:,}] {counts} · {seconds_text(seconds)}"


def live_content(monitor: Monitor) -> list[Any]:
    """The runs in progress and what the scheduler is running; costs a look at the journals only."""
    runs = monitor.runs()
    running = [run for run in runs if run.state == "running"]
    now = time.time()
    parts: list[Any] = []
    if not running:
        parts.append(html.P("No run in progress.", id="live-idle"))
        if runs:
            latest = runs[0]
            parts.append(
                html.P(["Last run: ", run_link(latest.run_id), f" ({latest.state}, {progress_text(latest)})"])
            )
    parts += [_live_run(run, now) for run in running]
    if monitor.scheduler is not None:
        at_scheduler = monitor.scheduler.running()
        if at_scheduler:
            listed = [html.Li(f"{task.name} on {', '.join(task.workers)}") for task in at_scheduler.values()]
            parts += [html.H3("Running at the scheduler"), html.Ul(listed)]
        parts.append(problems([monitor.scheduler.problem] if monitor.scheduler.problem else []))
    return parts


def _live_run(run: Run, now: float) -> html.Section:
    progress = run.progress()
    finished = progress["done"] + progress["failed"] + progress["skipped"]
    active = [task for task in run.tasks.values() if task.outcome == "running"]
    ended = sorted(
        (task for task in run.tasks.values() if task.finished is not None),
        key=lambda task: -(task.finished or 0.0),
    )
    return html.Section(
        [
            html.H3(["Run ", run_link(run.run_id), f" · {run.command}"]),
            html.P(progress_line(progress, now - run.began), className="progress-line"),
            html.Progress(value=str(finished), max=str(max(1, progress["total"]))),
            html.H4("Running"),
            html.Ul(
                [html.Li(f"{task.name} · {seconds_text(now - (task.started or now))}") for task in active]
            ),
            html.H4("Just finished"),
            html.Ul([html.Li(f"{task.name}: {task.outcome}") for task in ended[:JUST_FINISHED]]),
        ],
        className="live-run",
    )


def trends_page(monitor: Monitor) -> html.Div:
    runs = monitor.runs()
    if not runs:
        return html.Div([html.H2("Trends"), html.P("No runs yet.")])
    return html.Div(
        [
            html.H2("Trends"),
            html.H3("Build time per task family"),
            dcc.Graph(id="durations", figure=figures.duration_trend(runs), config=GRAPH_CONFIG),
            html.H3("Failures per day"),
            dcc.Graph(id="failures", figure=figures.failures_per_day(runs), config=GRAPH_CONFIG),
        ]
    )
