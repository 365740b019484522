"""What users see (issue 13): the scheduler's URL and where `history` finds its runs, usage lines,
suggestions for misspelt options, and messages in good English."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import click.testing
import pytest

from pipelines import ExitCode
from pipelines.cli.commands import main
from pipelines.cli.scheduler import scheduler_url
from pipelines.common.task_names import picks
from tests.helpers import REPO, run_cli
from tests.servers import start_luigid

EXAMPLE = str(REPO / "examples" / "sales" / "pipeline.py")
EXAMPLE_YAML = str(REPO / "examples" / "sales" / "pipeline.yaml")

SALES_TASKS = """\
import luigi


class Sales(luigi.Task):
    def output(self):
        return luigi.LocalTarget("sales.txt")

    def run(self):
        self.output().open("w").close()


class SalesReport(luigi.Task):
    def requires(self):
        return Sales()

    def output(self):
        return luigi.LocalTarget("report.txt")

    def run(self):
        self.output().open("w").close()


class Fetch(luigi.Task):
    task_namespace = "sales"  # a family like a YAML pipeline's step: sales.Fetch

    def output(self):
        return luigi.LocalTarget("fetched.txt")

    def run(self):
        self.output().open("w").close()
"""


def tasks_in(history_json: str) -> set[str]:
    return {run["task"] for run in json.loads(history_json)}


def test_history_finds_the_scheduler_wherever_it_was_started_and_filters_by_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_home = tmp_path / "xdg-state"
    # The scheduler (started from this process's environment) and history share this user's note.
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    env = {"XDG_STATE_HOME": str(state_home)}
    project = tmp_path / "project"
    project.mkdir()
    (project / "sales_tasks.py").write_text(SALES_TASKS)
    (tmp_path / "logs").mkdir()
    server = start_luigid(tmp_path / "logs", state=tmp_path / "somewhere" / "else")
    try:
        startup = server.log_path.read_text()
        assert f"dashpipe scheduler: {server.url} " in startup, startup
        for task in ("SalesReport", "Fetch"):
            module = "sales_tasks.py:" + task
            ran = run_cli("run", module, "--scheduler", server.url, cwd=project, env=env)
            assert ran.exit_code == ExitCode.OK, ran.output
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()

        def history(*args: str) -> set[str]:
            result = run_cli("history", *args, "--json", cwd=elsewhere, env=env)
            assert result.exit_code == ExitCode.OK, result.output
            return tasks_in(result.stdout)

        assert history() == {"Sales", "SalesReport", "sales.Fetch"}
        assert history("SalesReport") == {"SalesReport"}
        assert history("sales") == {"sales.Fetch"}  # a pipeline's steps, and not SalesReport
        assert history("Sales*") == {"Sales", "SalesReport"}
        assert history("sales.*") == {"sales.Fetch"}
        assert history("--state-dir", str(tmp_path / "somewhere" / "else"), "Sales") == {"Sales"}
        none = run_cli("history", "salesreport", cwd=elsewhere, env=env)
        assert none.exit_code == ExitCode.OK and none.stdout == "no task runs of 'salesreport' recorded\n"
    finally:
        server.stop()


def test_the_url_printed_is_one_other_machines_can_open() -> None:
    assert scheduler_url("127.0.0.1", 8082) == "http://127.0.0.1:8082"
    assert scheduler_url("0.0.0.0", 8082) == f"http://{socket.getfqdn()}:8082"
    assert scheduler_url("::1", 9000) == "http://[::1]:9000"


def test_history_without_a_scheduler_names_the_path_it_tried_and_what_to_pass(tmp_path: Path) -> None:
    result = run_cli("history", cwd=tmp_path, env={"XDG_STATE_HOME": str(tmp_path / "no-state")})
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    tried = f"{tmp_path.resolve()}/.dashpipe/scheduler/history.db"
    assert result.stderr.startswith(f"dashpipe: error: no task history at {tried} ("), result.stderr
    assert "pass --db URL, or --state-dir DIR" in result.stderr and len(result.stderr.splitlines()) == 1
    other = run_cli("history", "--state-dir", str(tmp_path / "gone"), cwd=tmp_path)
    assert other.exit_code == ExitCode.INVALID_PIPELINE
    assert f"no task history at {tmp_path.resolve()}/gone/history.db" in other.stderr
    assert not (tmp_path / "gone").exists()  # looking did not create an empty database


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("sales", ["sales", "sales.fetch"]),
        ("Sales", ["Sales"]),
        ("Sales*", ["Sales", "SalesReport"]),
        ("sales.*", ["sales.fetch"]),
        ("*Report", ["SalesReport"]),
        ("sale", []),
        ("fetch", ["sales.fetch"]),  # a step's own name, as --force and status take it
    ],
)
def test_a_name_is_a_family_a_step_a_pipeline_or_a_glob_and_case_sensitive(
    pattern: str, expected: list[str]
) -> None:
    families = ["sales", "sales.fetch", "salesman.x", "Sales", "SalesReport"]
    assert [family for family in families if picks(pattern, family)] == expected


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("run", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("backfill", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("status", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("explain", "PIPELINE STEP [--PARAM VALUE]..."),
        ("mark-fresh", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("forget", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("list", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("dag", "PIPELINE [STEP]... [--PARAM VALUE]..."),
        ("validate", "PIPELINE [--PARAM VALUE]..."),
        ("scheduler", ""),
        ("history", "[TASKS]"),
    ],
)
def test_usage_lines_show_steps_and_parameters(command: str, words: str) -> None:
    result = click.testing.CliRunner().invoke(main, [command, "--help"], prog_name="dashpipe")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Usage: dashpipe {command} [OPTIONS] {words}".rstrip()


def test_a_usage_error_shows_the_same_usage_line() -> None:
    result = click.testing.CliRunner().invoke(main, ["run"], prog_name="dashpipe")
    assert result.exit_code == ExitCode.USAGE
    assert "Usage: dashpipe run [OPTIONS] PIPELINE [STEP]... [--PARAM VALUE]...\n" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", f"{EXAMPLE}:SalesReport", "--date", "2026-11-24", "--wokers", "2"],
            "SalesReport has no parameter --wokers (its parameters: --date, --raw-root, --root) "
            "(did you mean '--workers'?)",
        ),
        (
            ["run", EXAMPLE_YAML, "--date", "2026-11-24", "--wokers", "2"],
            "sales has no parameter --wokers (its parameters: --date, --raw-root, --root) "
            "(did you mean '--workers'?)",
        ),
        (
            ["status", EXAMPLE_YAML, "--date", "2026-11-24", "--rebuild-unrecordd"],
            "(did you mean '--rebuild-unrecorded'?)",
        ),
        (  # the pipeline's own parameters still come first
            ["run", EXAMPLE_YAML, "--date", "2026-11-24", "--rot", "x"],
            "(did you mean '--root'?)",
        ),
    ],
)
def test_a_misspelt_option_of_the_command_is_suggested(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert result.stderr.endswith(message + "\n"), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_misspelt_option_is_suggested_in_the_json_document_too(tmp_path: Path) -> None:
    result = run_cli("run", f"{EXAMPLE}:SalesReport", "--wokers", "2", "--json", cwd=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE
    assert json.loads(result.stdout)["error"].endswith("(did you mean '--workers'?)")


ONE_STEP = """\
pipeline: single
params:
  day: {type: date, default: "2026-11-24"}
  count: {type: int, default: 1}
  root: {type: string}
