"""HTTP inputs in a YAML pipeline, end to end against a real local server: a rerun skips, a
changed resource is named with its ETag, and a paged JSON API lands in one Parquet output."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.errors import ExitCode
from tests.helpers import run_cli
from tests.servers import AccessLog, Server
from tests.triggers.inbox import COPYING

COPY = """
pipeline: published
params:
  base: {type: string}
  out: {type: string}
steps:
  copy:
    run: copying:copy
    inputs: {raw: "{base}/files/orders.csv"}
    outputs: {o: "{out}/orders.csv"}
"""

PAGED = """
pipeline: paged
params:
  base: {type: string}
  out: {type: string}
steps:
  items:
    run: targets.http_pages:api_to_parquet
    inputs:
      api: {url: "{base}/api/items?page=1", type: http, options: {pages: {items: data, next: next}}}
    outputs: {table: {url: "{out}/items.parquet", type: parquet}}
"""


def test_an_http_input_is_checked_with_one_head_and_rebuilt_when_it_changes(
    http_api: tuple[Server, Path], tmp_path: Path
) -> None:
    server, served = http_api
    (served / "orders.csv").write_text("o1\n")
    (tmp_path / "copying.py").write_text(COPYING)
    (tmp_path / "published.yaml").write_text(COPY)
    words = [str(tmp_path / "published.yaml"), "--base", server.url, "--out", str(tmp_path / "out")]
    assert run_cli("run", *words, cwd=tmp_path).exit_code == ExitCode.OK
    assert (tmp_path / "out" / "orders.csv").read_text() == "o1\n"

    log = AccessLog(server)
    status = run_cli("status", *words, cwd=tmp_path)
    assert status.exit_code == ExitCode.OK, status.output
    assert log.since() == [("HEAD", "/files/orders.csv")]  # no download to learn the version

    (served / "orders.csv").write_text("o1\no2\n")
    stale = run_cli("status", *words, cwd=tmp_path)
    assert f"input {server.url}/files/orders.csv changed (etag" in stale.output, stale.output
    assert run_cli("run", *words, cwd=tmp_path).exit_code == ExitCode.OK
    assert (tmp_path / "out" / "orders.csv").read_text() == "o1\no2\n"
    again = run_cli("run", *words, cwd=tmp_path)
    assert again.exit_code == ExitCode.OK and "1 up to date" in again.output, again.output


def test_every_page_of_a_json_api_lands_in_one_parquet_output(
    http_api: tuple[Server, Path], tmp_path: Path
) -> None:
    server, served = http_api
    items = [{"id": index, "name": f"item {index}"} for index in range(5)]
    (served / "items.json").write_text(json.dumps(items))
    (tmp_path / "paged.yaml").write_text(PAGED)
    log = AccessLog(server)
    result = run_cli(
        "run", str(tmp_path / "paged.yaml"), "--base", server.url, "--out", str(tmp_path), cwd=tmp_path
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert pq.read_table(tmp_path / "items.parquet").to_pylist() == items
    pages = [path for method, path in log.since() if method == "GET"]
    # The API sends no ETag nor Last-Modified: its first page is read whole to fingerprint it.
    assert pages == [f"/api/items?page={number}" for number in (1, 1, 2, 3)]
