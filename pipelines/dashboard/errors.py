"""The dashboard's errors."""

from __future__ import annotations

from pipelines.errors import ExitCode
from targets.errors import DashPipelineError


class DashboardError(DashPipelineError):
    """The dashboard cannot start: its address is taken or not this machine's."""

    exit_code = ExitCode.USAGE
