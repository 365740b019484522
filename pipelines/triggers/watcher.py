"""The watcher's loop: a pass (a normal run) at start, then one after each settled change of the
inputs, and one more when they changed while a pass was running. Stopping is cooperative:
:meth:`Watcher.stop` ends the wait at once, or lets the pass under way finish first."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import luigi

from pipelines.common.plural import counted
from pipelines.triggers.input_watch import Snapshot, changed, snapshot, wait_for_change
from pipelines.triggers.status_line import StatusLine
from targets import FileTarget

# Told which URLs are watched (asked anew each time: a pass may change them), the event to set
# for a look, and the event that says stop; starts a thread of its own and returns.
Waker = Callable[[Callable[[], Iterable[str]], threading.Event, threading.Event], None]


class Watcher:
    def __init__(
        self,
        inputs: Callable[[], list[luigi.Target]],
        run: Callable[[], int],
        interval: float = 5.0,
        settle: float = 2.0,
        status: StatusLine | None = None,
        next_slot: Callable[[], float | None] = lambda: None,
        wakers: Sequence[Waker] = (),
    ) -> None:
        self._inputs_of_graph = inputs  # asked again after each pass: run() may yield new inputs
        self.inputs = inputs()
        self._run = run
        self.interval = interval
        self.settle = settle
        self.status = status or StatusLine()
        self._next_slot = next_slot  # when the schedule's next slot comes due (wall clock), if any
        self._wakers = wakers  # e.g. S3 events: each hastens a look when a watched URL was written
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.running = False  # a pass is under way
        self.passes = 0
        self.last: tuple[float, int] | None = None  # when the last pass ended, and its exit code

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def watched_urls(self) -> set[str]:
        return {target.location.url for target in self.inputs if isinstance(target, FileTarget)}

    def look(self) -> Snapshot:
        return snapshot(self.inputs)

    def run_pass(self) -> int:
        self.status.clear()
        self.running = True
        code = -1
        try:
            self.passes += 1
            code = self._run()
            return code
        finally:
            self.running = False
            self.last = (time.time(), code)
            self.inputs = self._inputs_of_graph()

    def waiting(self, slot: float | None) -> str:
        """What the watcher waits for, after what it did last."""
        parts = []
        if self.last is not None:
            ended, code = self.last
            parts.append(f"last run {_clock(ended)} " + ("ok" if code == 0 else f"exit {code}"))
        parts.append(f"watching {counted(len(self.inputs), 'input')} (every {self.interval:g}s)")
        if slot is not None:
            parts.append(f"next slot at {_clock(slot, with_date=True)}")
        return "; ".join(parts)

    def forever(self) -> int:
        """Keep the goals built until stopped; every failed pass is reported by the run itself."""
        notifications = _notify_on_local_changes(self.inputs, self._wake, self._stop)
        for waker in self._wakers:
            waker(self.watched_urls, self._wake, self._stop)
        try:
            since = self.look()
            self.run_pass()
            while not self.stopping:
                now = self.look()  # what changed while the pass ran starts the next one at once
                if now == since:
                    slot = self._next_slot()
                    self.status.show(self.waiting(slot))
                    settled = wait_for_change(
                        self.look,
                        since,
                        self.interval,
                        self.settle,
                        self._stop,
                        self._wake,
                        slot,
                        noticed=lambda moved: self.status.show(
                            f"{counted(len(moved), 'input')} changed; "
                            f"waiting {self.settle:g}s for the change to settle"
                        ),
                    )
                    if settled is None:
                        break
                    if settled is since:
                        self.status.say("a scheduled slot came due")
                        since = self.look()
                        self.run_pass()
                        continue
                    now = settled
                moved = changed(since, now)
                self.status.say(
                    f"{counted(len(moved), 'input')} changed: "
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


def _clock(moment: float, with_date: bool = False) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S", time.localtime(moment))


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
