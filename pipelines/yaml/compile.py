"""Turn a validated :class:`PipelineSpec` into luigi Task classes, one per step."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any, ClassVar

import luigi

from pipelines.common import hooks
from pipelines.common.suggest import did_you_mean
from pipelines.errors import PipelineError
from pipelines.loading import load_task_class, relative_task_reference
from pipelines.task import External, Task
from pipelines.yaml.execute import call_function, run_command
from pipelines.yaml.params import luigi_parameter
from pipelines.yaml.scope import ParamScope, function_params, param_scopes
from pipelines.yaml.spec import InputSpec, OutputSpec, PipelineSpec, StepSpec
from pipelines.yaml.templates import render, resolve_env
from pipelines.yaml.validate import load_pipeline_spec
from targets import BaseTarget, target_for_url


class ExternalInput(External):
    """An external input of a YAML step; ``${env:NAME}`` in its options is resolved when used."""

    def resolved_options(self) -> dict[str, Any]:
        return resolve_env(dict(self.options), f"input {self.url}")


class YamlStep(Task):
    """A step of a YAML pipeline. ``compile_pipeline`` makes one subclass per step."""

    step_spec: ClassVar[StepSpec]
    compiled: ClassVar[CompiledPipeline]
    scope: ClassVar[ParamScope]
    version: ClassVar[str | None] = None

    @classmethod
    def code_for_version(cls) -> str:
        """What ``version: source`` digests: the step's function source, or its command."""
        if cls.step_spec.run is not None:
            module_name, _, function_name = cls.step_spec.run.partition(":")
            return inspect.getsource(getattr(importlib.import_module(module_name), function_name))
        return cls.step_spec.shell or ""

    def __reduce__(self) -> tuple[Any, ...]:
        return restore_step, (
            str(self.compiled.spec.path.resolve()),
            self.step_spec.name,
            dict(self.param_kwargs),
        )

    @property
    def param_values(self) -> dict[str, Any]:
        """The values of the parameters this step uses or hands on upstream."""
        return {name: getattr(self, name) for name in self.compiled.spec.params if name in self.scope.all}

    @classmethod
    def params_outside_identity(cls) -> frozenset[str]:
        """Pipeline parameters that do not make this step stale. Records written before steps
        were scoped hold every pipeline parameter; these are ignored when reading them."""
        return frozenset(cls.compiled.spec.params) - cls.scope.used

    @property
    def where(self) -> str:
        return f"{self.compiled.spec.path}: steps.{self.step_spec.name}"

    def requires(self) -> dict[str, luigi.Task]:
        return {name: self._upstream(spec) for name, spec in self.step_spec.inputs.items()}

    def _upstream(self, spec: InputSpec) -> luigi.Task:
        values = self.param_values
        if spec.step is not None:  # the output of another step
            return self.clone(self.compiled.step_classes[spec.step])
        if spec.kind == "task":
            return self._python_task(spec)
        assert spec.url is not None  # neither a step's output nor a task: a URL
        return ExternalInput(
            url=render(spec.url, values),
            type=spec.type,
            options=spec.options,
            fallbacks=tuple(render(url, values) for url in spec.fallbacks),
        )

    def _python_task(self, spec: InputSpec) -> luigi.Task:
        assert spec.task is not None
        task_class = load_task_class(relative_task_reference(spec.task, self.compiled.spec.path.parent))
        declared = dict(task_class.get_params())
        # The task reads every value as its own command line would: dates, ints and lists from text.
        arguments = {
            key: declared[key].parse(render(value, self.param_values)) if isinstance(value, str) else value
            for key, value in spec.task_params.items()
        }
        pipeline_parameters = self.compiled.parameters()
        for name, value in self.param_values.items():
            if name in declared and name not in arguments:
                arguments[name] = declared[name].parse(pipeline_parameters[name].serialize(value))
        task = task_class(**arguments)
        if spec.output is None and isinstance(task.output(), dict | list | tuple):
            raise PipelineError(
                f"{self.where}.inputs.{spec.name}: {spec.task} has several outputs; say which with 'output'"
            )
        return task

    def output(self) -> dict[str, BaseTarget]:
        return {name: self._target(spec) for name, spec in self.step_spec.outputs.items()}

    def _target(self, spec: OutputSpec) -> BaseTarget:
        options = resolve_env(spec.options, f"{self.where}.outputs.{spec.name}.options")
        return target_for_url(render(spec.url, self.param_values), type=spec.type, **options)

    def input_targets_by_name(self) -> dict[str, Any]:
        """Each named input's target (the step output or Python task output it refers to)."""
        resolved = {}
        upstream = self.requires()
        for name, spec in self.step_spec.inputs.items():
            produced = upstream[name].output()
            if spec.output is not None:
                if not isinstance(produced, dict) or spec.output not in produced:
                    names = list(produced) if isinstance(produced, dict) else []
                    raise PipelineError(
                        f"{self.where}.inputs.{name}: no output {spec.output!r} upstream"
                        + did_you_mean(spec.output, names)
                    )
                produced = produced[spec.output]
            elif isinstance(produced, dict | list | tuple) and spec.kind == "task":
                raise PipelineError(
                    f"{self.where}.inputs.{name}: {spec.task} has several outputs; say which with 'output'"
                )
            resolved[name] = produced
        return resolved

    @property
    def run_hooks(self) -> dict[str, tuple[str, ...]]:
        """The pipeline's own run hooks, called once per run in which this step is a goal."""
        return self.compiled.spec.hooks

    def on_success(self) -> None:
        self._call_hooks("on_success", self.step_spec.hooks.get("on_success", ()))

    def on_failure(self, exception: BaseException) -> str:
        self._call_hooks("on_failure", self.step_spec.hooks.get("on_failure", ()), error=exception)
        return super().on_failure(exception)

    def on_retry(self, attempt: int, error: Exception) -> None:
        # The pipeline's on_retry applies to each of its steps; luigi.cfg's is called by
        # pipelines.execute.retry.
        step_hooks = self.step_spec.hooks.get("on_retry", ())
        pipeline_hooks = self.compiled.spec.hooks.get("on_retry", ())
        self._call_hooks("on_retry", step_hooks + pipeline_hooks, error=error, attempt=attempt)

    def _call_hooks(self, event: str, references: tuple[str, ...], **extra: Any) -> None:
        hooks.call_step_hooks(
            references,
            event,
            self,
            self.step_spec.name,
            lambda: (self.input_targets_by_name(), self.output()),
            **extra,
        )

    def run(self) -> None:
        # Retries and the timeout are the worker's job (pipelines.execute.retry), as for Python tasks.
        inputs, outputs = self.input_targets_by_name(), self.output()
        if self.step_spec.run is not None:
            received = function_params(self.step_spec, self.compiled.spec)
            call_function(self.step_spec, inputs, outputs, {name: getattr(self, name) for name in received})
        else:
            run_command(self.step_spec, inputs, outputs, self.param_values, self.where)


