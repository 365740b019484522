"""MySqlTableTarget against a real MariaDB: loads, markers, transactions, hostile names, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pymysql
import pytest

from pipelines import ExitCode
from targets import StorageError, TargetError, target_for_url
from targets.mysql import MySqlTableTarget, close_connections
from tests.helpers import run_cli, wait_until
from tests.servers import Server, free_port


@pytest.fixture
def db(mysql_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The server's database URL; the password is in MYSQL_PWD, as a user would have it."""
    monkeypatch.setenv("MYSQL_PWD", mysql_server.extra["password"])
    yield mysql_server.url
    close_connections()


def table_url(db: str, update_id: str = "2026-11-24") -> str:
    return f"{db}/t_{uuid.uuid4().hex[:10]}?update_id={update_id}"


def rows_in(db: str, table: str, update_id: str) -> int:
    target = MySqlTableTarget(f"{db}/{table}?update_id={update_id}")
    settings = target._settings
    with pymysql.connect(**settings) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM `{table}` WHERE dashpipe_update_id = %s", (update_id,))
        return cursor.fetchone()[0]


SALES = pa.table({"store": ["ams", "ber", "cph"], "revenue": [132.0, 198.5, 34.9], "units": [4, 8, 1]})


def test_load_read_and_fingerprint(db: str) -> None:
    target = target_for_url(table_url(db))
    assert isinstance(target, MySqlTableTarget)
    assert not target.exists() and target.fingerprint() is None
    target.write(SALES)
    assert target.exists()
    assert target.read().sort_by("store").equals(SALES)
    first = target.fingerprint()
    assert first["size"] == 3
    target.write(SALES)  # the same rows again: same checksum, a new load
    again = target.fingerprint()
    assert again["checksum"] == first["checksum"] and again["load_id"] != first["load_id"]
    assert target.matches(first) is True


