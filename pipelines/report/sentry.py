"""Failed tasks reported to Sentry when ``SENTRY_DSN`` is set; off otherwise.

One event per failed task, sent by the process that ran the run (so it works for
tasks run in worker processes too), tagged with the run id, the task family and
the pipeline, with the error text and the task's log file as context.
Install with ``pip install 'dash-pipeline[sentry]'``.
"""

from __future__ import annotations

import logging
import os

from pipelines.common.describe import describe
from pipelines.execute.outcome import RunReport

logger = logging.getLogger("dashpipe")


def report_failures(report: RunReport, title: str) -> str | None:
    """Send the run's failures to Sentry if configured; returns a warning to show, or None.

    The SDK drops events it cannot deliver without raising, so an unreachable Sentry costs at
    most the flush timeout and no warning.
    """
    dsn = os.environ.get("SENTRY_DSN", "").strip()
    failed = report.failures
    if not dsn or not failed:
        return None
    try:
        import sentry_sdk
    except ImportError:
        return "SENTRY_DSN is set but sentry-sdk is not installed: pip install 'dash-pipeline[sentry]'"
    try:
        # Only what is sent below: no automatic integrations (logging, threads, atexit).
        sentry_sdk.init(dsn=dsn, default_integrations=False, send_default_pii=False)
        for task in failed:
            with sentry_sdk.new_scope() as scope:
                scope.set_tag("run_id", report.run_id or "-")
                scope.set_tag("pipeline", title)
                scope.set_tag("task_family", task.task.get_task_family())
                scope.set_context(
                    "task",
                    {
                        "name": describe(task.task),
                        "error": report.details.get(task.task.task_id, task.error or ""),
                        "log": task.log,
                    },
                )
                scope.fingerprint = ["dashpipe", task.task.get_task_family(), task.error or ""]
                sentry_sdk.capture_message(f"{describe(task.task)}: {task.error}", level="error")
        sentry_sdk.flush(timeout=10)
    except Exception as exc:  # reporting must never change the outcome of the run
        return f"error reporting to Sentry failed: {type(exc).__name__}: {exc}"
    return None
