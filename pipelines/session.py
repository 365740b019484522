"""One run, one place: what ``dashpipe run`` does with its goals, for the CLI and for Python.

A run assesses the goals (what is stale and why), then either stops at the plan (a dry run) or
hands the goals to luigi through the recording worker, and when that is over notifies, reports
failures to Sentry and calls the run hooks. ``dashpipe run`` and ``backfill`` go through
:class:`RunSession` step by step, printing between the steps; :func:`run` is the same sequence
for a Python caller::

    import pipelines
    report = pipelines.run([SalesReport(date=day)], workers=2)
    assessment = pipelines.assess([SalesReport(date=day)])  # what would rebuild, and why

May import every layer below it; only ``pipelines.cli`` and the package's public names import it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import luigi

from pipelines.assessment import staleness
from pipelines.assessment.graph import Plan, plan
from pipelines.assessment.staleness import Assessment, Policy, State, Verdict
from pipelines.common import hooks
from pipelines.common.task_names import check_names
from pipelines.errors import ExitCode, PipelineError
from pipelines.execute import luigi_internals
from pipelines.execute.estimate import Estimate, estimate_rebuild
from pipelines.execute.outcome import Observers, RunObserver, RunReport
from pipelines.execute.run_history import JournalReader
from pipelines.execute.run_journal import RunJournal, journal_locations
from pipelines.execute.runner import run_tasks
from pipelines.execute.scheduler_client import configured_scheduler_url
from pipelines.execute.task_logs import new_run_id
from pipelines.report.run_end import finish_run
from targets.errors import DashPipelineError

logger = logging.getLogger("dashpipe")
# Past runs whose journals a time estimate reads: enough for every family's recent durations.
ESTIMATE_FROM_RUNS = 30

__all__ = ["RunOptions", "RunSession", "assess", "run"]


@dataclass(frozen=True)
class RunOptions:
    """How to run: the options ``dashpipe run`` takes, by the same names."""

    workers: int = 1
    keep_going: bool = False
    scheduler_url: str | None = None  # None: [core] default-scheduler-url of luigi.cfg, else embedded
    policy: Policy = field(default_factory=Policy)
    existence_only: bool = False  # plain luigi: done when the outputs exist, no build records read
    title: str = "python"  # names the run in notifications and hooks: the PIPELINE argument


class RunSession:
    """One run of ``goals``: assess, then plan or execute, then finish."""

    def __init__(self, goals: Iterable[luigi.Task], options: RunOptions | None = None) -> None:
        luigi_internals.install()  # what a run needs from luigi that plain luigi lacks (see there)
        self.goals = list(goals)
        self.options = options or RunOptions()
        policy = self.options.policy
        if self.options.existence_only and (policy.force_all or policy.force or policy.unrecorded_is_stale):
            raise PipelineError(
                "--existence-only checks existence only: it cannot be combined with -B, --force "
                "or --rebuild-unrecorded"
            )
        self.assessment: Assessment | None = None
        self.checking_seconds = 0.0

    def assess(self) -> Assessment | None:
        """Decide what is stale (nothing, with ``existence_only``); a --force name must pick a task."""
        began = time.monotonic()
        if not self.options.existence_only:
            self.assessment = staleness.assess(self.goals, self.options.policy)
            families = (verdict.task.get_task_family() for verdict in self.assessment.verdicts.values())
            check_names(self.options.policy.force, families, "--force")
        self.checking_seconds = time.monotonic() - began
        return self.assessment

    def plan(self) -> Plan:
        """What the run would do, in order, without doing it."""
        return self.assessment.plan() if self.assessment else plan(self.goals)

    def reasons(self) -> dict[str, str]:
        """Each task's one root cause, by task id (none without an assessment)."""
        if self.assessment is None:
            return {}
        return {task_id: verdict.reason for task_id, verdict in self.assessment.verdicts.items()}

    def estimate(self) -> Estimate | None:
        """How long rebuilding what is stale will take, from past runs' journals (execute/estimate.py)."""
        if self.assessment is None or not self.assessment.rebuild_ids():
            return None
        try:
            runs = JournalReader(journal_locations(self.goals), newest=ESTIMATE_FROM_RUNS).runs()
        except DashPipelineError as exc:
            logger.warning("no time estimate: %s", exc)
            runs = []
        return estimate_rebuild(self.assessment, runs, self.options.workers)

    def announced(self) -> list[Verdict]:
        """The rebuilds worth saying before the run: stale or forced, not merely missing."""
        if self.assessment is None:
            return []
        return [v for v in self.assessment.verdicts.values() if v.rebuilds and v.state is not State.MISSING]

    def problems_before(self) -> list[str]:
        """Configuration found wrong now rather than when a failed run needs it (hooks)."""
        return hooks.configured_problems()

    def execute(self, observer: RunObserver | None = None) -> RunReport:
        """Run the goals; the run's journal (execute/run_journal.py) records it as it goes."""
        run_id = new_run_id()
        scheduler_url = self.options.scheduler_url or configured_scheduler_url()
        journal = RunJournal.open(self.goals, run_id)
        if journal is not None:
            journal.begin(
                self.options.title,
                self.goals,
                self.options.workers,
                scheduler_url,
                edges=self.assessment.graph.edges if self.assessment else None,
                to_run=self.assessment.plan().to_run if self.assessment else (),
            )
        try:
            report = run_tasks(
                self.goals,
                workers=self.options.workers,
                observer=Observers(observer, journal),
                keep_going=self.options.keep_going,
                scheduler_url=scheduler_url,
                assessment=self.assessment,
                run_id=run_id,
            )
        except BaseException as exc:
            if journal is not None:
                journal.end(None, _exit_code_of(exc))
            raise
        report.seconds = {"checking": self.checking_seconds, **report.seconds}
        if journal is not None:
            journal.end(report, report.exit_code)
            if journal.problem:
                report.warnings.append(journal.problem)
        return report

    def finish(self, report: RunReport) -> list[str]:
        """Notify, report failures and call the run hooks; the warnings to show. Never changes the outcome."""
        return finish_run(report, self.options.title, self.goals)


