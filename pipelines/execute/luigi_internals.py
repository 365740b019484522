"""What dash-pipeline relies on inside luigi, beyond its public API, listed in one place.

luigi is pinned to ``>=3.8,<3.9`` (pyproject.toml) because of this list: its private methods
change between minor releases without notice. tests/pipelines/test_luigi_internals.py checks
that each one still exists with the parameters we were written against, so a new luigi fails
that test, not a nightly run.

**The process-wide replacements.** Importing ``pipelines`` changes nothing in luigi. The
``dashpipe`` command, :class:`pipelines.session.RunSession` (so :func:`pipelines.run` and
:func:`pipelines.assess`) and :func:`pipelines.execute.runner.run_tasks` call :func:`install`,
which replaces three luigi functions for the rest of the process:

- ``luigi.Task.get_params``, by the same list cached per class: luigi rebuilds a class's
  parameter list with ``dir()`` every time it is asked (about twenty times per task in a run),
  and a class's parameters never change. With thousands of tasks that scan was the largest
  cost of building and running a graph (docs/benchmarks.md). It applies to every luigi task in
  the process, plain luigi ones included.
- ``luigi.execution_summary._depth_first_search``, by the iterative search of
  :mod:`pipelines.execute.luigi_summary`: luigi's is recursive, and a failure under a chain of
  about 1,000 tasks exceeds Python's recursion limit, so the run ends in a RecursionError
  instead of a report (tests/pipelines/test_deep_graphs.py runs such chains).
- ``luigi.worker.load_task``, by a lookup in the task's own module first: a task that run()
  yields, or that luigid hands an assistant (``dashpipe worker``), is rebuilt from (module,
  family, params), and by name alone luigi finds neither our unregistered base classes nor the
  right one of two classes sharing a family. Any failure to rebuild it is luigi's
  ``TaskClassException``, so that an assistant fails that task rather than crashing.

A user who subclasses ``pipelines.Task`` in their own luigi process gets luigi's own functions
unless they call :func:`install` (or :func:`pipelines.run`). The overrides of luigi's Worker,
Scheduler and worker factory methods (in :mod:`pipelines.execute.worker` and
:mod:`pipelines.execute.heap_scheduler`) apply only to our subclasses.
"""

from __future__ import annotations

import importlib
from typing import Any

import luigi
import luigi.execution_summary
import luigi.worker

from pipelines.execute.errors import UnsupportedLuigi
from pipelines.execute.luigi_summary import depth_first_search
from pipelines.task import load_task_from_its_module

SUPPORTED = ((3, 8), (3, 9))  # [from, to): the minor releases this list was checked against

