"""The project's error hierarchy.

Every error dash-pipeline raises on purpose derives from :class:`DashPipelineError`,
so the CLI can turn it into one clear line and an exit code. It lives in the
lowest layer because ``targets`` may not import ``pipelines``.
"""

from __future__ import annotations


class DashPipelineError(Exception):
    """Base class of every error dash-pipeline raises on purpose."""


class TargetError(DashPipelineError):
    """A target was declared wrongly: bad URL, unknown protocol or type, bad options."""


class StorageError(DashPipelineError):
    """The storage behind a target failed: unreachable, no credentials, denied."""


class IncompleteOutputError(DashPipelineError):
    """An output exists only in part (for example a dataset without its marker)."""
