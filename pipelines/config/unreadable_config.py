"""A luigi.cfg that configparser cannot read stops luigi's own import, before any of dash-pipeline
runs: this module, which imports nothing of luigi's or ours, turns that into one line for the
command line (exit 4), and into a plain error naming the file and line for a library user."""

from __future__ import annotations

import ast
import configparser
import contextlib
import os
import sys

INVALID_PIPELINE = 4  # pipelines.errors.ExitCode.INVALID_PIPELINE, which cannot be imported here


def _running_dashpipe() -> bool:
    """Whether this process is the ``dashpipe`` command (or ``python -m pipelines``)."""
    if os.path.basename(sys.argv[0]) == "dashpipe":
        return True
    argv = list(getattr(sys, "orig_argv", ()))
    return any(
        word == "-m" and argv[index + 1 : index + 2] == ["pipelines"] for index, word in enumerate(argv)
    )


def describe(error: configparser.Error, where: str | None = None, text: str | None = None) -> str:
    """``FILE:LINE: [section] cannot read this line: '...' (expected key = value)`` and the like.

    ``where`` names the file (default: the path configparser read); ``text``, the file's content,
    lets a line that cannot be read name the section it stands in.
    """
    source = where or getattr(error, "source", None) or "luigi.cfg"
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"{source}:{error.lineno}: a setting before any [section]: {error.line.strip()!r}"
    if isinstance(error, configparser.ParsingError) and error.errors:
        line, shown = error.errors[0]
        with contextlib.suppress(ValueError, SyntaxError):
            shown = ast.literal_eval(shown)  # configparser keeps the line as its repr()
        more = f" (and {len(error.errors) - 1} more such lines)" if len(error.errors) > 1 else ""
        inside = _section_at(text, line) if text is not None else None
        return (
            f"{source}:{line}:{f' [{inside}]' if inside else ''} cannot read this line: "
            f"{str(shown).strip()!r} (expected key = value){more}"
        )
    if isinstance(error, configparser.DuplicateOptionError):
        return f"{source}:{error.lineno}: [{error.section}] {error.option} is set twice in this file"
    if isinstance(error, configparser.DuplicateSectionError):
        return f"{source}:{error.lineno}: [{error.section}] appears twice in this file"
    lineno = getattr(error, "lineno", None)
    return f"{source}{f':{lineno}' if lineno else ''}: {error.message}"


def _section_at(text: str, line: int) -> str | None:
    """The [section] that line ``line`` (counted from 1) of ``text`` stands in."""
    headers = (configparser.ConfigParser.SECTCRE.match(row.strip()) for row in text.splitlines()[:line])
    return next((match.group("header") for match in reversed(list(headers)) if match), None)


def refuse(error: configparser.Error) -> None:
    """Exit with one line when running as ``dashpipe``; otherwise raise a readable error."""
    message = describe(error)
    if _running_dashpipe():
        sys.stderr.write(f"dashpipe: error: {message}\n")
        sys.stderr.flush()
        os._exit(INVALID_PIPELINE)
    raise configparser.Error(message) from None
