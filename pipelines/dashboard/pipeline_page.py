"""The pipeline page: the task graph coloured by state, families collapsed (click one to expand it,
a task to see what ``explain`` says, its outputs, last runs and log), what a rebuild would take,
and the tasks that are not up to date as a table, so the page can be searched and read aloud."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dash
import dash_cytoscape as cyto
from dash import Input, Output, State, dcc, html

from pipelines.common.describe import describe
from pipelines.dashboard.graph_elements import graph_elements
from pipelines.dashboard.html_parts import problems, run_link, size_text, state_badge, table, task_href
from pipelines.dashboard.monitor import Monitor, Snapshot
from pipelines.dashboard.task_states import (
    BLOCKED,
    FAILED,
    NEEDS_ATTENTION,
    RUNNING,
    STATE_ORDER,
    counts,
    slug,
)
from pipelines.report.status import footer_lines

TABLE_MOST = 500  # rows of the "not up to date" table; the filters narrow the rest
FAMILY_PANEL_MOST = 50
REFRESH_MS = 5000

STATE_COLOURS = {
    "failed": "#c0392b",
    "running": "#2f7fd1",
    "missing input": "#8e44ad",
    "blocked": "#b07cc6",
    "stale": "#f0b429",
    "forced": "#f0b429",
    "missing": "#f7d070",
    "upstream": "#8fd3e8",
    "no record": "#c8ccd0",
    "up to date": "#7bc47f",
    "input": "#eef0f2",
}

STYLESHEET: list[dict[str, Any]] = [
    {
        "selector": "node",
        "style": {
            "label": "data(label)",
            "shape": "round-rectangle",
            "width": "data(width)",
            "height": 48,
            "font-size": 11,
            "text-wrap": "wrap",
            "text-overflow-wrap": "anywhere",  # paths have no spaces to wrap at
            "text-max-width": "data(width)",
            "text-valign": "center",
            "text-halign": "center",
            "border-width": 1,
            "border-color": "#445",
        },
    },
    {"selector": ".family", "style": {"border-width": 3, "border-style": "double"}},
    {"selector": ".more", "style": {"border-style": "dashed"}},
    {
        "selector": "edge",
        "style": {
            "curve-style": "bezier",
            "target-arrow-shape": "triangle",
            "width": 1.5,
            "line-color": "#99a",
            "target-arrow-color": "#99a",
        },
    },
    *(
        {"selector": f".{slug(state)}", "style": {"background-color": colour}}
        for state, colour in STATE_COLOURS.items()
    ),
]


def layout(monitor: Monitor, workers: int, task_id: str | None) -> html.Div:
    snapshot = monitor.snapshot()
    panel = task_panel(monitor, snapshot, task_id) if task_id else _panel_hint()
    controls = html.Div(
        [
            dcc.Dropdown(
                id="state-filter",
                options=[{"label": state, "value": state} for state in STATE_ORDER],
                multi=True,
                placeholder="Filter by state…",
            ),
            dcc.Input(
                id="name-filter",
                type="search",
                placeholder="Filter by name…",
                debounce=True,
                style={"width": "260px"},
            ),
            dcc.Checklist(
                id="preview",
                options=[{"label": " only what `run` would rebuild", "value": "rebuild"}],
                value=[],
            ),
            html.Label(["workers ", dcc.Input(id="workers", type="number", min=1, step=1, value=workers)]),
            html.Button("Check now", id="recheck"),
        ],
        className="controls",
    )
    graph = cyto.Cytoscape(
        id="graph",
        elements=[],
        layout={"name": "preset", "fit": True, "padding": 20},
        stylesheet=STYLESHEET,
        style={"width": "100%", "height": "560px"},
        minZoom=0.05,
        maxZoom=1.5,
    )
    return html.Div(
        [
            html.H2("Pipeline"),
            problems(snapshot.problems),
            controls,
            html.Div([graph, html.Aside(panel, id="panel", className="panel")], className="graph-and-panel"),
            # Below the graph: text that changes height above it would move the graph, and
            # cytoscape maps clicks with the position it last measured.
            html.Div(id="summary", className="summary"),
            html.H3("Not up to date"),
            html.Div(id="attention"),
            dcc.Store(id="expanded", data=[]),
            dcc.Interval(id="pipeline-tick", interval=REFRESH_MS),
        ]
    )


def _panel_hint() -> html.P:
    return html.P(
        "Click a task to see why it is in its state; click a family to expand it.", className="hint"
    )


def register_callbacks(app: dash.Dash, monitor: Monitor) -> None:
    @app.callback(
        Output("graph", "elements"),
        Output("summary", "children"),
        Output("attention", "children"),
        Input("state-filter", "value"),
        Input("name-filter", "value"),
        Input("preview", "value"),
        Input("workers", "value"),
        Input("recheck", "n_clicks"),
        Input("pipeline-tick", "n_intervals"),
        Input("expanded", "data"),
    )
    def update(
        states: list[str] | None,
        name: str | None,
        preview: list[str] | None,
        workers: int | None,
        _recheck: int | None,
        _tick: int | None,
        expanded: list[str] | None,
    ) -> tuple[Any, Any, Any]:
        snapshot = monitor.snapshot(fresh=dash.ctx.triggered_id == "recheck")
        visible = visibility(snapshot, states or [], (name or "").strip().lower(), bool(preview))
        view = graph_elements(snapshot.assessment, snapshot.shown, set(expanded or []), visible)
        return (
            view.elements,
            _summary(monitor, snapshot, workers or 1),
            _attention(monitor, snapshot, visible),
        )

    @app.callback(
        Output("expanded", "data"),
        Output("panel", "children"),
        Input("graph", "tapNodeData"),
        State("expanded", "data"),
        prevent_initial_call=True,
    )
    def tap(node: dict[str, Any] | None, expanded: list[str] | None) -> tuple[Any, Any]:
        expanded = list(expanded or [])
        if not node:
            return expanded, _panel_hint()
        snapshot = monitor.snapshot()
        if node.get("kind") == "task":
            return dash.no_update, task_panel(monitor, snapshot, node["task_id"])
        family = node["family"]
        if family not in expanded:
            expanded.append(family)
        elif node.get("kind") == "family":
            expanded.remove(family)
        return expanded, family_panel(monitor, snapshot, family)


def visibility(
    snapshot: Snapshot, states: list[str], name: str, rebuild_only: bool
) -> Callable[[str], bool] | None:
    """Which tasks the filters keep (None: all): by shown state, by a word of the task's name,
    and only those ``run`` would rebuild."""
    if not states and not name and not rebuild_only:
        return None
    wanted = set(states)
    to_run = {task.task_id for task in snapshot.assessment.plan().to_run} if rebuild_only else None
    tasks = snapshot.assessment.graph.tasks

    def visible(task_id: str) -> bool:
        if wanted and snapshot.shown[task_id].state not in wanted:
            return False
        if to_run is not None and task_id not in to_run:
            return False
        if name:
            task = tasks[task_id]
            return name in task.get_task_family().lower() or name in describe(task).lower()
        return True

    return visible


def _summary(monitor: Monitor, snapshot: Snapshot, workers: int) -> list[Any]:
    """What ``status`` ends with, what the runs add to it, and how long a rebuild would take."""
    lines: list[Any] = [html.P(line) for line in footer_lines(snapshot.assessment)]
    overlay = {state: n for state, n in counts(snapshot.shown).items() if state in (RUNNING, FAILED, BLOCKED)}
    if overlay:
        lines.append(html.P("from the runs: " + ", ".join(f"{n:,} {state}" for state, n in overlay.items())))
    eta = monitor.estimate(snapshot, workers)
    if eta is not None:
        lines.append(html.P(f"rebuilding {eta.tasks:,} tasks: {eta.text()}", id="estimate"))
    checked = time.strftime("%H:%M:%S", time.localtime(snapshot.checked))
    lines.append(html.P(f"checked at {checked}", className="checked"))
    return lines


def _attention(monitor: Monitor, snapshot: Snapshot, visible: Callable[[str], bool] | None) -> Any:
    rows = [row for row in monitor.status_rows(snapshot) if visible is None or visible(row["id"])]
    if not rows:
        return html.P("Every task shown is up to date.", id="all-up-to-date")
    order = {state: rank for rank, state in enumerate(STATE_ORDER)}
    rows.sort(key=lambda row: (order.get(row["state"], len(order)), row["name"]))
    body = [
        html.Tr(
            [
                html.Td(dcc.Link(row["name"], href=task_href(row["id"]))),
                html.Td(state_badge(row["state"])),
                html.Td(row["reason"] or ""),
            ],
            **{"data-task": row["id"]},
        )
        for row in rows[:TABLE_MOST]
    ]
    found = html.Table(
        [html.Thead(html.Tr([html.Th("Task"), html.Th("State"), html.Th("Root cause")])), html.Tbody(body)],
        id="attention-table",
    )
    more = len(rows) - TABLE_MOST
    return [found, html.P(f"{more:,} more; filter by state or name to see them.")] if more > 0 else found


def task_panel(monitor: Monitor, snapshot: Snapshot, task_id: str) -> list[Any]:
    detail = monitor.task_detail(snapshot, task_id)
    if detail is None:
        return [html.P(f"No task {task_id} in this pipeline.")]
    outputs = [(out["url"], size_text(out["size"]), out["fingerprint"] or "") for out in detail["outputs"]]
    parts: list[Any] = [
        html.H3(detail["name"], id="panel-title"),
        html.P([state_badge(detail["state"]), " ", detail["reason"] or ""]),
        html.Pre(detail["explain"], id="panel-explain"),
        html.H4("Outputs"),
        table(["URL", "size", "fingerprint"], outputs),
    ]
    built = detail["built"]
    if built:
        parts.append(
            html.P(f"built {built['finished']} on {built['host']} by {built['user']} in {built['seconds']}s")
        )
    if detail["runs"]:
        runs = [
            (
                run_link(entry["run"]),
                entry["started"] or "",
                "" if entry["seconds"] is None else f"{entry['seconds']}s",
                entry["outcome"] + (f": {entry['error']}" if entry["error"] else ""),
            )
            for entry in detail["runs"]
        ]
        parts += [html.H4("Last runs"), table(["run", "started", "took", "outcome"], runs)]
    if detail["log"]:
        parts += [
            html.H4(f"Log ({detail['log_url']})"),
            html.Pre(detail["log"], id="panel-log", className="log"),
        ]
    return parts


def family_panel(monitor: Monitor, snapshot: Snapshot, family: str) -> list[Any]:
    rows = [row for row in monitor.status_rows(snapshot, include_all=True) if row["family"] == family]
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    attention = [row for row in rows if row["state"] in NEEDS_ATTENTION][:FAMILY_PANEL_MOST]
    links = [
        html.Li(dcc.Link(f"{row['name']}: {row['state']}", href=task_href(row["id"]))) for row in attention
    ]
    return [
        html.H3(family, id="panel-title"),
        html.P(", ".join(f"{n:,} {state}" for state, n in states.items())),
        html.Ul(links),
    ]