def test_replace_touches_only_its_update_id_and_append_adds(db: str) -> None:
    monday = MySqlTableTarget(table_url(db, "2026-11-23"))
    tuesday = MySqlTableTarget(f"{monday.url.split('?')[0]}?update_id=2026-11-24")
    monday.write(SALES)
    tuesday.write(SALES)
    smaller = SALES.slice(0, 1)
    tuesday.write(smaller)
    assert rows_in(db, tuesday.table, "2026-11-24") == 1
    assert rows_in(db, monday.table, "2026-11-23") == 3
    tuesday.write(smaller, mode="append")
    assert rows_in(db, tuesday.table, "2026-11-24") == 2
    assert tuesday.matches(monday.fingerprint()) is False
    tuesday.remove()
    assert not tuesday.exists() and rows_in(db, tuesday.table, "2026-11-24") == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://dash@127.0.0.1:1/dashpipe/t; DROP TABLE x?update_id=1", "not a plain identifier"),
        ("mysql://dash@127.0.0.1:1/dash`pipe/t?update_id=1", "not a plain identifier"),
        ("mysql://dash@127.0.0.1:1/dashpipe/t?update_id=x'; DROP TABLE t; --", "update id"),
        ("mysql://dash@127.0.0.1:1/dashpipe/t", "needs an update id"),
        ("mysql://127.0.0.1:1/dashpipe/t?update_id=1", "expected mysql://USER@HOST:PORT/DATABASE/TABLE"),
    ],
)
def test_hostile_or_malformed_names_are_rejected(url: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        MySqlTableTarget(url)


def test_password_never_shows(db: str) -> None:
    with_password = db.replace("dash@", "dash:hunter2@") + "/t?update_id=1"
    target = MySqlTableTarget(with_password)
    assert "hunter2" not in repr(target) and "hunter2" not in str(target)


def test_wrong_password_unreachable_host_and_missing_database(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYSQL_PWD", "wrong")
    with pytest.raises(StorageError, match="access denied for user 'dash'"):
        MySqlTableTarget(table_url(db)).exists()
    close_connections()
    with pytest.raises(StorageError, match=r"cannot connect to 127\.0\.0\.1:"):
        MySqlTableTarget(f"mysql://dash@127.0.0.1:{free_port()}/dashpipe/t?update_id=1").exists()


def test_missing_database(db: str) -> None:
    base = db.rsplit("/", 1)[0]
    with pytest.raises(StorageError, match="database 'no_such_db' does not exist"):
        MySqlTableTarget(f"{base}/no_such_db/t?update_id=1").exists()


def uncommitted_rows(cursor, table: str) -> int:
    try:
        cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
    except pymysql.err.ProgrammingError:  # the loader has not created the table yet
        return 0
    return cursor.fetchone()[0]


KILLED_LOADER = """
import sys, pyarrow as pa
from targets.mysql import MySqlTableTarget
target = MySqlTableTarget(sys.argv[1])
rows = 400_000
table = pa.table({"n": pa.array(range(rows), pa.int64()), "text": pa.array(["x" * 40] * rows)})
print("LOADING", flush=True)
target.write(table)
print("DONE", flush=True)
"""


def test_sigkill_during_a_large_load_leaves_no_rows_and_no_marker(db: str, mysql_server: Server) -> None:
    url = table_url(db)
    target = MySqlTableTarget(url)
    loader = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOADER, url], stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert loader.stdout.readline().strip() == "LOADING"
        with pymysql.connect(**target._settings, autocommit=True) as watcher, watcher.cursor() as cursor:
            # Rows the load has written but not committed are visible only to a dirty read.
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
            wait_until(  # then kill the load mid-way
                lambda: uncommitted_rows(cursor, target.table) > 1000,
                "the load to write rows it has not committed",
                [loader],
                poll_s=0.01,
            )
        loader.send_signal(signal.SIGKILL)
        loader.wait(timeout=30)
    finally:
        if loader.poll() is None:
            loader.kill()
    assert not target.exists()
    assert rows_in(db, target.table, "2026-11-24") == 0


PIPELINE = """
pipeline: warehouse
params:
  date: {type: date}
  db: {type: string}
  root: {type: string}
steps:
  load:
    run: mysqlsteps:load
    inputs: {csv: "{root}/sales-{date}.csv"}
    outputs:
      table: "{db}/daily_sales?update_id={date}"
  report:
    run: mysqlsteps:report
    inputs: {table: load.table}
    outputs: {text: "{root}/report-{date}.txt"}
"""

STEPS = """
import pyarrow.csv
import luigi.format


def load(inputs, outputs):
    with inputs["csv"].with_format(luigi.format.Nop).open("r") as handle:
        outputs["table"].write(pyarrow.csv.read_csv(handle))


def report(inputs, outputs):
    table = inputs["table"].read()
    with outputs["text"].open("w") as handle:
        handle.write(str(sum(table.column("amount").to_pylist())))
"""


def test_yaml_pipeline_loads_skips_and_reloads_a_partition(db: str, tmp_path: Path) -> None:
    (tmp_path / "warehouse.yaml").write_text(PIPELINE)
    (tmp_path / "mysqlsteps.py").write_text(STEPS)
    (tmp_path / "sales-2026-11-24.csv").write_text("store,amount\nams,10\nber,20\n")
    args = ["run", "warehouse.yaml", "--date", "2026-11-24", "--db", db, "--root", str(tmp_path)]
    first = run_cli(*args, cwd=tmp_path)
    assert first.exit_code == ExitCode.OK, first.output
    assert (tmp_path / "report-2026-11-24.txt").read_text() == "30"
    again = run_cli(*args, cwd=tmp_path)
    assert again.exit_code == ExitCode.OK and "nothing to do" in again.stdout
    (tmp_path / "sales-2026-11-24.csv").write_text("store,amount\nams,10\nber,25\ncph,5\n")
    status = json.loads(run_cli("status", *args[1:], "--json", cwd=tmp_path).stdout)
    load = next(task for task in status["tasks"] if task["family"] == "warehouse.load")
    assert load["state"] == "stale" and "sales-2026-11-24.csv changed" in load["reason"]
    reloaded = run_cli(*args, cwd=tmp_path)
    assert reloaded.exit_code == ExitCode.OK, reloaded.output
    assert (tmp_path / "report-2026-11-24.txt").read_text() == "40"
    assert rows_in(db, "daily_sales", "2026-11-24") == 3
    assert os.environ["MYSQL_PWD"] not in first.output + again.output + reloaded.output


@pytest.mark.parametrize("problem", ["wrong password", "unreachable host", "missing database"])
def test_cli_connection_problems_are_one_clear_line(problem: str, db: str, tmp_path: Path) -> None:
    (tmp_path / "warehouse.yaml").write_text(PIPELINE)
    (tmp_path / "mysqlsteps.py").write_text(STEPS)
    (tmp_path / "sales-2026-11-24.csv").write_text("store,amount\nams,10\n")
    env, url, expected = {}, db, ""
    if problem == "wrong password":
        env, expected = {"MYSQL_PWD": "wrong-password"}, "access denied for user 'dash'"
    elif problem == "unreachable host":
        url, expected = f"mysql://dash@127.0.0.1:{free_port()}/dashpipe", "cannot connect to 127.0.0.1:"
    else:
        url, expected = db.rsplit("/", 1)[0] + "/no_such_db", "database 'no_such_db' does not exist"
    result = run_cli(
        "run",
        "warehouse.yaml",
        "--date",
        "2026-11-24",
        "--db",
        url,
        "--root",
        str(tmp_path),
        cwd=tmp_path,
        env=env,
    )
    assert result.exit_code == ExitCode.TASK_FAILED
    assert expected in result.output and "Traceback" not in result.output
    assert "wrong-password" not in result.output and os.environ["MYSQL_PWD"] not in result.output


def test_load_from_a_parquet_target(db: str, tmp_path: Path) -> None:
    from targets import ParquetTarget

    parquet = ParquetTarget(str(tmp_path / "sales.parquet"))
    parquet.write(SALES)
    target = MySqlTableTarget(table_url(db))
    target.write(parquet)
    assert target.read().sort_by("store").equals(SALES)


def test_bulk_load_path_matches_inserts(db: str) -> None:
    """LOAD DATA LOCAL (opt-in) gives the same rows, quotes and commas included; nulls use INSERTs."""
    tricky = pa.table(
        {
            "text": ["plain", 'with "quotes"', "comma, inside", "back\\slash", "new\nline", "ünïcödé"],
            "n": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
            "x": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
        }
    )
    bulk = MySqlTableTarget(table_url(db), bulk_load=True)
    bulk.write(tricky)
    assert bulk.read().sort_by("n").equals(tricky)
    with_nulls = pa.table({"text": ["a", None], "n": pa.array([1, None], pa.int64()), "x": [None, 1.0]})
    bulk.write(with_nulls)  # falls back to INSERTs: CSV cannot carry NULL
    assert bulk.read().sort_by("text").to_pylist() == with_nulls.sort_by("text").to_pylist()


# --- Cases a review found. -------------------------------------------------------------------


def test_a_failed_write_commits_nothing_later(db: str) -> None:
    import datetime as dt

    target = MySqlTableTarget(table_url(db))
    target.write(SALES)
    before = target.fingerprint()
    overflowing = pa.table({"when": pa.array([10**18], pa.timestamp("ms"))})  # year ~33 million
    with pytest.raises((OverflowError, ValueError, TargetError, StorageError)):
        target.write(overflowing)
    assert target.fingerprint() == before  # a later statement on the same connection commits nothing
    assert rows_in(db, target.table, "2026-11-24") == 3
    with pytest.raises(TargetError, match="no %"):
        target.write(pa.table({"rate %": [1.0]}))
    assert target.read().sort_by("store").equals(SALES)
    del dt


def test_update_ids_and_markers_respect_case(db: str) -> None:
    upper = MySqlTableTarget(table_url(db, "run-A"))
    lower = MySqlTableTarget(upper.url.split("?")[0] + "?update_id=run-a")
    upper.write(SALES)
    assert not lower.exists()
    lower.write(SALES.slice(0, 1))
    assert rows_in(db, upper.table, "run-A") == 3 and upper.fingerprint()["size"] == 3
    with pytest.raises(TargetError, match="update id"):
        MySqlTableTarget(upper.url.split("?")[0] + "?update_id=run-a ")


def test_types_read_back_as_written(db: str) -> None:
    import datetime as dt
    from decimal import Decimal

    table = pa.table(
        {
            "f32": pa.array([16777216.0, 123456.78], pa.float32()),
            "big": pa.array([2**63 + 5, 1], pa.uint64()),
            "flag": pa.array([True, None], pa.bool_()),
            "price": pa.array([Decimal("12.34"), Decimal("0.01")], pa.decimal128(10, 2)),
            "at": pa.array(
                [dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone.utc)] * 2,
                pa.timestamp("us", tz="Europe/Amsterdam"),
            ),
        }
    )
    target = MySqlTableTarget(table_url(db))
    target.write(table)
    assert target.read().equals(table)


