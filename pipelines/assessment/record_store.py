"""Reading build records in bulk: one listing per record directory, and a local cache for
records on object stores, so that a check of thousands of tasks costs few requests."""

from __future__ import annotations

import contextlib
import functools
import os
import posixpath
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import luigi
import luigi.configuration
from fsspec.implementations.local import LocalFileSystem

from pipelines.assessment.build_journal import Journal, as_interrupted, is_journal, unfinished
from pipelines.assessment.graph import guarded, is_external
from pipelines.assessment.record_cache import RecordCache
from pipelines.assessment.records import BuildRecord, central_store, record_place
from targets.storage import storage_errors


def read_records(
    tasks: Iterable[luigi.Task], outputs: dict[str, list[luigi.Target]] | None = None
) -> dict[str, BuildRecord | None]:
    """The record of each task, with one listing per record directory and reads only of what it found.

    ``outputs`` (task id → flattened outputs) saves calling output() again.
    """
    by_directory: dict[tuple[int, str], list[tuple[luigi.Task, Any, str]]] = defaultdict(list)
    central = central_store()
    for task in tasks:
        if is_external(task):
            continue
        known = outputs.get(task.task_id) if outputs else None
        place = functools.partial(record_place, task, known, central)
        fs, directory, path = guarded(task, "output()", place)
        by_directory[(id(fs), directory)].append((task, fs, path))
    records: dict[str, BuildRecord | None] = {}
    for (_, directory), entries in by_directory.items():
        fs = entries[0][1]
        contents, journals = _read_directory(fs, directory, [path for _, _, path in entries])
        for task, _, path in entries:
            raw = contents.get(path)
            record = BuildRecord.from_json(raw) if raw is not None else None
            if journals and unfinished(record, path, journals):
                record = as_interrupted(record)
            records[task.task_id] = record
    return records


def _read_directory(fs: Any, directory: str, wanted: list[str]) -> tuple[dict[str, bytes], list[Journal]]:
    """The wanted records found in ``directory``, and the journals of runs that began builds there."""
    if isinstance(fs, LocalFileSystem):
        try:
            present = set(os.listdir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return {}, []
        contents: dict[str, bytes] = {}
        for path in [*wanted, *(posixpath.join(directory, name) for name in present if is_journal(name))]:
            if posixpath.basename(path) in present:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError), open(path, "rb") as handle:
                    contents[path] = handle.read()
        return contents, _journals_in(contents)
    with storage_errors(fs.unstrip_protocol(directory), "read build records in"):
        fs.invalidate_cache(directory)
        try:
            listing = {entry["name"].rstrip("/"): entry for entry in fs.ls(directory, detail=True)}
        except FileNotFoundError:
            return {}, []
        cache = RecordCache.default()
        contents = {}
        # Journals are read every time: they are few, and only while a run is under way or after
        # one was killed.
        to_fetch: dict[str, str] = {path: "" for path in listing if is_journal(posixpath.basename(path))}
        for path in wanted:
            entry = listing.get(path)
            if entry is None:
                continue
            key = cache.key(fs.unstrip_protocol(path), entry)
            cached = cache.get(key) if key else None
            if cached is not None:
                contents[path] = cached
            else:
                to_fetch[path] = key
        if to_fetch:
            fetched = fs.cat(list(to_fetch), on_error="omit")
            for path, data in fetched.items():
                if isinstance(data, bytes):
                    contents[path] = data
                    cache.put(to_fetch[path], data)
        return contents, _journals_in(contents)


def _journals_in(contents: dict[str, bytes]) -> list[Journal]:
    journals = [
        Journal.from_json(data) for path, data in contents.items() if is_journal(posixpath.basename(path))
    ]
    return [journal for journal in journals if journal is not None]
