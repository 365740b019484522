"""Storage layer of dash-pipeline: Target classes for any fsspec URL.

This package never imports :mod:`pipelines`.
"""

from targets.base import BaseTarget
from targets.errors import DashPipelineError, IncompleteOutputError, StorageError, TargetError
from targets.file import FileTarget
from targets.parquet import ParquetTarget
from targets.registry import ENTRY_POINT_GROUP, known_types, register, target_class, target_for_url

__all__ = [
    "ENTRY_POINT_GROUP",
    "BaseTarget",
    "DashPipelineError",
    "FileTarget",
    "IncompleteOutputError",
    "ParquetTarget",
    "StorageError",
    "TargetError",
    "known_types",
    "register",
    "target_class",
    "target_for_url",
]
