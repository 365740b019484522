"""luigi's scheduler without the scans of the whole graph that make it quadratic in the number of
tasks (luigi issues #1492, #1750), for the embedded scheduler and for ``dashpipe scheduler``.

For each task it hands out, luigi's ``get_work`` sorts every pending task and ``count_pending``
walks every task of the worker: O(n log n) per task, so a run of n tasks costs O(n² log n).
Here the state notes which tasks changed since the scheduler last looked (every status change
goes through ``SimpleTaskState.set_status``; a task's workers change only in ``add_task`` and
when workers are removed), and the scheduler catches up on just those:

- each worker has a heap of the tasks it may run now (pending, every dependency done), ranked
  as luigi ranks them (priority, then the order they were added); assistants also draw from a
  heap of every runnable task. A task enters the heaps when it is added or changes, or when the
  last of its dependencies is done; handing out the next one costs O(log n);
- each worker's pending counts (``n_pending_tasks``, ``n_unique_pending``,
  ``n_pending_last_scheduled``) are kept up to date task by task instead of recounted.

luigi's own algorithm still decides wherever this is not modelled: once any task has
``resources`` or is batched, ``get_work`` is luigi's; while any task is disabled (luigi then
leaves out what waits on it), ``count_pending`` is luigi's.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import luigi.scheduler
from luigi.scheduler import DISABLED, DONE, FAILED, PENDING, RUNNING

DEFAULT_PRIORITY = luigi.scheduler.Task.DEFAULT_PRIORITY
COUNTED = (PENDING, FAILED)  # the statuses luigi's count_pending counts

# With prune_on_get_work, luigi prunes on every get_work; in one process nothing needs it that
# often: the worker is alive while it asks, and nothing expires within a run. Pruning still
# runs, this often, and as soon as a failed task's retry delay is over.
PRUNE_INTERVAL_S = 10.0


class _ObservedState(luigi.scheduler.SimpleTaskState):
    """luigi's task state, noting which tasks changed since the scheduler last caught up."""

    def __init__(self, state_path: str) -> None:
        super().__init__(state_path)
        self.changed: dict[str, None] = {}  # ordered: tasks are offered in the order they changed
        self.everything_changed = False

    def set_status(self, task: Any, new_status: str, config: Any = None) -> None:
        super().set_status(task, new_status, config)
        self.changed[task.id] = None

    def inactivate_tasks(self, delete_tasks: Iterable[str]) -> None:
        delete_tasks = list(delete_tasks)
        super().inactivate_tasks(delete_tasks)
        self.changed.update(dict.fromkeys(delete_tasks))

    def _remove_workers_from_tasks(self, workers: Any, remove_stakeholders: bool = True) -> None:
        super()._remove_workers_from_tasks(workers, remove_stakeholders)
        if workers:  # luigi's prune calls this every time, mostly with nobody to remove
            self.everything_changed = True

    def set_state(self, state: Any) -> None:
        super().set_state(state)
        self.everything_changed = True

    def load(self) -> None:
        super().load()
        self.everything_changed = True


Entry = tuple[int, float, int, str]  # (-priority, time added, sequence, task id): smallest is best


class _ReadyQueue:
    """The tasks one worker (or any assistant) may run now, best first. Entries are checked when
    they reach the top: one that no longer holds is dropped there."""

    def __init__(self) -> None:
        self.heap: list[Entry] = []
        self.priorities: dict[str, int] = {}  # task id -> priority of its newest entry

    def offer(self, task: Any, sequence: int) -> None:
        if task.id not in self.priorities:
            self.push(task, sequence)

    def push(self, task: Any, sequence: int) -> None:
        heapq.heappush(self.heap, (-task.priority, task.time, sequence, task.id))
        self.priorities[task.id] = task.priority

    def raise_priority(self, task: Any, sequence: int) -> None:
        if self.priorities.get(task.id, task.priority) != task.priority:
            self.push(task, sequence)  # the older entry is skipped when it comes up

    def top(self, valid: Callable[[str], bool]) -> Entry | None:
        while self.heap:
            entry = self.heap[0]
            task_id = entry[3]
            if self.priorities.get(task_id) != -entry[0]:
                heapq.heappop(self.heap)  # superseded by an entry at a higher priority
            elif not valid(task_id):
                heapq.heappop(self.heap)  # handed out, failed or gone; offered again if it returns
                del self.priorities[task_id]
            else:
                return entry
        return None

    def take(self) -> str:
        task_id = heapq.heappop(self.heap)[3]
        del self.priorities[task_id]
        return task_id


