"""report.html fits the window: wide tables wrap or scroll inside their own box.

The page is the bundled example's report (its causal graph, claims and
identification table, computed as ``tenor run`` computes them; the simulated
parts are left out to keep this fast) plus an identification row with a long
unbroken estimand. Debian's chromium loads it at 1024 and 1920 px.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from causal.claims import check_summary
from causal.graph import build_graph
from causal.identify import identify
from causal.load import read_spec
from tenor.app.report import Report, html_report

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "duration_trade"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def example_report() -> Report:
    spec_path = EXAMPLE / "causal.yaml"
    spec = read_spec(spec_path)
    graph = build_graph(spec)
    identification = [
        {"name": name, "description": q.description, **identify(graph, q.treatment, q.outcome).to_dict()}
        for name, q in spec.queries.items()
    ]
    long = dict(identification[0])
    long["name"] = "a_query_whose_name_is_one_long_identifier_without_any_space_in_it"
    long["estimand"] = "Σ_{" + ",".join(f"variable_number_{k}" for k in range(40)) + "} P(y|do(x))"
    identification.append(long)
    check = check_summary(spec, graph, file=str(spec_path))
    return Report("The Duration Trade", None, EXAMPLE, check, identification, None, [], [], [])


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("layout") / "report.html"
    path.write_text(html_report(example_report()))
    return path


def test_the_identification_table_is_in_a_scroll_box(page: Path) -> None:
    text = page.read_text()
    assert '<div class="table-wrap"><table class=ident>' in text
    assert text.count("<table") == text.count('<div class="table-wrap"><table')


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup-system.sh installs it)")
@pytest.mark.parametrize("width", [1024, 1920])
def test_the_page_does_not_overflow_the_window(page: Path, width: int) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            view = browser.new_page(viewport={"width": width, "height": 900})
            view.goto(page.as_uri())
            scroll, inner = view.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= inner, f"the page is {scroll} px wide in a {inner} px window"
            # the identification table itself fits: its box is no wider than the body's content
            box, body = view.evaluate(
                "[document.querySelector('table.ident').parentElement.getBoundingClientRect().right,"
                " document.body.getBoundingClientRect().right]"
            )
            assert box <= body + 0.5
            # and its estimand cells wrap rather than scroll at these widths
            table, wrap = view.evaluate(
                "[document.querySelector('table.ident').scrollWidth,"
                " document.querySelector('table.ident').parentElement.clientWidth]"
            )
            assert table <= wrap, f"the identification table needs {table} px in {wrap} px"
        finally:
            browser.close()
