"""Run luigi tasks, on the embedded scheduler or a central luigid, and report what happened to each task."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import luigi
import luigi.configuration
import luigi.execution_summary
import luigi.rpc
import luigi.scheduler
from luigi.task import flatten

from pipelines.assessment.graph import Graph, check_graph, is_external, missing_outputs
from pipelines.assessment.staleness import Assessment, State
from pipelines.common.describe import describe
from pipelines.common.error_text import decode_explanation, error_line
from pipelines.errors import ExitCode
from pipelines.execute import luigi_internals
from pipelines.execute.errors import SchedulerError
from pipelines.execute.outcome import Outcome, RunObserver, RunReport, TaskReport
from pipelines.execute.scheduler_client import check_scheduler, settled_at_scheduler
from pipelines.execute.task_logs import TaskLogs, configured_directory, new_run_id
from pipelines.execute.worker import ELSEWHERE_NOTE, WorkerFactory, WorkerOptions
from targets.errors import DashPipelineError

LUIGI_LOGGERS = ("luigi", "luigi-interface", "luigi.scheduler", "luigi.server")


def configure_logging(verbosity: int) -> None:
    """Quiet luigi by default (the run report says what matters); ``-v`` gives luigi's INFO, ``-vv`` DEBUG."""
    config = luigi.configuration.get_config()
    if verbosity <= 0:
        if not config.has_section("core"):
            config.add_section("core")
        config.set("core", "no_configure_logging", "true")
        for name in LUIGI_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers = [logging.NullHandler()]
            logger.propagate = False
            # Not even made: the several lines a task luigi logs would go nowhere.
            logger.setLevel(logging.WARNING)
    else:
        level = logging.INFO if verbosity == 1 else logging.DEBUG
        for name in LUIGI_LOGGERS:
            logging.getLogger(name).setLevel(level)


_SUMMARY_OUTCOMES = {
    "completed": Outcome.RAN,
    "already_done": Outcome.UP_TO_DATE,
    "failed": Outcome.FAILED,
    "scheduling_error": Outcome.ERROR,
    "still_pending_ext": Outcome.MISSING_INPUT,
}

# luigi's names for why a task did not run, most telling first.
_NOT_RUN_REASONS = (
    ("upstream_failure", "a task it needs failed"),
    ("upstream_missing_dependency", "an input it needs is missing"),
    ("upstream_scheduling_error", "a task it needs could not be checked"),
    ("run_by_other_worker", "another worker is running it"),
    ("upstream_run_by_other_worker", "another worker is running a task it needs"),
)

_EXIT_CODES = {
    luigi.execution_summary.LuigiStatusCode.SUCCESS: ExitCode.OK,
    luigi.execution_summary.LuigiStatusCode.SUCCESS_WITH_RETRY: ExitCode.OK,
    luigi.execution_summary.LuigiStatusCode.MISSING_EXT: ExitCode.MISSING_INPUT,
}


def _missing_inputs(task: luigi.Task, assessment: Assessment | None) -> str:
    verdict = assessment.verdicts.get(task.task_id) if assessment else None
    if verdict is not None and verdict.state is State.MISSING_INPUT:
        return verdict.reason  # observed in bulk before the run: no second request per input
    try:
        missing = missing_outputs(task)
    except DashPipelineError as exc:
        return str(exc)
    return "not found: " + ", ".join(missing) if missing else "not complete"


def _complete(task: luigi.Task) -> bool:
    try:
        return bool(task.complete())
    except Exception:
        return False


def _exit_code(reports: list[TaskReport]) -> ExitCode:
    """From what happened to each task: with a shared scheduler, other runs' work counts too."""
    outcomes = {report.outcome for report in reports}
    if any(outcome.is_failure for outcome in outcomes):
        return ExitCode.TASK_FAILED
    if Outcome.MISSING_INPUT in outcomes:
        return ExitCode.MISSING_INPUT
    return ExitCode.TASK_FAILED if Outcome.NOT_RUN in outcomes else ExitCode.OK


