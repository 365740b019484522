"""Which tasks must rebuild, and why: outputs, inputs, parameters and code against build records."""

from __future__ import annotations

import enum
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import luigi

from pipelines.assessment.errors import SharedOutputError
from pipelines.assessment.graph import Graph, Plan, build_graph, guarded, is_external, output_targets
from pipelines.assessment.record_store import read_records
from pipelines.assessment.records import BuildRecord, code_version, keyed_inputs, keyed_outputs, public_params
from pipelines.common.describe import describe
from pipelines.common.task_names import picked
from targets import BaseTarget, FileTarget
from targets.fingerprint import MISSING, describe_change
from targets.listing import observe_many, observed_in_bulk


class State(str, enum.Enum):
    UP_TO_DATE = "up to date"
    NO_RECORD = "no record"  # outputs exist but were never recorded: made before adoption, or by hand
    STALE = "stale"
    MISSING = "missing"
    UPSTREAM = "upstream"  # rebuilds only because a task it needs rebuilds
    FORCED = "forced"
    INPUT = "input"  # an external input that is present
    MISSING_INPUT = "missing input"


REBUILDS = frozenset({State.STALE, State.MISSING, State.UPSTREAM, State.FORCED})


class Cause(str, enum.Enum):
    """What kind of thing a reason is, so that reports count and colour by kind, not by parsing text.
    The value is how a count of them reads: "2 parameter changed" is pluralised by the reader."""

    MISSING = "output missing"
    PARAMETER = "parameter changed"
    CODE = "code version changed"
    INPUT = "input changed"  # changed, new, or no longer used
    OUTPUT_MODIFIED = "output modified outside the pipeline"
    INTERRUPTED = "last build did not finish"
    RECORD_UNREADABLE = "build record unreadable"
    UNRECORDED = "no build record"
    FAMILY = "made by another task family"
    UPSTREAM = "upstream rebuilds"
    FORCED = "forced"
    INPUT_MISSING = "input missing"


@dataclass(frozen=True)
class Difference:
    cause: Cause
    text: str


@dataclass
class Verdict:
    task: luigi.Task
    state: State
    reason: str = ""
    details: list[str] = field(default_factory=list)
    record: BuildRecord | None = None
    cause: Cause | None = None  # the kind of ``reason``; None when there is nothing to say

    @property
    def rebuilds(self) -> bool:
        return self.state in REBUILDS


@dataclass
class Assessment:
    verdicts: dict[str, Verdict]  # task_id -> verdict, dependencies first
    graph: Graph

    def rebuild_ids(self) -> set[str]:
        return {task_id for task_id, verdict in self.verdicts.items() if verdict.rebuilds}

    def recheck_ids(self) -> set[str]:
        """Tasks to judge again just before they run, for early cutoff: a stale one whose changed
        input an upstream rebuild may restore, or one rebuilt only because of what it needs."""
        return {
            task_id
            for task_id, verdict in self.verdicts.items()
            if verdict.state in (State.UPSTREAM, State.STALE) and verdict.record is not None
        }

    def counts(self) -> Counter[str]:
        return Counter(verdict.state.value for verdict in self.verdicts.values())

    def plan(self) -> Plan:
        """What a run would do: rebuild these, in order, unless a missing input blocks them."""
        blocked: set[str] = set()
        for task_id, verdict in self.verdicts.items():
            waits = any(
                self.verdicts[d].state is State.MISSING_INPUT or d in blocked
                for d in self.graph.edges[task_id]
            )
            if verdict.rebuilds and waits:
                blocked.add(task_id)
        needed_inputs = {
            d
            for task_id in blocked
            for d in self.graph.edges[task_id]
            if self.verdicts[d].state is State.MISSING_INPUT
        }
        return Plan(
            to_run=[v.task for i, v in self.verdicts.items() if v.rebuilds and i not in blocked],
            missing_inputs=[self.verdicts[i].task for i in self.verdicts if i in needed_inputs],
            blocked=[v.task for i, v in self.verdicts.items() if i in blocked],
            up_to_date=[v.task for v in self.verdicts.values() if not v.rebuilds],
        )


@dataclass(frozen=True)
class Policy:
    force_all: bool = False
    force: frozenset[str] = frozenset()  # step or task family names: rebuilt with everything downstream
    unrecorded_is_stale: bool = False


