"""The engine of dash-pipeline: tasks, loading, running, and the ``dashpipe`` CLI."""

from pipelines.errors import ParameterError, PipelineError, TaskLoadError
from pipelines.runner import ExitCode, Outcome, RunReport, TaskReport, run_tasks
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
