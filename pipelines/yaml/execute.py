"""Run one YAML step: call its Python function, or run its shell command with atomic outputs."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import string
import subprocess
import tempfile
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import luigi

from pipelines.common.callables import call_with_accepted, resolve
from pipelines.yaml.errors import StepFailed
from pipelines.yaml.spec import StepSpec
from pipelines.yaml.templates import resolve_env, template_values
from targets import FileTarget
from targets.atomic import open_atomic, temporary_name

logger = logging.getLogger("dashpipe")

OUTPUT_TAIL_LINES = 15


def call_function(
    step: StepSpec, inputs: Mapping[str, Any], outputs: Mapping[str, Any], params: Mapping[str, Any]
) -> None:
    """Call ``module:function`` with the keyword arguments it accepts of inputs, outputs and params."""
    assert step.run is not None
    offered = {"inputs": dict(inputs), "outputs": dict(outputs), "params": dict(params)}
    call_with_accepted(resolve(step.run), offered)


class _ShellFormatter(string.Formatter):
    """Formats placeholders and shell-quotes every substituted value."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return shlex.quote(format(value, format_spec))


def _local_file(name: str, target: Any, scratch: Path) -> str:
    if isinstance(target, luigi.LocalTarget):
        return target.path
    if not isinstance(target, FileTarget):
        raise StepFailed(f"inputs.{name} is a {type(target).__name__}; a shell command can only read files")
    if target.location.is_local:
        return target.location.path
    local = scratch / "inputs" / name / Path(target.location.path).name
    local.parent.mkdir(parents=True, exist_ok=True)
    target.location.fs.get(target.location.path, str(local), recursive=True)
    return str(local)


def _staging_file(name: str, target: Any, scratch: Path) -> str:
    if not isinstance(target, FileTarget):
        raise StepFailed(f"outputs.{name} is a {type(target).__name__}; a shell command can only write files")
    if target.location.is_local:
        # Beside the output, so that publishing it is one atomic rename.
        os.makedirs(os.path.dirname(target.location.path) or ".", exist_ok=True)
        return temporary_name(target.location.path)
    return str(scratch / "outputs" / name)


def _publish(staged: str, target: FileTarget) -> None:
    if target.location.is_local:
        target.fs.move(staged, target.location.path)
        return
    with open(staged, "rb") as source, open_atomic(target.location) as destination:
        shutil.copyfileobj(source, destination)


def run_command(
    step: StepSpec,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    params: Mapping[str, Any],
    where: str,
) -> None:
    """Run the step's shell command; its outputs appear only if it exits 0 having written them all."""
    assert step.shell is not None
    with tempfile.TemporaryDirectory(prefix="dashpipe-shell-") as scratch_dir:
        scratch = Path(scratch_dir)
        (scratch / "outputs").mkdir()
        input_paths = {name: _local_file(name, target, scratch) for name, target in inputs.items()}
        staged = {name: _staging_file(name, target, scratch) for name, target in outputs.items()}
        try:
            command = _ShellFormatter().vformat(
                step.shell,
                (),
                {
                    **template_values(params),
                    "inputs": types.SimpleNamespace(**input_paths),
                    "outputs": types.SimpleNamespace(**staged),
                },
            )
            environment = {**os.environ, **resolve_env(step.env, f"{where}.env")}
            shell = [shutil.which("bash") or "/bin/sh", "-c", command]
            if shell[0].endswith("bash"):
                shell[1:1] = ["-e", "-o", "pipefail"]
            log_path = scratch / "command.log"
            with log_path.open("wb") as log:
                completed = subprocess.run(
                    shell,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
            output = log_path.read_text(errors="replace").strip()
            if output:
                logger.info("%s: command output:\n%s", where, output)  # into the task's log file
            if completed.returncode != 0:
                tail = output.splitlines()[-OUTPUT_TAIL_LINES:]
                detail = (": " + " | ".join(line.strip() for line in tail)) if tail else ""
                raise StepFailed(f"{where}: command exited with {completed.returncode}{detail}")
            missing = [name for name, path in staged.items() if not os.path.exists(path)]
            directories = [name for name, path in staged.items() if os.path.isdir(path)]
            if directories:
                raise StepFailed(
                    f"{where}: command wrote a directory at "
                    + ", ".join(f"{{outputs.{name}}}" for name in directories)
                    + "; shell outputs are files"
                )
            if missing:
                raise StepFailed(
                    f"{where}: command exited 0 but did not write "
                    + ", ".join(f"{{outputs.{name}}}" for name in missing)
                )
            for name, path in staged.items():
                _publish(path, outputs[name])
        finally:
            for path in staged.values():
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.exists(path):
                    os.remove(path)
