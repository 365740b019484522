"""What a watcher tells the person watching it: on a terminal, one line rewritten in place (the
last run, what it waits for, the next slot) between the runs' own output; elsewhere (a log, a
journal), each of those as a line of its own."""

from __future__ import annotations

import sys
from typing import TextIO

CLEAR_LINE = "\r\x1b[K"


class StatusLine:
    def __init__(self, stream: TextIO | None = None, prefix: str = "dashpipe watch: ") -> None:
        self.stream = stream or sys.stderr
        self.prefix = prefix
        self.live = self.stream.isatty()
        self._shown = False

    def say(self, text: str) -> None:
        """A line that stays: what happened."""
        self.clear()
        self.stream.write(f"{self.prefix}{text}\n")
        self.stream.flush()

    def show(self, text: str) -> None:
        """The state until the next one: rewritten in place on a terminal."""
        if not self.live:
            self.say(text)
            return
        self.stream.write(f"{CLEAR_LINE}{self.prefix}{text}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Before anything else writes to the terminal (a run's report)."""
        if self._shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self._shown = False
