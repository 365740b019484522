"""A luigi ``FileSystem`` over any fsspec filesystem, with fresh answers."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator

import luigi.target
from fsspec.spec import AbstractFileSystem

from targets.atomic import fsync_directory, is_temporary, temporary_name
from targets.published import forget_published
from targets.storage import Location, storage_errors


class FsspecFileSystem(luigi.target.FileSystem):
    """luigi's filesystem interface on top of an fsspec filesystem.

    Paths in and out are URLs as the user wrote them (``s3://bucket/key``) or
    plain local paths. fsspec caches listings forever, so every question about
    existence drops the cached entry first: another process may have written or
    deleted the object since. Local moves and copies are atomic at the
    destination, as on object stores.
    """

    def __init__(self, location: Location) -> None:
        self._location = location

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem underneath."""
        return self._location.fs

    @property
    def is_local(self) -> bool:
        return self._location.is_local

    def _path(self, url: str) -> str:
        return str(self.fs._strip_protocol(str(url)))

    def _refresh(self, path: str) -> None:
        self.fs.invalidate_cache(path)

    def exists(self, path: str) -> bool:
        native = self._path(path)
        with storage_errors(path, "check"):
            self._refresh(native)
            return bool(self.fs.exists(native))

    def isdir(self, path: str) -> bool:
        native = self._path(path)
        with storage_errors(path, "check"):
            self._refresh(native)
            return bool(self.fs.isdir(native))

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        forget_published()  # what this process wrote may be gone or replaced now
        native = self._path(path)
        with storage_errors(path, "remove"):
            self._refresh(native)
            self.fs.rm(native, recursive=recursive)
            self._refresh(native)

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """luigi's semantics: ``FileAlreadyExists``, ``NotADirectory``, ``MissingParentDirectory``."""
        if self.exists(path):
            if raise_if_exists:
                raise luigi.target.FileAlreadyExists(path)
            if not self.isdir(path):
                raise luigi.target.NotADirectory(path)
            return
        if not self.is_local:
            return  # object stores have no directories; s3fs would even create a bucket here
        native = self._path(path)
        with storage_errors(path, "create directory"):
            if not parents and not os.path.isdir(os.path.dirname(native.rstrip("/"))):
                raise luigi.target.MissingParentDirectory(path)
            os.makedirs(native, exist_ok=True)

    def listdir(self, path: str) -> Iterator[str]:
        """Every file below ``path``, recursively, named like ``path`` (relative stays relative).

        Write temporaries are left out.
        """
        native = self._path(path)
        with storage_errors(path, "list"):
            self._refresh(native)
            found = self.fs.find(native)
        prefix = str(path).rstrip("/")
        for item in found:
            relative = item[len(native.rstrip("/")) :].lstrip("/")
            if not any(is_temporary(part) for part in relative.split("/")):
                yield f"{prefix}/{relative}" if relative else prefix

    def move(self, path: str, dest: str) -> None:
        forget_published()  # what this process wrote may be gone or replaced now
        source, target = self._path(path), self._path(dest)
        with storage_errors(path, "move", dest):
            if self.is_local:
                self._move_local(source, target)
            else:
                self.fs.mv(source, target, recursive=True)
            self._refresh(source)
            self._refresh(target)

    def _move_local(self, source: str, target: str) -> None:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        if os.path.isdir(source) and os.path.isdir(target):
            self._replace_directory(source, target)
            return
        try:
            os.replace(source, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # Another device: copy beside the destination first, so it still appears at once.
            self._copy_local(source, target)
            shutil.rmtree(source) if os.path.isdir(source) else os.remove(source)
        fsync_directory(os.path.dirname(target))

    @staticmethod
    def _replace_directory(source: str, target: str) -> None:
        # rename() cannot replace a non-empty directory: the old one steps aside under a
        # hidden name first, so for a moment the path is missing, never half old, half new.
        retired = temporary_name(target)
        os.rename(target, retired)
        try:
            os.rename(source, target)
        except OSError:
            os.rename(retired, target)
            raise
        fsync_directory(os.path.dirname(target))
        shutil.rmtree(retired, ignore_errors=True)

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Move ``path`` to ``dest`` unless ``dest`` exists (``FileAlreadyExists``), as luigi does.

        An existing ``dest`` wins over a missing ``path``: luigi's callers (``temporary_path``,
        a second worker finishing the same output) rely on learning that the place is taken.
        A missing parent directory of ``dest`` is created.
        """
        forget_published()
        if self.exists(dest):
            raise luigi.target.FileAlreadyExists(dest)
        source, target = self._path(path), self._path(dest)
        if self.is_local and not os.path.isdir(source):
            with storage_errors(path, "move", dest):
                os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
                try:
                    os.link(source, target)  # fails if dest appeared meanwhile, with no window for a race
                except FileExistsError:
                    raise luigi.target.FileAlreadyExists(dest) from None
                except OSError as exc:
                    if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP):
                        raise
                else:
                    os.remove(source)
                    fsync_directory(os.path.dirname(target))
                    return
        self.move(path, dest)

    def copy(self, path: str, dest: str) -> None:
        forget_published()  # what this process wrote may be gone or replaced now
        source, target = self._path(path), self._path(dest)
        with storage_errors(path, "copy", dest):
            if self.is_local:
                self._copy_local(source, target)
            else:
                self.fs.copy(source, target, recursive=True)
            self._refresh(target)

    @staticmethod
    def _copy_local(source: str, target: str) -> None:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        staging = temporary_name(target)
        try:
            if os.path.isdir(source):
                shutil.copytree(source, staging)
            else:
                shutil.copyfile(source, staging)
            os.replace(staging, target)
        finally:
            if os.path.isdir(staging):
                shutil.rmtree(staging)
            elif os.path.exists(staging):
                os.remove(staging)
