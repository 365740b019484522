"""The task graph as cytoscape elements: one node per task family ("Part ×10,000: 9,998 up to date,
2 stale") unless the family is expanded or has one task, edges between what is shown, and
positions worked out here (a column per depth) so the browser lays out nothing."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import luigi

from pipelines.assessment.staleness import Assessment
from pipelines.dashboard.task_states import STATE_ORDER, Shown, most_telling, slug
from targets.storage import redact_text

# An expanded family shows this many of its tasks, the most telling first; one node stands for the rest.
EXPANDED_MOST = 150
COLUMN_WIDTH = 300
ROW_HEIGHT = 70


@dataclass(frozen=True)
class GraphView:
    elements: list[dict[str, Any]]
    families: int
    tasks_shown: int


def family_label(family: str, states: Mapping[str, int]) -> str:
    total = sum(states.values())
    parts = ", ".join(f"{states[state]:,} {state}" for state in STATE_ORDER if states.get(state))
    return f"{family} ×{total:,}:\n{parts}"


def short_names(tasks: list[luigi.Task]) -> dict[str, str]:
    """Names for tasks of one family drawn side by side: the family and the parameters whose
    values differ between them (the full name is in the panel and the table)."""
    params = {task.task_id: task.to_str_params(only_significant=True, only_public=True) for task in tasks}
    keys = [
        key
        for key in (params[tasks[0].task_id] if tasks else {})
        if len({p.get(key) for p in params.values()}) > 1
    ]
    names = {}
    for task in tasks:
        shown = ", ".join(f"{key}={redact_text(params[task.task_id][key])}" for key in keys)
        names[task.task_id] = task.get_task_family() + (f"({shown})" if shown else "")
    return names


def node_width(label: str) -> float:
    """Pixels for the label's longest line at the graph's font size, within bounds (longer wraps)."""
    return max(90.0, min(COLUMN_WIDTH - 40.0, 6.4 * max(len(line) for line in label.splitlines())))


def graph_elements(
    assessment: Assessment,
    shown: Mapping[str, Shown],
    expanded: Collection[str] = (),
    visible: Callable[[str], bool] | None = None,
) -> GraphView:
    tasks = assessment.graph.tasks
    edges = assessment.graph.edges
    depth: dict[str, int] = {}
    for task_id in assessment.verdicts:  # dependencies first
        depth[task_id] = 1 + max(
            (depth[need] for need in edges.get(task_id, ()) if need in depth), default=-1
        )
    members: dict[str, list[str]] = {}
    for task_id in assessment.verdicts:
        if visible is None or visible(task_id):
            members.setdefault(tasks[task_id].get_task_family(), []).append(task_id)

    nodes: dict[str, dict[str, Any]] = {}
    node_of: dict[str, str] = {}
    node_depth: dict[str, int] = {}

    def add_group(kind: str, family: str, ids: list[str], states: dict[str, int], label: str) -> None:
        """One node standing for several tasks of a family: the whole family, or the rest of one."""
        node = f"{kind}:{family}"
        nodes[node] = {
            "id": node,
            "label": label,
            "kind": kind,
            "family": family,
            "state": slug(most_telling(states)),
            "count": len(ids),
        }
        node_depth[node] = min(depth[task_id] for task_id in ids)
        node_of.update(dict.fromkeys(ids, node))

    order = {state: rank for rank, state in enumerate(STATE_ORDER)}
    for family, ids in members.items():
        if len(ids) > 1 and family not in expanded:
            states = _state_counts(ids, shown)
            add_group("family", family, ids, states, family_label(family, states))
            continue
        ranked = sorted(ids, key=lambda task_id: order.get(shown[task_id].state, len(order)))
        names = short_names([tasks[task_id] for task_id in ranked[:EXPANDED_MOST]])
        for task_id in ranked[:EXPANDED_MOST]:
            node = f"task:{task_id}"
            nodes[node] = {
                "id": node,
                "label": f"{names[task_id]}\n{shown[task_id].state}",
                "kind": "task",
                "family": family,
                "task_id": task_id,
                "state": slug(shown[task_id].state),
            }
            node_depth[node] = depth[task_id]
            node_of[task_id] = node
        rest = ranked[EXPANDED_MOST:]
        if rest:
            states = _state_counts(rest, shown)
            counted = ", ".join(f"{n:,} {state}" for state, n in states.items())
            add_group("more", family, rest, states, f"{len(rest):,} more of {family}: {counted}")

    links: dict[tuple[str, str], int] = {}
    for task_id, node in node_of.items():
        for need in edges.get(task_id, ()):
            source = node_of.get(need)
            if source is not None and source != node:
                links[(source, node)] = links.get((source, node), 0) + 1

    columns = {value: index for index, value in enumerate(sorted(set(node_depth.values())))}
    rows: dict[int, int] = {}
    elements: list[dict[str, Any]] = []
    for node, data in nodes.items():
        data["width"] = node_width(data["label"])
        column = columns[node_depth[node]]
        row = rows.get(column, 0)
        rows[column] = row + 1
        elements.append(
            {
                "data": data,
                "position": {"x": column * COLUMN_WIDTH, "y": row * ROW_HEIGHT},
                "classes": f"{data['kind']} {data['state']}",
            }
        )
    for (source, target), count in links.items():
        elements.append(
            {"data": {"id": f"{source}->{target}", "source": source, "target": target, "count": count}}
        )
    shown_tasks = sum(1 for node in nodes.values() if node["kind"] == "task")
    return GraphView(elements, len(members), shown_tasks)


def _state_counts(ids: list[str], shown: Mapping[str, Shown]) -> dict[str, int]:
    found: dict[str, int] = {}
    for task_id in ids:
        found[shown[task_id].state] = found.get(shown[task_id].state, 0) + 1
    return {state: found[state] for state in STATE_ORDER if state in found}
