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


def template_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as templates show them: a list as ``a,b``."""
    return {
        name: ",".join(map(str, value)) if isinstance(value, list | tuple) else value
        for name, value in values.items()
    }


def render(template: str, values: Mapping[str, Any]) -> str:
    return _FORMATTER.vformat(template, (), template_values(values))


def env_names(value: Any) -> set[str]:
    """Every ``${env:NAME}`` in a string, or in the strings of a nested dict or list (walked with a
    stack, not recursion, like every walk over pipeline data)."""
    names: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            names.update(ENV_REFERENCE.findall(item))
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return names


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


def quoted_placeholders(command: str) -> list[str]:
    """Placeholders written inside shell quotes. Values are quoted for the shell already; quotes
    around them would join a value's own quotes to the command's and let it escape."""
    found: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(command):
        char = command[index]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if char in "'\"" and quote in (None, char):
            quote = None if quote else char
        elif command.startswith(("{{", "}}"), index):
            index += 2
            continue
        elif char == "{":
            end = command.find("}", index)
            if end == -1:
                break
            if quote is not None:
                found.append(re.split(r"[:!]", command[index + 1 : end], maxsplit=1)[0])
            index = end + 1
            continue
        index += 1
    return found
