"""The live page in a real browser: Debian's Chromium, driven by Playwright (no browser is downloaded).

Serves a temporary folder holding a copy of the example's causal spec and a small stock-and-flow model,
then checks what a user sees: the DAG drawn, a node click changing the conditioning set, a slider
re-running the model and redrawing the plot, an edit on disk redrawing the page, a broken file
showing the located error and the page recovering. ``TENOR_SERVE_SCREENSHOTS=docs/img`` also writes
the screenshots used in ``docs/serve.md``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.app.test_serve_api import EXAMPLE, GROWTH
from tests.app.test_serve_server import running

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed (./dev runs scripts/setup-system.sh, which installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def test_the_page_in_chromium(tmp_path: Path) -> None:
    folder = tmp_path / "example"
    folder.mkdir()
    shutil.copy(EXAMPLE / "causal.yaml", folder / "causal.yaml")
    (folder / "stocks.yaml").write_text(GROWTH)
    shots = Path(os.environ.get("TENOR_SERVE_SCREENSHOTS") or tmp_path)
    spec = folder / "causal.yaml"
    original = spec.read_text()
    with running(folder) as (url, _), sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.goto(url + "/")

            # the DAG is there, drawn by the server, with the query's paths
            page.wait_for_selector("#dag svg g.node[data-node='ust_long_end']", timeout=15000)
            page.wait_for_function("document.querySelector('#paths li') !== null")
            assert "open" in page.inner_text("#paths-summary")
            backdoor = "mof_intervention <- yen_pressure <- global_risk -> ust_long_end"
            row = page.locator("#paths li", has_text=backdoor)
            assert "open" in row.get_attribute("class").split()

            # clicking a node conditions on it: the back-door path is blocked
            page.click("#dag g.node[data-node='yen_pressure']")
            page.wait_for_function("document.querySelector('#given').textContent.includes('yen_pressure')")
            page.wait_for_function("document.querySelector('#adjusts').textContent.includes('is a valid')")
            page.wait_for_function(
                f"[...document.querySelectorAll('#paths li.blocked')].some(li => li.textContent.includes({backdoor!r}))"
            )

            # a slider re-runs the model and redraws the plotted series
            page.wait_for_selector("#plot polyline.current[data-var='fish']", timeout=15000)
            before = page.get_attribute("#plot polyline.current[data-var='fish']", "points")
            page.wait_for_selector("#loops tbody tr", timeout=15000)
            runs = int(page.get_attribute("#plot", "data-runs") or 0)
            slider = page.locator(".constant[data-name='K'] input[type=range]")
            slider.evaluate("el => { el.value = 40; el.dispatchEvent(new Event('input', {bubbles: true})); }")
            page.wait_for_function(f"+(document.querySelector('#plot').dataset.runs || 0) > {runs}")
            after = page.get_attribute("#plot polyline.current[data-var='fish']", "points")
            assert after != before
            assert page.input_value(".constant[data-name='K'] input[type=number]") == "40"
            ms = float(page.inner_text("#run-ms"))
            assert ms < 5000
            page.evaluate("document.querySelector('#model').scrollIntoView()")
            page.screenshot(path=str(shots / "serve_model.png"))

            # an edit on disk redraws the page, keeping the conditioning set
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots / "serve_causal.png"))
            revision = int(page.get_attribute("body", "data-revision"))
            spec.write_text(original.replace("label: Broad dollar", "label: Broad dollar EDITED"))
            started = time.time()
            page.wait_for_function("document.querySelector('#dag svg').textContent.includes('EDITED')", timeout=5000)
            assert time.time() - started < 4
            assert int(page.get_attribute("body", "data-revision")) > revision
            assert "yen_pressure" in page.inner_text("#given")
            assert page.input_value(".constant[data-name='K'] input[type=number]") == "40"  # kept too

            # a broken file shows the located error in place of the picture
            broken = original.replace("  usd -> usdjpy: {sign: +, lag: 1 day}\n", "  usd -> usdjpy: {sign: up}\n")
            assert broken != original
            spec.write_text(broken)
            page.wait_for_selector("#errors:not([hidden])", timeout=5000)
            assert page.is_hidden("#content")
            text = page.inner_text("#error-list")
            assert "causal.yaml:" in text and "hint" in text
            page.screenshot(path=str(shots / "serve_error.png"))

            # and the next good save brings the page back
            spec.write_text(original)
            page.wait_for_selector("#errors[hidden]", state="attached", timeout=5000)
            page.wait_for_selector("#dag svg g.node", timeout=5000)
            assert page.is_visible("#content")
            assert problems == []
        finally:
            browser.close()
