"""Errors of luigi.cfg."""

from __future__ import annotations

from pipelines.errors import PipelineError


class ConfigFileError(PipelineError):
    """luigi.cfg cannot be read, or a value in it is wrong."""
