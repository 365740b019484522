"""What the store answered to this process's own uploads, trusted for a moment within a run.

luigi checks that a task's outputs exist right after it runs, and its build record
fingerprints them: on S3 or GCS two more requests a task about objects the task has just
uploaded, whose upload answer (ETag, version, generation, hashes) already says it all. Within
:func:`trusting_own_writes` those answers are kept and ``FileTarget.exists()`` and
``fingerprint()`` use them; outside it every check asks the store, since another process may
have replaced or removed the object since.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

# The longest this process trusts what its own upload was answered with over asking again.
PUBLISHED_FRESH_S = 60.0
_PUBLISHED: dict[str, tuple[float, dict[str, Any]]] = {}
_remembering = 0  # nesting depth of trusting_own_writes()


@contextlib.contextmanager
def trusting_own_writes() -> Iterator[None]:
    """Within: what the store answered to this process's uploads is kept, and checks of those
    objects (``exists()``, ``fingerprint()``) use it instead of asking again, until
    :func:`forget_published` (a build system calls it once a task's outputs are recorded) or
    ``PUBLISHED_FRESH_S``. Outside it every check asks the store: another process may have
    replaced or removed the object since."""
    global _remembering
    _remembering += 1
    try:
        yield
    finally:
        _remembering -= 1
        if not _remembering:
            _PUBLISHED.clear()


def published_info(url: str) -> dict[str, Any] | None:
    """What the store answered when this process wrote ``url`` (see :func:`trusting_own_writes`),
    as fsspec's ``info()`` says it (name, size, type, ETag), or None."""
    found = _PUBLISHED.get(url)
    if found is None:
        return None
    if time.monotonic() - found[0] > PUBLISHED_FRESH_S:
        del _PUBLISHED[url]
        return None
    return dict(found[1])


def forget_published(url: str | None = None) -> None:
    """Stop trusting what was answered for ``url``, or for everything (``None``)."""
    if url is None:
        _PUBLISHED.clear()
    else:
        _PUBLISHED.pop(url, None)


def remember_published(url: str, info: dict[str, Any]) -> None:
    """What the store answered to this process's upload of ``url``, as ``info()`` would say it;
    kept only within :func:`trusting_own_writes`."""
    if _remembering:
        if len(_PUBLISHED) >= 100_000:
            _PUBLISHED.clear()
        _PUBLISHED[url] = (time.monotonic(), info)
