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
    assert [c["id"] for c in claims] == list(range(1, 13))
    for c in claims:
        assert c["holds"] is True and 0.0 <= c["probability"] <= 1.0
        assert {"parameter", "value"} <= set(c["flips_when"]) and c["flips_when"]["flips"] is True
        assert {"parameter", "value"} <= set(c["holds_when"]) and c["holds_when"]["holds"] is True
    assert all(c["holds"] for c in json.loads((out / "spec_claims.json").read_text()))


def test_run_writes_the_replay_and_the_calibration(report):
    import datetime

    _, out = report
    replay = json.loads((out / "replay.json").read_text())
    assert len(replay) >= 8
    for episode in replay:
        datetime.date.fromisoformat(episode["date"])
        assert set(episode["observed"]) == set(episode["simulated"]) and episode["source"]
    assert any("intervention_jpy_tn" in e["observed"] for e in replay)
    calibration = json.loads((out / "calibration.json").read_text())
    assert {"drift_before_pivot", "yen_per_jpy_tn", "effect_decay_time", "run_time"} <= set(calibration)
    for name, entry in calibration.items():
        assert entry["low"] <= entry["value"] <= entry["high"], name
        assert entry["data"] and entry["data"][0]["observations"], name


def test_report_has_every_figure_embedded_and_on_disk(report):
    _, out = report
    page = (out / "report.html").read_text()
    figures = ("dag", "cld", "fig1_channels", "fig2_unwind", "fig3_cliff", "scenarios", "replay", "fans", "indicator")
    for fig in figures:
        assert (out / "figures" / f"{fig}.svg").stat().st_size > 1000
        assert (out / "figures" / f"{fig}.png").read_bytes()[:4] == b"\x89PNG"
        assert f'<figure id="{fig}">' in page
    # offline: no external resources, images are data URIs
    assert not re.search(r'(src|href)="https?://', page)
    assert page.count("data:image/svg+xml;base64,") >= len(figures)


def test_report_tables(report):
    _, out = report
    md = (out / "report.md").read_text()
    assert "25 of 25 claims hold" in md.splitlines()[4]
    assert "| loop | polarity | bills | 2y | 5y | 10y | 30y |" in md
    for heading in (
        "## Scenario outcomes",
        "## The episodes replayed",
        "## Fitted constants",
        "## What would change my mind",
        "## Parameters and their sources",
    ):
        assert heading in md, heading
    assert "| scenario | peak USDJPY | JPY tn spent | firepower exhausted |" in md
    identification = json.loads((out / "identification.json").read_text())
    verdicts = {q["name"]: q["identifiable"] for q in identification}
    assert verdicts == {
        "intervention_on_long_end": True,
        "accident_on_long_end": True,
        "unwind_on_long_end": True,
        "dollar_on_yen": False,
    }


def test_a_failing_claim_exits_1_and_the_headline_names_it(monkeypatch, tmp_path, capsys):
    import tenor.app.report
    from tenor.app.report import Report

    failing = Report(
        "T",
        None,
        tmp_path,
        {"claims": [{"holds": True, "says": "ok", "statement": "s", "detail": ""}], "channels": []},
        [],
        None,
        [],
        [],
        [
            {"number": 1, "title": "Holds", "holds": True, "detail": ""},
            {"number": 9, "title": "The trigger is a conjunction", "holds": False, "detail": ""},
        ],
    )
    assert not failing.ok
    assert failing.headline.startswith("2 of 3 claims hold")
    assert "claim 9 (The trigger is a conjunction)" in failing.headline
    folder = tmp_path / "f"
    folder.mkdir()
    monkeypatch.setattr(tenor.app.report, "build_report", lambda folder, progress=None: failing)
    assert main(["run", str(folder), "--out", str(tmp_path / "o")]) == 1
    assert "claim 9 (The trigger is a conjunction)" in capsys.readouterr().out
    assert json.loads((tmp_path / "o" / "claims.json").read_text())[1] == {
        "id": 9,
        "title": "The trigger is a conjunction",
        "holds": False,
        "probability": None,
        "flips_when": None,
        "holds_when": None,
        "detail": "",
        "figures": {},
    }


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
    assert json.loads((out / "claims.json").read_text()) == []
