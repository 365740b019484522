"""Run luigi tasks on luigi's embedded scheduler and report what happened to each task."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import luigi
import luigi.configuration
import luigi.execution_summary
from luigi.task import flatten

from pipelines.describe import describe
from pipelines.error_text import error_line
from pipelines.outcome import ExitCode, Outcome, ProgressCallback, RunReport, TaskReport
from pipelines.worker import WorkerFactory
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

_EXIT_CODES = {
    luigi.execution_summary.LuigiStatusCode.SUCCESS: ExitCode.OK,
    luigi.execution_summary.LuigiStatusCode.SUCCESS_WITH_RETRY: ExitCode.OK,
    luigi.execution_summary.LuigiStatusCode.MISSING_EXT: ExitCode.MISSING_INPUT,
}


def _missing_inputs(task: luigi.Task) -> str:
    try:
        missing = [str(target) for target in flatten(task.output()) if not target.exists()]
    except DashPipelineError as exc:
        return str(exc)
    return "not found: " + ", ".join(missing) if missing else "not complete"


def run_tasks(
    tasks: Iterable[luigi.Task],
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """Build ``tasks`` and their dependencies; never raises for a task's failure."""
    factory = WorkerFactory(progress)
    result = luigi.build(
        list(tasks),
        worker_scheduler_factory=factory,
        detailed_summary=True,
        workers=workers,
        local_scheduler=True,
    )
    worker = factory.worker
    assert worker is not None
    groups = luigi.execution_summary._summary_dict(worker)
    reports: list[TaskReport] = []
    seen: set[str] = set()
    for group, outcome in _SUMMARY_OUTCOMES.items():
        for task in sorted(groups.get(group, ()), key=describe):
            seen.add(task.task_id)
            error = worker.errors.get(task.task_id)
            reports.append(
                TaskReport(
                    task,
                    outcome,
                    error=_missing_inputs(task)
                    if outcome is Outcome.MISSING_INPUT
                    else (error and error_line(error)),
                    seconds=worker.seconds.get(task.task_id),
                )
            )
    for task in sorted(worker._scheduled_tasks.values(), key=describe):
        if task.task_id not in seen:
            reports.append(TaskReport(task, Outcome.NOT_RUN, error="an upstream task failed or is missing"))
    exit_code = _EXIT_CODES.get(result.status, ExitCode.TASK_FAILED)
    return RunReport(reports, exit_code, details=dict(worker.errors))
