"""Retries with backoff and per-step timeouts, for Python tasks and YAML steps, on both schedulers."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import luigi.task
import psutil
import pytest

from pipelines.errors import ExitCode
from pipelines.execute.retry import RetryPolicy
from tests.helpers import built_nothing, run_cli
from tests.servers import Server

TASKS = """
import os
import threading
from pathlib import Path

import luigi

from pipelines import Task


def count_attempt(root):
    attempts = Path(root, "attempts")
    with attempts.open("a") as handle:
        handle.write("x")
    return len(attempts.read_text())


class Flaky(Task):
    root = luigi.Parameter()
    retries = 2
    retry_delay = 0

    def output(self):
        return self.target(f"{self.root}/flaky.txt")

    def run(self):
        if count_attempt(self.root) < 2:
            raise RuntimeError("network blip")
        with self.output().open("w") as handle:
            handle.write("ok")


class FlakyWithHook(Flaky):
    def output(self):
        return self.target(f"{self.root}/hooked.txt")

    def on_retry(self, attempt, error):
        Path(self.root, "hook").write_text(f"{attempt}: {error}")
        raise ValueError("hook is broken too")


class BadHooks(Task):
    root = luigi.Parameter()
    fail = luigi.BoolParameter()

    def output(self):
        return self.target(f"{self.root}/bad-hooks.txt")

    def run(self):
        if self.fail:
            raise RuntimeError("the task's own error")
        with self.output().open("w") as handle:
            handle.write("ok")

    def on_success(self):
        raise ValueError("success hook broke")

    def on_failure(self, exception):
        raise ValueError("failure hook broke")


class Broken(Task):
    root = luigi.Parameter()
    retries = 2
    retry_delay = 0

    def output(self):
        return self.target(f"{self.root}/broken.txt")

    def run(self):
        count_attempt(self.root)
        raise RuntimeError("still broken")


class Hangs(Task):
    root = luigi.Parameter()
    timeout = 1

    def output(self):
        return self.target(f"{self.root}/hangs.txt")

    def run(self):
        Path(self.root, "pid").write_text(str(os.getpid()))
        with self.output().open("w") as handle:
            handle.write("half of it")
            threading.Event().wait(600)  # the hang under test: nothing sets it; the timeout must end it
