"""Mistakes in a Python pipeline's requires() and output() (issue 13): found by walking the whole
graph, in every command, as exit 4 naming the user's file:line; never exit 70 or a failed task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines import ExitCode
from tests.helpers import REPO, CliResult, run_cli

EXAMPLE = str(REPO / "examples" / "sales" / "pipeline.py")

TASKS = """\
import luigi


class Raw(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("raw.csv")


class Good(luigi.Task):
    def requires(self):
        return Raw()

    def output(self):
        return luigi.LocalTarget("good.txt")

    def run(self):
        pass


class Returns42(luigi.Task):
    def requires(self):  # requires-42
        return [Good(), 42]

    def output(self):
        return luigi.LocalTarget("r42.txt")


class RequiresRaises(luigi.Task):
    def requires(self):
        return {"good": Good(), "other": other_task(self)}

    def output(self):
        return luigi.LocalTarget("raises.txt")


def other_task(task):
    return task.no_such_attribute  # requires-raises


class OutputNotTarget(luigi.Task):
    def requires(self):
        return Good()

    def output(self):  # output-42
        return 42


class OutputRaises(luigi.Task):
    def requires(self):
        return Good()

    def output(self):
        return luigi.LocalTarget(self.no_such_path)  # output-raises


class Top(luigi.Task):
    def requires(self):
        return [Returns42(), RequiresRaises(), OutputNotTarget(), OutputRaises(), Good()]

    def output(self):
        return luigi.LocalTarget("top.txt")
"""


def line_of(marker: str, text: str = TASKS) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if marker in line)


MISTAKES = {
    # Each wrong task sits below a good one, so a walk that stopped at the goal would miss it.
    "Returns42": ("requires() returned an int (42), not a luigi Task", line_of("requires-42")),
    "RequiresRaises": ("requires() failed: AttributeError", line_of("requires-raises")),
    "OutputNotTarget": ("output() returned an int (42), not a luigi Target", line_of("output-42")),
    "OutputRaises": ("output() failed: AttributeError", line_of("output-raises")),
}

COMMANDS = [
    ["run"],
    ["run", "-n"],
    ["run", "--existence-only"],
    ["run", "-n", "--existence-only"],
    ["status"],
    ["list"],
    ["validate"],
]


@pytest.fixture
def tasks(tmp_path: Path) -> Path:
    (tmp_path / "tasks.py").write_text(TASKS)
    return tmp_path


def assert_user_error(result: CliResult, *fragments: str) -> None:
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("task", sorted(MISTAKES))
def test_requires_and_output_mistakes_are_user_errors_naming_the_line(
    tasks: Path, task: str, command: list[str]
) -> None:
    message, line = MISTAKES[task]
    result = run_cli(*command, f"tasks.py:{task}", cwd=tasks)
    assert_user_error(result, f"{task}()", message, f"tasks.py:{line}")


def test_dag_names_the_line_of_a_requires_mistake(tasks: Path) -> None:
    result = run_cli("dag", "tasks.py:RequiresRaises", cwd=tasks)
    assert_user_error(result, "RequiresRaises(): requires() failed", f"tasks.py:{line_of('requires-raises')}")


def test_validate_walks_the_whole_graph_and_counts_its_tasks(tmp_path: Path) -> None:
    result = run_cli("validate", f"{EXAMPLE}:SalesReport", cwd=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    # As run counts them ("4 tasks: 3 ran, 1 up to date"): the external input is a task too.
    assert result.stdout.startswith("ok: SalesReport, 4 tasks (1 external input); "), result.output
    assert "--date 2026-01-31" in result.stdout  # the sample value it was checked with, said so

    given = run_cli("validate", f"{EXAMPLE}:SalesReport", "--date", "2026-11-24", "--json", cwd=tmp_path)
    assert given.exit_code == ExitCode.OK, given.output
    assert json.loads(given.stdout) == {
        "valid": True,
        "pipeline": "SalesReport",
        "tasks": 4,
        "external_inputs": 1,
        "sample_parameters": {},
    }


def test_validate_reports_every_problem_with_its_line(tasks: Path) -> None:
    result = run_cli("validate", "tasks.py:Top", cwd=tasks)
    assert_user_error(result, "4 problems in Top")
    listed = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert len(listed) == len(MISTAKES), result.output
    for task, (message, line) in MISTAKES.items():
        # Led by the place, as validate lists a YAML pipeline's problems.
        assert any(entry.startswith(f"tasks.py:{line}: {task}(): {message}") for entry in listed), listed

    as_json = run_cli("validate", "tasks.py:Top", "--json", cwd=tasks)
    assert as_json.exit_code == ExitCode.INVALID_PIPELINE, as_json.output
    document = json.loads(as_json.stdout)
    assert document["valid"] is False
    assert sorted((issue["file"], issue["line"], issue["task"]) for issue in document["issues"]) == sorted(
        ("tasks.py", line, f"{task}()") for task, (_, line) in MISTAKES.items()
    )


def test_validate_passes_only_a_sound_graph(tasks: Path) -> None:
    result = run_cli("validate", "tasks.py:Good", cwd=tasks)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.strip() == "ok: Good, 2 tasks (1 external input)"


@pytest.mark.parametrize(
    "pipeline", [f"{EXAMPLE}:SalesReport", str(REPO / "examples" / "sales" / "pipeline.yaml")]
)
def test_validate_checks_the_parameters_given(tmp_path: Path, pipeline: str) -> None:
    assert_user_error(run_cli("validate", pipeline, "--roots", "x", cwd=tmp_path), "has no parameter --roots")
    assert_user_error(run_cli("validate", pipeline, "--date", "soon", cwd=tmp_path), "cannot read 'soon'")
    assert_user_error(run_cli("validate", pipeline, "stray", cwd=tmp_path), "unexpected argument 'stray'")
    given = run_cli("validate", pipeline, "--date", "2026-11-24", cwd=tmp_path)
    assert given.exit_code == ExitCode.OK, given.output
    assert "sample" not in given.stdout  # nothing was left to a sample value


DYNAMIC = """\
import luigi


class Broken(luigi.Task):
    def requires(self):  # broken-requires
        return 42

    def output(self):
        return luigi.LocalTarget("broken.txt")


class AboveBroken(luigi.Task):
    def requires(self):
        return Broken()

    def output(self):
        return luigi.LocalTarget("above.txt")


class YieldsBroken(luigi.Task):
    deep = luigi.BoolParameter()

    def output(self):
        return luigi.LocalTarget(f"yields-{self.deep}.txt")

    def run(self):
        yield AboveBroken() if self.deep else Broken()
"""


def test_a_yielded_task_with_a_wrong_requires_is_never_an_internal_error(tmp_path: Path) -> None:
    (tmp_path / "dynamic.py").write_text(DYNAMIC)
    where = f"dynamic.py:{line_of('broken-requires', DYNAMIC)}"
    # Found while the yielding task runs: that task fails, naming the yielded task's line.
    direct = run_cli("run", "dynamic.py:YieldsBroken", cwd=tmp_path)
    assert direct.exit_code == ExitCode.TASK_FAILED, direct.output
    assert "Broken(): requires() returned an int (42)" in direct.output, direct.output
    assert where in direct.output, direct.output
    # Further down luigi walks the graph itself; the run stops, as before any other run.
    deep = run_cli("run", "dynamic.py:YieldsBroken", "--deep", cwd=tmp_path)
    assert_user_error(deep, "Broken(): requires() returned an int (42)", where)


@pytest.mark.parametrize(
    "command", [["run"], ["run", "--existence-only"], ["run", "-n"], ["status"], ["list"], ["validate"]]
)
def test_a_malformed_url_is_a_user_error_naming_the_line(tmp_path: Path, command: list[str]) -> None:
    result = run_cli(
        *command, f"{EXAMPLE}:SalesReport", "--date", "2026-11-24", "--root", "s3:/lake/x", cwd=tmp_path
    )
    source = Path(EXAMPLE).read_text().splitlines()
    output_lines = [number for number, line in enumerate(source, 1) if 'Target(f"{self.root}/' in line]
    assert_user_error(result, "malformed URL 's3:/lake/x/", "did you mean 's3://'?")
    # Whichever task the command meets first, the line of its output() is named.
    assert any(f"examples/sales/pipeline.py:{line}" in result.output for line in output_lines), result.output


SHELL_PIPELINE = """\
pipeline: logs
steps:
  shell_fails:
    shell: "echo first words; echo last words >&2; exit 3"
    outputs:
      out: build/shell.txt
  python_fails:
    run: steps:explode
    outputs:
      out: build/python.txt
  retried_fails:
    shell: "echo trying; exit 2"
    retries: 1
    retry_delay: 0
    outputs:
      out: build/retried.txt
"""

STEPS = """\
def explode(outputs):
    raise ValueError("row 7 is bad")  # explode
"""


def test_a_shell_steps_log_ends_with_its_output_and_the_failure(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(SHELL_PIPELINE)
    (tmp_path / "steps.py").write_text(STEPS)
    result = run_cli("run", "pipeline.yaml", "-k", cwd=tmp_path, config="[dashpipe]\ntask_logs = logs\n")
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    (shell_log,) = (tmp_path / "logs").glob("*/logs.shell_fails*.log")
    lines = shell_log.read_text().splitlines()
    assert "Traceback" not in shell_log.read_text()
    assert lines[-3:-1] == ["first words", "last words"], lines
    assert lines[-1].endswith(
        " ERROR dashpipe: pipeline.yaml: steps.shell_fails: command exited with 3: first words | last words"
    ), lines
    # Retried, the error dash-pipeline raises last wraps the step's: still one line.
    (retried_log,) = (tmp_path / "logs").glob("*/logs.retried_fails*.log")
    text = retried_log.read_text()
    assert "Traceback" not in text
    assert text.splitlines().count("trying") == 2, text  # each attempt's output
    assert text.rstrip().endswith(
        "ERROR dashpipe: failed after 2 attempts; last error: "
        "pipeline.yaml: steps.retried_fails: command exited with 2: trying"
    ), text
    # A run: step's traceback leads into the user's code, which is what there is to fix.
    (python_log,) = (tmp_path / "logs").glob("*/logs.python_fails*.log")
    text = python_log.read_text()
    assert "Traceback" in text
    assert f'steps.py", line {line_of("# explode", STEPS)}, in explode' in text
    assert text.rstrip().endswith("ValueError: row 7 is bad")


KINDS = """\
import enum

import luigi


class Colour(enum.Enum):
    RED = 1


class Everything(luigi.Task):
    hour = luigi.DateHourParameter()
    month = luigi.MonthParameter()
    size = luigi.IntParameter()
    ratio = luigi.FloatParameter()
    mode = luigi.ChoiceParameter(choices=["full", "delta"])
    colour = luigi.EnumParameter(enum=Colour)
    tables = luigi.ListParameter()
    label = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(f"{self.label}/{self.hour:%Y%m%d%H}-{self.size}.txt")
"""


def test_validate_builds_a_task_of_every_parameter_kind_with_sample_values(tmp_path: Path) -> None:
    (tmp_path / "kinds.py").write_text(KINDS)
    result = run_cli("validate", "kinds.py:Everything", "--json", cwd=tmp_path)
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(result.stdout)
    assert document["tasks"] == 1
    assert document["sample_parameters"] == {
        "--hour": "2026-01-31T00",
        "--month": "2026-01",
        "--size": "1",
        "--ratio": "1.5",
        "--mode": "delta",
        "--colour": "RED",
        "--tables": "[]",
        "--label": "sample",
    }
