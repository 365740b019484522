"""What ``dashpipe watch`` costs between passes: the requests and time of one look at its inputs on
S3, and the CPU of a watcher that has nothing to do.

    python benchmarks/bench_watch.py [--n 10000] [--prefixes 1,10] [--polls 3] [--idle-seconds 60]

1. Requests per poll. N input objects on a real ``moto_server``, under one prefix and (second
   case) spread over 10 prefixes, each a dash-pipeline ``FileTarget``, plus one declared input
   that has not arrived yet. A poll is one ``snapshot()`` of them all, as the watcher makes every
   --interval (``pipelines/triggers/input_watch.py``); the baseline, side by side on the same
   objects, is what luigi does to learn the same thing: one ``exists()`` per target. Requests are
   counted in moto's own access log (every request it served), and summarised by kind when a
   poll makes anything but listings. Rows: the watcher's first look (at the first targets the
   process made), idle polls (at targets made again, as the watcher does after each pass; best
   of --polls, all with the same requests), and a poll after the missing input was uploaded and
   an existing one rewritten: it must see exactly those two change, or the benchmark fails, so
   fsspec's listing cache cannot pass for a look at the store. The goal (issue): at most one
   LIST request per 1,000 objects per prefix ("goal" column).
2. CPU of an idle watcher. ``python -m pipelines watch`` on the two-step YAML pipeline of
   ``tests/triggers/test_watch.py`` (local inputs), once its first pass has ended; CPU time is
   utime + stime of the watcher and its descendants from ``/proc``, over --idle-seconds. Against
   the goal: under 1 % of a core at ``--interval 5``. An idle ``sleep`` would be a meaningless
   baseline (it is 0); the honest one is the same watcher at ``--interval 1``, run at the same
   time over the same window: the difference between the two, divided by the difference in
   polls, is what one poll costs, and what remains is the cost of being alive at all. CPU time
   is read two ways: clock ticks (utime + stime, 10 ms grains, reaped children included) and
   each live thread's schedstat (nanoseconds, with its wake-ups), which also tells the main
   thread (the polls) from the others (the local-file notification thread).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import fsspec  # noqa: E402
import luigi  # noqa: E402

from pipelines.triggers.input_watch import Snapshot, changed, snapshot  # noqa: E402
from targets import FileTarget  # noqa: E402
from tests.servers import AccessLog, Server, start_moto  # noqa: E402
from tests.triggers.inbox import PIPELINE  # noqa: E402

KEYS_PER_LIST = 1000  # S3's page size for ListObjectsV2


def shape(method: str, path: str) -> str:
    """A request with its object key and query values left out: what kind of request it was."""
    split = urllib.parse.urlsplit(path)
    parts = split.path.lstrip("/").split("/", 1)
    where = f"/{parts[0]}" + ("/<key>" if len(parts) > 1 and parts[1] else "/" if len(parts) > 1 else "")
    query = sorted(urllib.parse.parse_qs(split.query, keep_blank_values=True))
    return f"{method} {where}" + (f"?{'&'.join(query)}" if query else "")


def is_list(method: str, path: str) -> bool:
    return method == "GET" and "list-type=2" in path


@dataclass
class Look:
    seconds: float
    requests: list[tuple[str, str]]

    @property
    def lists(self) -> int:
        return sum(is_list(method, path) for method, path in self.requests)

    def summary(self) -> str:
        kinds = Counter(shape(method, path) for method, path in self.requests)
        return ", ".join(f"{count} × {kind}" for kind, count in kinds.most_common())


def looked(log: AccessLog, action: Callable[[], object]) -> tuple[Look, object]:
    log.since()
    began = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - began
    # moto writes its access log line after answering: wait until nothing more arrives.
    requests = log.since()
    while True:
        time.sleep(0.2)
        more = log.since()
        if not more:
            break
        requests += more
    return Look(seconds, requests), result


def lists_allowed(urls: list[str]) -> int:
    """The goal for a look at ``urls`` (those present): one LIST per 1,000 objects per prefix."""
    per_prefix = Counter(url.rsplit("/", 1)[0] for url in urls)
    return sum(-(-count // KEYS_PER_LIST) for count in per_prefix.values())


def row(label: str, baseline: Look, look: Look, present: list[str]) -> None:
    allowed = lists_allowed(present)
    print(
        f"{label:54} {baseline.seconds:8.2f} {look.seconds:8.3f} {baseline.seconds / look.seconds:7.1f} "
        f"{len(baseline.requests):9,} {len(look.requests):7,} {look.lists:6} {allowed:5} "
        f"{look.lists / (len(present) / KEYS_PER_LIST):8.2f}",
        flush=True,
    )
    if len(look.requests) != look.lists or look.lists > allowed:
        print(f"#   more than {allowed} LISTs: {look.summary()}", flush=True)


def s3_case(server: Server, n: int, prefixes: int, polls: int) -> None:
    options: dict[str, Any] = {"endpoint_url": server.url}
    fs = fsspec.filesystem("s3", **options)
    bucket = f"watch-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    urls = [f"s3://{bucket}/in/p{index % prefixes:02d}/{index:06d}.csv" for index in range(n)]
    uploading = time.perf_counter()
    fs.pipe({url: f"{index}\n".encode() for index, url in enumerate(urls)})
    uploaded = time.perf_counter() - uploading
    arriving = f"s3://{bucket}/in/p00/arriving.csv"  # declared, not there yet: what a watcher waits for
    declared = [*urls, arriving]
    log = AccessLog(server)
    label = f"S3 {n:,} objects, {prefixes} prefix{'es' if prefixes > 1 else ''}"
    print(f"# {label}: uploaded in {uploaded:.1f} s", flush=True)

    def look_at(targets: list[luigi.Target]) -> tuple[Look, Snapshot]:
        look, found = looked(log, lambda: snapshot(targets))
        assert isinstance(found, dict)
        return look, found

    # The watcher's first look is at the targets its graph made; after each pass it asks the graph
    # again (Watcher.run_pass), so every later poll is at targets made later in the process.
    first_look, first = look_at([FileTarget(url, **options) for url in declared])
    targets: list[luigi.Target] = [FileTarget(url, **options) for url in declared]
    idle: list[Look] = []
    for _ in range(polls):
        look, found = look_at(targets)
        assert sum(identity is not None for identity in found.values()) == n, "a poll missed objects"
        assert found[arriving] is None
        assert found == first, "an idle poll saw a change"
        idle.append(look)
    baseline, present = looked(log, lambda: [target.exists() for target in targets])
    assert present == [True] * n + [False]

    rewritten = urls[n // 2]
    fs.pipe({arriving: b"new\n", rewritten: b"rewritten\n"})
    after, found = look_at(targets)
    # The proof that each poll is a real look, not fsspec's listing cache.
    assert changed(first, found) == sorted([arriving, rewritten]), changed(first, found)

    assert len({len(look.requests) for look in idle}) == 1, [look.summary() for look in idle]
    best = min(idle, key=lambda look: look.seconds)
    row(f"{label}: first look", baseline, first_look, urls)
    row(f"{label}: idle poll (best of {polls})", baseline, best, urls)
    row(f"{label}: poll after 2 changes", baseline, after, declared)
    print(f"#   baseline requests: {baseline.summary()}", flush=True)
    print(f"#   idle poll requests: {best.summary()}", flush=True)


def s3_polls(n: int, prefix_counts: list[int], polls: int, scratch: Path) -> None:
    server = start_moto(scratch)
    try:
        print(
            f"{'case':54} {'exists s':>8} {'poll s':>8} {'ratio':>7} {'exists r':>9} {'poll r':>7} "
            f"{'LISTs':>6} {'goal':>5} {'LIST/1k':>8}"
        )
        for prefixes in prefix_counts:
            s3_case(server, n, prefixes, polls)
    finally:
        server.stop()


@dataclass
class Cpu:
    ticks: int  # utime + stime (+ reaped children's), in clock ticks: everything, coarsely
    run_ns: int  # time on a CPU of each live thread (schedstat): precise, live threads only
    threads: dict[int, tuple[int, int]]  # thread id -> (ns on a CPU, times it was scheduled)


def cpu_of_tree(root: int) -> Cpu:
    """The CPU used so far by ``root`` and every live descendant."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # it ended while we looked
            continue
        fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
        # Counted from the state field: ppid is 1, utime stime cutime cstime are 11 to 14.
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = sum(int(value) for value in fields[11:15])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    threads: dict[int, tuple[int, int]] = {}
    for pid in tree:
        for thread in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                ran, _, slices = (int(value) for value in thread.read_text().split())
            except OSError:
                continue
            threads[int(thread.parent.name)] = (ran, slices)
    return Cpu(sum(ticks.get(pid, 0) for pid in tree), sum(ran for ran, _ in threads.values()), threads)