# Private methods our subclasses override, and the parameters luigi calls them with.
OVERRIDDEN: dict[str, tuple[str, ...] | None] = {
    "luigi.worker.Worker.add": ("self", "task", "multiprocess", "processes"),
    "luigi.worker.Worker._add": ("self", "task", "is_complete"),
    "luigi.worker.Worker._validate_dependency": ("self", "dependency"),
    "luigi.worker.Worker._log_complete_error": ("self", "task", "tb"),
    "luigi.worker.Worker._log_dependency_error": ("self", "task", "tb"),
    "luigi.worker.Worker._keep_alive": ("self", "get_work_response"),
    "luigi.worker.Worker._run_task": ("self", "task_id"),
    "luigi.worker.Worker._create_task_process": ("self", "task"),
    "luigi.worker.Worker._add_task": ("self", "args", "kwargs"),
    "luigi.worker.Worker._handle_task_load_error": ("self", "exception", "task_ids"),
    "luigi.scheduler.Scheduler._update_priority": ("self", "task", "prio", "worker"),
    # heap_scheduler.py: what the state and the scheduler change, and luigi's RPCs it answers.
    "luigi.scheduler.Scheduler.add_task": None,
    "luigi.scheduler.Scheduler.get_work": ("self", "host", "assistant", "current_tasks", "worker", "kwargs"),
    "luigi.scheduler.Scheduler.count_pending": ("self", "worker"),
    "luigi.scheduler.Scheduler.prune": ("self",),
    "luigi.scheduler.SimpleTaskState.set_status": ("self", "task", "new_status", "config"),
    "luigi.scheduler.SimpleTaskState.inactivate_tasks": ("self", "delete_tasks"),
    "luigi.scheduler.SimpleTaskState._remove_workers_from_tasks": ("self", "workers", "remove_stakeholders"),
    "luigi.scheduler.SimpleTaskState.set_state": ("self", "state"),
    "luigi.scheduler.SimpleTaskState.load": ("self",),
    # scheduler_client.py and central_scheduler.py: the client's and the server's request path.
    "luigi.rpc.RemoteScheduler._request": ("self", "url", "data", "attempts", "allow_null"),
    "luigi.rpc.RemoteScheduler._fetch": ("self", "url_suffix", "body"),
    "luigi.interface._WorkerSchedulerFactory.create_remote_scheduler": ("self", "url"),
    "luigi.server.RPCHandler.__init__": ("self", "args", "kwargs"),
    "luigi.interface._WorkerSchedulerFactory.create_local_scheduler": ("self",),
    "luigi.interface._WorkerSchedulerFactory.create_worker": (
        "self",
        "scheduler",
        "worker_processes",
        "assistant",
    ),
}
# Private functions and attributes we call or read.
USED: dict[str, tuple[str, ...] | None] = {
    "luigi.execution_summary._depth_first_search": ("set_tasks", "current_task", "visited"),
    "luigi.execution_summary._summary_dict": ("worker",),
    "luigi.worker.load_task": ("module", "task_name", "params_str"),
    "luigi.parameter._no_value": None,
    "luigi.task_register.Register._reg": None,
    "luigi.configuration.LuigiConfigParser._config_paths": None,
    "luigi.rpc._urljoin": ("base", "url"),
    "luigi.server.cors": None,
}

_ORIGINALS = {
    "get_params": luigi.Task.__dict__["get_params"],
    "summary_search": luigi.execution_summary._depth_first_search,
    "load_task": luigi.worker.load_task,
}


def cached_get_params(cls: type[luigi.Task]) -> list[tuple[str, luigi.Parameter]]:
    """luigi's ``Task.get_params``, computed once per class (see the module docstring)."""
    cached = cls.__dict__.get("_dashpipe_params")
    if cached is None:
        cached = _ORIGINALS["get_params"].__func__(cls)
        type.__setattr__(cls, "_dashpipe_params", cached)
    return list(cached)


def luigi_version() -> tuple[int, int]:
    major, minor = (int(part) for part in luigi.__version__.split(".")[:2])
    return major, minor


def check_version() -> None:
    low, high = SUPPORTED
    if not low <= luigi_version() < high:
        raise UnsupportedLuigi(
            f"luigi {luigi.__version__} is installed; dash-pipeline relies on luigi internals checked "
            f"for {low[0]}.{low[1]}.x only (pipelines/execute/luigi_internals.py): install luigi>=3.8,<3.9"
        )


def resolve(dotted: str) -> Any:
    """The object a dotted name of the lists above names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part)
        return found
    raise ImportError(dotted)


def summary_groups(worker: luigi.worker.Worker) -> dict[str, set[luigi.Task]]:
    """luigi's grouping of a run's tasks by what happened (the data of its execution summary)."""
    return luigi.execution_summary._summary_dict(worker)


def install() -> None:
    """Put the process-wide replacements in place (see the module docstring); idempotent."""
    check_version()
    luigi.Task.get_params = classmethod(cached_get_params)  # type: ignore[method-assign, assignment]
    luigi.execution_summary._depth_first_search = depth_first_search
    luigi.worker.load_task = load_task_from_its_module


def uninstall() -> None:
    """Give luigi its own functions back (for tests that compare the two)."""
    luigi.Task.get_params = _ORIGINALS["get_params"]  # type: ignore[method-assign]
    luigi.execution_summary._depth_first_search = _ORIGINALS["summary_search"]
    luigi.worker.load_task = _ORIGINALS["load_task"]
