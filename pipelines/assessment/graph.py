"""The task graph below some goals: every task and its dependencies, and what a run would do."""

from __future__ import annotations

import inspect
import os
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import luigi
from luigi.task import flatten

from pipelines.assessment.errors import CycleError, TaskDefinitionError
from pipelines.common.describe import describe
from pipelines.common.error_text import error_location
from pipelines.common.task_attributes import check_task_attributes
from pipelines.common.value_words import with_article
from targets.errors import DashPipelineError, IncompleteOutputError, StorageError, TargetError

T = TypeVar("T")


def is_external(task: luigi.Task) -> bool:
    """luigi's notion: a task without run() only waits for its outputs to appear."""
    return task.run is None or task.run == NotImplemented or isinstance(task, luigi.ExternalTask)


def raised_at(exc: BaseException) -> str | None:
    """``FILE:LINE, in FUNCTION`` of the innermost frame of the user's code that ``exc`` came through:
    the line to fix, not luigi's or dash-pipeline's."""
    return error_location("".join(traceback.format_exception(exc)))


def location_of(exc: BaseException) -> str | None:
    """``FILE:LINE`` in the user's code that an error from :func:`guarded` names, if any."""
    return getattr(exc, "where", None)


def guarded(task: luigi.Task, method: str, call: Callable[[], T]) -> T:
    """Call user code of ``task``; its failure becomes one line naming the task, the method and,
    as for a failing run(), the line of the user's code it was raised at."""
    try:
        return call()
    except Exception as exc:
        if isinstance(exc, DashPipelineError) and not isinstance(
            exc, (TargetError, StorageError, IncompleteOutputError)
        ):
            raise
        location = raised_at(exc)
        at = f" (at {location})" if location else ""
        if isinstance(exc, DashPipelineError):
            error: DashPipelineError = type(exc)(f"{describe(task)}: {exc}{at}")
        else:
            error = TaskDefinitionError(f"{describe(task)}: {method} failed: {type(exc).__name__}: {exc}{at}")
        error.where = location.split(", in ", 1)[0] if location else None  # type: ignore[attr-defined]
        raise error from exc


