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
    def add_tasks_and_get_work(self, calls: list[dict[str, Any]], get_work: dict[str, Any]) -> Any:
        self.add_tasks(calls)
        return self.get_work(**get_work)

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
