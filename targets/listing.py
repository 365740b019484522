"""Observing many file targets at once: one directory listing instead of one request per file.

A status over thousands of outputs would otherwise ask the store about each file; grouped by
directory, it asks once per directory (S3 returns up to 1,000 keys per listing request).
"""

from __future__ import annotations

import os
from typing import Any

from targets.file import FileTarget
from targets.fingerprint import MISSING
from targets.storage import storage_errors


def observed_in_bulk(target: Any) -> bool:
    """Whether ``observe_many`` looks at ``target``: a file, or a target whose class observes many
    of its own at once (``observe_all``, as HTTP inputs do with concurrent HEADs)."""
    return isinstance(target, FileTarget) or hasattr(type(target), "observe_all")


def observe_many(targets: list[Any]) -> dict[int, Any]:
    """What one listing per directory says of each file target: ``{id(target): stat, info or MISSING}``.

    Local directories are read with ``os.scandir``; object stores with one ``ls``
    per prefix (S3 returns up to 1,000 keys per request), after dropping fsspec's
    cached listing. A target class with an ``observe_all`` classmethod observes its own at once
    (HTTP: concurrent HEADs); targets of other kinds are left out. A directory where a file
    target expects a file raises :class:`~targets.errors.StorageError`, as ``exists()`` does.
    """
    groups: dict[tuple[int, str], list[Any]] = {}
    bulk: dict[Any, list[Any]] = {}  # targets of classes that observe many at once themselves
    for target in targets:
        if isinstance(target, FileTarget):
            location = target.location
            parent = os.path.dirname(location.path.rstrip("/"))
            groups.setdefault((id(location.fs) if not location.is_local else 0, parent), []).append(target)
        elif observed_in_bulk(target):
            bulk.setdefault(type(target), []).append(target)
    observed: dict[int, Any] = {}
    for target_class, members in bulk.items():
        observed.update(target_class.observe_all(members))
    for (_, parent), members in groups.items():
        location = members[0].location
        if location.is_local:
            entries = _scan_local(parent)
            for target in members:
                name = os.path.basename(target.location.path.rstrip("/"))
                marker = os.path.basename(target.directory_marker_path)
                observed[id(target)] = target.check_kind(entries.get(name, MISSING), marker in entries)
            continue
        fs = location.fs
        with storage_errors(fs.unstrip_protocol(parent), "list"):
            fs.invalidate_cache(parent)
            try:
                listing = {entry["name"].rstrip("/"): entry for entry in fs.ls(parent, detail=True)}
            except FileNotFoundError:
                listing = {}
        for target in members:
            entry = listing.get(target.location.path.rstrip("/"), MISSING)
            observed[id(target)] = target.check_kind(entry, target.directory_marker_path in listing)
    return observed


def _scan_local(directory: str) -> dict[str, os.stat_result]:
    try:
        with os.scandir(directory or ".") as entries:
            return {entry.name: entry.stat() for entry in entries}
    except (FileNotFoundError, NotADirectoryError):
        return {}
