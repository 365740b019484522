"""MySqlTableTarget: the rows of one load (an update id) in a MySQL or MariaDB table.

``mysql://USER@HOST:PORT/DATABASE/TABLE?update_id=2026-11-24``. Rows and a marker
row are written in one transaction: a load is in the table whole, with its
marker, or not at all. The marker (table ``dashpipe_markers``) keys loads by
target table and update id and keeps a fingerprint: row count, a checksum of the
loaded data and a load id.

The password never appears in a URL: it comes from the ``password`` option, the
``[mysql] password`` key of luigi.cfg (use ``${ENV_VAR}`` there), or the
``MYSQL_PWD`` environment variable, as the mysql client reads it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from targets.base import BaseTarget
from targets.errors import StorageError, TargetError
from targets.fingerprint import Fingerprint
from targets.storage import configured_options, redact

MARKER_TABLE = "dashpipe_markers"
UPDATE_ID_COLUMN = "dashpipe_update_id"
BATCH_ROWS = 20_000
IDLE_CHECK_SECONDS = 5.0
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Update ids are passed as parameters anyway; refusing quotes and semicolons keeps them readable
# in markers and logs, and a mistaken template visible.
_UPDATE_ID = re.compile(r"^(?! )[A-Za-z0-9_.:+=@/ -]{1,255}(?<! )$")
_CONNECT_ERRORS = {2003: "cannot connect", 2005: "unknown host", 2013: "connection lost"}


def quote(identifier: str) -> str:
    """A validated identifier in backticks; anything else is refused, never escaped into SQL."""
    if not _IDENTIFIER.match(identifier):
        raise TargetError(f"{identifier!r} is not a valid MySQL identifier here (letters, digits and _)")
    return f"`{identifier}`"


def quote_column(name: str) -> str:
    """Column names come from Arrow schemas: any text, backtick-quoted with backticks doubled."""
    if not name or len(name) > 64 or "\x00" in name or "%" in name:
        raise TargetError(f"column name {name!r} cannot be a MySQL column here (1 to 64 characters, no %)")
    return "`" + name.replace("`", "``") + "`"


class _Connections:
    """Connections kept per server, user and database for the life of a run, and closed at the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[Any, ...], Any] = {}
        self._used: dict[tuple[Any, ...], float] = {}

    def get(self, settings: dict[str, Any], url: str) -> Any:
        import pymysql

        secret = hashlib.sha256(str(settings["password"]).encode()).hexdigest()
        key = (
            os.getpid(),
            settings["host"],
            settings["port"],
            settings["user"],
            settings["database"],
            settings.get("local_infile", False),
            secret,
        )
        with self._lock:
            connection = self._open.get(key)
            if connection is not None and connection.open:
                if time.monotonic() - self._used.get(key, 0.0) < IDLE_CHECK_SECONDS:
                    self._used[key] = time.monotonic()
                    return connection
                try:  # idle for a while: the server may have dropped it (wait_timeout, a restart)
                    connection.ping(reconnect=False)
                    self._used[key] = time.monotonic()
                    return connection
                except pymysql.err.MySQLError:
                    with suppress(Exception):
                        connection.close()
            try:
                connection = pymysql.connect(
                    autocommit=False, charset="utf8mb4", connect_timeout=10, **settings
                )
            except pymysql.err.OperationalError as exc:
                raise StorageError(f"cannot open {url}: {describe_mysql_error(exc, settings)}") from None
            self._open[key] = connection
            self._used[key] = time.monotonic()
            return connection

    def close_all(self) -> None:
        with self._lock:
            for key, connection in list(self._open.items()):
                if key[0] == os.getpid():
                    with suppress(Exception):  # already gone: nothing left to close
                        connection.close()
            self._open.clear()


connections = _Connections()


def close_connections() -> None:
    """Close every connection this process opened; the CLI calls it before exiting."""
    connections.close_all()


