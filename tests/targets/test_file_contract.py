"""The FileTarget contract, run against every backend: local disk, memory://,
S3 (moto_server) and GCS (fake-gcs-server)."""

from __future__ import annotations

import gc
import io
import json
import os
import signal
import subprocess
import sys

import luigi
import luigi.format
import pytest

from targets import FileTarget
from tests.conftest import Backend


class UpperFormat(luigi.format.Format):
    """A custom luigi format: text upper-cased on write."""

    input = "unicode"
    output = "bytes"

    class _Writer(io.TextIOWrapper):
        def write(self, text: str) -> int:
            return super().write(text.upper())

        def __exit__(self, *args):
            self.flush()
            self.buffer.__exit__(*args)

    def pipe_writer(self, output_pipe):
        return self._Writer(output_pipe, encoding="utf-8")

    def pipe_reader(self, input_pipe):
        return io.TextIOWrapper(input_pipe, encoding="utf-8")


def test_text_roundtrip(backend: Backend) -> None:
    target = backend.target("dir/hello.txt")
    assert not target.exists()
    with target.open("w") as handle:
        handle.write("line one\nline two\n")
    assert target.exists()
    with target.open("r") as handle:
        assert handle.read() == "line one\nline two\n"


def test_bytes_roundtrip_with_nop_format(backend: Backend) -> None:
    payload = bytes(range(256)) * 1000
    target = backend.target("blob.bin", format=luigi.format.Nop)
    with target.open("w") as handle:
        handle.write(payload)
    with target.open("r") as handle:
        assert handle.read() == payload


def test_unicode_roundtrip_with_utf8_format(backend: Backend) -> None:
    text = "zürich — 東京 — 🚀\n"
    target = backend.target("unicode.txt", format=luigi.format.UTF8)
    with target.open("w") as handle:
        handle.write(text)
    with backend.target("unicode.txt", format=luigi.format.Nop).open("r") as handle:
        assert handle.read() == text.encode("utf-8")
    with target.open("r") as handle:
        assert handle.read() == text


def test_gzip_format_compresses_on_the_backend(backend: Backend) -> None:
    target = backend.target("data.txt.gz", format=luigi.format.Gzip)
    with target.open("w") as handle:
        handle.write(b"compressed " * 100)
    with backend.target("data.txt.gz", format=luigi.format.Nop).open("r") as handle:
        assert handle.read()[:2] == b"\x1f\x8b"  # gzip magic
    with target.open("r") as handle:
        assert handle.read() == b"compressed " * 100


def test_custom_format(backend: Backend) -> None:
    target = backend.target("shout.txt", format=UpperFormat())
    with target.open("w") as handle:
        handle.write("quiet please")
    with backend.target("shout.txt").open("r") as handle:
        assert handle.read() == "QUIET PLEASE"


def test_open_handle_is_invisible_until_closed(backend: Backend) -> None:
    target = backend.target("pending.txt")
    handle = target.open("w")
    handle.write("x" * 100_000)
    handle.flush()
    assert not target.exists()
    assert not backend.target("pending.txt").exists()
    handle.close()
    assert target.exists()


def test_exception_in_with_block_leaves_nothing(backend: Backend) -> None:
    target = backend.target("failed.txt")
    with pytest.raises(RuntimeError, match="boom"), target.open("w") as handle:
        handle.write("partial")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(target.fs.listdir(backend.url())) == []


def test_exception_keeps_the_previous_version(backend: Backend) -> None:
    target = backend.target("kept.txt")
    with target.open("w") as handle:
        handle.write("version 1")
    with pytest.raises(RuntimeError), target.open("w") as handle:
        handle.write("version 2, half written")
        raise RuntimeError("crash")
    with target.open("r") as handle:
        assert handle.read() == "version 1"


def test_garbage_collected_handle_publishes_nothing(backend: Backend) -> None:
    target = backend.target("dropped.txt")
    handle = target.open("w")
    handle.write("never closed")
    del handle
    gc.collect()
    assert not target.exists()


def test_overwrite_is_atomic(backend: Backend) -> None:
    target = backend.target("report.txt")
    with target.open("w") as handle:
        handle.write("old")
    handle = target.open("w")
    handle.write("new")
    with target.open("r") as reader:
        assert reader.read() == "old"
    handle.close()
    with target.open("r") as reader:
        assert reader.read() == "new"


def test_remove(backend: Backend) -> None:
    target = backend.target("gone.txt")
    with target.open("w") as handle:
        handle.write("x")
    target.remove()
    assert not target.exists()


def test_move_and_copy(backend: Backend) -> None:
    source = backend.target("a/source.txt")
    with source.open("w") as handle:
        handle.write("payload")
    source.fs.copy(source.path, backend.url("b/copy.txt"))
    source.fs.move(source.path, backend.url("c/moved.txt"))
    assert not source.exists()
    for name in ("b/copy.txt", "c/moved.txt"):
        with backend.target(name).open("r") as handle:
            assert handle.read() == "payload"


