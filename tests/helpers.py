"""Small helpers shared by tests."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import luigi.configuration
import pytest

REPO = Path(__file__).resolve().parents[1]


def use_luigi_config(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make luigi (and so dash-pipeline) read only ``path`` in this process, until the test ends."""
    parser = luigi.configuration.LuigiConfigParser
    monkeypatch.setattr(parser, "_instance", None)
    monkeypatch.setattr(parser, "_config_paths", [str(path)])


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(
    *args: str,
    cwd: Path | None = None,
    config: str = "",
    env: dict[str, str] | None = None,
    timeout_s: float = 180,
) -> CliResult:
    """Run ``python -m pipelines ARGS`` in a fresh process, as a user would run ``dashpipe``."""
    environment = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="dashpipe-test-") as scratch:
        if config:
            # Outside the working directory: tests may run in the repository itself.
            config_path = Path(scratch) / "luigi.cfg"
            config_path.write_text(config)
            environment["LUIGI_CONFIG_PATH"] = str(config_path)
        completed = subprocess.run(
            [sys.executable, "-m", "pipelines", *args],
            cwd=cwd or REPO,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def start_cli(*args: str, cwd: Path, **popen: Any) -> subprocess.Popen:
    """Start ``python -m pipelines ARGS`` in the background, as a user would start ``dashpipe``.

    Output is captured as text, stderr merged into stdout, unless ``popen`` says otherwise.
    """
    options: dict[str, Any] = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "text": True,
        **popen,
    }
    return subprocess.Popen([sys.executable, "-m", "pipelines", *args], cwd=cwd, **options)


def wait_until(
    condition: Callable[[], object],
    what: str,
    processes: Sequence[subprocess.Popen] = (),
    timeout_s: float = 60,
    poll_s: float = 0.02,
) -> None:
    """Return once ``condition()`` is true; fail naming ``what`` at the deadline, or as soon as
    one of ``processes`` ends first (with its output, when it was captured)."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()  # never set: wait() is the poll interval
    while not condition():
        ended = [process for process in processes if process.poll() is not None]
        if ended:
            outputs = ["".join(filter(None, process.communicate())) for process in ended]
            raise AssertionError(f"a process ended before {what}: {outputs}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(poll_s)


class Gate:
    """A file that shell steps wait at, with ``flock -s GATE true``, until the test opens it.

    The test holds an exclusive lock on the file from the start; a step's shared lock waits for
    it to be released, in the kernel, without polling. Once open, it stays open for later runs.
    Child processes never inherit the lock (``subprocess`` closes other descriptors).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = path.open("w")
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def open(self) -> None:
        if not self._handle.closed:
            self._handle.close()  # releases the lock


def built_nothing(root: Path) -> bool:
    """Nothing under ``root`` but the journals of the runs that tried (a run records itself even
    when a missing input stops it before any task)."""
    return all(".dashpipe/runs/" in str(path) for path in root.rglob("*") if path.is_file())
