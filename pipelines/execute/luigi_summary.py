"""luigi's run summary, without its recursion.

``luigi.execution_summary`` works out why pending tasks did not run with a recursive
depth-first search over ``requires()``: a failure under a chain of ~1,000 tasks exceeds
Python's recursion limit, and the run ends in a RecursionError instead of a report. This is
the same search, iterative. It replaces luigi's in the runs dashpipe starts (luigi_internals.install);
the result is identical, task for task.
"""

from __future__ import annotations

from typing import Any

import luigi
import luigi.execution_summary


def depth_first_search(set_tasks: dict[str, set], current_task: luigi.Task, visited: set) -> None:
    """luigi's ``_depth_first_search``: classify each still-pending task by what is upstream."""
    pending = set_tasks["still_pending_not_ext"]
    visited.add(current_task)
    if current_task not in pending:
        return
    stack: list[list[Any]] = [[current_task, list(current_task._requires()), 0]]
    while stack:
        frame = stack[-1]
        task, requirements, position = frame
        if position < len(requirements):
            frame[2] += 1
            child = requirements[position]
            if child not in visited:
                visited.add(child)
                if child in pending:
                    stack.append([child, list(child._requires()), 0])
            continue
        stack.pop()
        _classify(set_tasks, task, requirements)


def _classify(set_tasks: dict[str, set], task: luigi.Task, requirements: list[luigi.Task]) -> None:
    upstream_failure = upstream_missing = upstream_other_worker = upstream_scheduling_error = False
    for required in requirements:
        if required in set_tasks["ever_failed"] or required in set_tasks["upstream_failure"]:
            set_tasks["upstream_failure"].add(task)
            upstream_failure = True
        if required in set_tasks["still_pending_ext"] or required in set_tasks["upstream_missing_dependency"]:
            set_tasks["upstream_missing_dependency"].add(task)
            upstream_missing = True
        if (
            required in set_tasks["run_by_other_worker"]
            or required in set_tasks["upstream_run_by_other_worker"]
        ):
            set_tasks["upstream_run_by_other_worker"].add(task)
            upstream_other_worker = True
        if required in set_tasks["scheduling_error"]:
            set_tasks["upstream_scheduling_error"].add(task)
            upstream_scheduling_error = True
    if (
        not upstream_failure
        and not upstream_missing
        and not upstream_other_worker
        and not upstream_scheduling_error
        and task not in set_tasks["run_by_other_worker"]
    ):
        set_tasks["not_run"].add(task)