def test_rename_dont_move_refuses_to_overwrite(backend: Backend) -> None:
    first, second = backend.target("one.txt"), backend.target("two.txt")
    for target in (first, second):
        with target.open("w") as handle:
            handle.write(target.path)
    with pytest.raises(luigi.target.FileAlreadyExists):
        first.fs.rename_dont_move(first.path, second.path)
    with second.open("r") as handle:
        assert handle.read() == second.path


def test_listdir_is_recursive_and_hides_temporaries(backend: Backend) -> None:
    for name in ("x/1.txt", "x/y/2.txt"):
        with backend.target(name).open("w") as handle:
            handle.write(name)
    pending = backend.target("x/3.txt").open("w")
    pending.write("not yet")
    with backend.target("x/4.txt").temporary_path() as temporary:
        # A temporary written by a user's own tool must not show up either.
        backend.fs().pipe_file(temporary, b"half")
        listed = sorted(os.path.basename(p) for p in backend.target("x/1.txt").fs.listdir(backend.url("x")))
    assert listed == ["1.txt", "2.txt"]
    del pending


def test_temporary_path_publishes_on_success_only(backend: Backend) -> None:
    target = backend.target("tmp/out.bin")
    other_process = backend.fs()
    with pytest.raises(ValueError), target.temporary_path() as temporary:
        other_process.pipe_file(temporary, b"half")
        raise ValueError("tool failed")
    assert not target.exists()
    assert list(target.fs.listdir(backend.url())) == []
    with target.temporary_path() as temporary:
        assert temporary != target.path
        other_process.pipe_file(temporary, b"whole")
        assert not target.exists()
    with backend.target("tmp/out.bin", format=luigi.format.Nop).open("r") as handle:
        assert handle.read() == b"whole"


def test_exists_sees_another_writer_despite_listing_cache(backend: Backend) -> None:
    target = backend.target("shared/obj.txt")
    with backend.target("shared/sibling.txt").open("w") as handle:
        handle.write("here first")
    # Fill fsspec's listing cache with the directory as it is now: without obj.txt.
    listed = target.fs.fs.ls(target.fs.fs._strip_protocol(backend.url("shared")), detail=False)
    assert len(listed) == 1
    assert not target.exists()
    other_process = backend.fs()
    other_process.pipe_file(other_process._strip_protocol(target.path), b"from elsewhere")
    assert target.exists()
    with target.open("r") as handle:
        assert handle.read() == "from elsewhere"
    other_process.pipe_file(other_process._strip_protocol(target.path), b"changed")
    with target.open("r") as handle:
        assert handle.read() == "changed"
    other_process.rm(other_process._strip_protocol(target.path))
    assert not target.exists()


class WriteGreeting(luigi.Task):
    """A plain luigi.Task (no dash-pipeline base class) writing a FileTarget."""

    url = luigi.Parameter()
    options = luigi.DictParameter(default={})

    def output(self):
        return FileTarget(self.url, **self.options)

    def run(self):
        with self.output().open("w") as handle:
            handle.write("hello from luigi")


def test_works_inside_a_plain_luigi_task(backend: Backend) -> None:
    task = WriteGreeting(url=backend.url("luigi/greeting.txt"), options=backend.options)
    assert luigi.build([task], local_scheduler=True, log_level="WARNING")
    assert task.complete()
    with task.output().open("r") as handle:
        assert handle.read() == "hello from luigi"


KILLED_WRITER = """
import json, sys
from targets import FileTarget
url, options = sys.argv[1], json.loads(sys.argv[2])
handle = FileTarget(url, **options).open("w")
for _ in range(64):
    handle.write("x" * 65536)
handle.flush()
print("WRITING", flush=True)
sys.stdin.read()  # block until killed
"""


@pytest.mark.parametrize("name", ["local", "s3", "gcs"])  # memory:// lives inside one process only
def test_sigkill_during_write_leaves_nothing_at_the_final_url(name, request, tmp_path) -> None:
    from tests.conftest import make_backend

    backend = make_backend(name, request, tmp_path)
    url = backend.url("killed/out.txt")
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, url, json.dumps(backend.options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "WRITING"
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
    target = backend.target("killed/out.txt")
    assert not target.exists()
    assert list(target.fs.listdir(backend.url())) == []


def test_file_urls_paths_and_pathlib_name_the_same_file(tmp_path) -> None:
    plain = FileTarget(str(tmp_path / "same.txt"))
    with plain.open("w") as handle:
        handle.write("one file")
    for alias in (FileTarget(f"file://{tmp_path}/same.txt"), FileTarget(tmp_path / "same.txt")):
        assert alias.exists()
        with alias.open("r") as handle:
            assert handle.read() == "one file"
    with FileTarget(f"file://{tmp_path}/same.txt").temporary_path() as temporary:
        assert not temporary.startswith("file:")
        with open(temporary, "w") as handle:
            handle.write("rewritten")
    with plain.open("r") as handle:
        assert handle.read() == "rewritten"
