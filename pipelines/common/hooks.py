"""Hooks: Python callables, named ``module:function``, called when a step or a run succeeds,
fails or retries. A hook that fails is logged and never changes the outcome.

Step hooks come from a YAML step's ``on_success``/``on_failure``/``on_retry`` (or a Python
task's own methods). Run hooks come from a YAML pipeline's ``hooks:`` and from luigi.cfg::

    [hooks]
    on_failure = oncall.pages:page        # once per failed run, for every pipeline
    on_success = metrics.runs:record
    on_retry = metrics.runs:count_retry   # before each retry of any task

Each hook is called with the keyword arguments it accepts of those offered (see
``STEP_ARGUMENTS`` and ``RUN_ARGUMENTS``), or all of them if it takes ``**kwargs``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import luigi
import luigi.configuration
from luigi.parameter import ParameterVisibility

from pipelines.common.callables import call_with_accepted, resolve, signature_problems
from pipelines.common.describe import describe
from targets.storage import redact_text

logger = logging.getLogger("dashpipe")

EVENTS = ("on_success", "on_failure", "on_retry")
# What each hook may ask for, by event.
STEP_ARGUMENTS = {
    "on_success": ("step", "params", "inputs", "outputs", "task"),
    "on_failure": ("step", "params", "inputs", "outputs", "task", "error"),
    "on_retry": ("step", "params", "inputs", "outputs", "task", "error", "attempt"),
}
RUN_ARGUMENTS = {
    "on_success": ("summary", "text"),
    "on_failure": ("summary", "text"),
    "on_retry": STEP_ARGUMENTS["on_retry"],
}


def references(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """A hook setting (one ``module:function``, a list of them, or none) as a tuple."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[,\s]+", value) if part)
    return tuple(value)


def configured(event: str) -> tuple[str, ...]:
    """The run hooks luigi.cfg's ``[hooks]`` section names for ``event`` (comma- or space-separated)."""
    return references(luigi.configuration.get_config().get("hooks", event, "") or None)


def public_params(task: luigi.Task) -> dict[str, Any]:
    """The task's parameter values, without private or hidden ones (credentials, tokens) and
    with passwords in URLs masked."""
    values = {
        name: getattr(task, name)
        for name, parameter in task.get_params()
        if parameter.visibility == ParameterVisibility.PUBLIC
    }
    return {name: redact_text(value) if isinstance(value, str) else value for name, value in values.items()}


def call_step_hooks(
    references: Iterable[str],
    event: str,
    task: luigi.Task,
    step: str,
    inputs_and_outputs: Callable[[], tuple[Any, Any]],
    **extra: Any,
) -> None:
    """Call a step's ``event`` hooks with ``step``, ``params``, ``task``, ``extra`` and, when they
    can be worked out, ``inputs`` and ``outputs``."""
    references = tuple(references)
    if not references:
        return
    offered = {"step": step, "params": public_params(task), "task": task, **extra}
    try:
        offered["inputs"], offered["outputs"] = inputs_and_outputs()
    except Exception as exc:  # a hook about a failure must still run when the inputs are the failure
        logger.warning("%s: inputs and outputs not given to %s hooks: %s", describe(task), event, exc)
    call(references, event, describe(task), offered)


def configured_problems() -> list[str]:
    """What is wrong with luigi.cfg's hooks, found before a run rather than when one fails."""
    problems = []
    for event in EVENTS:
        for reference in configured(event):
            if ":" not in reference:
                problems.append(f"luigi.cfg [hooks] {event}: {reference!r} is not module:function")
                continue
            try:
                function = resolve(reference)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit too: a module that parses argv on import
                problems.append(
                    f"luigi.cfg [hooks] {event}: cannot import {reference}: {type(exc).__name__}: {exc}"
                )
                continue
            problems += [
                f"luigi.cfg [hooks] {event}: {reference} {problem}"
                for problem in signature_problems(function, RUN_ARGUMENTS[event], f"{event} hooks")
            ]
    return problems


def call(hooks: Iterable[str], event: str, owner: str, offered: Mapping[str, Any]) -> None:
    """Call each hook with the arguments it accepts of ``offered``; log and carry on if one fails."""
    for reference in hooks:
        try:
            call_with_accepted(resolve(reference), offered)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a hook must not end the run or change its code
            logger.warning(
                "%s: %s hook %s failed (%s: %s); ignored", owner, event, reference, type(exc).__name__, exc
            )
