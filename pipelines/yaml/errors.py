"""Errors of YAML pipelines: unreadable YAML, a pipeline that fails validation, a step that fails.

Each names the file and position (line, column, key path) it is about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.errors import PipelineError

if TYPE_CHECKING:
    from pipelines.yaml.issues import Issue
    from pipelines.yaml.source import Position


class YamlSyntaxError(PipelineError):
    """A file YAML cannot read, at a position; validation reports it as one of its issues."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class PipelineInvalid(PipelineError):
    """A YAML pipeline failed validation; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues, key=lambda issue: (issue.position.line, issue.position.column))
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.issues[0].file}" if count else "invalid"
        super().__init__("\n".join([head, *(f"  {issue}" for issue in self.issues)]))


class StepFailed(PipelineError):
    """A step's function or command failed; the message says how."""
