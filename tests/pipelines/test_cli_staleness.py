"""status, explain, mark-fresh, forget and the rebuild flags of run, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines import ExitCode
from tests.helpers import REPO, run_cli
from tests.pipelines.test_example_pipeline import ran

GREETINGS = str(REPO / "tests" / "data" / "yaml" / "greetings.yaml")


def greetings(command: str, tmp_path: Path, *args: str):
    return run_cli(command, GREETINGS, "--root", str(tmp_path), *args, cwd=tmp_path)


def test_status_explains_each_stale_task_and_counts_reasons(tmp_path: Path) -> None:
    assert greetings("run", tmp_path).exit_code == ExitCode.OK
    (tmp_path / "loud-2026-11-24.txt").write_text("EDITED BY HAND\n")
    status = greetings("status", tmp_path, "--who", "ada")
    assert status.exit_code == ExitCode.OK
    lines = status.stdout.splitlines()
    assert any(
        "greetings.greet(" in line and "stale" in line and "param who: world → ada" in line for line in lines
    )
    # loud's function takes no params: who is not part of it, and its own cause shows instead.
    assert lines[-1] == "reasons: 3 parameters changed, 1 output modified outside the pipeline"
    document = json.loads(greetings("status", tmp_path, "--json").stdout)
    states = {task["family"]: task for task in document["tasks"]}
    assert states["greetings.loud"]["state"] == "stale"
    assert "modified outside the pipeline" in states["greetings.loud"]["reason"]
    assert states["greetings.words"]["reason"].startswith(f"input {tmp_path}/loud-2026-11-24.txt changed")
    assert states["greetings.greet"]["state"] == "up to date"
    assert states["greetings.greet"]["recorded"]["host"]
    assert greetings("run", tmp_path).exit_code == ExitCode.OK  # up to date again
    (tmp_path / "greeting-2026-11-24.txt").unlink()
    upstream = greetings("status", tmp_path).stdout.splitlines()
    section = upstream.index("rebuild only because a task they need rebuilds:")
    assert "greetings.greet(" in upstream[0] and "missing" in upstream[0]
    assert {line.split("(")[0].split()[-1] for line in upstream[section + 1 : -2]} == {
        "greetings.loud",
        "greetings.words",
    }
    assert upstream[-1] == "reasons: 2 upstream rebuilds, 1 output missing"


def test_run_rebuilds_only_what_is_stale_and_says_why(tmp_path: Path) -> None:
    assert greetings("run", tmp_path).exit_code == ExitCode.OK
    (tmp_path / "loud-2026-11-24.txt").write_text("EDITED BY HAND\n")
    dry = greetings("run", tmp_path, "-n")
    assert "greetings.loud(" in dry.stdout and "modified outside the pipeline" in dry.stdout
    assert (tmp_path / "loud-2026-11-24.txt").read_text() == "EDITED BY HAND\n"  # a dry run touches nothing
    again = greetings("run", tmp_path)
    assert again.exit_code == ExitCode.OK
    assert ran(again) == ["greetings.loud"]  # words reads the same words back: early cutoff
    assert "inputs unchanged after the upstream rebuild" in again.stdout
    assert (tmp_path / "loud-2026-11-24.txt").read_text() == "HELLO WORLD ON 2026-11-24\n"


def test_existence_only_is_plain_luigi(tmp_path: Path) -> None:
    assert greetings("run", tmp_path).exit_code == ExitCode.OK
    (tmp_path / "loud-2026-11-24.txt").write_text("EDITED BY HAND\n")
    plain = greetings("run", tmp_path, "--existence-only")
    assert plain.exit_code == ExitCode.OK and ran(plain) == []
    assert (tmp_path / "loud-2026-11-24.txt").read_text() == "EDITED BY HAND\n"


def test_force_a_step_and_force_all(tmp_path: Path) -> None:
    assert greetings("run", tmp_path).exit_code == ExitCode.OK
    forced = greetings("run", tmp_path, "--force", "loud")
    assert ran(forced) == ["greetings.loud", "greetings.words"]
    everything = greetings("run", tmp_path, "-B")
    assert ran(everything) == ["greetings.greet", "greetings.kwargs", "greetings.loud", "greetings.words"]
    unknown = greetings("run", tmp_path, "--force", "lodu")
    assert unknown.exit_code == ExitCode.INVALID_PIPELINE and "did you mean 'loud'" in unknown.stderr


def test_explain_mark_fresh_and_forget(tmp_path: Path) -> None:
    assert greetings("run", tmp_path).exit_code == ExitCode.OK
    forgotten = greetings("forget", tmp_path, "greet")
    assert forgotten.stdout.strip() == "forgot 1 build record"
    explained = greetings("explain", tmp_path, "greet")
    assert "verdict: no record" in explained.stdout and "build record: " in explained.stdout
    (tmp_path / "greeting-2026-11-24.txt").write_text("hello by hand\n")
    marked = greetings("mark-fresh", tmp_path, "greet")
    assert marked.stdout.strip() == "recorded 1 task as up to date"
    explained = greetings("explain", tmp_path, "loud")
    assert "verdict: stale — input" in explained.stdout  # loud now sees the hand-made greeting
    unknown = greetings("explain", tmp_path, "laud")
    assert unknown.exit_code == ExitCode.INVALID_PIPELINE and "did you mean 'loud'" in unknown.stderr


def test_force_carries_through_a_missing_output(tmp_path: Path) -> None:
    assert greetings("run", tmp_path).exit_code == ExitCode.OK
    (tmp_path / "loud-2026-11-24.txt").unlink()
    forced = greetings("run", tmp_path, "--force", "greet")
    assert ran(forced) == ["greetings.greet", "greetings.loud", "greetings.words"]
