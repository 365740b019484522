"""``{param}`` templates in URLs and commands, and ``${env:NAME}`` references in options."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from typing import Any

from pipelines.errors import PipelineError

ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_FORMATTER = string.Formatter()


def placeholders(template: str) -> list[str]:
    """The field names a template uses (``{date:%Y}`` → ``date``); ValueError on bad braces."""
    names = []
    for _, field_name, _, _ in _FORMATTER.parse(template):
        if field_name is not None:
            if not field_name:
                raise ValueError("empty placeholder {}: name a parameter, as in {date}")
            names.append(field_name)
    return names


def render(template: str, values: Mapping[str, Any]) -> str:
    return _FORMATTER.vformat(template, (), values)


def env_names(value: Any) -> set[str]:
    """Every ``${env:NAME}`` in a string, or in the strings of a nested dict or list."""
    if isinstance(value, str):
        return set(ENV_REFERENCE.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(env_names(item) for item in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(env_names(item) for item in value)) if value else set()
    return set()


def resolve_env(value: Any, where: str) -> Any:
    """Replace ``${env:NAME}`` with the variable's value, at run time; the value is never logged."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise PipelineError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, Mapping):
        return {key: resolve_env(item, where) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_env(item, where) for item in value]
    return value
