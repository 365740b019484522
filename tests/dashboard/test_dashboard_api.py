"""The dashboard's JSON, on every storage, and how it asks a central scheduler."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from pipelines.errors import ExitCode
from tests.conftest import Backend
from tests.dashboard.conftest import Dashboard, start_dashboard
from tests.dashboard.test_dashboard_pages import PIPELINE
from tests.helpers import REPO, Gate, run_cli, start_cli, wait_until
from tests.pipelines.test_example_pipeline import DATE, EXAMPLE, RAW
from tests.servers import start_luigid


@pytest.mark.parametrize("backend", ["local", "s3", "gcs"], indirect=True)
def test_the_api_has_the_verdicts_of_status_and_the_runs(
    backend: Backend, tmp_path: Path, dashboards: list[Dashboard]
) -> None:
    uploader = backend.fs()
    raw = uploader._strip_protocol(backend.url("raw", f"{DATE}.csv"))
    uploader.put_file(str(RAW / f"{DATE}.csv"), raw)
    args = [
        f"{EXAMPLE}:SalesReport",
        "--date",
        DATE,
        "--root",
        backend.url("sales"),
        "--raw-root",
        backend.url("raw"),
    ]
    built = run_cli("run", *args, cwd=tmp_path, config=backend.config, env=backend.env)
    assert built.exit_code == ExitCode.OK, built.output
    with uploader.open(raw, "wb") as changed:
        changed.write((RAW / f"{DATE}.csv").read_bytes() + b"S9,widget,1,1.00\n")

    status = run_cli("status", *args, "--json", cwd=tmp_path, config=backend.config, env=backend.env)
    expected = {task["id"]: task["state"] for task in json.loads(status.stdout)["tasks"]}
    assert set(expected.values()) == {"input", "stale", "upstream"}
    config = tmp_path / "luigi.cfg"
    config.write_text(backend.config)
    env = {**os.environ, **backend.env, "LUIGI_CONFIG_PATH": str(config)}
    dashboard = start_dashboard(*args, cwd=tmp_path, env=env)
    dashboards.append(dashboard)
    shown = dashboard.get("/api/status")
    assert {task["id"]: task["verdict"] for task in shown["tasks"]} == expected
    assert {task["id"]: task["state"] for task in shown["tasks"]} == expected  # no run says more
    assert shown["problems"] == []

    (run,) = dashboard.get("/api/runs")["runs"]
    assert run["state"] == "succeeded" and run["progress"]["done"] == 3
    detail = dashboard.get(f"/api/runs/{run['id']}")
    assert sorted(task["family"] for task in detail["tasks"]) == ["CleanSales", "DailyTotals", "SalesReport"]
    stale = next(task for task in shown["tasks"] if task["state"] == "stale")
    panel = dashboard.get(f"/api/tasks/{urllib.parse.quote(stale['id'])}")
    assert f"{DATE}.csv changed" in panel["explain"]
    assert panel["runs"][0]["run"] == run["id"]
    assert panel["outputs"][0]["size"] > 0 and panel["outputs"][0]["fingerprint"]
    estimate = dashboard.get("/api/estimate?workers=2")["estimate"]
    assert estimate["tasks"] == 3 and estimate["workers"] == 2 and estimate["unknown"] == {}


def test_luigid_is_asked_for_its_running_tasks_only_and_sparingly(
    tmp_path: Path, dashboards: list[Dashboard]
) -> None:
    luigid = start_luigid(tmp_path)
    try:
        (tmp_path / "shop.yaml").write_text(PIPELINE)
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "raw.txt").write_text("apples\n")
        args = [str(tmp_path / "shop.yaml"), "--root", str(tmp_path / "out")]
        gate = Gate(tmp_path / "out" / "gate")
        run = start_cli(
            "run",
            *args,
            "--scheduler",
            luigid.url,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            dashboard = start_dashboard(*args, "--scheduler", luigid.url)
            dashboards.append(dashboard)
            began = time.monotonic()

            def fetch_is_running_at_the_scheduler() -> bool:
                live = dashboard.get("/api/live")
                return any(task["name"].startswith("shop.fetch") for task in live["scheduler"])

            wait_until(fetch_is_running_at_the_scheduler, "luigid to say shop.fetch is running", [run])
            for _ in range(20):  # as twenty tabs refreshing at once would
                dashboard.get("/api/live")
            watched = time.monotonic() - began
            gate.open()
            assert run.wait(timeout=120) == ExitCode.OK
        finally:
            gate.open()
            if run.poll() is None:
                run.kill()
        log = luigid.log_path.read_text()
        asked = [line for line in log.splitlines() if "/api/task_list" in line]
        query = urllib.parse.urlencode({"data": json.dumps({"status": "RUNNING", "upstream_status": ""})})
        ours = [line for line in asked if query.split("=", 1)[1] in line]
        # Asked once every 5 s at most however often the dashboard is asked, and never for the graph.
        assert 1 <= len(ours) <= 2 + watched / 5, (watched, ours)
        assert "/api/graph" not in log and "/api/dep_graph" not in log
    finally:
        luigid.stop()
