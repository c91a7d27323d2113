"""What a file is, from its content; one check for every kind; one message for the wrong kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from causal.formats.node_link import generate_node_link
from causal.load import read_spec
from tenor.app.kinds import FileKind, check_source, detect_kind, read_causal, read_model, read_source
from tenor.cli.main import main
from tenor.core.errors import SpecError

DATA = Path("tests/data/stocks_flows")
CAUSAL = "examples/duration_trade/causal.yaml"
STOCKS = "examples/duration_trade/stocks.yaml"
TEACUP = DATA / "teacup.yaml"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (CAUSAL, FileKind.CAUSAL_SPEC),
        (STOCKS, FileKind.STOCK_FLOW_SPEC),
        (DATA / "teacup.yaml", FileKind.STOCK_FLOW_SPEC),
        (DATA / "teacup.mdl", FileKind.VENSIM),
        (DATA / "subscripts.mdl", FileKind.VENSIM),
        (DATA / "trend.xmile", FileKind.XMILE),
        ("tests/data/loops/intervention.yaml", FileKind.STOCK_FLOW_SPEC),
    ],
)
def test_kind_of_each_file_tenor_reads(path, kind):
    assert read_source(path).kind == kind


def test_kind_comes_from_the_content_not_the_name(tmp_path):
    for source, kind in ((STOCKS, FileKind.STOCK_FLOW_SPEC), (CAUSAL, FileKind.CAUSAL_SPEC)):
        renamed = tmp_path / "model.txt"
        shutil.copy(source, renamed)
        assert read_source(renamed).kind == kind
    vensim = tmp_path / "teacup.yaml"
    shutil.copy(DATA / "teacup.mdl", vensim)
    assert read_source(vensim).kind == FileKind.VENSIM
    assert detect_kind("dag {\n X [exposure]\n X -> Y\n}") == FileKind.DAGITTY
    assert detect_kind("dag G { X -> Y }") == FileKind.DAGITTY
    assert detect_kind(generate_node_link(read_spec(CAUSAL))) == FileKind.NODE_LINK
    assert detect_kind('{"stock_flow": {"stocks": []}}') == FileKind.DIAGRAM_STRUCTURE
    assert detect_kind("{nodes: {a: {}}, edges: {}}") == FileKind.CAUSAL_SPEC  # flow-style YAML, not JSON
    assert detect_kind("name: x\ntime: {stop: 1}\n") == FileKind.STOCK_FLOW_SPEC


def test_a_misspelt_top_key_still_gets_its_did_you_mean():
    assert detect_kind("nodez: {a: {}}\n") == FileKind.CAUSAL_SPEC
    assert detect_kind("stoks: {a: {initial: 1}}\ntme: {stop: 1}\n") == FileKind.STOCK_FLOW_SPEC
    with pytest.raises(SpecError, match="did you mean 'nodes'"):
        _causal_text("nodez: {a: {}}\n")


def _causal_text(text: str):
    from tenor.app.kinds import Source, load_causal
    from tenor.core.specfile import parse_yaml

    return load_causal(Source("g.yaml", text, detect_kind(text), parse_yaml(text)))


@pytest.mark.parametrize("text", ["", "\n\n", "# a spec, to be written\n", "---\n"])
def test_an_empty_file_is_an_error_at_line_1(tmp_path, capsys, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    for command in (["check"], ["paths", "--from", "a", "--to", "b"]):
        code, out, err = run(capsys, command[0], path, *command[1:])
        assert code == 2
        assert f"{path}:1: the file is empty" in err
        assert "Traceback" not in err and not out
    code, out, _ = run(capsys, "check", path, "--json")
    assert code == 2
    (error,) = json.loads(out)["error"]["errors"]
    assert error["line"] == 1 and error["message"] == "the file is empty"


def test_other_files_are_refused_with_what_tenor_reads(tmp_path, capsys):
    path = tmp_path / "notes.yaml"
    path.write_text("- a list\n- of things\n")
    code, _, err = run(capsys, "check", path)
    assert code == 2 and "cannot tell what this file is" in err and "dagitty" in err
    html = tmp_path / "page.xml"
    html.write_text("<html><body/></html>")
    code, _, err = run(capsys, "check", html)
    assert code == 2 and "not XMILE" in err


def test_check_a_model_names_units_equations_loops_scenarios(capsys):
    code, out, err = run(capsys, "check", TEACUP, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["kind"] == "stock_flow_spec" and summary["ok"] and summary["valid"]
    assert summary["variables"] == {"stock": 1, "flow": 1, "auxiliary": 0, "constant": 2}
    assert summary["units"] == {"declared": 4, "variables": 4, "checked": True}
    assert summary["equations"] == 2
    # Newton's law of cooling: one balancing loop, temperature -> heat loss -> temperature
    assert summary["loops"]["count"] == 1 and summary["loops"]["balancing"] == 1
    assert summary["loops"]["items"][0]["variables"] == ["teacup_temperature", "heat_loss_to_room"]
    assert [(s["name"], s["constants"], s["initial"]) for s in summary["scenarios"]] == [
        ("cold_room", {"room_temperature": 40.0}, {}),
        ("hot_tea", {}, {"teacup_temperature": 210.0}),
    ]
    code, out, _ = run(capsys, "check", TEACUP)
    assert code == 0
    assert "1 balancing (B)" in out and "cold_room" in out and "4 of 4 variables declare units" in out


@pytest.mark.parametrize(("path", "kind"), [(DATA / "teacup.mdl", "vensim"), (DATA / "trend.xmile", "xmile")])
def test_check_vensim_and_xmile(capsys, path, kind):
    code, out, err = run(capsys, "check", path, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["kind"] == kind and summary["ok"]


def test_check_a_model_with_errors_exits_2_located(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(
        "time: {stop: 10}\n"
        "constants: {k: {value: 0.1, units: 1/day}}\n"
        "stocks: {s: {initial: 100, units: widget}}\n"
        "flows:\n"
        "  out: {from: s, equation: k * ss, units: widget/day}\n"
        "  bad: {from: s, equation: k + s, units: widget/day}\n"
    )
    code, out, err = run(capsys, "check", path)
    assert code == 2 and not out
    assert f"{path}:5:" in err and "unknown variable 'ss'" in err and "did you mean 's'" in err
    code, out, _ = run(capsys, "check", path, "--json")
    errors = json.loads(out)["error"]["errors"]
    assert all(e["file"] == str(path) and e["line"] for e in errors)


def test_check_a_model_whose_base_run_is_not_finite_exits_1(tmp_path, capsys):
    path = tmp_path / "blowup.yaml"
    path.write_text("time: {stop: 4}\nstocks: {s: {initial: 1}}\nflows: {f: {to: s, equation: s / (2 - time)}}\n")
    code, out, err = run(capsys, "check", path, "--json")
    assert code == 1
    summary = json.loads(out)
    assert not summary["ok"] and "f is inf at time 2" in summary["problems"][0]
    assert "RuntimeWarning" not in err


def test_check_a_causal_spec_as_before(capsys):
    code, out, _ = run(capsys, "check", CAUSAL, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["kind"] == "causal_spec" and summary["claims"]


def test_check_reads_dagitty_from_standard_input(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("dag { X -> M -> Y }"))
    code, out, _ = run(capsys, "check", "-", "--json")
    assert code == 0 and json.loads(out)["kind"] == "dagitty"


@pytest.mark.parametrize(
    ("args", "fits"),
    [
        (["identify", STOCKS, "--treatment", "a", "--outcome", "b"], "tenor simulate"),
        (["paths", STOCKS, "--from", "a", "--to", "b"], "tenor loops"),
        (["test-data", STOCKS, "data.csv"], "tenor sweep"),
        (["simulate", CAUSAL, "--out", "x.csv"], "tenor identify"),
        (["loops", CAUSAL], "tenor paths"),
        (["export", CAUSAL, "--to", "xmile"], "tenor dsep"),
        (["dsep", STOCKS, "--x", "a", "--y", "b"], "tenor calibrate, tenor sensitivity"),
        (["calibrate", CAUSAL, "data.csv", "--fit", "a=0:1"], "tenor identify"),
        (["sensitivity", CAUSAL, "--sample", "a=0:1", "--output", "y"], "tenor paths"),
    ],
)
def test_the_wrong_family_gets_one_message_naming_the_commands_that_fit(capsys, args, fits):
    code, out, err = run(capsys, *args)
    assert code == 2 and not out
    lines = err.strip().splitlines()
    assert len(lines) == 2, err  # one error and its hint, not one per unknown key
    assert "unknown key" not in err
    assert f"tenor {args[0]} needs" in lines[0] and lines[0].startswith(f"{args[1]}:1: this is a ")
    assert fits in lines[1]


def test_read_model_and_read_causal_by_content(tmp_path):
    model_txt = tmp_path / "teacup.txt"
    shutil.copy(TEACUP, model_txt)
    assert read_model(model_txt).name == "teacup"
    with pytest.raises(SpecError, match="needs a causal graph"):
        read_causal(model_txt, command="dsep")
    with pytest.raises(SpecError, match="needs a stock-and-flow model"):
        read_model(CAUSAL, command="simulate")


def test_check_source_refuses_a_diagram_structure(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"stock_flow": {"stocks": [], "flows": []}}')
    with pytest.raises(SpecError, match="tenor draw"):
        check_source(read_source(path))


def test_a_spec_with_only_a_name_is_not_yet_a_spec(tmp_path, capsys):
    path = tmp_path / "draft.yaml"
    path.write_text("name: draft\ndescription: to be written\n")
    code, _, err = run(capsys, "check", path)
    assert code == 2 and f"{path}:1: the file has only description, name" in err


def test_more_kinds_by_content(tmp_path):
    assert detect_kind('{"nodes": {"x": {}, "y": {}}, "edges": {"x -> y": {}}}') == FileKind.CAUSAL_SPEC
    vensim = (DATA / "teacup.mdl").read_text().replace("{UTF-8}\n", "")
    assert detect_kind(vensim) == FileKind.VENSIM
