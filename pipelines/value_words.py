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
