"""The end-of-run summary: what failed and why, where its log is, what did not run because of it,
and how long each part of the run took; on the terminal and in --json."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.errors import ExitCode
from tests.helpers import run_cli

STEPS = """
from pathlib import Path


def write(outputs):
    for target in outputs.values():
        with target.open("w") as handle:
            handle.write("ok")


def bad(outputs):
    raise ValueError("bad row 7\\nexpected 3 columns\\ngot 2")
"""

PIPELINE = """
pipeline: summary
steps:
  extract: {run: "steps:write", outputs: {o: out/extract.txt}}
  transform: {run: "steps:bad", inputs: {e: extract.o}, outputs: {o: out/transform.txt}}
  load: {run: "steps:write", inputs: {t: transform.o}, outputs: {o: out/load.txt}}
  publish: {run: "steps:write", inputs: {l: load.o}, outputs: {o: out/publish.txt}}
  side: {run: "steps:write", outputs: {o: out/side.txt}}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    return tmp_path


def test_summary_shows_the_error_its_place_its_log_and_what_it_blocked(tmp_path: Path) -> None:
    result = run_cli("run", "pipeline.yaml", "-k", cwd=project(tmp_path), env={"PYTHONPATH": str(tmp_path)})
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    (log,) = (tmp_path / ".dashpipe" / "logs").glob("*/summary.transform__*.log")
    assert "ValueError: bad row 7" in log.read_text()
    block = [
        "            ValueError: bad row 7",
        "            expected 3 columns",
        "            got 2",
        "            at steps.py:12, in bad",
        f"            full log: {log}",
    ]
    lines = result.stderr.splitlines()
    start = next(
        index for index, line in enumerate(lines) if line.startswith("    FAILED  summary.transform() after")
    )
    assert lines[start + 1 : start + 6] == block
    # Both tasks downstream name the failure that kept them from running, not their direct input.
    for step in ("load", "publish"):
        assert f"   not run  summary.{step}(): a task it needs failed (summary.transform())" in lines
    took = next(line for line in result.stdout.splitlines() if line.startswith("took "))
    assert "checking " in took and "scheduling " in took and "running " in took and "slowest: " in took
    assert result.stdout.splitlines()[-1] == "5 tasks: 2 ran, 1 failed, 2 not run"


def test_json_report_carries_the_same_summary(tmp_path: Path) -> None:
    result = run_cli(
        "run", "pipeline.yaml", "-k", "--json", cwd=project(tmp_path), env={"PYTHONPATH": str(tmp_path)}
    )
    assert result.exit_code == ExitCode.TASK_FAILED, result.stderr
    report = json.loads(result.stdout)
    assert set(report["seconds"]) == {"checking", "scheduling", "running"}
    assert all(seconds >= 0 for seconds in report["seconds"].values())
    tasks = {task["name"]: task for task in report["tasks"]}
    failed = tasks["summary.transform()"]
    assert failed["outcome"] == "failed" and Path(failed["log"]).is_file()
    assert failed["error_lines"] == [
        "ValueError: bad row 7",
        "expected 3 columns",
        "got 2",
        "at steps.py:12, in bad",
    ]
    assert tasks["summary.publish()"]["blocked_by"] == ["summary.transform()"]
    assert "blocked_by" not in tasks["summary.side()"] and tasks["summary.side()"]["outcome"] == "ran"


def test_a_successful_rerun_stays_one_quiet_line(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "steps.py").write_text(STEPS.replace('raise ValueError("bad row 7', 'write(outputs)  # ("'))
    first = run_cli("run", "pipeline.yaml", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert first.exit_code == ExitCode.OK, first.output
    assert first.stdout.splitlines()[-2].startswith("took ") and first.stderr == ""
    again = run_cli("run", "pipeline.yaml", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)})
    # Both goals are done, so luigi looks no further upstream.
    assert again.stdout == "2 tasks: 2 up to date — nothing to do\n" and again.stderr == ""


def test_a_password_in_an_input_url_shows_nowhere(tmp_path: Path) -> None:
    # The input is missing, so the run names it in every report.
    url = "memory://etl:hunter2@store/drop/orders.csv"
    (tmp_path / "pipeline.yaml").write_text(
        "pipeline: secret\nsteps:\n  copy:\n    shell: 'cp {inputs.raw} {outputs.o}'\n"
        f"    inputs: {{raw: '{url}'}}\n    outputs: {{o: out.csv}}\n"
    )
    for args in (("run", "pipeline.yaml"), ("run", "pipeline.yaml", "--json"), ("status", "pipeline.yaml")):
        result = run_cli(*args, cwd=tmp_path)
        assert "etl:***@store/drop/orders.csv" in result.output, result.output
        assert "hunter2" not in result.output


def test_a_long_blocked_list_is_cut_short_on_the_terminal_and_whole_in_json(tmp_path: Path) -> None:
    args = (
        "run",
        f"{Path(__file__).with_name('chain_tasks.py')}:Link",
        "--root",
        str(tmp_path / "out"),
        "--n",
        "80",
    )
    result = run_cli(*args, cwd=tmp_path)
    assert result.exit_code == ExitCode.TASK_FAILED
    lines = result.stderr.splitlines()
    assert sum(1 for line in lines if line.startswith("   not run  Link(")) == 50
    assert "            ... and 29 more not run (-v lists them all, --json too)" in lines
    assert "ValueError: the first link broke" in result.stderr  # the failure is still there, after them
    report = json.loads(run_cli(*args, "--json", cwd=tmp_path).stdout)
    assert sum(1 for task in report["tasks"] if task["outcome"] == "not run") == 79
