"""The make-like CLI: goals, dry runs, keep-going, backfills, graphs, JSON, exit codes, progress."""

from __future__ import annotations

import json
import os
import pty
import shutil
from pathlib import Path

from pipelines import ExitCode
from tests.helpers import REPO, run_cli, start_cli
from tests.pipelines.test_example_pipeline import RAW, ran

SALES_YAML = str(REPO / "examples" / "sales" / "pipeline.yaml")
SALES_PY = str(REPO / "examples" / "sales" / "pipeline.py")


def sales(tmp_path: Path, *args: str, command: str = "run", **kwargs):
    return run_cli(command, SALES_YAML, *args, "--root", str(tmp_path / "out"), cwd=REPO, **kwargs)


def test_named_steps_are_the_goals(tmp_path: Path) -> None:
    result = sales(tmp_path, "totals", "--date", "2026-11-24")
    assert result.exit_code == ExitCode.OK, result.output
    assert ran(result) == ["sales.clean", "sales.totals"]
    assert not (tmp_path / "out" / "reports").exists()


def test_unknown_step_is_an_invalid_invocation(tmp_path: Path) -> None:
    result = sales(tmp_path, "totlas", "--date", "2026-11-24")
    assert result.exit_code == ExitCode.INVALID_PIPELINE
    assert "has no step 'totlas'" in result.stderr and "did you mean 'totals'" in result.stderr


def test_dry_run_lists_in_order_and_executes_nothing(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel"
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "pipeline: dry\nparams:\n  root: {type: string}\nsteps:\n"
        f"  first:\n    shell: 'touch {sentinel} && echo 1 > {{outputs.o}}'\n"
        "    outputs: {o: '{root}/1'}\n"
        "  second:\n    shell: 'cat {inputs.i} > {outputs.o}'\n    inputs: {i: first.o}\n"
        "    outputs: {o: '{root}/2'}\n"
    )
    result = run_cli("run", str(pipeline), "--root", str(tmp_path / "out"), "-n", cwd=tmp_path)
    assert result.exit_code == ExitCode.OUT_OF_DATE, result.output  # make -q: there is work to do
    lines = result.stdout.splitlines()
    assert lines[0] == "would run, in order (2):"
    assert [line.split("(")[0].strip() for line in lines[1:]] == ["dry.first", "dry.second"]
    assert not sentinel.exists() and not (tmp_path / "out").exists()
    as_json = json.loads(
        run_cli("run", str(pipeline), "--root", str(tmp_path / "out"), "-n", "--json", cwd=tmp_path).stdout
    )
    assert [task["family"] for task in as_json["would_run"]] == ["dry.first", "dry.second"]
    assert not sentinel.exists()


def test_dry_run_after_a_build_has_nothing_to_do_and_flags_missing_inputs(tmp_path: Path) -> None:
    assert sales(tmp_path, "--date", "2026-11-24").exit_code == ExitCode.OK
    done = sales(tmp_path, "--date", "2026-11-24", "-n")
    assert done.exit_code == ExitCode.OK and "nothing to do" in done.stdout
    missing = sales(tmp_path, "--date", "2026-01-01", "-n")
    assert missing.exit_code == ExitCode.MISSING_INPUT
    assert "MISSING" in missing.stderr and "2026-01-01.csv" in missing.stderr


def test_status_check_and_dry_run_answer_by_exit_code_like_make_q(tmp_path: Path) -> None:
    def codes(*args: str) -> tuple[int, int, int]:
        checked = sales(tmp_path, *args, "--check", command="status")
        plain = sales(tmp_path, *args, command="status")
        dry = sales(tmp_path, *args, "-n")
        return checked.exit_code, dry.exit_code, plain.exit_code

    assert codes("--date", "2026-11-24") == (ExitCode.OUT_OF_DATE, ExitCode.OUT_OF_DATE, ExitCode.OK)
    assert sales(tmp_path, "--date", "2026-11-24").exit_code == ExitCode.OK
    assert codes("--date", "2026-11-24") == (ExitCode.OK, ExitCode.OK, ExitCode.OK)
    (tmp_path / "out" / "reports" / "2026-11-24.md").write_text("edited\n")
    assert codes("--date", "2026-11-24") == (ExitCode.OUT_OF_DATE, ExitCode.OUT_OF_DATE, ExitCode.OK)
    missing = ExitCode.MISSING_INPUT
    assert codes("--date", "2026-01-01") == (missing, missing, ExitCode.OK)


