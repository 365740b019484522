"""The keys only ``dashpipe watch`` reads: ``schedule:`` and ``after:``, checked like every other
key (each problem names its file, line and key) but without opening the pipelines ``after:``
names, which may name this one in turn: they are opened when a watcher starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pipelines.common.cron_check import schedule_problems
from pipelines.common.suggest import did_you_mean
from pipelines.yaml.spec import AfterSpec, ParamSpec, ScheduleSpec

YAML_SUFFIXES = (".yaml", ".yml")


class Checker(Protocol):
    path: Path

    def add(self, key_path: tuple, message: str, *, key: bool = False) -> None: ...

    def check_template(self, where: tuple, template: str, allowed: dict[str, ParamSpec]) -> str | None: ...

    def position_text(self, key_path: tuple) -> str: ...


def schedule_spec(checker: Checker, raw: Any, params: dict[str, ParamSpec]) -> ScheduleSpec | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("cron"), str):
        return None  # the schema reported its shape
    timezone = raw.get("timezone", "UTC")
    catchup = raw.get("catchup", 1)
    if not isinstance(timezone, str) or not isinstance(catchup, int):
        return None
    for field, problem in schedule_problems(raw["cron"], timezone, catchup).items():
        if field != "catchup":  # the schema's bounds are reported already
            checker.add(("schedule", field), problem)
    dates = [name for name, spec in params.items() if spec.type == "date"]
    chosen = raw.get("param")
    if isinstance(chosen, str):
        if chosen not in params:
            checker.add(("schedule", "param"), f"{chosen!r} is not a parameter{did_you_mean(chosen, params)}")
            return None
        if params[chosen].type != "date":
            checker.add(("schedule", "param"), f"{chosen!r} is a {params[chosen].type}: a slot fills a date")
            return None
    elif len(dates) == 1:
        chosen = dates[0]
    else:
        checker.add(
            ("schedule",),
            "each slot fills a date parameter, and the pipeline declares none"
            if not dates
            else f"name the date parameter each slot fills with 'param:' (one of {', '.join(dates)})",
            key=True,
        )
        return None
    return ScheduleSpec(raw["cron"], chosen, timezone, catchup)


def after_specs(checker: Checker, raw: Any, params: dict[str, ParamSpec]) -> tuple[AfterSpec, ...]:
    found = []
    for index, entry in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("pipeline"), str):
            continue
        where = ("after", index)
        reference = entry["pipeline"]
        if reference.endswith(YAML_SUFFIXES):
            resolved = (checker.path.parent / reference).resolve()
            if not resolved.is_file():
                checker.add((*where, "pipeline"), f"no pipeline file {reference!r} (looked for {resolved})")
                continue
            if resolved == checker.path.resolve():
                checker.add((*where, "pipeline"), "a pipeline cannot run after itself")
                continue
            reference = str(resolved)
        elif ":" not in reference:
            checker.add((*where, "pipeline"), f"{reference!r}: name a YAML file or a task as MODULE:TASK")
            continue
        values: dict[str, Any] = entry["params"] if isinstance(entry.get("params"), dict) else {}
        for name, value in values.items():
            if isinstance(value, str):
                checker.check_template((*where, "params", name), value, params)
        steps: list[str] = entry["steps"] if isinstance(entry.get("steps"), list) else []
        found.append(AfterSpec(reference, tuple(steps), dict(values), checker.position_text(where)))
    return tuple(found)
