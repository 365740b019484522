"""Telling people: the end-of-run summary (text and JSON), notifications, Sentry, and the run
hooks called when a run ends.

May import: ``pipelines.execute`` (outcomes), ``pipelines.assessment``, ``pipelines.common``,
``pipelines.errors``, ``targets``.
"""
