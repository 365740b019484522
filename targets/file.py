"""FileTarget: one file at any fsspec URL, written atomically."""

from __future__ import annotations

import io
import os
import posixpath
import stat as stat_module
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

import luigi.format
import luigi.target
from luigi.format import FileWrapper, Format

from targets.atomic import directory_marker, open_atomic, temporary_name
from targets.base import BaseTarget
from targets.errors import StorageError, TargetError
from targets.filesystem import FsspecFileSystem
from targets.fingerprint import (
    MISSING,
    Fingerprint,
    is_directory_entry,
    local_fingerprint,
    remote_fingerprint,
    same_content,
    sha256_of_file,
)
from targets.published import published_info
from targets.storage import redact, resolve, storage_errors


class FileTarget(BaseTarget, luigi.target.FileSystemTarget):
    """A file on local disk, ``memory://``, ``s3://``, ``gs://`` or any fsspec protocol.

    It behaves like ``luigi.LocalTarget`` everywhere: ``open("r"|"w")`` with a
    luigi ``format`` (text by default, ``luigi.format.Nop`` for bytes),
    ``exists()``, ``remove()``, ``temporary_path()`` and a luigi
    ``FileSystem`` as ``fs``. Writes are atomic on every backend.

    ``storage_options`` go to the fsspec filesystem and override the
    protocol's section in ``luigi.cfg``.
    """

    type_name = "file"

    def __init__(
        self, url: str | os.PathLike[str], format: Format | None = None, **storage_options: Any
    ) -> None:
        if format is not None and not isinstance(format, Format):
            raise TargetError(
                f"{redact(str(url))}: format must be a luigi format such as luigi.format.UTF8 or "
                f"luigi.format.Nop, got {type(format).__name__} {format!r}"[:300]
            )
        self._storage_options = dict(storage_options)
        self.location = resolve(url, storage_options)
        if self.location.url.endswith("/"):
            raise TargetError(f"malformed URL {redact(self.location.url)!r}: a file URL cannot end with '/'")
        BaseTarget.__init__(self, self.location.url)
        luigi.target.FileSystemTarget.__init__(self, self.location.url)
        self.format = format if format is not None else luigi.format.get_default_format()
        self._fs = FsspecFileSystem(self.location)

    def with_format(self, format: Format) -> FileTarget:
        """The same file, with the same storage options, read and written through ``format``."""
        return FileTarget(self.location.url, format=format, **self._storage_options)

    @property
    def fs(self) -> FsspecFileSystem:
        return self._fs

    def exists(self) -> bool:
        """True when a file is there; a directory in its place is an error, never "built"."""
        return self.check_kind(self.observe()) is not MISSING

    # A file output must be a file: a directory (or object-store prefix) in its place that the
    # target did not publish itself was not built by it, and counting it as existing would skip
    # the build. Subclasses whose output is a directory by design say so here.
    expects_directory = False

    def check_kind(self, observed: Any, marked: bool | None = None) -> Any:
        """``observed`` (from ``observe``) unchanged, or :class:`StorageError` if it is of the wrong kind.

        A directory is accepted where ``temporary_path()`` published one (its sidecar marker
        exists; ``marked`` says so when a listing already knows, else it is looked up).
        """
        if observed is MISSING or self.expects_directory or not is_directory_entry(observed):
            return observed
        if marked is None:
            marked = self._has_directory_marker()
        if not marked:
            raise StorageError(
                f"{self.display_url} is a directory, expected a file "
                "(remove it, or write a directory output through temporary_path())"
            )
        return observed

    @property
    def directory_marker_path(self) -> str:
        """Where the sidecar that marks a directory published by ``temporary_path()`` lives."""
        return directory_marker(self.location.path)

    def _has_directory_marker(self) -> bool:
        marker = self.directory_marker_path
        if self.location.is_local:
            return os.path.isfile(marker)
        with storage_errors(self.url, "check"):
            self.location.fs.invalidate_cache(posixpath.dirname(marker))
            return bool(self.location.fs.exists(marker))

    def _mark_directory(self, is_directory: bool) -> None:
        marker, fs = self.directory_marker_path, self.location.fs
        with storage_errors(self.url, "write"):
            if is_directory:
                fs.pipe_file(marker, b"")
            elif fs.exists(marker):
                fs.rm_file(marker)
            fs.invalidate_cache(posixpath.dirname(marker))

    def remove(self) -> None:
        self._fs.remove(self.path)
        if self._fs.exists(self.directory_marker_path):
            self._fs.remove(self.directory_marker_path)

    def fingerprint(self, with_hash: bool = True, listed: Any = None) -> Fingerprint | None:
        """The current version's identity (see :mod:`targets.fingerprint`); ``None`` if missing.

        Local files include a SHA-256 of their bytes unless ``with_hash`` is false,
        so a later change of mtime alone can be told from a change of content.
        ``listed`` is what a bulk listing already said of the file (see ``observe``).
        """
        return self._fingerprint(listed, with_hash)

    @property
    def storage_options(self) -> dict[str, Any]:
        """The options this target was created with (they may hold credentials: never print them)."""
        return dict(self._storage_options)

    def _fingerprint(self, listed: Any, with_hash: bool) -> Fingerprint | None:
        location = self.location
        if listed is MISSING:
            return None
        if location.is_local:
            try:
                stat = listed if isinstance(listed, os.stat_result) else os.stat(location.path)
            except FileNotFoundError:
                return None
            if stat_module.S_ISDIR(stat.st_mode):
                self.check_kind(stat)
                return None  # a directory by design (a dataset): existence only
            return local_fingerprint(location.path, stat, with_hash=with_hash)
        info = listed if isinstance(listed, dict) else published_info(location.url)
        if info is None:
            with storage_errors(self.url, "check"):
                location.fs.invalidate_cache(location.path)
                try:
                    info = location.fs.info(location.path)
                except FileNotFoundError:
                    return None
        if info.get("type") == "directory":
            self.check_kind(info)
            return None
        return remote_fingerprint(location.protocol, info, lambda: location.fs.cat_file(location.path))

    def observe(self) -> Any:
        """What one look at storage says: a stat result or info dict, or ``MISSING``."""
        location = self.location
        if location.is_local:
            try:
                return os.stat(location.path)
            except FileNotFoundError:
                return MISSING
            except NotADirectoryError:
                raise StorageError(
                    f"cannot check {self.display_url}: a parent of it is a file, not a directory"
                ) from None
            except OSError as exc:
                raise StorageError(f"cannot check {self.display_url}: {exc.strerror}") from None
        published = published_info(location.url)
        if published is not None:
            return published
        with storage_errors(self.url, "check"):
            location.fs.invalidate_cache(location.path)
            try:
                return location.fs.info(location.path)
            except FileNotFoundError:
                return MISSING

    def matches(self, recorded: Fingerprint | None, listed: Any = None) -> bool | None:
        current = self._fingerprint(listed, with_hash=False)
        if current is None:
            if listed is MISSING:
                return False
            return None if self.exists() else False
        location = self.location
        return same_content(recorded, current, lambda: sha256_of_file(location.path))

    def makedirs(self) -> None:
        """Create the parent directory (a no-op on object stores), like ``luigi.LocalTarget``."""
        parent = posixpath.dirname(self.path.rstrip("/"))
        if parent and not parent.endswith(":/"):
            self._fs.mkdir(parent, parents=True, raise_if_exists=False)

    def move(self, new_path: str, raise_if_exists: bool = False) -> None:
        """Move this output to ``new_path`` on the same storage."""
        if raise_if_exists:
            self._fs.rename_dont_move(self.path, new_path)
        else:
            self._fs.move(self.path, new_path)

    def copy(self, new_path: str, raise_if_exists: bool = False) -> None:
        """Copy this output to ``new_path`` on the same storage; it appears there whole."""
        if raise_if_exists and self._fs.exists(new_path):
            raise luigi.target.FileAlreadyExists(new_path)
        self._fs.copy(self.path, new_path)

    def open(self, mode: str = "r") -> IO[Any]:
        rwmode = mode.replace("b", "").replace("t", "")
        if rwmode == "w":
            return cast(IO[Any], self.format.pipe_writer(open_atomic(self.location)))
        if rwmode == "r":
            return cast(IO[Any], self.format.pipe_reader(self._open_for_reading()))
        raise TargetError(
            f"cannot open {self.display_url} with mode {mode!r}: use 'r' or 'w' (set format=Nop for bytes)"
        )

    def _open_for_reading(self) -> IO[bytes]:
        location = self.location
        with storage_errors(self.url, "read"):
            if location.is_local:
                return cast(IO[bytes], FileWrapper(io.BufferedReader(io.FileIO(location.path, "r"))))
            location.fs.invalidate_cache(location.path)
            return cast(IO[bytes], location.fs.open(location.path, "rb"))

    @contextmanager
    def temporary_path(self) -> Iterator[str]:
        """Yield a hidden sibling path to write to; it replaces the target only on success.

        Unlike luigi's version this replaces an existing output (a forced
        rebuild must be able to), and removes the temporary after a failure.
        A file appears at once on every backend; a directory written there
        appears at once on local disk, object by object on object stores.
        """
        if self.location.is_local:
            # A plain path, since local tools rarely understand file:// URLs.
            temporary = temporary_name(self.location.path)
            os.makedirs(os.path.dirname(temporary), exist_ok=True)
        else:
            temporary = temporary_name(self.path)
        try:
            yield temporary
            is_directory = self._fs.isdir(temporary)
            self._fs.move(temporary, self.path)
            self._mark_directory(is_directory)
        except BaseException:
            if self._fs.exists(temporary):
                self._fs.remove(temporary)
            raise