class HeapScheduler(luigi.scheduler.Scheduler):
    """luigi's ``Scheduler`` whose ``get_work`` and ``count_pending`` cost O(log n) per task
    handed out, not O(n log n); see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        observed = _ObservedState(self._config.state_path)
        observed._metrics_collector = self._state._metrics_collector
        self._state: _ObservedState = observed
        self._queues: dict[str, _ReadyQueue] = {}  # worker id -> what it may run now
        self._runnable: _ReadyQueue | None = None  # for assistants, built when the first one asks
        self._sequence = itertools.count()
        self._dependents: defaultdict[str, set[str]] = defaultdict(set)
        # Per task, its dependencies and how many of them, from the first, were last seen done:
        # a fan-in's last task is checked once per dependency, not once per dependency per dependency.
        self._done_prefix: dict[str, tuple[Any, int, list[str], int]] = {}
        # Per pending or failed task, the workers it is counted for, in luigi's order.
        self._counted: dict[str, tuple[str, ...]] = {}
        self._n_pending: Counter[str] = Counter()
        self._n_unique: Counter[str] = Counter()
        self._n_last_scheduled: Counter[str] = Counter()
        self._needs_luigi = False  # a task with resources or batching: luigi's get_work decides
        self._last_prune = 0.0
        self._next_retry = math.inf  # wall time when the first failed task may be retried

    # Keeping up with the state.

    def add_task(self, *args: Any, **kwargs: Any) -> Any:
        result = super().add_task(*args, **kwargs)
        task = self._state.get_task(kwargs.get("task_id", args[0] if args else None))
        if task is None:
            return result
        if task.resources or kwargs.get("batchable") or kwargs.get("batch_id"):
            self._needs_luigi = True
        for dependency in task.deps:
            self._dependents[dependency].add(task.id)
        self._state.changed[task.id] = None  # its workers, dependencies or priority may have changed
        return result

    def _catch_up(self) -> None:
        state = self._state
        if state.everything_changed:
            self._rebuild()
            return
        while state.changed:
            changed, state.changed = state.changed, {}
            for task_id in changed:
                task = state.get_task(task_id)
                self._recount(task_id, task)
                if task is None:
                    continue
                if task.status == DONE:
                    for dependent in self._dependents.get(task_id, ()):
                        self._offer(dependent)
                elif task.status == PENDING:
                    self._offer(task_id)
                elif task.status == FAILED and task.retry is not None:
                    self._next_retry = min(self._next_retry, task.retry)

    def _rebuild(self) -> None:
        """Everything from scratch, after luigi replaced the state or removed workers from tasks."""
        state = self._state
        state.everything_changed = False
        state.changed = {}
        self._queues.clear()
        self._runnable = None
        self._dependents.clear()
        self._done_prefix.clear()
        self._counted.clear()
        self._n_pending.clear()
        self._n_unique.clear()
        self._n_last_scheduled.clear()
        tasks = list(state.get_active_tasks())
        for task in tasks:
            for dependency in task.deps or ():
                self._dependents[dependency].add(task.id)
            if task.resources or getattr(task, "batchable", False) or getattr(task, "batch_id", None):
                self._needs_luigi = True
            self._recount(task.id, task)
        for task in tasks:
            if task.status == PENDING:
                self._offer(task.id)
        self._next_retry = self._first_retry()

    def _recount(self, task_id: str, task: Any) -> None:
        previous = self._counted.pop(task_id, None)
        if previous:
            self._count(previous, -1)
        if task is not None and task.status in COUNTED and task.workers:
            workers = tuple(task.workers)
            self._counted[task_id] = workers
            self._count(workers, 1)

    def _count(self, workers: tuple[str, ...], sign: int) -> None:
        for worker_id in workers:
            self._n_pending[worker_id] += sign
        if len(workers) == 1:
            self._n_unique[workers[0]] += sign
        self._n_last_scheduled[workers[-1]] += sign  # OrderedSet.peek(last=True): the last one added

    def _first_retry(self) -> float:
        failed = self._state.get_active_tasks_by_status(FAILED)
        return min((task.retry for task in failed if task.retry is not None), default=math.inf)

    # The ready queues.

    def _offer(self, task_id: str) -> None:
        """Put the task in the queues of the workers that may run it, if it can run now."""
        task = self._state.get_task(task_id)
        if task is None or task.status != PENDING or not self._dependencies_done(task):
            return
        sequence = next(self._sequence)
        for worker_id in task.workers:
            queue = self._queues.get(worker_id)
            if queue is None:
                queue = self._queues[worker_id] = _ReadyQueue()
            queue.offer(task, sequence)
        if self._runnable is not None and task.runnable:
            self._runnable.offer(task, sequence)

    def _dependencies_done(self, task: Any) -> bool:
        """Whether every dependency is done, resuming where the last look stopped. A dependency
        that was done and is not any more is caught when the task reaches the top of a queue."""
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

    def _update_priority(self, task: Any, prio: int, worker: str) -> None:
        # luigi raises the priority of what a task needs to the task's own; a raised task already
        # queued gets an entry at its new rank. Iterative where luigi recurses: a long chain must
        # not reach Python's recursion limit.
        stack: list[tuple[Any, float]] = [(task, prio)]
        while stack:
            current, priority = stack.pop()
            existing = current.priority if isinstance(current.priority, (int, float)) else DEFAULT_PRIORITY
            current.priority = priority = max(priority, existing)
            if priority != existing:  # only a raised task has a queued entry at the wrong rank
                sequence = next(self._sequence)
                for queue in [*map(self._queues.get, current.workers), self._runnable]:
                    if queue is not None:
                        queue.raise_priority(current, sequence)
            for dependency_id in current.deps or ():
                dependency = self._state.get_task(dependency_id)
                if dependency is not None and priority > dependency.priority:
                    stack.append((dependency, priority))

    def _runnable_queue(self) -> _ReadyQueue:
        if self._runnable is None:
            self._runnable = _ReadyQueue()
            for task in list(self._state.get_active_tasks_by_status(PENDING)):
                if task.runnable and self._dependencies_done(task):
                    self._runnable.offer(task, next(self._sequence))
        return self._runnable

    def _next_ready(self, worker_id: str, assistant: bool) -> Any:
        """The best-ranked task this worker may run now, as luigi would pick it; None if none."""

        def valid_for_worker(task_id: str) -> bool:
            task = self._state.get_task(task_id)
            return task is not None and worker_id in task.workers and self._schedulable(task)

        def valid_for_assistant(task_id: str) -> bool:
            task = self._state.get_task(task_id)
            return task is not None and task.runnable and self._schedulable(task)

        candidates = []
        own = self._queues.get(worker_id)
        if own is not None:
            candidates.append((own.top(valid_for_worker), own))
        if assistant:
            shared = self._runnable_queue()
            candidates.append((shared.top(valid_for_assistant), shared))
        ready = [(entry, queue) for entry, queue in candidates if entry is not None]
        if not ready:
            return None
        _, queue = min(ready, key=lambda candidate: candidate[0])
        return self._state.get_task(queue.take())

    # luigi's RPCs.

    def prune(self) -> None:
        # Pruning makes failed tasks pending again once their retry delay is over, whoever calls it.
        super().prune()
        self._next_retry = self._first_retry()
        active = self._state._active_workers
        for worker_id in [worker_id for worker_id in self._queues if worker_id not in active]:
            del self._queues[worker_id]

    def count_pending(self, worker: str) -> dict[str, Any]:
        self._catch_up()
        if self._state.get_active_task_count_for_status(DISABLED):
            # luigi leaves out every task that waits on a disabled one: its walk decides.
            return super().count_pending(worker)
        worker_id, worker_state = worker, self._state.get_worker(worker)
        running = []
        for task in self._state.get_active_tasks_by_status(RUNNING):
            if worker_id in task.workers:
                other_worker = self._state.get_worker(task.worker_running)
                running.append({"task_id": task.id, "worker": str(other_worker), **other_worker.info})
        return {
            "n_pending_tasks": self._n_pending[worker_id],
            "n_unique_pending": self._n_unique[worker_id],
            "n_pending_last_scheduled": self._n_last_scheduled[worker_id],
            "worker_state": worker_state.state,
            "running_tasks": running,
        }

    def get_work(self, host=None, assistant=False, current_tasks=None, worker=None, **kwargs):
        if self._needs_luigi:
            return super().get_work(
                host=host, assistant=assistant, current_tasks=current_tasks, worker=worker, **kwargs
            )
        self._catch_up()  # a task that failed since the last look sets when the next prune is due
        now = time.monotonic()
        # Only where luigi would prune on every get_work (its embedded scheduler does, luigid
        # does not), and then less often.
        due = now - self._last_prune >= PRUNE_INTERVAL_S or time.time() >= self._next_retry
        if self._config.prune_on_get_work and due:
            self._last_prune = now
            self.prune()
        worker_state = self._update_worker(worker, worker_reference={"host": host}, get_work=True)
        if not worker_state.enabled:
            return {
                "n_pending_tasks": 0,
                "running_tasks": [],
                "task_id": None,
                "n_unique_pending": 0,
                "worker_state": worker_state.state,
            }
        if assistant:
            self.add_worker(worker, [("assistant", assistant)])
        self._catch_up()
        best = self._unclaimed_running(worker, current_tasks)
        if best is None and not self._paused:
            best = self._next_ready(worker, assistant)
        reply = self.count_pending(worker)
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
