"""One notification per run: the summary, to a webhook (JSON, Slack-compatible) and/or by email.

Configured in luigi.cfg::

    [notify]
    webhook = ${TEAM_WEBHOOK_URL}   # the URL often holds a token: keep it in the environment
    email_to = data-oncall@example.com, lead@example.com
    email_from = dashpipe@example.com          # default: dashpipe@HOSTNAME
    smtp_host = smtp.example.com               # default localhost
    smtp_port = 587                            # default 25
    smtp_starttls = true                       # default false
    smtp_user = ${SMTP_USER}                   # both optional
    smtp_password = ${SMTP_PASSWORD}
    when = failure                  # failure (default), always, or never
    timeout = 10

A notifier that is down, slow or refusing is reported as a warning and never
changes the outcome of the run.
"""

from __future__ import annotations

import email.message
import json
import smtplib
import socket
import urllib.error
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import luigi.configuration

from pipelines.common.describe import describe
from pipelines.common.error_text import error_excerpt
from pipelines.errors import ExitCode
from pipelines.execute.outcome import Outcome, RunReport
from pipelines.report.summary import blockers, failure_lines, fallback_note
from targets.storage import redact_text

WHEN = ("failure", "always", "never")
LISTED_PER_OUTCOME = 20  # a message stays readable when a whole backfill is blocked


def settings() -> dict[str, Any] | None:
    config = luigi.configuration.get_config()
    if not config.has_section("notify"):
        return None
    webhook = config.get("notify", "webhook", "").strip()
    recipients = [a.strip() for a in config.get("notify", "email_to", "").split(",") if a.strip()]
    if not webhook and not recipients:
        return None
    when = config.get("notify", "when", "failure")
    return {
        "webhook": webhook,
        "email_to": recipients,
        "email_from": config.get("notify", "email_from", f"dashpipe@{socket.gethostname()}"),
        "smtp_host": config.get("notify", "smtp_host", "localhost"),
        "smtp_port": config.getint("notify", "smtp_port", 25),
        "smtp_starttls": config.getboolean("notify", "smtp_starttls", False),
        "smtp_user": config.get("notify", "smtp_user", ""),
        "smtp_password": config.get("notify", "smtp_password", ""),
        "when": when if when in WHEN else "failure",
        "timeout": float(config.get("notify", "timeout", "10")),
    }


def summary_text(report: RunReport, run_id: str, title: str) -> str:
    verdict = "succeeded" if report.exit_code == ExitCode.OK else "FAILED"
    lines = [f"dashpipe run {run_id} of {title} {verdict} (exit {int(report.exit_code)})"]
    counts = [f"{report.count(outcome)} {outcome.value}" for outcome in Outcome if report.count(outcome)]
    took = f" in {sum(report.seconds.values()):.2f}s" if report.seconds else ""
    lines.append(", ".join(counts) + took)
    listed: Counter[str] = Counter()
    for task in report.tasks:
        kind = "fallback" if task.fallback and not task.outcome.is_problem else task.outcome.value
        listed[kind] += 1
        if listed[kind] > LISTED_PER_OUTCOME:
            continue
        name = describe(task.task)
        if task.outcome.is_failure:
            lines.append(f"• {task.outcome.value}: {name}")
            details = report.details.get(task.task.task_id)
            lines += [f"    {line}" for line in failure_lines(task, details)]
        elif task.outcome is Outcome.MISSING_INPUT:
            lines.append(f"• missing input: {name}: {task.error or ''}".rstrip(": "))
        elif task.outcome is Outcome.NOT_RUN:
            lines.append(f"• not run: {name}: {task.error or ''}{blockers(task.blocked_by)}")
        elif task.fallback:
            lines.append(f"• fallback: {fallback_note(task)}")
    shown_kinds = {outcome.value for outcome in Outcome if outcome.is_problem} | {"fallback"}
    for kind, count in listed.items():
        if count > LISTED_PER_OUTCOME and kind in shown_kinds:
            lines.append(f"• and {count - LISTED_PER_OUTCOME} more {kind}")
    # A command's error output may quote a URL it failed on, password and all.
    return redact_text("\n".join(lines))


def notify(report: RunReport, run_id: str, title: str) -> list[str]:
    """Send the run's summary where configured to; returns the warnings to show."""
    configured = settings()
    if configured is None or configured["when"] == "never":
        return []
    if configured["when"] == "failure" and report.exit_code == ExitCode.OK:
        return []
    text = summary_text(report, run_id, title)
    warnings = []
    if configured["webhook"]:
        warnings.append(_post(configured, webhook_payload(report, run_id, title, text)))
    if configured["email_to"]:
        warnings.append(_mail(configured, report, title, text))
    return [warning for warning in warnings if warning]


def failure_json(report: RunReport) -> list[dict[str, Any]]:
    """The failed tasks the text lists, as data: a receiver should not have to parse the text."""
    listed: Counter[Outcome] = Counter()
    failures = []
    for task in report.failures:
        listed[task.outcome] += 1
        if listed[task.outcome] > LISTED_PER_OUTCOME:
            continue
        details = report.details.get(task.task.task_id)
        lines = error_excerpt(details) if details else [task.error or "unknown error"]
        failures.append(
            {
                "name": task.name,
                "family": task.task.get_task_family(),
                "outcome": task.outcome.value,
                "error": redact_text(task.error or lines[0]),
                "error_lines": [redact_text(line) for line in lines],
                "log": redact_text(task.log) if task.log else None,
            }
        )
    return failures


def webhook_payload(report: RunReport, run_id: str, title: str, text: str) -> dict[str, Any]:
    """What the webhook receives: ``text`` for Slack and the like, the same facts as data beside it."""
    return {
        "text": text,  # what Slack and compatible webhooks display
        "run": {
            "id": run_id,
            "pipeline": title,
            "outcome": "succeeded" if report.exit_code == ExitCode.OK else "failed",
            "exit_code": int(report.exit_code),
            "summary": {outcome.value: report.count(outcome) for outcome in Outcome},
            "seconds": round(sum(report.seconds.values()), 3),
        },
        "failures": failure_json(report),
    }


def _post(configured: dict[str, Any], payload: dict[str, Any]) -> str | None:
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


def _mail(configured: dict[str, Any], report: RunReport, title: str, text: str) -> str | None:
    message = email.message.EmailMessage()
    verdict = "succeeded" if report.exit_code == ExitCode.OK else "FAILED"
    message["Subject"] = f"[dashpipe] {title} {verdict}"
    message["From"] = configured["email_from"]
    message["To"] = ", ".join(configured["email_to"])
    message.set_content(text)
    server = f"{configured['smtp_host']}:{configured['smtp_port']}"
    try:
        with smtplib.SMTP(
            configured["smtp_host"], configured["smtp_port"], timeout=configured["timeout"]
        ) as smtp:
            if configured["smtp_starttls"]:
                smtp.starttls()
            if configured["smtp_user"]:
                smtp.login(configured["smtp_user"], configured["smtp_password"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # The exception text may quote the server's reply but never the password.
        return f"email to SMTP server {server} failed: {type(exc).__name__}: {exc}"
    return None
