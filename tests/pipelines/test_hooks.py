"""Step and run hooks declared in YAML and in luigi.cfg: called with what they ask for, once per
event; a hook that fails is logged and never changes the outcome of a step or of the run."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.errors import ExitCode
from tests.helpers import run_cli

HOOKS = """
import json
import os
from pathlib import Path


def record(**event):
    with Path(os.environ["HOOK_LOG"]).open("a") as log:
        log.write(json.dumps(event, default=str) + "\\n")


def step_done(step, params, outputs):
    record(hook="step_done", step=step, params=params, outputs=sorted(str(t) for t in outputs.values()))


def step_failed(step, error):
    record(hook="step_failed", step=step, error=str(error))


def step_retry(step, attempt, error):
    record(hook="step_retry", step=step, attempt=attempt, error=str(error))


def any_retry(step, attempt):
    record(hook="any_retry", step=step, attempt=attempt)


def run_failed(summary, text):
    failed = [task["name"] for task in summary["tasks"] if task["outcome"] == "failed"]
    record(hook="run_failed", exit_code=summary["exit_code"], run_id=summary["run_id"],
           pipeline=summary["pipeline"], failed=failed, text=text)


def run_done(summary):
    record(hook="run_done", exit_code=summary["exit_code"])


def from_config(summary):
    record(hook="from_config", exit_code=summary["exit_code"])


def retry_from_config(step, attempt, params):
    record(hook="retry_from_config", step=step, attempt=attempt, params=params)


def boom(**anything):
    raise RuntimeError("the hook itself is broken")


def flaky(outputs):
    marker = Path(os.environ["HOOK_LOG"]).with_name("flaky-tried")
    if not marker.exists():
        marker.write_text("once")
        raise ConnectionError("warehouse busy")
    with outputs["o"].open("w") as handle:
        handle.write("ok")


def broken(outputs):
    raise ValueError("bad row 7")
"""

PIPELINE = """
pipeline: hooked
params:
  day: {type: string, default: d1}
hooks:
  on_failure: [hooks_mod:run_failed, hooks_mod:boom]
  on_success: hooks_mod:run_done
  on_retry: hooks_mod:any_retry
steps:
  flaky:
    run: hooks_mod:flaky
    retries: 1
    retry_delay: 0
    outputs: {o: "out/flaky-{day}.txt"}
    on_retry: hooks_mod:step_retry
    on_success: [hooks_mod:boom, hooks_mod:step_done]
  broken:
    run: hooks_mod:broken
    outputs: {o: "out/broken-{day}.txt"}
    on_failure: [hooks_mod:boom, hooks_mod:step_failed]
