"""The scheduler ``dashpipe scheduler`` serves: luigid's server, pages, RPCs and history tables,
with :class:`~pipelines.execute.heap_scheduler.HeapScheduler` deciding and the task history
written in batches (:mod:`pipelines.execute.task_history`).

luigid spends about 20 ms of every task of a 500-task run scanning its graph and 24 ms writing
history, and its scans grow with the graph: quadratic in all. Everything else (the protocol
any luigi worker speaks, the visualiser, ``/metrics``, the state file, the configuration in
``[scheduler]`` and ``[task_history]``) is luigid's own.

Run as ``python -m pipelines.execute.central_scheduler [--address A] [--port P] [--state-path F]``,
the arguments luigid takes for a server in the foreground.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import luigi.scheduler
import luigi.server
import tornado.web

from pipelines.execute.heap_scheduler import HeapScheduler
from pipelines.execute.scheduler_client import MOST_PREFETCHED


class CentralScheduler(HeapScheduler):
    """``HeapScheduler`` with luigid's settings and its history written in batches."""

    def __init__(
        self, config: Any = None, resources: Any = None, task_history_impl: Any = None, **kwargs: Any
    ) -> None:
        config = config or luigi.scheduler.scheduler(**kwargs)
        if task_history_impl is None and config.record_task_history:
            from pipelines.execute.task_history import BatchedTaskHistory  # sqlalchemy, as luigi imports it

            task_history_impl = BatchedTaskHistory()
        super().__init__(config=config, resources=resources, task_history_impl=task_history_impl)

    # The calls pipelines.execute.scheduler_client.BatchingScheduler holds, in one request each.

    @luigi.scheduler.rpc_method()
    def add_tasks(self, calls: list[dict[str, Any]]) -> None:
        for call in calls:
            self.add_task(**call)

    @luigi.scheduler.rpc_method(allow_null=False)
    def add_tasks_and_get_work(
        self, calls: list[dict[str, Any]], get_work: dict[str, Any], most: int = 1
    ) -> Any:
        """luigi's ``get_work`` answer, after the held calls; with ``most`` > 1, up to ``most - 1``
        more tasks for the same worker under ``"prefetched"``, each already running for it, as if
        it had asked again after each. A worker whose tasks take a millisecond spends most of
        its time asking for the next one; asking for a few at once saves those round trips."""
        self.add_tasks(calls)
        first = self.get_work(**get_work)
        if most <= 1 or first.get("task_id") is None or "batch_id" in first:
            return first
        current = [*(get_work.get("current_tasks") or []), first["task_id"]]
        prefetched = []
        for _ in range(min(most, MOST_PREFETCHED) - 1):
            following = self.get_work(**{**get_work, "current_tasks": current})
            if following.get("task_id") is None:
                break
            prefetched.append(following)
            current.append(following["task_id"])
            if "batch_id" in following:
                break  # a batch is the worker's to run at once: nothing after it
        if prefetched:
            first["prefetched"] = prefetched
        return first

    @luigi.scheduler.rpc_method()
    def release_tasks(self, worker: str, task_ids: list[str]) -> None:
        """Tasks handed to ``worker`` in advance that it will not run (it stopped asking, after a
        failure, say): pending again, for any worker."""
        for task_id in task_ids:
            task = self._state.get_task(task_id, default=None)
            if task is None or task.status != luigi.scheduler.RUNNING or task.worker_running != worker:
                continue
            self._state.set_status(task, luigi.scheduler.PENDING, self._config)
            task.worker_running = None
            task.resources_running = None
            task.time_running = None
            self._update_task_history(task, luigi.scheduler.PENDING)

    def dump(self) -> None:
        flush = getattr(self._task_history, "flush", None)
        if flush is not None:
            flush()
        super().dump()


def main(argv: Sequence[str] | None = None) -> None:
    import luigi.configuration
    from luigi.setup_logging import DaemonLogging

    parser = argparse.ArgumentParser(description="luigi's central scheduler, as dashpipe scheduler runs it")
    parser.add_argument("--state-path", help="Pickled state file")
    parser.add_argument("--address", help="Listening interface")
    parser.add_argument("--unix-socket", help="Unix socket path")
    parser.add_argument("--port", default=8082, type=int, help="Listening port")
    parser.add_argument("--logdir", help="log directory")
    parser.set_defaults(background=False)  # luigi's logging set-up asks; run it under a service manager
    options = parser.parse_args(argv)
    if options.state_path:
        luigi.configuration.get_config().set("scheduler", "state_path", options.state_path)
    DaemonLogging.setup(options)
    luigi.server.RPCHandler = _RPCHandler  # type: ignore[misc]  # luigi's app() looks it up by name
    luigi.server.run(
        api_port=options.port,
        address=options.address,
        unix_socket=options.unix_socket,
        scheduler=CentralScheduler(),
    )


class _RPCHandler(luigi.server.RPCHandler):
    """luigi's handler of one RPC request, which reads its CORS settings from the configuration
    for every request (13 % of the server's time at 1,000 tasks); here once."""

    _cors_settings: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        tornado.web.RequestHandler.__init__(self, *args, **kwargs)
        if _RPCHandler._cors_settings is None:
            _RPCHandler._cors_settings = luigi.server.cors()
        self._cors_config = _RPCHandler._cors_settings


if __name__ == "__main__":
    main(sys.argv[1:])
