"""Short, readable names for tasks in reports."""

from __future__ import annotations

import luigi
from luigi.parameter import ParameterVisibility


def describe(task: luigi.Task) -> str:
    """``Family(param=value, ...)`` with only the parameters that differ from their defaults.

    Parameters luigi marks hidden or private (credentials, tokens) are never shown.
    """
    shown = []
    for name, parameter in task.get_params():
        if not parameter.significant or parameter.visibility != ParameterVisibility.PUBLIC:
            continue
        value = getattr(task, name)
        default = getattr(parameter, "_default", None)
        if default is not luigi.parameter._no_value and value == default:
            continue
        shown.append(f"{name}={parameter.serialize(value)}")
    return f"{task.get_task_family()}({', '.join(shown)})"
