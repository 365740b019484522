"""Every project error derives from the one base and carries the exit code it ends a command with."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pipelines
import targets
from pipelines import ExitCode
from targets.errors import DashPipelineError

EXPECTED = {
    "PipelineError": ExitCode.INVALID_PIPELINE,
    "TargetError": ExitCode.INVALID_PIPELINE,
    "SchedulerError": ExitCode.SCHEDULER_ERROR,
    "StorageError": ExitCode.TASK_FAILED,
}


def project_exceptions() -> list[type[BaseException]]:
    found = {}
    for package in (pipelines, targets):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.endswith("__main__"):
                continue
            loaded = importlib.import_module(module.name)
            for _, value in inspect.getmembers(loaded, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__.startswith(("pipelines", "targets")):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_every_project_exception_derives_from_the_one_base() -> None:
    exceptions = project_exceptions()
    assert len(exceptions) > 10
    outside = [cls.__qualname__ for cls in exceptions if not issubclass(cls, DashPipelineError)]
    assert outside == []


def test_each_error_class_says_its_exit_code() -> None:
    by_name = {cls.__name__: cls for cls in project_exceptions()}
    for name, code in EXPECTED.items():
        assert by_name[name].exit_code == code, name
    documented = {int(code) for code in ExitCode}
    assert {cls.exit_code for cls in by_name.values()} <= documented


def test_error_classes_live_in_one_errors_module_per_layer() -> None:
    """Each stage's errors are in its ``errors`` module; loading.py, a stage of one module, keeps its own."""
    single_module_stages = {"pipelines.loading"}
    elsewhere = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in project_exceptions()
        if cls.__module__.rsplit(".", 1)[-1] != "errors" and cls.__module__ not in single_module_stages
    )
    assert elsewhere == []
