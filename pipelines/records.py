"""Build records: what a task was built from, written after its outputs are committed.

A record lives beside the task's first file output, in a hidden ``.dashpipe``
directory (``reports/.dashpipe/2026-11-24.md.json``), so every machine that
sees the outputs sees the records, and one listing of a directory finds them
all. Tasks without file outputs, or every task when ``[dashpipe] records`` is
set in luigi.cfg, keep records under that URL instead.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import hashlib
import inspect
import os
import posixpath
import re
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import luigi
import luigi.configuration
import luigi.format
import orjson
from fsspec.implementations.local import LocalFileSystem
from luigi.task import flatten

from pipelines.graph import guarded, is_external
from targets import BaseTarget, FileTarget
from targets.storage import storage_errors

RECORD_DIRECTORY = ".dashpipe"
DEFAULT_CENTRAL_STORE = ".dashpipe/records"
FORMAT = 1


@dataclass
class BuildRecord:
    task_id: str
    family: str
    params: dict[str, str]
    version: str | None
    inputs: dict[str, Any]  # URL -> fingerprint (None: existence only)
    outputs: dict[str, Any]
    started: float
    finished: float
    host: str = ""
    user: str = ""
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    def to_json(self) -> str:
        return orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> BuildRecord | None:
        try:
            data = orjson.loads(text)
            if data.get("format") != FORMAT:
                return None
            return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
            return None  # unreadable: treated as no record


def public_params(task: luigi.Task) -> dict[str, str]:
    """The parameters that name the task, as text; private and hidden ones are never recorded."""
    return task.to_str_params(only_significant=True, only_public=True)


SOURCE_VERSION = "source"


def code_version(task: luigi.Task) -> str | None:
    """The task's ``version``; ``version = "source"`` opts in to a digest of the code itself,
    so any edit (cosmetic ones too) makes the task stale."""
    version = getattr(task, "version", None)
    if version is None or callable(version):
        return None
    if str(version) == SOURCE_VERSION:
        return f"source {_source_digest(type(task))}"
    return str(version)


@functools.cache
def _source_digest(task_class: type) -> str:
    code_of = getattr(task_class, "code_for_version", None)  # YAML steps: the function or command they run
    try:
        text = code_of() if code_of else inspect.getsource(task_class)
    except (OSError, TypeError):
        text = task_class.__qualname__
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def as_file_target(target: luigi.Target) -> FileTarget | None:
    if isinstance(target, FileTarget):
        return target
    if isinstance(target, luigi.LocalTarget):
        return FileTarget(target.path)
    return None


def _central_store() -> str | None:
    config = luigi.configuration.get_config()
    return config.get("dashpipe", "records", None) if config.has_section("dashpipe") else None


def record_target(task: luigi.Task) -> FileTarget:
    central = _central_store()
    if not central:
        for output in flatten(task.output()):
            file_target = as_file_target(output)
            if file_target is not None:
                parent, name = posixpath.split(file_target.path.rstrip("/"))
                url = posixpath.join(parent, RECORD_DIRECTORY, f"{name}.json")
                return FileTarget(url, format=luigi.format.Nop, **file_target._storage_options)
    return FileTarget(
        posixpath.join(central or DEFAULT_CENTRAL_STORE, central_record_name(task)), format=luigi.format.Nop
    )


def central_record_name(task: luigi.Task) -> str:
    """Named by family and outputs, not task id: a changed parameter must find the old record."""
    outputs = [
        key if not key.startswith(f"{task.task_id}#") else key.split("#", 1)[1]
        for key, _ in keyed_outputs(task)
    ]
    digest = hashlib.sha256("\n".join(outputs).encode("utf-8")).hexdigest()[:16]
    family = re.sub(r"[^A-Za-z0-9_.=-]", "_", task.get_task_family())
    return f"{family}--{digest}.json"


def target_key(target: luigi.Target, owner_id: str, index: int) -> str:
    """How a record names a target: its URL, or, for a target whose str() is not stable
    (luigi's database targets), the task that makes it and its position there."""
    if type(target).__str__ is object.__str__:
        return f"{owner_id}#output{index}"
    return str(target)


def keyed_outputs(
    task: luigi.Task, outputs: list[luigi.Target] | None = None
) -> list[tuple[str, luigi.Target]]:
    outputs = outputs if outputs is not None else flatten(task.output())
    return [(target_key(target, task.task_id, index), target) for index, target in enumerate(outputs)]


def keyed_inputs(
    task: luigi.Task, dependency_outputs: list[tuple[str, list[luigi.Target]]] | None = None
) -> list[tuple[str, luigi.Target]]:
    """The outputs of the tasks ``task`` needs, keyed as their makers' records key them."""
    if dependency_outputs is None:
        needed = [d for d in flatten(task.requires()) if isinstance(d, luigi.Task)]
        dependency_outputs = [(d.task_id, flatten(d.output())) for d in needed]
    return [
        (target_key(target, owner, index), target)
        for owner, targets in dependency_outputs
        for index, target in enumerate(targets)
    ]


def fingerprint_of(target: luigi.Target) -> Any:
    if isinstance(target, BaseTarget):
        return target.fingerprint()
    if isinstance(target, luigi.LocalTarget):
        return FileTarget(target.path).fingerprint()
    return None


def fingerprints(keyed: Iterable[tuple[str, luigi.Target]]) -> dict[str, Any]:
    return {key: fingerprint_of(target) for key, target in keyed}


def make_record(
    task: luigi.Task,
    started: float,
    finished: float,
    inputs: dict[str, Any] | None = None,
    building: bool = False,
) -> BuildRecord:
    """The record of ``task``. ``inputs`` are the fingerprints taken before it ran (else now);
    ``building`` marks the record written before a run, so an interrupted build shows as stale."""
    return BuildRecord(
        task_id=task.task_id,
        family=task.get_task_family(),
        params=public_params(task),
        version=code_version(task),
        inputs=inputs if inputs is not None else fingerprints(keyed_inputs(task)),
        outputs={} if building else fingerprints(keyed_outputs(task)),
        started=started,
        finished=finished,
        host=socket.gethostname(),
        user=_user(),
        extra={"building": True} if building else {},
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def write_record(task: luigi.Task, record: BuildRecord) -> None:
    """Commit ``record`` for ``task``; atomic like any output."""
    with record_target(task).open("w") as handle:
        handle.write(record.to_json().encode("utf-8"))


def forget(task: luigi.Task) -> bool:
    target = record_target(task)
    if target.exists():
        target.remove()
        return True
    return False


def _record_place(
    task: luigi.Task, outputs: list[luigi.Target] | None, central: str | None
) -> tuple[Any, str, str]:
    """(filesystem, directory, path) of the task's record, without building a target per task."""
    if not central:
        for output in outputs if outputs is not None else flatten(task.output()):
            file_target = as_file_target(output)
            if file_target is not None:
                location = file_target.location
                parent, name = posixpath.split(location.path.rstrip("/"))
                directory = posixpath.join(parent, RECORD_DIRECTORY)
                return location.fs, directory, posixpath.join(directory, f"{name}.json")
    target = record_target(task)
    return target.location.fs, posixpath.dirname(target.location.path), target.location.path


def read_records(
    tasks: Iterable[luigi.Task], outputs: dict[str, list[luigi.Target]] | None = None
) -> dict[str, BuildRecord | None]:
    """The record of each task, with one listing per record directory and reads only of what it found.

    ``outputs`` (task id → flattened outputs) saves calling output() again.
    """
    by_directory: dict[tuple[int, str], list[tuple[luigi.Task, Any, str]]] = defaultdict(list)
    central = _central_store()
    for task in tasks:
        if is_external(task):
            continue
        known = outputs.get(task.task_id) if outputs else None
        fs, directory, path = guarded(
            task, "output()", lambda task=task, known=known: _record_place(task, known, central)
        )
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
        contents = {}
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
        contents: dict[str, bytes] = {}
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
