"""Run luigi tasks on luigi's scheduler and report what happened to each task."""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import luigi
import luigi.configuration
import luigi.execution_summary
import luigi.interface
import luigi.rpc
import luigi.scheduler
import luigi.worker
from luigi.task import flatten

from pipelines.describe import describe
from targets.errors import DashPipelineError

LUIGI_LOGGERS = ("luigi", "luigi-interface", "luigi.scheduler", "luigi.server")


class ExitCode(enum.IntEnum):
    """Exit codes of ``dashpipe``; documented in the README."""

    OK = 0
    TASK_FAILED = 1
    USAGE = 2
    MISSING_INPUT = 3
    INVALID_PIPELINE = 4


class Outcome(str, enum.Enum):
    RAN = "ran"
    UP_TO_DATE = "up to date"
    FAILED = "failed"
    ERROR = "error"  # complete() or requires() raised: the task could not even be scheduled
    MISSING_INPUT = "missing input"
    NOT_RUN = "not run"  # blocked by a failure or missing input upstream

    @property
    def is_problem(self) -> bool:
        return self not in (Outcome.RAN, Outcome.UP_TO_DATE)


@dataclass
class TaskReport:
    task: luigi.Task
    outcome: Outcome
    error: str | None = None
    seconds: float | None = None

    @property
    def name(self) -> str:
        return describe(self.task)


@dataclass
class RunReport:
    tasks: list[TaskReport]
    exit_code: ExitCode
    details: dict[str, str] = field(default_factory=dict)  # task_id -> full traceback

    def count(self, outcome: Outcome) -> int:
        return sum(1 for report in self.tasks if report.outcome is outcome)

    @property
    def ran_nothing(self) -> bool:
        return all(report.outcome is Outcome.UP_TO_DATE for report in self.tasks)


ProgressCallback = Callable[[TaskReport], None]

_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*))?$")
_PROJECT_ERROR_MODULES = ("targets.errors.", "pipelines.errors.")


def _exception_lines(traceback_text: str) -> list[str]:
    """The lines after the last stack frame: the exception's type and its (possibly multi-line) message."""
    lines = traceback_text.rstrip().splitlines()
    frames = [index for index, line in enumerate(lines) if line.startswith('  File "')]
    if not frames:
        return [line for line in lines if line.strip()]
    start = frames[-1] + 1
    while start < len(lines) and lines[start].startswith("    "):  # the frame's source line and ^^^ marks
        start += 1
    return [line for line in lines[start:] if line.strip()]


def error_line(traceback_text: str) -> str:
    """The exception at the end of a formatted traceback, as one readable line."""
    lines = _exception_lines(traceback_text)
    if not lines:
        return "unknown error"
    rest = [line.strip() for line in lines[1:]]
    match = _EXCEPTION_LINE.match(lines[0])
    if not match:
        return " ".join([lines[0].strip(), *rest])
    kind, message = match.group("type"), " ".join([match.group("message") or "", *rest]).strip()
    if kind.startswith(_PROJECT_ERROR_MODULES):
        return message
    short = kind.rsplit(".", 1)[-1]
    return f"{short}: {message}" if message else short


class RecordingWorker(luigi.worker.Worker):
    """A luigi worker that keeps each task's error text and run time for the report."""

    def __init__(self, *args, progress: ProgressCallback | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.errors: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self._progress = progress

    def _log_complete_error(self, task, tb):
        self.errors[task.task_id] = "complete() failed:\n" + tb
        super()._log_complete_error(task, tb)

    def _log_dependency_error(self, task, tb):
        self.errors[task.task_id] = "requires() failed:\n" + tb
        super()._log_dependency_error(task, tb)

    def _run_task(self, task_id):
        self.started[task_id] = time.monotonic()
        return super()._run_task(task_id)

    def _add_task(self, *args, **kwargs):
        task_id, status = kwargs["task_id"], kwargs["status"]
        if task_id in self.started and status in (luigi.scheduler.DONE, luigi.scheduler.FAILED):
            self.seconds[task_id] = time.monotonic() - self.started.pop(task_id)
            task = self._scheduled_tasks.get(task_id)
            if status == luigi.scheduler.FAILED:
                self.errors[task_id] = _decode_explanation(kwargs.get("expl"))
            if task is not None and self._progress is not None:
                failed = status == luigi.scheduler.FAILED
                self._progress(
                    TaskReport(
                        task,
                        Outcome.FAILED if failed else Outcome.RAN,
                        error_line(self.errors[task_id]) if failed else None,
                        self.seconds[task_id],
                    )
                )
        return super()._add_task(*args, **kwargs)


def _decode_explanation(explanation: object) -> str:
    if isinstance(explanation, str):
        with contextlib.suppress(ValueError):
            explanation = json.loads(explanation)
    return str(explanation or "failed without an explanation")


class _Factory(luigi.interface._WorkerSchedulerFactory):
    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.worker: RecordingWorker | None = None

    def create_worker(self, scheduler, worker_processes, assistant=False):
        # A make system must not call a task done because run() returned: unless
        # luigi.cfg says otherwise, a task whose outputs are missing afterwards fails.
        verify = luigi.configuration.get_config().getboolean("worker", "check_complete_on_run", True)
        self.worker = RecordingWorker(
            scheduler=scheduler,
            worker_processes=worker_processes,
            assistant=assistant,
            progress=self.progress,
            check_complete_on_run=verify,
        )
        return self.worker


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
    scheduler_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """Build ``tasks`` and their dependencies; never raises for a task's failure."""
    factory = _Factory(progress)
    scheduler = {"scheduler_url": scheduler_url} if scheduler_url else {"local_scheduler": True}
    result = luigi.build(
        list(tasks), worker_scheduler_factory=factory, detailed_summary=True, workers=workers, **scheduler
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
