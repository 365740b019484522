"""A YAML step's identity covers only the parameters it uses, so a change rebuilds only what it touches."""

from __future__ import annotations

import json
from pathlib import Path

import luigi.task

from pipelines import ExitCode
from pipelines.yaml.compile import load_pipeline
from tests.helpers import REPO, run_cli
from tests.pipelines.test_example_pipeline import ran

WORDS = """\
pipeline: words
params:
  n: {type: int, default: 2}
  source: {type: string, default: one}
steps:
  text:
    shell: "cat {inputs.raw} > {outputs.text}"
    inputs: {raw: "./raw/{source}.txt"}
    outputs: {text: "out/text.txt"}
  upper:
    shell: "tr a-z A-Z < {inputs.text} > {outputs.upper}"
    inputs: {text: text.text}
    outputs: {upper: "out/upper.txt"}
  top:
    shell: "tr ' ' '\\\\n' < {inputs.upper} | head -n {n} > {outputs.top}"
    inputs: {upper: upper.upper}
    outputs: {top: "out/top-{n}.txt"}
"""


def words(tmp_path: Path) -> Path:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "one.txt").write_text("a b c d\n")
    (tmp_path / "raw" / "two.txt").write_text("w x y z\n")
    (tmp_path / "words.yaml").write_text(WORDS)
    return tmp_path / "words.yaml"


def verdicts(pipeline: Path, *args: str, cwd: Path | None = None) -> dict[str, dict]:
    result = run_cli("status", str(pipeline), "-a", "--json", *args, cwd=cwd or pipeline.parent)
    return {task["family"]: task for task in json.loads(result.stdout)["tasks"]}


def test_a_parameter_rebuilds_only_the_steps_that_use_it(tmp_path: Path) -> None:
    pipeline = words(tmp_path)
    first = run_cli("run", str(pipeline), "--n", "2", cwd=tmp_path)
    assert ran(first) == ["words.text", "words.top", "words.upper"], first.output
    states = verdicts(pipeline, "--n", "3")
    assert {family: task["state"] for family, task in states.items()} == {
        "ExternalInput": "input",
        "words.text": "up to date",
        "words.upper": "up to date",
        "words.top": "missing",
    }
    assert states["words.top"]["name"] == "words.top(n=3)"
    assert states["words.upper"]["name"] == "words.upper()"  # n is not part of what it is
    assert ran(run_cli("run", str(pipeline), "--n", "3", cwd=tmp_path)) == ["words.top"]
    back = run_cli("run", str(pipeline), "--n", "2", cwd=tmp_path)
    assert back.exit_code == ExitCode.OK and ran(back) == [], back.output
    assert (tmp_path / "out" / "top-3.txt").read_text().split() == ["A", "B", "C"]


def test_a_carried_parameter_rebuilds_downstream_through_its_inputs(tmp_path: Path) -> None:
    pipeline = words(tmp_path)
    run_cli("run", str(pipeline), cwd=tmp_path)
    states = verdicts(pipeline, "--source", "two")
    assert states["words.text"]["reason"] == "param source: one → two"
    # Downstream steps do not use the parameter: they rebuild because their input does.
    assert states["words.upper"]["state"] == "upstream"
    assert states["words.top"]["state"] == "upstream"
    changed = run_cli("run", str(pipeline), "--source", "two", cwd=tmp_path)
    assert ran(changed) == ["words.text", "words.top", "words.upper"], changed.output
    assert (tmp_path / "out" / "top-2.txt").read_text().split() == ["W", "X"]


FUNCTIONS = """\
import json


def everything(outputs, params):
    with outputs["out"].open("w") as handle:
        handle.write(json.dumps(params, default=str, sort_keys=True))


def no_params(outputs):
    with outputs["out"].open("w") as handle:
        handle.write("constant")
"""

SCOPED = """\
pipeline: scoped
params:
  day: {type: date, default: 2026-11-24}
  label: {type: string, default: first}
steps:
  all_params:
    run: scopedfuncs:everything
    outputs: {out: "out/all.json"}
  only_day:
    run: scopedfuncs:everything
    params: [day]
    outputs: {out: "out/day.json"}
  none:
    run: scopedfuncs:no_params
    outputs: {out: "out/none.txt"}
"""


