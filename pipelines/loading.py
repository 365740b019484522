"""Resolve ``MODULE:TASK`` to a luigi Task class and command-line words to its parameters."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import luigi
from luigi.parameter import ParameterVisibility

from pipelines.common.error_text import error_location
from pipelines.common.suggest import did_you_mean
from pipelines.common.task_attributes import check_task_attributes
from pipelines.common.value_words import expected_words, with_article
from pipelines.errors import ParameterError, TaskLoadError
from pipelines.shadowing import hides_our_package, shadowed_reference


class UnknownParameter(ParameterError):
    """A ``--name`` that is none of the parameters of a task or pipeline.

    It keeps what it was given so that the command line can also suggest an option of its own:
    ``--wokers`` is more likely a misspelt ``--workers`` of ``dashpipe run`` than a parameter.
    """

    def __init__(self, owner: str, option: str, known: Sequence[str]) -> None:
        self.owner, self.option, self.known = owner, option, list(known)
        super().__init__(self.describe())

    def describe(self, other_options: Iterable[str] = ()) -> str:
        """The message, suggesting the closest of the parameters and ``other_options``."""
        listing = ", ".join(self.known) or "none"
        hint = did_you_mean(self.option, [*self.known, *other_options])
        return f"{self.owner} has no parameter {self.option} (its parameters: {listing}){hint}"


def _import_error(reference: str, exc: BaseException) -> TaskLoadError:
    if isinstance(exc, SyntaxError):
        return TaskLoadError(
            f"cannot import {reference}: syntax error at {exc.filename}:{exc.lineno}: {exc.msg}"
        )
    # The innermost frame is often the standard library's (os.environ[...] fails in <frozen os>):
    # the user's own line is the one to fix, the same rule a failing task's report follows.
    location = error_location("".join(traceback.format_exception(exc, chain=False)))
    if location is not None:
        where = " at " + location.split(", in ", 1)[0]
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return TaskLoadError(f"cannot import {reference}: {type(exc).__name__}{where}: {exc}")


def _module_name_for_file(path: Path) -> tuple[str, Path]:
    """The dotted name of ``path`` and the directory to import it from (like pytest's rootdir logic)."""
    parts = [path.stem]
    directory = path.parent
    # A user's own pipelines/ or targets/ package cannot be imported under its name: that name is
    # dash-pipeline's package, already imported. Its files are imported from inside it instead.
    while (directory / "__init__.py").exists() and not hides_our_package(directory):
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts), directory


def make_importable_from(path: Path) -> None:
    """Let modules next to ``path``, in the package that holds it, or in the current directory import."""
    path = path.resolve()
    _, package_root = _module_name_for_file(path)
    for directory in (os.getcwd(), str(package_root), str(path.parent)):
        if directory not in sys.path:
            sys.path.insert(0, directory)


def import_module(reference: str) -> ModuleType:
    """Import a dotted module name (from the current directory too) or a ``.py`` file path."""
    if reference.endswith(".py") or os.sep in reference:
        path = Path(reference).resolve()
        if not path.is_file():
            raise TaskLoadError(f"no such file: {reference}")
        name, root = _module_name_for_file(path)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
    else:
        name, path = reference, None
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise TaskLoadError(f"cannot import module {reference!r}: no module named {exc.name!r}") from None
        raise _import_error(reference, exc) from None
    except Exception as exc:
        raise _import_error(reference, exc) from None
    if path is not None and Path(module.__file__ or "").resolve() != path:
        raise TaskLoadError(f"{reference} is shadowed by another module named {name!r} at {module.__file__}")
    return module


def relative_task_reference(spec: str, base_directory: Path) -> str:
    """``file.py:Task`` named in a pipeline file is looked up beside that file first."""
    module_ref, sep, task_name = spec.rpartition(":")
    if sep and module_ref.endswith(".py") and not os.path.isabs(module_ref):
        candidate = base_directory / module_ref
        if candidate.is_file():
            return f"{candidate}:{task_name}"
    return spec


