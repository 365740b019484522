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
        # float32 as DOUBLE: MySQL's FLOAT comes back rounded to 6 significant digits.
        (t.is_uint32, "INT UNSIGNED"),
        (t.is_uint64, "BIGINT UNSIGNED"),
        (t.is_float32, "DOUBLE"),
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
    columns.append(f"`{update_column}` VARBINARY(255) NOT NULL")  # binary: case and spaces count
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)}, KEY (`{update_column}`))"
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )


def rows_of(table: Any, batch_rows: int, *extra: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Rows as tuples ending with ``extra``, ``batch_rows`` at a time; converted column by column."""
    for batch in table.to_batches(max_chunksize=batch_rows):
        columns = [column.to_pylist() for column in batch.columns]
        constants = [itertools.repeat(value, batch.num_rows) for value in extra]
        yield list(zip(*columns, *constants, strict=True))


def can_load_data(table: Any) -> bool:
    """Whether a CSV round trip through LOAD DATA keeps every value: no nulls (CSV cannot tell
    them from empty text) and only numbers, text and dates."""
    import pyarrow.compute as pc
    import pyarrow.types as t

    plain = (t.is_integer, t.is_floating, t.is_string, t.is_large_string, t.is_date32)
    if not all(
        column.null_count == 0 and any(check(column.type) for check in plain) for column in table.columns
    ):
        return False
    # NaN and infinities would load as 0.0 with a mere warning.
    return all(pc.all(pc.is_finite(column)).as_py() for column in table.columns if t.is_floating(column.type))


def storable(table: Any, where: str) -> Any:
    """The table as MySQL can hold it: time zones converted to UTC (DATETIME has none) and
    timestamps in microseconds, refusing any value that would change or could not be stored
    (sub-microsecond times, NaN and infinities)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if (
            t.is_floating(field.type)
            and not pc.all(pc.or_kleene(pc.is_finite(column), pc.is_null(column))).as_py()
        ):
            raise TargetError(
                f"{where}: column {field.name!r} holds NaN or infinity, which MySQL cannot store"
            )
        if t.is_timestamp(field.type) and (field.type.tz or field.type.unit == "ns"):
            try:
                column = column.cast(pa.timestamp("us"))  # the UTC instant, without a zone
            except pa.ArrowInvalid:
                raise TargetError(
                    f"{where}: column {field.name!r} has sub-microsecond timestamps; MySQL keeps microseconds"
                ) from None
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def restore(data: dict[str, list[Any]], schema: Any) -> Any:
    """Rows read back as the Arrow schema they were written with."""
    import pyarrow as pa
    import pyarrow.types as t

    arrays = []
    for field in schema:
        values = data[field.name]
        if t.is_boolean(field.type):
            values = [None if value is None else bool(value) for value in values]
        if t.is_timestamp(field.type) and field.type.tz:
            arrays.append(pa.array(values, pa.timestamp(field.type.unit)).cast(field.type))
            continue
        arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
