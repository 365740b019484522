"""How runs, plans, graphs and pipelines look on the terminal, and as JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import luigi

from pipelines.assessment.graph import Plan, outputs_of
from pipelines.assessment.records import public_params
from pipelines.common.describe import describe
from pipelines.common.error_text import error_excerpt
from pipelines.common.plural import counted
from pipelines.execute.estimate import Estimate
from pipelines.execute.outcome import Outcome, RunObserver, RunReport, TaskReport
from targets.storage import redact

_STYLE = {
    Outcome.RAN: ("ran", "green"),
    Outcome.UP_TO_DATE: ("up to date", None),
    Outcome.FAILED: ("FAILED", "red"),
    Outcome.ERROR: ("ERROR", "red"),
    Outcome.MISSING_INPUT: ("MISSING", "yellow"),
    Outcome.NOT_RUN: ("not run", "yellow"),
}


def task_line(report: TaskReport) -> str:
    """One line: the outcome, the task, its run time and its error in short."""
    label, colour = _STYLE[report.outcome]
    seconds = f"  {report.seconds:.2f}s" if report.seconds is not None else ""
    error = (f": {report.error}" if report.error else "") + blockers(report.blocked_by)
    return click.style(f"{label:>10}", fg=colour) + f"  {report.name}{seconds}{error}"


def blockers(names: list[str], shown: int = 3) -> str:
    """`` (a, b, c and 4 more)``: the failures upstream that kept a task from running."""
    if not names:
        return ""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f" ({', '.join(names[:shown])}{more})"


def failure_lines(report: TaskReport, details: str | None) -> list[str]:
    """A failed task's error, first lines, where it was raised, and where its full log is."""
    lines = error_excerpt(details) if details else [report.error or "unknown error"]
    return lines + ([f"full log: {report.log}"] if report.log else [])


def failure_block(report: TaskReport, details: str | None) -> list[str]:
    """A failed task for the end of the run: its name and time, then its :func:`failure_lines`."""
    label, colour = _STYLE[report.outcome]
    seconds = f" after {report.seconds:.2f}s" if report.seconds is not None else ""
    heading = click.style(f"{label:>10}", fg=colour) + f"  {report.name}{seconds}"
    return [heading, *(f"{'':>12}{line}" for line in failure_lines(report, details))]


def fallback_note(report: TaskReport) -> str:
    """Which URL stood in for a missing input."""
    primary = getattr(report.task, "url", None)
    missing = redact(primary) if isinstance(primary, str) else report.name
    return f"{missing} is missing; read {report.fallback} instead"


def timing_line(report: RunReport, slowest: int = 3) -> str:
    """How long the run took, part by part, and which tasks took longest."""
    parts = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in report.seconds.items())
    timed = sorted((task for task in report.tasks if task.seconds), key=lambda task: -(task.seconds or 0))
    line = f"took {sum(report.seconds.values()):.2f}s: {parts}"
    if timed:
        line += "; slowest: " + ", ".join(f"{task.name} {task.seconds:.2f}s" for task in timed[:slowest])
    return line


class LineDisplay(RunObserver):
    """Plain lines, one per finished task: for logs and pipes."""

    def finished(self, report: TaskReport) -> None:
        click.echo(task_line(report))

    def not_loaded(self, task_id: str, reason: str) -> None:
        label, colour = _STYLE[Outcome.FAILED]
        click.echo(click.style(f"{label:>10}", fg=colour) + f"  {task_id}: {reason}")

    def close(self) -> None:
        pass


class LiveDisplay(LineDisplay):
    """On a terminal: the finished-task lines, and below them a progress line redrawn in place."""

    def __init__(self) -> None:
        self.total = self.done = self.running = self.failed = 0

    def _draw(self) -> None:
        status = f"{self.done}/{self.total} done, {self.running} running, {self.failed} failed"
        click.echo(f"\r\x1b[K{status}", nl=False, err=True)

    def _clear(self) -> None:
        click.echo("\r\x1b[K", nl=False, err=True)

    def scheduled(self, pending: int) -> None:
        self.total = pending
        self._draw()

    def started(self, task: luigi.Task) -> None:
        self.running += 1
        self._draw()

    def finished(self, report: TaskReport) -> None:
        self.running = max(0, self.running - 1)
        self.done += report.outcome is Outcome.RAN
        self.failed += report.outcome is Outcome.FAILED
        self._clear()
        super().finished(report)
        self._draw()

    def close(self) -> None:
        self._clear()


def display(json_output: bool) -> LineDisplay | RunObserver:
    if json_output:
        return RunObserver()
    return LiveDisplay() if sys.stderr.isatty() else LineDisplay()


