"""Counts in messages, in good English: ``1 task``, ``3 tasks``, ``2 parameters changed``."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` followed by ``singular``, or by ``plural`` (default: ``singular`` + s) unless it is 1."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
