"""Choosing a Target class by type name or URL scheme, including third-party plugins."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import targets
from targets import BaseTarget, FileTarget, ParquetTarget, TargetError, registry


class RowCountTarget(BaseTarget):
    schemes = ("rowcount",)

    def exists(self) -> bool:
        return True


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    monkeypatch.setattr(registry, "_schemes", dict(registry._schemes))


def test_urls_without_a_registered_scheme_are_files(tmp_path: Path) -> None:
    for url in (str(tmp_path / "a.csv"), "memory://b/a.csv", "s3://bucket/a.csv", "gs://bucket/a.csv"):
        assert type(targets.target_for_url(url)) is FileTarget


def test_type_name_picks_the_class(tmp_path: Path) -> None:
    target = targets.target_for_url(str(tmp_path / "a.parquet"), type="parquet")
    assert type(target) is ParquetTarget


def test_unknown_type_suggests_a_close_name() -> None:
    with pytest.raises(TargetError, match=r"unknown target type 'parquett'.*did you mean 'parquet'"):
        targets.target_class("parquett")


def test_register_claims_schemes(clean_registry: None) -> None:
    targets.register("rows", RowCountTarget)
    target = targets.target_for_url("rowcount://db/table")
    assert isinstance(target, RowCountTarget)
    assert target.url == "rowcount://db/table"
    assert "rows" in targets.known_types()


def test_register_refuses_silent_replacement(clean_registry: None) -> None:
    with pytest.raises(TargetError, match="already registered"):
        targets.register("parquet", RowCountTarget)
    targets.register("parquet", RowCountTarget, override=True)
    assert targets.target_class("parquet") is RowCountTarget


def test_register_validates_names_and_lazy_paths(clean_registry: None) -> None:
    with pytest.raises(TargetError, match="identifier"):
        targets.register("not a name", RowCountTarget)
    targets.register("broken", "no_such_module:Thing")
    with pytest.raises(TargetError, match="cannot be imported"):
        targets.target_class("broken")


def test_entry_point_plugin_is_found(tmp_path: Path) -> None:
    """A package installed with an entry point in ``dash_pipeline.targets`` is picked up."""
    plugin = tmp_path / "site"
    (plugin / "kvstore_target").mkdir(parents=True)
    (plugin / "kvstore_target" / "__init__.py").write_text(
        textwrap.dedent(
            """
            from targets import BaseTarget

            class KeyValueTarget(BaseTarget):
                def exists(self):
                    return self.url.endswith("/present")
            """
        )
    )
    dist_info = plugin / "kvstore_target-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: kvstore-target\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[dash_pipeline.targets]\nkv = kvstore_target:KeyValueTarget\n"
    )
    probe = (
        "import targets; t = targets.target_for_url('kv://host/present');"
        "print(type(t).__name__, t.exists(), 'kv' in targets.known_types())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(plugin), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["KeyValueTarget", "True", "True"]
