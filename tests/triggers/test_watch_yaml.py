"""What a YAML pipeline tells ``dashpipe watch``: ``schedule:`` (when it builds on its own) and
``after:`` (which other pipelines' outputs make it look), and the errors a bad one gets."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from pipelines.errors import ExitCode
from tests.helpers import run_cli, wait_until
from tests.triggers.test_watch import Watching, ran, start_watch, watchers  # noqa: F401 - a fixture

# Kiritimati is UTC+14: its date differs from UTC's for 14 hours a day, and from the machine's
# local date at other hours, so a slot read in UTC would build another day's file at most times.
ZONE = "Pacific/Kiritimati"

DAILY = f"""
pipeline: daily
params:
  root: {{type: string}}
  day: {{type: date}}
schedule:
  cron: "* * * * * */2"
  timezone: {ZONE}
steps:
  report:
    shell: "echo {{day}} > {{outputs.o}}"
    outputs: {{o: "{{root}}/out/{{day}}.txt"}}
"""


def test_a_yaml_schedule_fills_its_date_in_its_timezone(tmp_path: Path, watchers: list[Watching]) -> None:  # noqa: F811
    (tmp_path / "daily.yaml").write_text(DAILY)
    watching = start_watch(tmp_path, "--interval", "5", pipeline="daily.yaml")
    watchers.append(watching)
    runs = watching.wait_for_runs(3)
    today = dt.datetime.fromtimestamp(runs[0].began, zoneinfo.ZoneInfo(ZONE)).date()
    assert ran(runs[0]) == ["daily.report"]
    assert (tmp_path / "out" / f"{today}.txt").read_text() == f"{today}\n"
    # Later slots of the same day find it built: a pass each, nothing run.
    assert [ran(run) for run in runs[1:]] == [[], []]
    assert "next slot at" in watching.output()


SCHEDULE_ERRORS = """pipeline: bad
params:
  day: {type: date}
  other: {type: date}
schedule:
  cron: "every morning"
  timezone: Mars
after:
  - pipeline: missing.yaml
  - pipeline: bad.yaml
steps:
  a:
    shell: "echo {day} {other} > {outputs.o}"
    outputs: {o: "/tmp/{day}-{other}.txt"}
"""


def test_a_bad_schedule_or_after_is_named_by_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCHEDULE_ERRORS)
    result = run_cli("validate", str(path))
    assert result.exit_code == ExitCode.INVALID_PIPELINE
    for expected in [
        f"{path}:5:1: schedule: name the date parameter each slot fills with 'param:' (one of day, other)",
        f"{path}:6:9: schedule.cron: 'every morning' is not a cron expression",
        f"{path}:7:13: schedule.timezone: 'Mars' is not a timezone",
        f"{path}:9:15: after[0].pipeline: no pipeline file 'missing.yaml'",
        f"{path}:10:15: after[1].pipeline: a pipeline cannot run after itself",
    ]:
        assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr

    misspelt = SCHEDULE_ERRORS.replace("  timezone: Mars\n", "  param: dya\n").replace("after:", "x-after:")
    path.write_text(misspelt)
    typo = run_cli("watch", str(path), "--once")
    assert typo.exit_code == ExitCode.INVALID_PIPELINE
    assert f"{path}:7:10: schedule.param: 'dya' is not a parameter (did you mean 'day'?)" in typo.stderr

    unscheduled = tmp_path / "plain.yaml"
    unscheduled.write_text("pipeline: p\nsteps:\n  a: {shell: 'true', outputs: {o: /tmp/x}}\n")
    stray = run_cli("watch", str(unscheduled), "--once", "--timezone", "UTC")
    assert stray.exit_code == ExitCode.USAGE
    assert "--timezone applies to a schedule: give --cron, or a 'schedule:' in the pipeline" in stray.stderr


INGEST = """
pipeline: ingest
params:
  root: {type: string}
steps:
  clean:
    shell: "tr a-z A-Z < {inputs.raw} > {outputs.o}"
    inputs: {raw: "{root}/in/raw.csv"}
    outputs: {o: "{root}/up/clean.csv"}
  publish:
    shell: "wc -l < {inputs.clean} > {outputs.done}"
    inputs: {clean: clean.o}
    outputs: {done: "{root}/up/_SUCCESS"}
"""

REPORT = """
pipeline: report
params:
  root: {type: string}
after:
  - pipeline: ingest.yaml
steps:
  summary:
    shell: "sort {inputs.clean} > {outputs.o}"
    inputs: {clean: "{root}/up/clean.csv"}
    outputs: {o: "{root}/out/summary.txt"}
"""


def test_after_runs_the_stale_steps_when_the_other_pipelines_outputs_change(
    tmp_path: Path,
    watchers: list[Watching],  # noqa: F811
) -> None:
    (tmp_path / "ingest.yaml").write_text(INGEST)
    (tmp_path / "report.yaml").write_text(REPORT)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "raw.csv").write_text("b\na\n")
    built = run_cli("run", str(tmp_path / "ingest.yaml"), "--root", str(tmp_path))
    assert built.exit_code == ExitCode.OK, built.output

    watching = start_watch(tmp_path, "--interval", "0.2", "--settle", "0.3", pipeline="report.yaml")
    watchers.append(watching)
    (first,) = watching.wait_for_runs(1)
    assert ran(first) == ["report.summary"]
    # Its own input, and the other pipeline's final output (the same URL is watched once).
    wait_until(lambda: "watching 2 inputs" in watching.output(), "the watcher to watch", [watching.process])

    # A change upstream of the other pipeline is its business: nothing here moves.
    (tmp_path / "in" / "raw.csv").write_text("c\nb\na\n")
    rebuilt = run_cli("run", str(tmp_path / "ingest.yaml"), "--root", str(tmp_path))
    assert rebuilt.exit_code == ExitCode.OK, rebuilt.output
    second = watching.wait_for_runs(2)[1]
    assert ran(second) == ["report.summary"]
    assert (tmp_path / "out" / "summary.txt").read_text() == "A\nB\nC\n"
    assert len(watching.runs()) == 2
