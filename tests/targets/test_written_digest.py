"""A local file is hashed as it is written: its fingerprint right after does not read it back,
and is the file's true SHA-256 whatever wrote it."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import luigi.format
import pytest

from targets import FileTarget
from targets import fingerprint as fingerprint_module


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the fingerprint code opens to hash them."""
    opened: list[str] = []

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(fingerprint_module, "open", counting_open, raising=False)
    return opened


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_just_written_is_fingerprinted_without_reading_it(tmp_path: Path, reads: list[str]) -> None:
    target = FileTarget(str(tmp_path / "out.txt"))
    with target.open("w") as out:
        for line in range(1000):
            out.write(f"line {line}\n")
    fingerprint = target.fingerprint(with_hash=True)
    assert fingerprint is not None and fingerprint["sha256"] == sha256(tmp_path / "out.txt")
    assert reads == []


def test_a_file_changed_since_it_was_written_is_read_again(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "out.txt"
    target = FileTarget(str(path))
    with target.open("w") as out:
        out.write("first")
    with open(path, "w") as other:  # another writer, in place: the same inode, another mtime
        other.write("other")
    fingerprint = target.fingerprint(with_hash=True)
    assert fingerprint is not None and fingerprint["sha256"] == sha256(path)
    assert reads == [str(path)]


@pytest.mark.parametrize("how", ["seek", "truncate"])
def test_a_write_that_moves_about_is_hashed_from_the_file(tmp_path: Path, reads: list[str], how: str) -> None:
    path = tmp_path / "out.bin"
    target = FileTarget(str(path), format=luigi.format.Nop)
    with target.open("w") as out:
        out.write(b"0123456789")
        if how == "seek":
            out.seek(2)
            out.write(b"ab")  # overwrites bytes already hashed
            out.seek(0, io.SEEK_END)
        else:
            out.truncate(4)
            out.seek(4)
    fingerprint = target.fingerprint(with_hash=True)
    assert fingerprint is not None and fingerprint["sha256"] == sha256(path)
    assert reads == [str(path)]


def test_bytes_written_past_the_writer_are_hashed_from_the_file(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "out.bin"
    target = FileTarget(str(path), format=luigi.format.Nop)
    with target.open("w") as out:
        out.write(b"through write()")
        out.flush()
        os.write(out.fileno(), b" and around it")  # as a subprocess given fileno() writes
    assert path.read_bytes() == b"through write() and around it"
    fingerprint = target.fingerprint(with_hash=True)
    assert fingerprint is not None and fingerprint["sha256"] == sha256(path)
    assert reads == [str(path)]


def test_gzip_through_a_subprocess_is_hashed_from_the_file(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "out.gz"
    target = FileTarget(str(path), format=luigi.format.Gzip)
    with target.open("w") as out:
        out.write(b"compressed by gzip, written by it to the staging file\n" * 100)
    fingerprint = target.fingerprint(with_hash=True)
    assert fingerprint is not None and fingerprint["sha256"] == sha256(path)
    assert reads == [str(path)]