def definition(task: luigi.Task, method: str) -> str | None:
    """``FILE:LINE`` where the task's class defines ``method``, or None when that is not known."""
    function = getattr(type(task), method, None)
    try:
        path = inspect.getsourcefile(function)  # type: ignore[arg-type]
        _, line = inspect.getsourcelines(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return None
    if not path:
        return None
    if path.startswith(os.getcwd() + os.sep):
        path = os.path.relpath(path)
    return f"{path}:{line}"


def defined_at(task: luigi.Task, method: str) -> str:
    """`` (defined at FILE:LINE)`` of ``method``, for messages about what it returned."""
    where = definition(task, method)
    return f" (defined at {where})" if where else ""


def short_repr(value: object, width: int = 80) -> str:
    """``repr(value)``, cut to ``width`` characters for a one-line message."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _wrong_kind(task: luigi.Task, method: str, value: object, expected: str) -> TaskDefinitionError:
    if isinstance(value, type):
        what = f"the class {value.__name__}, not an instance of it ({value.__name__}(...))"
    else:
        what = f"{with_article(type(value).__name__)} ({short_repr(value)}), not {expected}"
    return TaskDefinitionError(
        f"{describe(task)}: {method}() returned {what}{defined_at(task, method)}", definition(task, method)
    )


def dependencies(task: luigi.Task) -> list[luigi.Task]:
    """What ``task.requires()`` returns, flattened and without repeats; anything but a Task is an error
    (luigi drops a stray path string silently and the task runs without its input)."""
    required = guarded(task, "requires()", lambda: flatten(task.requires()))
    unique: dict[str, luigi.Task] = {}
    for dependency in required:
        if not isinstance(dependency, luigi.Task):
            raise _wrong_kind(task, "requires", dependency, "a luigi Task")
        unique.setdefault(dependency.task_id, dependency)
    return list(unique.values())


def output_targets(task: luigi.Task) -> list[luigi.Target]:
    """What ``task.output()`` returns, flattened; anything but a luigi Target is an error naming the task."""
    outputs = guarded(task, "output()", lambda: flatten(task.output()))
    for output in outputs:
        # luigi itself only ever calls exists() on an output: anything with one will do.
        if not callable(getattr(output, "exists", None)):
            hint = (
                " (wrap a path in luigi.LocalTarget or targets.FileTarget)" if isinstance(output, str) else ""
            )
            raise _wrong_kind(task, "output", output, "a luigi Target" + hint)
    return outputs


@dataclass
class Graph:
    """Every task reachable from the goals, in dependency order (dependencies first)."""

    goals: list[luigi.Task]
    order: list[luigi.Task] = field(default_factory=list)
    edges: dict[str, list[str]] = field(default_factory=dict)  # task_id -> ids of its dependencies

    @property
    def tasks(self) -> dict[str, luigi.Task]:
        return {task.task_id: task for task in self.order}


def _post_order(goals: Iterable[luigi.Task], expand) -> list[luigi.Task]:
    """Dependencies before dependents; iterative, so long chains cannot exhaust the stack.

    A task met again while its own dependencies are still being walked closes a cycle: that is
    an error naming every task on it, where luigi would wait for ever or report nothing runnable.
    """
    order: list[luigi.Task] = []
    seen: set[str] = set()
    on_path: set[str] = set()
    for goal in goals:
        if goal.task_id in seen:
            continue
        seen.add(goal.task_id)
        on_path.add(goal.task_id)
        stack = [(goal, iter(expand(goal)))]
        while stack:
            task, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(task.task_id)
                order.append(task)
            elif child.task_id in on_path:
                raise _cycle_error([entry for entry, _ in stack], child)
            elif child.task_id not in seen:
                seen.add(child.task_id)
                on_path.add(child.task_id)
                stack.append((child, iter(expand(child))))
    return order


def _cycle_error(path: list[luigi.Task], closing: luigi.Task) -> CycleError:
    start = next(index for index, task in enumerate(path) if task.task_id == closing.task_id)
    loop = [*path[start:], closing]
    return CycleError("cycle: " + " → ".join(describe(task) for task in loop) + " (each requires the next)")


def build_graph(goals: list[luigi.Task]) -> Graph:
    graph = Graph(goals=list(goals))
    needs: dict[str, list[luigi.Task]] = {}

    checked: set[type] = set()

    def expand(task: luigi.Task) -> list[luigi.Task]:
        if type(task) not in checked:  # classes reached only through requires() are checked too
            checked.add(type(task))
            check_task_attributes(type(task))
        needs[task.task_id] = dependencies(task)  # requires() once per task: it can be costly
        return needs[task.task_id]

    graph.order = _post_order(goals, expand)
    graph.edges = {
        task.task_id: [dependency.task_id for dependency in needs[task.task_id]] for task in graph.order
    }
    return graph


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a task, at ``where`` (``FILE:LINE`` of the user's code) when known."""

    task: str
    where: str | None
    message: str
    error: DashPipelineError

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def as_dict(self) -> dict[str, object]:
        path, _, line = (self.where or "").rpartition(":")
        return {
            "file": path or None,
            "line": int(line) if line.isdigit() else None,
            "task": self.task,
            "message": self.message,
        }


@dataclass
class GraphCheck:
    """Every task reachable from the goals (as far as the walk got) and every problem met on the way."""

    tasks: list[luigi.Task]
    problems: list[Problem]

    @property
    def external(self) -> list[luigi.Task]:
        return [task for task in self.tasks if is_external(task)]


def _problem(task: luigi.Task, error: DashPipelineError) -> Problem:
    where = location_of(error)
    message = str(error)
    if where:
        # The location leads the line of a listing; said again at its end it is only noise.
        message = _LOCATION_SUFFIX.sub("", message)
    return Problem(describe(task), where, message, error)


_LOCATION_SUFFIX = re.compile(r" \((?:defined )?at [^()]*\)$")


def _class_problem(task: luigi.Task, error: DashPipelineError) -> Problem:
    try:
        path = inspect.getsourcefile(type(task))
        _, line = inspect.getsourcelines(type(task))
    except (OSError, TypeError):
        return Problem(describe(task), None, str(error), error)
    if path and path.startswith(os.getcwd() + os.sep):
        path = os.path.relpath(path)
    return Problem(describe(task), f"{path}:{line}" if path else None, str(error), error)


def check_graph(goals: list[luigi.Task]) -> GraphCheck:
    """Walk the whole graph as a run would, calling every task's requires() and output(), and
    collect what is wrong rather than stop at the first problem. Nothing is read or written:
    complete() and exists() are not called."""
    problems: list[Problem] = []
    checked: set[type] = set()

    def expand(task: luigi.Task) -> list[luigi.Task]:
        if type(task) not in checked:
            checked.add(type(task))
            try:
                check_task_attributes(type(task))
            except DashPipelineError as exc:
                problems.append(_class_problem(task, exc))
        try:
            output_targets(task)
        except DashPipelineError as exc:
            problems.append(_problem(task, exc))
        try:
            return dependencies(task)
        except DashPipelineError as exc:
            problems.append(_problem(task, exc))
            return []

    try:
        order = _post_order(goals, expand)
    except CycleError as exc:
        problems.append(Problem(describe(goals[0]) if goals else "", None, str(exc), exc))
        order = []
    return GraphCheck(order, problems)


@dataclass
class Plan:
    """What ``run`` would do, as luigi decides it: complete tasks are not looked behind."""

    to_run: list[luigi.Task]
    missing_inputs: list[luigi.Task]
    blocked: list[luigi.Task]  # would run, but wait on a missing input
    up_to_date: list[luigi.Task]


def plan(goals: list[luigi.Task]) -> Plan:
    status: dict[str, str] = {}

    def expand(task: luigi.Task) -> list[luigi.Task]:
        output_targets(task)  # before complete(), which would only say that exists() is missing
        if guarded(task, "complete()", task.complete):
            status[task.task_id] = "done"
            return []
        if is_external(task):
            status[task.task_id] = "missing"
            return []
        status[task.task_id] = "run"
        return dependencies(task)

    order = _post_order(goals, expand)
    for task in order:  # dependencies come first, so blocking propagates in one pass
        if status[task.task_id] == "run" and any(
            status[dependency.task_id] in ("missing", "blocked") for dependency in dependencies(task)
        ):
            status[task.task_id] = "blocked"
    return Plan(
        to_run=[task for task in order if status[task.task_id] == "run"],
        missing_inputs=[task for task in order if status[task.task_id] == "missing"],
        blocked=[task for task in order if status[task.task_id] == "blocked"],
        up_to_date=[task for task in order if status[task.task_id] == "done"],
    )


def outputs_of(task: luigi.Task) -> list[str]:
    return [str(target) for target in output_targets(task)]


def missing_outputs(task: luigi.Task) -> list[str]:
    """The task's outputs that do not exist; raises what ``output()`` or ``exists()`` raises."""
    return [str(target) for target in flatten(task.output()) if not target.exists()]
