"""What a run is about to build, one small file per record directory.

A task whose run is killed after it published its outputs but before its record was written
must count as stale, even on its first build. A "building" record per task says so, at the
price of a second record write per task (a file create and rename on disk, a PUT on object
stores). A run writes one journal per record directory instead, before its first task starts,
naming the records of every task it plans to build there. A reader treats a named record as
unfinished while it is older than the journal (or missing); a record the run writes afterwards
is newer, so it settles its task. The run deletes its journals when it ends, after writing a
"building" record for each task that started but did not finish (it failed, or was stopped):
those must stay stale once the journal is gone. A journal left behind by a killed run keeps
its unfinished tasks stale until they are built again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import posixpath
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import luigi
import luigi.format
import orjson

from pipelines.assessment.graph import guarded, is_external
from pipelines.assessment.records import (
    FORMAT,
    BuildRecord,
    RecordSettings,
    record_place,
    record_target,
    write_bytes,
)
from targets import FileTarget
from targets.errors import DashPipelineError
from targets.storage import storage_errors

JOURNAL_PREFIX = ".dashpipe-run-"


def is_journal(name: str) -> bool:
    return name.startswith(JOURNAL_PREFIX) and name.endswith(".json")


@dataclass(frozen=True)
class Journal:
    """One journal as read: when its run began, and the names of the records it was to write."""

    begun: float
    records: frozenset[str]
    host: str
    pid: int

    @classmethod
    def from_json(cls, data: bytes) -> Journal | None:
        """None for a journal that is not whole (a power cut during its write): it covers nothing."""
        try:
            parsed = orjson.loads(data)
            if parsed.get("format") != FORMAT:
                return None
            records = frozenset(str(name) for name in parsed["records"])
            return cls(float(parsed["begun"]), records, str(parsed["host"]), int(parsed["pid"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return None

    def left_by_a_dead_run(self) -> bool:
        """Whether its run is known to be gone: it ran on this machine and its process is not
        there. A run on another machine may still be going, and is left alone."""
        if self.host != socket.gethostname() or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # there, but another user's
        return False


def unfinished(record: BuildRecord | None, record_path: str, journals: Iterable[Journal]) -> bool:
    """Whether a journal names this record and the record on hand predates it."""
    name = posixpath.basename(record_path)
    return any(
        name in journal.records and (record is None or record.started < journal.begun) for journal in journals
    )


def as_interrupted(record: BuildRecord | None) -> BuildRecord:
    """The record a reader sees for a build a journal shows unfinished."""
    if record is None:
        return BuildRecord.interrupted_first_build()
    return dataclasses.replace(record, extra={**record.extra, "building": True})


class BuildJournal:
    """The journals of one run. ``plan`` groups the tasks by record directory; a directory's
    journal is written when the first of its tasks starts, so a run that starts nothing there
    writes nothing there; ``finish`` deletes them."""

    def __init__(self, groups: list[_Group], settings: RecordSettings) -> None:
        self._groups = groups
        self._group_of = {task_id: group for group in groups for task_id in group.task_ids}
        self._settings = settings
        # Earlier than any task of the run starts: each record the run writes is newer.
        self._header = {
            "format": FORMAT,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "begun": time.time(),
        }

    @classmethod
    def plan(cls, tasks: Iterable[luigi.Task], settings: RecordSettings) -> BuildJournal:
        by_directory: defaultdict[tuple[int, str], list[tuple[luigi.Task, str]]] = defaultdict(list)
        for task in tasks:
            if is_external(task):
                continue
            try:
                place = functools.partial(record_place, task, None, settings.central)
                fs, directory, path = guarded(task, "output()", place)
            except DashPipelineError:
                continue  # not covered: it gets a "building" record of its own if it ever starts
            by_directory[(id(fs), directory)].append((task, posixpath.basename(path)))
        run = uuid.uuid4().hex[:12]
        groups = [_Group(entries, f"{JOURNAL_PREFIX}{run}.json") for entries in by_directory.values()]
        return cls(groups, settings)

    def covers(self, task_id: str, warn: Callable[[str], None]) -> bool:
        """Whether the run's journal names the record of ``task_id``, written now if it is not yet:
        call it before the task starts."""
        group = self._group_of.get(task_id)
        if group is None or group.failed:
            return False
        if group.target is None:
            try:
                group.write(self._header, self._settings)
            except (DashPipelineError, OSError) as exc:
                group.failed = True
                warn(f"build journal not written ({exc}); its tasks get a record each before they run")
                return False
        return True

    def written(self, task_id: str) -> bool:
        group = self._group_of.get(task_id)
        return group is not None and group.target is not None

    def finish(self, warn: Callable[[str], None]) -> None:
        """Delete the journals; call it only once every covered task that started has a record
        of its own, final or "building". Journals that killed runs left in the same
        directories go too, once every build they name has a newer record."""
        for target in [group.target for group in self._groups if group.target is not None]:
            location = target.location
            try:
                # A journal is a file the run wrote: no directory marker to look for beside it.
                with storage_errors(location.url, "remove"):
                    location.fs.rm_file(location.path)
                    location.fs.invalidate_cache(posixpath.dirname(location.path))
            except (DashPipelineError, OSError) as exc:
                warn(f"build journal not removed ({exc}): its unbuilt tasks count as stale")
                continue
            # One left behind costs a read per check, and keeps nothing from building.
            with contextlib.suppress(OSError):
                _remove_settled_journals(target.location.fs, posixpath.dirname(target.location.path))
        self._groups.clear()
        self._group_of.clear()


class _Group:
    """The tasks of one run whose records share a directory, and their journal there."""

    def __init__(self, entries: list[tuple[luigi.Task, str]], name: str) -> None:
        self.task_ids = {task.task_id for task, _ in entries}
        self._anchor = entries[0][0]
        self._records = sorted({record for _, record in entries})
        self._name = name
        self.target: FileTarget | None = None
        self.failed = False

    def write(self, header: dict[str, Any], settings: RecordSettings) -> None:
        anchor = record_target(self._anchor, settings)
        target = FileTarget(
            posixpath.join(posixpath.dirname(anchor.url), self._name),
            format=luigi.format.Nop,
            **anchor.storage_options,
        )
        write_bytes(target, orjson.dumps({**header, "records": self._records}), settings.durable)
        self.target = target


def _remove_settled_journals(fs: Any, directory: str) -> None:
    fs.invalidate_cache(directory)
    for path in fs.ls(directory, detail=False):
        if not is_journal(posixpath.basename(path)):
            continue
        journal = Journal.from_json(fs.cat_file(path))
        if journal is None or not journal.left_by_a_dead_run():
            continue
        found = fs.cat([posixpath.join(directory, name) for name in journal.records], on_error="omit")
        records = {
            posixpath.basename(each): BuildRecord.from_json(data)
            for each, data in found.items()
            if isinstance(data, bytes)
        }
        if not any(unfinished(records.get(name), name, [journal]) for name in journal.records):
            fs.rm_file(path)
