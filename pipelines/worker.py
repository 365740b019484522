"""A luigi worker that remembers, per task, the error text and run time for the report."""

from __future__ import annotations

import time

import luigi
import luigi.configuration
import luigi.interface
import luigi.scheduler
import luigi.worker

from pipelines.error_text import decode_explanation, error_line
from pipelines.outcome import Outcome, ProgressCallback, TaskReport


class RecordingWorker(luigi.worker.Worker):
    """A luigi worker that keeps each task's error text and run time for the report."""

    def __init__(self, *args, progress: ProgressCallback | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.errors: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self._progress = progress

    def _log_complete_error(self, task, tb):
        self.errors[task.task_id] = "complete() failed:\n" + tb
        super()._log_complete_error(task, tb)

    def _log_dependency_error(self, task, tb):
        self.errors[task.task_id] = "requires() failed:\n" + tb
        super()._log_dependency_error(task, tb)

    def _run_task(self, task_id):
        self.started[task_id] = time.monotonic()
        return super()._run_task(task_id)

    def _add_task(self, *args, **kwargs):
        task_id, status = kwargs["task_id"], kwargs["status"]
        if task_id in self.started and status in (luigi.scheduler.DONE, luigi.scheduler.FAILED):
            self.seconds[task_id] = time.monotonic() - self.started.pop(task_id)
            task = self._scheduled_tasks.get(task_id)
            if status == luigi.scheduler.FAILED:
                self.errors[task_id] = decode_explanation(kwargs.get("expl"))
            if task is not None and self._progress is not None:
                failed = status == luigi.scheduler.FAILED
                self._progress(
                    TaskReport(
                        task,
                        Outcome.FAILED if failed else Outcome.RAN,
                        error_line(self.errors[task_id]) if failed else None,
                        self.seconds[task_id],
                    )
                )
        return super()._add_task(*args, **kwargs)


class WorkerFactory(luigi.interface._WorkerSchedulerFactory):
    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.worker: RecordingWorker | None = None

    def create_worker(self, scheduler, worker_processes, assistant=False):
        # A make system must not call a task done because run() returned: unless
        # luigi.cfg says otherwise, a task whose outputs are missing afterwards fails.
        verify = luigi.configuration.get_config().getboolean("worker", "check_complete_on_run", True)
        self.worker = RecordingWorker(
            scheduler=scheduler,
            worker_processes=worker_processes,
            assistant=assistant,
            progress=self.progress,
            check_complete_on_run=verify,
        )
        return self.worker