"""


@pytest.fixture
def tasks(tmp_path: Path) -> Path:
    (tmp_path / "nightly_tasks.py").write_text(TASKS)
    return tmp_path


# The id is in a log file's name by right; without logs, any id in the output is a message's.
NO_LOGS = "[dashpipe]\ntask_logs = none\n"


def scheduler_args(request: pytest.FixtureRequest, scheduler: str) -> list[str]:
    if scheduler == "embedded":
        return []
    server: Server = request.getfixturevalue("luigid_server")
    return ["--scheduler", server.url]


def test_backoff_multiplies_the_delay_after_each_retry() -> None:
    assert RetryPolicy(retries=3, delay=1.5, backoff=2).delays() == [1.5, 3.0, 6.0]
    assert RetryPolicy(retries=0).delays() == []


@pytest.mark.parametrize("scheduler", ["embedded", "central"])
def test_flaky_task_succeeds_on_its_second_try(
    scheduler: str, tasks: Path, request: pytest.FixtureRequest
) -> None:
    args = scheduler_args(request, scheduler)
    result = run_cli("run", "nightly_tasks:Flaky", "--root", str(tasks), *args, cwd=tasks)
    assert result.exit_code == ExitCode.OK, result.output
    assert (tasks / "attempts").read_text() == "xx"
    assert (tasks / "flaky.txt").read_text() == "ok"
    assert "attempt 1 of 3 failed (network blip)" in result.output


def test_retry_hook_is_called_and_its_failure_does_not_stop_the_retry(tasks: Path) -> None:
    result = run_cli("run", "nightly_tasks:FlakyWithHook", "--root", str(tasks), cwd=tasks)
    assert result.exit_code == ExitCode.OK, result.output
    assert (tasks / "hook").read_text() == "1: network blip"
    assert "on_retry hook failed (ValueError: hook is broken too); retrying anyway" in result.output
    assert (tasks / "hooked.txt").read_text() == "ok"


def test_failing_success_and_failure_hooks_never_change_the_outcome(tasks: Path) -> None:
    done = run_cli("run", "nightly_tasks:BadHooks", "--root", str(tasks), cwd=tasks)
    assert done.exit_code == ExitCode.OK, done.output
    assert (tasks / "bad-hooks.txt").read_text() == "ok"
    assert "on_success hook failed (ValueError: success hook broke); ignored" in done.output

    (tasks / "bad-hooks.txt").unlink()
    failed = run_cli("run", "nightly_tasks:BadHooks", "--root", str(tasks), "--fail", cwd=tasks)
    assert failed.exit_code == ExitCode.TASK_FAILED, failed.output
    assert "the task's own error" in failed.output  # not lost to the hook's
    assert "on_failure hook failed (ValueError: failure hook broke); ignored" in failed.output


@pytest.mark.parametrize("scheduler", ["embedded", "central"])
def test_task_that_keeps_failing_exhausts_its_retries(
    scheduler: str, tasks: Path, request: pytest.FixtureRequest
) -> None:
    args = scheduler_args(request, scheduler)
    result = run_cli("run", "nightly_tasks:Broken", "--root", str(tasks), *args, cwd=tasks)
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    assert (tasks / "attempts").read_text() == "xxx"
    assert "failed after 3 attempts; last error: still broken" in result.output
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize("scheduler", ["embedded", "central"])
def test_hanging_task_is_stopped_by_its_timeout_and_publishes_nothing(
    scheduler: str, tasks: Path, request: pytest.FixtureRequest
) -> None:
    args = scheduler_args(request, scheduler)
    result = run_cli("run", "nightly_tasks:Hangs", "--root", str(tasks), *args, cwd=tasks, timeout_s=60)
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    assert "timed out after 1.0 seconds" in result.output
    assert not (tasks / "hangs.txt").exists()
    assert not psutil.pid_exists(int((tasks / "pid").read_text()))


def test_yaml_step_timeout_stops_the_command_it_started(tmp_path: Path) -> None:
    command = "sleep 600 & echo $! > {root}/pid; wait"
    pipeline = tmp_path / "hang.yaml"
    pipeline.write_text(
        "pipeline: hang\n"
        "params:\n  root: {type: string}\n"
        "steps:\n"
        "  stuck:\n"
        f"    shell: {json.dumps(command)}\n"
        "    timeout: 1\n"
        "    outputs:\n"
        "      out: '{root}/stuck.txt'\n"
    )
    result = run_cli("run", str(pipeline), "--root", str(tmp_path), cwd=tmp_path, timeout_s=60)
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    assert "timed out after 1.0 seconds" in result.output
    sleeper = int((tmp_path / "pid").read_text())
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(sleeper).wait(timeout=10)  # raises if it was orphaned and still runs
    assert not psutil.pid_exists(sleeper)
    assert not (tmp_path / "stuck.txt").exists()


HANGING_NIGHTLY = """
pipeline: nightly
params:
  date: {type: date}
steps:
  hang:
    shell: "sleep 600"
    timeout: 1
    outputs:
      out: 'out/hang-{date}.txt'
