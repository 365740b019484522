"""Schedules: the slots a cron expression gives, in a timezone, computed by croniter.

A slot is a point in time; the pipeline's date (or date-and-time) parameter takes its value, so
a slot already built is skipped like every built date. After downtime the watcher catches up on
the last ``catchup`` slots that came due, oldest first, as one run. Expressions have five fields,
or six with seconds as the sixth (croniter's order: ``*/10 * * * * 30`` is every ten minutes, at
second 30).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import luigi
from croniter import croniter

from pipelines.common.cron_check import MOST_CATCHUP, schedule_problems
from pipelines.triggers.errors import ScheduleError


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str = "UTC"
    catchup: int = 1  # slots that came due while no watcher ran, built on the first pass

    @classmethod
    def parse(cls, cron: str, timezone: str = "UTC", catchup: int = 1) -> Schedule:
        problems = schedule_problems(cron, timezone, catchup)
        if problems:
            raise ScheduleError("; ".join(f"--{field} {problem}" for field, problem in problems.items()))
        return cls(cron, timezone, catchup)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        return croniter(self.cron, moment.astimezone(self.zone)).get_next(dt.datetime)

    def due(self, after: dt.datetime | None, now: dt.datetime) -> list[dt.datetime]:
        """The slots later than ``after`` and not later than ``now``, oldest first; with no
        ``after`` (the first pass), the last ``catchup`` of them."""
        if after is None:
            walker = croniter(self.cron, now.astimezone(self.zone) + dt.timedelta(microseconds=1))
            found = [walker.get_prev(dt.datetime) for _ in range(self.catchup)]
            return found[::-1]
        walker = croniter(self.cron, after.astimezone(self.zone))
        found = []
        while len(found) < MOST_CATCHUP:
            slot = walker.get_next(dt.datetime)
            if slot > now:
                break
            found.append(slot)
        return found[-max(1, self.catchup) :] if found else []


class SlotGoals:
    """The goals of a scheduled watcher: at each pass, those of the slots that came due since the
    last pass (at most ``catchup`` of them, oldest first), else those of the latest slot, whose
    inputs the watcher watches between slots."""

    def __init__(self, schedule: Schedule, goals_at: Callable[[dt.datetime], list[luigi.Task]]) -> None:
        self.schedule = schedule
        self._goals_at = goals_at
        self.handled: dt.datetime | None = None  # the latest slot a pass was started for
        self.latest: list[luigi.Task] = []

    def for_pass(self) -> list[luigi.Task]:
        due = self.schedule.due(self.handled, dt.datetime.now(dt.timezone.utc))
        if not due:
            return self.latest
        self.handled = due[-1]
        self.latest = self._goals_at(due[-1])
        goals = [goal for slot in due[:-1] for goal in self._goals_at(slot)]
        return list({goal.task_id: goal for goal in [*goals, *self.latest]}.values())

    def next_slot(self) -> float:
        after = self.handled or dt.datetime.now(dt.timezone.utc)
        return self.schedule.next_after(after).timestamp()