def test_a_function_depends_on_the_parameters_it_receives(tmp_path: Path) -> None:
    (tmp_path / "scopedfuncs.py").write_text(FUNCTIONS)
    pipeline = tmp_path / "scoped.yaml"
    pipeline.write_text(SCOPED)
    assert run_cli("run", str(pipeline), cwd=tmp_path).exit_code == ExitCode.OK
    assert json.loads((tmp_path / "out" / "all.json").read_text()) == {"day": "2026-11-24", "label": "first"}
    assert json.loads((tmp_path / "out" / "day.json").read_text()) == {"day": "2026-11-24"}
    states = verdicts(pipeline, "--label", "second")
    assert states["scoped.all_params"]["reason"] == "param label: first → second"
    assert states["scoped.only_day"]["state"] == "up to date"
    assert states["scoped.none"]["state"] == "up to date"
    assert ran(run_cli("run", str(pipeline), "--label", "second", cwd=tmp_path)) == ["scoped.all_params"]


def test_records_written_before_scoping_still_match(tmp_path: Path) -> None:
    """Records of earlier versions hold every pipeline parameter and an id digesting them all."""
    pipeline = REPO / "examples" / "sales" / "pipeline.yaml"
    args = ["--date", "2026-11-24", "--root", str(tmp_path / "sales")]
    assert run_cli("run", str(pipeline), *args).exit_code == ExitCode.OK
    compiled = load_pipeline(pipeline)
    every = {"date": "2026-11-24", "root": str(tmp_path / "sales"), "raw_root": "examples/sales/data/raw"}
    records = sorted((tmp_path / "sales").rglob(".dashpipe/*.json"))
    assert len(records) == len(compiled.spec.steps)
    scoped = {
        json.loads(path.read_text())["family"]: set(json.loads(path.read_text())["params"])
        for path in records
    }
    assert scoped["sales.report"] == {"date", "root"}  # written by this version: only what it uses
    for path in records:
        record = json.loads(path.read_text())
        record["params"] = every
        record["task_id"] = luigi.task.task_id_str(record["family"], every)
        path.write_text(json.dumps(record))
    states = verdicts(pipeline, *args, cwd=REPO)
    assert {task["state"] for task in states.values()} == {"up to date", "input"}, states
    again = run_cli("run", str(pipeline), *args)
    assert again.exit_code == ExitCode.OK and ran(again) == [], again.output


def test_a_backfill_refuses_a_step_that_would_merge_the_days(tmp_path: Path) -> None:
    pipeline = tmp_path / "merge.yaml"
    pipeline.write_text(
        """\
pipeline: merge
params:
  date: {type: date, default: 2026-11-24}
steps:
  daily:
    shell: "echo {date} > {outputs.day}"
    outputs: {day: "out/{date}.txt"}
  latest:
    shell: "cp {inputs.day} {outputs.latest}"
    inputs: {day: daily.day}
    outputs: {latest: "out/latest.txt"}
"""
    )
    result = run_cli("backfill", str(pipeline), "--from", "2026-11-24", "--to", "2026-11-25", cwd=tmp_path)
    assert result.exit_code == ExitCode.INVALID_PIPELINE, result.output
    assert "steps.latest: its outputs do not use {date}" in result.stderr
    assert not (tmp_path / "out").exists()
    day = run_cli(
        "backfill", str(pipeline), "daily", "--from", "2026-11-24", "--to", "2026-11-25", cwd=tmp_path
    )
    assert day.exit_code == ExitCode.OK and ran(day) == ["merge.daily", "merge.daily"], day.output


TWO_BRANCHES = """\
pipeline: branches
params:
  root: {type: string}
  date: {type: date}
  region: {type: string}
steps:
  daily:
    shell: "echo {date} > {outputs.out}"
    outputs:
      out: "{root}/daily/{date}.txt"
  regional:
    shell: "echo {region} > {outputs.out}"
    outputs:
      out: "{root}/regional/{region}.txt"
"""


def test_only_the_parameters_the_goals_use_are_demanded(tmp_path: Path) -> None:
    pipeline = tmp_path / "branches.yaml"
    pipeline.write_text(TWO_BRANCHES)
    root = ["--root", str(tmp_path / "out")]
    one = run_cli("run", str(pipeline), "regional", *root, "--region", "eu", cwd=tmp_path)
    assert one.exit_code == ExitCode.OK, one.output
    assert (tmp_path / "out" / "regional" / "eu.txt").read_text() == "eu\n"
    both = run_cli("run", str(pipeline), *root, "--region", "eu", cwd=tmp_path)
    assert both.exit_code == ExitCode.INVALID_PIPELINE, both.output
    assert "branches needs --date" in both.output, both.output
    unknown = run_cli("run", str(pipeline), "weekly", *root, cwd=tmp_path)
    assert unknown.exit_code == ExitCode.INVALID_PIPELINE, unknown.output
    assert "has no step 'weekly'" in unknown.output, unknown.output
