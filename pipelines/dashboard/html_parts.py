"""Small pieces every page uses: tables, state badges, times and sizes as people read them."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

from dash import dcc, html

from pipelines.dashboard.task_states import slug
from pipelines.execute.run_history import Run


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], **attributes: Any) -> html.Table:
    """A table with a header row; each row a sequence of cells (text or components)."""
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(header) for header in headers])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        **attributes,
    )


def state_badge(state: str) -> html.Span:
    return html.Span(state, className=f"state {slug(state)}")


def task_href(task_id: str) -> str:
    return f"/?task={urllib.parse.quote(task_id)}"


def run_link(run_id: str) -> dcc.Link:
    return dcc.Link(run_id, href=f"/runs/{urllib.parse.quote(run_id)}")


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else ""


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def progress_text(run: Run) -> str:
    """What a run did, in counts: "3 done, 1 failed"."""
    progress = run.progress()
    words = [f"{progress[key]:,} {key}" for key in ("done", "failed", "skipped", "running") if progress[key]]
    return ", ".join(words) or "nothing to do"


def problems(found: list[str]) -> html.Div | None:
    return html.Div([html.P(problem) for problem in found], className="problems") if found else None
