"""``dashpipe backfill``: one pipeline over a range of dates, scheduled as one graph."""

from __future__ import annotations

import datetime as dt
from typing import Any

import luigi

from pipelines.cli.sources import PipelineSource
from pipelines.errors import ParameterError

MAX_DAYS = 3660


def date_parameter(source: PipelineSource, chosen: str | None) -> str:
    """The parameter a backfill varies: ``chosen``, or the pipeline's only date parameter."""
    dates = [
        name
        for name, parameter in source.parameters().items()
        # Month and year parameters derive from DateParameter but do not step by day.
        if isinstance(parameter, luigi.DateParameter)
        and not isinstance(parameter, luigi.MonthParameter | luigi.YearParameter)
    ]
    if chosen is not None:
        name = chosen.replace("-", "_")
        if name not in dates:
            raise ParameterError(
                f"{source.name} has no date parameter --{chosen} (date parameters: "
                f"{', '.join(dates) or 'none'})"
            )
        return name
    if len(dates) != 1:
        raise ParameterError(
            f"{source.name} has no date parameter to backfill"
            if not dates
            else f"{source.name} has several date parameters ({', '.join(dates)}): choose one with --param"
        )
    return dates[0]


def slot_parameter(source: PipelineSource, chosen: str | None) -> tuple[str, bool]:
    """The parameter a schedule's slot fills (``chosen``, or the only date or date-time one), and
    whether it takes a date (else a date and time)."""
    slots = {
        name: isinstance(parameter, luigi.DateParameter)
        for name, parameter in source.parameters().items()
        if isinstance(parameter, luigi.parameter._DatetimeParameterBase)
        or (
            isinstance(parameter, luigi.DateParameter)
            and not isinstance(parameter, luigi.MonthParameter | luigi.YearParameter)
        )
    }
    name = chosen.replace("-", "_") if chosen else None
    if name is None and len(slots) == 1:
        name = next(iter(slots))
    if name not in slots:
        known = ", ".join(slots) or "none"
        raise ParameterError(
            f"{source.name}: the schedule's slot fills a date or date-time parameter; "
            + (f"--{chosen} is none of them" if chosen else "choose one with --slot-param")
            + f" (date parameters: {known})"
        )
    return name, slots[name]


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise ParameterError(f"--to {end} is before --from {start}")
    count = (end - start).days + 1
    if count > MAX_DAYS:
        raise ParameterError(f"{count} days from {start} to {end}: more than {MAX_DAYS}; split the backfill")
    return [start + dt.timedelta(days=offset) for offset in range(count)]


def backfill_goals(
    source: PipelineSource, words: list[str], start: dt.date, end: dt.date, chosen: str | None
) -> tuple[str, dict[dt.date, list[luigi.Task]]]:
    """The date parameter and, for every day from ``start`` to ``end``, that day's goal tasks."""
    name = date_parameter(source, chosen)
    steps, values = source.parse(words, given=[name])
    source.check_varies_by(name, steps)
    if name in values:
        raise ParameterError(f"--{name.replace('_', '-')} is set by --from/--to in a backfill")
    per_day: dict[dt.date, list[luigi.Task]] = {}
    for day in days(start, end):
        arguments: dict[str, Any] = {**values, name: day}
        per_day[day] = source.goals(steps, arguments)
    return name, per_day
