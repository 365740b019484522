"""Two ``dashpipe watch`` processes, as on two machines, keeping the same goals built through one
central scheduler: each build happens once, on whichever watcher luigid hands it to; the other's
pass counts it as built by another worker.

The first test's steps wait at a gate until both watchers have scheduled them: luigid's own
dedup of a task under way. The second has none: a watcher that judged a task stale a moment
before the other built it schedules it once it is done, and luigid (whose done-cooldown
``dashpipe scheduler`` turns off, so that real rebuilds are never ignored) hands it out again;
the worker must find it built meanwhile. Without that check, 6 runs in 10 built a task twice."""

from __future__ import annotations

import json
import re
import signal
import urllib.parse
import urllib.request
from pathlib import Path

from pipelines.errors import ExitCode
from pipelines.execute.run_history import Run
from tests.helpers import Gate, wait_until
from tests.servers import Server
from tests.triggers.inbox import PIPELINE
from tests.triggers.test_watch import Watching, inbox, ran, start_watch, watchers

__all__ = ["inbox", "watchers"]  # fixtures, found by name

ORDERS = 'orders:\n    shell: "'
PRICES = 'prices:\n    shell: "'
# Each build waits at the gate, then appends a line to its step's own file: a count that no
# journal or report keeps.
COUNTED = PIPELINE.replace(
    ORDERS, ORDERS + "flock -s {root}/gate true && echo x >> {root}/builds-orders.log && "
).replace(PRICES, PRICES + "flock -s {root}/gate true && echo x >> {root}/builds-prices.log && ")
# A worker waiting for another's task asks luigid again after 1 s and up to 5 s of jitter.
QUICK_WORKERS = "[worker]\nwait_interval = 0.1\nwait_jitter = 0\n"
# After each pass: "dashpipe watch: last run 12:00:00 ok; watching 2 inputs (every 0.2s)".
WAITING = re.compile(r"^dashpipe watch: (.*; )?watching ")


def start_machine(root: Path, scheduler: Server, name: str) -> Watching:
    """``start_watch`` on a machine of its own: its own state directory, so its own watcher lock."""
    return start_watch(
        root,
        *("--interval", "0.2", "--settle", "0.3", "--scheduler", scheduler.url),
        name=name,
        env={"XDG_STATE_HOME": str(root / f"state-{name}"), "LUIGI_CONFIG_PATH": str(root / "luigi.cfg")},
    )


def workers_of(scheduler: Server, root: Path) -> dict[str, set[str]]:
    """Per step of the pipeline under ``root``, every luigi worker that has scheduled it (a
    worker is one run of a watcher; luigid keeps those of earlier runs for a while)."""
    found: dict[str, set[str]] = {}
    for status in ("PENDING", "RUNNING", "DONE"):
        query = urllib.parse.quote(json.dumps({"status": status}))
        with urllib.request.urlopen(f"{scheduler.url}/api/task_list?data={query}") as reply:
            tasks = json.loads(reply.read())["response"]
        for task in tasks.values():
            if task["name"].startswith("inbox.") and task["params"].get("root") == str(root):
                found.setdefault(task["name"].removeprefix("inbox."), set()).update(task["workers"])
    return found


def builds(root: Path, step: str) -> int:
    path = root / f"builds-{step}.log"
    return len(path.read_text().splitlines()) if path.exists() else 0


def idle_after(watching: Watching, passes: int) -> bool:
    """The watcher's last word is that it is watching, and it has said so after ``passes`` passes."""
    said = [line for line in watching.output().splitlines() if line.startswith("dashpipe watch: ")]
    waiting = [line for line in said if WAITING.search(line)]
    return len(waiting) >= passes and said[-1] == waiting[-1]


# A task's line in a run's report: "       ran  inbox.orders(root=...)  0.01s".
REPORTED = re.compile(r"^ *(ran|up to date|failed)  (\S+\(.*?\))", re.M)


def reported_twice(watching: Watching) -> list[str]:
    """Tasks that one run's report lists more than once."""
    twice = []
    for report in re.split(r"^dashpipe watch: last run .*$", watching.output(), flags=re.M):
        names = [found.group(2) for found in REPORTED.finditer(report)]
        twice += sorted({name for name in names if names.count(name) > 1})
    return twice


def by_watcher(machines: list[Watching]) -> list[list[Run]]:
    """The ended runs in the journals both write, split by the watcher (process) that ran them."""
    runs = machines[0].runs()
    assert {run.pid for run in runs} <= {machine.process.pid for machine in machines}, runs
    return [[run for run in runs if run.pid == machine.process.pid] for machine in machines]


def elsewhere(run: Run) -> list[str]:
    return sorted(task_id.split("__")[0] for task_id in run.elsewhere)