class Observations:
    """What storage says of targets, gathered with one listing per directory and reused."""

    def __init__(self, targets: list[luigi.Target] | None = None) -> None:
        self._seen: dict[int, Any] = observe_many(targets) if targets else {}
        self._keep = list(targets or [])  # the ids above stay valid while the targets live

    def of(self, target: luigi.Target) -> Any:
        if id(target) not in self._seen and observed_in_bulk(target):
            self._seen[id(target)] = target.observe()  # type: ignore[attr-defined]
            self._keep.append(target)
        return self._seen.get(id(target))

    def exists(self, target: luigi.Target) -> bool:
        observed = self.of(target)
        if observed is MISSING:
            return False
        if observed is not None and not getattr(target, "is_dataset", False):
            return True  # a dataset exists only with its marker: ask the target itself
        return target.exists()

    def matches(self, target: luigi.Target, recorded: Any) -> bool | None:
        if isinstance(target, BaseTarget):
            return target.matches(recorded, self.of(target))
        if isinstance(target, luigi.LocalTarget):
            return FileTarget(target.path).matches(recorded)
        return None  # a target that cannot fingerprint: existence decides

    def current(self, target: luigi.Target) -> Any:
        if isinstance(target, FileTarget):
            return target.fingerprint(with_hash=False, listed=self.of(target))
        if isinstance(target, luigi.LocalTarget):
            return FileTarget(target.path).fingerprint(with_hash=False)
        if isinstance(target, BaseTarget) and observed_in_bulk(target):
            return target.fingerprint(listed=self.of(target))  # type: ignore[call-arg]
        return None


def _or_none(value: object) -> str:
    """A recorded value as a reason shows it; a version or parameter that was not there is (none)."""
    return "(none)" if value is None else str(value)


def _record_differences(
    task: luigi.Task,
    record: BuildRecord,
    outputs: list[tuple[str, luigi.Target]],
    inputs: list[tuple[str, luigi.Target]],
    seen: Observations,
) -> list[Difference]:
    """Every way the task now differs from its record; the first is the root cause shown."""
    reasons: list[Difference] = []
    if record.extra.get("building"):
        reasons.append(
            Difference(Cause.INTERRUPTED, "its last build did not finish (interrupted, or failed)")
        )
        if record.extra.get("first build"):
            return reasons  # nothing was recorded to compare with
    if record.family != task.get_task_family():
        reasons.append(
            Difference(Cause.FAMILY, f"built by {record.family}, now made by {task.get_task_family()}")
        )
    # The task id digests the same parameters: equal ids, equal parameters.
    params = record.params if record.task_id == task.task_id else public_params(task)
    outside: frozenset[str] = getattr(task, "params_outside_identity", frozenset)()
    for name in sorted((set(params) | set(record.params)) - outside):
        before, after = record.params.get(name), params.get(name)
        if before != after:
            reasons.append(
                Difference(Cause.PARAMETER, f"param {name}: {_or_none(before)} → {_or_none(after)}")
            )
    version = code_version(task)
    if version != record.version:
        reasons.append(
            Difference(Cause.CODE, f"code version {_or_none(record.version)} → {_or_none(version)}")
        )
    for key, target in outputs:
        if key in record.outputs and seen.matches(target, record.outputs[key]) is False:
            change = describe_change(record.outputs[key], seen.current(target))
            reasons.append(
                Difference(Cause.OUTPUT_MODIFIED, f"output {key} modified outside the pipeline ({change})")
            )
    for key, target in inputs:
        if key not in record.inputs:
            reasons.append(Difference(Cause.INPUT, f"new input {key}"))
        elif not seen.exists(target):
            continue  # an input since removed (archived raw data, say) changes nothing already built
        elif seen.matches(target, record.inputs[key]) is False:
            change = describe_change(record.inputs[key], seen.current(target))
            reasons.append(Difference(Cause.INPUT, f"input {key} changed ({change})"))
    dropped = set(record.inputs) - {key for key, _ in inputs}
    reasons.extend(Difference(Cause.INPUT, f"input {key} no longer used") for key in sorted(dropped))
    return reasons


