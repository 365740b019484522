"""Errors met while walking a graph and judging it: a task that raises, a cycle, a shared output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.common.plural import counted
from pipelines.errors import PipelineError

if TYPE_CHECKING:
    from pipelines.assessment.graph import Problem


class TaskDefinitionError(PipelineError):
    """A task's requires(), output() or complete() raised while the graph was being walked.

    ``where`` is ``FILE:LINE`` in the user's code the message points at, when there is one.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where


class CycleError(PipelineError):
    """Tasks need each other in a loop, so none of them can ever run."""


class GraphInvalid(PipelineError):
    """Walking a Python pipeline's graph found problems; ``problems`` lists every one."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        head = f"{counted(count, 'problem')} in {name}"
        super().__init__("\n".join([head, *(f"  {problem}" for problem in problems)]))


class SharedOutputError(PipelineError):
    """Two tasks of one graph declare the same output."""
