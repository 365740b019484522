"""Writes that appear at their final URL whole or not at all.

Data is staged in a local file first. Only a clean ``close()`` publishes it:
on local disk by ``os.replace`` from a hidden file in the same directory, on
object stores by one upload (S3 and GCS make an object visible only when its
upload completes), elsewhere by an upload to a hidden sibling and a rename.
An exception in the ``with`` block, a handle dropped without ``close()``, or a
killed process publishes nothing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import mimetypes
import os
import posixpath
import sys
import tempfile
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

import fsspec.asyn

from targets.errors import StorageError
from targets.fingerprint import remember_digest
from targets.published import forget_published, remember_published
from targets.storage import ATOMIC_UPLOAD_PROTOCOLS, Location, redact, storage_errors

TEMP_MARK = ".dashpipe-tmp-"


def temporary_name(path: str) -> str:
    """A hidden sibling of ``path``: readers that skip dot-files never pick it up."""
    parent, name = posixpath.split(path.rstrip("/"))
    return posixpath.join(parent, f".{name}{TEMP_MARK}{uuid.uuid4().hex[:12]}")


def is_temporary(path: str) -> bool:
    name = posixpath.basename(path.rstrip("/"))
    return name.startswith(".") and (TEMP_MARK in name or name.endswith(DIRECTORY_MARK))


# A file output found as a directory counts as built only when this sidecar says that the
# target itself published the directory (``temporary_path``); any other directory in a file's
# place (a stray ``mkdir``, an S3 prefix of other objects) is an error, not "done".
DIRECTORY_MARK = ".dashpipe-dir"


def directory_marker(path: str) -> str:
    """The hidden sibling that marks ``path`` as a directory published by its target."""
    parent, name = posixpath.split(path.rstrip("/"))
    return posixpath.join(parent, f".{name}{DIRECTORY_MARK}")


def fsync_directory(directory: str) -> None:
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicWriter(io.BufferedWriter):
    """A binary file that is published by ``publish(staging_path)`` on a clean close.

    It is a real file with a ``fileno()``, so luigi formats that pipe through a
    subprocess (``luigi.format.Gzip``) work on every backend.
    """

    def __init__(
        self,
        staging: io.FileIO,
        staging_path: str,
        publish: Callable[[str], None],
        durable: bool,
        final_path: str | None = None,
    ) -> None:
        self._staging_path = staging_path
        self._publish = publish
        # Only a rename on the same disk needs the data on disk first; an upload reads it back anyway.
        self._durable = durable
        # A local file is hashed as it is written, so that its build record need not read it back.
        # Anything that may bypass write() (a seek elsewhere, a truncate) gives up on the hash; a
        # subprocess writing to fileno() shows in the size, which is checked before it is trusted.
        self._final_path = final_path
        self._digest: Any = hashlib.sha256() if final_path is not None else None
        self._hashed_bytes = 0
        super().__init__(staging)

    def write(self, data: Any) -> int:
        if self._digest is not None:
            view = memoryview(data)
            self._digest.update(view)
            self._hashed_bytes += view.nbytes
        return super().write(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = super().seek(offset, whence)
        if position != self._hashed_bytes:
            self._digest = None
        return position

    def truncate(self, size: int | None = None) -> int:
        self._digest = None
        return super().truncate(size)

    @property
    def staging_path(self) -> str:
        return self._staging_path

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush()
            if self._durable:
                os.fsync(self.fileno())
            written = os.fstat(self.fileno()) if self._digest is not None else None
            super().close()
            self._publish(self._staging_path)
            if written is not None and written.st_size == self._hashed_bytes and self._final_path:
                # A rename keeps the inode and the modification time: the published file is this one.
                remember_digest(self._final_path, written, self._digest.hexdigest())
        finally:
            self._close_quietly()
            self._remove_staging()

    def discard(self) -> None:
        """Close without publishing anything."""
        try:
            self._close_quietly()
        finally:
            self._remove_staging()

    def _close_quietly(self) -> None:
        # Close the file descriptor without flushing: after a failed flush (disk
        # full) BufferedWriter.close() would raise again and skip the clean-up.
        with contextlib.suppress(OSError):
            self.raw.close()

    def _remove_staging(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._staging_path)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.close()

    def __del__(self) -> None:
        # Garbage collection of an unclosed handle must not publish a partial file.
        if not self.closed:
            self.discard()


def open_atomic(location: Location, durable: bool = True) -> AtomicWriter:
    """Open a staging file whose ``close()`` publishes it at ``location``.

    Locally, a ``durable`` file is on disk, data and name, before ``close()`` returns; without
    it the replace is still atomic (readers see the old file or the new one, whole), but a
    power cut may leave the old one.
    """
    if location.is_local:
        with storage_errors(location.url, "write"):
            if os.path.isdir(location.path):
                raise IsADirectoryError(errno.EISDIR, "it is a directory", location.path)
            os.makedirs(os.path.dirname(location.path) or ".", exist_ok=True)
            staging = temporary_name(location.path)
            raw = io.FileIO(staging, "x")
        return AtomicWriter(
            raw,
            staging,
            lambda staged: publish_local(staged, location, durable),
            durable=durable,
            final_path=location.path,
        )
    fd, staging = tempfile.mkstemp(prefix="dashpipe-upload-")
    return AtomicWriter(
        io.FileIO(fd, "w"), staging, lambda staged: publish_remote(staged, location), durable=False
    )


def publish_local(staged: str, location: Location, durable: bool = True) -> None:
    with storage_errors(location.url, "write"):
        os.replace(staged, location.path)
        if durable:
            fsync_directory(os.path.dirname(location.path))


# Up to this size an S3 object is written with one PutObject, whose answer (ETag, VersionId)
# is kept; above it s3fs uploads in parts. gcsfs uploads in one request below 5 MiB.
_SINGLE_PUT_MOST_BYTES = 16 << 20
_GCS_SINGLE_UPLOAD_BELOW_BYTES = 5 << 20


def _staged_object(fs: Any, staged: str, location: Location) -> tuple[str, str, bytes, str | None]:
    """Bucket, key, bytes and content type (from the final name) of an upload in one request."""
    bucket, key, _ = fs.split_path(location.path)
    with open(staged, "rb") as handle:
        body = handle.read()
    return bucket, key, body, mimetypes.guess_type(location.path)[0]


def _put_s3_object(fs: Any, staged: str, location: Location) -> None:
    """One PutObject, its answer remembered (see :mod:`targets.published`)."""
    bucket, key, body, content_type = _staged_object(fs, staged, location)
    extra = {}
    if content_type is not None:
        extra["ContentType"] = content_type
    answer = fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body, **extra)
    info = {"name": location.path, "size": len(body), "type": "file", "ETag": answer.get("ETag")}
    if answer.get("VersionId"):
        info["VersionId"] = answer["VersionId"]
    remember_published(location.url, info)


def _upload_gcs_object(fs: Any, staged: str, location: Location) -> bool:
    """One upload with gcsfs's own single-request call, its answer remembered; False where this
    gcsfs has no such call (it is internal), so that the caller uploads as gcsfs does."""
    upload = getattr(sys.modules.get("gcsfs.core"), "simple_upload", None)
    process = getattr(fs, "_process_object", None)
    if upload is None or process is None:
        return False
    bucket, key, body, content_type = _staged_object(fs, staged, location)
    answer = fsspec.asyn.sync(
        fs.loop,
        upload,
        fs,
        bucket,
        key,
        body,
        consistency=fs.consistency,
        content_type=content_type or "application/octet-stream",
    )
    if isinstance(answer, dict) and answer.get("name"):
        remember_published(location.url, process(bucket, answer))
    return True


def _upload_answered(fs: Any, staged: str, location: Location) -> bool:
    """Upload in one request whose answer is kept, where the store allows; False if not done."""
    size = os.path.getsize(staged)
    if location.protocol == "s3" and size <= _SINGLE_PUT_MOST_BYTES:
        _put_s3_object(fs, staged, location)
        return True
    if location.protocol == "gcs" and size < _GCS_SINGLE_UPLOAD_BELOW_BYTES:
        return _upload_gcs_object(fs, staged, location)
    return False


def publish_remote(staged: str, location: Location) -> None:
    fs = location.fs
    forget_published(location.url)
    with storage_errors(location.url, "write"):
        try:
            if not _upload_answered(fs, staged, location):
                if location.protocol in ATOMIC_UPLOAD_PROTOCOLS:
                    fs.put_file(staged, location.path)
                else:
                    sibling = temporary_name(location.path)
                    fs.put_file(staged, sibling)
                    fs.mv(sibling, location.path)
        except FileNotFoundError as exc:
            raise StorageError(
                f"cannot write {redact(location.url)}: its bucket or directory does not exist"
            ) from exc
        finally:
            path = location.path
            while path and path != fs._parent(path):  # the listings of its parents are out of date too
                fs.invalidate_cache(path)
                path = fs._parent(path)
