"""What happens once a run is over: its notification, its failures sent to Sentry, its run hooks."""

from __future__ import annotations

from collections.abc import Iterable

import luigi

from pipelines.common import hooks
from pipelines.errors import ExitCode
from pipelines.execute.outcome import RunReport
from pipelines.report.notify import notify, summary_text
from pipelines.report.sentry import report_failures
from pipelines.report.summary import report_dict


def finish_run(report: RunReport, title: str, goals: Iterable[luigi.Task]) -> list[str]:
    """Notify, report failures and call the run's hooks; returns the warnings to show: the run's
    own (a record or journal not written) and those of these steps.

    None of these can change the outcome of the run.
    """
    run_id = report.run_id or "-"
    warnings = [*report.warnings, *notify(report, run_id, title), report_failures(report, title)]
    call_run_hooks(report, title, goals)
    return [warning for warning in warnings if warning]


def call_run_hooks(report: RunReport, title: str, goals: Iterable[luigi.Task]) -> None:
    """``on_success`` or ``on_failure`` once for the run: the goals' pipelines' hooks, then luigi.cfg's."""
    event = "on_success" if report.exit_code == ExitCode.OK else "on_failure"
    references: list[str] = []
    for goal in goals:
        # A YAML step's pipeline declares run hooks; a goal from the same pipeline adds none again.
        references += [ref for ref in getattr(goal, "run_hooks", {}).get(event, ()) if ref not in references]
    references += [ref for ref in hooks.configured(event) if ref not in references]
    if references:
        offered = {
            "summary": {**report_dict(report), "pipeline": title},
            "text": summary_text(report, report.run_id or "-", title),
        }
        hooks.call(references, event, f"run {report.run_id or '-'} of {title}", offered)
