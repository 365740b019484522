"""A luigi worker that rebuilds what is stale, records what it built, and reports as it goes."""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import luigi
import luigi.configuration
import luigi.interface
import luigi.rpc
import luigi.scheduler
import luigi.worker
from luigi.task import flatten

from pipelines.assessment.build_journal import BuildJournal
from pipelines.assessment.graph import (
    TaskDefinitionError,
    defined_at,
    dependencies,
    is_external,
    missing_outputs,
    output_targets,
    short_repr,
)
from pipelines.assessment.records import (
    RecordSettings,
    fingerprints,
    keyed_inputs,
    listed_together,
    make_record,
    read_record,
    write_record,
)
from pipelines.assessment.staleness import Assessment, State, verifiably_current
from pipelines.common.describe import describe
from pipelines.common.error_text import decode_explanation, error_line
from pipelines.execute.completeness import answer_complete_from, dependencies_complete
from pipelines.execute.errors import NotATask
from pipelines.execute.heap_scheduler import HeapScheduler
from pipelines.execute.outcome import Outcome, RunObserver, TaskReport
from pipelines.execute.retry import guarding_hooks, readable_process_failure, retrying, timeout_of
from pipelines.execute.scheduler_client import BatchingScheduler
from pipelines.execute.task_logs import TaskLogs
from targets.errors import DashPipelineError
from targets.published import forget_published, trusting_own_writes
from targets.storage import redact_text

logger = logging.getLogger("dashpipe")
CUT_OFF_NOTE = "inputs unchanged after the upstream rebuild (early cutoff)"
ELSEWHERE_NOTE = "built by another worker"


@dataclass
class WorkerOptions:
    observer: RunObserver
    keep_going: bool = False
    assessment: Assessment | None = None  # None: luigi's existence-only check
    # With a central scheduler: wait while another process runs a task this one needs.
    wait_for_others: bool = False
    record_warnings: list[str] = field(default_factory=list)
    task_logs: TaskLogs | None = None
    # The central scheduler is dashpipe's: it takes add_task calls in batches.
    batching_scheduler: bool = False


