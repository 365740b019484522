"""The YAML pipeline's steps (examples/sales/pipeline.yaml): plain functions of their inputs and outputs."""

from __future__ import annotations

import luigi.format

from examples.sales import transforms


def clean(inputs, outputs):
    with inputs["raw"].with_format(luigi.format.Nop).open("r") as handle:
        orders = transforms.read_orders_csv(handle)
    outputs["orders"].write(transforms.clean_orders(orders))


def totals(inputs, outputs):
    outputs["totals"].write(transforms.daily_totals(inputs["orders"].read()))


def report(inputs, outputs, params):
    with outputs["report"].open("w") as handle:
        handle.write(transforms.report_markdown(params["date"], inputs["totals"].read()))
