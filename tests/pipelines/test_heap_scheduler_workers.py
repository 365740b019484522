"""With several workers and assistants, the heap scheduler answers every RPC as luigi's does.

Both schedulers are driven through the same random sequence of calls, as workers sharing one
luigid would make them: several workers schedule overlapping parts of one random graph, ask
for work, report tasks done or failed, schedule more while others run; an assistant takes
whatever is runnable; someone forgives a failure or marks a task done by hand. Every reply is
compared, pending counts included.
"""

from __future__ import annotations

import random
from typing import Any

import luigi.scheduler
import pytest

from pipelines.execute.heap_scheduler import HeapScheduler

WORKERS = ["w1", "w2", "w3"]
ASSISTANT = "helper"
COMPARED = ("task_id", "n_pending_tasks", "n_unique_pending", "n_pending_last_scheduled", "worker_state")


class Clock:
    """time.time() for both schedulers: each call a microsecond later, and each RPC starting at
    the same time for both, a millisecond after the last. Tasks never tie on the time luigi ranks
    them by (its choice among equals would be left to a set's order), and a retry delay runs out
    at the same RPC for both."""

    def __init__(self) -> None:
        self.base = 1_700_000_000.0
        self.calls = 0

    def time(self) -> float:
        self.calls += 1
        return self.base + self.calls / 1_000_000

    def start_call(self) -> None:
        self.calls = 0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(luigi.scheduler.time, "time", clock.time)
    return clock


def comparable(method: str, reply: Any) -> Any:
    if not isinstance(reply, dict):
        return reply
    if method == "get_work":
        reply = {key: reply.get(key) for key in COMPARED} | {"running_tasks": reply.get("running_tasks", [])}
    # A serialized task's times are read from the clock at different calls in each scheduler.
    picked = {key: value for key, value in reply.items() if "time" not in key}
    if "running_tasks" in picked:  # luigi lists them in the order of a set of tasks
        picked["running_tasks"] = sorted(picked["running_tasks"], key=lambda task: task["task_id"])
    return picked


class Drive:
    """One random session of RPCs, replayed on both schedulers; each call's replies compared."""

    def __init__(self, clock: Clock, seed: int, size: int, config: dict[str, Any]) -> None:
        self.clock = clock
        self.random = random.Random(seed)
        self.schedulers = [luigi.scheduler.Scheduler(**config), HeapScheduler(**config)]
        self.deps = {
            index: sorted(self.random.sample(range(index), min(index, self.random.randint(0, 3))))
            for index in range(size)
        }
        self.running: dict[str, set[str]] = {worker: set() for worker in [*WORKERS, ASSISTANT]}
        self.calls = 0

    def call(self, method: str, **kwargs: Any) -> Any:
        replies = []
        for scheduler in self.schedulers:
            self.clock.start_call()
            replies.append(getattr(scheduler, method)(**kwargs))
        self.clock.base += 0.001
        self.calls += 1
        luigis, ours = (comparable(method, reply) for reply in replies)
        assert ours == luigis, f"call {self.calls}: {method}({kwargs})"
        return replies[0]

    def schedule(self, worker: str) -> None:
        """What a worker does for its goals: add each task it needs, deepest first."""
        goal = self.random.randrange(len(self.deps))
        seen: list[int] = []
        stack = [goal]
        while stack:
            index = stack.pop()
            if index not in seen:
                seen.append(index)
                stack.extend(self.deps[index])
        for index in reversed(seen):
            done = self.random.random() < 0.1
            self.call(
                "add_task",
                worker=worker,
                task_id=f"T{index}",
                status="DONE" if done else "PENDING",
                deps=[f"T{dep}" for dep in self.deps[index]],
                priority=self.random.choice([0, 0, 1, 5]),
                runnable=self.random.random() > 0.05,
                family="T",
                params={"index": str(index)},
            )

    def ask(self, worker: str) -> None:
        current = sorted(self.running[worker])
        reply = self.call("get_work", worker=worker, assistant=worker == ASSISTANT, current_tasks=current)
        if reply["task_id"]:
            self.running[worker].add(reply["task_id"])

    def finish(self, worker: str) -> None:
        if self.running[worker]:
            task_id = self.random.choice(sorted(self.running[worker]))
            self.running[worker].discard(task_id)
            status = "FAILED" if self.random.random() < 0.15 else "DONE"
            assistant = worker == ASSISTANT
            self.call("add_task", worker=worker, task_id=task_id, status=status, assistant=assistant)

    def step(self) -> None:
        worker = self.random.choice([*WORKERS, ASSISTANT])
        action = self.random.random()
        if action < 0.1 and worker != ASSISTANT:
            self.schedule(worker)
        elif action < 0.55:
            self.ask(worker)
        elif action < 0.95:
            self.finish(worker)
        elif action < 0.975:
            self.call("forgive_failures", task_id=f"T{self.random.randrange(len(self.deps))}")
        else:
            self.call("mark_as_done", task_id=f"T{self.random.randrange(len(self.deps))}")
        for someone in WORKERS:
            self.call("count_pending", worker=someone)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("prune_on_get_work", [False, True], ids=["luigid", "embedded"])
