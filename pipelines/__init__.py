"""The engine of dash-pipeline: tasks, loading, running, and the ``dashpipe`` CLI."""

from pipelines.errors import ParameterError, PipelineError, TaskLoadError
from pipelines.outcome import ExitCode, Outcome, RunReport, TaskReport
from pipelines.runner import run_tasks
from pipelines.task import External, Task

__all__ = [
    "ExitCode",
    "External",
    "Outcome",
    "ParameterError",
    "PipelineError",
    "RunReport",
    "Task",
    "TaskLoadError",
    "TaskReport",
    "run_tasks",
]
