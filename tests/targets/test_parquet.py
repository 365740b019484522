"""ParquetTarget on every backend: single files, partitioned datasets, and their completeness."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from targets import IncompleteOutputError, ParquetTarget, StorageError, TargetError
from tests.conftest import Backend


def sales_table() -> pa.Table:
    return pa.table(
        {
            "store": ["ams", "ber", "ams", "cph", "ber"],
            "day": [dt.date(2026, 11, 24)] * 3 + [dt.date(2026, 11, 25)] * 2,
            "amount": [10.5, 3.0, 7.25, 1.0, 99.0],
            "units": pa.array([1, 2, 3, 4, 5], pa.int32()),
        }
    )


def sort(table: pa.Table) -> pa.Table:
    return table.sort_by([("store", "ascending"), ("amount", "ascending")])


def test_single_file_roundtrip(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales.parquet"), **backend.options)
    assert not target.exists()
    target.write(sales_table())
    assert target.exists()
    assert target.read().equals(sales_table())
    assert target.read(columns=["units"]).column_names == ["units"]


def test_single_file_write_failure_publishes_nothing(backend: Backend) -> None:
    target = ParquetTarget(backend.url("broken.parquet"), **backend.options)
    with pytest.raises(RuntimeError), target.open("w") as handle:
        handle.write(b"PAR1 half a file")
        raise RuntimeError("writer died")
    assert not target.exists()


def test_partitioned_dataset_roundtrip_keeps_schema_and_order(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales"), partition_cols=["day", "store"], **backend.options)
    target.write(sales_table())
    assert target.exists()
    back = target.read()
    assert back.schema == sales_table().schema
    assert sort(back).equals(sort(sales_table()))
    files = [entry["path"] for entry in target.manifest()["files"]]
    assert "day=2026-11-24/store=ams" in {f.rsplit("/", 1)[0] for f in files}
    filtered = target.read(filter=pc.field("store") == "ber")
    assert sorted(filtered.column("amount").to_pylist()) == [3.0, 99.0]


def test_dataset_without_marker_is_not_complete(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales"), partition_cols=["store"], **backend.options)
    target.write(sales_table())
    marker = backend.url("sales", "_SUCCESS")
    backend.fs().rm(backend.fs()._strip_protocol(marker))
    assert not target.exists()
    with pytest.raises(IncompleteOutputError, match="_SUCCESS"):
        target.read()


def test_rewrite_replaces_old_partitions_and_ignores_stray_files(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales"), partition_cols=["store"], **backend.options)
    target.write(sales_table())
    smaller = pa.table(
        {
            "store": ["zrh"],
            "day": [dt.date(2026, 11, 26)],
            "amount": [1.5],
            "units": pa.array([9], pa.int32()),
        }
    )
    target.write(smaller)
    assert target.read().equals(smaller)
    # A file left by a crashed writer is not in the manifest, so it is never read.
    stray = backend.fs()
    stray.pipe_file(
        stray._strip_protocol(backend.url("sales", "store=ams", "part-crashed-0.parquet")), b"junk"
    )
    assert target.read().equals(smaller)


def test_remove_dataset(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales"), partition_cols=["store"], **backend.options)
    target.write(sales_table())
    target.remove()
    assert not target.exists()
    assert not backend.fs().exists(backend.fs()._strip_protocol(backend.url("sales")))


def test_bad_writes_are_refused(tmp_path) -> None:
    target = ParquetTarget(str(tmp_path / "ds"), partition_cols=["nope"])
    with pytest.raises(TargetError, match="partition columns \\['nope'\\]"):
        target.write(sales_table())
    with pytest.raises(TargetError, match=r"needs a pyarrow\.Table"):
        target.write({"a": [1]})
    with pytest.raises(TargetError, match="partitioned dataset"):
        target.open("r")
    assert not target.exists()


def test_failed_rewrite_keeps_the_previous_dataset(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales"), partition_cols=["store"], **backend.options)
    target.write(sales_table())
    unwritable = sales_table().append_column(
        "gap", pa.array([(1, 2, 3)] * 5, type=pa.month_day_nano_interval())
    )
    with pytest.raises(StorageError, match=r"cannot write .*/sales: ArrowNotImplementedError"):
        target.write(unwritable)
    assert target.exists()
    assert sort(target.read()).equals(sort(sales_table()))


def test_rewrite_deletes_the_superseded_files(backend: Backend) -> None:
    target = ParquetTarget(backend.url("sales"), partition_cols=["store"], **backend.options)
    target.write(sales_table())
    old_files = {entry["path"] for entry in target.manifest()["files"]}
    target.write(sales_table())
    new_files = {entry["path"] for entry in target.manifest()["files"]}
    assert old_files.isdisjoint(new_files)
    fs = backend.fs()
    on_storage = {
        path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]
        for path in fs.find(fs._strip_protocol(backend.url("sales")))
        if path.endswith(".parquet")
    }
    assert on_storage == new_files
