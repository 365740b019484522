"""What a person sees in the dashboard, in a real browser: states, explanations, runs, live, scale."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from pipelines.errors import ExitCode
from tests.dashboard.conftest import FIND_CY, Dashboard, click_node, graph_nodes, start_dashboard
from tests.helpers import REPO, Gate, run_cli, start_cli

PIPELINE = """
pipeline: shop
params:
  root: {type: string}
steps:
  clean:
    shell: "tr a-z A-Z < {inputs.raw} > {outputs.o}"
    inputs: {raw: "{root}/raw.txt"}
    outputs: {o: "{root}/clean.txt"}
  fetch:
    # Fails while {root}/break exists, as a flaky API would; waits at {root}/gate while a test holds it.
    shell: >-
      if [ -e {root}/break ]; then echo 'rates API answered 503' >&2; exit 1; fi;
      flock -s {root}/gate true && echo rates | cat - {inputs.i} > {outputs.o}
    inputs: {i: clean.o}
    outputs: {o: "{root}/rates.txt"}
  report:
    shell: "cat {inputs.clean} {inputs.rates} > {outputs.o}"
    inputs: {clean: clean.o, rates: fetch.o}
    outputs: {o: "{root}/report.txt"}
"""

WAIT_FOR_NODES = (
    "([text, cls]) => {"
    + FIND_CY
    + "return !!cy && cy.nodes().some(n => n.data('label').includes(text) && n.hasClass(cls));}"
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "shop.yaml").write_text(PIPELINE)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "raw.txt").write_text("apples\n")
    return tmp_path


def shop_args(root: Path) -> list[str]:
    return [str(root / "shop.yaml"), "--root", str(root / "out")]


def build(root: Path, *extra: str, expect_exit: int = ExitCode.OK) -> None:
    result = run_cli("run", *shop_args(root), *extra, config=f"[dashpipe]\ntask_logs = {root}/logs\n")
    assert result.exit_code == expect_exit, result.output


def open_dashboard(dashboards: list[Dashboard], *args: str, env: dict[str, str] | None = None) -> Dashboard:
    environment = {**os.environ, **(env or {})}
    dashboard = start_dashboard(*args, env=environment)
    dashboards.append(dashboard)
    return dashboard


def row_of(page: Page, family: str) -> Any:
    """The row of the "not up to date" table for the task of ``family`` (task ids start with it)."""
    return page.locator(f'#attention-table tr[data-task^="{family}_"]')


def wait_for_node(page: Page, text: str, state: str) -> None:
    page.wait_for_function(WAIT_FOR_NODES, arg=[text, state])


def test_a_changed_input_turns_its_task_stale_and_the_panel_says_why(
    shop: Path, page: Page, dashboards: list[Dashboard]
) -> None:
    build(shop)
    dashboard = open_dashboard(dashboards, *shop_args(shop))
    page.goto(dashboard.url)
    wait_for_node(page, "shop.clean", "up-to-date")
    expect(page.locator("#all-up-to-date")).to_be_visible()
    expect(page.locator(".summary")).to_contain_text("3 tasks: 3 up to date — nothing to rebuild")

    (shop / "out" / "raw.txt").write_text("apples\npears\n")
    page.get_by_role("button", name="Check now").click()
    wait_for_node(page, "shop.clean", "stale")
    wait_for_node(page, "shop.report", "upstream")
    row = row_of(page, "shop.clean")
    expect(row).to_contain_text("stale")
    expect(row).to_contain_text(f"input {shop / 'out' / 'raw.txt'} changed")

    clean = next(node for node in graph_nodes(page) if "shop.clean" in node["label"])
    click_node(page, clean["id"])
    expect(page.locator("#panel-title")).to_contain_text("shop.clean")
    explanation = page.locator("#panel-explain")
    expect(explanation).to_contain_text(f"input {shop / 'out' / 'raw.txt'} changed")
    expect(explanation).to_contain_text("size 7 → 13")  # the fingerprint change, as `explain` says it
    expect(page.locator("#panel")).to_contain_text(str(shop / "out" / "clean.txt"))


def test_a_failed_run_shows_its_failure_log_and_one_bar_per_task_that_ran(
    shop: Path, page: Page, dashboards: list[Dashboard]
) -> None:
    (shop / "out" / "break").touch()
    build(shop, "-k", expect_exit=ExitCode.TASK_FAILED)
    dashboard = open_dashboard(dashboards, *shop_args(shop))
    page.goto(dashboard.url)
    wait_for_node(page, "shop.fetch", "failed")
    expect(row_of(page, "shop.fetch")).to_contain_text("rates API answered 503")
    expect(row_of(page, "shop.report")).to_contain_text("blocked")

    page.get_by_role("link", name="Runs").click()
    first = page.locator("#runs-table tbody tr").first
    expect(first).to_contain_text("failed")
    first.get_by_role("link").click()
    failure = page.locator(".failure")
    expect(failure).to_contain_text("shop.fetch")
    expect(failure.locator("pre.error")).to_contain_text("rates API answered 503")
    expect(failure.locator("pre.log")).to_contain_text("rates API answered 503")
    expect(page.locator("#run-tasks tbody tr")).to_have_count(2)  # clean and fetch ran; report did not
    expect(page.locator("#gantt .barlayer .point")).to_have_count(2)
    run_id = page.url.rsplit("/", 1)[1]
    run = dashboard.get(f"/api/runs/{run_id}")
    assert sorted(task["outcome"] for task in run["tasks"]) == ["done", "failed"]
    ((blocked, blockers),) = [(entry["name"], entry["blocked_by"]) for entry in run["not_run"]]
    assert blocked.startswith("shop.report(") and [name.split("(")[0] for name in blockers] == ["shop.fetch"]


def test_the_live_view_follows_a_run_while_a_task_is_held(
    shop: Path, page: Page, dashboards: list[Dashboard]
) -> None:
    gate = Gate(shop / "out" / "gate")
    dashboard = open_dashboard(dashboards, *shop_args(shop))
    page.goto(dashboard.url + "live")
    expect(page.locator("#live-idle")).to_be_visible()
    run = start_cli("run", *shop_args(shop), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        line = page.locator(".progress-line")
        expect(line).to_contain_text("1 running")
        expect(page.locator(".live-run")).to_contain_text("shop.fetch")
        expect(line).to_contain_text("[1/3] 1 done")  # clean is done, fetch waits at the gate
        gate.open()
        assert run.wait(timeout=120) == ExitCode.OK
        expect(page.locator("#live-idle")).to_be_visible()
        expect(page.locator("#live")).to_contain_text("succeeded, 3 done")
    finally:
        gate.open()
        if run.poll() is None:
            run.kill()


PARTS = """
import luigi