steps:
  only:
    shell: "echo {count} > {outputs.o}"
    outputs: {o: "{root}/only-{day}.txt"}
"""


def test_values_are_read_as_named_kinds_and_counts_agree(tmp_path: Path) -> None:
    pipeline = tmp_path / "single.yaml"
    pipeline.write_text(ONE_STEP)

    def single(command: str, *args: str):
        return run_cli(command, str(pipeline), "--root", str(tmp_path), *args, cwd=tmp_path)

    number = single("run", "--count", "two")
    assert number.stderr == "dashpipe: error: --count of single: cannot read 'two' as a whole number\n"
    date = single("run", "--day", "nope")
    assert date.stderr == (
        "dashpipe: error: --day of single: cannot read 'nope' as a date "
        "(YYYY-MM-DD, today, yesterday, today-N or today+N)\n"
    )
    ran = single("run")
    assert ran.exit_code == ExitCode.OK, ran.output
    assert ran.stdout.splitlines()[-1] == "1 task: 1 ran"
    status = single("status", "-a")
    assert status.stdout.splitlines()[-1] == "1 task: 1 up to date — nothing to rebuild"
    changed = single("status", "--count", "3")
    assert changed.stdout.splitlines()[-1] == "reasons: 1 parameter changed"


def test_the_reason_footer_pluralises_each_cause(tmp_path: Path) -> None:
    pipeline = tmp_path / "pair.yaml"
    pipeline.write_text(
        ONE_STEP.replace("single", "pair")
        + '  other:\n    shell: "echo {count} > {outputs.o}"\n    outputs: {o: "{root}/other-{day}.txt"}\n'
    )
    args = [str(pipeline), "--root", str(tmp_path)]
    assert run_cli("run", *args, cwd=tmp_path).exit_code == ExitCode.OK
    status = run_cli("status", *args, "--count", "2", cwd=tmp_path)
    assert re.search(r"^2 tasks: 2 stale$", status.stdout, re.M), status.stdout
    assert status.stdout.splitlines()[-1] == "reasons: 2 parameters changed"
