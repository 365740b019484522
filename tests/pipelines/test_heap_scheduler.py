"""The embedded scheduler hands out tasks as luigi's own does, only without its whole-graph scans:
the same order on the same graph, dynamic dependencies, worker processes, and luigi's own
algorithm whenever resources are involved."""

from __future__ import annotations

import json
import random
from pathlib import Path

import luigi
import luigi.interface
import pytest

from benchmarks.generated import PlainFanIn
from pipelines import run_tasks
from pipelines.errors import ExitCode
from pipelines.execute.heap_scheduler import HeapScheduler
from pipelines.execute.outcome import Outcome, RunObserver
from pipelines.execute.worker import WorkerFactory, WorkerOptions
from tests.pipelines.chain_tasks import Link

ORDER_LOG = "order.log"


class Node(luigi.Task):
    """A node of a generated graph: plain luigi, writes a file, logs when it runs."""

    root = luigi.Parameter()
    name = luigi.IntParameter()
    needs = luigi.ListParameter(default=())
    level = luigi.IntParameter(default=0)

    @property
    def priority(self) -> int:  # type: ignore[override]
        return self.level

    def requires(self):
        return [graph_node(self.root, index) for index in self.needs]

    def output(self):
        return luigi.LocalTarget(f"{self.root}/nodes/{self.name}.txt")

    def run(self):
        with open(f"{self.root}/{ORDER_LOG}", "a") as log:
            log.write(f"{self.name}\n")
        with self.output().open("w") as handle:
            handle.write("done")


GRAPHS: dict[str, dict[int, tuple[list[int], int]]] = {}


def graph_node(root: str, index: int) -> Node:
    needs, level = GRAPHS[root][index]
    return Node(root=root, name=index, needs=needs, level=level)


def random_graph(root: Path, size: int, seed: int) -> list[Node]:
    """A random DAG: each node needs up to 3 earlier ones; every priority distinct, so the order
    a scheduler picks is fully determined by the graph."""
    root.mkdir(parents=True)
    chooser = random.Random(seed)
    levels = chooser.sample(range(size * 10), size)
    GRAPHS[str(root)] = {
        index: (sorted(chooser.sample(range(index), min(index, chooser.randint(0, 3)))), levels[index])
        for index in range(size)
    }
    return [graph_node(str(root), index) for index in range(size)]


def run_order(root: Path) -> list[int]:
    return [int(line) for line in (root / ORDER_LOG).read_text().split()]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tasks_run_in_the_order_luigis_scheduler_picks(tmp_path: Path, seed: int) -> None:
    luigis, ours = tmp_path / "luigi", tmp_path / "ours"
    assert luigi.build(random_graph(luigis, 80, seed), local_scheduler=True, log_level="WARNING")
    report = run_tasks(random_graph(ours, 80, seed))
    assert report.exit_code == ExitCode.OK
    assert len(run_order(ours)) == 80
    assert run_order(ours) == run_order(luigis)


def test_the_embedded_scheduler_is_the_one_used(tmp_path: Path) -> None:
    factory = WorkerFactory(WorkerOptions(RunObserver()))
    assert isinstance(factory.create_local_scheduler(), HeapScheduler)
    assert type(luigi.interface._WorkerSchedulerFactory().create_local_scheduler()) is not HeapScheduler


class Parent(luigi.Task):
    """Finds out what it needs while running: luigi's dynamic dependencies."""

    root = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(f"{self.root}/parent.json")

    def run(self):
        children = yield [Child(root=self.root, index=index) for index in range(3)]
        with self.output().open("w") as handle:
            json.dump([child.open().read() for child in children], handle)


class Child(luigi.Task):
    root = luigi.Parameter()
    index = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"{self.root}/child-{self.index}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"child {self.index}")


@pytest.mark.parametrize("workers", [1, 2])
def test_dynamic_dependencies_run_with_any_number_of_processes(tmp_path: Path, workers: int) -> None:
    report = run_tasks([Parent(root=str(tmp_path))], workers=workers)
    assert report.exit_code == ExitCode.OK, [(task.name, task.error) for task in report.tasks]
    assert json.loads((tmp_path / "parent.json").read_text()) == [f"child {index}" for index in range(3)]


class Holder(luigi.Task):
    """Holds the one 'warehouse' resource while it runs, and notes who else held it meanwhile."""

    root = luigi.Parameter()
    index = luigi.IntParameter()
    resources = {"warehouse": 1}

    def output(self):
        return luigi.LocalTarget(f"{self.root}/held-{self.index}.txt")

    def run(self):
        lock = Path(self.root, "holding")
        try:
            lock.mkdir()  # fails if another process holds the resource
        except FileExistsError:
            raise AssertionError("two tasks held the warehouse at once") from None
        try:
            for _ in range(200_000):  # CPU work, long enough for the other process to try
                pass
            with self.output().open("w") as handle:
                handle.write("ok")
        finally:
            lock.rmdir()


