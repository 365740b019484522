"""The local cache of build records read from object stores, by the version the store reports.

A later check of thousands of tasks then needs the listing only, not one read per task; a run
puts what it writes there too, so the first check after a build on the same machine reads
nothing either.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import luigi.configuration


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
