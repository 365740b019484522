"""The S3 endpoint (a real moto_server) stops answering in the middle of a run.

The server is paused with SIGSTOP, so it holds its data but answers nothing, as an endpoint
that hangs does; SIGCONT brings it back. The step under test hands over to the test through
named pipes at the moments that matter, so nothing here waits on a clock: the step has read its
input and is about to write its output when the endpoint stops, and the endpoint comes back when
the first attempt has failed (the step's retry hook says so) or when the run is over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from pipelines.errors import ExitCode
from tests.helpers import start_cli, wait_until
from tests.servers import Server, start_moto

STEPS = """
import os


def handshake(name, mode):
    pipe = os.path.join(os.environ["OUTAGE_PIPES"], name)
    with open(pipe, mode) as handle:
        handle.write("1") if mode == "w" else handle.read()


def extract(outputs):
    with outputs["o"].open("w") as handle:
        handle.write("id,amount\\n1,10\\n2,32\\n")


def load(inputs, outputs):
    with inputs["raw"].open("r") as handle:
        rows = handle.read().splitlines()[1:]
    if not os.path.exists(os.path.join(os.environ["OUTAGE_PIPES"], "first-attempt-done")):
        open(os.path.join(os.environ["OUTAGE_PIPES"], "first-attempt-done"), "w").close()
        handshake("input-read", "w")  # the test stops the endpoint now ...
        handshake("endpoint-stopped", "r")  # ... and says when it has
    with outputs["o"].open("w") as handle:
        handle.write(f"total,{sum(int(row.split(',')[1]) for row in rows)}\\n")


def retrying():
    handshake("retrying", "w")
"""

PIPELINE = """
pipeline: outage
params:
  bucket: {type: string}
steps:
  extract:
    run: outage_steps:extract
    outputs: {o: "s3://{bucket}/raw/orders.csv"}
  load:
    run: outage_steps:load
    inputs: {raw: extract.o}
    outputs: {o: "s3://{bucket}/totals/orders.csv"}
    retries: RETRIES
    retry_delay: 0.5
    on_retry: outage_steps:retrying
