"""Storage layer of dash-pipeline: Target classes for any fsspec URL.

This package never imports :mod:`pipelines`.
"""

from typing import Any

from targets.base import BaseTarget
from targets.errors import DashPipelineError, IncompleteOutputError, StorageError, TargetError
from targets.file import FileTarget
from targets.registry import ENTRY_POINT_GROUP, known_types, register, target_class, target_for_url


def __getattr__(name: str) -> Any:
    # ParquetTarget needs pyarrow (a tenth of a second to import), MySqlTableTarget pymysql:
    # only when asked for.
    if name == "ParquetTarget":
        from targets.parquet import ParquetTarget

        return ParquetTarget
    if name == "MySqlTableTarget":
        from targets.mysql import MySqlTableTarget

        return MySqlTableTarget
    raise AttributeError(f"module 'targets' has no attribute {name!r}")


__all__ = [
    "ENTRY_POINT_GROUP",
    "BaseTarget",
    "DashPipelineError",
    "FileTarget",
    "IncompleteOutputError",
    "MySqlTableTarget",
    "ParquetTarget",
    "StorageError",
    "TargetError",
    "known_types",
    "register",
    "target_class",
    "target_for_url",
]
