"""Builds through one central scheduler: `dashpipe run --scheduler` against `dashpipe scheduler`
(task history on), next to `luigi.build` against luigi's own `luigid` (its defaults).

    python benchmarks/bench_central.py [--sizes 1000,5000] [--shapes fan-in,chain]

dashpipe builds ``FanIn`` / ``Chain`` (``pipelines.Task``s writing ``FileTarget``s), luigi
``PlainFanIn`` / ``PlainChain`` (``luigi.Task``s writing ``luigi.LocalTarget``s), from scratch,
one worker process each, each side with a scheduler of its own started for the run. Times
include process start-up; "growth" is a size's time over the smallest size's.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_build import dashpipe, vanilla  # noqa: E402
from tests.servers import start_luigid, start_plain_luigid  # noqa: E402

GOALS = {"fan-in": ("FanIn", "PlainFanIn"), "chain": ("Chain", "PlainChain")}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--shapes", default="fan-in,chain")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    growth = f"{'luigi growth':>12} {'ours growth':>11}"
    print(f"{'case':24} {'luigi s':>9} {'dashpipe s':>10} {'ratio':>7} {growth}")
    for shape in args.shapes.split(","):
        ours_goal, luigi_goal = GOALS[shape]
        first: tuple[float, float] | None = None
        for n in sizes:
            with tempfile.TemporaryDirectory() as scratch:
                ours_server, luigi_server = start_luigid(Path(scratch)), start_plain_luigid(Path(scratch))
                try:
                    ours = dashpipe("run", ours_goal, f"{scratch}/ours", n, ours_server.url).seconds
                    base = vanilla(luigi_goal, f"{scratch}/luigi", n, luigi_server.url).seconds
                finally:
                    ours_server.stop()
                    luigi_server.stop()
            first = first or (base, ours)
            growth = f"{base / first[0]:12.1f} {ours / first[1]:11.1f}"
            print(f"{shape + f' {n:,}':24} {base:9.2f} {ours:10.2f} {base / ours:7.1f} {growth}", flush=True)


if __name__ == "__main__":
    main()