def summary_line(report: RunReport) -> str:
    counts = [f"{report.count(outcome)} {outcome.value}" for outcome in Outcome if report.count(outcome)]
    total = len(report.tasks)
    line = f"{counted(total, 'task')}: " + ", ".join(counts)
    return line + (" — nothing to do" if report.ran_nothing else "")


ELSEWHERE = "built by another worker"
NOT_RUN_SHOWN = 50  # a blocked backfill or chain would otherwise bury the failure under thousands of lines


def print_report(report: RunReport, verbose: int = 0) -> None:
    """After the run: what failed and why, what did not run and because of what, which
    fallbacks stood in for missing inputs, how long each part took, then a one-line summary."""
    not_run = 0
    for task in report.tasks:
        if task.outcome is Outcome.NOT_RUN:
            not_run += 1
            if not_run <= NOT_RUN_SHOWN or verbose:
                click.echo(task_line(task), err=True)
        elif task.outcome is Outcome.MISSING_INPUT:
            click.echo(task_line(task), err=True)
        elif task.outcome is Outcome.UP_TO_DATE and task.error == ELSEWHERE and task.seconds is None:
            # One never handed to this worker; those it was handed had their line as they finished.
            click.echo(task_line(task))
    if not_run > NOT_RUN_SHOWN and not verbose:
        hidden = not_run - NOT_RUN_SHOWN
        click.echo(f"{'':>10}  ... and {hidden} more not run (-v lists them all, --json too)", err=True)
    for task in report.failures:
        details = report.details.get(task.task.task_id)
        click.echo("\n".join(failure_block(task, details)), err=True)
        if verbose and details:
            click.echo(details, err=True)
    for task in report.tasks:
        if task.fallback:
            click.echo(f"{'fallback':>10}  {fallback_note(task)}")
    if report.seconds and not report.ran_nothing:
        click.echo(timing_line(report))
    click.echo(summary_line(report))


def task_json(task: luigi.Task) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "name": describe(task),
        "family": task.get_task_family(),
        "params": public_params(task),
    }


def report_dict(report: RunReport) -> dict[str, Any]:
    """The run's report as plain data: what ``--json`` prints and run hooks receive."""
    return {
        "exit_code": int(report.exit_code),
        "run_id": report.run_id,
        "summary": {outcome.value: report.count(outcome) for outcome in Outcome},
        "seconds": {part: round(seconds, 3) for part, seconds in report.seconds.items()},
        "tasks": [
            {
                **task_json(task.task),
                "outcome": task.outcome.value,
                "seconds": task.seconds,
                "error": task.error,
                "log": task.log,
                **(
                    {"error_lines": error_excerpt(report.details[task.task.task_id])}
                    if task.outcome.is_problem and task.task.task_id in report.details
                    else {}
                ),
                **({"blocked_by": task.blocked_by} if task.blocked_by else {}),
                **({"fallback": task.fallback} if task.fallback else {}),
            }
            for task in report.tasks
        ],
    }


def report_json(report: RunReport) -> str:
    return json.dumps(report_dict(report), indent=2)


def print_plan(plan: Plan, reasons: dict[str, str] | None = None, eta: Estimate | None = None) -> None:
    reasons = reasons or {}
    if plan.to_run:
        click.echo(f"would run, in order ({len(plan.to_run)}):")
        for task in plan.to_run:
            why = reasons.get(task.task_id)
            click.echo(f"  {describe(task)}" + (f"  — {why}" if why else ""))
        if eta is not None and eta.known:  # with no past runs to go by there is nothing to say
            click.echo(eta.text())
    for task in plan.missing_inputs:
        click.echo(
            task_line(TaskReport(task, Outcome.MISSING_INPUT, "not found: " + ", ".join(outputs_of(task)))),
            err=True,
        )
    for task in plan.blocked:
        click.echo(task_line(TaskReport(task, Outcome.NOT_RUN, "an input it needs is missing")), err=True)
    if not plan.to_run and not plan.missing_inputs and not plan.blocked:
        click.echo("nothing to do: everything is up to date")


def plan_json(plan: Plan, reasons: dict[str, str] | None = None, eta: Estimate | None = None) -> str:
    reasons = reasons or {}
    return json.dumps(
        {
            "would_run": [
                {**task_json(task), "reason": reasons.get(task.task_id) or None} for task in plan.to_run
            ],
            "missing_inputs": [
                {**task_json(task), "outputs": outputs_of(task)} for task in plan.missing_inputs
            ],
            "blocked": [task_json(task) for task in plan.blocked],
            "up_to_date": [task_json(task) for task in plan.up_to_date],
            "estimate": eta.as_dict() if eta is not None else None,
        },
        indent=2,
    )