def load_task_class(spec: str) -> type[luigi.Task]:
    """``"package.module:Task"`` or ``"path/to/file.py:Task"`` → the Task class."""
    module_ref, sep, task_name = spec.rpartition(":")
    if not sep or not module_ref or not task_name:
        raise TaskLoadError(
            f"expected MODULE:TASK (e.g. examples/sales/pipeline.py:SalesReport), got {spec!r}"
        )
    if not (module_ref.endswith(".py") or os.sep in module_ref):
        # Before importing: the import would find our package and report the user's file missing.
        shadowed = shadowed_reference(module_ref, task_name, [os.getcwd(), *sys.path])
        if shadowed is not None:
            raise TaskLoadError(shadowed)
    module = import_module(module_ref)
    tasks = sorted(
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, luigi.Task) and value.__module__ == module.__name__
    )
    task_class = getattr(module, task_name, None)
    if task_class is None:
        listing = f" (tasks there: {', '.join(tasks)})" if tasks else " (it defines no luigi tasks)"
        raise TaskLoadError(f"no task {task_name!r} in {module_ref}{listing}{did_you_mean(task_name, tasks)}")
    if not (inspect.isclass(task_class) and issubclass(task_class, luigi.Task)):
        raise TaskLoadError(f"{spec} is a {type(task_class).__name__}, not a luigi Task class")
    # Every task of the module, not only the one named: its upstream tasks are mostly there, and
    # a wrong retry or timeout is better refused before the run than found when a step fails.
    for value in vars(module).values():
        if inspect.isclass(value) and issubclass(value, luigi.Task) and value.__module__ == module.__name__:
            check_task_attributes(value)
    check_task_attributes(task_class)
    return task_class


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _shown(parameter: luigi.Parameter, raw: str) -> str:
    """``raw`` for messages, unless luigi marks the parameter hidden or private."""
    return repr(raw) if parameter.visibility == ParameterVisibility.PUBLIC else "the value given"


