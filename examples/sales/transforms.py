"""The sales example's business logic, shared by the Python tasks and the YAML steps."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv


def read_orders_csv(handle) -> pa.Table:
    return pyarrow.csv.read_csv(handle)


def clean_orders(orders: pa.Table) -> pa.Table:
    """Normalise store names, drop rows without a positive quantity, keep each order once, add revenue."""
    orders = orders.set_column(
        orders.schema.get_field_index("store"),
        "store",
        pc.utf8_lower(pc.utf8_trim_whitespace(orders["store"])),
    )
    orders = orders.filter(pc.and_(pc.is_valid(orders["quantity"]), pc.greater(orders["quantity"], 0)))
    # Exports repeat an order when a till retries; keep each order's first row.
    first_rows = pc.index_in(pc.unique(orders["order_id"]), value_set=orders["order_id"])
    orders = orders.take(first_rows)
    return orders.append_column("revenue", pc.multiply(orders["quantity"], orders["unit_price"]))


def daily_totals(orders: pa.Table) -> pa.Table:
    """Revenue and units per store."""
    totals = orders.group_by("store").aggregate([("revenue", "sum"), ("quantity", "sum")])
    return totals.rename_columns(["store", "revenue", "units"]).sort_by("store")


def report_markdown(date: dt.date, totals: pa.Table) -> str:
    rows = totals.to_pylist()
    lines = [
        f"# Sales {date:%Y-%m-%d}",
        "",
        "| store | units | revenue |",
        "|---|---:|---:|",
        *(f"| {row['store']} | {row['units']} | {row['revenue']:.2f} |" for row in rows),
        f"| **total** | {sum(r['units'] for r in rows)} | {sum(r['revenue'] for r in rows):.2f} |",
    ]
    return "\n".join(lines) + "\n"
