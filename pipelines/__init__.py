"""The engine of dash-pipeline: tasks, loading, running, and the ``dashpipe`` CLI.

What a user imports is here: ``Task`` and ``External`` to write tasks, ``run`` and ``assess`` to
run or judge them from Python as ``dashpipe run`` and ``status`` do, and the errors and reports.
The stages below are described in ARCHITECTURE.md.
"""

import configparser as _configparser

# First of all: every module below imports ``targets``, which a user's ./targets/ may hide.
from pipelines.shadowing import refuse_shadowed_packages as _refuse_shadowed_packages

_refuse_shadowed_packages()

from pipelines.lazy_imports import defer_imports as _defer_imports  # noqa: E402  (before luigi)

_defer_imports()

try:  # luigi reads luigi.cfg as it is imported, and fails there on a line it cannot parse
    from pipelines.assessment.staleness import Assessment, Policy
    from pipelines.errors import ExitCode, ParameterError, PipelineError, TaskLoadError
    from pipelines.execute.outcome import Outcome, RunReport, TaskReport
    from pipelines.execute.runner import run_tasks
    from pipelines.session import RunOptions, RunSession, assess, run
    from pipelines.task import External, Task
except _configparser.Error as _error:
    from pipelines.config.unreadable_config import refuse

    refuse(_error)
    raise

__all__ = [
    "Assessment",
    "ExitCode",
    "External",
    "Outcome",
    "ParameterError",
    "PipelineError",
    "Policy",
    "RunOptions",
    "RunReport",
    "RunSession",
    "Task",
    "TaskLoadError",
    "TaskReport",
    "assess",
    "run",
    "run_tasks",
]