from pipelines import Task


class Part(Task):
    root = luigi.Parameter()
    n = luigi.IntParameter()

    def output(self):
        return self.target(f"{self.root}/parts/{self.n}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(str(self.n))


class Total(Task):
    root = luigi.Parameter()
    parts = luigi.IntParameter(default=10000)

    def requires(self):
        return [Part(root=self.root, n=n) for n in range(self.parts)]

    def output(self):
        return self.target(f"{self.root}/total.txt")
"""


def test_ten_thousand_tasks_show_as_one_family_node_that_expands(
    tmp_path: Path, page: Page, dashboards: list[Dashboard]
) -> None:
    (tmp_path / "parts.py").write_text(PARTS)
    dashboard = open_dashboard(dashboards, f"{tmp_path / 'parts.py'}:Total", "--root", str(tmp_path / "out"))
    page.goto(dashboard.url)
    wait_for_node(page, "Part ×10,000:\n10,000 missing", "missing")
    nodes = graph_nodes(page)
    assert len(nodes) == 2, nodes  # Part's family and Total
    expect(page.locator("#attention-table tbody tr")).to_have_count(500)
    expect(page.locator("#attention")).to_contain_text("9,501 more")

    family = next(node for node in nodes if node["label"].startswith("Part"))
    click_node(page, family["id"])
    expect(page.locator("#panel-title")).to_have_text("Part")
    wait_for_node(page, "9,850 more of Part", "missing")
    assert sum(1 for node in graph_nodes(page) if "task" in node["classes"]) == 151  # 150 parts and Total

    page.locator("#name-filter").fill("n=9999")
    page.locator("#name-filter").press("Enter")
    expect(page.locator("#attention-table tbody tr")).to_have_count(1)
    expect(page.locator("#attention-table")).to_contain_text("Part(root=")


SECRET_TASKS = """
import luigi

from pipelines import Task


class Export(Task):
    root = luigi.Parameter()
    dsn = luigi.Parameter()
    token = luigi.Parameter(visibility=luigi.parameter.ParameterVisibility.PRIVATE)

    def output(self):
        return self.target(f"{self.root}/export.txt")

    def run(self):
        raise RuntimeError(f"cannot reach {self.dsn}")
"""


def test_no_secret_reaches_the_page_or_the_api(
    tmp_path: Path, page: Page, dashboards: list[Dashboard]
) -> None:
    (tmp_path / "secret.py").write_text(SECRET_TASKS)
    args = [
        f"{tmp_path / 'secret.py'}:Export",
        "--root",
        str(tmp_path / "out"),
        "--dsn",
        "mysql://loader:hunter2@db.internal/sales",
        "--token",
        "tok-s3cr3t",
    ]
    failed = run_cli("run", *args)
    assert failed.exit_code == ExitCode.TASK_FAILED
    dashboard = open_dashboard(dashboards, *args)
    page.goto(dashboard.url)
    wait_for_node(page, "Export", "failed")
    export = next(node for node in graph_nodes(page) if "Export" in node["label"])
    click_node(page, export["id"])
    expect(page.locator("#panel-title")).to_contain_text("Export")
    seen = [page.content(), str(dashboard.get("/api/status")), str(dashboard.get("/api/runs"))]
    for row in dashboard.get("/api/status")["tasks"]:
        seen.append(str(dashboard.get(f"/api/tasks/{row['id']}")))
    run_id = dashboard.get("/api/runs")["runs"][0]["id"]
    page.goto(f"{dashboard.url}runs/{run_id}")
    expect(page.locator(".failure")).to_contain_text("cannot reach mysql://loader:***@db.internal/sales")
    seen += [page.content(), str(dashboard.get(f"/api/runs/{run_id}"))]
    # Nor does any file the run kept: records, the run's journal.
    seen += [path.read_text() for path in (tmp_path / "out").rglob("*") if path.is_file()]
    assert len(seen) > 6
    for text in seen:
        assert "hunter2" not in text and "tok-s3cr3t" not in text


def test_the_dashboard_writes_nothing(shop: Path, page: Page, dashboards: list[Dashboard]) -> None:
    build(shop)
    (shop / "out" / "raw.txt").write_text("changed\n")

    def files() -> dict[str, tuple[int, int]]:
        return {
            str(path): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted((shop / "out").rglob("*"))
            if path.is_file()
        }

    before = files()
    dashboard = open_dashboard(dashboards, *shop_args(shop))
    for path in ("", "runs", "live", "trends"):
        page.goto(dashboard.url + path)
        expect(page.locator("main h2")).to_be_visible()
    page.goto(dashboard.url)
    wait_for_node(page, "shop.clean", "stale")
    page.get_by_role("button", name="Check now").click()
    dashboard.get("/api/status")
    assert files() == before


def test_a_taken_port_is_an_error_naming_it(shop: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("dashboard", *shop_args(shop), "--port", str(port))
    assert result.exit_code == ExitCode.USAGE
    assert f"dashboard address 127.0.0.1:{port} is in use" in result.stderr
    assert "Traceback" not in result.output


def test_the_trends_page_draws_each_family(shop: Path, page: Page, dashboards: list[Dashboard]) -> None:
    build(shop)
    (shop / "out" / "raw.txt").write_text("more apples\n")
    build(shop)
    dashboard = open_dashboard(dashboards, *shop_args(shop))
    assert [run["state"] for run in dashboard.get("/api/runs")["runs"]] == ["succeeded", "succeeded"]
    page.goto(dashboard.url + "trends")
    legend = page.locator("#durations .legend")
    for family in ("shop.clean", "shop.fetch", "shop.report"):
        expect(legend).to_contain_text(family)
