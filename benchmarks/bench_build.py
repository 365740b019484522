"""Building N trivial tasks: dashpipe next to vanilla luigi, on the same graph, in the same run.

    python benchmarks/bench_build.py [--sizes 1000,5000,10000] [--shapes fan-in,chain]
                                     [--vanilla-up-to 10000] [--luigid-sizes 1000]

The graph is plain luigi (``benchmarks/generated.py``: ``PlainFanIn`` is one task needing N
leaves, ``PlainChain`` N tasks each needing the one before), with ``luigi.LocalTarget``
outputs: the same unmodified classes go through ``luigi.build`` and through ``dashpipe run``.
Every measurement is a new process, start-up included, output to /dev/null:

- first build, on luigi's embedded scheduler and (for --luigid-sizes) on one luigid;
- an up-to-date rerun of the built graph;
- ``dashpipe status`` of the built graph;
- with --remote N, a fan-in of N leaves whose outputs are on S3 (moto_server) and on GCS
  (fake-gcs-server): ``RemoteFanIn``, whose targets are dash-pipeline's ``FileTarget`` on both
  sides (plain luigi has no fsspec target), so the ratio is what dashpipe adds: the staleness
  check and a build record per task on the object store (bench_remote.py counts requests).

Ratios are vanilla time / dashpipe time (above 1: dashpipe is faster). Peak memory (max RSS)
of each process is reported too. Sizes above --vanilla-up-to skip luigi (it is quadratic:
minutes at 10,000).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# Emulators: dummy credentials, no cloud metadata lookups, no gcsfs probe for HNS buckets.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_GCE_CHECK"] = "true"

import fsspec  # noqa: E402

from tests.servers import start_fake_gcs, start_luigid, start_moto  # noqa: E402

GOALS = {"fan-in": "PlainFanIn", "chain": "PlainChain"}
VANILLA = """
import json, sys, luigi
from benchmarks import generated
options = {"options": json.loads(sys.argv[5])} if len(sys.argv) > 5 else {}
goal = getattr(generated, sys.argv[1])(root=sys.argv[2], n=int(sys.argv[3]), **options)
url = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
scheduler = {"scheduler_url": url} if url else {"local_scheduler": True}
sys.exit(0 if luigi.build([goal], log_level="WARNING", **scheduler) else 1)
"""


@dataclass
class Timing:
    seconds: float
    peak_mb: float


def timed(command: list[str]) -> Timing:
    """Run ``command`` in a new process; its wall time and its peak resident memory."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return Timing(seconds, usage.ru_maxrss / 1024)


def vanilla(
    goal: str, root: str, n: int, scheduler_url: str | None = None, options: dict | None = None
) -> Timing:
    extra = [scheduler_url or "-", *([json.dumps(options)] if options else [])]
    return timed([sys.executable, "-c", VANILLA, goal, root, str(n), *extra])


def dashpipe(
    command: str, goal: str, root: str, n: int, scheduler_url: str | None = None, options: dict | None = None
) -> Timing:
    return timed(
        [
            sys.executable,
            "-m",
            "pipelines",
            command,
            f"benchmarks/generated.py:{goal}",
            "--root",
            root,
            "--n",
            str(n),
            *(["--scheduler", scheduler_url] if scheduler_url else []),
            *(["--options", json.dumps(options)] if options else []),
        ]
    )


def row(case: str, base: Timing | None, ours: Timing) -> None:
    if base is None:
        print(f"{case:34} {'—':>9} {ours.seconds:10.2f} {'—':>7} {'—':>8} {ours.peak_mb:8.0f}")
    else:
        ratio = base.seconds / ours.seconds
        times = f"{base.seconds:9.2f} {ours.seconds:10.2f} {ratio:7.1f}"
        print(f"{case:34} {times} {base.peak_mb:8.0f} {ours.peak_mb:8.0f}")


def remote_builds(n: int, scratch: Path) -> None:
    """A fan-in whose outputs (and dashpipe's build records) are objects on S3 and on GCS."""
    servers = {"s3": start_moto(scratch), "gcs": start_fake_gcs(scratch)}
    try:
        for name, server in servers.items():
            options = {"endpoint_url": server.url}
            if name == "gcs":
                options.update(token="anon", project="bench")
            for side in ("luigi", "dp"):
                fsspec.filesystem(name, **options).mkdir(f"bench-{side}")
            base = vanilla("RemoteFanIn", f"{name}://bench-luigi/fan-in", n, options=options)
            ours = dashpipe("run", "RemoteFanIn", f"{name}://bench-dp/fan-in", n, options=options)
            row(f"fan-in {n:,} on {name.upper()}: first build", base, ours)
            again = vanilla("RemoteFanIn", f"{name}://bench-luigi/fan-in", n, options=options)
            row(
                f"fan-in {n:,} on {name.upper()}: rerun",
                again,
                dashpipe("run", "RemoteFanIn", f"{name}://bench-dp/fan-in", n, options=options),
            )
    finally:
        for server in servers.values():
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--shapes", default="fan-in,chain")
    parser.add_argument("--vanilla-up-to", type=int, default=10000)
    parser.add_argument("--luigid-sizes", default="1000")
    parser.add_argument("--remote", type=int, default=300, help="tasks for the S3 and GCS builds (0: none)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size]
    luigid_sizes = [int(size) for size in args.luigid_sizes.split(",") if size]
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print(f"{'case':34} {'luigi s':>9} {'dashpipe s':>10} {'luigi/dp':>7} {'luigi MB':>8} {'dp MB':>8}")
    first_builds: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
        for shape in args.shapes.split(","):
            goal = GOALS[shape]
            for n in sizes:
                ours_root, base_root = f"{scratch}/{shape}-{n}-dp", f"{scratch}/{shape}-{n}-luigi"
                base = vanilla(goal, base_root, n) if n <= args.vanilla_up_to else None
                ours = dashpipe("run", goal, ours_root, n)
                first_builds[(shape, n)] = ours.seconds
                row(f"{shape} {n:,}: first build", base, ours)
                base_again = vanilla(goal, base_root, n) if base else None
                row(f"{shape} {n:,}: up-to-date rerun", base_again, dashpipe("run", goal, ours_root, n))
                row(f"{shape} {n:,}: dashpipe status", None, dashpipe("status", goal, ours_root, n))
        if luigid_sizes:
            server = start_luigid(Path(scratch))
            try:
                for shape in args.shapes.split(","):
                    for n in luigid_sizes:
                        base = vanilla(GOALS[shape], f"{scratch}/d-{shape}-{n}-luigi", n, server.url)
                        ours = dashpipe("run", GOALS[shape], f"{scratch}/d-{shape}-{n}-dp", n, server.url)
                        row(f"{shape} {n:,}: first build, luigid", base, ours)
            finally:
                server.stop()
        if args.remote:
            remote_builds(args.remote, Path(scratch))
    for shape in args.shapes.split(","):
        smallest, largest = min(sizes), max(sizes)
        if smallest != largest and (shape, smallest) in first_builds:
            growth = first_builds[(shape, largest)] / first_builds[(shape, smallest)]
            print(f"# {shape}: {largest:,} tasks took {growth:.1f}x the time of {smallest:,} tasks")


if __name__ == "__main__":
    main()
