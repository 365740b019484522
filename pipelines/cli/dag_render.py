"""A task graph as text (a tree), Graphviz dot, Mermaid or JSON."""

from __future__ import annotations

import json

from pipelines.assessment.graph import Graph, outputs_of
from pipelines.common.describe import describe

FORMATS = ("text", "dot", "mermaid", "json")


def render(graph: Graph, fmt: str) -> str:
    return {"text": as_text, "dot": as_dot, "mermaid": as_mermaid, "json": as_json}[fmt](graph)


def as_text(graph: Graph) -> str:
    """Each goal with what it needs below it; a subtree already shown is not repeated."""
    tasks, lines, shown = graph.tasks, [], set()

    # Depth first with a stack of its own, not recursion: a chain of thousands of tasks is ordinary.
    stack = [(goal.task_id, "", True, True) for goal in reversed(graph.goals)]
    while stack:
        task_id, prefix, last, top = stack.pop()
        connector = "" if top else ("└── " if last else "├── ")
        repeated = task_id in shown and graph.edges[task_id]
        lines.append(f"{prefix}{connector}{describe(tasks[task_id])}" + ("  (see above)" if repeated else ""))
        if repeated:
            continue
        shown.add(task_id)
        children = graph.edges[task_id]
        child_prefix = prefix if top else prefix + ("    " if last else "│   ")
        for index in reversed(range(len(children))):
            stack.append((children[index], child_prefix, index == len(children) - 1, False))
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def as_dot(graph: Graph) -> str:
    ids = {task_id: f"t{index}" for index, task_id in enumerate(graph.tasks)}
    lines = ["digraph pipeline {", "  rankdir=LR;", "  node [shape=box];"]
    for task_id, task in graph.tasks.items():
        lines.append(f"  {ids[task_id]} [label={_quote(describe(task))}];")
    for task_id, dependencies in graph.edges.items():
        lines.extend(f"  {ids[dependency]} -> {ids[task_id]};" for dependency in dependencies)
    lines.append("}")
    return "\n".join(lines)


def as_mermaid(graph: Graph) -> str:
    ids = {task_id: f"t{index}" for index, task_id in enumerate(graph.tasks)}
    lines = ["graph LR"]
    for task_id, task in graph.tasks.items():
        text = describe(task).replace('"', "#quot;")
        lines.append(f'  {ids[task_id]}["{text}"]')
    for task_id, dependencies in graph.edges.items():
        lines.extend(f"  {ids[dependency]} --> {ids[task_id]}" for dependency in dependencies)
    return "\n".join(lines)


def as_json(graph: Graph) -> str:
    nodes = [
        {
            "id": task_id,
            "name": describe(task),
            "family": task.get_task_family(),
            "params": task.to_str_params(only_significant=True, only_public=True),
            "outputs": outputs_of(task),
            "requires": graph.edges[task_id],
        }
        for task_id, task in graph.tasks.items()
    ]
    return json.dumps({"goals": [goal.task_id for goal in graph.goals], "tasks": nodes}, indent=2)
