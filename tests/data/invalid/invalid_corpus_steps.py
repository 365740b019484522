"""Step functions for the invalid-pipeline corpus (imported by tests/data/invalid/*.yaml)."""


def needs_config(inputs, outputs, config):
    """Wrong on purpose: steps are called only with inputs, outputs and params."""
    raise AssertionError("never called: the pipeline that names it is invalid")


def notify_run(summary, channel):
    """Wrong on purpose: run hooks are called only with summary and text."""
    raise AssertionError("never called: the pipeline that names it is invalid")
