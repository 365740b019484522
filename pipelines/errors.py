"""Errors of the pipeline layer; all derive from the project's one base class."""

from __future__ import annotations

import enum

from luigi.task_register import TaskClassException

from targets.errors import DashPipelineError


class ExitCode(enum.IntEnum):
    """Exit codes of ``dashpipe``; documented in the README."""

    OK = 0
    TASK_FAILED = 1
    USAGE = 2
    MISSING_INPUT = 3
    INVALID_PIPELINE = 4
    SCHEDULER_ERROR = 5
    OUT_OF_DATE = 6  # run -n, status --check: something would run (make -q's "not up to date")
    INTERNAL_ERROR = 70  # a bug in dash-pipeline, never a user mistake


class PipelineError(DashPipelineError):
    """A pipeline, task or invocation is wrong (caught before anything runs)."""

    exit_code = ExitCode.INVALID_PIPELINE


class TaskLoadError(PipelineError):
    """A ``MODULE:TASK`` reference cannot be resolved to a luigi Task class."""


class TaskNotLoadable(TaskLoadError, TaskClassException):
    """A task the scheduler sent (module, family, parameters) cannot be rebuilt in this process.

    It is luigi's ``TaskClassException`` too: a worker given such a task fails that task,
    naming why, instead of crashing.
    """


class ParameterError(PipelineError):
    """A task parameter on the command line is unknown, missing or unparsable."""