def run_tasks(
    tasks: Iterable[luigi.Task],
    workers: int = 1,
    observer: RunObserver | None = None,
    keep_going: bool = False,
    scheduler_url: str | None = None,
    assessment: Assessment | None = None,
    run_id: str | None = None,
) -> RunReport:
    """Build ``tasks`` and their dependencies; never raises for a task's failure.

    With an ``assessment`` (see :func:`pipelines.assessment.staleness.assess`) stale tasks
    rebuild; without one, luigi's rule applies: a task is done when its outputs
    exist. Like make, the first failure stops new tasks from starting (running
    ones finish) unless ``keep_going``. ``scheduler_url`` names a central luigid;
    by default luigi's embedded scheduler is used. ``run_id`` names the run's task logs (default: a new id).
    """
    luigi_internals.install()  # the process-wide replacements a run needs (see luigi_internals)
    run_id = run_id or new_run_id()
    tasks = list({task.task_id: task for task in tasks}.values())  # luigi counts a goal once
    if assessment is None:
        # The assessment walked the graph already; without one luigi would be first to call
        # requires() and output(), and report a mistake there as a crash or a failed task.
        problems = check_graph(tasks).problems
        if problems:
            raise problems[0].error
    if scheduler_url is None and _nothing_to_do(tasks, assessment):
        return RunReport(
            [TaskReport(task, Outcome.UP_TO_DATE) for task in sorted(tasks, key=describe)],
            ExitCode.OK,
            run_id=run_id,
            seconds={"scheduling": 0.0, "running": 0.0},
        )
    batching_scheduler = check_scheduler(scheduler_url) if scheduler_url else False
    log_directory = configured_directory()
    options = WorkerOptions(
        observer or RunObserver(),
        keep_going,
        assessment,
        wait_for_others=bool(scheduler_url),
        task_logs=TaskLogs(log_directory, run_id) if log_directory else None,
        batching_scheduler=batching_scheduler,
    )
    factory = WorkerFactory(options)
    scheduler = {"scheduler_url": scheduler_url} if scheduler_url else {"local_scheduler": True}
    began = time.monotonic()
    try:
        result = luigi.build(
            tasks, worker_scheduler_factory=factory, detailed_summary=True, workers=workers, **scheduler
        )
    except luigi.rpc.RPCError as exc:
        raise SchedulerError(f"scheduler {scheduler_url}: {exc.args[0] if exc.args else exc}") from None
    worker = factory.worker
    assert worker is not None
    ended = time.monotonic()
    running_since = worker.running_since or ended
    seconds = {"scheduling": running_since - began, "running": ended - running_since}
    groups = luigi_internals.summary_groups(worker)
    # Needed a rebuild, yet done without this worker running it: another run sharing the scheduler did.
    rebuilt_elsewhere = (assessment.rebuild_ids() if assessment else set()) - set(worker.seconds)
    reports: list[TaskReport] = []
    seen: set[str] = set()
    for group, group_outcome in _SUMMARY_OUTCOMES.items():
        for task in sorted(groups.get(group, ()), key=describe):
            seen.add(task.task_id)
            outcome, error = group_outcome, worker.errors.get(task.task_id)
            if task.task_id in worker.cut_off:
                outcome, error = Outcome.UP_TO_DATE, worker.skip_note(task.task_id)
            elif outcome is Outcome.UP_TO_DATE and task.task_id in rebuilt_elsewhere:
                error = ELSEWHERE_NOTE
            elif outcome is Outcome.MISSING_INPUT and not is_external(task):
                # luigi files a task suspended on what its run() yielded with missing inputs
                # when it never resumed: it simply did not run.
                outcome, error = Outcome.NOT_RUN, worker.waits_on_yielded(task.task_id)
            elif outcome is Outcome.MISSING_INPUT:
                error = _missing_inputs(task, assessment)
            elif error:
                error = error_line(error)
            reports.append(
                TaskReport(
                    task,
                    outcome,
                    error=error,
                    seconds=worker.seconds.get(task.task_id),
                    log=worker.logs.get(task.task_id),
                    fallback=getattr(task, "fallback_used", None),
                )
            )
    stopped = (
        "stopped after a failure (-k/--keep-going runs the rest)" if worker._stop_requesting_work else None
    )
    for task in sorted(worker._scheduled_tasks.values(), key=describe):
        if task.task_id not in seen:
            if scheduler_url and _complete(task):
                reports.append(TaskReport(task, Outcome.UP_TO_DATE, error="built by another worker"))
                continue
            reason = next((text for group, text in _NOT_RUN_REASONS if task in groups.get(group, ())), None)
            reports.append(TaskReport(task, Outcome.NOT_RUN, error=reason or stopped or "not run"))
    if scheduler_url:
        _explain_settled_elsewhere(scheduler_url, reports)
    _name_blockers(reports, assessment.graph if assessment else None)
    exit_code = _exit_code(reports) if scheduler_url else _EXIT_CODES.get(result.status, ExitCode.TASK_FAILED)
    if exit_code is ExitCode.TASK_FAILED and not any(report.outcome.is_failure for report in reports):
        exit_code = _exit_code(reports)  # luigi calls a run blocked on a yielded missing input failed
    return RunReport(
        reports,
        exit_code,
        details=dict(worker.errors),
        warnings=options.record_warnings,
        run_id=run_id,
        seconds=seconds,
    )


