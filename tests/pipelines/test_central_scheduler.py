"""Runs through a real central scheduler, started with ``dashpipe scheduler``."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from pipelines import ExitCode
from tests.helpers import REPO, run_cli
from tests.pipelines.test_example_pipeline import ran
from tests.servers import Server

GREETINGS = str(REPO / "tests" / "data" / "yaml" / "greetings.yaml")


def test_runs_share_the_central_scheduler_and_forced_rebuilds_are_not_swallowed(
    luigid_server: Server, tmp_path: Path
) -> None:
    args = ["run", GREETINGS, "--root", str(tmp_path), "--scheduler", luigid_server.url]
    first = run_cli(*args, cwd=tmp_path)
    assert first.exit_code == ExitCode.OK, first.output
    assert len(ran(first)) == 4
    with urllib.request.urlopen(f"{luigid_server.url}/api/task_list?data=" + '{"status":"DONE"}') as reply:
        done = json.loads(reply.read())["response"]
    assert {task["name"] for task in done.values()} >= {
        "greetings.greet",
        "greetings.loud",
        "greetings.words",
    }
    # luigid's done-cooldown would ignore a task re-marked PENDING right after it was DONE.
    forced = run_cli(*args, "--force", "greet", cwd=tmp_path)
    assert forced.exit_code == ExitCode.OK, forced.output
    assert ran(forced) == ["greetings.greet", "greetings.loud", "greetings.words"]


def test_default_scheduler_url_from_luigi_cfg(luigid_server: Server, tmp_path: Path) -> None:
    config = f"[core]\ndefault-scheduler-url = {luigid_server.url}\n"
    result = run_cli("run", GREETINGS, "--root", str(tmp_path), "-v", cwd=tmp_path, config=config)
    assert result.exit_code == ExitCode.OK, result.output
    assert luigid_server.url.split("//")[1] in result.output  # luigi's log names the scheduler it used
