"""Short, readable names for tasks in reports."""

from __future__ import annotations

import luigi
from luigi.parameter import ParameterVisibility

from targets.storage import redact_text


def describe(task: luigi.Task) -> str:
    """``Family(param=value, ...)`` with dates and the parameters that differ from their defaults.

    Parameters luigi marks hidden or private (credentials, tokens) are never shown, nor are
    passwords in URLs.
    """
    shown = []
    for name, parameter in task.get_params():
        if not parameter.significant or parameter.visibility != ParameterVisibility.PUBLIC:
            continue
        value = getattr(task, name)
        default = getattr(parameter, "_default", luigi.parameter._no_value)
        # A date is shown even at its default: "yesterday" changes meaning every day.
        is_date = isinstance(parameter, luigi.DateParameter)
        if (
            not is_date
            and default is not luigi.parameter._no_value
            and value == _normalized(parameter, default)
        ):
            continue
        shown.append(f"{name}={redact_text(parameter.serialize(value))}")
    return f"{task.get_task_family()}({', '.join(shown)})"


def _normalized(parameter: luigi.Parameter, default: object) -> object:
    # Values are normalized (lists to tuples, dicts frozen) when a task is created; defaults are not.
    try:
        return parameter.normalize(default)
    except Exception:
        return default
