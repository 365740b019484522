"""What we rely on inside luigi still exists as we use it, and importing pipelines patches nothing."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import luigi
import pytest

from pipelines.execute import luigi_internals
from tests.helpers import REPO

EVERYTHING = {**luigi_internals.OVERRIDDEN, **luigi_internals.USED}


@pytest.mark.parametrize("dotted", sorted(EVERYTHING))
def test_each_luigi_internal_we_rely_on_is_still_there(dotted: str) -> None:
    found = luigi_internals.resolve(dotted)
    expected = EVERYTHING[dotted]
    if expected is not None:
        assert tuple(inspect.signature(found).parameters) == expected, dotted


def test_the_installed_luigi_is_supported() -> None:
    luigi_internals.check_version()


IMPORT_ONLY = """
import luigi, luigi.execution_summary, luigi.worker
def replaceable():
    get_params = luigi.Task.__dict__["get_params"]
    return (luigi.execution_summary._depth_first_search, luigi.worker.load_task, get_params)
before = replaceable()
import pipelines, pipelines.cli
from pipelines.execute import luigi_internals
assert replaceable() == before, "patched on import"
luigi_internals.install()
luigi_internals.install()
after = replaceable()
assert all(now is not then for now, then in zip(after, before)), "install() left one unreplaced"
assert after[0].__module__ == "pipelines.execute.luigi_summary"
luigi_internals.uninstall()
assert replaceable() == before
print("ok")
"""


class _Sized(luigi.Task):
    rows = luigi.IntParameter()
    region = luigi.Parameter(default="eu")


def test_cached_parameters_are_luigis_and_a_copy() -> None:
    luigi_internals.uninstall()
    try:
        plain = _Sized.get_params()
        luigi_internals.install()
        cached = _Sized.get_params()
        assert cached == plain
        cached.clear()  # a caller changing the list it got must not change the class's parameters
        assert _Sized.get_params() == plain
        assert _Sized(rows=3).param_kwargs == {"rows": 3, "region": "eu"}
    finally:
        luigi_internals.install()


def test_importing_pipelines_leaves_luigi_alone_until_a_run_installs() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert completed.stdout.strip() == "ok", completed.stderr


DEFERRED_IMPORTS = """
import sys
import pipelines, luigi
loaded = sorted(name for name in ("requests.exceptions", "jsonschema.validators") if name in sys.modules)
assert not loaded, f"loaded at start-up: {loaded}"
# Used, they are the real libraries: luigi validates a DictParameter's schema with jsonschema.
try:
    luigi.DictParameter(schema={"type": "object", "required": ["a"]}).normalize({"b": 1})
except Exception as exc:
    assert type(exc).__module__.startswith("jsonschema"), type(exc)
else:
    raise AssertionError("the schema was not checked")
import requests
assert requests.Session().get and "requests.exceptions" in sys.modules
from requests import exceptions
assert sys.modules["requests"].__file__.endswith("__init__.py")
print("ok")
"""


def test_requests_and_jsonschema_load_only_when_used() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", DEFERRED_IMPORTS], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert completed.stdout.strip() == "ok", completed.stderr


@pytest.mark.parametrize(
    ("module", "family", "params", "expected"),
    [
        (None, "NoSuchFamilyAnywhere", {}, "cannot load task NoSuchFamilyAnywhere: "),
        ("nowhere_module", "X", {}, "cannot load task X: importing its module 'nowhere_module' failed"),
        (__name__, "_Sized", {}, "cannot rebuild task _Sized from the parameters sent: "),
        (__name__, "_Sized", {"rows": "many"}, "cannot rebuild task _Sized from the parameters sent: "),
    ],
)
def test_a_task_that_cannot_be_rebuilt_is_luigis_load_error_naming_why(
    module: str | None, family: str, params: dict[str, str], expected: str
) -> None:
    from luigi.task_register import TaskClassException

    from pipelines.errors import TaskNotLoadable
    from pipelines.task import load_task_from_its_module

    with pytest.raises(TaskNotLoadable, match="^" + re.escape(expected)) as raised:
        load_task_from_its_module(module, family, params)
    # luigi's worker fails a task whose load raises this, instead of crashing.
    assert isinstance(raised.value, TaskClassException)


def test_a_task_is_rebuilt_from_its_module_and_parameters() -> None:
    from pipelines.task import load_task_from_its_module

    assert load_task_from_its_module(__name__, "_Sized", {"rows": "3"}) == _Sized(rows=3)
