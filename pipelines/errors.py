"""Errors of the pipeline layer; all derive from the project's one base class."""

from __future__ import annotations

from targets.errors import DashPipelineError


class PipelineError(DashPipelineError):
    """A pipeline, task or invocation is wrong (caught before anything runs)."""


class TaskLoadError(PipelineError):
    """A ``MODULE:TASK`` reference cannot be resolved to a luigi Task class."""


class ParameterError(PipelineError):
    """A task parameter on the command line is unknown, missing or unparsable."""
