"""Typed pipeline parameters and their luigi equivalents."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import luigi

from pipelines.yaml.spec import ParamSpec

_RELATIVE_DATE = re.compile(r"^today\s*([+-])\s*(\d+)$")


def parse_date(text: str, today: dt.date | None = None) -> dt.date:
    """An ISO date, ``today``, ``yesterday``, or ``today-N`` / ``today+N`` days."""
    today = today or dt.date.today()
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday":
        return today - dt.timedelta(days=1)
    relative = _RELATIVE_DATE.match(value)
    if relative:
        days = int(relative.group(2))
        return today + dt.timedelta(days=days if relative.group(1) == "+" else -days)
    return dt.date.fromisoformat(value)


class RelativeDateParameter(luigi.DateParameter):
    """A DateParameter that also reads today, yesterday and today±N on the command line."""

    def parse(self, s: str) -> dt.date:
        return parse_date(s)


_EXPECTED: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": list,
}
_EXPECTED_WORDS = {
    "string": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
}


def _shown(value: Any) -> str:
    kinds = {str: "text", bool: "true/false", int: "the number", float: "the number", list: "a list"}
    return f"{kinds.get(type(value), type(value).__name__)} {value!r}"


def default_problem(spec: ParamSpec) -> str | None:
    """Why the declared default does not fit the declared type, or None."""
    if not spec.has_default:
        return None
    value = spec.default
    if spec.type == "date":
        if not isinstance(value, str):
            return f"default of a date must be a date like 2026-11-24, today or yesterday, got {value!r}"
        try:
            parse_date(value)
        except ValueError:
            return f"default {value!r} is not a date: use YYYY-MM-DD, today, yesterday or today-N"
        return None
    expected = _EXPECTED[spec.type]
    if not isinstance(value, expected) or (isinstance(value, bool) and spec.type in ("int", "float")):
        return f"default of a {spec.type} parameter must be {_EXPECTED_WORDS[spec.type]}, got {_shown(value)}"
    return None


def luigi_parameter(spec: ParamSpec, significant: bool = True) -> luigi.Parameter[Any]:
    """The luigi Parameter for a declared pipeline parameter, default resolved now (today is today).
    An insignificant one is left out of the task id, and so of what makes the task stale."""
    kwargs: dict[str, Any] = {"description": spec.description or None, "significant": significant}
    if spec.has_default:
        kwargs["default"] = parse_date(spec.default) if spec.type == "date" else spec.default
    if spec.type == "string":
        return luigi.Parameter(**kwargs)
    if spec.type == "int":
        return luigi.IntParameter(**kwargs)
    if spec.type == "float":
        return luigi.FloatParameter(**kwargs)
    if spec.type == "bool":
        return luigi.BoolParameter(**kwargs)
    if spec.type == "date":
        return RelativeDateParameter(**kwargs)
    return luigi.ListParameter(**kwargs)