def test_two_watchers_sharing_a_scheduler_build_each_task_once(
    inbox: Path, watchers: list[Watching], luigid_server: Server
) -> None:
    (inbox / "inbox.yaml").write_text(COUNTED)
    (inbox / "luigi.cfg").write_text(QUICK_WORKERS)
    gate = Gate(inbox / "gate")
    machines = [start_machine(inbox, luigid_server, name) for name in ("a", "b")]
    watchers.extend(machines)
    processes = [machine.process for machine in machines]

    def both_schedule(steps: list[str], known: dict[str, set[str]]) -> None:
        """Until two runs not among ``known`` have scheduled each of ``steps``."""
        wait_until(
            lambda: all(
                len(workers_of(luigid_server, inbox).get(step, set()) - known.get(step, set())) >= 2
                for step in steps
            ),
            f"both watchers to schedule {steps}",
            processes,
            timeout_s=90,
        )

    def both_idle_after(passes: int) -> str:
        wait_until(
            lambda: all(idle_after(machine, passes) for machine in machines),
            f"both watchers to be watching after pass {passes}",
            processes,
            timeout_s=90,
        )
        return "\n".join(machine.output() for machine in machines)

    both_schedule(["orders", "prices"], {})
    gate.open()
    said = both_idle_after(1)
    runs = by_watcher(machines)
    assert [len(each) for each in runs] == [1, 1], said
    first = [each[-1] for each in runs]
    assert [run.exit_code for run in first] == [ExitCode.OK] * 2, said
    assert (builds(inbox, "orders"), builds(inbox, "prices")) == (1, 1), said
    # Each task built in one watcher's run, and counted as built by another worker in the other's.
    assert sorted(family for run in first for family in ran(run)) == ["inbox.orders", "inbox.prices"], said
    assert [sorted(ran(run) + elsewhere(run)) for run in first] == [["inbox.orders", "inbox.prices"]] * 2

    # Both notice; both schedule the stale task again, a second or so after it was done (luigid's
    # own 10 s stable_done_cooldown_secs would ignore that); luigid hands it to one of them.
    known = workers_of(luigid_server, inbox)
    gate = Gate(inbox / "gate")
    (inbox / "in" / "orders.csv").write_text("o1\no2\n")
    both_schedule(["orders"], known)
    gate.open()
    said = both_idle_after(2)
    noticed = re.compile(
        rf"^dashpipe watch: 1 inputs? changed: {re.escape(str(inbox / 'in' / 'orders.csv'))}$", re.M
    )
    assert all(noticed.search(machine.output()) for machine in machines), said
    runs = by_watcher(machines)
    assert [len(each) for each in runs] == [2, 2], said
    second = [each[-1] for each in runs]
    assert [run.exit_code for run in second] == [ExitCode.OK] * 2, said
    assert (builds(inbox, "orders"), builds(inbox, "prices")) == (2, 1), said
    assert sorted(family for run in second for family in ran(run)) == ["inbox.orders"], said
    assert sorted(ran(run) + elsewhere(run) for run in second) == [["inbox.orders"]] * 2, said
    assert (inbox / "out" / "orders.txt").read_text() == "o1\no2\n"

    for machine in machines:
        machine.process.send_signal(signal.SIGTERM)
    assert [machine.process.wait(timeout=60) for machine in machines] == [ExitCode.OK] * 2, said
    assert [len(each) for each in by_watcher(machines)] == [2, 2], said
    assert (builds(inbox, "orders"), builds(inbox, "prices")) == (2, 1)


def test_two_watchers_racing_to_a_quick_task_build_it_once(
    inbox: Path, watchers: list[Watching], luigid_server: Server
) -> None:
    """No gate: a watcher that judged a task stale before the other built it is handed it once it
    is done, and finds it built meanwhile instead of building it again."""
    (inbox / "inbox.yaml").write_text(COUNTED.replace("flock -s {root}/gate true && ", ""))
    (inbox / "luigi.cfg").write_text(QUICK_WORKERS)
    machines = [start_machine(inbox, luigid_server, name) for name in ("a", "b")]
    watchers.extend(machines)
    processes = [machine.process for machine in machines]
    for passes, expected in [(1, (1, 1)), (2, (2, 1))]:
        if passes == 2:
            (inbox / "in" / "orders.csv").write_text("o1\no2\n")
        wait_until(
            lambda passes=passes: all(idle_after(machine, passes) for machine in machines),
            f"both watchers to be watching after pass {passes}",
            processes,
            timeout_s=90,
        )
        said = "\n".join(machine.output() for machine in machines)
        assert (builds(inbox, "orders"), builds(inbox, "prices")) == expected, said
        assert [run.exit_code for each in by_watcher(machines) for run in each] == [ExitCode.OK] * 2 * passes
        assert [reported_twice(machine) for machine in machines] == [[], []], said
