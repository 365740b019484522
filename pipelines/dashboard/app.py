"""The dashboard's pages, each at a URL of its own:

- ``/``: the task graph coloured by state (pipeline_page.py);
- ``/runs`` and ``/runs/RUN``: recent runs, one run as a Gantt chart (run_pages.py);
- ``/live``: the run in progress, refreshed every second (run_pages.py);
- ``/trends``: build time per task family across runs, failures per day (run_pages.py);
- ``/api/...``: the same as JSON (api.py).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import dash
from dash import Input, Output, dcc, html

from pipelines.dashboard import pipeline_page, run_pages
from pipelines.dashboard.api import register_api
from pipelines.dashboard.monitor import Monitor


def create_app(monitor: Monitor, workers: int = 1) -> dash.Dash:
    app = dash.Dash(
        __name__,
        title=f"dashpipe · {monitor.title}",
        update_title="",
        suppress_callback_exceptions=True,  # each page's components exist only while it is shown
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            html.Header(
                [
                    html.Strong("dashpipe", className="brand"),
                    html.Span(monitor.title, className="pipeline-name"),
                    html.Nav(
                        [
                            dcc.Link("Pipeline", href="/"),
                            dcc.Link("Runs", href="/runs"),
                            dcc.Link("Live", href="/live"),
                            dcc.Link("Trends", href="/trends"),
                        ]
                    ),
                ]
            ),
            html.Main(id="page"),
        ]
    )
    register_api(app.server, monitor)
    pipeline_page.register_callbacks(app, monitor)
    run_pages.register_callbacks(app, monitor)

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def route(path: str | None, search: str | None) -> Any:
        path = (path or "/").rstrip("/") or "/"
        query = urllib.parse.parse_qs((search or "").lstrip("?"))
        if path == "/":
            return pipeline_page.layout(monitor, workers, query.get("task", [""])[0] or None)
        if path == "/runs":
            return run_pages.runs_page(monitor)
        if path.startswith("/runs/"):
            return run_pages.run_page(monitor, urllib.parse.unquote(path.removeprefix("/runs/")))
        if path == "/live":
            return run_pages.live_page()
        if path == "/trends":
            return run_pages.trends_page(monitor)
        return html.Div([html.H2("Not found"), html.P(f"No page at {path}.")])

    return app