def failing_pipeline(tmp_path: Path) -> Path:
    pipeline = tmp_path / "fails.yaml"
    pipeline.write_text(
        "pipeline: fails\nparams:\n  root: {type: string}\nsteps:\n"
        "  broken:\n    shell: 'exit 7'\n    priority: 100\n    outputs: {o: '{root}/broken'}\n"
        "  fine:\n    shell: 'echo ok > {outputs.o}'\n    outputs: {o: '{root}/fine'}\n"
    )
    return pipeline


def test_first_failure_stops_the_run_like_make(tmp_path: Path) -> None:
    result = run_cli("run", str(failing_pipeline(tmp_path)), "--root", str(tmp_path / "out"), cwd=tmp_path)
    assert result.exit_code == ExitCode.TASK_FAILED
    assert "command exited with 7" in result.output
    assert "stopped after a failure (-k/--keep-going runs the rest)" in result.stderr
    assert not (tmp_path / "out" / "fine").exists()


def test_keep_going_runs_what_does_not_need_the_failure(tmp_path: Path) -> None:
    result = run_cli(
        "run", str(failing_pipeline(tmp_path)), "--root", str(tmp_path / "out"), "-k", cwd=tmp_path
    )
    assert result.exit_code == ExitCode.TASK_FAILED
    assert (tmp_path / "out" / "fine").read_text() == "ok\n"
    assert "2 tasks: 1 ran, 1 failed" in result.stdout


def test_run_json_is_one_document(tmp_path: Path) -> None:
    result = sales(tmp_path, "--date", "2026-11-24", "--json")
    assert result.exit_code == ExitCode.OK
    document = json.loads(result.stdout)
    assert document["exit_code"] == 0
    assert document["summary"]["ran"] == 4
    outcomes = {task["family"]: task["outcome"] for task in document["tasks"]}
    assert outcomes["sales.report"] == "ran" and outcomes["ExternalInput"] == "up to date"


def test_exit_codes(tmp_path: Path) -> None:
    assert sales(tmp_path, "--date", "2026-11-24").exit_code == ExitCode.OK
    assert (
        run_cli("run", str(failing_pipeline(tmp_path)), "--root", str(tmp_path / "f"), cwd=tmp_path).exit_code
        == ExitCode.TASK_FAILED
    )
    assert (
        sales(tmp_path, "--date", "2026-11-24", "--no-such-flag-for-click", "-j", "x").exit_code
        == ExitCode.USAGE
    )
    assert sales(tmp_path, "--date", "1999-01-01").exit_code == ExitCode.MISSING_INPUT
    broken = tmp_path / "broken.yaml"
    broken.write_text("pipeline: broken\nsteps: {}\n")
    assert run_cli("run", str(broken), cwd=tmp_path).exit_code == ExitCode.INVALID_PIPELINE
    unreachable = sales(
        tmp_path,
        "--date",
        "2026-11-25",
        "--scheduler",
        "http://127.0.0.1:9",
        config="[core]\nrpc-retry-attempts = 1\nrpc-retry-wait = 0\n",
    )
    assert unreachable.exit_code == ExitCode.SCHEDULER_ERROR, unreachable.output
    assert "scheduler http://127.0.0.1:9" in unreachable.stderr and "Traceback" not in unreachable.output