"""


@pytest.fixture
def moto(server_logs: Path) -> Iterator[Server]:
    """A moto_server of this test's own: it is paused, and the other tests' server must not be."""
    logs = server_logs / f"outage-{uuid.uuid4().hex[:6]}"
    logs.mkdir()
    server = start_moto(logs)
    yield server
    os.killpg(server.pid, signal.SIGCONT)  # a stopped process would not see the SIGTERM
    server.stop()
    for run in RUNS:  # a run left waiting by a failed test must not outlive it
        if run.poll() is None:
            run.kill()
            run.communicate()
    RUNS.clear()


RUNS: list[subprocess.Popen] = []


def pause(server: Server) -> None:
    os.killpg(server.pid, signal.SIGSTOP)


def resume(server: Server) -> None:
    os.killpg(server.pid, signal.SIGCONT)


def start_run(tmp_path: Path, server: Server, retries: int) -> tuple[subprocess.Popen, list[str]]:
    """Start ``dashpipe run`` of the pipeline in a new bucket; returns the process and its argv."""
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", endpoint_url=server.url, skip_instance_cache=True).mkdir(bucket)
    (tmp_path / "outage_steps.py").write_text(STEPS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.replace("RETRIES", str(retries)))
    (tmp_path / "pipes").mkdir()
    for name in ("input-read", "endpoint-stopped", "retrying"):
        os.mkfifo(tmp_path / "pipes" / name)
    # An endpoint that does not answer is given up on within seconds, not botocore's minute;
    # the step's own retries are what bridge the outage.
    (tmp_path / "luigi.cfg").write_text(
        f"[s3]\nendpoint_url = {server.url}\n"
        'config_kwargs = {"connect_timeout": 0.5, "read_timeout": 0.5, "retries": {"max_attempts": 1}}\n'
    )
    argv = [sys.executable, "-m", "pipelines", "run", "pipeline.yaml", "--bucket", bucket]
    process = start_cli(*argv[3:], cwd=tmp_path, env=run_env(tmp_path), stderr=subprocess.PIPE)
    RUNS.append(process)
    return process, argv


def run_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LUIGI_CONFIG_PATH": str(tmp_path / "luigi.cfg"),
        "OUTAGE_PIPES": str(tmp_path / "pipes"),
        "PYTHONPATH": str(tmp_path),
    }


def handshake(tmp_path: Path, name: str, mode: str, run: subprocess.Popen) -> None:
    """Meet the step at pipe ``name``; fail, instead of hanging, if the run ends first."""
    met = threading.Event()

    def meet() -> None:
        with open(tmp_path / "pipes" / name, mode) as handle:
            handle.write("1") if mode == "w" else handle.read()
        met.set()

    threading.Thread(target=meet, daemon=True).start()
    wait_until(met.is_set, f"the step at pipe {name!r}", processes=[run])


def objects(server: Server, bucket: str) -> dict[str, str]:
    fs = fsspec.filesystem("s3", endpoint_url=server.url, skip_instance_cache=True)
    return {
        path.split("/", 1)[1]: "" if path.endswith(".json") else fs.cat(path).decode()
        for path in fs.find(bucket, withdirs=False)
    }


def test_a_step_retries_through_an_outage_and_the_run_completes(tmp_path: Path, moto: Server) -> None:
    process, argv = start_run(tmp_path, moto, retries=3)
    handshake(tmp_path, "input-read", "r", process)
    pause(moto)
    handshake(tmp_path, "endpoint-stopped", "w", process)
    handshake(tmp_path, "retrying", "r", process)  # the first attempt failed against the stopped endpoint
    resume(moto)
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == ExitCode.OK, stdout + stderr
    assert "attempt 1 of 4 failed (cannot write s3://" in stderr and "retrying in 0.5s" in stderr
    stored = objects(moto, argv[-1])
    assert stored["totals/orders.csv"] == "total,42\n"
    assert not [key for key in stored if "dashpipe-tmp" in key]
    assert "2 tasks: 2 ran" in stdout


def test_an_outage_longer_than_the_retries_fails_clearly_and_leaves_nothing_built(
    tmp_path: Path, moto: Server
) -> None:
    process, argv = start_run(tmp_path, moto, retries=1)
    handshake(tmp_path, "input-read", "r", process)
    pause(moto)
    handshake(tmp_path, "endpoint-stopped", "w", process)
    handshake(tmp_path, "retrying", "r", process)
    try:
        stdout, stderr = process.communicate(timeout=120)  # the second attempt fails too
    finally:
        resume(moto)

    assert process.returncode == ExitCode.TASK_FAILED, stdout + stderr
    assert "Traceback" not in stdout + stderr
    # The first attempt's upload gave up on the endpoint (without the fix in targets.storage, it
    # waits forever), and so did the second attempt's read.
    assert "attempt 1 of 2 failed (cannot write s3://" in stderr
    failure = stderr[stderr.index("    FAILED  outage.load(") :]
    assert "failed after 2 attempts; last error: cannot read s3://" in failure
    assert f'Read timeout on endpoint URL: "{moto.url}/' in failure
    # No staging object is ever visible. The stopped server may still carry out a request it
    # received before the client gave up, once it runs again: the object it then stores is
    # whole (an S3 PUT is), and the step's build record still says "building", so the output
    # counts as stale, never as built.
    assert not [key for key in objects(moto, argv[-1]) if "dashpipe-tmp" in key]
    status = subprocess.run(
        [*argv[:3], "status", *argv[4:], "--json"],
        cwd=tmp_path,
        env=run_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    (load,) = [task for task in json.loads(status.stdout)["tasks"] if task["family"] == "outage.load"]
    assert load["rebuilds"] and load["state"] != "up to date", load

    # Once the endpoint is back, a rerun builds what the outage stopped.
    rerun = subprocess.run(
        argv, cwd=tmp_path, env=run_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == ExitCode.OK, rerun.stdout + rerun.stderr
    assert objects(moto, argv[-1])["totals/orders.csv"] == "total,42\n"
    assert "1 ran" in rerun.stdout
