"""Arrow types as MySQL columns, and Arrow tables as batches of rows for INSERT."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from targets.errors import TargetError


def mysql_type(arrow_type: Any, column: str) -> str:
    import pyarrow as pa
    import pyarrow.types as t

    simple = [
        (t.is_boolean, "BOOLEAN"),
        (t.is_int8, "TINYINT"),
        (t.is_int16, "SMALLINT"),
        (t.is_int32, "INT"),
        (t.is_int64, "BIGINT"),
        (t.is_uint8, "TINYINT UNSIGNED"),
        (t.is_uint16, "SMALLINT UNSIGNED"),
        (t.is_uint32, "INT UNSIGNED"),
        (t.is_uint64, "BIGINT UNSIGNED"),
        (t.is_float32, "FLOAT"),
        (t.is_float64, "DOUBLE"),
        (t.is_string, "LONGTEXT"),
        (t.is_large_string, "LONGTEXT"),
        (t.is_binary, "LONGBLOB"),
        (t.is_large_binary, "LONGBLOB"),
        (t.is_date, "DATE"),
    ]
    for check, sql in simple:
        if check(arrow_type):
            return sql
    if t.is_timestamp(arrow_type):
        return "DATETIME(6)"
    if t.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision}, {arrow_type.scale})"
    if t.is_dictionary(arrow_type):
        return mysql_type(arrow_type.value_type, column)
    del pa
    raise TargetError(f"column {column!r}: Arrow type {arrow_type} has no MySQL column type here")


def create_table_sql(table: str, schema: Any, quote_column: Callable[[str], str], update_column: str) -> str:
    columns = [f"{quote_column(field.name)} {mysql_type(field.type, field.name)}" for field in schema]
    columns.append(f"`{update_column}` VARCHAR(255) NOT NULL")
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)}, KEY (`{update_column}`))"
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )


def rows_of(table: Any, batch_rows: int, *extra: Any) -> Iterator[list[tuple]]:
    """Rows as tuples ending with ``extra``, ``batch_rows`` at a time; converted column by column."""
    for batch in table.to_batches(max_chunksize=batch_rows):
        columns = [column.to_pylist() for column in batch.columns]
        constants = [itertools.repeat(value, batch.num_rows) for value in extra]
        yield list(zip(*columns, *constants, strict=True))


def can_load_data(table: Any) -> bool:
    """Whether a CSV round trip through LOAD DATA keeps every value: no nulls (CSV cannot tell
    them from empty text) and only numbers, text and dates."""
    import pyarrow.types as t

    plain = (t.is_integer, t.is_floating, t.is_string, t.is_large_string, t.is_date32)
    return all(
        column.null_count == 0 and any(check(column.type) for check in plain) for column in table.columns
    )
