"""How long a rebuild will take, from how long each task family took in past runs' journals.

Each family's successful builds give a median (p50) and a 90th percentile (p90). The tasks to
rebuild are then laid out on ``workers`` lanes in dependency order, each starting once what it
needs has finished and a lane is free, once with p50 durations and once with p90: the two
finishing times are the estimate. A family never built before has no duration; the estimate
says how many tasks it leaves out rather than guess.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import luigi

from pipelines.assessment.staleness import Assessment
from pipelines.execute.run_history import Run

# Durations kept per family, newest first: old runs of code since rewritten say little.
RECENT_BUILDS = 50


@dataclass(frozen=True)
class Estimate:
    p50: float
    p90: float
    tasks: int
    workers: int
    unknown: dict[str, int] = field(default_factory=dict)  # family -> tasks without a past duration

    @property
    def known(self) -> int:
        """The tasks it counts: those of families that ran before."""
        return self.tasks - sum(self.unknown.values())

    def text(self) -> str:
        if self.known == 0:
            return f"no past runs of these {self.tasks} tasks' families: no time estimate"
        lanes = f"{self.workers} workers" if self.workers > 1 else "1 worker"
        line = f"estimated {seconds_text(self.p50)} (p90 {seconds_text(self.p90)}) with {lanes}"
        if self.unknown:
            missing = sum(self.unknown.values())
            line += f"; {missing} of {self.tasks} tasks never ran before and are not counted"
        return line

    def as_dict(self) -> dict[str, object]:
        return {
            "p50_seconds": round(self.p50, 3),
            "p90_seconds": round(self.p90, 3),
            "tasks": self.tasks,
            "workers": self.workers,
            "unknown": self.unknown,
        }


def seconds_text(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def durations_by_family(runs: Iterable[Run]) -> dict[str, list[float]]:
    """Each family's successful build times, newest runs first, at most RECENT_BUILDS each."""
    found: defaultdict[str, list[float]] = defaultdict(list)
    for run in sorted(runs, key=lambda each: each.began, reverse=True):
        for task in run.tasks.values():
            seconds = task.seconds
            if task.outcome == "done" and seconds is not None and len(found[task.family]) < RECENT_BUILDS:
                found[task.family].append(seconds)
    return dict(found)


def estimate(
    to_run: list[luigi.Task],
    edges: Mapping[str, list[str]],
    durations: Mapping[str, list[float]],
    workers: int,
) -> Estimate:
    """The time to rebuild ``to_run`` (dependencies first) on ``workers`` lanes; see the module."""
    typical = {
        family: (percentile(seen, 0.5), percentile(seen, 0.9)) for family, seen in durations.items() if seen
    }
    unknown: defaultdict[str, int] = defaultdict(int)
    for task in to_run:
        if task.get_task_family() not in typical:
            unknown[task.get_task_family()] += 1
    finish = [_lay_out(to_run, edges, typical, workers, which) for which in (0, 1)]
    return Estimate(finish[0], finish[1], len(to_run), max(1, workers), dict(unknown))


def _lay_out(
    to_run: list[luigi.Task],
    edges: Mapping[str, list[str]],
    typical: Mapping[str, tuple[float, float]],
    workers: int,
    which: int,
) -> float:
    lanes = [0.0] * max(1, workers)  # a heap of when each lane is next free
    done_at: dict[str, float] = {}
    for task in to_run:
        ready = max((done_at.get(need, 0.0) for need in edges.get(task.task_id, ())), default=0.0)
        lane_free = heapq.heappop(lanes)
        start = max(ready, lane_free)
        took = typical.get(task.get_task_family(), (0.0, 0.0))[which]
        done_at[task.task_id] = start + took
        heapq.heappush(lanes, start + took)
    return max(done_at.values(), default=0.0)


def estimate_rebuild(assessment: Assessment, runs: Iterable[Run], workers: int) -> Estimate | None:
    """What rebuilding the assessment's stale tasks would take, from ``runs``; None when nothing would."""
    to_run = assessment.plan().to_run
    if not to_run:
        return None
    return estimate(to_run, assessment.graph.edges, durations_by_family(runs), workers)