def assess_task(
    task: luigi.Task,
    record: BuildRecord | None,
    policy: Policy,
    outputs: list[luigi.Target] | None = None,
    inputs: list[tuple[str, luigi.Target]] | None = None,
    seen: Observations | None = None,
) -> Verdict:
    """The verdict on ``task`` alone, not counting what its dependencies will do."""
    seen = seen or Observations()
    if outputs is None:
        outputs = output_targets(task)
    if is_external(task):
        missing = [str(target) for target in outputs if not seen.exists(target)]
        if missing:
            return Verdict(
                task, State.MISSING_INPUT, "not found: " + ", ".join(missing), cause=Cause.INPUT_MISSING
            )
        return Verdict(task, State.INPUT)
    if policy.force_all or picked(policy.force, task.get_task_family()):
        return Verdict(task, State.FORCED, "forced", record=record, cause=Cause.FORCED)
    missing = [str(target) for target in outputs if not seen.exists(target)]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return Verdict(
            task, State.MISSING, f"output {missing[0]} missing{more}", record=record, cause=Cause.MISSING
        )
    if record is None:
        if policy.unrecorded_is_stale:
            return Verdict(
                task,
                State.STALE,
                "no build record (made before adoption, or by hand)",
                cause=Cause.UNRECORDED,
            )
        return Verdict(task, State.NO_RECORD, "outputs exist without a build record", cause=Cause.UNRECORDED)
    if record.extra.get("unreadable"):
        return Verdict(
            task,
            State.STALE,
            "build record unreadable (a write cut short?)",
            record=record,
            cause=Cause.RECORD_UNREADABLE,
        )
    if inputs is None:
        inputs = guarded(task, "requires()", lambda: keyed_inputs(task))
    differences = _record_differences(task, record, keyed_outputs(task, outputs), inputs, seen)
    if differences:
        texts = [difference.text for difference in differences]
        return Verdict(task, State.STALE, texts[0], texts, record, differences[0].cause)
    return Verdict(task, State.UP_TO_DATE, record=record)


def verifiably_current(task: luigi.Task, record: BuildRecord | None) -> bool:
    """Whether ``task`` may skip its run after an upstream rebuild (early cutoff): up to date
    against its record, and every input positively the recorded content, not merely
    "cannot tell" (a directory, or a target without fingerprints)."""
    if record is None or record.extra.get("building") or record.extra.get("unreadable"):
        return False
    seen = Observations()
    inputs = keyed_inputs(task)
    if assess_task(task, record, Policy(), inputs=inputs, seen=seen).state is not State.UP_TO_DATE:
        return False
    return all(
        key in record.inputs and seen.matches(target, record.inputs[key]) is True for key, target in inputs
    )


def _location(target: luigi.Target) -> str | None:
    """Where a file-like target writes, one spelling per place (``a/../b`` is ``b``)."""
    url = getattr(target, "url", None) if isinstance(target, BaseTarget) else None
    if url is None and isinstance(target, luigi.LocalTarget):
        url = target.path
    if not isinstance(url, str):
        return None  # a table, an index: its own identity, not a path
    return url if "://" in url else os.path.abspath(url)


def _refuse_shared_outputs(graph: Graph, outputs: dict[str, list[luigi.Target]]) -> None:
    """Two tasks writing one place would each overwrite the other's build and never settle."""
    writers: dict[str, luigi.Task] = {}
    for task in graph.order:
        if is_external(task):
            continue  # an input declared by its location, made elsewhere
        for target in outputs[task.task_id]:
            location = _location(target)
            if location is None:
                continue
            other = writers.setdefault(location, task)
            if other is not task:  # graph.order holds each task once
                raise SharedOutputError(
                    f"{describe(other)} and {describe(task)} both write {target}: "
                    "each would overwrite the other's build"
                )


def assess(goals: list[luigi.Task], policy: Policy | None = None) -> Assessment:
    """Decide, for every task the goals need, whether it rebuilds and why. Dependencies come first.

    Each task's requires() and output() are called once; storage is read with one
    listing per directory for outputs and one for build records.
    """
    policy = policy or Policy()
    graph = build_graph(goals)
    outputs = {task.task_id: output_targets(task) for task in graph.order}
    _refuse_shared_outputs(graph, outputs)
    seen = Observations([target for targets in outputs.values() for target in targets])
    records = read_records(graph.order, outputs)
    verdicts: dict[str, Verdict] = {}
    for task in graph.order:
        needs = graph.edges[task.task_id]
        inputs = keyed_inputs(task, [(dependency, outputs[dependency]) for dependency in needs])
        verdict = assess_task(task, records.get(task.task_id), policy, outputs[task.task_id], inputs, seen)
        upstream = [verdicts[dependency] for dependency in needs]
        forced = next((v for v in upstream if v.state is State.FORCED), None)
        if forced and verdict.state not in (State.INPUT, State.MISSING_INPUT, State.FORCED):
            verdict = Verdict(
                task,
                State.FORCED,
                f"downstream of forced {describe(forced.task)}",
                verdict.details,
                verdict.record,
                Cause.FORCED,
            )
        elif verdict.state in (State.UP_TO_DATE, State.NO_RECORD):
            rebuilding = next((v for v in upstream if v.rebuilds), None)
            if rebuilding is not None:
                verdict = Verdict(
                    task,
                    State.UPSTREAM,
                    f"{describe(rebuilding.task)} rebuilds",
                    record=verdict.record,
                    cause=Cause.UPSTREAM,
                )
        verdicts[task.task_id] = verdict
    return Assessment(verdicts, graph)
