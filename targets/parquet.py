"""ParquetTarget: an Arrow table as one Parquet file or a hive-partitioned dataset."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import uuid
from collections.abc import Sequence
from typing import IO, Any

import luigi.format
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from targets.errors import IncompleteOutputError, TargetError
from targets.file import FileTarget
from targets.fingerprint import Fingerprint, same_content, sha256_of_file
from targets.storage import redact, storage_errors

MARKER_NAME = "_SUCCESS"


# What pyarrow's Parquet writer knows; checked up front so a typo fails at declaration, not after
# the task computed its table.
COMPRESSIONS = frozenset({"none", "snappy", "gzip", "brotli", "lz4", "zstd"})


def _partition_columns(value: Any, url: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # list("store") would silently partition by the columns s, t, o, r, e.
        raise TargetError(
            f"{redact(url)}: partition_cols must be a list of column names, got the string {value!r} "
            f"(did you mean [{value!r}]?)"
        )
    if not isinstance(value, Sequence) or isinstance(value, bytes):
        raise TargetError(
            f"{redact(url)}: partition_cols must be a list of column names, got {type(value).__name__}"
        )
    columns = list(value)
    for column in columns:
        if not isinstance(column, str) or not column or "/" in column or "=" in column:
            raise TargetError(
                f"{redact(url)}: partition_cols must be non-empty column names without '/' or '=', "
                f"got {column!r}"
            )
    duplicates = sorted({column for column in columns if columns.count(column) > 1})
    if duplicates:
        raise TargetError(f"{redact(url)}: partition_cols names {duplicates} more than once")
    return columns


def _compression(value: Any, url: str) -> str:
    if value is None:
        return "none"
    if not isinstance(value, str) or value.lower() not in COMPRESSIONS:
        raise TargetError(f"{redact(url)}: compression must be one of {sorted(COMPRESSIONS)}, got {value!r}")
    return value.lower()


class ParquetTarget(FileTarget):
    """A ``pyarrow.Table`` stored as Parquet at any fsspec URL.

    Without ``partition_cols`` it is a single file, written atomically like any
    :class:`~targets.FileTarget`. With ``partition_cols`` it is a directory in
    hive layout (``country=NL/part-….parquet``); the directory counts as
    existing only once its marker ``_SUCCESS`` is written, after every data
    file. The marker lists the files and the schema, so :meth:`read` never
    picks up a file left behind by a crashed write, and a rewrite replaces the
    dataset at once: the new files are written beside the old ones, the marker
    is replaced, then the old files are deleted.
    """

    type_name = "parquet"

    def __init__(
        self,
        url: str | os.PathLike[str],
        partition_cols: Sequence[str] | None = None,
        compression: str = "snappy",
        **storage_options: Any,
    ) -> None:
        url = os.fspath(url)
        self.partition_cols = _partition_columns(partition_cols, url)
        self.compression = _compression(compression, url)
        super().__init__(
            url.rstrip("/") if self.partition_cols else url, format=luigi.format.Nop, **storage_options
        )
        self._marker = (
            FileTarget(posixpath.join(self.path, MARKER_NAME), format=luigi.format.Nop, **storage_options)
            if self.partition_cols
            else None
        )

    @property
    def is_dataset(self) -> bool:
        return self._marker is not None

    @property
    def expects_directory(self) -> bool:  # type: ignore[override]
        return self.is_dataset

    def exists(self) -> bool:
        return self._marker.exists() if self._marker else super().exists()

    def open(self, mode: str = "r") -> IO[Any]:
        if self.is_dataset:
            raise TargetError(
                f"{self.display_url} is a partitioned dataset, not one file: use read() and write()"
            )
        return super().open(mode)

    def write(self, table: pa.Table) -> None:
        """Write ``table``, replacing what was there; visible only once complete."""
        if not isinstance(table, pa.Table):
            raise TargetError(
                f"ParquetTarget.write({self.display_url}) needs a pyarrow.Table, got {type(table).__name__}"
            )
        if not self.is_dataset:
            with self.open("w") as handle:
                pq.write_table(table, handle, compression=self.compression)
            return
        missing = [c for c in self.partition_cols if c not in table.column_names]
        if missing:
            raise TargetError(
                f"cannot write {self.display_url}: partition columns {missing} are not in the table"
            )
        self._write_dataset(table)

    def _write_dataset(self, table: pa.Table) -> None:
        assert self._marker is not None
        fs, root = self.location.fs, self.location.path
        previous = self._committed_files()
        written: list[dict[str, Any]] = []

        def remember(written_file: Any) -> None:
            written.append({"path": posixpath.relpath(written_file.path, root), "size": written_file.size})

        with storage_errors(self.url, "write"):
            if self.location.is_local:
                os.makedirs(root, exist_ok=True)  # pyarrow's local filesystem does not create it
            # New files get names of their own, so the committed version stays whole beside them.
            ds.write_dataset(
                table,
                root,
                format="parquet",
                filesystem=fs,
                partitioning=ds.partitioning(table.select(self.partition_cols).schema, flavor="hive"),
                basename_template=f"part-{uuid.uuid4().hex[:12]}-{{i}}.parquet",
                existing_data_behavior="overwrite_or_ignore",
                file_options=ds.ParquetFileFormat().make_write_options(compression=self.compression),
                file_visitor=remember,
            )
            fs.invalidate_cache(root)
        manifest = {
            "files": sorted(written, key=lambda entry: entry["path"]),
            "num_rows": table.num_rows,
            "partition_cols": self.partition_cols,
            "schema": base64.b64encode(table.schema.serialize().to_pybytes()).decode("ascii"),
        }
        # Replacing the marker is the commit point: readers see the old version whole
        # until here and the new one whole after it; a crash before it keeps the old.
        with self._marker.open("w") as handle:
            handle.write(json.dumps(manifest, indent=1).encode("utf-8"))
        superseded = sorted(previous - {entry["path"] for entry in written})
        if superseded:
            with storage_errors(self.url, "clean up"):
                fs.rm([posixpath.join(root, path) for path in superseded])
                fs.invalidate_cache(root)

    def _committed_files(self) -> set[str]:
        try:
            return {entry["path"] for entry in self.manifest()["files"]}
        except (IncompleteOutputError, ValueError, KeyError):
            return set()

    def manifest(self) -> dict[str, Any]:
        """The marker's content: files written, row count, schema (datasets only)."""
        if self._marker is None:
            raise TargetError(f"{self.display_url} is a single Parquet file and has no manifest")
        try:
            with self._marker.open("r") as handle:
                manifest: dict[str, Any] = json.loads(handle.read())
                return manifest
        except FileNotFoundError:
            raise IncompleteOutputError(
                f"{self.display_url} is incomplete: no {MARKER_NAME} marker "
                "(still being written, or a write failed)"
            ) from None

    def read(self, columns: Sequence[str] | None = None, filter: Any = None) -> pa.Table:
        """Read the table back; ``filter`` is a ``pyarrow.compute`` expression."""
        columns = list(columns) if columns is not None else None
        fs, path = self.location.fs, self.location.path
        with storage_errors(self.url, "read"):
            fs.invalidate_cache(path)
            if not self.is_dataset:
                dataset = ds.dataset(path, filesystem=fs, format="parquet")
                return dataset.to_table(columns=columns, filter=filter)
            manifest = self.manifest()
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(manifest["schema"])))
            files = [posixpath.join(path, entry["path"]) for entry in manifest["files"]]
            partition_schema = pa.schema([schema.field(name) for name in manifest["partition_cols"]])
            dataset = ds.dataset(
                files,
                schema=schema,
                filesystem=fs,
                format="parquet",
                partitioning=ds.partitioning(partition_schema, flavor="hive"),
                partition_base_dir=path,
            )
            return dataset.to_table(columns=columns or schema.names, filter=filter)

    def _fingerprint(self, listed: Any, with_hash: bool) -> Fingerprint | None:
        """A dataset's version: its marker, and a digest of its files' contents by partition.

        File names carry a random part, so identical data rewritten gives the
        same ``content`` digest but a new marker.
        """
        if self._marker is None:
            return super()._fingerprint(listed, with_hash)
        marker = self._marker.fingerprint()
        if marker is None:
            return None
        entries = []
        for entry in self.manifest()["files"]:
            part = FileTarget(
                posixpath.join(self.path, entry["path"]), format=luigi.format.Nop, **self._storage_options
            ).fingerprint()
            identity = part and (
                part.get("sha256") or part.get("etag") or part.get("md5") or part.get("crc32c")
            )
            entries.append([posixpath.dirname(entry["path"]), entry["size"], identity])
        digest = hashlib.sha256(json.dumps(sorted(entries)).encode()).hexdigest()
        return {"kind": "dataset", "marker": marker, "content": digest}

    def matches(self, recorded: Fingerprint | None, listed: Any = None) -> bool | None:
        if self._marker is None:
            return super().matches(recorded, listed)
        if not recorded or recorded.get("kind") != "dataset":
            return False
        marker = self._marker.fingerprint(with_hash=False)
        if marker is None:
            return False
        marker_path = self._marker.location.path
        if same_content(recorded.get("marker"), marker, lambda: sha256_of_file(marker_path)):
            return True
        current = self._fingerprint(None, with_hash=True)
        return current is not None and current["content"] == recorded.get("content")

    def remove(self) -> None:
        if self._marker is None:
            super().remove()
            return
        if self._marker.exists():
            self._marker.remove()
        if self.fs.exists(self.path):
            self.fs.remove(self.path)
