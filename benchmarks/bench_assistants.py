"""A backfill through one central scheduler, built by its run alone and with assistants helping.

    python benchmarks/bench_assistants.py [--days 300] [--assistants 0,1,2,3]

`dashpipe backfill` of ``SleepyDay`` (one task per date, each waiting 50 ms as on I/O, then
writing a ``FileTarget``) for ``--days`` dates, against `dashpipe scheduler`, with the run's one
worker (``-j 1``) and 0 to 3 `dashpipe worker` processes (``-j 1`` each) started beforehand,
all on this machine. Speed-up is the run's wall time alone over its time with helpers; workers
poll every 0.1 s when idle (``[worker] wait_interval``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers import start_luigid  # noqa: E402

WORKER_CONFIG = "[worker]\nwait_interval = 0.1\nwait_jitter = 0\n"
FIRST_DAY = dt.date(2025, 1, 1)


def backfill(days: int, assistants: int, scratch: Path) -> float:
    config = scratch / "luigi.cfg"
    config.write_text(WORKER_CONFIG)
    env = {**os.environ, "LUIGI_CONFIG_PATH": str(config)}
    server = start_luigid(scratch, state=scratch / "state")
    command = [sys.executable, "-m", "pipelines"]
    helpers = [
        subprocess.Popen(
            [*command, "worker", "--scheduler", server.url, "benchmarks/generated.py"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(assistants)
    ]
    last = FIRST_DAY + dt.timedelta(days=days - 1)
    try:
        start = time.perf_counter()
        subprocess.run(
            [
                *command,
                "backfill",
                "benchmarks/generated.py:SleepyDay",
                "--from",
                FIRST_DAY.isoformat(),
                "--to",
                last.isoformat(),
                "--root",
                str(scratch / "out"),
                "--scheduler",
                server.url,
            ],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
    finally:
        for helper in helpers:
            os.killpg(helper.pid, signal.SIGKILL)
            helper.wait()
        server.stop()
    built = len(list((scratch / "out" / "days").glob("*.txt")))
    if built != days:
        raise SystemExit(f"built {built} of {days} days with {assistants} assistants")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--assistants", default="0,1,2,3")
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')} · {args.days} days"
    )
    print(f"{'assistants':>10} {'workers':>8} {'seconds':>8} {'speed-up':>8}")
    alone: float | None = None
    for assistants in (int(count) for count in args.assistants.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            seconds = backfill(args.days, assistants, Path(scratch))
        alone = alone or seconds
        print(f"{assistants:>10} {assistants + 1:>8} {seconds:8.2f} {alone / seconds:8.2f}", flush=True)


if __name__ == "__main__":
    main()
