"""Build records: what a task was built from, written after its outputs are committed.

A record lives beside the task's first file output, in a hidden ``.dashpipe``
directory (``reports/.dashpipe/2026-11-24.md.json``), so every machine that
sees the outputs sees the records, and one listing of a directory finds them
all. Tasks without file outputs, or every task when ``[dashpipe] records`` is
set in luigi.cfg, keep records under that URL instead.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import inspect
import os
import posixpath
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import luigi
import luigi.configuration
import luigi.format
import orjson
from luigi.task import flatten

from pipelines.assessment.record_cache import RecordCache
from targets import BaseTarget, FileTarget
from targets.atomic import open_atomic
from targets.listing import observe_many
from targets.published import published_info
from targets.storage import redact_text

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
        # orjson serialises the dataclass itself: no deep copy through dataclasses.asdict.
        return orjson.dumps(self, option=orjson.OPT_SORT_KEYS).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> BuildRecord | None:
        try:
            data = orjson.loads(text)
            if data.get("format") != FORMAT:
                return None
            return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        except orjson.JSONDecodeError:
            return cls.unreadable()
        except (ValueError, TypeError, AttributeError):
            return None  # another shape (not written by dash-pipeline): treated as no record

    @classmethod
    def unreadable(cls) -> BuildRecord:
        """Stands for a record file that exists but is not whole JSON: its task rebuilds."""
        return cls("", "", {}, None, {}, {}, 0.0, 0.0, extra={"unreadable": True})

    @classmethod
    def interrupted_first_build(cls) -> BuildRecord:
        """Stands for the missing record of a first build that a run began and never finished."""
        return cls("", "", {}, None, {}, {}, 0.0, 0.0, extra={"building": True, "first build": True})


def public_params(task: luigi.Task) -> dict[str, str]:
    """The parameters that name the task, as text; private and hidden ones are never recorded,
    nor are passwords in URLs."""
    return {
        name: redact_text(value)
        for name, value in task.to_str_params(only_significant=True, only_public=True).items()
    }


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


def central_store() -> str | None:
    config = luigi.configuration.get_config()
    return config.get("dashpipe", "records", None) if config.has_section("dashpipe") else None


def durable_records() -> bool:
    config = luigi.configuration.get_config()
    return config.has_section("dashpipe") and config.getboolean("dashpipe", "durable_records", False)


@dataclass(frozen=True)
class RecordSettings:
    """luigi.cfg's record settings, read once per run: looked up per write they cost a task
    about 7 % of its time."""

    central: str | None
    durable: bool
    cache: RecordCache | None = None  # where records written to object stores are kept too

    @classmethod
    def current(cls) -> RecordSettings:
        return cls(central_store(), durable_records(), RecordCache.default())


# Where a task's build record is, the one rule (record_store reads by it, in bulk): beside the
# task's first file output, in RECORD_DIRECTORY, named after that output; for a task without
# file outputs, or with [dashpipe] records set, in the central store, named by central_record_name.


def first_file_output(outputs: Iterable[luigi.Target]) -> FileTarget | None:
    """The output a task's record sits beside, if it has a file output."""
    for output in outputs:
        file_target = as_file_target(output)
        if file_target is not None:
            return file_target
    return None


def record_path_beside(output_path: str) -> str:
    """The record's URL (or path) for a task whose first file output is at ``output_path``."""
    parent, name = posixpath.split(output_path.rstrip("/"))
    return posixpath.join(parent, RECORD_DIRECTORY, f"{name}.json")


def central_record_url(task: luigi.Task, central: str | None) -> str:
    return posixpath.join(central or DEFAULT_CENTRAL_STORE, central_record_name(task))


def record_place(
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


def record_target(task: luigi.Task, settings: RecordSettings | None = None) -> FileTarget:
    central = (settings or RecordSettings.current()).central
    output = None if central else first_file_output(flatten(task.output()))
    if output is not None:
        return FileTarget(record_path_beside(output.path), format=luigi.format.Nop, **output.storage_options)
    return FileTarget(central_record_url(task, central), format=luigi.format.Nop)


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


# From this many file targets on, one listing per directory beats a request per file.
LISTED_FROM = 8


def listed_together(targets: Iterable[luigi.Target]) -> dict[str, Any]:
    """What one listing per directory says of the file targets among ``targets``, by URL; nothing
    below ``LISTED_FROM`` of them, where asking about each costs less."""
    files = [target for target in targets if isinstance(target, FileTarget)]
    if len(files) < LISTED_FROM:
        return {}
    observed = observe_many(files)
    return {target.location.url: observed[id(target)] for target in files if id(target) in observed}


def fingerprints(
    keyed: Iterable[tuple[str, luigi.Target]], listed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Each target's fingerprint, from ``listed`` (see :func:`listed_together`) where it is there."""
    keyed = list(keyed)
    if listed is None:
        listed = listed_together(target for _, target in keyed)
    return {
        key: (
            target.fingerprint(listed=listed[target.location.url])
            if isinstance(target, FileTarget) and target.location.url in listed
            else fingerprint_of(target)
        )
        for key, target in keyed
    }


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


@functools.cache
def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def write_record(task: luigi.Task, record: BuildRecord, settings: RecordSettings | None = None) -> None:
    """Commit ``record`` for ``task``, replacing the old one atomically.

    On local disk it is not forced to disk (fsync), unlike outputs, unless luigi.cfg says
    ``[dashpipe] durable_records = true``: a record lost or cut short by a power cut leaves
    either an older record that no longer matches the outputs, or an unreadable one, or none,
    and the first two rebuild the task. Forcing records to disk costs each task four more
    flushes (see docs/staleness.md).
    """
    settings = settings or RecordSettings.current()
    target, data = record_target(task, settings), record.to_json().encode("utf-8")
    write_bytes(target, data, settings.durable)
    location = target.location
    # Under the version its upload was answered with, as a listing will report it: the next
    # check on this machine then reads no record.
    answered = None if location.is_local else published_info(location.url)
    if answered is not None and settings.cache is not None:
        settings.cache.put(settings.cache.key(location.fs.unstrip_protocol(location.path), answered), data)


def read_record(task: luigi.Task, settings: RecordSettings | None = None) -> BuildRecord | None:
    """One task's record as it is now, read directly (one request on object stores, no listing
    and no cache): for a record another process may have written a moment ago."""
    location = record_target(task, settings).location
    try:
        data = location.fs.cat_file(location.path)
    except FileNotFoundError:
        return None
    return BuildRecord.from_json(data)


def write_bytes(target: FileTarget, data: bytes, durable: bool) -> None:
    """Replace ``target`` with ``data`` atomically; on local disk forced to disk only if ``durable``."""
    if target.location.is_local:
        with open_atomic(target.location, durable=durable) as handle:
            handle.write(data)
    else:
        with target.open("w") as handle:
            handle.write(data)


def forget(task: luigi.Task) -> bool:
    target = record_target(task)
    if target.exists():
        target.remove()
        return True
    return False
