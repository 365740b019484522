"""The project's error hierarchy.

Every error dash-pipeline raises on purpose derives from :class:`DashPipelineError`,
so the CLI can turn it into one clear line and an exit code. It lives in the
lowest layer because ``targets`` may not import ``pipelines``.
"""

from __future__ import annotations


class DashPipelineError(Exception):
    """Base class of every error dash-pipeline raises on purpose."""

    # What `dashpipe` exits with when this error ends a command (click's ClickException.exit_code
    # convention). 1, "a task failed", unless a subclass knows better; the codes are listed in
    # pipelines.errors.ExitCode, which this layer cannot import.
    exit_code: int = 1


class TargetError(DashPipelineError):
    """A target was declared wrongly: bad URL, unknown protocol or type, bad options."""

    exit_code = 4  # the user's mistake, like an invalid pipeline


class StorageError(DashPipelineError):
    """The storage behind a target failed: unreachable, no credentials, denied."""


class IncompleteOutputError(DashPipelineError):
    """An output exists only in part (for example a dataset without its marker)."""
