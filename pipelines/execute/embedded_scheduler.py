"""luigi's scheduler for a run in one process, without the scans of the whole graph that make
luigi's embedded scheduler quadratic in the number of tasks (luigi issues #1492, #1750).

luigi's ``get_work`` prunes the graph, sorts every pending task and counts them all, for each
task it hands out: O(n log n) per task. Here the tasks that can run now (pending, every
dependency done) wait in a heap ordered as luigi ranks them (priority, then the order they
were added). A task enters the heap when it is added, or when the last of its dependencies is
done; handing out the next one costs O(log n).

The fast path covers what the embedded scheduler serves: one worker (with any number of
processes) and tasks without ``resources`` or batching. Anything else (another worker, an
assistant, a task that needs resources or batches) is handed to luigi's own ``get_work``,
unchanged. The central scheduler (luigid) is never replaced.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import defaultdict
from typing import Any

import luigi.scheduler
from luigi.scheduler import DISABLED, DONE, FAILED, PENDING, RUNNING

DEFAULT_PRIORITY = luigi.scheduler.Task.DEFAULT_PRIORITY

# With prune_on_get_work, luigi prunes on every get_work; in one process nothing needs it that
# often: the worker is alive while it asks, and nothing expires within a run. Pruning still
# runs, this often, and as soon as a failed task's retry delay is over.
PRUNE_INTERVAL_S = 10.0


class EmbeddedScheduler(luigi.scheduler.Scheduler):
    """luigi's ``Scheduler`` with a ``get_work`` that costs O(log n); see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ready: list[tuple[int, float, int, str]] = []  # (-priority, added, sequence, task id)
        self._in_heap: dict[str, int] = {}  # task id -> priority of its newest heap entry
        self._dependents: defaultdict[str, set[str]] = defaultdict(set)
        # Per task, its dependencies and how many of them, from the first, were last seen done:
        # a fan-in's last task is checked once per dependency, not once per dependency per dependency.
        self._done_prefix: dict[str, tuple[Any, int, list[str], int]] = {}
        self._sequence = itertools.count()
        self._needs_luigi = False  # a task with resources or batching: luigi's get_work decides
        self._last_prune = 0.0
        self._next_retry = math.inf  # wall time when the first failed task may be retried
        # Pending tasks no worker can run (a missing external input): luigi does not count them.
        self._unrunnable: set[str] = set()

    def add_task(self, *args: Any, **kwargs: Any) -> Any:
        result = super().add_task(*args, **kwargs)
        task = self._state.get_task(kwargs.get("task_id"))
        if task is None:
            return result
        if task.resources or kwargs.get("batchable") or kwargs.get("batch_id"):
            self._needs_luigi = True
        for dependency in task.deps:
            self._dependents[dependency].add(task.id)
        if task.status == FAILED and task.retry is not None:
            self._next_retry = min(self._next_retry, task.retry)
        if not task.workers and task.status in (PENDING, FAILED):
            self._unrunnable.add(task.id)
        else:
            self._unrunnable.discard(task.id)
        if task.status == DONE:
            for dependent in self._dependents.get(task.id, ()):
                self._offer(dependent)
        else:
            self._offer(task.id)
        return result

    # luigi's RPCs that change a task's status outside add_task and get_work: the heap hears of
    # each change, or a task they make runnable waits for the next prune (up to 10 s).

    def forgive_failures(self, task_id: str | None = None) -> Any:
        result = super().forgive_failures(task_id=task_id)
        if task_id is not None:
            self._offer(task_id)
        return result

    def mark_as_done(self, task_id: str | None = None) -> Any:
        result = super().mark_as_done(task_id=task_id)
        for dependent in self._dependents.get(task_id or "", ()):
            self._offer(dependent)
        return result

    def re_enable_task(self, task_id: str) -> Any:
        result = super().re_enable_task(task_id)
        self._offer(task_id)
        return result

    def prune(self) -> None:
        # Pruning makes failed tasks pending again once their retry delay is over, whoever calls it.
        super().prune()
        failed = self._state.get_active_tasks_by_status(FAILED)
        self._next_retry = min((task.retry for task in failed if task.retry is not None), default=math.inf)
        self._offer_all_pending()

    def _offer(self, task_id: str) -> None:
        """Put the task in the heap if it can run now and is not there yet."""
        if task_id in self._in_heap:
            return
        task = self._state.get_task(task_id)
        if task is not None and task.status == PENDING and self._dependencies_done(task):
            self._push(task)

    def _push(self, task: Any) -> None:
        heapq.heappush(self._ready, (-task.priority, task.time, next(self._sequence), task.id))
        self._in_heap[task.id] = task.priority

    def _update_priority(self, task: Any, prio: int, worker: str) -> None:
        # luigi raises the priority of what a task needs to the task's own; a raised task already
        # in the heap gets an entry at its new rank (the old one is skipped when it comes up).
        # Iterative where luigi recurses: a long chain must not reach Python's recursion limit.
        stack: list[tuple[Any, float]] = [(task, prio)]
        while stack:
            current, priority = stack.pop()
            existing = current.priority if isinstance(current.priority, (int, float)) else DEFAULT_PRIORITY
            current.priority = priority = max(priority, existing)
            if self._in_heap.get(current.id, priority) != priority:
                self._push(current)
            for dependency_id in current.deps or ():
                dependency = self._state.get_task(dependency_id)
                if dependency is not None and priority > dependency.priority:
                    stack.append((dependency, priority))

    def _dependencies_done(self, task: Any) -> bool:
        """Whether every dependency is done, resuming where the last look stopped. A dependency
        that was done and is not any more is caught when the task comes out of the heap."""
        # luigi replaces a task's set of dependencies when they are given again, and adds to it
        # in place for dynamic ones: either way, the set object or its size changes.
        seen, size, dependencies, done = self._done_prefix.get(task.id, (None, 0, [], 0))
        if seen is not task.deps or size != len(task.deps):
            dependencies, done = list(task.deps), 0
        while done < len(dependencies):
            dependency = self._state.get_task(dependencies[done])
            if dependency is None or dependency.status != DONE:
                break
            done += 1
        self._done_prefix[task.id] = (task.deps, len(task.deps), dependencies, done)
        return done == len(dependencies)

    def _fast_path(self, worker_id: str, assistant: bool) -> bool:
        if self._needs_luigi or assistant or self._paused:
            return False
        workers = self._state._active_workers
        if len(workers) > (worker_id in workers):  # another worker: O(1), with 10,000 of them too
            return False
        # A disabled task changes what luigi counts as pending; rare enough to leave to luigi.
        return not self._state.get_active_task_count_for_status(DISABLED)

    def get_work(self, host=None, assistant=False, current_tasks=None, worker=None, **kwargs):
        now = time.monotonic()
        # Only where luigi would prune on every get_work (its embedded scheduler does, luigid
        # does not), and then less often.
        due = now - self._last_prune >= PRUNE_INTERVAL_S or time.time() >= self._next_retry
        if self._config.prune_on_get_work and due:
            # Also as soon as a failed task's retry_delay is over: pruning makes it pending again.
            self._last_prune = now
            self.prune()
        if not self._fast_path(worker, assistant):
            # luigi may hand out a task the heap holds: the heap drops it when it comes up.
            return super().get_work(
                host=host, assistant=assistant, current_tasks=current_tasks, worker=worker, **kwargs
            )
        worker_state = self._update_worker(worker, worker_reference={"host": host}, get_work=True)
        if not worker_state.enabled:
            return {
                "n_pending_tasks": 0,
                "running_tasks": [],
                "task_id": None,
                "n_unique_pending": 0,
                "worker_state": worker_state.state,
            }
        reply = self._count_pending_fast(worker)
        best = self._unclaimed_running(worker, current_tasks) or self._next_ready(worker)
        if best is None:
            reply["task_id"] = None
            return reply
        self.update_metrics_task_started(best)
        self._state.set_status(best, RUNNING, self._config)
        best.worker_running = worker
        best.resources_running = best.resources.copy()
        best.time_running = time.time()
        self._update_task_history(best, RUNNING, host=host)
        reply.update(
            task_id=best.id,
            task_family=best.family,
            task_module=getattr(best, "module", None),
            task_params=best.params,
        )
        return reply

    def _unclaimed_running(self, worker_id: str, current_tasks: list[str] | None) -> Any:
        """As luigi does: a task this worker runs by the scheduler's books but does not know it
        runs (its process was lost) is handed to it again."""
        if current_tasks is None:
            return None
        claimed = set(current_tasks)
        unclaimed = [
            task
            for task in self._state.get_active_tasks_by_status(RUNNING)
            if task.worker_running == worker_id and task.id not in claimed
        ]
        return max(unclaimed, key=self._rank, default=None)

    def _next_ready(self, worker_id: str) -> Any:
        while self._ready:
            negative_priority, _, _, task_id = heapq.heappop(self._ready)
            if self._in_heap.get(task_id) != -negative_priority:
                continue  # superseded by an entry at a higher priority
            del self._in_heap[task_id]
            task = self._state.get_task(task_id)
            if task is None or worker_id not in task.workers or not self._schedulable(task):
                continue  # handed out, failed or gone since it was offered; offered again if it returns
            return task
        return None

    def _offer_all_pending(self) -> None:
        for task in list(self._state.get_active_tasks_by_status(PENDING)):
            self._offer(task.id)

    def _count_pending_fast(self, worker_id: str) -> dict[str, Any]:
        """luigi's count_pending for a scheduler with one worker and nothing disabled: every
        pending or failed task is that worker's, but for the few no worker can run, so counting
        is reading two sizes and looking at those few."""
        pending = self._state.get_active_task_count_for_status(
            PENDING
        ) + self._state.get_active_task_count_for_status(FAILED)
        for task_id in list(self._unrunnable):
            task = self._state.get_task(task_id)
            if task is None or task.workers or task.status not in (PENDING, FAILED):
                self._unrunnable.discard(task_id)
            else:
                pending -= 1
        worker = self._state.get_worker(worker_id)
        running = [
            {"task_id": task.id, "worker": str(worker), **worker.info}
            for task in self._state.get_active_tasks_by_status(RUNNING)
            if task.worker_running == worker_id
        ]
        return {
            "n_pending_tasks": pending,
            "n_unique_pending": pending,
            "n_pending_last_scheduled": pending,
            "worker_state": worker.state,
            "running_tasks": running,
        }
