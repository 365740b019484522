"""Which pipeline parameters each YAML step uses, so that a step's identity covers only those.

A parameter that only a downstream step uses must not make its upstream steps stale, or
switching ``--n 2`` and ``--n 3`` would rebuild the whole pipeline each time. A step *uses*
a parameter its templates name (output and input URLs, fallbacks, the shell command, a Python
task input's params), one it passes through to a Python task input, and one its function
receives. A step also *carries* the parameters its upstream steps use, without them being
part of its identity, so that it can create those steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipelines.common.callables import accepts_keyword, resolve
from pipelines.loading import load_task_class, relative_task_reference
from pipelines.yaml.spec import PipelineSpec, StepSpec
from pipelines.yaml.templates import placeholders

# {inputs.raw} and {outputs.count} in shell commands name paths, not parameters.
_PATH_FIELDS = frozenset({"inputs", "outputs"})


@dataclass(frozen=True)
class ParamScope:
    used: frozenset[str]  # make the step's identity: a change rebuilds it
    carried: frozenset[str]  # only handed on to upstream steps

    @property
    def all(self) -> frozenset[str]:
        return self.used | self.carried


def _templates(step: StepSpec) -> Iterator[str]:
    for output in step.outputs.values():
        yield output.url
    for spec in step.inputs.values():
        if spec.url is not None:
            yield spec.url
        yield from spec.fallbacks
        yield from (value for value in spec.task_params.values() if isinstance(value, str))
    if step.shell is not None:
        yield step.shell


def _named_in_templates(step: StepSpec) -> set[str]:
    names = set()
    for template in _templates(step):
        for field in placeholders(template):
            root = re.split(r"[.\[]", field, maxsplit=1)[0]
            if step.shell is None or root not in _PATH_FIELDS:
                names.add(root)
    return names


def _passed_to_python_tasks(step: StepSpec, spec: PipelineSpec) -> set[str]:
    names: set[str] = set()
    for input_spec in step.inputs.values():
        if input_spec.task is not None:
            task_class = load_task_class(relative_task_reference(input_spec.task, spec.path.parent))
            names.update(name for name, _ in task_class.get_params() if name not in input_spec.task_params)
    return names


def function_params(step: StepSpec, spec: PipelineSpec) -> tuple[str, ...]:
    """The parameters a run step's function receives as ``params``: those it declares, else all."""
    if step.run is None or not accepts_keyword(resolve(step.run), "params"):
        return ()
    return step.params if step.params is not None else tuple(spec.params)


def used_params(step: StepSpec, spec: PipelineSpec) -> frozenset[str]:
    names = _named_in_templates(step) | _passed_to_python_tasks(step, spec) | set(function_params(step, spec))
    return frozenset(name for name in spec.params if name in names)


def param_scopes(spec: PipelineSpec) -> dict[str, ParamScope]:
    """Each step's scope. Steps are visited upstream first, with a stack rather than recursion:
    validation allows chains of thousands of steps, and has refused cycles."""
    scopes: dict[str, ParamScope] = {}
    for start in spec.steps:
        pending = [start]
        while pending:
            name = pending[-1]
            if name in scopes:
                pending.pop()
                continue
            upstream = [u for u in spec.steps[name].upstream_steps() if u not in scopes]
            if upstream:
                pending.extend(upstream)
                continue
            pending.pop()
            used = used_params(spec.steps[name], spec)
            needed = set().union(*(scopes[u].all for u in spec.steps[name].upstream_steps()))
            scopes[name] = ParamScope(used, frozenset(needed - used))
    return scopes
