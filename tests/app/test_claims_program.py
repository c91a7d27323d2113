"""The claims program a report folder may hold: its interface, the example's, and broken programs.

A program that does not import, declares no ``PROGRAM``, lacks a method or fails while running
must stop ``tenor run`` with a located error (file and line) and exit code 2, never a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tenor.app.claims_program import ClaimsProgram, ReportOutputs, load_claims_program
from tenor.app.report import build_report, verdict_record
from tenor.cli.main import main
from tenor.core.errors import SpecError
from tenor.core.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "duration_trade"
TEACUP = ROOT / "tests" / "data" / "stocks_flows" / "teacup.yaml"

CAUSAL = """\
nodes: {room: {}, tea: {}}
edges:
  room -> tea: {sign: +}
"""

WORKING = """\
from stocks_flows.batch import run_batch
from stocks_flows.load import load_model
from stocks_flows.loops import find_loops
from tenor.app.claims_program import ClaimsProgram
from tenor.core.verdict import Verdict


class Cup:
    def __init__(self, folder):
        self.model = load_model(folder / "stocks.yaml")
        batch = run_batch(self.model, {"base": {}, "cold_room": {"room_temperature": 40}})
        self.runs = {name: batch.frame(name) for name in batch}
        self.loops = find_loops(self.model)


class Teacup(ClaimsProgram):
    def evidence(self, folder):
        return Cup(folder)

    def evaluate(self, evidence):
        final = float(evidence.runs["cold_room"]["teacup_temperature"].iloc[-1])
        return [Verdict(1, "the tea cools", final < 180, f"{final:.1f} degF after 30 minutes", figure="cld")]

    def report_outputs(self, evidence):
        return None


PROGRAM = Teacup()
"""


def _folder(tmp_path: Path, program: str) -> Path:
    folder = tmp_path / "cup"
    folder.mkdir()
    (folder / "causal.yaml").write_text(CAUSAL)
    shutil.copy(TEACUP, folder / "stocks.yaml")
    (folder / "claims.py").write_text(program)
    return folder


def test_the_example_declares_its_program_explicitly():
    program = load_claims_program(EXAMPLE / "claims.py")
    assert isinstance(program, ClaimsProgram)
    assert ClaimsProgram in type(program).__mro__  # a subclass, not a lucky match of names
    assert {"evidence", "evaluate", "report_outputs"} <= set(vars(type(program)))


def test_a_working_program_gives_the_report_its_verdicts(tmp_path):
    folder = _folder(tmp_path, WORKING)
    said: list[str] = []
    report = build_report(folder, said.append)
    assert "judging the claims" in said
    assert report.verdicts == [
        {
            "number": 1,
            "title": "the tea cools",
            "holds": True,
            "detail": report.verdicts[0]["detail"],
            "figure": "cld",
            "figures": {},
        }
    ]
    # Newton's cooling toward a 40 degF room, Euler steps: 40 + 140 * (1 - 0.125/10) ** 240 = 46.84
    assert report.verdicts[0]["detail"] == "46.8 degF after 30 minutes"
    assert set(report.scenarios["scenario"]) == {"base", "cold_room"}
    assert report.ok and report.headline.startswith("1 of 1 claims hold")


def test_the_verdict_record_keeps_the_report_keys():
    v = Verdict(3, "t", False, "d", kind="sign", statement="s", says="x", where="w", figure="f", figures={"a": 1.0})
    assert verdict_record(v) == {
        "number": 3,
        "title": "t",
        "holds": False,
        "detail": "d",
        "figure": "f",
        "figures": {"a": 1.0},
    }


BROKEN = {
    "syntax": ("x = (\n", "not valid Python", 1),
    "import": ("import math\nx = 1\nraise RuntimeError('no data')\n", "RuntimeError: no data", 3),
    "no program": ("x = 1\n", "declares no PROGRAM", None),
    "no method": (
        "class P:\n    def evidence(self, folder):\n        return None\n\n\nPROGRAM = P()\n",
        "PROGRAM has no method evaluate, report_outputs",
        6,
    ),
    "fails while running": (WORKING.replace("final = float(", "final = 1 / 0 + float("), "ZeroDivisionError", 21),
    "not a verdict": (
        WORKING.replace("return [Verdict(", "return [dict(holds=final < 180), Verdict("),
        "where a Verdict belongs",
        None,
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_program_is_a_located_error(tmp_path, case):
    program, message, line = BROKEN[case]
    folder = _folder(tmp_path, program)
    with pytest.raises(SpecError, match=message) as err:
        build_report(folder)
    (diag,) = err.value.diagnostics
    assert diag.file == str(folder / "claims.py")
    assert diag.line == line


def test_tenor_run_reports_a_broken_program_without_a_traceback(tmp_path, capsys):
    folder = _folder(tmp_path, BROKEN["fails while running"][0])
    assert main(["run", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'claims.py'}:21" in err and "ZeroDivisionError" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists(), "nothing is written when the report cannot be built"


def test_report_outputs_defaults_stand_for_nothing_extra():
    out = ReportOutputs([Verdict(1, "t", True, "d")])
    assert (out.claims, out.replay, out.calibration, out.figures, out.captions, out.tables) == (
        [],
        None,
        None,
        [],
        {},
        [],
    )


def test_a_heat_map_figure_runs_its_grid_as_one_batch(tmp_path, monkeypatch):
    """The final temperature over a grid of rooms and cooling times is Newton's law, step by Euler step."""
    import diagrams.plots

    folder = _folder(tmp_path, WORKING)
    (folder / "claims.py").unlink()
    (folder / "report.yaml").write_text(
        "figures:\n"
        "  - {id: heat, kind: heatmap, x: room_temperature, y: characteristic_time, value: teacup_temperature,\n"
        "     reduce: final, grid: {room_temperature: '40:80:3', characteristic_time: '5:15:2'}}\n"
    )
    seen = {}
    original = diagrams.plots.plot_sweep_heatmap

    def keep(frame, *args, **kwargs):
        seen["frame"] = frame
        return original(frame, *args, **kwargs)

    monkeypatch.setattr(diagrams.plots, "plot_sweep_heatmap", keep)
    report = build_report(folder)
    assert "heat" in {f.id for f in report.figures}
    frame = seen["frame"]
    assert len(frame) == 6
    for room, tau, final in frame[["room_temperature", "characteristic_time", "teacup_temperature"]].itertuples(
        index=False
    ):
        assert final == pytest.approx(room + (180 - room) * (1 - 0.125 / tau) ** 240, rel=1e-9)