"""


@pytest.mark.parametrize("scheduler", ["embedded", "central"])
def test_timeout_message_names_the_task_readably_not_by_its_id(
    scheduler: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "nightly.yaml").write_text(HANGING_NIGHTLY)
    args = scheduler_args(request, scheduler)
    result = run_cli(
        "run", "nightly.yaml", "--date", "2026-11-25", *args, cwd=tmp_path, timeout_s=60, config=NO_LOGS
    )
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    # Both where the task finishes and in the failure block at the end of the run.
    message = "nightly.hang(date=2026-11-25) timed out after 1.0 seconds and was terminated."
    assert result.output.count(message) == 2, result.output
    task_id = luigi.task.task_id_str("nightly.hang", {"date": "2026-11-25"})
    assert task_id.startswith("nightly.hang_2026_11_25_")  # else the next line proves nothing
    assert task_id not in result.output


def test_yaml_retry_settings_are_validated(tmp_path: Path) -> None:
    pipeline = tmp_path / "bad.yaml"
    pipeline.write_text(
        "pipeline: bad\n"
        "steps:\n"
        "  s:\n"
        "    shell: 'true'\n"
        "    retry_backoff: 0.5\n"
        "    timeout: fast\n"
        "    outputs:\n"
        "      out: 'x.txt'\n"
    )
    result = run_cli("validate", str(pipeline), cwd=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert f"{pipeline}:5:" in result.output and "steps.s.retry_backoff" in result.output
    assert f"{pipeline}:6:14: steps.s.timeout: expected a number" in result.output


def fallback_pipeline(tmp_path: Path) -> Path:
    pipeline = tmp_path / "fallback.yaml"
    pipeline.write_text(
        "pipeline: fallback\n"
        "params:\n  root: {type: string}\n"
        "steps:\n"
        "  copy:\n"
        "    shell: 'cp {inputs.orders} {outputs.out}'\n"
        "    inputs:\n"
        "      orders:\n"
        "        url: '{root}/primary/orders.csv'\n"
        "        fallbacks: ['{root}/mirror/orders.csv', '{root}/yesterday/orders.csv']\n"
        "    outputs:\n"
        "      out: '{root}/out/orders.csv'\n"
    )
    return pipeline


def test_fallback_input_is_used_when_the_primary_is_missing(tmp_path: Path) -> None:
    pipeline = fallback_pipeline(tmp_path)
    for source in ("mirror", "yesterday"):
        (tmp_path / source).mkdir()
        (tmp_path / source / "orders.csv").write_text(f"from {source}\n")
    args = ("run", str(pipeline), "--root", str(tmp_path))

    result = run_cli(*args, cwd=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "out" / "orders.csv").read_text() == "from mirror\n"
    # The end-of-run summary says which alternative stood in.
    assert (
        f"  fallback  {tmp_path}/primary/orders.csv is missing; read {tmp_path}/mirror/orders.csv instead"
        in (result.stdout.splitlines())
    )
    assert f"input {tmp_path}/primary/orders.csv is missing; using fallback {tmp_path}/mirror/orders.csv" in (
        result.output
    )

    # Once the primary arrives, the output built from the mirror is stale and is rebuilt from it.
    (tmp_path / "primary").mkdir()
    (tmp_path / "primary" / "orders.csv").write_text("from primary\n")
    result = run_cli(*args, cwd=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "out" / "orders.csv").read_text() == "from primary\n"
    assert "using fallback" not in result.output


def test_missing_input_with_no_fallback_present_names_the_primary(tmp_path: Path) -> None:
    result = run_cli("run", str(fallback_pipeline(tmp_path)), "--root", str(tmp_path), cwd=tmp_path)
    assert result.exit_code == ExitCode.MISSING_INPUT, result.output
    assert f"{tmp_path}/primary/orders.csv" in result.output
    assert built_nothing(tmp_path / "out")


def test_fallback_templates_are_validated(tmp_path: Path) -> None:
    pipeline = fallback_pipeline(tmp_path)
    pipeline.write_text(pipeline.read_text().replace("{root}/yesterday", "{nowhere}/yesterday"))
    result = run_cli("validate", str(pipeline), cwd=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    # Line 10, at the second item of the list.
    expected = f"{pipeline}:10:49: steps.copy.inputs.orders.fallbacks[1]: template uses {{nowhere}}"
    assert expected in result.output


def test_failed_task_log_holds_its_output_and_failure_and_is_named_in_the_summary(tmp_path: Path) -> None:
    command = "echo 'loading 3 files'; echo 'disk on fire' >&2; exit 3"
    pipeline = tmp_path / "logged.yaml"
    pipeline.write_text(
        "pipeline: logged\n"
        "params:\n  root: {type: string}\n"
        "steps:\n"
        "  burn:\n"
        f"    shell: {json.dumps(command)}\n"
        "    outputs:\n"
        "      out: '{root}/burnt.txt'\n"
    )
    logs = tmp_path / "logs"
    config = f"[dashpipe]\ntask_logs = {logs}\n"
    result = run_cli("run", str(pipeline), "--root", str(tmp_path), cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    (log_file,) = logs.glob("*/logged.burn_*.log")
    assert f"full log: {log_file}" in result.output
    text = log_file.read_text()
    assert "loading 3 files" in text and "disk on fire" in text
    # A shell step's log ends with what the command printed and why it failed: no traceback
    # through dash-pipeline's own code, which would tell the reader nothing about the command.
    assert text.rstrip().endswith("command exited with 3: loading 3 files | disk on fire")
    assert "Traceback" not in text and "Traceback" not in result.output


def test_quiet_tasks_that_succeed_leave_no_log_files(tmp_path: Path) -> None:
    (tmp_path / "nightly_tasks.py").write_text(TASKS)
    (tmp_path / "attempts").write_text("x")  # Flaky succeeds at once
    logs = tmp_path / "logs"
    config = f"[dashpipe]\ntask_logs = {logs}\n"
    result = run_cli("run", "nightly_tasks:Flaky", "--root", str(tmp_path), cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "flaky.txt").read_text() == "ok"
    assert list(logs.rglob("*.log")) == []


LOGGING_TASKS = """
import logging
import threading

