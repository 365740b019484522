"""Nightly sales: raw CSV → cleaned Parquet → daily totals per store → a small report.

Run it (from the repository root):

    dashpipe run examples/sales/pipeline.py:SalesReport --date 2026-11-24

Outputs go under ``--root`` (default ``build/sales``); point it at
``s3://bucket/sales`` or ``gs://bucket/sales`` and nothing else changes.
The same pipeline declared in YAML: ``examples/sales/pipeline.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import luigi
import luigi.format

from examples.sales import transforms
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
        with self.input().with_format(luigi.format.Nop).open("r") as handle:
            orders = transforms.read_orders_csv(handle)
        self.output().write(transforms.clean_orders(orders))


class DailyTotals(SalesStep):
    """Revenue and units per store for the day."""

    def requires(self):
        return self.clone(CleanSales)

    def output(self):
        return ParquetTarget(f"{self.root}/daily/{self.date:%Y-%m-%d}.parquet")

    def run(self):
        self.output().write(transforms.daily_totals(self.input().read()))


class SalesReport(SalesStep):
    """A Markdown table a human reads in the morning."""

    def requires(self):
        return self.clone(DailyTotals)

    def output(self):
        return FileTarget(f"{self.root}/reports/{self.date:%Y-%m-%d}.md")

    def run(self):
        with self.output().open("w") as handle:
            handle.write(transforms.report_markdown(self.date, self.input().read()))
