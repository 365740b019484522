"""A luigi ``FileSystem`` over any fsspec filesystem, with fresh answers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import luigi.target
from fsspec.spec import AbstractFileSystem

from targets.atomic import fsync_directory, is_temporary
from targets.storage import Location, storage_errors


class FsspecFileSystem(luigi.target.FileSystem):
    """luigi's filesystem interface on top of an fsspec filesystem.

    Paths in and out are URLs as the user wrote them (``s3://bucket/key``) or
    plain local paths. fsspec caches listings forever, so every question about
    existence drops the cached entry first: another process may have written or
    deleted the object since.
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
        return self.fs._strip_protocol(str(url))

    def _url(self, path: str) -> str:
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def _refresh(self, path: str) -> None:
        self.fs.invalidate_cache(path)

    def exists(self, path: str) -> bool:
        native = self._path(path)
        with storage_errors(path, "check"):
            self._refresh(native)
            return self.fs.exists(native)

    def isdir(self, path: str) -> bool:
        native = self._path(path)
        with storage_errors(path, "check"):
            self._refresh(native)
            return self.fs.isdir(native)

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        native = self._path(path)
        with storage_errors(path, "remove"):
            self._refresh(native)
            self.fs.rm(native, recursive=recursive)
            self._refresh(native)

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        native = self._path(path)
        with storage_errors(path, "create directory"):
            if raise_if_exists and self.isdir(path):
                raise luigi.target.FileAlreadyExists(path)
            if not self.is_local:
                # Object stores have no directories; s3fs would even create a bucket here.
                return
            if not parents and not os.path.isdir(os.path.dirname(native.rstrip("/"))):
                raise luigi.target.MissingParentDirectory(path)
            os.makedirs(native, exist_ok=True)

    def listdir(self, path: str) -> Iterator[str]:
        """Every file below ``path``, recursively, as URLs; write temporaries are left out."""
        native = self._path(path)
        with storage_errors(path, "list"):
            self._refresh(native)
            found = self.fs.find(native)
        for item in found:
            if not any(is_temporary(part) for part in item.split("/")):
                yield self._url(item)

    def move(self, path: str, dest: str) -> None:
        source, target = self._path(path), self._path(dest)
        with storage_errors(path, f"move to {dest}"):
            if self.is_local:
                os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
                os.replace(source, target)
                fsync_directory(os.path.dirname(target))
            else:
                self.fs.mv(source, target, recursive=True)
            self._refresh(source)
            self._refresh(target)

    def rename_dont_move(self, path: str, dest: str) -> None:
        if self.exists(dest):
            raise luigi.target.FileAlreadyExists(dest)
        self.move(path, dest)

    def copy(self, path: str, dest: str) -> None:
        source, target = self._path(path), self._path(dest)
        with storage_errors(path, f"copy to {dest}"):
            if self.is_local:
                os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            self.fs.copy(source, target, recursive=True)
            self._refresh(target)
