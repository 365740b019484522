"""Callables used by the YAML pipelines in tests/data/yaml."""

from __future__ import annotations


def write_greeting(outputs, params):
    with outputs["greeting"].open("w") as handle:
        handle.write(f"hello {params['who']} on {params['day']}\n")


def shout(inputs, outputs):
    with inputs["text"].open("r") as source, outputs["loud"].open("w") as destination:
        destination.write(source.read().upper())


def everything(**kwargs):
    with kwargs["outputs"]["seen"].open("w") as handle:
        handle.write(",".join(sorted(kwargs)) + "\n")


def fail(outputs):
    raise RuntimeError("this step always fails")
