"""How runs, plans, graphs and pipelines look on the terminal, and as JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import luigi

from pipelines.describe import describe
from pipelines.graph import Plan, outputs_of
from pipelines.outcome import Outcome, RunObserver, RunReport, TaskReport

_STYLE = {
    Outcome.RAN: ("ran", "green"),
    Outcome.UP_TO_DATE: ("up to date", None),
    Outcome.FAILED: ("FAILED", "red"),
    Outcome.ERROR: ("ERROR", "red"),
    Outcome.MISSING_INPUT: ("MISSING", "yellow"),
    Outcome.NOT_RUN: ("not run", "yellow"),
}


def task_line(report: TaskReport) -> str:
    label, colour = _STYLE[report.outcome]
    seconds = f"  {report.seconds:.2f}s" if report.seconds is not None else ""
    error = f": {report.error}" if report.error else ""
    log = f"\n{'':>10}  full log: {report.log}" if report.log else ""
    return click.style(f"{label:>10}", fg=colour) + f"  {report.name}{seconds}{error}{log}"


class LineDisplay(RunObserver):
    """Plain lines, one per finished task: for logs and pipes."""

    def finished(self, report: TaskReport) -> None:
        click.echo(task_line(report))

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
    line = f"{total} task{'s' if total != 1 else ''}: " + ", ".join(counts)
    return line + (" — nothing to do" if report.ran_nothing else "")


def print_report(report: RunReport, verbose: int = 0) -> None:
    """The tasks that did not run successfully, then a one-line summary."""
    for task in report.tasks:
        if task.outcome in (Outcome.ERROR, Outcome.MISSING_INPUT, Outcome.NOT_RUN):
            click.echo(task_line(task), err=True)
        elif task.outcome is Outcome.UP_TO_DATE and task.error == "built by another run":
            click.echo(task_line(task))
        if verbose and task.task.task_id in report.details and task.outcome.is_problem:
            click.echo(report.details[task.task.task_id], err=True)
    click.echo(summary_line(report))


def task_json(task: luigi.Task) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "name": describe(task),
        "family": task.get_task_family(),
        "params": task.to_str_params(only_significant=True, only_public=True),
    }


def report_json(report: RunReport) -> str:
    return json.dumps(
        {
            "exit_code": int(report.exit_code),
            "run_id": report.run_id,
            "summary": {outcome.value: report.count(outcome) for outcome in Outcome},
            "tasks": [
                {
                    **task_json(task.task),
                    "outcome": task.outcome.value,
                    "seconds": task.seconds,
                    "error": task.error,
                    "log": task.log,
                }
                for task in report.tasks
            ],
        },
        indent=2,
    )


def print_plan(plan: Plan, reasons: dict[str, str] | None = None) -> None:
    reasons = reasons or {}
    if plan.to_run:
        click.echo(f"would run, in order ({len(plan.to_run)}):")
        for task in plan.to_run:
            why = reasons.get(task.task_id)
            click.echo(f"  {describe(task)}" + (f"  — {why}" if why else ""))
    for task in plan.missing_inputs:
        click.echo(
            task_line(TaskReport(task, Outcome.MISSING_INPUT, "not found: " + ", ".join(outputs_of(task)))),
            err=True,
        )
    for task in plan.blocked:
        click.echo(task_line(TaskReport(task, Outcome.NOT_RUN, "an input it needs is missing")), err=True)
    if not plan.to_run and not plan.missing_inputs and not plan.blocked:
        click.echo("nothing to do: everything is up to date")


def plan_json(plan: Plan, reasons: dict[str, str] | None = None) -> str:
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
        },
        indent=2,
    )
