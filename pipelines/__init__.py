"""The engine of dash-pipeline: tasks, loading, running, and the ``dashpipe`` CLI."""

import configparser as _configparser

try:  # luigi reads luigi.cfg as it is imported, and fails there on a line it cannot parse
    from pipelines.errors import ParameterError, PipelineError, TaskLoadError
    from pipelines.execute.outcome import ExitCode, Outcome, RunReport, TaskReport
    from pipelines.execute.runner import run_tasks
    from pipelines.task import External, Task
except _configparser.Error as _error:
    from pipelines.config.unreadable_config import refuse

    refuse(_error)
    raise

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
