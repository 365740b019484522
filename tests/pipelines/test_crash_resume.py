"""A run killed with SIGKILL halfway, then run again: only unfinished work runs, and the result is
byte for byte what an uninterrupted run makes."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from pipelines import ExitCode
from tests.helpers import REPO, Gate, run_cli, start_cli, wait_until
from tests.pipelines.test_example_pipeline import ran

PIPELINE = """
pipeline: chain
params:
  root: {type: string}
  gate: {type: string}
steps:
  one:
    shell: "echo one > {outputs.o}"
    outputs: {o: "{root}/1.txt"}
  two:
    shell: "cat {inputs.i} > {outputs.o} && echo two >> {outputs.o}"
    inputs: {i: one.o}
    outputs: {o: "{root}/2.txt"}
  three:
    # Waits at a gate the test controls, so the test can kill the run while this step is busy.
    shell: >-
      cat {inputs.i} > {outputs.o} && echo half-written >> {outputs.o} && touch {gate}.reached &&
      flock -s {gate} true && echo three >> {outputs.o}
    inputs: {i: two.o}
    outputs: {o: "{root}/3.txt"}
  four:
    shell: "cat {inputs.i} > {outputs.o} && echo four >> {outputs.o}"
    inputs: {i: three.o}
    outputs: {o: "{root}/4.txt"}
"""


def test_sigkill_halfway_then_rerun(tmp_path: Path) -> None:
    pipeline = tmp_path / "chain.yaml"
    pipeline.write_text(PIPELINE)
    out, gate = tmp_path / "out", Gate(tmp_path / "gate")
    args = ["run", str(pipeline), "--root", str(out), "--gate", str(gate.path)]
    process = start_cli(
        *args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        reached = Path(f"{gate.path}.reached")
        wait_until(reached.exists, f"the run to reach the gate ({reached})", [process])
        os.killpg(process.pid, signal.SIGKILL)  # the run and the shell step it started
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["1.txt", "2.txt"]

    gate.open()
    resumed = run_cli(*args, cwd=REPO)
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert ran(resumed) == ["chain.four", "chain.three"]

    clean_out = tmp_path / "clean"
    clean = run_cli("run", str(pipeline), "--root", str(clean_out), "--gate", str(gate.path), cwd=REPO)
    assert clean.exit_code == ExitCode.OK
    for name in ("1.txt", "2.txt", "3.txt", "4.txt"):
        assert (out / name).read_bytes() == (clean_out / name).read_bytes()
    assert (out / "4.txt").read_text() == "one\ntwo\nhalf-written\nthree\nfour\n"
    status = run_cli("status", str(pipeline), "--root", str(out), "--gate", str(gate.path), cwd=REPO)
    assert "4 tasks: 4 up to date — nothing to rebuild" in status.stdout
