"""Worker processes against one central scheduler: dashpipe run -j N next to luigi.build(workers=N).

    python benchmarks/bench_scheduler.py [--tasks 300]

A fan-in of N leaves, each waiting 50 ms like a task waiting on I/O, built from
scratch through a luigid started with `dashpipe scheduler`, with 1, 2 and 3
worker processes. Both sides run in a new process; times include start-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers import start_luigid  # noqa: E402

VANILLA = """
import sys, luigi
from benchmarks.generated import SleepyFanIn
ok = luigi.build([SleepyFanIn(root=sys.argv[1], n=int(sys.argv[2]))], workers=int(sys.argv[3]),
                 scheduler_url=sys.argv[4], log_level="WARNING")
sys.exit(0 if ok else 1)
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scheduler = start_luigid(Path(scratch))
        try:
            for workers in (1, 2, 3):
                ours = timed(
                    [
                        sys.executable,
                        "-m",
                        "pipelines",
                        "run",
                        "benchmarks/generated.py:SleepyFanIn",
                        "--root",
                        f"{scratch}/ours-{workers}",
                        "--n",
                        str(args.tasks),
                        "-j",
                        str(workers),
                        "--scheduler",
                        scheduler.url,
                    ]
                )
                vanilla = timed(
                    [
                        sys.executable,
                        "-c",
                        VANILLA,
                        f"{scratch}/vanilla-{workers}",
                        str(args.tasks),
                        str(workers),
                        scheduler.url,
                    ]
                )
                rows.append((workers, vanilla, ours))
        finally:
            scheduler.stop()
    print(f"{'workers':>7} {'luigi s':>8} {'dashpipe s':>10} {'ratio':>6} {'speed-up vs 1':>14}")
    for workers, vanilla, ours in rows:
        print(f"{workers:>7} {vanilla:8.2f} {ours:10.2f} {ours / vanilla:6.2f} {rows[0][2] / ours:14.2f}")


if __name__ == "__main__":
    main()
