"""What the external inputs of a graph are right now, in one bulk look, and waiting until that
changes and settles.

An input's identity is what its listing says (local: size, modification time and inode; S3:
size and ETag; GCS: size and generation), never a read of its bytes, so a look at 10,000 inputs
costs one listing per directory or prefix (a request per 1,000 keys on S3). Inputs that are not
files (a MySQL table) are asked whether they exist. Only declared inputs are looked at, so a
file being uploaded under a staging name, or anything else in the directory, is no event.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import luigi
from luigi.task import flatten

from pipelines.assessment.graph import Graph, is_external
from targets import FileTarget
from targets.fingerprint import MISSING
from targets.listing import observe_many

Snapshot = dict[str, Any]  # input URL -> its identity (None: absent)


def external_inputs(graph: Graph) -> list[luigi.Target]:
    """The outputs of the graph's external tasks: what arrives from outside."""
    return [target for task in graph.order if is_external(task) for target in flatten(task.output())]


def snapshot(targets: Iterable[luigi.Target]) -> Snapshot:
    targets = list(targets)
    files = [target for target in targets if isinstance(target, FileTarget)]
    observed = observe_many(files) if files else {}
    found: Snapshot = {}
    for target in targets:
        if isinstance(target, FileTarget):
            found[target.location.url] = _identity(observed.get(id(target), MISSING))
        else:
            found[str(target)] = bool(target.exists())
    return found


def _identity(observed: Any) -> Any:
    if observed is MISSING or observed is None:
        return None
    if isinstance(observed, os.stat_result):
        return (observed.st_size, observed.st_mtime_ns, observed.st_ino)
    if isinstance(observed, dict):
        version = next(
            (
                observed[key]
                for key in ("ETag", "etag", "generation", "md5Hash", "mtime", "LastModified")
                if key in observed
            ),
            None,
        )
        return (observed.get("size"), str(version))
    return str(observed)


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The inputs whose identity differs, by URL."""
    return sorted(url for url in before.keys() | after.keys() if before.get(url) != after.get(url))


def wait_for_change(
    look: Callable[[], Snapshot],
    since: Snapshot,
    interval: float,
    settle: float,
    stop: threading.Event,
    wake: threading.Event | None = None,
    deadline: float | None = None,
    noticed: Callable[[list[str]], None] = lambda moved: None,
) -> Snapshot | None:
    """Look every ``interval`` seconds (sooner when ``wake`` is set) until the inputs differ from
    ``since``, then until two looks ``settle`` seconds apart agree: a file still being written is
    no event. The settled snapshot; ``since`` itself once the wall clock reaches ``deadline``
    (a scheduled slot came due); None once ``stop`` is set. ``noticed`` is told of each change
    seen before it settles."""
    current = since
    while not stop.is_set():
        pause = interval if deadline is None else max(0.0, min(interval, deadline - time.time()))
        if wake is not None:
            wake.wait(pause)
            wake.clear()
        else:
            stop.wait(pause)
        if stop.is_set():
            return None
        if deadline is not None and time.time() >= deadline:
            return since
        current = look()
        if current == since:
            continue
        noticed(changed(since, current))
        while not stop.wait(settle):
            again = look()
            if again == current:
                return current
            current = again
    return None