"""


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run(tmp_path: Path, *args: str, config: str = ""):
    (tmp_path / "hooks_mod.py").write_text(HOOKS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    env = {"HOOK_LOG": str(tmp_path / "hooks.log"), "PYTHONPATH": str(tmp_path)}
    return run_cli("run", "pipeline.yaml", *args, cwd=tmp_path, env=env, config=config)


def test_step_and_run_hooks_are_called_and_a_broken_hook_changes_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "-k")
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    log = events(tmp_path / "hooks.log")
    by_hook: dict[str, list[dict]] = {}
    for event in log:
        by_hook.setdefault(event.pop("hook"), []).append(event)

    assert by_hook["step_retry"] == [{"step": "flaky", "attempt": 1, "error": "warehouse busy"}]
    assert by_hook["any_retry"] == [{"step": "flaky", "attempt": 1}]  # the pipeline's, for every step
    # on_success ran after the broken hook before it, and the step still succeeded.
    assert by_hook["step_done"] == [
        {"step": "flaky", "params": {"day": "d1"}, "outputs": [str(Path("out/flaky-d1.txt"))]}
    ]
    assert (tmp_path / "out" / "flaky-d1.txt").read_text() == "ok"
    assert by_hook["step_failed"] == [{"step": "broken", "error": "bad row 7"}]
    (run_failed,) = by_hook["run_failed"]  # once per run, not per task
    assert run_failed["exit_code"] == 1 and run_failed["pipeline"] == "pipeline.yaml"
    assert run_failed["failed"] == ["hooked.broken()"] and run_failed["run_id"]
    assert "ValueError: bad row 7" in run_failed["text"]
    assert "run_done" not in by_hook

    # The broken hooks were reported, and the step's own error is still the one reported.
    assert "on_success hook hooks_mod:boom failed (RuntimeError: the hook itself is broken); ignored" in (
        result.stderr
    )
    assert "on_failure hook hooks_mod:boom failed" in result.stderr
    assert "FAILED  hooked.broken()  " in result.stdout and ": ValueError: bad row 7" in result.stdout
    assert "       ran  hooked.flaky()" in result.stdout


def test_run_hooks_from_luigi_cfg_apply_to_every_pipeline(tmp_path: Path) -> None:
    config = "[hooks]\non_success = hooks_mod:from_config\non_retry = hooks_mod:retry_from_config\n"
    result = run(tmp_path, "flaky", "--day", "d2", config=config)
    assert result.exit_code == ExitCode.OK, result.output
    assert [event["hook"] for event in events(tmp_path / "hooks.log")] == [
        "step_retry",
        "any_retry",
        "retry_from_config",
        "step_done",
        "run_done",
        "from_config",
    ]
    retry = next(event for event in events(tmp_path / "hooks.log") if event["hook"] == "retry_from_config")
    assert retry == {
        "hook": "retry_from_config",
        "step": "hooked.flaky",
        "attempt": 1,
        "params": {"day": "d2"},
    }


def test_hooks_may_be_methods_and_what_cannot_be_called_is_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "pager.py").write_text(
        "import json, os\n"
        "class Pager:\n"
        "    @staticmethod\n"
        "    def page(summary):\n"
        "        print('paging from a hook')\n"
        "        open(os.environ['HOOK_LOG'], 'a').write(json.dumps({'paged': summary['exit_code']}))\n"
    )
    (tmp_path / "pipeline.yaml").write_text(
        "pipeline: paged\nhooks:\n  on_success: pager:Pager.page\n"
        "steps:\n  s: {shell: 'echo ok > {outputs.o}', outputs: {o: out.txt}}\n"
    )
    env = {"HOOK_LOG": str(tmp_path / "hooks.log"), "PYTHONPATH": str(tmp_path)}
    result = run_cli("run", "pipeline.yaml", "--json", cwd=tmp_path, env=env)
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["exit_code"] == 0  # what the hook printed went to stderr
    assert "paging from a hook" in result.stderr
    assert json.loads((tmp_path / "hooks.log").read_text()) == {"paged": 0}

    (tmp_path / "pipeline.yaml").write_text(
        "pipeline: paged\nhooks:\n  on_success: builtins:getattr\n  on_failure: pager:Pager.pgae\n"
        "steps:\n  s: {shell: 'echo ok > {outputs.o}', outputs: {o: out.txt}}\n"
    )
    result = run_cli("validate", "pipeline.yaml", cwd=tmp_path, env=env)
    assert result.exit_code == ExitCode.INVALID_PIPELINE
    assert "pipeline.yaml:3:15: hooks.on_success: 'builtins:getattr' does not say which arguments" in (
        result.output
    )
    assert (
        "pipeline.yaml:4:15: hooks.on_failure: 'Pager' has no 'pgae' (did you mean 'page'?)" in result.output
    )


def test_a_broken_hook_in_luigi_cfg_is_reported_when_the_run_starts(tmp_path: Path) -> None:
    config = "[hooks]\non_failure = hooks_mod:run_failed no_such_module:page\n"
    result = run(tmp_path, "flaky", config=config)
    assert result.exit_code == ExitCode.OK, result.output
    assert (
        "dashpipe: warning: luigi.cfg [hooks] on_failure: cannot import no_such_module:page: "
        "ModuleNotFoundError" in result.stderr
    )
    assert "hooks_mod:run_failed" not in result.stderr  # the good one is fine
