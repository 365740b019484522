"""How a wrong value is shown in messages, the same for YAML steps, Python tasks and luigi.cfg."""

from __future__ import annotations

import json
from typing import Any

_KINDS = {
    dict: "a mapping",
    list: "a list",
    str: "text",
    bool: "true/false",
    int: "a number",
    float: "a number",
}


def kind_and_value(value: Any) -> str:
    """``text "3"``, ``a number -2``, ``nothing``: what was given, briefly."""
    if value is None:
        return "nothing"
    return f"{_KINDS.get(type(value), type(value).__name__)} {json.dumps(value, default=repr)[:40]}"


# By luigi class name, so that subclasses (dash-pipeline's RelativeDateParameter among them) are
# found along the class's MRO without this module importing them.
_EXPECTED = {
    "RelativeDateParameter": "a date (YYYY-MM-DD, today, yesterday, today-N or today+N)",
    "DateParameter": "a date (YYYY-MM-DD)",
    "MonthParameter": "a month (YYYY-MM)",
    "YearParameter": "a year (YYYY)",
    "DateHourParameter": "a date and hour (YYYY-MM-DDTHH)",
    "DateMinuteParameter": "a date and time (YYYY-MM-DDTHHMM)",
    "DateSecondParameter": "a date and time (YYYY-MM-DDTHHMMSS)",
    "IntParameter": "a whole number",
    "FloatParameter": "a number",
    "BoolParameter": "true or false",
}


def expected_words(parameter: object) -> str | None:
    """What a luigi parameter accepts, in words with its forms, or None for kinds not described here."""
    for cls in type(parameter).__mro__:
        if cls.__name__ in _EXPECTED:
            return _EXPECTED[cls.__name__]
    return None


def with_article(noun: str) -> str:
    """``a dict``, ``an enum``: the noun with its indefinite article."""
    return f"{'an' if noun[:1] in 'aeiou' and noun else 'a'} {noun or 'value'}"
