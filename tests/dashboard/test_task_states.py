"""What the dashboard shows of each task: ``status``'s verdict unless a run says more."""

from __future__ import annotations

import luigi

from pipelines.assessment.graph import Graph
from pipelines.assessment.staleness import Assessment, Cause, State, Verdict
from pipelines.dashboard.graph_elements import family_label, graph_elements
from pipelines.dashboard.task_states import shown_states
from pipelines.execute.run_history import Run, TaskRun

STEP_1 = "Step(n=1)"


class Step(luigi.Task):
    n = luigi.IntParameter()


class Final(luigi.Task):
    pass


def _assessment(states: dict[int, State]) -> Assessment:
    steps = {n: Step(n=n) for n in states}
    final = Final()
    verdicts = {
        task.task_id: Verdict(task, states[n], reason=f"reason {n}", cause=Cause.INPUT)
        for n, task in steps.items()
    }
    verdicts[final.task_id] = Verdict(final, State.UPSTREAM, reason="a step rebuilds", cause=Cause.UPSTREAM)
    edges = {task.task_id: [] for task in steps.values()}
    edges[final.task_id] = [task.task_id for task in steps.values()]
    graph = Graph(goals=[final], order=[*steps.values(), final], edges=edges)
    return Assessment(verdicts, graph)


def _run(run_id: str, began: float, tasks: list[TaskRun], ended: bool, not_run: list | None = None) -> Run:
    run = Run(run_id, f"runs/{run_id}", began=began, host="another-machine", pid=1)
    run.tasks = {task.task_id: task for task in tasks}
    run.not_run = not_run or []
    if ended:
        run.ended, run.exit_code = began + 10, 1
    return run


def test_runs_add_running_failed_and_blocked_to_the_verdicts() -> None:
    assessment = _assessment({0: State.STALE, 1: State.STALE, 2: State.UP_TO_DATE, 3: State.STALE})
    ids = {task.param_kwargs.get("n", "final"): task.task_id for task in assessment.graph.order}
    blocked = {"task": ids["final"], "name": "Final()", "outcome": "not run", "blocked_by": [STEP_1]}
    failure = TaskRun(ids[1], STEP_1, "Step", 1.0, 2.0, "failed", error="disk full")
    failed_run = _run("r1", 1.0, [failure], ended=True, not_run=[blocked])
    live_run = _run("r2", 5.0, [TaskRun(ids[0], "Step(n=0)", "Step", 5.0, None, "running")], ended=False)
    shown = shown_states(assessment, [failed_run, live_run], running_at_scheduler=[ids[3]])

    assert shown[ids[0]].state == "running" and "in run r2 on another-machine" in shown[ids[0]].reason
    assert shown[ids[1]].state == "failed" and "disk full" in shown[ids[1]].reason
    assert shown[ids[2]].state == "up to date"
    assert shown[ids[3]].state == "running" and "at the scheduler" in shown[ids[3]].reason
    assert shown[ids["final"]].state == "blocked" and f"blocked by {STEP_1}" in shown[ids["final"]].reason

    # Built since: a failure of long ago says nothing about a task that is up to date now.
    rebuilt = _assessment(dict.fromkeys(range(4), State.UP_TO_DATE))
    assert shown_states(rebuilt, [failed_run])[ids[1]].state == "up to date"


def _drawn(elements: list[dict]) -> list[dict]:
    return [element["data"] for element in elements if "kind" in element["data"]]


def test_a_family_of_many_tasks_is_one_node_until_expanded() -> None:
    assessment = _assessment({n: State.UP_TO_DATE if n % 5 else State.STALE for n in range(400)})
    shown = shown_states(assessment, [])
    collapsed = graph_elements(assessment, shown)
    nodes = _drawn(collapsed.elements)
    edges = [element["data"] for element in collapsed.elements if "source" in element["data"]]
    family = next(node for node in nodes if node["kind"] == "family")
    final = next(node for node in nodes if node["kind"] == "task")
    assert len(nodes) == 2 and final["label"] == "Final\nupstream"
    assert family["label"] == family_label("Step", {"stale": 80, "up to date": 320})
    assert family["label"].startswith("Step ×400:")
    assert family["state"] == "stale"  # the most telling of its tasks
    assert [(edge["source"], edge["target"], edge["count"]) for edge in edges] == [
        (family["id"], final["id"], 400)
    ]

    drawn = _drawn(graph_elements(assessment, shown, expanded={"Step"}).elements)
    kinds = [node["kind"] for node in drawn]
    assert kinds.count("task") == 151 and kinds.count("more") == 1  # 150 steps, Final, and the rest
    labels = [node["label"] for node in drawn if node["kind"] == "task"]
    assert all(label.endswith("\nstale") for label in labels[:80])  # the stale ones come first
    assert "Step(n=0)\nstale" in labels  # named by the parameter that tells them apart

    only_stale = graph_elements(assessment, shown, visible=lambda task: shown[task].state != "up to date")
    (kept,) = [node for node in _drawn(only_stale.elements) if node["kind"] == "family"]
    assert kept["count"] == 80
