"""The parsed form of a YAML pipeline, after validation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARAM_TYPES = ("string", "int", "float", "bool", "date", "list")
# Attributes the compiled step class defines besides luigi.Task's; a parameter may not shadow them.
STEP_ATTRIBUTES = frozenset(
    {
        "step_spec",
        "compiled",
        "version",
        "param_values",
        "where",
        "input_targets_by_name",
        "priority",
        "resources",
        "output_targets",
        "input_targets",
        "target",
        "on_retry",
        "run_hooks",
        "scope",
        "params_outside_identity",
        "inputs",  # {inputs.NAME} and {outputs.NAME} in shell commands: a parameter would hide them
        "outputs",
    }
)
# A value of each type, to try templates and format specs at validation time.
SAMPLE_VALUES: dict[str, Any] = {
    "string": "sample",  # fits where text goes in URLs: a bucket name needs 3 characters
    "int": 1,
    "float": 1.5,
    "bool": True,
    "date": dt.date(2026, 1, 31),
    "list": ("a", "b"),
}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str
    default: Any = None
    has_default: bool = False
    description: str = ""


@dataclass(frozen=True)
class OutputSpec:
    name: str
    url: str  # a template: {param} placeholders
    type: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InputSpec:
    """One of three kinds: an external ``url``, another step's output, or a Python task."""

    name: str
    url: str | None = None
    type: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    fallbacks: tuple[str, ...] = ()  # URL templates tried in order when url is missing
    step: str | None = None
    output: str | None = None
    task: str | None = None
    task_params: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.step is not None:
            return "step"
        if self.task is not None:
            return "task"
        return "url"


@dataclass(frozen=True)
class StepSpec:
    name: str
    run: str | None = None
    shell: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    params: tuple[str, ...] | None = None  # what a run step's function receives; None: every parameter
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    outputs: dict[str, OutputSpec] = field(default_factory=dict)
    version: str | None = None
    priority: int = 0
    resources: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    retry_delay: float = 5.0
    retry_backoff: float = 2.0
    timeout: float | None = None
    description: str = ""
    hooks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # event -> module:function, ...

    def upstream_steps(self) -> list[str]:
        return [spec.step for spec in self.inputs.values() if spec.step is not None]


@dataclass(frozen=True)
class ScheduleSpec:
    """``schedule:``: when ``dashpipe watch`` builds the pipeline on its own."""

    cron: str
    param: str  # the date parameter each slot fills
    timezone: str = "UTC"
    catchup: int = 1


@dataclass(frozen=True)
class AfterSpec:
    """One entry of ``after:``: another pipeline whose outputs changing makes a watcher look here."""

    pipeline: str  # a YAML file (resolved against this pipeline's directory) or MODULE:TASK
    steps: tuple[str, ...] = ()  # its goals; none: its final steps
    params: dict[str, Any] = field(default_factory=dict)  # strings may hold {param} templates
    where: str = ""  # file:line of the entry, for errors found only when it is opened


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    path: Path
    params: dict[str, ParamSpec]
    steps: dict[str, StepSpec]
    description: str = ""
    hooks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # run hooks: event -> references
    schedule: ScheduleSpec | None = None
    after: tuple[AfterSpec, ...] = ()

    def final_steps(self) -> list[str]:
        """Steps whose outputs no other step reads: the default goals of a run."""
        consumed = {upstream for step in self.steps.values() for upstream in step.upstream_steps()}
        return [name for name in self.steps if name not in consumed]
