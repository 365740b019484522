"""The retry and timeout attributes of a task class (``retries``, ``retry_delay``, ``retry_backoff``,
``timeout``, luigi's ``worker_timeout``), checked once per class before anything runs, by the
rules the YAML schema states for steps: a Python task and a YAML step obey one rule."""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
from pathlib import Path
from typing import Any

import luigi

from pipelines.common.value_words import kind_and_value
from pipelines.errors import ParameterError

# The ranges come from the YAML schema itself, so a Python task and a YAML step obey one rule.
_SCHEMA_PATH = Path(__file__).parents[1] / "yaml" / "pipeline.schema.json"
ATTRIBUTES = ("retries", "retry_delay", "retry_backoff", "timeout")


@functools.cache
def _attribute_rules() -> dict[str, dict[str, Any]]:
    step = json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))["$defs"]["step"]["properties"]
    rules = {name: step[name] for name in ATTRIBUTES}
    # luigi's own attribute; 0 means "no limit" there, as luigi's worker treats it.
    rules["worker_timeout"] = {"type": "number", "minimum": 0, "maximum": rules["timeout"]["maximum"]}
    return rules


def attribute_problem(value: Any, rule: dict[str, Any]) -> str | None:
    """What is wrong with ``value`` under a schema ``rule`` (type, finiteness, range), in the words
    ``dashpipe validate`` uses for YAML, or None when it is fine."""
    wanted = rule["type"]
    if isinstance(value, bool) or not isinstance(value, int if wanted == "integer" else (int, float)):
        return f"expected {'an integer' if wanted == 'integer' else 'a number'}, got {kind_and_value(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if "minimum" in rule and value < rule["minimum"]:
        return f"must be at least {rule['minimum']}, got {value}"
    if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
        return f"must be more than {rule['exclusiveMinimum']}, got {value}"
    if "maximum" in rule and value > rule["maximum"]:
        return f"must be at most {rule['maximum']}, got {value}"
    return None


def _where(task_class: type, name: str) -> str:
    """`` (FILE:LINE)`` of the line that sets ``name`` in the class body, else of the class."""
    try:
        path = inspect.getsourcefile(task_class) or "?"
        lines, line = inspect.getsourcelines(task_class)
    except (OSError, TypeError):
        return ""
    setting = re.compile(rf"^\s+{name}\s*(?::[^=]*)?=")
    line += next((offset for offset, text in enumerate(lines) if setting.match(text)), 0)
    cwd = str(Path.cwd()) + "/"
    return f" ({path.removeprefix(cwd)}:{line})"


@functools.cache
def check_task_attributes(task_class: type[luigi.Task]) -> None:
    """Refuse a task class whose retry or timeout attributes are of the wrong type or out of range.

    Checked once per class, before anything runs: today such a value would be clamped or crash
    mid-run. ``None`` means "not set" for the timeouts, as luigi's ``worker_timeout`` default does.
    """
    for name, rule in _attribute_rules().items():
        if not hasattr(task_class, name):
            continue
        value = getattr(task_class, name)
        if value is None and name in ("timeout", "worker_timeout"):
            continue
        if isinstance(value, luigi.Parameter) or hasattr(value, "__get__"):
            continue  # a parameter or property: its value is the instance's, known only at run time
        problem = attribute_problem(value, rule)
        if problem:
            family = getattr(task_class, "get_task_family", lambda: task_class.__name__)()
            raise ParameterError(f"{family}{_where(task_class, name)}: {name} {problem}")
