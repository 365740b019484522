"""How a run looks on the terminal."""

from __future__ import annotations

import click

from pipelines.outcome import Outcome, RunReport, TaskReport

_STYLE = {
    Outcome.RAN: ("ran", "green"),
    Outcome.UP_TO_DATE: ("up to date", None),
    Outcome.FAILED: ("FAILED", "red"),
    Outcome.ERROR: ("ERROR", "red"),
    Outcome.MISSING_INPUT: ("MISSING", "yellow"),
    Outcome.NOT_RUN: ("not run", "yellow"),
}


def _line(report: TaskReport) -> str:
    label, colour = _STYLE[report.outcome]
    seconds = f"  {report.seconds:.2f}s" if report.seconds is not None else ""
    error = f": {report.error}" if report.error else ""
    return click.style(f"{label:>10}", fg=colour) + f"  {report.name}{seconds}{error}"


def print_progress(report: TaskReport) -> None:
    """One line as each task finishes running."""
    click.echo(_line(report))


def print_report(report: RunReport, verbose: int = 0) -> None:
    """The tasks that did not run successfully, then a one-line summary."""
    for task in report.tasks:
        if task.outcome in (Outcome.ERROR, Outcome.MISSING_INPUT, Outcome.NOT_RUN):
            click.echo(_line(task), err=True)
        if verbose and task.task.task_id in report.details and task.outcome.is_problem:
            click.echo(report.details[task.task.task_id], err=True)
    counts = [f"{report.count(outcome)} {outcome.value}" for outcome in Outcome if report.count(outcome)]
    total = len(report.tasks)
    summary = f"{total} task{'s' if total != 1 else ''}: " + ", ".join(counts)
    if report.ran_nothing:
        summary += " — nothing to do"
    click.echo(summary)