def test_nan_is_refused_and_append_counts_all_rows(db: str) -> None:
    target = MySqlTableTarget(table_url(db), bulk_load="true")
    assert target.bulk_load is True
    assert MySqlTableTarget(table_url(db), bulk_load="false").bulk_load is False
    with pytest.raises(TargetError, match="column 'x' holds NaN or infinity"):
        target.write(pa.table({"x": [float("nan"), float("inf"), 1.0]}))  # LOAD DATA would make them 0.0
    assert not target.exists()
    floats = pa.table({"x": [0.5, 1.5, 2.5]})
    target.write(floats)
    first = target.fingerprint()
    target.write(floats.slice(2), mode="append")
    assert target.fingerprint()["size"] == 4 and target.matches(first) is False


def test_a_connection_the_server_dropped_is_replaced(db: str, mysql_server: Server) -> None:
    target = MySqlTableTarget(table_url(db))
    target.write(SALES)
    from targets.mysql import connections

    pooled = connections.get(target._settings, target.display_url)
    with pymysql.connect(**target._settings, autocommit=True) as admin, admin.cursor() as cursor:
        cursor.execute(f"KILL {pooled.thread_id()}")
    key = next(key for key, connection in connections._open.items() if connection is pooled)
    connections._used[key] -= 60  # as if idle for a minute, which is when it is checked
    assert target.exists()  # reconnected, not "server has gone away"
