"""The watcher's loop: a pass (a normal run) at start, then one after each settled change of the
inputs, and one more when they changed while a pass was running. Stopping is cooperative:
:meth:`Watcher.stop` ends the wait at once, or lets the pass under way finish first."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import luigi

from pipelines.triggers.input_watch import Snapshot, changed, snapshot, wait_for_change
from targets import FileTarget

logger = logging.getLogger("dashpipe")


class Watcher:
    def __init__(
        self,
        inputs: Callable[[], list[luigi.Target]],
        run: Callable[[], int],
        interval: float = 5.0,
        settle: float = 2.0,
        say: Callable[[str], None] = logger.info,
        next_slot: Callable[[], float | None] = lambda: None,
    ) -> None:
        self._inputs_of_graph = inputs  # asked again after each pass: run() may yield new inputs
        self.inputs = inputs()
        self._run = run
        self.interval = interval
        self.settle = settle
        self._say = say
        self._next_slot = next_slot  # when the schedule's next slot comes due (wall clock), if any
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.running = False  # a pass is under way
        self.passes = 0

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def look(self) -> Snapshot:
        return snapshot(self.inputs)

    def run_pass(self) -> int:
        self.running = True
        try:
            self.passes += 1
            return self._run()
        finally:
            self.running = False
            self.inputs = self._inputs_of_graph()

    def forever(self) -> int:
        """Keep the goals built until stopped; every failed pass is reported by the run itself."""
        notifications = _notify_on_local_changes(self.inputs, self._wake, self._stop)
        try:
            since = self.look()
            self.run_pass()
            while not self.stopping:
                now = self.look()  # what changed while the pass ran starts the next one at once
                if now == since:
                    slot = self._next_slot()
                    self._say(f"watching {len(self.inputs)} inputs (every {self.interval:g}s){_until(slot)}")
                    settled = wait_for_change(
                        self.look,
                        since,
                        self.interval,
                        self.settle,
                        self._stop,
                        self._wake,
                        slot,
                        noticed=lambda moved: self._say(
                            f"{len(moved)} inputs changed; waiting {self.settle:g}s for them to settle"
                        ),
                    )
                    if settled is None:
                        break
                    if settled is since:
                        self._say("a scheduled slot came due")
                        since = self.look()
                        self.run_pass()
                        continue
                    now = settled
                moved = changed(since, now)
                self._say(
                    f"{len(moved)} inputs changed: "
                    + ", ".join(moved[:3])
                    + (", ..." if len(moved) > 3 else "")
                )
                since = now
                self.run_pass()
        finally:
            if notifications is not None:
                notifications.join(timeout=10)
        return 0


@contextlib.contextmanager
def stopping_on_signals(watcher: Watcher) -> Iterator[None]:
    """SIGTERM or SIGINT stops the watcher once the pass under way has finished its running tasks
    (luigi's worker starts no new one after SIGUSR1); a second one stops it at once."""
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in signals}

    def on_signal(number: int, frame: Any) -> None:
        if watcher.stopping:
            raise KeyboardInterrupt
        watcher.stop()
        if watcher.running:
            os.kill(os.getpid(), signal.SIGUSR1)

    for number in signals:
        signal.signal(number, on_signal)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _until(slot: float | None) -> str:
    if slot is None:
        return ""
    return ", next slot at " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(slot))


def _notify_on_local_changes(
    inputs: list[luigi.Target], wake: threading.Event, stop: threading.Event
) -> threading.Thread | None:
    """Wake the loop when the OS says a local input's directory changed (the listing then decides
    whether a declared input did); polling stays the rule for every other storage."""
    directories = sorted(
        {
            os.path.dirname(target.location.path)
            for target in inputs
            if isinstance(target, FileTarget) and target.location.is_local
        }
    )
    existing = [directory for directory in directories if os.path.isdir(directory)]
    if not existing:
        return None
    try:
        import watchfiles
    except ImportError:
        return None

    def forward() -> None:
        with contextlib.suppress(Exception):  # notifications only hasten a look; polling goes on
            for _ in watchfiles.watch(*existing, stop_event=stop, debounce=200, rust_timeout=1000):
                wake.set()

    thread = threading.Thread(target=forward, name="input-notifications", daemon=True)
    thread.start()
    return thread
