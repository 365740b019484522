"""Reading build records in bulk: one listing per record directory, and a local cache for
records on object stores, so that a check of thousands of tasks costs few requests."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import posixpath
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import luigi
import luigi.configuration
from fsspec.implementations.local import LocalFileSystem
from luigi.task import flatten

from pipelines.assessment.graph import guarded, is_external
from pipelines.assessment.records import (
    BuildRecord,
    central_record_url,
    central_store,
    first_file_output,
    record_path_beside,
)
from targets import FileTarget
from targets.storage import storage_errors


def _record_place(
    task: luigi.Task, outputs: list[luigi.Target] | None, central: str | None
) -> tuple[Any, str, str]:
    """(filesystem, directory, path) of the task's record, without building a target per task."""
    output = (
        None if central else first_file_output(outputs if outputs is not None else flatten(task.output()))
    )
    if output is not None:
        path = record_path_beside(output.location.path)
        return output.location.fs, posixpath.dirname(path), path
    location = FileTarget(central_record_url(task, central)).location
    return location.fs, posixpath.dirname(location.path), location.path


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
        place = functools.partial(_record_place, task, known, central)
        fs, directory, path = guarded(task, "output()", place)
        by_directory[(id(fs), directory)].append((task, fs, path))
    records: dict[str, BuildRecord | None] = {}
    for (_, directory), entries in by_directory.items():
        fs = entries[0][1]
        contents = _read_directory(fs, directory, [path for _, _, path in entries])
        for task, _, path in entries:
            raw = contents.get(path)
            records[task.task_id] = BuildRecord.from_json(raw) if raw is not None else None
    return records


def _read_directory(fs: Any, directory: str, wanted: list[str]) -> dict[str, bytes]:
    if isinstance(fs, LocalFileSystem):
        contents: dict[str, bytes] = {}
        for path in wanted:
            try:
                with open(path, "rb") as handle:
                    contents[path] = handle.read()
            except (FileNotFoundError, NotADirectoryError):
                pass
        return contents
    with storage_errors(fs.unstrip_protocol(directory), "read build records in"):
        fs.invalidate_cache(directory)
        try:
            listing = {entry["name"].rstrip("/"): entry for entry in fs.ls(directory, detail=True)}
        except FileNotFoundError:
            return {}
        cache = RecordCache.default()
        contents = {}
        to_fetch: dict[str, str] = {}  # path -> cache key
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
        return contents


class RecordCache:
    """Records fetched from object stores, kept locally under the version the listing reports
    (S3 ETag, GCS generation): a later status needs the listing only, not one read per task.
    Records hold no secrets; the cache can be deleted at any time."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> RecordCache:
        config = luigi.configuration.get_config()
        configured = config.get("dashpipe", "cache_dir", None) if config.has_section("dashpipe") else None
        base = (
            configured or os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        )
        directory = (
            Path(base) / "dash-pipeline" / "records" if not configured else Path(configured) / "records"
        )
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            return cls(None)  # no writable cache: read from storage every time
        return cls(directory)

    def key(self, url: str, entry: dict[str, Any]) -> str:
        version = entry.get("ETag") or entry.get("generation") or entry.get("md5Hash")
        if not version or self.directory is None:
            return ""
        return hashlib.sha256(f"{url}\n{version}\n{entry.get('size')}".encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        try:
            return (self.directory / key).read_bytes() if self.directory else None
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        if not key or self.directory is None:
            return
        staging = self.directory / f".{key}.{os.getpid()}"
        try:
            staging.write_bytes(data)
            os.replace(staging, self.directory / key)
        except OSError:
            with contextlib.suppress(OSError):
                staging.unlink()
