"""What makes a schedule one: a cron expression croniter reads, a timezone the system knows, and a
bounded catch-up. Shared by ``--cron`` on the command line and ``schedule:`` in YAML, which name
the offending option or key each in their own way."""

from __future__ import annotations

import zoneinfo

from croniter import croniter

MOST_CATCHUP = 1000


def schedule_problems(cron: str, timezone: str, catchup: int) -> dict[str, str]:
    """What is wrong, by field (``cron``, ``timezone``, ``catchup``); empty when nothing is."""
    problems = {}
    if not croniter.is_valid(cron):
        problems["cron"] = f"{cron!r} is not a cron expression (5 fields, or 6 with seconds last)"
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = f"{timezone!r} is not a timezone (e.g. UTC, Europe/Berlin)"
    if not 0 <= catchup <= MOST_CATCHUP:
        problems["catchup"] = f"{catchup}: give 0 to {MOST_CATCHUP} slots"
    return problems
