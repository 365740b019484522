"""Small helpers shared by tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import luigi.configuration
import pytest

REPO = Path(__file__).resolve().parents[1]


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Poll ``condition`` until true, failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def use_luigi_config(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make luigi (and so dash-pipeline) read only ``path`` in this process, until the test ends."""
    parser = luigi.configuration.LuigiConfigParser
    monkeypatch.setattr(parser, "_instance", None)
    monkeypatch.setattr(parser, "_config_paths", [str(path)])
