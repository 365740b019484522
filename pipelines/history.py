"""``dashpipe history``: recent task runs from the central scheduler's task history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipelines.errors import PipelineError

_QUERY = """
SELECT t.id, t.name, t.task_id, t.host, e.event_name, e.ts
FROM tasks t JOIN task_events e ON e.task_id = t.id
WHERE t.id IN (SELECT id FROM tasks {where} ORDER BY id DESC LIMIT :limit)
ORDER BY t.id DESC, e.ts
"""


def recent_runs(db_url: str, name_prefix: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The last ``limit`` task runs (newest first): outcome, start, duration, host and parameters."""
    try:
        import sqlalchemy
    except ImportError:
        raise PipelineError("task history needs SQLAlchemy: pip install sqlalchemy") from None
    try:
        engine = sqlalchemy.create_engine(db_url)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, ImportError, ValueError) as exc:
        # An unknown dialect, a driver not installed, a malformed URL: all the URL's fault.
        raise PipelineError(f"cannot use {_redacted(db_url)} as the task history database: {exc}") from None
    where = "WHERE name LIKE :prefix" if name_prefix else ""
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text(_QUERY.format(where=where)), {"limit": limit, "prefix": f"{name_prefix}%"}
            ).fetchall()
            ids = sorted({row[0] for row in rows})
            params = connection.execute(
                sqlalchemy.text(
                    "SELECT task_id, name, value FROM task_parameters WHERE task_id IN "
                    f"({', '.join(str(i) for i in ids) or 'NULL'})"
                )
            ).fetchall()
    except sqlalchemy.exc.OperationalError as exc:
        raise PipelineError(f"cannot read task history at {_redacted(db_url)}: {exc.orig}") from None
    finally:
        engine.dispose()
    runs: dict[int, dict[str, Any]] = {}
    for row_id, name, task_id, host, event, ts in rows:
        run = runs.setdefault(
            row_id,
            {
                "task": name,
                "task_id": task_id,
                "host": host,
                "params": {},
                "outcome": None,
                "started": None,
                "seconds": None,
            },
        )
        when = ts if isinstance(ts, dt.datetime) else dt.datetime.fromisoformat(str(ts))
        if event == "RUNNING":
            run["started"] = when
        elif event in ("DONE", "FAILED", "DISABLED"):
            run["outcome"] = event.lower()
            if run["started"] is not None:
                run["seconds"] = round((when - run["started"]).total_seconds(), 3)
        elif run["outcome"] is None:
            run["outcome"] = event.lower()
    for task_id, name, value in params:
        if task_id in runs:
            runs[task_id]["params"][name] = value
    ordered = [runs[key] for key in sorted(runs, reverse=True)]
    for run in ordered:
        run["started"] = run["started"].isoformat(timespec="seconds") if run["started"] else None
    return ordered


def _redacted(url: str) -> str:
    from targets.storage import redact

    return redact(url)
