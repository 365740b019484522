"""What ``dashpipe watch`` keeps built, pass by pass: the goals (fixed, or those of the schedule's
slots that came due), and what it watches for them (their graph's external inputs, and the
outputs of the pipelines named in ``after:``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import click
import luigi
from luigi.task import flatten

from pipelines.assessment.graph import build_graph
from pipelines.cli.backfill import slot_parameter
from pipelines.cli.sources import PipelineSource, YamlSource, open_pipeline
from pipelines.triggers.errors import WatchError
from pipelines.triggers.input_watch import external_inputs
from pipelines.triggers.schedule import Schedule, SlotGoals
from pipelines.yaml.spec import AfterSpec
from pipelines.yaml.templates import render
from targets.errors import DashPipelineError


class WatchPlan:
    """The goals of each pass and the targets to watch between passes."""

    def __init__(
        self,
        source: PipelineSource,
        words: list[str],
        cron: str | None,
        timezone: str | None,
        catchup: int | None,
        slot_param: str | None,
    ) -> None:
        spec = source.compiled.spec if isinstance(source, YamlSource) else None
        self.after = [_After(after) for after in (spec.after if spec is not None else ())]
        schedule, name, takes_date = _schedule(source, cron, timezone, catchup, slot_param)
        self.slots: SlotGoals | None = None
        self.steps, fixed = source.parse(words, given=[name] if schedule else [])
        self.values = fixed
        # One watcher per pipeline, goals and values on a machine, however the words were spelt.
        self.identity = json.dumps(
            [source.name, sorted(self.steps), sorted((key, str(value)) for key, value in fixed.items())]
            + ([schedule.cron, name] if schedule else [])
        )
        if schedule is None:
            self._goals = source.goals(self.steps, self.values)
            return

        def goals_at(slot: dt.datetime) -> list[luigi.Task]:
            self.values = {**fixed, name: slot.date() if takes_date else slot.replace(tzinfo=None)}
            return source.goals(self.steps, self.values)

        self.slots = SlotGoals(schedule, goals_at)
        self._goals = []

    def goals(self) -> list[luigi.Task]:
        """The goals of the next pass; none when a schedule has no slot due yet."""
        if self.slots is not None:
            self._goals = self.slots.for_pass()
        return self._goals

    def watched(self) -> list[luigi.Target]:
        """The current goals' external inputs, then the outputs of the pipelines they run after."""
        found = external_inputs(build_graph(self._goals)) if self._goals else []
        for after in self.after:
            found.extend(target for goal in after.goals(self.values) for target in flatten(goal.output()))
        return list({str(target): target for target in found}.values())  # an input named twice is one

    def next_slot(self) -> float | None:
        return self.slots.next_slot() if self.slots is not None else None


def _schedule(
    source: PipelineSource,
    cron: str | None,
    timezone: str | None,
    catchup: int | None,
    slot_param: str | None,
) -> tuple[Schedule | None, str, bool]:
    """The schedule (``--cron``, else the YAML ``schedule:``), the parameter its slot fills and
    whether that takes a date; --timezone, --catchup and --slot-param adjust either."""
    declared = source.compiled.spec.schedule if isinstance(source, YamlSource) else None
    if cron is not None:
        schedule = Schedule.parse(cron, timezone or "UTC", 1 if catchup is None else catchup)
        name, takes_date = slot_parameter(source, slot_param)
        return schedule, name, takes_date
    if declared is not None:
        schedule = Schedule.parse(
            declared.cron,
            timezone or declared.timezone,
            declared.catchup if catchup is None else catchup,
        )
        name, takes_date = slot_parameter(source, slot_param or declared.param)
        return schedule, name, takes_date
    given = [
        option
        for option, value in [("--timezone", timezone), ("--catchup", catchup), ("--slot-param", slot_param)]
        if value is not None
    ]
    if given:
        raise click.UsageError(
            f"{given[0]} applies to a schedule: give --cron, or a 'schedule:' in the pipeline"
        )
    return None, "", False


class _After:
    """A pipeline named in ``after:``, opened once: its goals for this pipeline's values."""

    def __init__(self, after: AfterSpec) -> None:
        self.after = after
        with self._naming_the_entry():
            self.source = open_pipeline(after.pipeline)

    @contextlib.contextmanager
    def _naming_the_entry(self) -> Iterator[None]:
        try:
            yield
        except DashPipelineError as exc:
            raise WatchError(f"{self.after.where}: {exc}") from None

    def goals(self, values: dict[str, Any]) -> list[luigi.Task]:
        """Its parameters take the values the entry gives (templates filled in from ``values``),
        else this pipeline's values of the same name, else their defaults."""
        words = []
        for name, parameter in self.source.parameters().items():
            if name in self.after.params:
                given = self.after.params[name]
                text = render(given, values) if isinstance(given, str) else str(given)
            elif name in values:
                text = parameter.serialize(values[name])
            else:
                continue
            words += [f"--{name}", text]
        with self._naming_the_entry():
            _, parsed = self.source.parse(words)
            return self.source.goals(list(self.after.steps), parsed)
