"""FileTarget.fs keeps luigi's FileSystem semantics, so code written for luigi.LocalTarget works."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import luigi.target
import pytest

from targets import FileTarget, StorageError
from tests.conftest import Backend


def write(target: FileTarget, text: str) -> FileTarget:
    with target.open("w") as handle:
        handle.write(text)
    return target


def test_mkdir_raises_luigis_exceptions(backend: Backend) -> None:
    data = write(backend.target("d", "file.txt"), "x")
    fs = data.fs
    with pytest.raises(luigi.target.FileAlreadyExists):
        fs.mkdir(backend.url("d"), raise_if_exists=True)
    with pytest.raises(luigi.target.NotADirectory):
        fs.mkdir(data.path)
    fs.mkdir(backend.url("d"))  # existing directory: fine


def test_mkdir_without_parents_on_local_disk(tmp_path: Path) -> None:
    fs = FileTarget(str(tmp_path / "x.txt")).fs
    with pytest.raises(luigi.target.MissingParentDirectory):
        fs.mkdir(str(tmp_path / "a" / "b"), parents=False)
    fs.mkdir(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()


def test_listdir_names_files_like_the_path_it_was_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(FileTarget("out/a.txt"), "a")
    write(FileTarget("out/sub/b.txt"), "b")
    assert sorted(FileTarget("out/a.txt").fs.listdir("out")) == ["out/a.txt", "out/sub/b.txt"]


def test_target_move_copy_and_makedirs_like_local_target(backend: Backend) -> None:
    source = write(backend.target("m", "source.txt"), "payload")
    source.copy(backend.url("m", "copy.txt"))
    with pytest.raises(luigi.target.FileAlreadyExists):
        source.copy(backend.url("m", "copy.txt"), raise_if_exists=True)
    source.move(backend.url("n", "moved.txt"))
    assert not source.exists()
    for name in (("m", "copy.txt"), ("n", "moved.txt")):
        with backend.target(*name).open("r") as handle:
            assert handle.read() == "payload"
    backend.target("deep", "er", "x.txt").makedirs()


def test_move_across_devices_on_local_disk(tmp_path: Path) -> None:
    other_device = Path("/dev/shm") / f"dashpipe-test-{uuid.uuid4().hex}"
    assert os.stat("/dev/shm").st_dev != os.stat(tmp_path).st_dev, "needs /dev/shm on its own device"
    source = write(FileTarget(str(tmp_path / "a.txt")), "crossing")
    try:
        source.move(str(other_device / "b.txt"))
        assert (other_device / "b.txt").read_text() == "crossing"
        assert not source.exists()
        assert [p.name for p in other_device.iterdir()] == ["b.txt"]  # no temporary left behind
    finally:
        for leftover in other_device.glob("*"):
            leftover.unlink()
        if other_device.exists():
            other_device.rmdir()


def test_errors_name_both_ends_of_a_move(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"cannot move .*/missing\.txt to .*/elsewhere\.txt: No such file"):
        FileTarget(str(tmp_path / "missing.txt")).move(str(tmp_path / "elsewhere.txt"))
    source = write(FileTarget(str(tmp_path / "here.txt")), "x")
    with pytest.raises(StorageError) as info:
        source.move("/proc/dashpipe-cannot-write-here.txt")
    assert str(info.value).startswith(
        f"cannot move {tmp_path}/here.txt to /proc/dashpipe-cannot-write-here.txt: "
    )
    assert source.exists()
