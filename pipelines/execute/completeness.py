"""What luigi's worker would ask the store about each task's completeness, answered with less:
from the assessment while the graph is scheduled, and with one listing per directory before a
task whose many inputs luigi would check one by one."""

from __future__ import annotations

import functools
from typing import Any

import luigi
from luigi.task import flatten

from pipelines.assessment.records import LISTED_FROM
from pipelines.assessment.staleness import Assessment, State
from targets import FileTarget
from targets.fingerprint import MISSING
from targets.listing import observe_many

# Whether all of a task's outputs exist, as its verdict found; other states did not look.
_OUTPUTS_EXIST = {
    State.UP_TO_DATE: True,
    State.NO_RECORD: True,
    State.STALE: True,
    State.UPSTREAM: True,
    State.INPUT: True,
    State.MISSING: False,
    State.MISSING_INPUT: False,
}


def answer_complete_from(assessment: Assessment | None) -> list[luigi.Task]:
    """Give each task whose verdict says whether all its outputs exist a ``complete()`` that
    answers so, without asking the store; the tasks so answered, to undo it once scheduling
    is over (``vars(task).pop("complete")``). Only for luigi's own complete()."""
    if assessment is None:
        return []
    answered = []
    for verdict in assessment.verdicts.values():
        task = verdict.task
        if type(task).complete is not luigi.Task.complete or "complete" in vars(task):
            continue
        exists = _OUTPUTS_EXIST.get(verdict.state)
        # A task without outputs is never complete to luigi, whatever the assessment says.
        if exists is not None and flatten(task.output()):
            task.complete = functools.partial(bool, exists)  # type: ignore[method-assign]
            answered.append(task)
    return answered


def dependencies_complete(task: luigi.Task, listed: dict[str, Any] | None = None) -> bool:
    """Whether every task ``task`` needs is complete, as luigi checks before it runs a task, with
    one listing per directory for the file outputs of those with luigi's own complete(), or what
    ``listed`` already says of them (by URL: the listing its input fingerprints came from a
    moment ago). False when that does not apply or something is missing: luigi then checks,
    and names what."""
    files: list[FileTarget] = []
    others: list[luigi.Task] = []
    try:
        for dependency in task.deps():
            outputs = flatten(dependency.output())
            plain = type(dependency).complete is luigi.Task.complete and "complete" not in vars(dependency)
            if plain and outputs and all(_plain_file(output) for output in outputs):
                files.extend(outputs)
            else:
                others.append(dependency)
        if len(files) < LISTED_FROM:
            return False
        listed = listed or {}
        unlisted = [output for output in files if output.location.url not in listed]
        seen = [listed[output.location.url] for output in files if output.location.url in listed]
        if any(found is MISSING for found in [*seen, *observe_many(unlisted).values()]):
            return False
        return all(dependency.complete() for dependency in others)
    except Exception:  # whatever went wrong, luigi's own check meets it and reports it
        return False


def _plain_file(target: luigi.Target) -> bool:
    return isinstance(target, FileTarget) and not getattr(target, "is_dataset", False)
