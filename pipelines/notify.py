"""One notification per run: the summary, to a webhook (JSON, Slack-compatible).

Configured in luigi.cfg::

    [notify]
    webhook = ${TEAM_WEBHOOK_URL}   # the URL often holds a token: keep it in the environment
    when = failure                  # failure (default), always, or never
    timeout = 10

A notifier that is down, slow or refusing is reported as a warning and never
changes the outcome of the run.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import luigi.configuration

from pipelines.describe import describe
from pipelines.outcome import ExitCode, Outcome, RunReport

WHEN = ("failure", "always", "never")


def settings() -> dict[str, Any] | None:
    config = luigi.configuration.get_config()
    if not config.has_section("notify") or not config.has_option("notify", "webhook"):
        return None
    when = config.get("notify", "when", "failure")
    return {
        "webhook": config.get("notify", "webhook"),
        "when": when if when in WHEN else "failure",
        "timeout": float(config.get("notify", "timeout", "10")),
    }


def summary_text(report: RunReport, run_id: str, title: str) -> str:
    verdict = "succeeded" if report.exit_code == ExitCode.OK else "FAILED"
    lines = [f"dashpipe run {run_id} of {title} {verdict} (exit {int(report.exit_code)})"]
    counts = [f"{report.count(outcome)} {outcome.value}" for outcome in Outcome if report.count(outcome)]
    lines.append(", ".join(counts))
    for task in report.tasks:
        if task.outcome in (Outcome.FAILED, Outcome.ERROR, Outcome.MISSING_INPUT):
            lines.append(f"• {task.outcome.value}: {describe(task.task)}: {task.error or ''}".rstrip(": "))
    return "\n".join(lines)


def notify(report: RunReport, run_id: str, title: str) -> str | None:
    """Send the run's summary if configured to; returns a warning to show, or None."""
    configured = settings()
    if configured is None or configured["when"] == "never":
        return None
    if configured["when"] == "failure" and report.exit_code == ExitCode.OK:
        return None
    text = summary_text(report, run_id, title)
    payload = {
        "text": text,  # what Slack and compatible webhooks display
        "run": {
            "id": run_id,
            "pipeline": title,
            "exit_code": int(report.exit_code),
            "summary": {outcome.value: report.count(outcome) for outcome in Outcome},
        },
    }
    request = urllib.request.Request(
        configured["webhook"],
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    target = urlsplit(configured["webhook"])
    shown = f"{target.scheme}://{target.hostname}{':' + str(target.port) if target.port else ''}"  # no token
    try:
        with urllib.request.urlopen(request, timeout=configured["timeout"]) as reply:
            reply.read()
    except urllib.error.HTTPError as exc:
        return f"notification to {shown} refused: HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"notification to {shown} failed: {type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return None