def describe_mysql_error(exc: Exception, settings: dict[str, Any]) -> str:
    code = exc.args[0] if exc.args else None
    where = f"{settings['host']}:{settings['port']}"
    if code == 1045:
        return (
            f"access denied for user {settings['user']!r} (check the password: MYSQL_PWD or [mysql] password)"
        )
    if code == 1049:
        return f"database {settings['database']!r} does not exist on {where}"
    if code in _CONNECT_ERRORS:
        return f"{_CONNECT_ERRORS[code]} to {where}"
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return f"MySQL error {code}: {message}"


class MySqlTableTarget(BaseTarget):
    """One update id's rows in a MySQL table; see the module docstring."""

    type_name = "mysql"
    schemes = ("mysql",)

    def __init__(self, url: str, update_id: str | None = None, **options: Any) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        shown = redact(url)
        path = [unquote(part) for part in parts.path.strip("/").split("/") if part]
        if parts.scheme != "mysql" or not parts.hostname or len(path) != 2 or not parts.username:
            raise TargetError(f"malformed URL {shown!r}: expected mysql://USER@HOST:PORT/DATABASE/TABLE")
        self.database, self.table = path
        for identifier in (self.database, self.table):
            if not _IDENTIFIER.match(identifier):
                raise TargetError(
                    f"malformed URL {shown!r}: {identifier!r} is not a plain identifier "
                    "(letters, digits and _)"
                )
        query = parse_qs(parts.query)
        if update_id is None:
            update_id = next(iter(query.get("update_id", [])), None)
        if update_id is None:
            raise TargetError(f"{shown}: needs an update id (?update_id=... in the URL, or update_id=)")
        if not _UPDATE_ID.match(str(update_id)) or not str(update_id).strip():
            raise TargetError(
                f"{shown}: update id {str(update_id)[:80]!r} must be 1 to 255 letters, digits "
                "or _ . : + = @ / - and spaces"
            )
        self.update_id = str(update_id)
        configured = configured_options("mysql")
        password = options.get("password", configured.get("password"))
        if password is None:
            password = (
                unquote(parts.password) if parts.password is not None else os.environ.get("MYSQL_PWD", "")
            )
        self._settings = {
            "host": parts.hostname,
            "port": self._port(parts, configured, shown),
            "user": unquote(parts.username),
            "password": str(password),
            "database": self.database,
        }
        self.marker_table = str(options.get("marker_table", configured.get("marker_table", MARKER_TABLE)))
        quote(self.marker_table)
        # LOAD DATA LOCAL loads about 2.6x faster than INSERTs, but a client that allows it sends
        # any file the server asks for: only for servers you trust, hence off unless asked for.
        bulk_load = options.get("bulk_load", configured.get("bulk_load", False))
        flag = str(bulk_load).lower()
        if not isinstance(bulk_load, (bool, str)) or flag not in ("true", "1", "yes", "false", "0", "no", ""):
            raise TargetError(f"{shown}: bulk_load must be true or false, got {bulk_load!r}")
        self.bulk_load = flag in ("true", "1", "yes")
        if self.bulk_load:
            self._settings["local_infile"] = True

    @staticmethod
    def _port(parts: Any, configured: dict[str, Any], shown: str) -> int:
        try:
            port = parts.port  # urllib raises ValueError for a port that is not a number in 0-65535
        except ValueError:
            raise TargetError(f"malformed URL {shown!r}: the port must be a number from 1 to 65535") from None
        if port:
            return int(port)
        value = configured.get("port", 3306)
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
            raise TargetError(f"luigi.cfg [mysql] port must be a number from 1 to 65535, got {value!r}")
        if not 0 < int(value) < 65536:
            raise TargetError(f"luigi.cfg [mysql] port must be a number from 1 to 65535, got {value!r}")
        return int(value)

    @property
    def display_url(self) -> str:
        # Without the query: ?update_id=... shown once, after the table.
        return redact(self.url.split("?", 1)[0]) + f"?update_id={self.update_id}"

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        import pymysql

        connection = connections.get(self._settings, self.display_url)
        try:
            with connection.cursor() as cursor:
                yield cursor
        except pymysql.err.MySQLError as exc:
            with suppress(pymysql.err.MySQLError):
                connection.rollback()
            raise StorageError(f"{self.display_url}: {describe_mysql_error(exc, self._settings)}") from None

    def _ensure_marker_table(self, cursor: Any) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(self.marker_table)} ("
            # Binary keys: the default collations ignore case and trailing spaces.
            " target_table VARBINARY(64) NOT NULL, update_id VARBINARY(255) NOT NULL,"
            " row_count BIGINT NOT NULL, checksum CHAR(64) NOT NULL, load_id CHAR(32) NOT NULL,"
            " loaded_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), arrow_schema BLOB,"
            " PRIMARY KEY (target_table, update_id)) ENGINE=InnoDB"
        )

    def _marker(self) -> tuple[int, str, str] | None:
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                (self.database, self.marker_table),
            )
            if not cursor.fetchone()[0]:
                return None
            cursor.execute(
                f"SELECT row_count, checksum, load_id FROM {quote(self.marker_table)}"
                " WHERE target_table = %s AND update_id = %s",
                (self.table, self.update_id),
            )
            row = cursor.fetchone()
        connections.get(self._settings, self.display_url).commit()  # end the read's snapshot
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def exists(self) -> bool:
        return self._marker() is not None

    def fingerprint(self) -> Fingerprint | None:
        marker = self._marker()
        if marker is None:
            return None
        rows, checksum, load_id = marker
        return {"kind": "mysql", "size": rows, "checksum": checksum, "load_id": load_id}

    def matches(self, recorded: Fingerprint | None, listed: Any = None) -> bool | None:
        current = self.fingerprint()
        if current is None:
            return False
        # The same data loaded again is the same version: compare content, not the load.
        if not recorded:
            return False
        return bool(
            recorded.get("checksum") == current["checksum"] and recorded.get("size") == current["size"]
        )

    def write(self, table: Any, mode: str = "replace") -> None:
        """Load a ``pyarrow.Table`` (or a ParquetTarget's table) as this update id's rows, with its
        marker, in one transaction.

        ``mode="replace"`` drops the update id's earlier rows first; ``"append"`` keeps them.
        The table is created from the Arrow schema when it does not exist yet.
        """
        import pyarrow as pa

        from targets.mysql_types import can_load_data, create_table_sql, rows_of, storable

        if hasattr(table, "read") and not isinstance(table, pa.Table):
            table = table.read()  # a ParquetTarget, or any target that reads back to Arrow
        if not isinstance(table, pa.Table):
            raise TargetError(
                f"{self.display_url}: write() needs a pyarrow.Table or a ParquetTarget, "
                f"got {type(table).__name__}"
            )
        if mode not in ("replace", "append"):
            raise TargetError(f"{self.display_url}: mode must be 'replace' or 'append', got {mode!r}")
        if UPDATE_ID_COLUMN in table.column_names:
            raise TargetError(f"{self.display_url}: the column {UPDATE_ID_COLUMN!r} is reserved")
        # Everything that can refuse the data happens before the transaction starts.
        schema = table.schema
        rows = storable(table, self.display_url)
        checksum = _checksum(table)
        connection = connections.get(self._settings, self.display_url)
        columns = ", ".join([*map(quote_column, table.column_names), quote(UPDATE_ID_COLUMN)])
        # Placeholders only: pymysql turns executemany of such a statement into multi-row INSERTs.
        placeholders = ", ".join(["%s"] * (table.num_columns + 1))
        insert = f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({placeholders})"
        with self._cursor() as cursor:
            # DDL commits implicitly in MySQL: it runs before the load's transaction starts.
            self._ensure_marker_table(cursor)
            cursor.execute(create_table_sql(quote(self.table), schema, quote_column, UPDATE_ID_COLUMN))
            connection.commit()
            connection.begin()
            try:
                previous = self._marker_in(cursor) if mode == "append" else None
                if mode == "replace":
                    cursor.execute(
                        f"DELETE FROM {quote(self.table)} WHERE {quote(UPDATE_ID_COLUMN)} = %s",
                        (self.update_id,),
                    )
                if self.bulk_load and can_load_data(rows):
                    self._load_data(cursor, rows)
                else:
                    for batch in rows_of(rows, BATCH_ROWS, self.update_id):
                        cursor.executemany(insert, batch)
                # Counted, not queried: a COUNT(*) of a million fresh rows costs a third of the load.
                row_count = table.num_rows + (previous[0] if previous is not None else 0)
                if previous is not None:  # an append: the version is the old rows plus these
                    checksum = hashlib.sha256(f"{previous[1]}+{checksum}".encode()).hexdigest()
                cursor.execute(
                    f"REPLACE INTO {quote(self.marker_table)} (target_table, update_id, row_count, checksum,"
                    " load_id, arrow_schema) VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        self.table,
                        self.update_id,
                        row_count,
                        checksum,
                        uuid.uuid4().hex,
                        schema.serialize().to_pybytes(),
                    ),
                )
                connection.commit()
            except BaseException:
                # Whatever failed, nothing of this load may be committed later by another
                # statement on this pooled connection.
                with suppress(Exception):
                    connection.rollback()
                raise

    def _marker_in(self, cursor: Any) -> tuple[int, str] | None:
        cursor.execute(
            f"SELECT row_count, checksum FROM {quote(self.marker_table)}"
            " WHERE target_table = %s AND update_id = %s",
            (self.table, self.update_id),
        )
        row = cursor.fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def _load_data(self, cursor: Any, table: Any) -> None:
        import pyarrow as pa
        import pyarrow.csv

        rows = table.append_column(UPDATE_ID_COLUMN, pa.array([self.update_id] * table.num_rows, pa.string()))
        handle, path = tempfile.mkstemp(prefix="dashpipe-load-", suffix=".csv")
        os.close(handle)
        try:
            pyarrow.csv.write_csv(rows, path, pyarrow.csv.WriteOptions(include_header=False))
            columns = ", ".join(map(quote_column, rows.column_names))
            cursor.execute(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote(self.table)} CHARACTER SET utf8mb4"
                " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''"
                f" LINES TERMINATED BY '\\n' ({columns})",
                (path,),
            )
            if cursor.rowcount != table.num_rows:
                raise StorageError(
                    f"{self.display_url}: bulk load took {cursor.rowcount} of {table.num_rows} rows"
                )
        finally:
            os.remove(path)

    def read(self, columns: list[str] | None = None) -> Any:
        """This update id's rows as a ``pyarrow.Table`` of the schema they were written with."""
        import pyarrow as pa

        from targets.mysql_types import restore

        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT arrow_schema FROM {quote(self.marker_table)}"
                " WHERE target_table = %s AND update_id = %s",
                (self.table, self.update_id),
            )
            found = cursor.fetchone()
            if found is None:
                raise StorageError(f"{self.display_url}: not loaded (no marker for this update id)")
            schema = pa.ipc.read_schema(pa.py_buffer(found[0])) if found[0] else None
            wanted = list(columns) if columns else (schema.names if schema else None)
            selected = ", ".join(map(quote_column, wanted)) if wanted else "*"
            cursor.execute(
                f"SELECT {selected} FROM {quote(self.table)} WHERE {quote(UPDATE_ID_COLUMN)} = %s",
                (self.update_id,),
            )
            names = [description[0] for description in cursor.description]
            rows = cursor.fetchall()
        connections.get(self._settings, self.display_url).commit()
        data = {name: [row[index] for row in rows] for index, name in enumerate(names)}
        data.pop(UPDATE_ID_COLUMN, None)
        if schema is None:
            return pa.table(data)
        return restore(data, pa.schema([schema.field(name) for name in data]))

    def remove(self) -> None:
        connection = connections.get(self._settings, self.display_url)
        with self._cursor() as cursor:
            self._ensure_marker_table(cursor)
            connection.begin()
            cursor.execute(
                f"DELETE FROM {quote(self.marker_table)} WHERE target_table = %s AND update_id = %s",
                (self.table, self.update_id),
            )
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                (self.database, self.table),
            )
            if cursor.fetchone()[0]:
                cursor.execute(
                    f"DELETE FROM {quote(self.table)} WHERE {quote(UPDATE_ID_COLUMN)} = %s", (self.update_id,)
                )
            connection.commit()


def _checksum(table: Any) -> str:
    """A digest of the data itself: the same rows loaded again give the same checksum."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
