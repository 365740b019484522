"""Pipelines declared in YAML: loading with positions, validation, compilation to luigi tasks.

May import: ``pipelines.task``, ``pipelines.loading``, ``pipelines.common``, ``pipelines.errors``,
``targets``. The steps it compiles are plain luigi tasks to every layer above.
"""