_DONE_STATES = frozenset({State.UP_TO_DATE, State.NO_RECORD, State.INPUT})


def _nothing_to_do(goals: list[luigi.Task], assessment: Assessment | None) -> bool:
    """Every task is up to date and every goal says it is complete: luigi would check the goals
    and stop there, so it need not be started (an up-to-date run costs what ``status`` does)."""
    if assessment is None or any(v.state not in _DONE_STATES for v in assessment.verdicts.values()):
        return False
    # The assessment has seen every output. luigi's complete() would only check them again, unless
    # a goal has a complete() of its own, or no outputs (which luigi's never calls complete).
    return all(
        _complete(goal)
        for goal in goals
        if type(goal).complete is not luigi.Task.complete or not flatten(goal.output())
    )


def _explain_settled_elsewhere(scheduler_url: str, reports: list[TaskReport]) -> None:
    """A task of this run that another worker failed is this run's failure too; say where and why.
    A task luigid holds done while its outputs are missing here is never handed to this run. Say
    so, and why that happens: luigi's task ids leave out the module."""
    # luigi's reason of "running elsewhere" dates from the run's last look: it may have failed since.
    vague = (None, "not run", *(text for group, text in _NOT_RUN_REASONS if "run_by_other_worker" in group))
    unexplained = [r for r in reports if r.outcome is Outcome.NOT_RUN and r.error in vague]
    if not unexplained:
        return
    settled = settled_at_scheduler(scheduler_url, [report.task for report in unexplained])
    for report in unexplained:
        found = settled.get(report.task.task_id)
        if found is None:
            continue
        if found.status == luigi.scheduler.FAILED:
            report.outcome = Outcome.FAILED
            # A worker that fails a task says why; luigid fails a task without a word when the
            # worker running it stopped answering.
            reason = (
                error_line(decode_explanation(found.error))
                if found.error
                else "its worker stopped answering (luigid hands it out again after [scheduler] retry_delay)"
            )
            report.error = f"failed on {found.host}: {reason}"
            continue
        report.error = (
            f"the scheduler has it as done (on {found.host}), yet its outputs are "
            f"missing here: luigi's task ids leave out the module, so another module's task also "
            f"named {report.task.get_task_family()} with these parameters counts as this one. Give "
            "one of them a task_namespace (or, on a plain luigid, wait out its "
            "stable_done_cooldown_secs, which `dashpipe scheduler` turns off)"
        )


_CAUSES = (Outcome.FAILED, Outcome.ERROR, Outcome.MISSING_INPUT)


def _name_blockers(reports: list[TaskReport], graph: Graph | None) -> None:
    """Give each task that did not run the failed or missing tasks upstream that kept it from running."""
    by_id = {report.task.task_id: report for report in reports}
    causes: dict[str, frozenset[str]] = {}
    walked = graph.tasks if graph else {}  # what the assessment already asked requires() for

    def needs(task: luigi.Task) -> list[luigi.Task]:
        if graph is not None and task.task_id in graph.edges:
            return [walked[task_id] for task_id in graph.edges[task.task_id] if task_id in walked]
        try:
            return list(flatten(task.requires()))
        except Exception:  # requires() already failed once and was reported; nothing to name
            return []

    def causes_above(start: luigi.Task) -> frozenset[str]:
        # Depth first without recursion: a chain of thousands of tasks is an ordinary graph.
        stack = [(start, needs(start))]
        while stack:
            task, dependencies = stack[-1]
            pending = [d for d in dependencies if d.task_id not in causes and not _is_cause(by_id, d)]
            if pending:
                causes[pending[0].task_id] = frozenset()  # a cycle guard; luigi refuses cycles anyway
                stack.append((pending[0], needs(pending[0])))
                continue
            found: set[str] = set()
            for dependency in dependencies:
                report = by_id.get(dependency.task_id)
                found |= (
                    {report.name} if _is_cause(by_id, dependency) and report else causes[dependency.task_id]
                )
            causes[task.task_id] = frozenset(found)
            stack.pop()
        return causes[start.task_id]

    running_upstream = dict(_NOT_RUN_REASONS)["upstream_run_by_other_worker"]
    for report in reports:
        if report.outcome is Outcome.NOT_RUN:
            report.blocked_by = sorted(causes_above(report.task))
            if report.error == running_upstream and report.blocked_by:
                report.error = None  # luigi's reason is from before what was running elsewhere failed


def _is_cause(by_id: dict[str, TaskReport], task: luigi.Task) -> bool:
    report = by_id.get(task.task_id)
    return report is not None and report.outcome in _CAUSES
