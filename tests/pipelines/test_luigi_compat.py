"""Every luigi API a user may call on a task behaves the same on ``pipelines.Task`` as on
``luigi.Task``: each test computes luigi's answer with a plain luigi.Task and compares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import luigi
import pytest
from luigi.task_register import Register, TaskClassAmbigiousException
from luigi.util import common_params, inherits, requires

import pipelines

BASES = {"luigi": luigi.Task, "pipelines": pipelines.Task}


@pytest.fixture(autouse=True)
def restore_registry() -> Iterator[None]:
    """Classes defined by a test leave luigi's registry as it was, as luigi's own tests do."""
    registered = list(Register._reg)
    Register.clear_instance_cache()
    yield
    Register._reg[:] = registered
    Register.clear_instance_cache()


def both(make: Any) -> tuple[Any, Any]:
    """``make(base)`` for a plain luigi.Task base and for pipelines.Task."""
    return make(luigi.Task), make(pipelines.Task)


def _common(base: type[luigi.Task]) -> dict[str, Any]:
    class J(base):
        param1 = luigi.Parameter()

    class K(base):
        param2 = luigi.Parameter()

    class L(base):
        param1 = luigi.Parameter()
        param2 = luigi.Parameter()

    return {
        "disjoint": common_params(K(param2="x"), J),
        "subset": common_params(L(param1="a", param2="b"), J),
        "same": common_params(L(param1="a", param2="b"), L),
    }


def test_common_params() -> None:
    expected, actual = both(_common)
    assert actual == expected
    assert actual["disjoint"] == {}


def test_common_params_after_an_instance_with_the_same_arguments() -> None:
    # The cache of resolved arguments must not answer a call for another class's parameters.
    class J(pipelines.Task):
        param1 = luigi.Parameter(default="j")

    class K(pipelines.Task):
        param2 = luigi.Parameter()

    K(param2="x")
    assert common_params(K(param2="x"), J) == {}


def _inherits(base: type[luigi.Task]) -> dict[str, Any]:
    class Upstream(base):
        day = luigi.Parameter()
        size = luigi.IntParameter(default=3)

    @inherits(Upstream)
    class Middle(base):
        extra = luigi.Parameter(default="e")

        def requires(self):
            return self.clone(Upstream)

    @requires(Middle)
    class Top(base):
        pass

    top = Top(day="d", size=5)
    return {
        "top": str(top),
        "params": sorted(name for name, _ in Top.get_params()),
        "requires": str(top.requires()),
        "upstream": str(top.requires().requires()),
    }


def test_inherits_and_requires() -> None:
    expected, actual = both(_inherits)
    assert actual == expected


def test_registry_does_not_hold_our_base_classes() -> None:
    class Task(luigi.Task):  # a user's own, un-namespaced
        pass

    class External(luigi.ExternalTask):
        pass

    assert Register.get_task_cls("Task") is Task
    assert Register.get_task_cls("External") is External
    assert pipelines.Task not in Register._reg and pipelines.External not in Register._reg


def test_subclasses_of_our_bases_are_found_by_name() -> None:
    class CompatReport(pipelines.Task):
        pass

    class CompatDrop(pipelines.External):
        pass

    assert Register.get_task_cls("CompatReport") is CompatReport
    assert Register.get_task_cls("CompatDrop") is CompatDrop


def test_two_user_classes_of_one_name_stay_ambiguous() -> None:
    def define() -> None:
        class Twice(pipelines.Task):
            pass

    define()
    define()
    with pytest.raises(TaskClassAmbigiousException):
        Register.get_task_cls("Twice")


def _params_round_trip(base: type[luigi.Task]) -> dict[str, Any]:
    class Shaped(base):
        n = luigi.IntParameter()
        names = luigi.ListParameter(default=("a",))
        options = luigi.DictParameter(default={})
        flag = luigi.BoolParameter()

    class Other(base):
        n = luigi.IntParameter()

    task = Shaped(n=2, names=["x", "y"], options={"k": 1}, flag=True)
    text = task.to_str_params()
    again = Shaped.from_str_params(text)
    return {
        "str": text,
        "same_instance": again is task,
        "id": again.task_id,
        "clone": str(task.clone(n=3)),
        "clone_other": str(task.clone(Other)),
        "kwargs": dict(task.param_kwargs),
        "positional": str(Shaped(4)),
        "family": Shaped.get_task_family(),
    }


def test_str_params_and_clone() -> None:
    expected, actual = both(_params_round_trip)
    assert actual == expected


def test_instances_are_cached_as_in_luigi() -> None:
    def cached(base: type[luigi.Task]) -> tuple[bool, bool]:
        class Cached(base):
            n = luigi.IntParameter(default=1)

        return Cached(n=1) is Cached(), Cached(n=1) is Cached(n=2)

    expected, actual = both(cached)
    assert actual == expected


def test_missing_and_unknown_parameters_fail_as_in_luigi() -> None:
    def errors(base: type[luigi.Task]) -> list[str]:
        class Needs(base):
            n = luigi.IntParameter()

        found = []
        for call in (lambda: Needs(), lambda: Needs(1, 2), lambda: Needs(m=1)):
            try:
                call()
            except Exception as exc:
                found.append(f"{type(exc).__name__}: {exc}")
        return found

    expected, actual = both(errors)
    assert actual == expected and len(actual) == 3


def test_arguments_are_resolved_once_per_new_task(monkeypatch: pytest.MonkeyPatch) -> None:
    # The speed win the cache exists for: luigi asks twice, the second answer is the first.
    calls = []
    resolve = luigi.Task.get_param_values.__func__

    def counting(cls: type[luigi.Task], *arguments: Any) -> Any:
        calls.append(cls)
        return resolve(cls, *arguments)

    monkeypatch.setattr(luigi.Task, "get_param_values", classmethod(counting))

    class Once(pipelines.Task):
        n = luigi.IntParameter()

    Once(n=1)
    assert calls == [Once]
