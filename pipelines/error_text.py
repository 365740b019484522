"""Turn luigi's failure explanations (formatted tracebacks) into one readable line."""

from __future__ import annotations

import contextlib
import json
import re

_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*))?$")
_PROJECT_ERROR_MODULES = ("targets.errors.", "pipelines.errors.")


def _exception_lines(traceback_text: str) -> list[str]:
    """The lines after the last stack frame: the exception's type and its (possibly multi-line) message."""
    lines = traceback_text.rstrip().splitlines()
    frames = [index for index, line in enumerate(lines) if line.startswith('  File "')]
    if not frames:
        return [line for line in lines if line.strip()]
    start = frames[-1] + 1
    while start < len(lines) and lines[start].startswith("    "):  # the frame's source line and ^^^ marks
        start += 1
    return [line for line in lines[start:] if line.strip()]


def error_line(traceback_text: str) -> str:
    """The exception at the end of a formatted traceback, as one readable line."""
    lines = _exception_lines(traceback_text)
    if not lines:
        return "unknown error"
    rest = [line.strip() for line in lines[1:]]
    match = _EXCEPTION_LINE.match(lines[0])
    if not match:
        return " ".join([lines[0].strip(), *rest])
    kind, message = match.group("type"), " ".join([match.group("message") or "", *rest]).strip()
    if kind.startswith(_PROJECT_ERROR_MODULES):
        return message
    short = kind.rsplit(".", 1)[-1]
    return f"{short}: {message}" if message else short


def decode_explanation(explanation: object) -> str:
    """luigi's worker JSON-encodes a failed task's explanation; undo that."""
    if isinstance(explanation, str):
        with contextlib.suppress(ValueError):
            explanation = json.loads(explanation)
    return str(explanation or "failed without an explanation")
