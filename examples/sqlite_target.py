"""A custom target: a table in a SQLite database, addressed as ``sqlite:///path/to.db#table``.

This is the worked example of docs/custom-targets.md; tests/targets/test_custom_target_example.py
runs it, so it stays correct.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from targets import BaseTarget, TargetError


class SqliteTableTarget(BaseTarget):
    """A table that exists once it has at least one row."""

    type_name = "sqlite"
    schemes = ("sqlite",)

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url)
        location, _, table = url.removeprefix("sqlite://").partition("#")
        if not url.startswith("sqlite://") or not location or not table.isidentifier():
            raise TargetError(f"malformed URL {url!r}: expected sqlite:///path/to.db#table_name")
        self.database, self.table = location, table
        self.timeout = float(options.get("timeout", 5.0))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.database, timeout=self.timeout)

    def exists(self) -> bool:
        with closing(self._connect()) as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self.table,)
            ).fetchone()
            # The table name was checked by isidentifier(); it cannot inject SQL.
            return bool(found) and bool(
                connection.execute(f'SELECT 1 FROM "{self.table}" LIMIT 1').fetchone()
            )

    def remove(self) -> None:
        with closing(self._connect()) as connection, connection:
            connection.execute(f'DROP TABLE IF EXISTS "{self.table}"')

    def write_rows(self, columns: list[str], rows: list[tuple]) -> None:
        """Replace the table's content in one transaction: readers see old rows or new, never half."""
        names = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join("?" for _ in columns)
        with closing(self._connect()) as connection, connection:
            connection.execute(f'DROP TABLE IF EXISTS "{self.table}"')
            connection.execute(f'CREATE TABLE "{self.table}" ({names})')
            connection.executemany(f'INSERT INTO "{self.table}" VALUES ({marks})', rows)
