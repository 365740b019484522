"""``dashpipe list``: the steps of a pipeline with their inputs and outputs."""

from __future__ import annotations

from typing import Any

from pipelines.assessment.graph import build_graph, outputs_of
from pipelines.cli.sources import PipelineSource, YamlSource
from pipelines.common.describe import describe
from pipelines.common.suggest import did_you_mean
from pipelines.errors import PipelineError


def listing(source: PipelineSource, words: list[str]) -> dict[str, Any]:
    """YAML pipelines list their steps as declared (templates); Python tasks list their graph."""
    if isinstance(source, YamlSource):
        named, _ = source.parse(words)  # unknown or malformed parameters are an error here too
        spec = source.compiled.spec
        for name in named:
            if name not in spec.steps:
                known = sorted(spec.steps)
                raise PipelineError(f"{spec.name}: no step {name!r}{did_you_mean(name, known)}")
        return {
            "pipeline": spec.name,
            "file": str(spec.path),
            "params": {
                name: {"type": param.type, **({"default": param.default} if param.has_default else {})}
                for name, param in spec.params.items()
            },
            "steps": [
                {
                    "name": step.name,
                    "run": step.run,
                    "shell": step.shell,
                    "inputs": {
                        name: (
                            f"{spec_in.step}.{spec_in.output}"
                            if spec_in.kind == "step"
                            else spec_in.task
                            if spec_in.kind == "task"
                            else spec_in.url
                        )
                        for name, spec_in in step.inputs.items()
                    },
                    "outputs": {name: output.url for name, output in step.outputs.items()},
                    "final": step.name in spec.final_steps(),
                }
                for step in spec.steps.values()
                if not named or step.name in named
            ],
        }
    graph = build_graph(source.tasks(words))
    return {
        "pipeline": source.name,
        "steps": [
            {
                "name": describe(task),
                "inputs": {
                    str(index): describe(graph.tasks[dep]) for index, dep in enumerate(graph.edges[task_id])
                },
                "outputs": {str(index): url for index, url in enumerate(outputs_of(task))},
                "final": task in graph.goals,
            }
            for task_id, task in graph.tasks.items()
        ],
    }


def listing_text(data: dict[str, Any]) -> str:
    lines = [f"{data['pipeline']}" + (f" ({data['file']})" if "file" in data else "")]
    for name, param in data.get("params", {}).items():
        default = f", default {param['default']}" if "default" in param else ", required"
        lines.append(f"  param  --{name.replace('_', '-')}  {param['type']}{default}")
    for step in data["steps"]:
        how = (
            f"run {step['run']}"
            if step.get("run")
            else (f"shell {step['shell']}" if step.get("shell") else "")
        )
        lines.append(f"{step['name']}{'  (final)' if step['final'] else ''}" + (f"  {how}" if how else ""))
        lines.extend(f"  in   {name:<12} {value}" for name, value in step["inputs"].items())
        lines.extend(f"  out  {name:<12} {value}" for name, value in step["outputs"].items())
    return "\n".join(lines)
