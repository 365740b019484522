"""A fan-in whose outputs are objects on S3 (moto_server) and GCS (fake-gcs-server), built by
plain luigi and by dashpipe with the same targets, with the requests each side makes.

    python benchmarks/bench_remote.py [--n 1000] [--stores s3,gcs]

Both sides build ``RemoteFanIn`` (``benchmarks/generated.py``): N leaves and one goal, each a
dash-pipeline ``FileTarget`` (plain luigi has no fsspec target), with luigi's embedded
scheduler, one worker, each step a new process. dashpipe also writes a build record per task
and checks staleness. Cases:

- first build;
- up-to-date rerun from a fresh checkout: dashpipe with an empty local record cache, as on
  another machine or in CI;
- up-to-date rerun on the same machine (dashpipe's record cache as its build left it).

Requests are counted from the emulator's own access log (every HTTP request it served).
Ratios are luigi's time over dashpipe's: above 1, dashpipe is faster.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import fsspec  # noqa: E402

from benchmarks.bench_build import Timing, dashpipe, vanilla  # noqa: E402  (sets the emulators' env)
from tests.servers import AccessLog, start_fake_gcs, start_moto  # noqa: E402


def measured(log: AccessLog, step: Callable[[], Timing]) -> tuple[Timing, int]:
    log.since()
    timing = step()
    return timing, len(log.since())


def store_rows(name: str, n: int, scratch: Path) -> None:
    server = start_moto(scratch) if name == "s3" else start_fake_gcs(scratch, log_level="info")
    try:
        options = {"endpoint_url": server.url}
        if name == "gcs":
            options.update(token="anon", project="bench")
        for side in ("luigi", "dp"):
            fsspec.filesystem(name, **options).mkdir(f"bench-{side}")
        log = AccessLog(server)
        ours_root, luigi_root = f"{name}://bench-dp/fan-in", f"{name}://bench-luigi/fan-in"
        build_cache, fresh_cache = scratch / f"{name}-cache-build", scratch / f"{name}-cache-fresh"

        def ours(cache: Path) -> Timing:
            os.environ["XDG_CACHE_HOME"] = str(cache)  # the record cache of this "machine"
            return dashpipe("run", "RemoteFanIn", ours_root, n, options=options)

        def theirs() -> Timing:
            return vanilla("RemoteFanIn", luigi_root, n, options=options)

        cases: list[tuple[str, Callable[[], Timing] | None, Callable[[], Timing]]] = [
            ("first build", theirs, lambda: ours(build_cache)),
            ("rerun, fresh checkout", theirs, lambda: ours(fresh_cache)),
            ("rerun, same machine", None, lambda: ours(build_cache)),
        ]
        tasks = n + 1
        for case, luigi_step, ours_step in cases:
            label = f"{name.upper()} fan-in {n:,}: {case}"
            base = measured(log, luigi_step) if luigi_step else None
            mine, mine_requests = measured(log, ours_step)
            if base is None:
                blank = f"{'—':>8} {mine.seconds:8.2f} {'—':>6} {'—':>10}"
                print(f"{label:42} {blank} {mine_requests / tasks:10.2f}", flush=True)
                continue
            (timing, requests), ratio = base, base[0].seconds / mine.seconds
            print(
                f"{label:42} {timing.seconds:8.2f} {mine.seconds:8.2f} {ratio:6.2f} "
                f"{requests / tasks:10.2f} {mine_requests / tasks:10.2f}",
                flush=True,
            )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="leaves of the fan-in")
    parser.add_argument("--stores", default="s3,gcs")
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print(f"{'case':42} {'luigi s':>8} {'ours s':>8} {'ratio':>6} {'luigi r/t':>10} {'ours r/t':>10}")
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as scratch:
        for name in args.stores.split(","):
            store_rows(name, args.n, Path(scratch))


if __name__ == "__main__":
    main()
