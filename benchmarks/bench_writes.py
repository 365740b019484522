"""What atomic, fresh targets cost, side by side with the baselines they replace.

    python benchmarks/bench_writes.py [--files 300]

Local disk: dash-pipeline's FileTarget against luigi.LocalTarget (both write a
temporary and rename; FileTarget also fsyncs). S3 on moto_server: FileTarget
(local staging, one upload) against writing straight through s3fs (not
atomic), and FileTarget.exists() (drops fsspec's cache first) against s3fs's
exists() from its listing cache and after invalidating it. Prints seconds and
ratios (dashpipe / baseline; below 1 is faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import fsspec
import luigi

from targets import FileTarget
from tests.servers import start_moto

PAYLOAD = b"x" * 4096


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def best_of(repeats: int, action: Callable[[], None]) -> float:
    return min(timed(action) for _ in range(repeats))


def local(files: int, root: Path) -> list[tuple[str, float, float]]:
    def luigi_writes() -> None:
        directory = root / uuid.uuid4().hex
        for i in range(files):
            with luigi.LocalTarget(str(directory / f"{i}.bin"), format=luigi.format.Nop).open("w") as handle:
                handle.write(PAYLOAD)

    def dashpipe_writes() -> None:
        directory = root / uuid.uuid4().hex
        for i in range(files):
            with FileTarget(str(directory / f"{i}.bin"), format=luigi.format.Nop).open("w") as handle:
                handle.write(PAYLOAD)

    base, ours = best_of(3, luigi_writes), best_of(3, dashpipe_writes)
    return [(f"local: write {files} x 4 KiB (vs luigi.LocalTarget)", base, ours)]


def s3(files: int, endpoint: str) -> list[tuple[str, float, float]]:
    options = {"endpoint_url": endpoint}
    fs = fsspec.filesystem("s3", **options)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)

    def raw_writes() -> None:
        prefix = f"{bucket}/{uuid.uuid4().hex}"
        for i in range(files):
            with fs.open(f"{prefix}/{i}.bin", "wb") as handle:
                handle.write(PAYLOAD)

    prefix = f"{bucket}/{uuid.uuid4().hex}"

    def dashpipe_writes() -> None:
        for i in range(files):
            with FileTarget(f"s3://{prefix}/{i}.bin", format=luigi.format.Nop, **options).open("w") as handle:
                handle.write(PAYLOAD)

    write_base, write_ours = best_of(3, raw_writes), best_of(3, dashpipe_writes)
    fs.ls(prefix)  # the listing cache now answers raw exists() without a request
    urls = [f"s3://{prefix}/{i}.bin" for i in range(files)]
    exists_base = best_of(3, lambda: [fs.exists(url) for url in urls])
    exists_ours = best_of(3, lambda: [FileTarget(url, **options).exists() for url in urls])

    def raw_fresh_exists() -> None:
        for url in urls:
            fs.invalidate_cache(url)
            fs.exists(url)

    fresh_base = best_of(3, raw_fresh_exists)
    return [
        (f"s3: write {files} x 4 KiB (vs s3fs open/write, not atomic)", write_base, write_ours),
        (f"s3: exists() on {files} objects (vs s3fs from its listing cache)", exists_base, exists_ours),
        (f"s3: exists() on {files} objects (vs s3fs after invalidate_cache)", fresh_base, exists_ours),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d')}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        rows = local(args.files, Path(scratch))
        server = start_moto(Path(scratch))
        try:
            rows += s3(args.files, server.url)
        finally:
            server.stop()
    print(f"{'case':70} {'baseline s':>10} {'dashpipe s':>10} {'ratio':>6}")
    for name, base, ours in rows:
        print(f"{name:70} {base:10.3f} {ours:10.3f} {ours / base:6.2f}")


if __name__ == "__main__":
    main()