def parse_parameters(
    declared: dict[str, luigi.Parameter],
    owner: str,
    words: list[str],
    has_value: Callable[[str, luigi.Parameter], bool],
    required_for: Callable[[list[str]], Iterable[str]] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Parse ``--name value``, ``--name=value``, ``--flag`` and ``--no-flag`` against ``declared``.

    Returns the values and the bare words (step names). A value that starts
    with ``--`` must be written ``--name=VALUE``. ``has_value`` says whether a
    parameter left out has a value anyway (a default, or luigi.cfg).
    ``required_for`` names, for the bare words given, the parameters that must
    have a value (by default every one declared).
    """
    options = sorted(_option(name) for name in declared)
    values: dict[str, Any] = {}
    bare: list[str] = []
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if not word.startswith("--"):
            bare.append(word)
            continue
        if word == "--":
            continue
        name, has_inline_value, inline_value = word[2:].partition("=")
        key = name.replace("-", "_")
        if key not in declared and isinstance(declared.get(key.removeprefix("no_")), luigi.BoolParameter):
            if has_inline_value:
                raise ParameterError(f"--{name} of {owner} takes no value; write {_option(key[3:])}=VALUE")
            values[key[3:]] = False
            continue
        parameter = declared.get(key)
        if parameter is None:
            raise UnknownParameter(owner, "--" + name, options)
        is_flag = (
            isinstance(parameter, luigi.BoolParameter)
            and parameter.parsing != luigi.BoolParameter.EXPLICIT_PARSING
        )
        if is_flag and not has_inline_value:
            values[key] = True
            continue
        if has_inline_value:
            raw = inline_value
        elif position < len(words) and not words[position].startswith("--"):
            raw = words[position]
            position += 1
        else:
            raise ParameterError(
                f"--{name} of {owner} needs a value (write --{name}=VALUE if the value starts with '-')"
            )
        try:
            values[key] = parameter.parse(raw)
        except Exception as exc:
            expected = expected_words(parameter)
            # Python's own message ("invalid literal for int() with base 10") says less than the
            # accepted forms do; for other kinds it is all there is (a choice lists its choices).
            said = expected is None and parameter.visibility == ParameterVisibility.PUBLIC
            expected = expected or with_article(type(parameter).__name__.removesuffix("Parameter").lower())
            raise ParameterError(
                f"--{name} of {owner}: cannot read {_shown(parameter, raw)} as {expected}"
                + (f": {exc}" if said else "")
            ) from None
    required = set(required_for(bare)) if required_for is not None else set(declared)
    missing = [
        _option(name)
        for name, parameter in declared.items()
        if name in required and name not in values and not has_value(name, parameter)
    ]
    if missing:
        raise ParameterError(f"{owner} needs {', '.join(missing)}")
    return values, bare


def parse_task_parameters(task_class: type[luigi.Task], words: list[str]) -> dict[str, Any]:
    """Parameters of a Python task class from command-line words; bare words are an error."""
    family = task_class.get_task_family()
    values, bare = parse_parameters(
        dict(task_class.get_params()), family, words, lambda name, p: p.has_task_value(family, name)
    )
    if bare:
        raise ParameterError(f"unexpected argument {bare[0]!r}; task parameters are given as --name value")
    return values


def build_task(spec: str, words: list[str]) -> luigi.Task:
    """Load the task class named by ``spec`` and instantiate it with parameters from ``words``."""
    task_class = load_task_class(spec)
    values = parse_task_parameters(task_class, words)
    try:
        return task_class(**values)
    except Exception as exc:
        raise ParameterError(
            f"cannot create {task_class.get_task_family()}: {type(exc).__name__}: {exc}"
        ) from None


# The first that fits wins: subclasses come before the classes they specialise.
_SAMPLE_TEXT: tuple[tuple[type[luigi.Parameter[Any]], str], ...] = (
    (luigi.DateSecondParameter, "2026-01-31T000000"),
    (luigi.DateMinuteParameter, "2026-01-31T0000"),
    (luigi.DateHourParameter, "2026-01-31T00"),
    (luigi.MonthParameter, "2026-01"),
    (luigi.YearParameter, "2026"),
    (luigi.DateParameter, "2026-01-31"),
    (luigi.DateIntervalParameter, "2026-01-31"),
    (luigi.TimeDeltaParameter, "1 d"),
    (luigi.BoolParameter, "true"),
    (luigi.IntParameter, "1"),
    (luigi.FloatParameter, "1.5"),
    (luigi.DictParameter, "{}"),
    (luigi.ListParameter, "[]"),
    (luigi.TupleParameter, "[]"),
    (luigi.Parameter, "sample"),  # fits where text goes in URLs, as the YAML checks' samples do
)


def sample_value(parameter: luigi.Parameter) -> Any:
    """A value of the parameter's kind, to build a task with when only its structure is checked."""
    if isinstance(parameter, luigi.ChoiceParameter):
        return sorted(parameter._choices, key=str)[0]
    if isinstance(parameter, luigi.EnumParameter):
        members: type[Enum] = parameter._enum
        return next(iter(members))
    if isinstance(parameter, luigi.NumericalParameter):
        return parameter._min_value
    text = next(text for kind, text in _SAMPLE_TEXT if isinstance(parameter, kind))
    return parameter.normalize(parameter.parse(text))


def parameters_for_checking(
    task_class: type[luigi.Task], words: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parameters of ``task_class`` from ``words``, and a sample value for each one without a value.

    Returns the values and, for the report, each sampled parameter's option and value as text.
    """
    family = task_class.get_task_family()
    declared = dict(task_class.get_params())
    values, bare = parse_parameters(declared, family, words, lambda name, parameter: True)
    if bare:
        raise ParameterError(f"unexpected argument {bare[0]!r}; task parameters are given as --name value")
    sampled: dict[str, str] = {}
    for name, parameter in declared.items():
        if name in values or parameter.has_task_value(family, name):
            continue
        try:
            values[name] = sample_value(parameter)
        except Exception:
            raise ParameterError(
                f"{family} needs {_option(name)} to be checked: no sample value for a "
                f"{type(parameter).__name__}; give one on the command line"
            ) from None
        sampled[_option(name)] = parameter.serialize(values[name])
    return values, sampled
