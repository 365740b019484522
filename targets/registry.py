"""Find the Target class for a type name or a URL scheme.

Built-in types are registered as lazy ``"module:Class"`` strings, like fsspec's
``known_implementations``. Other packages add theirs through the entry-point
group ``dash_pipeline.targets`` (name = type name, value = ``module:Class``), or
at run time with :func:`register`. A type name is also the URL scheme it
handles unless the class lists other ``schemes``; a URL whose scheme names no
registered type is a file on an fsspec filesystem.
"""

from __future__ import annotations

import difflib
import importlib
import os
from importlib.metadata import entry_points
from typing import Any

from targets.base import BaseTarget
from targets.errors import TargetError

ENTRY_POINT_GROUP = "dash_pipeline.targets"
DEFAULT_TYPE = "file"

_registry: dict[str, type[BaseTarget] | str] = {
    "file": "targets.file:FileTarget",
    "parquet": "targets.parquet:ParquetTarget",
    "mysql": "targets.mysql:MySqlTableTarget",
    "http": "targets.http:HttpTarget",
}
_schemes: dict[str, str] = {"https": "http"}  # before the lazy class is imported and claims it
_entry_points_loaded = False


def register(name: str, target_class: type[BaseTarget] | str, *, override: bool = False) -> None:
    """Make ``target_class`` (a class or a lazy ``"module:Class"``) available as ``name``."""
    _load_entry_points()
    if not name.isidentifier():
        raise TargetError(f"target type name {name!r} must be a Python identifier")
    if name in _registry and not override and _registry[name] != target_class:
        raise TargetError(f"target type {name!r} is already registered; pass override=True to replace it")
    _registry[name] = target_class
    if isinstance(target_class, type):
        _claim_schemes(name, target_class)


def _claim_schemes(name: str, target_class: type[BaseTarget]) -> None:
    for scheme in target_class.schemes:
        _schemes[scheme] = name


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        # Built-ins win: a plugin cannot silently replace how every file is handled.
        _registry.setdefault(entry.name, entry.value)


def _import(spec: str, name: str) -> type[BaseTarget]:
    module_name, _, class_name = spec.partition(":")
    try:
        target_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise TargetError(
            f"target type {name!r} points at {spec!r}, which cannot be imported: {exc}"
        ) from None
    if not (isinstance(target_class, type) and issubclass(target_class, BaseTarget)):
        raise TargetError(
            f"target type {name!r} points at {spec!r}, which is not a targets.BaseTarget subclass"
        )
    return target_class


def known_types() -> list[str]:
    _load_entry_points()
    return sorted(_registry)


def target_class(name: str) -> type[BaseTarget]:
    """The class registered as ``name``, imported on first use."""
    _load_entry_points()
    try:
        entry = _registry[name]
    except KeyError:
        hint = difflib.get_close_matches(name, _registry, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        raise TargetError(
            f"unknown target type {name!r} (known: {', '.join(known_types())}){suggestion}"
        ) from None
    if isinstance(entry, str):
        entry = _import(entry, name)
        _registry[name] = entry
        _claim_schemes(name, entry)
    return entry


def type_for_url(url: str) -> str:
    """The type name that handles ``url`` when no type is given."""
    _load_entry_points()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in _schemes:
        return _schemes[scheme]
    if scheme and scheme != DEFAULT_TYPE and scheme in _registry:
        return scheme
    return DEFAULT_TYPE


def target_for_url(url: str, type: str | None = None, **options: Any) -> BaseTarget:
    """Build the target for ``url``: of ``type`` when given, else chosen by the URL's scheme."""
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url:
        raise TargetError(f"a target URL must be a non-empty string, got {url!r}")
    return target_class(type or type_for_url(url))(url, **options)
