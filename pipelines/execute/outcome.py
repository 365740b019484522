"""What happened to each task of a run, and the exit code it adds up to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import luigi

from pipelines.common.describe import describe
from pipelines.errors import ExitCode

if TYPE_CHECKING:
    from pipelines.assessment.graph import Plan


def plan_exit_code(plan: Plan) -> ExitCode:
    """make -q's answer for ``run -n`` and ``status --check``: 0 only when nothing would run."""
    if plan.missing_inputs:
        return ExitCode.MISSING_INPUT
    if plan.to_run or plan.blocked:
        return ExitCode.OUT_OF_DATE
    return ExitCode.OK


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

    @property
    def is_failure(self) -> bool:
        """The task ran and failed, or could not even be checked: what a run reports an error for."""
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass
class TaskReport:
    task: luigi.Task
    outcome: Outcome
    error: str | None = None
    seconds: float | None = None
    log: str | None = None  # URL of the task's log file, when it wrote one
    blocked_by: list[str] = field(default_factory=list)  # not run: the failed or missing tasks upstream
    fallback: str | None = None  # an input read from a fallback URL: that URL

    @property
    def name(self) -> str:
        return describe(self.task)


@dataclass
class RunReport:
    tasks: list[TaskReport]
    exit_code: ExitCode
    details: dict[str, str] = field(default_factory=dict)  # task_id -> full traceback
    warnings: list[str] = field(default_factory=list)
    run_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # phase of the run -> wall time

    @property
    def failures(self) -> list[TaskReport]:
        return [report for report in self.tasks if report.outcome.is_failure]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for report in self.tasks if report.outcome is outcome)

    @property
    def ran_nothing(self) -> bool:
        return all(report.outcome is Outcome.UP_TO_DATE for report in self.tasks)


class RunObserver:
    """Told about a run as it happens; the terminal display implements it. Methods do nothing here."""

    def scheduled(self, pending: int) -> None:
        """Scheduling is over: ``pending`` tasks are to run."""

    def started(self, task: luigi.Task) -> None:
        """``task`` starts running."""

    def finished(self, report: TaskReport) -> None:
        """``task`` ran, successfully or not."""

    def not_loaded(self, task_id: str, reason: str) -> None:
        """The scheduler handed over a task this process cannot rebuild: it fails with ``reason``."""


class Observers(RunObserver):
    """Tells each of several observers in turn (the terminal's display and the run journal)."""

    def __init__(self, *observers: RunObserver | None) -> None:
        self.observers = [observer for observer in observers if observer is not None]

    def scheduled(self, pending: int) -> None:
        for observer in self.observers:
            observer.scheduled(pending)

    def started(self, task: luigi.Task) -> None:
        for observer in self.observers:
            observer.started(task)

    def finished(self, report: TaskReport) -> None:
        for observer in self.observers:
            observer.finished(report)

    def not_loaded(self, task_id: str, reason: str) -> None:
        for observer in self.observers:
            observer.not_loaded(task_id, reason)
