"""The README's Python tour runs as written."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import luigi

from tests.helpers import REPO


def test_readme_tour_runs(tmp_path: Path, monkeypatch) -> None:
    readme = (REPO / "README.md").read_text()
    code = re.search(r"### Tasks and targets\s+```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {"__name__": "readme_tour"}
    exec(compile(code, "README.md", "exec"), namespace)
    monkeypatch.chdir(REPO)
    task = namespace["Orders"](date=dt.date(2026, 11, 24), root=str(tmp_path / "shop"))
    assert luigi.build([task], local_scheduler=True, log_level="WARNING")
    order_ids = task.output().read().column("order_id").to_pylist()
    assert order_ids == [
        int(line.split(",")[0])
        for line in (REPO / "examples/sales/data/raw/2026-11-24.csv").read_text().splitlines()[1:]
    ]
