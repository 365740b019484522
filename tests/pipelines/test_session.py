"""pipelines.run and pipelines.assess: the run dashpipe makes, from Python, with the same staleness,
records and run hooks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import pipelines
from pipelines.yaml.compile import load_pipeline
from tests.helpers import REPO

HOOKS = """\
import json
import os


def done(summary):
    with open(os.environ["SESSION_HOOK_LOG"], "a") as log:
        log.write(json.dumps({"exit_code": summary["exit_code"], "pipeline": summary["pipeline"]}) + "\\n")
"""

PIPELINE = """\
pipeline: session_demo
params:
  root: {type: string}
hooks:
  on_success: session_hooks:done
steps:
  first:
    shell: "echo one > {outputs.o}"
    outputs: {o: "{root}/first.txt"}
  second:
    shell: "tr a-z A-Z < {inputs.i} > {outputs.o}"
    inputs: {i: first.o}
    outputs: {o: "{root}/second.txt"}
"""


def families(report: pipelines.RunReport, outcome: pipelines.Outcome) -> list[str]:
    return sorted(task.task.get_task_family() for task in report.tasks if task.outcome is outcome)


def test_run_from_python_rebuilds_what_is_stale_and_calls_the_run_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "session_hooks.py").write_text(HOOKS)
    (tmp_path / "session_demo.yaml").write_text(PIPELINE)
    log = tmp_path / "hooks.jsonl"
    monkeypatch.setenv("SESSION_HOOK_LOG", str(log))
    monkeypatch.chdir(tmp_path)
    compiled = load_pipeline(tmp_path / "session_demo.yaml")
    goals = compiled.goals([], {"root": str(tmp_path / "out")})

    first = pipelines.run(goals, title="session_demo.yaml")
    assert first.exit_code == pipelines.ExitCode.OK
    assert families(first, pipelines.Outcome.RAN) == ["session_demo.first", "session_demo.second"]
    assert (tmp_path / "out" / "second.txt").read_text() == "ONE\n"
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {"exit_code": 0, "pipeline": "session_demo.yaml"}
    ]

    assert {v.state.value for v in pipelines.assess(goals).verdicts.values()} == {"up to date"}
    (tmp_path / "out" / "first.txt").write_text("two\n")  # edited by hand: stale, as for dashpipe
    verdicts = {v.task.get_task_family(): v for v in pipelines.assess(goals).verdicts.values()}
    assert "modified outside the pipeline" in verdicts["session_demo.first"].reason
    again = pipelines.run(goals)
    assert families(again, pipelines.Outcome.RAN) == ["session_demo.first"]
    # first wrote back what second was built from: early cutoff, as in dashpipe run
    assert families(again, pipelines.Outcome.UP_TO_DATE) == ["session_demo.second"]
    assert (tmp_path / "out" / "first.txt").read_text() == "one\n"


def test_run_from_python_honours_force_and_refuses_an_unknown_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    from examples.sales.pipeline import SalesReport

    goal = SalesReport(date=dt.date(2026, 11, 24), root=str(tmp_path / "sales"))
    assert pipelines.run([goal]).exit_code == pipelines.ExitCode.OK
    forced = pipelines.run([goal], policy=pipelines.Policy(force=frozenset({"DailyTotals"})))
    assert families(forced, pipelines.Outcome.RAN) == ["DailyTotals", "SalesReport"]
    with pytest.raises(pipelines.PipelineError, match="--force DailyTotal: no such step or task here"):
        pipelines.run([goal], policy=pipelines.Policy(force=frozenset({"DailyTotal"})))