def test_resources_are_left_to_luigis_algorithm_and_respected(tmp_path: Path) -> None:
    config = luigi.configuration.get_config()
    if not config.has_section("resources"):
        config.add_section("resources")
    config.set("resources", "warehouse", "1")
    try:
        report = run_tasks([Holder(root=str(tmp_path), index=index) for index in range(6)], workers=2)
    finally:
        config.remove_option("resources", "warehouse")
    assert report.exit_code == ExitCode.OK, [(task.name, task.error) for task in report.tasks]
    assert {task.outcome for task in report.tasks} == {Outcome.RAN}


def scheduler_lookups(monkeypatch: pytest.MonkeyPatch, build) -> int:
    """How many times the scheduler looked a task up while ``build`` ran: its work, counted."""
    calls = [0]
    original = luigi.scheduler.SimpleTaskState.get_task

    def counted(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(luigi.scheduler.SimpleTaskState, "get_task", counted)
        build()
    return calls[0]


def test_scheduling_work_grows_linearly_where_luigis_grows_quadratically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ours(n: int) -> int:
        root = str(tmp_path / f"ours-{n}")
        return scheduler_lookups(monkeypatch, lambda: run_tasks([PlainFanIn(root=root, n=n)]))

    def luigis(n: int) -> int:
        root = str(tmp_path / f"luigi-{n}")
        build = lambda: luigi.build([PlainFanIn(root=root, n=n)], local_scheduler=True, log_level="WARNING")  # noqa: E731
        return scheduler_lookups(monkeypatch, build)

    # Twice the tasks: about twice the work here, about four times the work in luigi's scheduler.
    ours_growth, luigis_growth = ours(400) / ours(200), luigis(400) / luigis(200)
    assert ours_growth < 2.3
    assert luigis_growth > 3.5


def both_schedulers(**config):
    """luigi's scheduler and ours, configured alike, to be driven through the same calls."""
    return [luigi.scheduler.Scheduler(**config), HeapScheduler(**config)]


def test_a_failed_task_is_handed_out_again_once_its_retry_delay_is_over() -> None:
    for scheduler in both_schedulers(retry_delay=0, prune_on_get_work=True):
        scheduler.add_task(worker="w", task_id="A", status="PENDING")
        assert scheduler.get_work(worker="w")["task_id"] == "A"
        scheduler.add_task(worker="w", task_id="A", status="FAILED")
        assert scheduler.get_work(worker="w")["task_id"] == "A", type(scheduler).__name__


def test_pending_counts_leave_out_what_no_worker_can_run() -> None:
    replies = []
    for scheduler in both_schedulers(prune_on_get_work=True):
        scheduler.add_task(worker="w", task_id="missing-input", status="PENDING", runnable=False)
        scheduler.add_task(worker="w", task_id="B", status="PENDING", deps=["missing-input"])
        scheduler.add_task(worker="w", task_id="C", status="PENDING")
        reply = scheduler.get_work(worker="w")
        replies.append({key: reply[key] for key in ("task_id", "n_pending_tasks", "n_unique_pending")})
    assert replies[0] == replies[1] == {"task_id": "C", "n_pending_tasks": 2, "n_unique_pending": 2}


def test_a_task_process_result_comes_before_the_workers_note_that_it_died() -> None:
    import multiprocessing

    from pipelines.execute.worker import _InProcessFirstQueue

    results = _InProcessFirstQueue(multiprocessing.Queue())
    child = multiprocessing.get_context("fork").Process(target=results.put, args=(("T", "DONE"),))
    child.start()
    child.join()
    results.put(("T", "FAILED: the task process died"))  # what luigi's _purge_children would say
    assert results.get(timeout=10) == ("T", "DONE")
    assert results.get(timeout=10) == ("T", "FAILED: the task process died")


def test_a_failure_under_a_long_chain_is_reported_not_a_recursion_error(tmp_path: Path) -> None:
    # luigi's own summary searched the graph recursively: 1,000 levels were too many.
    report = run_tasks([Link(root=str(tmp_path), n=2500)])
    assert report.exit_code == ExitCode.TASK_FAILED
    not_run = [task for task in report.tasks if task.outcome is Outcome.NOT_RUN]
    assert len(not_run) == 2499
    assert {tuple(task.blocked_by) for task in not_run} == {(f"Link(root={tmp_path}, n=1)",)}
    assert {task.error for task in not_run} == {"a task it needs failed"}