class CompiledPipeline:
    """A YAML pipeline as luigi Task classes, ready to instantiate for given parameter values."""

    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.scopes = param_scopes(spec)
        self.step_classes: dict[str, type[YamlStep]] = {
            name: self._step_class(step) for name, step in spec.steps.items()
        }

    def parameters(self) -> dict[str, luigi.Parameter]:
        """The pipeline's parameters as luigi Parameters (date defaults resolved today)."""
        return {name: luigi_parameter(param) for name, param in self.spec.params.items()}

    def _step_class(self, step: StepSpec) -> type[YamlStep]:
        scope = self.scopes[step.name]
        attributes: dict[str, Any] = {
            name: luigi_parameter(param, significant=name in scope.used)
            for name, param in self.spec.params.items()
            if name in scope.all
        }
        attributes.update(
            step_spec=step,
            compiled=self,
            scope=scope,
            task_namespace=self.spec.name,
            version=step.version,
            priority=step.priority,
            resources=dict(step.resources),
            retries=step.retries,
            retry_delay=step.retry_delay,
            retry_backoff=step.retry_backoff,
            timeout=step.timeout,
            __module__=__name__,
            __doc__=step.description or f"Step {step.name} of pipeline {self.spec.name}.",
        )
        return type(step.name, (YamlStep,), attributes)

    def task(self, step: str, **values: Any) -> YamlStep:
        """The task for ``step`` with the given parameter values (defaults for the rest)."""
        if step not in self.step_classes:
            raise PipelineError(
                f"pipeline {self.spec.name!r} has no step {step!r} (steps: "
                f"{', '.join(self.step_classes)}){did_you_mean(step, self.step_classes)}"
            )
        step_class = self.step_classes[step]
        return step_class(**{name: value for name, value in values.items() if name in step_class.scope.all})

    def goals(self, steps: list[str], values: dict[str, Any]) -> list[YamlStep]:
        """Tasks for the named steps, or for every final step when none is named."""
        return [self.task(step, **values) for step in (steps or self.spec.final_steps())]


# One compiled pipeline per file (recompiled when the file changes), so that loading a file twice
# gives the same task classes, and a pipeline name stands for one file: it names the tasks.
_compiled: dict[Path, tuple[tuple[int, int], CompiledPipeline]] = {}
_files_by_name: dict[str, Path] = {}


def load_pipeline(path: str | Path) -> CompiledPipeline:
    """Validate and compile the YAML pipeline at ``path``."""
    resolved = Path(path).resolve()
    try:
        status = resolved.stat()
        stamp = (status.st_mtime_ns, status.st_size)
    except OSError:
        stamp = (0, 0)  # let validation report the missing file
    cached = _compiled.get(resolved)
    if cached and cached[0] == stamp:
        return cached[1]
    spec = load_pipeline_spec(path)
    other = _files_by_name.setdefault(spec.name, resolved)
    if other != resolved:
        raise PipelineError(
            f"{path}: pipeline name {spec.name!r} is already used by {other}; task names come from "
            "pipeline names, so each pipeline needs its own"
        )
    compiled = CompiledPipeline(spec)
    _compiled[resolved] = (stamp, compiled)
    return compiled


def restore_step(path: str, step: str, values: dict[str, Any]) -> YamlStep:
    """Unpickle a step task (luigi's spawn and forkserver workers receive tasks pickled)."""
    return load_pipeline(path).task(step, **values)