def test_validate_list_and_dag(tmp_path: Path) -> None:
    assert run_cli("validate", SALES_YAML).stdout.strip() == "ok: sales, 4 steps"
    listing = json.loads(run_cli("list", SALES_YAML, "--json").stdout)
    steps = {step["name"]: step for step in listing["steps"]}
    assert steps["totals"]["inputs"] == {"orders": "clean.orders"}
    assert [name for name, step in steps.items() if step["final"]] == ["report", "row_count"]
    text = run_cli("dag", SALES_YAML, "--date", "2026-11-24").stdout.splitlines()
    assert text[0] == "sales.report(date=2026-11-24)"
    assert text[1] == "└── sales.totals(date=2026-11-24)"
    graph = json.loads(run_cli("dag", SALES_YAML, "--date", "2026-11-24", "--format", "json").stdout)
    by_id = {task["id"]: task for task in graph["tasks"]}
    report = next(task for task in graph["tasks"] if task["family"] == "sales.report")
    assert [by_id[dep]["family"] for dep in report["requires"]] == ["sales.totals"]
    dot = run_cli("dag", SALES_YAML, "--date", "2026-11-24", "--format", "dot").stdout
    assert dot.startswith("digraph pipeline {") and dot.count("->") == 4
    mermaid = run_cli("dag", SALES_PY + ":SalesReport", "--date", "2026-11-24", "--format", "mermaid").stdout
    assert mermaid.startswith("graph LR") and mermaid.count("-->") == 3


def test_backfill_a_week_skipping_dates_already_built(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    days = [f"2026-11-{day:02d}" for day in range(16, 23)]
    for day in days:
        shutil.copy(RAW / "2026-11-24.csv", raw / f"{day}.csv")
    for day in days[:3]:
        assert sales(tmp_path, "--date", day, "--raw-root", str(raw)).exit_code == ExitCode.OK
    result = sales(
        tmp_path, "--from", days[0], "--to", days[-1], "--raw-root", str(raw), "-j", "2", command="backfill"
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "7 dates of --date: 3 already built, 4 built now, 0 not complete" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out" / "reports").glob("*.md")) == [f"{d}.md" for d in days]
    assert len(ran(result)) == 4 * 4  # four steps for each of the four new dates
    again = sales(tmp_path, "--from", days[0], "--to", days[-1], "--raw-root", str(raw), command="backfill")
    assert "7 dates of --date: 7 already built, 0 built now" in again.stdout and ran(again) == []


def test_backfill_reports_dates_that_cannot_be_built(tmp_path: Path) -> None:
    result = run_cli(
        "backfill",
        SALES_PY + ":SalesReport",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-26",
        "--root",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.exit_code == ExitCode.MISSING_INPUT
    assert "3 dates of --date: 0 already built, 2 built now, 1 not complete" in result.stdout
    bad_range = run_cli("backfill", SALES_YAML, "--from", "2026-11-24", "--to", "2026-11-20", cwd=tmp_path)
    assert bad_range.exit_code == ExitCode.INVALID_PIPELINE and "is before --from" in bad_range.stderr


def test_live_progress_line_on_a_terminal(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = start_cli(
        "run",
        SALES_YAML,
        "--date",
        "2026-11-24",
        "--root",
        str(tmp_path),
        cwd=REPO,
        stderr=terminal,
        text=False,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(controller)
    screen = b"".join(chunks).decode()
    assert process.returncode == 0
    assert "0/4 done, 0 running, 0 failed" in screen
    assert "4/4 done, 0 running, 0 failed" in screen
    plain = sales(tmp_path / "again", "--date", "2026-11-24")  # not a terminal: no progress line
    assert "done," not in plain.output


def test_json_mode_prints_a_document_even_for_errors_and_keeps_task_prints_off_stdout(tmp_path: Path) -> None:
    missing = run_cli("run", "no-such-pipeline.yaml", "--json", cwd=tmp_path)
    assert missing.exit_code == ExitCode.INVALID_PIPELINE
    assert json.loads(missing.stdout) == {
        "error": "no such pipeline file: no-such-pipeline.yaml",
        "exit_code": 4,
    }
    (tmp_path / "chatty.py").write_text(
        "import luigi\n\nclass Chatty(luigi.Task):\n"
        "    def output(self):\n        return luigi.LocalTarget('chatty.txt')\n"
        "    def run(self):\n        print('hello from the task')\n        self.output().open('w').close()\n"
    )
    chatty = run_cli("run", "chatty.py:Chatty", "--json", cwd=tmp_path)
    assert chatty.exit_code == ExitCode.OK
    assert json.loads(chatty.stdout)["summary"]["ran"] == 1
    assert "hello from the task" in chatty.stderr
