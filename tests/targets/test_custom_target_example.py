"""The worked example from docs/custom-targets.md, exercised as a reader would use it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import luigi
import pytest

import targets
from examples.sqlite_target import SqliteTableTarget
from targets import TargetError, registry


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    monkeypatch.setattr(registry, "_schemes", dict(registry._schemes))
    targets.register("sqlite", SqliteTableTarget)


class LoadTotals(luigi.Task):
    database = luigi.Parameter()

    def output(self):
        return targets.target_for_url(f"sqlite://{self.database}#totals")

    def run(self):
        self.output().write_rows(["store", "revenue"], [("ams", 132.0), ("ber", 198.5)])


def test_custom_target_in_a_plain_luigi_task(registered: None, tmp_path: Path) -> None:
    database = str(tmp_path / "shop.db")
    task = LoadTotals(database=database)
    assert isinstance(task.output(), SqliteTableTarget)
    assert not task.complete()
    assert luigi.build([task], local_scheduler=True, log_level="WARNING")
    assert task.complete()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM totals").fetchone() == (2,)
    task.output().remove()
    assert not task.complete()


def test_custom_target_rejects_a_hostile_table_name(registered: None, tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"expected sqlite:///path/to\.db#table_name"):
        targets.target_for_url(f"sqlite://{tmp_path}/shop.db#x; DROP TABLE totals")
