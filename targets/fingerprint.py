"""Fingerprints: what identifies the current version of a stored file, cheapest first.

A fingerprint is a small JSON-able dict with a ``kind``. Two fingerprints are
compared for *content*, never for "newer than": mtimes lie on object storage and
across machines. Local files are identified by (size, mtime_ns, inode) and, when
those change, by a SHA-256 of their bytes; S3 objects by ETag and size; GCS
objects by MD5 or CRC32C and size; anything else by its bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat as stat_module
from collections.abc import Callable
from typing import Any

Fingerprint = dict[str, Any]
_CHUNK = 1 << 20


# SHA-256s of local files computed as they were written (targets.atomic), with the identity of
# the file they were computed for: the build record written just after need not read the file
# back. A file changed since has another (inode, size, mtime) and is read as before.
_WRITTEN_DIGESTS: dict[str, tuple[tuple[int, int, int], str]] = {}
_MOST_REMEMBERED = 100_000


def _identity(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def remember_digest(path: str, stat: os.stat_result, sha256: str) -> None:
    """``sha256`` is the content of the file at ``path`` while it is as ``stat`` describes it."""
    if len(_WRITTEN_DIGESTS) >= _MOST_REMEMBERED:
        _WRITTEN_DIGESTS.clear()
    _WRITTEN_DIGESTS[path] = (_identity(stat), sha256)


def sha256_of_file(path: str, stat: os.stat_result | None = None) -> str:
    """The file's SHA-256; read from disk unless it was computed as this very file was written."""
    remembered = _WRITTEN_DIGESTS.get(path)
    if remembered is not None and remembered[0] == _identity(stat or os.stat(path)):
        return remembered[1]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_fingerprint(path: str, stat: os.stat_result | None = None, with_hash: bool = False) -> Fingerprint:
    stat = stat or os.stat(path)
    fingerprint: Fingerprint = {
        "kind": "local",
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ino": stat.st_ino,
    }
    if with_hash:
        fingerprint["sha256"] = sha256_of_file(path, stat)
    return fingerprint


def remote_fingerprint(protocol: str, info: dict[str, Any], read_bytes: Callable[[], bytes]) -> Fingerprint:
    """From an fsspec ``info()`` or listing entry; ``read_bytes`` is used only where no checksum exists."""
    size = info.get("size")
    if protocol == "s3":
        fingerprint = {
            "kind": "s3",
            "size": size,
            "etag": str(info.get("ETag") or info.get("etag") or "").strip('"'),
        }
        if info.get("VersionId"):
            fingerprint["version_id"] = info["VersionId"]
        return fingerprint
    if protocol == "gcs":
        fingerprint = {"kind": "gcs", "size": size, "generation": str(info.get("generation", ""))}
        for key, name in (("md5Hash", "md5"), ("crc32c", "crc32c")):
            if info.get(key):
                fingerprint[name] = info[key]
        return fingerprint
    return {"kind": protocol, "size": size, "sha256": hashlib.sha256(read_bytes()).hexdigest()}


def same_content(
    recorded: Fingerprint | None, current: Fingerprint | None, current_sha256: Callable[[], str] | None = None
) -> bool:
    """Whether ``current`` is the same content as ``recorded``.

    For local files the cheap stat is tried first; only when it differs and the
    sizes agree is the file hashed (``current_sha256``) and compared with the
    recorded hash.
    """
    if not recorded or not current or recorded.get("kind") != current.get("kind"):
        return False
    if recorded.get("size") != current.get("size"):
        return False
    kind = recorded["kind"]
    if kind == "local":
        if all(recorded.get(key) == current.get(key) for key in ("mtime_ns", "ino")):
            return True
        if "sha256" not in recorded:
            return False
        digest = current.get("sha256") or (current_sha256() if current_sha256 else None)
        return bool(digest == recorded["sha256"])
    if kind == "s3":
        return bool(recorded.get("etag")) and recorded.get("etag") == current.get("etag")
    if kind == "gcs":
        for key in ("md5", "crc32c"):
            if recorded.get(key) and current.get(key):
                return bool(recorded[key] == current[key])
        return recorded.get("generation") == current.get("generation")
    return recorded == current


def describe_change(recorded: Fingerprint | None, current: Fingerprint | None) -> str:
    """A short diff for explanations: ``etag a1b2c3… → 9f8e7d…``."""
    if not recorded:
        return "not recorded before"
    if not current:
        return "now missing"
    if recorded.get("size") != current.get("size"):
        return f"size {recorded.get('size')} → {current.get('size')}"
    for key in ("sha256", "etag", "md5", "crc32c"):
        before, after = recorded.get(key), current.get(key)
        if before and after and before != after:
            return f"{key} {str(before)[:8]}… → {str(after)[:8]}…"
    if recorded.get("last_modified") != current.get("last_modified"):
        return f"modified {recorded.get('last_modified')} → {current.get('last_modified')}"
    for key in ("generation", "mtime_ns"):
        before, after = recorded.get(key), current.get(key)
        if before and after and before != after:
            # Numbers that differ in their last digits: shown whole, or as times.
            if key == "mtime_ns":
                return f"modified {_utc(before)} → {_utc(after)}"
            return f"generation {before} → {after}"
    return "content differs"


def _utc(nanoseconds: int) -> str:
    moment = dt.datetime.fromtimestamp(nanoseconds / 1e9, dt.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Missing:
    """What a bulk listing says of a target it did not find."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def is_directory_entry(observed: Any) -> bool:
    """Whether a stat result or fsspec info/listing entry names a directory (or an object-store prefix)."""
    if isinstance(observed, os.stat_result):
        return stat_module.S_ISDIR(observed.st_mode)
    return isinstance(observed, dict) and observed.get("type") == "directory"
