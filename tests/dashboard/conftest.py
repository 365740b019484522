"""The dashboard as a user has it: ``dashpipe dashboard`` in its own process, pages in Debian's
headless Chromium driven by Playwright (never a browser Playwright downloads)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers import REPO, start_cli

expect.set_options(timeout=20_000)  # a 10,000-task assessment is part of some page loads
SERVING = re.compile(r"at (http://127\.0\.0\.1:\d+/)")


def system_chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is not installed (scripts/test.sh installs Debian's chromium)"
    return binary


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=system_chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


@dataclass
class Dashboard:
    process: subprocess.Popen
    url: str

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=30) as answer:
            return json.load(answer)

    def stop(self) -> str:
        """Stop it; what it printed after it began serving (Dash reports a failed callback there)."""
        if self.process.poll() is None:
            self.process.terminate()
        output, _ = self.process.communicate(timeout=30)
        return output or ""


@pytest.fixture
def dashboards() -> Iterator[list[Dashboard]]:
    """The dashboards a test starts (append them), stopped when it ends."""
    started: list[Dashboard] = []
    yield started
    for dashboard in started:
        dashboard.stop()


def start_dashboard(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> Dashboard:
    """``dashpipe dashboard ARGS --port 0``, once it says where it serves."""
    process = start_cli("dashboard", *args, "--port", "0", cwd=cwd, env=env)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # ends when the process does
        seen.append(line)
        found = SERVING.search(line)
        if found:
            return Dashboard(process, found.group(1))
    process.wait(timeout=30)
    raise AssertionError(f"the dashboard ended before serving: {''.join(seen)}")


# Cytoscape keeps its instance on the element it draws in.
FIND_CY = """
    const host = [...document.querySelectorAll('#graph, #graph *')].find(e => e._cyreg && e._cyreg.cy);
    const cy = host ? host._cyreg.cy : null;
"""


def graph_nodes(page: Page) -> list[dict[str, Any]]:
    """The nodes cytoscape draws (on a canvas, so read from cytoscape itself): id, label, classes."""
    return page.evaluate(
        "() => {"
        + FIND_CY
        + "if (!cy) return [];"
        + "return cy.nodes().map(n => ({id: n.id(), label: n.data('label'), classes: n.classes()}));}"
    )


def settled(page: Page) -> None:
    """Wait until no Dash callback is under way (Dash marks what it is updating)."""
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')")


def click_node(page: Page, node_id: str) -> None:
    """A real mouse click where cytoscape drew the node, once the graph is no longer being updated."""
    settled(page)
    point = page.evaluate(
        "(id) => {"
        + FIND_CY
        + """
            const node = cy.getElementById(id);
            cy.center(node);
            const at = node.renderedPosition();
            const box = cy.container().getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y};
        }""",
        node_id,
    )
    page.mouse.click(point["x"], point["y"])
