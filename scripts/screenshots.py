"""Take the dashboard screenshots in docs/img/ anew: a small pipeline is built, changed, broken and
run again in a scratch directory, and each page is shot in Debian's headless Chromium.

    python scripts/screenshots.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.dashboard.conftest import FIND_CY, click_node, start_dashboard, system_chromium  # noqa: E402
from tests.helpers import Gate, run_cli, start_cli  # noqa: E402

SHOP = """
pipeline: shop
params:
  root: {type: string}
  date: {type: date}
steps:
  clean:
    description: Upper-case the day's orders.
    shell: "tr a-z A-Z < {inputs.raw} > {outputs.o}"
    inputs: {raw: "{root}/raw/{date}.txt"}
    outputs: {o: "{root}/clean/{date}.txt"}
  rates:
    description: Fetch the day's exchange rates (fails while {root}/break exists).
    shell: >-
      if [ -e {root}/break ]; then echo 'rates API answered 503 Service Unavailable' >&2; exit 1; fi;
      flock -s {root}/gate true && sleep 0.3 && echo 'EUR 1.08' > {outputs.o}
    outputs: {o: "{root}/rates/{date}.txt"}
  totals:
    shell: "sleep 0.2 && wc -l < {inputs.clean} > {outputs.o}"
    inputs: {clean: clean.o}
    outputs: {o: "{root}/totals/{date}.txt"}
  report:
    shell: "cat {inputs.totals} {inputs.rates} > {outputs.o}"
    inputs: {totals: totals.o, rates: rates.o}
    outputs: {o: "{root}/reports/{date}.md"}
  count:
    shell: "sleep 0.1 && wc -c < {inputs.raw} > {outputs.o}"
    inputs: {raw: "{root}/raw/{date}.txt"}
    outputs: {o: "{root}/counts/{date}.txt"}
"""


def main() -> None:
    images = REPO / "docs" / "img"
    with tempfile.TemporaryDirectory(prefix="dashpipe-shots-") as scratch:
        root = Path(scratch)
        (root / "shop.yaml").write_text(SHOP)
        (root / "data" / "raw").mkdir(parents=True)
        for day in ("2026-11-24", "2026-11-25", "2026-11-26"):
            (root / "data" / "raw" / f"{day}.txt").write_text("apples\npears\n")
        logs = f"[dashpipe]\ntask_logs = {root}/logs\n"

        def run(day: str, *extra: str) -> None:
            run_cli(
                "run",
                str(root / "shop.yaml"),
                "--root",
                str(root / "data"),
                "--date",
                day,
                *extra,
                config=logs,
            )

        run("2026-11-25", "-j", "2")
        (root / "data" / "break").touch()
        run("2026-11-24", "-j", "2", "-k")  # rates fails, and the report that needs it waits
        (root / "data" / "break").unlink()
        (root / "data" / "raw" / "2026-11-24.txt").write_text("apples\npears\nplums\n")

        args = [str(root / "shop.yaml"), "--root", str(root / "data"), "--date", "2026-11-24"]
        dashboard = start_dashboard(*args, cwd=root)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=system_chromium(), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                page.goto(dashboard.url)
                page.wait_for_function("() => {" + FIND_CY + "return !!cy && cy.nodes().length > 3}")
                clean = page.evaluate(
                    "() => {"
                    + FIND_CY
                    + "return cy.nodes().filter(n => n.data('label').startsWith('shop.clean'))[0].id()}"
                )
                click_node(page, clean)
                expect(page.locator("#panel-title")).to_contain_text("shop.clean")
                page.screenshot(path=str(images / "dashboard-pipeline.png"), full_page=True)

                page.goto(dashboard.url + "runs")
                page.locator("#runs-table tbody tr").first.get_by_role("link").click()
                expect(page.locator(".failure")).to_be_visible()
                page.wait_for_selector("#gantt .barlayer .point")
                page.screenshot(path=str(images / "dashboard-run.png"), full_page=True)

                gate = Gate(root / "data" / "gate")
                held = start_cli(
                    "run",
                    *args[:-1],
                    "2026-11-26",
                    "-j",
                    "2",
                    cwd=root,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                page.goto(dashboard.url + "live")
                expect(page.locator(".live-run")).to_contain_text("shop.rates")
                expect(page.locator(".progress-line")).to_contain_text("3 done")
                page.screenshot(path=str(images / "dashboard-live.png"), full_page=True)
                gate.open()
                held.wait(timeout=120)
                run("2026-11-25", "-B", "-j", "2")

                page.goto(dashboard.url + "trends")
                expect(page.locator("#durations .legend")).to_contain_text("shop.totals")
                page.screenshot(path=str(images / "dashboard-trends.png"), full_page=True)
                browser.close()
        finally:
            dashboard.stop()
    print(f"screenshots written to {images}")


if __name__ == "__main__":
    main()
