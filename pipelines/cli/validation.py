"""``dashpipe validate``: a pipeline checked without running anything.

A YAML pipeline is checked when it is opened (pipelines.yaml.validate); here only its parameters
remain. A Python task's whole graph is walked: every task's requires() and output(), for the
parameters given and a sample value for each one left out.
"""

from __future__ import annotations

from typing import Any

from pipelines.assessment.graph import Problem, check_graph
from pipelines.cli.sources import PipelineSource, TaskSource, YamlSource
from pipelines.common.plural import counted
from pipelines.errors import PipelineError
from pipelines.loading import parameters_for_checking


def validate_source(source: PipelineSource, words: list[str]) -> tuple[dict[str, Any], list[Problem]]:
    """The ``--json`` document of a validation, and the problems found (none: valid)."""
    if not isinstance(source, TaskSource):
        # Checked whatever the values: only a misspelt --param or a value of the wrong kind is wrong.
        extra, _ = source.parse(words, given=source.parameters())
        if extra:
            raise PipelineError(f"unexpected argument {extra[0]!r}: validate checks every step")
        steps = len(source.compiled.spec.steps) if isinstance(source, YamlSource) else 1
        return {"valid": True, "pipeline": source.name, "steps": steps}, []
    values, sampled = parameters_for_checking(source.task_class, words)
    check = check_graph(source.goals([], values))
    if check.problems:
        return {"valid": False, "issues": [problem.as_dict() for problem in check.problems]}, check.problems
    # Counted as run counts them ("4 tasks: 3 ran, 1 up to date"): external inputs are tasks too.
    document = {
        "valid": True,
        "pipeline": source.name,
        "tasks": len(check.tasks),
        "external_inputs": len(check.external),
        "sample_parameters": sampled,
    }
    return document, []


def valid_text(document: dict[str, Any]) -> str:
    """The line ``validate`` prints for a valid pipeline."""
    if "steps" in document:
        return f"ok: {document['pipeline']}, {counted(document['steps'], 'step')}"
    external = document["external_inputs"]
    inputs = f" ({counted(external, 'external input')})" if external else ""
    samples = ", ".join(f"{option} {value}" for option, value in document["sample_parameters"].items())
    return f"ok: {document['pipeline']}, {counted(document['tasks'], 'task')}{inputs}" + (
        f"; checked with sample values {samples}" if samples else ""
    )