import luigi

from pipelines import Task
from targets import FileTarget

log = logging.getLogger("team.steps")


class Talks(Task):
    root = luigi.Parameter()
    name = luigi.Parameter()

    def output(self):
        return FileTarget(f"{self.root}/{self.name}.txt")

    def run(self):
        log.info("info from %s", self.name)
        log.warning("warning from %s", self.name)
        helper = threading.Thread(target=log.info, args=("from a thread of %s", self.name))
        helper.start()
        helper.join()
        with self.output().open("w") as out:
            out.write(self.name)


class Both(Task):
    root = luigi.Parameter()

    def requires(self):
        return [Talks(root=self.root, name=name) for name in ("first", "second")]

    def output(self):
        return FileTarget(f"{self.root}/both.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("both")
"""


def test_each_task_log_holds_what_it_and_its_threads_logged_and_warnings_still_show(tmp_path: Path) -> None:
    (tmp_path / "talking.py").write_text(LOGGING_TASKS)
    logs = tmp_path / "logs"
    config = f"[dashpipe]\ntask_logs = {logs}\n"
    result = run_cli("run", "talking.py:Both", "--root", str(tmp_path), cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.OK, result.output
    for name, other in (("first", "second"), ("second", "first")):
        (log_file,) = logs.glob(f"*/Talks_{name}_*.log")
        text = log_file.read_text()
        assert f"INFO team.steps: info from {name}" in text, text
        assert f"INFO team.steps: from a thread of {name}" in text, text
        assert text.count(f"warning from {name}") == 1, text
        assert other not in text, text
        # With no logging set up by the user, a warning reaches the terminal, once, as before.
        assert result.stderr.count(f"warning from {name}") == 1, result.stderr
        assert f"info from {name}" not in result.stderr
    assert not list(logs.glob("*/Both_*.log"))  # it logged nothing


def test_a_password_in_a_failing_commands_output_is_masked_in_report_json_and_log(tmp_path: Path) -> None:
    secret = "s3cr3t-pw"
    command = f"echo 'connecting to postgresql://loader:{secret}@db.internal/sales' >&2; exit 2"
    pipeline = tmp_path / "leaky.yaml"
    pipeline.write_text(
        "pipeline: leaky\n"
        "params:\n  root: {type: string}\n"
        "steps:\n"
        "  load:\n"
        f"    shell: {json.dumps(command)}\n"
        "    outputs:\n"
        "      out: '{root}/loaded.txt'\n"
    )
    logs = tmp_path / "logs"
    config = f"[dashpipe]\ntask_logs = {logs}\n"
    for extra in ([], ["--json"]):
        result = run_cli("run", str(pipeline), "--root", str(tmp_path), *extra, cwd=tmp_path, config=config)
        assert result.exit_code == ExitCode.TASK_FAILED, result.output
        assert "postgresql://loader:***@db.internal/sales" in result.output, result.output
        assert secret not in result.output
    log_texts = [path.read_text() for path in logs.rglob("*.log")]
    assert len(log_texts) == 2 and all("loader:***@db.internal" in text for text in log_texts), log_texts
    assert not any(secret in text for text in log_texts)
