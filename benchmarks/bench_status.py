"""`dashpipe status` on an up-to-date pipeline, against checking each target's existence one by one.

    python benchmarks/bench_status.py [--local 10000] [--remote 2000]

Local: N files with build records; `dashpipe status` is timed end to end (a new
process, imports included, best of 3) next to luigi's own way of checking the
same tasks: complete() of every task, one exists() each, in process.
S3 (moto_server) and GCS (fake-gcs-server): N objects; the staleness
assessment is timed and its requests counted next to one exists() per target.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_GCE_CHECK"] = "true"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import fsspec  # noqa: E402
import gcsfs  # noqa: E402
import s3fs  # noqa: E402

from benchmarks.generated import FanIn, RemoteFanIn  # noqa: E402
from pipelines.assessment.staleness import assess  # noqa: E402
from pipelines.report.status import mark_fresh  # noqa: E402
from tests.servers import start_fake_gcs, start_moto  # noqa: E402

requests: Counter[str] = Counter()


def count_requests() -> None:
    """Instrument the clients: every S3 API call and GCS HTTP call is counted."""
    original_s3, original_gcs = s3fs.S3FileSystem._call_s3, gcsfs.GCSFileSystem._call

    async def counted_s3(self, method, *args, **kwargs):
        requests[f"s3 {getattr(method, '__name__', method)}"] += 1
        return await original_s3(self, method, *args, **kwargs)

    async def counted_gcs(self, method, path, *args, **kwargs):
        requests[f"gcs {method}"] += 1
        return await original_gcs(self, method, path, *args, **kwargs)

    s3fs.S3FileSystem._call_s3 = counted_s3
    gcsfs.GCSFileSystem._call = counted_gcs


def best_of(runs: int, action) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def built_fan_in(n: int, root: Path) -> FanIn:
    """A fan-in of ``n`` leaves under ``root``, every output there and recorded as up to date."""
    for index in range(n):
        path = root / "leaves" / f"{index // 1000:03d}" / f"{index:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{index}\n")
    (root / f"fan-in-{n}.txt").write_text(f"{n}\n")
    goal = FanIn(root=str(root), n=n)
    mark_fresh(assess([goal]), frozenset())
    return goal


def local(n: int, root: Path) -> list[tuple[str, float, float, str]]:
    built_fan_in(n, root)
    command = [
        sys.executable,
        "-m",
        "pipelines",
        "status",
        "benchmarks/generated.py:FanIn",
        "--root",
        str(root),
        "--n",
        str(n),
    ]

    def status() -> None:
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
        assert "nothing to rebuild" in result.stdout, result.stdout

    luigi_way = [sys.executable, "-c", LUIGI_CHECK, str(root), str(n)]

    def every_complete() -> None:
        subprocess.run(luigi_way, cwd=REPO, check=True)

    ours = best_of(3, status)
    baseline = best_of(3, every_complete)
    return [(f"local: {n + 1} tasks, status vs complete() of each (new process)", baseline, ours, "")]


# luigi's own answer to "is everything built?": existence of every task's outputs, from a new process.
LUIGI_CHECK = """
import sys
from benchmarks.generated import FanIn
goal = FanIn(root=sys.argv[1], n=int(sys.argv[2]))
assert all(task.complete() for task in [goal, *goal.requires()])
"""


def remote(name: str, n: int, root: str, options: dict) -> list[tuple[str, float, float, str]]:
    fs = fsspec.filesystem(root.split("://")[0], **options)
    fs.pipe({f"{root}/leaves/{i // 1000:03d}/{i:06d}.txt": f"{i}\n".encode() for i in range(n)})
    fs.pipe_file(f"{root}/fan-in-{n}.txt", f"{n}\n".encode())
    goal = RemoteFanIn(root=root, n=n, options=options)
    mark_fresh(assess([goal]), frozenset())
    targets = [task.output() for task in [goal, *goal.requires()]]

    def measured(action):
        requests.clear()
        seconds = best_of(1, action)
        return seconds, sum(requests.values())

    cold_s, cold_requests = measured(lambda: assess([goal]))  # records not in the local cache yet
    warm_s, warm_requests = measured(lambda: assess([goal]))
    exists_s, exists_requests = measured(lambda: [target.exists() for target in targets])
    return [
        (
            f"{name}: {n + 1} objects, first status vs exists() each",
            exists_s,
            cold_s,
            f"requests {cold_requests} vs {exists_requests}",
        ),
        (
            f"{name}: {n + 1} objects, later status vs exists() each",
            exists_s,
            warm_s,
            f"requests {warm_requests} vs {exists_requests}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--local", type=int, default=10000)
    parser.add_argument("--remote", type=int, default=2000)
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    count_requests()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["XDG_CACHE_HOME"] = str(Path(scratch) / "cache")
        rows += local(args.local, Path(scratch) / "local")
        moto, fake_gcs = start_moto(Path(scratch)), start_fake_gcs(Path(scratch))
        try:
            s3_options = {"endpoint_url": moto.url}
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            fsspec.filesystem("s3", **s3_options).mkdir(bucket)
            rows += remote("S3 (moto_server)", args.remote, f"s3://{bucket}/p", s3_options)
            gcs_options = {"endpoint_url": fake_gcs.url, "token": "anon", "project": "bench"}
            fsspec.filesystem("gcs", **gcs_options).mkdir(bucket)
            rows += remote("GCS (fake-gcs-server)", args.remote, f"gs://{bucket}/p", gcs_options)
        finally:
            moto.stop()
            fake_gcs.stop()
    print(f"{'case':62} {'baseline s':>10} {'dashpipe s':>10} {'ratio':>6}  notes")
    for name, base, ours, notes in rows:
        print(f"{name:62} {base:10.3f} {ours:10.3f} {ours / base:6.2f}  {notes}")


if __name__ == "__main__":
    main()