class RecordingWorker(luigi.worker.Worker):
    """A luigi worker that:

    - treats tasks the assessment found stale as incomplete, so luigi rebuilds them;
    - skips a task scheduled only because upstream rebuilt when its inputs came out
      unchanged (early cutoff);
    - writes each built task's record once its outputs are committed;
    - keeps each task's error text and run time, and tells an observer as tasks start and finish;
    - like make, stops starting tasks after the first failure unless ``keep_going``.
    """

    def __init__(self, *args, options: WorkerOptions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._task_result_queue = _InProcessFirstQueue(self._task_result_queue)
        self.options = options
        self.errors: dict[str, str] = {}
        self.started: dict[str, tuple[float, float]] = {}  # monotonic, wall clock
        self.seconds: dict[str, float] = {}
        self.cut_off: set[str] = set()  # skipped when their turn came: current by then
        self.built_elsewhere: set[str] = set()  # of those, the ones another run built meanwhile
        # Built by this run, then handed out again by luigid because another run scheduled it
        # meanwhile: it is not run twice, nor reported or recorded twice.
        self._handed_again: set[str] = set()
        self.input_snapshots: dict[str, dict] = {}
        self._inputs_listed: dict[str, dict[str, Any]] = {}  # url -> what its listing said
        self.logs: dict[str, str] = {}  # task_id -> log URL, for failed tasks that wrote one
        self.running_since: float | None = None  # monotonic, when scheduling ended and tasks began
        assessment = options.assessment
        self._rebuild = assessment.rebuild_ids() if assessment else set()
        # Judged again when their turn comes: what they read may have been rebuilt unchanged.
        self._recheck = assessment.recheck_ids() if assessment else set()
        # What each task needs, as this worker told the scheduler: to find loops through run()'s yields.
        self._needs: dict[str, list[str]] = {}
        self._yielded: collections.defaultdict[str, set[str]] = collections.defaultdict(set)
        self._record_settings = RecordSettings.current()
        self._journal: BuildJournal | None = None
        self._journal_needed = False  # a covered task has no record of its own: the journal stays
        self._answered_complete: list[luigi.Task] | None = None

    def add(self, task, multiprocess=False, processes=0):
        # The assessment saw every output a moment ago, one listing per directory; luigi asking
        # each task's complete() again would repeat that with a request per output on S3 or GCS.
        # Only while the graph is scheduled: after a task runs, luigi checks its outputs for real.
        if self._answered_complete is None:
            self._answered_complete = answer_complete_from(self.options.assessment)
        return super().add(task, multiprocess=multiprocess, processes=processes)

    def _forget_assessed_complete(self) -> None:
        for task in self._answered_complete or ():
            vars(task).pop("complete", None)
        self._answered_complete = []  # not None: scheduling is over

    def __exit__(self, *exc_info):
        self._forget_assessed_complete()  # also when scheduling failed and run() never came
        return super().__exit__(*exc_info)

    def _add(self, task, is_complete):
        if is_complete is True and task.task_id in self._rebuild:
            is_complete = False
        try:
            yield from super()._add(task, is_complete)
        except NotATask:
            # luigi's own error names neither the task nor its requires(); asked again, ours does.
            dependencies(task)
            raise

    def _validate_dependency(self, dependency):
        if not isinstance(dependency, luigi.Task):
            raise NotATask(f"requires() returned {short_repr(dependency)}, not a luigi Task")

    def _log_complete_error(self, task, tb):
        self.errors[task.task_id] = "complete() failed:\n" + redact_text(tb)
        super()._log_complete_error(task, tb)

    def _log_dependency_error(self, task, tb):
        self.errors[task.task_id] = "requires() failed:\n" + redact_text(tb)
        super()._log_dependency_error(task, tb)

    def _keep_alive(self, get_work_response):
        if self._assistant:
            # An assistant is there to take work for as long as it runs, whatever [worker]
            # keep_alive says; luigi's would go on asking even once SIGUSR1 told it to stop.
            return not self._stop_requesting_work
        if self.options.wait_for_others:
            # Nothing to do right now, but another process is running a task this one
            # scheduled: wait for it instead of giving up on what comes after it.
            return bool(get_work_response.running_tasks)
        return super()._keep_alive(get_work_response)

    def _handle_task_load_error(self, exception, task_ids):
        # luigi's sends the traceback as the explanation; what went wrong, and how to fix it, is shorter.
        reason = str(exception)
        if self._assistant:
            reason += " (start `dashpipe worker` with the file or YAML pipeline that defines it)"
        for task_id in task_ids:
            self._fail_unloadable(task_id, reason)

    def _fail_unloadable(self, task_id: str, reason: str) -> None:
        self.errors[task_id] = reason
        self.options.observer.not_loaded(task_id, reason)
        self._add_task(
            worker=self._id,
            task_id=task_id,
            status=luigi.scheduler.FAILED,
            runnable=False,
            expl=json.dumps(reason),
        )

    def run(self) -> bool:
        self._forget_assessed_complete()
        # Runnable ones only: an external input still missing will not run.
        pending = {
            task.task_id
            for task, status, runnable in self._add_task_history
            if status == luigi.scheduler.PENDING and runnable
        }
        self.options.observer.scheduled(len(pending))
        self._journal = BuildJournal.plan(
            (self._scheduled_tasks[task_id] for task_id in pending if task_id in self._scheduled_tasks),
            self._record_settings,
        )
        self.running_since = time.monotonic()
        task_logs = self.options.task_logs
        try:
            with (
                task_logs.routing() if task_logs is not None else contextlib.nullcontext(),
                trusting_own_writes(),
            ):
                return super().run()
        finally:
            # luigi's loop can end on a report it never sent with a next get_work (a stop, say),
            # and with tasks it was handed in advance still unstarted.
            flush = getattr(self._scheduler, "flush", None)
            if flush is not None:
                flush()
            release = getattr(self._scheduler, "release_prefetched", None)
            if release is not None:
                release(self._id)
            self._finish_journal()

    def _finish_journal(self) -> None:
        # What started and never reported (the run was stopped) keeps a record saying so
        # before the journal that covered it goes.
        journal, self._journal = self._journal, None
        if journal is None:
            return
        for task_id, (_, started_wall) in list(self.started.items()):
            task = self._scheduled_tasks.get(task_id)
            if task is not None and journal.written(task_id) and task_id not in self.cut_off:
                self._journal_needed |= not self._mark_unfinished(task, started_wall)
        if not self._journal_needed:
            journal.finish(self.options.record_warnings.append)

    def _run_task(self, task_id):
        task = self._scheduled_tasks.get(task_id)
        if self._assistant and task is not None and task.task_id != task_id:
            # Rebuilt here from its family and parameters, it is another task: this worker's code
            # is not the run's (a parameter added or renamed). luigi would run it and then crash.
            del self._scheduled_tasks[task_id]
            self._fail_unloadable(
                task_id,
                f"the task rebuilt here from {task.get_task_family()}'s parameters is {task.task_id}, "
                f"not {task_id}: is this worker's code the version the run scheduled?",
            )
            return None
        self.started[task_id] = (time.monotonic(), time.time())
        if task is not None:
            unwrapped(task)
            if task_id in self.seconds and task_id not in self.errors and self._still_current(task):
                self._handed_again.add(task_id)
                task.run = _already_current
                return super()._run_task(task_id)
            if self._built_meanwhile(task):
                self.cut_off.add(task_id)
                self.built_elsewhere.add(task_id)
                task.run = _already_current
            elif task_id in self._recheck and self._unchanged_after_upstream(task):
                self.cut_off.add(task_id)
                task.run = _already_current  # luigi still sees it finish and checks its outputs
            elif not is_external(task):
                self._begin_record(task, self.started[task_id][1])
                retrying(task)
                checking_yields(task)
                guarding_hooks(task)
                if self.options.task_logs is not None:
                    self.options.task_logs.capture(task)
            self.options.observer.started(task)
        return super()._run_task(task_id)

    def _create_task_process(self, task):
        process = super()._create_task_process(task)
        listed = self._inputs_listed.pop(task.task_id, None)
        if process.check_unfulfilled_deps and not is_external(task) and dependencies_complete(task, listed):
            process.check_unfulfilled_deps = False  # luigi would ask about each output again
        timeout = timeout_of(task)
        if timeout is not None:
            # Only a task in its own process can be stopped when it hangs.
            process.use_multiprocessing = True
            process.worker_timeout = timeout
            process.timeout_time = time.time() + timeout
        return process

    def _built_meanwhile(self, task: luigi.Task) -> bool:
        """Whether another run sharing the central scheduler built ``task`` since this run assessed
        it (or this run did, and was handed it again). luigid dedups only tasks running at the same
        time: one that finished just before this run scheduled it is made pending again by that
        add_task (dashpipe's luigid has no done-cooldown, which would also ignore real rebuilds)."""
        assessment = self.options.assessment
        if not self.options.wait_for_others or assessment is None or is_external(task):
            return False
        assessed = assessment.verdicts.get(task.task_id)
        if assessed is None or not assessed.rebuilds or assessed.state is State.FORCED:
            return False
        # An unchanged record is the stale one the assessment saw: one read settles most tasks.
        return self._still_current(task, unless=assessed.record)

    def _still_current(self, task: luigi.Task, unless: Any = None) -> bool:
        """Whether the task's build record, read afresh, is current (and not ``unless``)."""
        try:
            fresh = read_record(task, self._record_settings)
            return fresh is not None and fresh != unless and verifiably_current(task, fresh)
        except (DashPipelineError, OSError):
            return False

    def _unchanged_after_upstream(self, task: luigi.Task) -> bool:
        assert self.options.assessment is not None
        try:
            return verifiably_current(task, self.options.assessment.verdicts[task.task_id].record)
        except DashPipelineError:
            return False

    def skip_note(self, task_id: str) -> str | None:
        """Why a task this worker was handed did not run, if it did not."""
        if task_id in self.built_elsewhere:
            return ELSEWHERE_NOTE
        return CUT_OFF_NOTE if task_id in self.cut_off else None

    def _begin_record(self, task: luigi.Task, started_wall: float) -> None:
        # The inputs are fingerprinted now, before the task reads them: an input rewritten
        # while the task runs must make the result stale, not be recorded as its source.
        # A run killed before the final record must leave the task stale even on its first
        # build: the run's journal says so, or else a record marked "building" (a task run()
        # yielded was not known when the journal was written).
        try:
            inputs = keyed_inputs(task)
            listed = listed_together(target for _, target in inputs)
            self.input_snapshots[task.task_id] = fingerprints(inputs, listed)
            self._inputs_listed[task.task_id] = listed  # for luigi's check that they exist, next
        except (DashPipelineError, OSError) as exc:
            self.options.record_warnings.append(f"{describe(task)}: inputs not fingerprinted: {exc}")
        journal = self._journal
        if journal is None or not journal.covers(task.task_id, self.options.record_warnings.append):
            self._mark_unfinished(task, started_wall)

    def _mark_unfinished(self, task: luigi.Task, started_wall: float) -> bool:
        inputs = self.input_snapshots.get(task.task_id)
        try:
            record = make_record(task, started_wall, started_wall, inputs, building=True)
            write_record(task, record, self._record_settings)
            return True
        except (DashPipelineError, OSError) as exc:
            self.options.record_warnings.append(f"{describe(task)}: build record not started: {exc}")
            return False

    def _add_task(self, *args, **kwargs):
        task_id = kwargs["task_id"]
        if kwargs.get("deps") is not None:
            self._needs[task_id] = list(kwargs["deps"])
        if kwargs.get("new_deps"):
            loop = self._loop_back_to(task_id, kwargs["new_deps"])
            if loop:
                # luigi would suspend the task until what it yielded is done, which waits on the
                # task itself: the run would never end. It fails instead, naming the loop.
                names = " → ".join(self._described(each) for each in loop)
                kwargs.update(
                    status=luigi.scheduler.FAILED,
                    expl=json.dumps(f"cycle: {names} (run() yielded {self._described(loop[1])})"),
                    new_deps=[],
                )
            else:
                self._yielded[task_id].update(kwargs["new_deps"])
        status = kwargs["status"]
        scheduled = self._scheduled_tasks.get(task_id)
        if scheduled is not None and "params" in kwargs:
            # luigid shows parameters and writes them to its task history database: never the
            # private or hidden ones (tokens, credentials). This worker runs its own tasks, so
            # the scheduler never needs them to rebuild one.
            kwargs["params"] = scheduled.to_str_params(only_public=True)
        if kwargs.get("expl"):
            # A failure's text (a command's stderr, a traceback) may hold a URL with its password:
            # luigid shows it and keeps it in its history; the report and the hooks get it too.
            kwargs["expl"] = json.dumps(redact_text(decode_explanation(kwargs["expl"])))
        if task_id in self._handed_again and status in (luigi.scheduler.DONE, luigi.scheduler.FAILED):
            self._handed_again.discard(task_id)
            self.started.pop(task_id, None)
        elif task_id in self.started and status in (luigi.scheduler.DONE, luigi.scheduler.FAILED):
            started, started_wall = self.started.pop(task_id)
            self.seconds[task_id] = time.monotonic() - started
            failed = status == luigi.scheduler.FAILED
            task = self._scheduled_tasks.get(task_id)
            if failed:
                if task is not None and self._covered(task):
                    # What it published before it failed must stay stale once the journal goes.
                    self._journal_needed |= not self._mark_unfinished(task, started_wall)
                self.errors[task_id] = decode_explanation(kwargs.get("expl"))
                if task is not None:
                    self.errors[task_id] = readable_process_failure(task, self.errors[task_id])
                if task is not None and _INCOMPLETE_AFTER_RUN in self.errors[task_id]:
                    self.errors[task_id] = _outputs_not_written(task)
                task_logs = self.options.task_logs
                if task is not None and task_logs is not None and task_logs.exists(task):
                    self.logs[task_id] = task_logs.url(task)
                if not self.options.keep_going:
                    self._start_phasing_out()
            elif task is not None and task_id not in self.cut_off and not is_external(task):
                self._record(task, started_wall)
            if task is not None:
                outcome = (
                    Outcome.FAILED
                    if failed
                    else (Outcome.UP_TO_DATE if task_id in self.cut_off else Outcome.RAN)
                )
                note = error_line(self.errors[task_id]) if failed else self.skip_note(task_id)
                self.options.observer.finished(
                    TaskReport(task, outcome, note, self.seconds[task_id], log=self.logs.get(task_id))
                )
        return super()._add_task(*args, **kwargs)

    def _loop_back_to(self, task_id: str, yielded: list[str]) -> list[str] | None:
        """The path ``task_id → yielded one → ... → task_id`` through what each task needs
        (its requires() and what it yielded), if there is one."""
        came_from: dict[str, str] = {each: task_id for each in yielded}
        queue = collections.deque(yielded)
        while queue:
            current = queue.popleft()
            if current == task_id:
                path = [task_id]
                while len(path) == 1 or path[-1] != task_id:
                    path.append(came_from[path[-1]])
                return path[::-1]
            for following in (*self._needs.get(current, ()), *self._yielded.get(current, ())):
                if following not in came_from:
                    came_from[following] = current
                    queue.append(following)
        return None

    def waits_on_yielded(self, task_id: str) -> str:
        """Why a task suspended on what its run() yielded did not finish."""
        yielded = ", ".join(sorted(self._described(each) for each in self._yielded.get(task_id, ())))
        return f"waits for what its run() yielded: {yielded}" if yielded else "not run"

    def _described(self, task_id: str) -> str:
        task = self._scheduled_tasks.get(task_id)
        return describe(task) if task is not None else task_id

    def _record(self, task: luigi.Task, started_wall: float) -> None:
        # The record is the commit point of a build: it is written only now that luigi
        # has seen the task succeed and its outputs exist. It fingerprints the outputs from
        # what their uploads were answered with; later checks ask the store again.
        try:
            inputs = self.input_snapshots.pop(task.task_id, None)
            write_record(task, make_record(task, started_wall, time.time(), inputs), self._record_settings)
        except (DashPipelineError, OSError) as exc:
            self.options.record_warnings.append(f"{describe(task)}: build record not written: {exc}")
            self._journal_needed |= self._covered(task)
        finally:
            forget_published()

    def _covered(self, task: luigi.Task) -> bool:
        return self._journal is not None and self._journal.written(task.task_id)


class _InProcessFirstQueue:
    """The worker's queue of task results. luigi sends results through a multiprocessing queue
    even from tasks run in the worker's own process, a hand-off to a feeder thread and a pipe
    each. Results from this process take a plain deque; task processes still use the queue."""

    def __init__(self, shared: Any) -> None:
        self._shared = shared
        self._local: collections.deque = collections.deque()
        self._pid = os.getpid()

    def put(self, item: Any) -> None:
        if os.getpid() == self._pid:
            self._local.append(item)
        else:
            self._shared.put(item)

    def get(self, timeout: float | None = None) -> Any:
        # What a task process sent before it died comes before the worker's own note that it
        # died, as it would in one queue.
        if self._local and self._shared.empty():
            return self._local.popleft()
        return self._shared.get(timeout=timeout)

    def close(self) -> None:
        self._shared.close()


_INCOMPLETE_AFTER_RUN = "Task finished running, but complete() is still returning false."


def _outputs_not_written(task: luigi.Task) -> str:
    """luigi's message when run() returned without writing every output, naming the outputs."""
    try:
        missing = missing_outputs(task)
    except Exception as exc:
        return f"run() finished but its outputs could not be checked: {exc}"
    if not missing:
        return "run() finished but the task is not complete (its complete() returned false)"
    return "run() finished without writing its output: " + ", ".join(missing)


def checking_yields(task: luigi.Task) -> None:
    """Make a run() that yields dynamic dependencies fail clearly when it yields something that is
    not a Task (luigi fails with "'str' object has no attribute 'task_id'"), or a task whose
    requires() or output() is wrong."""
    run = task.run
    if not inspect.isgeneratorfunction(run) or getattr(run, "_dashpipe_checked", False):
        return

    @functools.wraps(run)
    def run_checking_yields(*args, **kwargs):
        generator = run(*args, **kwargs)
        sent = None
        while True:
            try:
                value = generator.send(sent)
            except StopIteration as stop:
                return stop.value
            for each in flatten(value):
                if not isinstance(each, luigi.Task):
                    generator.close()
                    raise TaskDefinitionError(
                        f"{describe(task)}: run() yielded a {type(each).__name__} ({short_repr(each)}), "
                        f"not a luigi Task{defined_at(task, 'run')}"
                    )
                # What luigi asks of it next, asked here: a mistake fails this task with the yielded
                # task's line, not with luigi's bare AttributeError or a crash of the whole run.
                try:
                    output_targets(each)
                    dependencies(each)
                except DashPipelineError as exc:
                    generator.close()
                    raise exc from None  # its message names the line; its cause would name it again
            sent = yield value

    run_checking_yields._dashpipe_checked = True  # type: ignore[attr-defined]
    # Replaces run() on this instance on purpose: luigi's worker calls task.run().
    task.run = run_checking_yields  # type: ignore[method-assign]


def _already_current() -> None:
    """Stands in for run() of a task whose inputs came out of an upstream rebuild unchanged."""


# What each wrapper of a task's methods marks its wrapper with (functools.wraps copies them outward).
_WRAPPER_MARKS = ("_dashpipe_retrying", "_dashpipe_logged", "_dashpipe_checked", "_dashpipe_guarded")


def unwrapped(task: luigi.Task) -> None:
    """Drop what an earlier run in this process put in place of the task's methods. luigi hands
    every run the same instance (its instance cache), so a stand-in for a task cut off then, or a
    log capture writing to that run's file, would otherwise silently replace this run's work."""
    for name in ("run", "on_success", "on_failure"):
        patched = task.__dict__.get(name)
        if patched is _already_current or any(getattr(patched, mark, False) for mark in _WRAPPER_MARKS):
            del task.__dict__[name]


class WorkerFactory(luigi.interface._WorkerSchedulerFactory):
    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.worker: RecordingWorker | None = None

    def create_local_scheduler(self) -> HeapScheduler:
        # luigi's settings for its embedded scheduler; the fast path prunes on its own terms.
        return HeapScheduler(prune_on_get_work=True, record_task_history=False)

    def create_remote_scheduler(self, url: str) -> luigi.rpc.RemoteScheduler:
        if self.options.batching_scheduler:
            return BatchingScheduler(url)
        return super().create_remote_scheduler(url)

    def create_worker(self, scheduler, worker_processes, assistant=False):
        # A make system must not call a task done because run() returned: unless
        # luigi.cfg says otherwise, a task whose outputs are missing afterwards fails.
        verify = luigi.configuration.get_config().getboolean("worker", "check_complete_on_run", True)
        self.worker = RecordingWorker(
            scheduler=scheduler,
            worker_processes=worker_processes,
            assistant=assistant,
            options=self.options,
            check_complete_on_run=verify,
        )
        return self.worker
