"""A luigi worker that remembers, per task, the error text and run time for the report."""

from __future__ import annotations

import time

import luigi
import luigi.configuration
import luigi.interface
import luigi.scheduler
import luigi.worker

from pipelines.error_text import decode_explanation, error_line
from pipelines.outcome import Outcome, RunObserver, TaskReport


class RecordingWorker(luigi.worker.Worker):
    """A luigi worker that keeps each task's error text and run time, tells an observer as tasks
    start and finish, and, like make, stops starting tasks after the first failure unless
    ``keep_going``."""

    def __init__(self, *args, observer: RunObserver, keep_going: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.errors: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self._observer = observer
        self._keep_going = keep_going

    def _log_complete_error(self, task, tb):
        self.errors[task.task_id] = "complete() failed:\n" + tb
        super()._log_complete_error(task, tb)

    def _log_dependency_error(self, task, tb):
        self.errors[task.task_id] = "requires() failed:\n" + tb
        super()._log_dependency_error(task, tb)

    def run(self) -> bool:
        # Runnable ones only: an external input still missing will not run.
        pending = {
            task.task_id
            for task, status, runnable in self._add_task_history
            if status == luigi.scheduler.PENDING and runnable
        }
        self._observer.scheduled(len(pending))
        return super().run()

    def _run_task(self, task_id):
        self.started[task_id] = time.monotonic()
        task = self._scheduled_tasks.get(task_id)
        if task is not None:
            self._observer.started(task)
        return super()._run_task(task_id)

    def _add_task(self, *args, **kwargs):
        task_id, status = kwargs["task_id"], kwargs["status"]
        if task_id in self.started and status in (luigi.scheduler.DONE, luigi.scheduler.FAILED):
            self.seconds[task_id] = time.monotonic() - self.started.pop(task_id)
            failed = status == luigi.scheduler.FAILED
            if failed:
                self.errors[task_id] = decode_explanation(kwargs.get("expl"))
                if not self._keep_going:
                    self._start_phasing_out()
            task = self._scheduled_tasks.get(task_id)
            if task is not None:
                self._observer.finished(
                    TaskReport(
                        task,
                        Outcome.FAILED if failed else Outcome.RAN,
                        error_line(self.errors[task_id]) if failed else None,
                        self.seconds[task_id],
                    )
                )
        return super()._add_task(*args, **kwargs)


class WorkerFactory(luigi.interface._WorkerSchedulerFactory):
    def __init__(self, observer: RunObserver, keep_going: bool) -> None:
        self.observer = observer
        self.keep_going = keep_going
        self.worker: RecordingWorker | None = None

    def create_worker(self, scheduler, worker_processes, assistant=False):
        # A make system must not call a task done because run() returned: unless
        # luigi.cfg says otherwise, a task whose outputs are missing afterwards fails.
        verify = luigi.configuration.get_config().getboolean("worker", "check_complete_on_run", True)
        self.worker = RecordingWorker(
            scheduler=scheduler,
            worker_processes=worker_processes,
            assistant=assistant,
            observer=self.observer,
            keep_going=self.keep_going,
            check_complete_on_run=verify,
        )
        return self.worker
