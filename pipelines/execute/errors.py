"""Errors of running: the scheduler, retries that ran out, a luigi this code was not checked against."""

from __future__ import annotations

from pipelines.assessment.errors import TaskDefinitionError
from pipelines.errors import ExitCode, PipelineError
from targets.errors import DashPipelineError


class SchedulerError(DashPipelineError):
    """The central scheduler could not be reached or failed."""

    exit_code = ExitCode.SCHEDULER_ERROR


class RetriesExhausted(DashPipelineError):
    """The last failure of a task that had retries, saying how many attempts it made."""


class UnsupportedLuigi(PipelineError):
    """The installed luigi is not a release luigi_internals was checked against."""


class NotATask(TaskDefinitionError):
    """luigi met something other than a Task among a task's dependencies (beneath what run() yielded:
    the graph was checked before the run began)."""
