"""What the CLI calls a PIPELINE: a YAML file, or a Python task given as MODULE:TASK."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import luigi

from pipelines.errors import ParameterError
from pipelines.loading import import_module, load_task_class, parse_parameters

if TYPE_CHECKING:
    from pipelines.yaml.compile import CompiledPipeline

YAML_SUFFIXES = (".yaml", ".yml")


class PipelineSource(abc.ABC):
    """A pipeline the CLI can run: its parameters, its steps, and the goal tasks for an invocation."""

    name: str

    @abc.abstractmethod
    def parameters(self) -> dict[str, luigi.Parameter]: ...

    @abc.abstractmethod
    def has_value(self, name: str, parameter: luigi.Parameter) -> bool:
        """Whether a parameter left off the command line still has a value."""

    @abc.abstractmethod
    def goals(self, steps: list[str], values: dict[str, Any]) -> list[luigi.Task]: ...

    def parse(self, words: list[str], given: Iterable[str] = ()) -> tuple[list[str], dict[str, Any]]:
        """Step names and parameter values from the words after PIPELINE; ``given`` are supplied elsewhere."""
        supplied = set(given)
        values, steps = parse_parameters(
            self.parameters(),
            self.name,
            words,
            lambda name, p: name in supplied or self.has_value(name, p),
            required_for=self.required_for,
        )
        return steps, values

    def required_for(self, steps: list[str]) -> Iterable[str]:
        """The parameters that must have a value to build ``steps``: all of them, unless a source
        knows which each step uses."""
        return self.parameters()

    def check_varies_by(self, name: str, steps: list[str]) -> None:  # noqa: B027 - most sources cannot
        """Refuse a backfill over ``name`` that would build some output once for all the dates."""

    def tasks(self, words: list[str]) -> list[luigi.Task]:
        steps, values = self.parse(words)
        return self.goals(steps, values)


class YamlSource(PipelineSource):
    def __init__(self, compiled: CompiledPipeline) -> None:
        self.compiled = compiled
        self.name = compiled.spec.name
        self._parameters = compiled.parameters()

    def parameters(self) -> dict[str, luigi.Parameter]:
        return self._parameters

    def has_value(self, name: str, parameter: luigi.Parameter) -> bool:
        return self.compiled.spec.params[name].has_default

    def goals(self, steps: list[str], values: dict[str, Any]) -> list[luigi.Task]:
        return list(self.compiled.goals(steps, values))

    def required_for(self, steps: list[str]) -> set[str]:
        # Only what the goals and the steps they need use: --date is not asked for a step
        # that does not use it.
        scopes = self.compiled.scopes
        goals = steps or self.compiled.spec.final_steps()
        # A step's scope includes what the steps it needs use (it carries them to create them).
        # A step that does not exist is named as such by goals(), not here.
        return {name for step in goals if step in scopes for name in scopes[step].all}

    def check_varies_by(self, name: str, steps: list[str]) -> None:
        spec, scopes = self.compiled.spec, self.compiled.scopes
        pending, seen = list(steps or spec.final_steps()), set()
        while pending:
            step = pending.pop()
            if step in seen or step not in spec.steps:
                continue
            seen.add(step)
            if name in scopes[step].carried:
                raise ParameterError(
                    f"{spec.path}: steps.{step}: its outputs do not use {{{name}}} but the steps it "
                    f"reads do, so a backfill would build them once, from one day: put {{{name}}} in its "
                    "output URLs"
                )
            pending.extend(spec.steps[step].upstream_steps())


class TaskSource(PipelineSource):
    def __init__(self, task_class: type[luigi.Task]) -> None:
        self.task_class = task_class
        self.name = task_class.get_task_family()

    def parameters(self) -> dict[str, luigi.Parameter]:
        return dict(self.task_class.get_params())

    def has_value(self, name: str, parameter: luigi.Parameter) -> bool:
        return parameter.has_task_value(self.name, name)

    def goals(self, steps: list[str], values: dict[str, Any]) -> list[luigi.Task]:
        if steps:
            raise ParameterError(
                f"unexpected argument {steps[0]!r}: steps are named for YAML pipelines; "
                "task parameters are given as --name value"
            )
        try:
            return [self.task_class(**values)]
        except Exception as exc:
            raise ParameterError(f"cannot create {self.name}: {type(exc).__name__}: {exc}") from None


def open_pipeline(reference: str) -> PipelineSource:
    """A YAML pipeline file (``.yaml``/``.yml``) or a Python task (``MODULE:TASK``)."""
    if reference.endswith(YAML_SUFFIXES):
        from pipelines.yaml.compile import load_pipeline  # YAML support loads only for YAML files

        return YamlSource(load_pipeline(reference))
    return TaskSource(load_task_class(reference))


def load_sources(references: Iterable[str]) -> list[str]:
    """Define the tasks of YAML pipeline files and Python modules (dotted names or ``.py`` files,
    ``:TASK`` allowed and ignored), so that a worker can rebuild any of them; their names."""
    loaded = []
    for reference in references:
        if reference.endswith(YAML_SUFFIXES):
            from pipelines.yaml.compile import load_pipeline

            loaded.append(f"pipeline {load_pipeline(reference).spec.name} ({reference})")
        else:
            module_ref = reference.rpartition(":")[0] or reference
            loaded.append(f"module {import_module(module_ref).__name__} ({module_ref})")
    return loaded
