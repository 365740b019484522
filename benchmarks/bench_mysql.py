"""Loading rows into MySQL: MySqlTableTarget.write against a plain pymysql executemany loop.

    python benchmarks/bench_mysql.py [--rows 1000000]

Each loads the same Arrow table into a fresh table of a throwaway MariaDB on
loopback, in one transaction: the target with its default INSERTs and with
``bulk_load=True`` (LOAD DATA LOCAL). The baseline converts rows with to_pylist() and
calls executemany once per 10,000 rows, as a hand-written loader would.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa
import pymysql

from targets.mysql import MySqlTableTarget, close_connections
from tests.servers import start_mariadb


def sample(rows: int) -> pa.Table:
    return pa.table(
        {
            "order_id": pa.array(range(rows), pa.int64()),
            "store": pa.array([f"store-{i % 50}" for i in range(rows)]),
            "amount": pa.array([i * 0.25 for i in range(rows)], pa.float64()),
            "units": pa.array([i % 7 for i in range(rows)], pa.int32()),
        }
    )


def plain_executemany(settings: dict, table: pa.Table) -> None:
    connection = pymysql.connect(**settings, autocommit=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE plain (order_id BIGINT, store TEXT, amount DOUBLE, units INT) ENGINE=InnoDB"
        )
        rows = [tuple(row.values()) for row in table.to_pylist()]
        for start in range(0, len(rows), 10_000):
            cursor.executemany("INSERT INTO plain VALUES (%s, %s, %s, %s)", rows[start : start + 10_000])
    connection.commit()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    table = sample(args.rows)
    with tempfile.TemporaryDirectory() as scratch:
        server = start_mariadb(Path(scratch))
        try:
            os.environ["MYSQL_PWD"] = server.extra["password"]
            target = MySqlTableTarget(f"{server.url}/loaded?update_id=bench")
            start = time.perf_counter()
            plain_executemany(target._settings, table)
            baseline = time.perf_counter() - start
            start = time.perf_counter()
            target.write(table)
            ours = time.perf_counter() - start
            bulk = MySqlTableTarget(f"{server.url}/bulk?update_id=bench", bulk_load=True)
            start = time.perf_counter()
            bulk.write(table)
            ours_bulk = time.perf_counter() - start
            close_connections()
        finally:
            server.stop()
    print(f"{'case':48} {'baseline rows/s':>16} {'dashpipe rows/s':>16} {'ratio':>6}")
    for case, seconds in (
        (f"load {args.rows:,} rows (4 columns), INSERTs", ours),
        (f"load {args.rows:,} rows, bulk_load (LOAD DATA LOCAL)", ours_bulk),
    ):
        print(
            f"{case:48} {args.rows / baseline:16,.0f} {args.rows / seconds:16,.0f} {baseline / seconds:6.2f}"
        )


if __name__ == "__main__":
    main()