def _exit_code_of(exc: BaseException) -> int:
    """The exit code ``dashpipe`` ends with when a run raises ``exc``, as its journal records it."""
    if isinstance(exc, KeyboardInterrupt):
        return 130
    return int(getattr(exc, "exit_code", ExitCode.INTERNAL_ERROR))


def assess(goals: Iterable[luigi.Task], policy: Policy | None = None) -> Assessment:
    """What would rebuild, and why, as ``dashpipe status`` judges it; reads, never writes.

    Like a run, it installs the luigi replacements (luigi_internals): with thousands of tasks,
    luigi's own parameter lookup would take most of the time.
    """
    luigi_internals.install()
    return staleness.assess(list(goals), policy)


def run(
    goals: Iterable[luigi.Task],
    *,
    workers: int = 1,
    keep_going: bool = False,
    scheduler_url: str | None = None,
    policy: Policy | None = None,
    existence_only: bool = False,
    title: str = "python",
    observer: RunObserver | None = None,
) -> RunReport:
    """Build ``goals`` as ``dashpipe run`` does: stale tasks rebuild, records are written, and the
    run's notification, Sentry report and hooks follow. Never raises for a task's failure: the
    report says what happened (``report.exit_code``). Warnings go to the ``dashpipe`` logger."""
    options = RunOptions(workers, keep_going, scheduler_url, policy or Policy(), existence_only, title)
    session = RunSession(goals, options)
    session.assess()
    for problem in session.problems_before():
        logger.warning("%s", problem)
    report = session.execute(observer)
    for warning in session.finish(report):
        logger.warning("%s", warning)
    return report
