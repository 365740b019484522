"""The triggers' errors."""

from __future__ import annotations

from pipelines.errors import ExitCode
from targets.errors import DashPipelineError


class WatchError(DashPipelineError):
    """A watcher cannot start: another one keeps the same goals built on this machine."""

    exit_code = ExitCode.USAGE


class ScheduleError(DashPipelineError):
    """A schedule given on the command line is not one: the expression, timezone or catch-up."""

    exit_code = ExitCode.USAGE
