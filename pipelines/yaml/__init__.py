"""Pipelines declared in YAML: loading with positions, validation, compilation to luigi tasks."""
