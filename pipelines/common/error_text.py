"""Turn luigi's failure explanations (formatted tracebacks) into one readable line."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from typing import cast

_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*))?$")
_PROJECT_ERROR_MODULES = ("targets.", "pipelines.")  # their messages say what went wrong


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


def _readable_lines(traceback_text: str) -> list[str]:
    """The exception's lines, its type without the module (and left out for the project's own
    errors, whose messages say what went wrong)."""
    lines = _exception_lines(traceback_text)
    match = _EXCEPTION_LINE.match(lines[0]) if lines else None
    if match:
        kind, message = match.group("type"), match.group("message")
        short = kind.rsplit(".", 1)[-1]
        if kind.startswith(_PROJECT_ERROR_MODULES):
            lines[0] = message or short
        else:
            lines[0] = f"{short}: {message}" if message else short
    return lines


def error_line(traceback_text: str) -> str:
    """The exception at the end of a formatted traceback, as one readable line."""
    lines = _readable_lines(traceback_text)
    return " ".join(line.strip() for line in lines) if lines else "unknown error"


def decode_explanation(explanation: object) -> str:
    """luigi's worker JSON-encodes a failed task's explanation; undo that."""
    if isinstance(explanation, str):
        with contextlib.suppress(ValueError):
            explanation = json.loads(explanation)
    return str(explanation or "failed without an explanation")


_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')


@functools.cache
def _library_directories() -> tuple[str, ...]:
    """Where dash-pipeline, luigi, the standard library and installed packages live."""
    import site
    import sysconfig
    from pathlib import Path

    import luigi

    import targets

    here = Path(__file__).parents[1]  # the pipelines package, found without importing it
    # Both are regular packages, imported from files: __file__ is set.
    files = [cast(str, package.__file__) for package in (targets, luigi)]
    directories = {str(Path(file).parent) + "/" for file in files} | {f"{here}/"}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            directories.add(sysconfig.get_paths()[name] + "/")
    with contextlib.suppress(AttributeError):  # virtualenvs of old may lack these
        directories.update(path + "/" for path in [*site.getsitepackages(), site.getusersitepackages()])
    return tuple(directories)


def _in_library(path: str) -> bool:
    # Distributions put packages in other places too (Debian's dist-packages).
    return path.startswith((*_library_directories(), "<")) or any(
        part in path for part in ("/site-packages/", "/dist-packages/")
    )


_CHAIN_SEPARATORS = re.compile(
    r"^(?:The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)$",
    re.MULTILINE,
)


def error_location(traceback_text: str) -> str | None:
    """``FILE:LINE, in FUNCTION`` of the innermost frame in the user's own code, if any.

    In a chain of exceptions the first one that passed through the user's code counts: a
    retried task's final error is raised by dash-pipeline, but its cause was raised in the task.
    """
    for segment in _CHAIN_SEPARATORS.split(traceback_text):
        location = None
        for line in segment.splitlines():
            match = _FRAME.match(line)
            if match and not _in_library(match.group("path")):
                path = match.group("path")
                if path.startswith(os.getcwd() + os.sep):
                    path = os.path.relpath(path)
                location = f"{path}:{match.group('line')}, in {match.group('function')}"
        if location:
            return location
    return None


def error_excerpt(traceback_text: str, max_lines: int = 4) -> list[str]:
    """The first lines of the error at the end of a traceback, then where the user's code raised it."""
    excerpt = _readable_lines(traceback_text)
    if not excerpt:
        return ["unknown error"]
    if len(excerpt) > max_lines:
        excerpt = [*excerpt[: max_lines - 1], f"... ({len(excerpt) - max_lines + 1} more lines)"]
    location = error_location(traceback_text)
    return excerpt + ([f"at {location}"] if location else [])
