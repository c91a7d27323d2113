"""The main job: ``tenor run`` on the bundled example writes a complete, offline report."""

from __future__ import annotations

import json
import re

import pytest

from tenor.cli.main import main


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    code = main(["run", "examples/duration_trade", "--out", str(out)])
    return code, out


def test_run_succeeds_and_judges_every_claim(report):
    code, out = report
    assert code == 0
    claims = json.loads((out / "claims.json").read_text())
    assert [v["number"] for v in claims["dynamic"]] == list(range(1, 13))
    assert claims["ok"] is True


def test_report_has_every_figure_embedded_and_on_disk(report):
    _, out = report
    page = (out / "report.html").read_text()
    for fig in ("dag", "cld", "fig1_channels", "fig2_unwind", "fig3_cliff", "scenarios", "sweep_mix_size"):
        assert (out / "figures" / f"{fig}.svg").stat().st_size > 1000
        assert (out / "figures" / f"{fig}.png").read_bytes()[:4] == b"\x89PNG"
        assert f'<figure id="{fig}">' in page
    # offline: no external resources, images are data URIs
    assert not re.search(r'(src|href)="https?://', page)
    assert page.count("data:image/svg+xml;base64,") >= 7


def test_report_tables(report):
    _, out = report
    md = (out / "report.md").read_text()
    assert "| loop | polarity | bills | 2y | 5y | 10y | 30y |" in md
    loop_rows = [line for line in md.splitlines() if "sales" in line and "long_yield" in line and "| R |" in line]
    assert loop_rows, "the intervention loop is in the gain table"
    assert loop_rows[0].split("|")[3].strip() == "0"  # cut at bills
    identification = json.loads((out / "identification.json").read_text())
    verdicts = {q["name"]: q["identifiable"] for q in identification}
    assert verdicts == {
        "intervention_on_long_end": True,
        "accident_on_long_end": True,
        "unwind_on_long_end": True,
        "dollar_on_yen": False,
    }
    assert "## Parameters and their sources" in md


def test_run_refuses_an_output_inside_nothing(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_folder_without_claims_gets_the_generic_report(tmp_path):
    import shutil

    folder = tmp_path / "case"
    folder.mkdir()
    for name in ("causal.yaml", "stocks.yaml"):
        shutil.copy(f"examples/duration_trade/{name}", folder / name)
    (folder / "report.yaml").write_text("title: Without claims\ncld: {around: [intervention_rate], element: bills}\n")
    out = tmp_path / "out"
    assert main(["run", str(folder), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "Without claims" in page and '<figure id="cld">' in page
    assert json.loads((out / "claims.json").read_text())["dynamic"] == []
