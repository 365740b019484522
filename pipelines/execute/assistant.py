"""Build what any run scheduled on a central scheduler: a luigi assistant worker.

A run started with ``--scheduler URL`` sends its whole graph to luigid and builds what it can;
assistants pointed at the same luigid take pending tasks of every run too, so a backfill started
on one machine is built by several. Each task still runs once: luigid hands it to one worker.

An assistant rebuilds a task from what luigid knows of it (its module, family and public
parameters), so the task's code must be importable where the assistant runs, as luigi
requires: an installed package, or the files and YAML pipelines it was started with.
It writes the task's build record as a run would, with a "building" record first (it has no
journal planned in advance), so a killed assistant leaves its task stale, never fresh.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from pipelines.execute import luigi_internals
from pipelines.execute.outcome import RunObserver
from pipelines.execute.scheduler_client import check_scheduler
from pipelines.execute.task_logs import TaskLogs, configured_directory, new_run_id
from pipelines.execute.worker import WorkerFactory, WorkerOptions


def assist(scheduler_url: str, workers: int, observer: RunObserver) -> None:
    """Take pending tasks from the scheduler at ``scheduler_url``, ``workers`` at a time, until
    told to stop: SIGUSR1 (luigi's signal) lets running tasks finish first; SIGINT and SIGTERM
    stop them, leaving them stale."""
    luigi_internals.install()
    batching = check_scheduler(scheduler_url)
    log_directory = configured_directory()
    options = WorkerOptions(
        observer,
        keep_going=True,  # one task's failure is its run's concern, not a reason to stop helping
        task_logs=TaskLogs(log_directory, new_run_id()) if log_directory else None,
        batching_scheduler=batching,
    )
    factory = WorkerFactory(options)
    scheduler = factory.create_remote_scheduler(scheduler_url)
    worker = factory.create_worker(scheduler, workers, assistant=True)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with worker:  # on the way out, stops the task processes still running
            worker.run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop(signum: int, frame: FrameType | None) -> None:
    # Unwinding, unlike the default action, lets the worker stop the processes of its tasks.
    sys.exit(128 + signum)
