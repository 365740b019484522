"""Nightly sales: raw CSV → cleaned Parquet → daily totals per store → a small report.

Run it (from the repository root):

    dashpipe run examples/sales/pipeline.py:SalesReport --date 2026-11-24

Outputs go under ``--root`` (default ``build/sales``); point it at
``s3://bucket/sales`` or ``gs://bucket/sales`` and nothing else changes.
"""

from __future__ import annotations

from pathlib import Path

import luigi
import luigi.format
import pyarrow.compute as pc
import pyarrow.csv

from pipelines import External, Task
from targets import FileTarget, ParquetTarget

RAW_DATA = str(Path(__file__).resolve().parent / "data" / "raw")


class SalesStep(Task):
    """Parameters every step shares."""

    date = luigi.DateParameter(description="business day to process")
    root = luigi.Parameter(default="build/sales", description="where outputs go: a path or URL")
    raw_root = luigi.Parameter(default=RAW_DATA, description="where the raw CSV exports land")


class CleanSales(SalesStep):
    """Drop malformed and duplicate orders, normalise store names."""

    def requires(self):
        return External(url=f"{self.raw_root}/{self.date:%Y-%m-%d}.csv")

    def output(self):
        return ParquetTarget(f"{self.root}/clean/{self.date:%Y-%m-%d}.parquet")

    def run(self):
        raw = FileTarget(self.input().path, format=luigi.format.Nop)
        with raw.open("r") as handle:
            orders = pyarrow.csv.read_csv(handle)
        orders = orders.set_column(
            orders.schema.get_field_index("store"),
            "store",
            pc.utf8_lower(pc.utf8_trim_whitespace(orders["store"])),
        )
        orders = orders.filter(pc.and_(pc.is_valid(orders["quantity"]), pc.greater(orders["quantity"], 0)))
        # Exports repeat an order when a till retries; keep each order's first row.
        first_rows = pc.index_in(pc.unique(orders["order_id"]), value_set=orders["order_id"])
        orders = orders.take(first_rows)
        self.output().write(
            orders.append_column("revenue", pc.multiply(orders["quantity"], orders["unit_price"]))
        )


class DailyTotals(SalesStep):
    """Revenue and units per store for the day."""

    def requires(self):
        return self.clone(CleanSales)

    def output(self):
        return ParquetTarget(f"{self.root}/daily/{self.date:%Y-%m-%d}.parquet")

    def run(self):
        orders = self.input().read()
        totals = orders.group_by("store").aggregate([("revenue", "sum"), ("quantity", "sum")])
        totals = totals.rename_columns(["store", "revenue", "units"]).sort_by("store")
        self.output().write(totals)


class SalesReport(SalesStep):
    """A Markdown table a human reads in the morning."""

    def requires(self):
        return self.clone(DailyTotals)

    def output(self):
        return FileTarget(f"{self.root}/reports/{self.date:%Y-%m-%d}.md")

    def run(self):
        totals = self.input().read().to_pylist()
        lines = [
            f"# Sales {self.date:%Y-%m-%d}",
            "",
            "| store | units | revenue |",
            "|---|---:|---:|",
            *(f"| {row['store']} | {row['units']} | {row['revenue']:.2f} |" for row in totals),
            f"| **total** | {sum(r['units'] for r in totals)} | {sum(r['revenue'] for r in totals):.2f} |",
        ]
        with self.output().open("w") as handle:
            handle.write("\n".join(lines) + "\n")