def where(root: int, start: Cpu, end: Cpu) -> str:
    """The main thread's share and the other threads', with how often each woke up."""
    main, others = [0, 0], [0, 0]
    for thread, (ran, slices) in end.threads.items():
        before = start.threads.get(thread, (0, 0))
        share = main if thread == root else others
        share[0] += ran - before[0]
        share[1] += slices - before[1]
    return (
        f"main thread {main[0] / 1e6:.1f} ms in {main[1]} wake-ups, "
        f"other threads {others[0] / 1e6:.1f} ms in {others[1]} wake-ups"
    )


@dataclass
class Watching:
    interval: float
    process: subprocess.Popen
    log: Path


# What the watcher says once its first pass ended ("...; watching 2 inputs (every 5s)").
WATCHING = "watching 2 inputs (every "


def start_watcher(scratch: Path, interval: float) -> Watching:
    root = scratch / f"watch-{interval:g}s"
    (root / "in").mkdir(parents=True)
    (root / "inbox.yaml").write_text(PIPELINE)
    (root / "in" / "orders.csv").write_text("o1\n")
    (root / "in" / "prices.csv").write_text("p1\n")
    log = root / "watch.log"
    env = {
        **os.environ,
        # The watch lock and record cache of this benchmark, not the user's.
        "XDG_STATE_HOME": str(scratch / "state"),
        "XDG_CACHE_HOME": str(scratch / "cache"),
    }
    command = [sys.executable, "-m", "pipelines", "watch", str(root / "inbox.yaml"), "--root", str(root)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, "--interval", f"{interval:g}"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Watching(interval, process, log)


def wait_until_watching(watching: Watching, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while WATCHING not in watching.log.read_text(errors="replace"):
        if watching.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the watcher did not start watching:\n{watching.log.read_text()[-3000:]}")
        time.sleep(0.1)


def stop(watching: Watching) -> None:
    if watching.process.poll() is None:
        os.killpg(watching.process.pid, signal.SIGTERM)
        try:
            watching.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(watching.process.pid, signal.SIGKILL)
            watching.process.wait(timeout=30)


def idle_cpu(seconds: float, scratch: Path) -> None:
    hertz = os.sysconf("SC_CLK_TCK")
    # Both at once, over the same window: whatever else the machine does falls on both.
    watchers = [start_watcher(scratch, interval) for interval in (5.0, 1.0)]
    try:
        for watching in watchers:
            wait_until_watching(watching)
        time.sleep(1.0)  # past the end of the first pass's own clean-up
        before = [cpu_of_tree(watching.process.pid) for watching in watchers]
        began = time.monotonic()
        time.sleep(seconds)
        took = time.monotonic() - began
        after = [cpu_of_tree(watching.process.pid) for watching in watchers]
        for watching in watchers:
            output = watching.log.read_text(errors="replace")
            assert watching.process.poll() is None, output[-3000:]
            # Idle means idle: nothing changed, so the first pass was the only one.
            assert output.count(WATCHING) == 1 and " changed" not in output, output[-3000:]
    finally:
        for watching in watchers:
            stop(watching)
    coarse = [(end.ticks - start.ticks) / hertz for start, end in zip(before, after, strict=True)]
    precise = [(end.run_ns - start.run_ns) / 1e9 for start, end in zip(before, after, strict=True)]
    polls = [took / watching.interval for watching in watchers]
    print(
        f"{'idle watcher, 2 local inputs':54} {'window s':>8} {'polls':>6} {'CPU s':>7} {'% core':>7} "
        f"{'threads s':>9} {'% core':>7}"
    )
    for watching, cpu, ran, count in zip(watchers, coarse, precise, polls, strict=True):
        print(
            f"{'--interval ' + format(watching.interval, 'g'):54} {took:8.1f} {count:6.0f} {cpu:7.2f} "
            f"{100 * cpu / took:7.3f} {ran:9.3f} {100 * ran / took:7.3f}"
        )
    for watching, start, end in zip(watchers, before, after, strict=True):
        print(f"#   --interval {watching.interval:g}: {where(watching.process.pid, start, end)}")
    per_poll = (precise[1] - precise[0]) / (polls[1] - polls[0])
    alive = precise[0] - per_poll * polls[0]
    print(
        f"# one poll ≈ {per_poll * 1000:.2f} ms of CPU; the rest ≈ {100 * alive / took:.3f} % of a core; "
        f"CPU at --interval 1 / at --interval 5: {precise[1] / precise[0]:.2f} "
        f"(CPU s in clock ticks of {1000 / hertz:g} ms, threads s from schedstat)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10000, help="input objects on S3")
    parser.add_argument("--prefixes", default="1,10", help="cases: over how many prefixes they spread")
    parser.add_argument("--polls", type=int, default=3, help="idle polls per case (best is shown)")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--skip", choices=["s3", "idle"], help="leave one of the two measurements out")
    options = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{platform.platform()} · {time.strftime('%Y-%m-%d')}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as scratch:
        if options.skip != "s3":
            prefix_counts = [int(count) for count in options.prefixes.split(",")]
            s3_polls(options.n, prefix_counts, options.polls, Path(scratch))
        if options.skip != "idle":
            idle_cpu(options.idle_seconds, Path(scratch))


if __name__ == "__main__":
    main()
