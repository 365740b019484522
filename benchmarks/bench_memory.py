"""Peak memory of dashpipe on a 100,000-task graph (the goal: under 2 GB).

    python benchmarks/bench_memory.py [--tasks 100000] [--shape fan-in|chain]

Three new processes on the same plain-luigi graph (``benchmarks/generated.py``): the first
build, ``dashpipe status`` of the built graph, and an up-to-date rerun. Each one's wall time
and peak resident memory (max RSS, from the kernel) are printed. Vanilla luigi is not run at
this size: its embedded scheduler is quadratic (4 minutes at 10,000 tasks on a 2-core VM).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

from bench_build import GOALS, dashpipe  # the script's own directory is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--shape", choices=sorted(GOALS), default="fan-in")
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')} · {args.shape}, {args.tasks:,} tasks"
    )
    print(f"{'case':24} {'seconds':>8} {'peak MB':>8}")
    goal = GOALS[args.shape]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        for case, command in (
            ("first build", "run"),
            ("status, built", "status"),
            ("up-to-date rerun", "run"),
        ):
            timing = dashpipe(command, goal, scratch, args.tasks)
            print(f"{case:24} {timing.seconds:8.1f} {timing.peak_mb:8.0f}")


if __name__ == "__main__":
    main()
