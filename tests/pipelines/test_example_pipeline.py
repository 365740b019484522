"""The example pipeline end to end through the CLI, with outputs on local disk, S3 and GCS."""

from __future__ import annotations

import csv
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from pipelines import ExitCode
from pipelines.execute.run_journal import RUNS_DIRECTORY
from targets import ParquetTarget
from tests.conftest import Backend, make_backend
from tests.helpers import REPO, run_cli
from tests.servers import installed_script

EXAMPLE = str(REPO / "examples" / "sales" / "pipeline.py")
RAW = REPO / "examples" / "sales" / "data" / "raw"
DATE = "2026-11-24"


def expected_totals(csv_path: Path) -> dict[str, tuple[int, float]]:
    """The cleaning rules, restated in plain Python as an independent check."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    seen: set[str] = set()
    with csv_path.open() as handle:
        for row in csv.DictReader(handle):
            if not row["quantity"] or int(row["quantity"]) <= 0 or row["order_id"] in seen:
                continue
            seen.add(row["order_id"])
            store = row["store"].strip().lower()
            totals[store][0] += int(row["quantity"])
            totals[store][1] += int(row["quantity"]) * float(row["unit_price"])
    return {store: (int(units), round(revenue, 2)) for store, (units, revenue) in totals.items()}


def stamps(fs, url: str) -> dict[str, tuple]:
    """Per object: the backend's own version stamps (local mtime, S3 ETag, GCS generation). Run
    journals are left out: every run adds its own, and changes nothing else."""
    fs.invalidate_cache()
    found = fs.find(fs._strip_protocol(url), detail=True)
    return {
        path: (
            info["size"],
            info.get("mtime"),
            info.get("ETag"),
            info.get("generation"),
            info.get("LastModified"),
        )
        for path, info in found.items()
        if f"/.dashpipe/{RUNS_DIRECTORY}/" not in path
    }


def ran(result) -> list[str]:
    return sorted(
        line.split()[1].split("(")[0]
        for line in result.stdout.splitlines()
        if line.strip().startswith("ran ")
    )


@pytest.mark.parametrize("name", ["local", "s3", "gcs"])
def test_build_skip_and_rebuild_one(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    backend: Backend = make_backend(name, request, tmp_path)
    raw_root = backend.url("raw")
    uploader = backend.fs()
    uploader.put_file(str(RAW / f"{DATE}.csv"), uploader._strip_protocol(f"{raw_root}/{DATE}.csv"))
    args = [
        "run",
        f"{EXAMPLE}:SalesReport",
        "--date",
        DATE,
        "--root",
        backend.url("sales"),
        "--raw-root",
        raw_root,
    ]

    first = run_cli(*args, cwd=tmp_path, config=backend.config, env=backend.env)
    assert first.exit_code == ExitCode.OK, first.output
    assert ran(first) == ["CleanSales", "DailyTotals", "SalesReport"]
    assert "4 tasks: 3 ran, 1 up to date" in first.stdout

    report = backend.target("sales", "reports", f"{DATE}.md")
    with report.open("r") as handle:
        text = handle.read()
    for store, (units, revenue) in expected_totals(RAW / f"{DATE}.csv").items():
        assert f"| {store} | {units} | {revenue:.2f} |" in text
    daily = ParquetTarget(backend.url("sales", "daily", f"{DATE}.parquet"), **backend.options).read()
    assert dict(zip(daily["store"].to_pylist(), daily["units"].to_pylist(), strict=True)) == {
        store: units for store, (units, _) in expected_totals(RAW / f"{DATE}.csv").items()
    }
    before = stamps(uploader, backend.url("sales"))

    second = run_cli(*args, cwd=tmp_path, config=backend.config, env=backend.env)
    assert second.exit_code == ExitCode.OK, second.output
    assert ran(second) == []
    assert "nothing to do" in second.stdout
    assert stamps(uploader, backend.url("sales")) == before  # not one output was rewritten

    report.remove()
    third = run_cli(*args, cwd=tmp_path, config=backend.config, env=backend.env)
    assert third.exit_code == ExitCode.OK, third.output
    assert ran(third) == ["SalesReport"]
    with report.open("r") as handle:
        assert handle.read() == text


def test_parallel_workers_build_the_same_result(tmp_path: Path) -> None:
    root = tmp_path / "out"
    dates = ["2026-11-24", "2026-11-25"]
    for date in dates:
        result = run_cli(
            "run", f"{EXAMPLE}:SalesReport", "--date", date, "--root", str(root), "-j", "2", cwd=tmp_path
        )
        assert result.exit_code == ExitCode.OK, result.output
        text = (root / "reports" / f"{date}.md").read_text()
        for store, (units, revenue) in expected_totals(RAW / f"{date}.csv").items():
            assert f"| {store} | {units} | {revenue:.2f} |" in text


def test_console_script_is_installed() -> None:
    dashpipe = installed_script("dashpipe")
    result = subprocess.run([dashpipe, "--version"], capture_output=True, text=True, check=True)
    assert "version" in result.stdout


HELD_TARGETS = """
import luigi
from targets import FileTarget


class Held(luigi.Task):
    url = luigi.Parameter()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = FileTarget(self.url)  # created, and used, before the worker forks

    def output(self):
        return self.target

    def run(self):
        with self.target.open("w") as handle:
            handle.write(self.url)


class All(luigi.WrapperTask):
    root = luigi.Parameter()

    def requires(self):
        return [Held(url=f"{self.root}/{i}.txt") for i in range(4)]
"""


@pytest.mark.parametrize("name", ["s3", "gcs"])
def test_parallel_workers_with_targets_created_before_fork(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend: Backend = make_backend(name, request, tmp_path)
    (tmp_path / "held.py").write_text(HELD_TARGETS)
    result = run_cli(
        "run",
        "held.py:All",
        "--root",
        backend.url("held"),
        "-j",
        "2",
        cwd=tmp_path,
        config=backend.config,
        env=backend.env,
    )
    assert result.exit_code == ExitCode.OK, result.output
    for i in range(4):
        with backend.target("held", f"{i}.txt").open("r") as handle:
            assert handle.read() == backend.url("held", f"{i}.txt")