def test_several_workers_and_an_assistant_get_what_luigi_would_give_them(
    clock: Clock, seed: int, prune_on_get_work: bool
) -> None:
    # Not a whole number of RPCs: a retry is due at one RPC for both, not at the edge of one.
    config = {"prune_on_get_work": prune_on_get_work, "retry_delay": 0.0505}
    drive = Drive(clock, seed, size=60, config=config)
    for worker in WORKERS:
        drive.schedule(worker)
    for _ in range(400):
        drive.step()
    handed_out = drive.calls
    assert handed_out > 1000
    # Drain: everyone finishes and asks until nothing is left to hand out.
    for _ in range(300):
        for worker in [*WORKERS, ASSISTANT]:
            drive.finish(worker)
            drive.ask(worker)


def test_a_task_disabled_after_failures_leaves_its_dependents_out_of_the_counts(clock: Clock) -> None:
    config = {"retry_delay": 0, "retry_count": 2, "disable_window": 3600, "prune_on_get_work": True}
    drive = Drive(clock, 0, size=0, config=config)
    drive.call("add_task", worker="w1", task_id="flaky", status="PENDING")
    drive.call("add_task", worker="w1", task_id="after", status="PENDING", deps=["flaky"])
    drive.call("add_task", worker="w2", task_id="other", status="PENDING")
    for _ in range(2):
        assert drive.call("get_work", worker="w1")["task_id"] == "flaky"
        drive.call("add_task", worker="w1", task_id="flaky", status="FAILED")
    assert drive.schedulers[0]._state.get_task("flaky").status == "DISABLED"
    reply = drive.call("get_work", worker="w1")
    assert reply["task_id"] is None and reply["n_pending_tasks"] == 0
    assert drive.call("get_work", worker="w2")["task_id"] == "other"
    drive.call("re_enable_task", task_id="flaky")
    assert drive.call("get_work", worker="w1")["task_id"] == "flaky"
    drive.call("add_task", worker="w1", task_id="flaky", status="DONE")
    assert drive.call("get_work", worker="w1")["task_id"] == "after"


def test_a_worker_that_goes_away_leaves_its_tasks_to_the_others(clock: Clock) -> None:
    drive = Drive(clock, 0, size=0, config={"worker_disconnect_delay": 10, "retry_delay": 0})
    for worker in ("w1", "w2"):
        drive.call("add_task", worker=worker, task_id="shared", status="PENDING")
        drive.call("add_task", worker=worker, task_id=f"own-{worker}", status="PENDING", priority=1)
    assert drive.call("get_work", worker="w1")["task_id"] == "own-w1"
    drive.call("disable_worker", worker="w1")
    reply = drive.call("get_work", worker="w2")
    assert reply["task_id"] == "own-w2"
    assert reply["n_unique_pending"] == 2  # "shared" is w2's alone now
    assert drive.call("get_work", worker="w2")["task_id"] == "shared"


def test_a_queued_task_raised_by_a_dependent_comes_out_at_its_new_rank(clock: Clock) -> None:
    drive = Drive(clock, 0, size=0, config={})
    drive.call("add_task", worker="w1", task_id="early", status="PENDING", priority=1)
    drive.call("add_task", worker="w1", task_id="late", status="PENDING", priority=0)
    drive.call("count_pending", worker="w1")  # both queued at their first rank
    drive.call("add_task", worker="w2", task_id="urgent", status="PENDING", deps=["late"], priority=9)
    assert drive.call("get_work", worker="w1")["task_id"] == "late"
