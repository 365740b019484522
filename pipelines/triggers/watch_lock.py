"""One watcher per pipeline and parameters on a machine: a lock file in the user's state directory."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO

from pipelines.triggers.errors import WatchError


def lock_path(identity: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return Path(base) / "dashpipe" / "watch" / f"{digest}.lock"


class WatchLock:
    """Held while the watcher runs; released by the kernel when its process ends, however it ends."""

    def __init__(self, identity: str, what: str) -> None:
        self.path = lock_path(identity)
        self.what = what
        self._handle: IO[str] | None = None

    def __enter__(self) -> WatchLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise WatchError(
                f"another watcher keeps {self.what} built on this machine (pid {holder}); "
                "stop it first, or watch other goals or parameters"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
