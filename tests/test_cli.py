"""The tenor command: exit codes, JSON contracts, and errors without tracebacks."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from tenor.cli.main import main

EXAMPLE = "examples/duration_trade/causal.yaml"

SMALL = """\
nodes: {x: {}, m: {}, y: {}, z: {}}
edges:
  z -> x: {sign: +}
  z -> y: {sign: +}
  x -> m: {sign: +, gain: 0.5}
  m -> y: {sign: "-", gain: -2}
channels:
  main: {path: x -> m -> y}
claims:
  - sign: {channel: main, is: "-"}
  - separated: {x: x, y: y, given: [m, z]}
"""


def run(args, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(SMALL)
    return str(path)


def test_check_example_passes(capsys):
    code, out, _ = run(["check", EXAMPLE, "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["ok"] and {c["name"] for c in data["channels"]} >= {"fx_intervention", "jgb_accident"}


def test_check_failing_claim_exits_1_and_names_the_line(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(SMALL.replace('is: "-"', "is: +"))
    code, out, _ = run(["check", str(path)], capsys)
    assert code == 1
    assert f"{path}:10:" in out and "FAILS" in out


def test_check_invalid_exits_2_without_traceback(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(SMALL.replace("m -> y", "m -> yy"))
    code, out, err = run(["check", str(path)], capsys)
    assert code == 2
    assert "Traceback" not in err + out
    assert f"{path}:6:3: edges.m -> yy: unknown node 'yy'" in err


def test_check_invalid_json(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text("nodes: {x: {rol: policy}}\n")
    code, out, _ = run(["check", str(path), "--json"], capsys)
    assert code == 2
    error = json.loads(out)["error"]["errors"][0]
    assert (error["line"], error["key"]) == (1, "nodes.x.rol") and "role" in error["hint"]


def test_missing_file_exits_2(capsys):
    code, _, err = run(["check", "no/such/file.yaml"], capsys)
    assert code == 2 and "file not found" in err


def test_dsep_json_contract(small, capsys):
    code, out, _ = run(["dsep", small, "--x", "x", "--y", "y", "--given", "m", "z", "--json"], capsys)
    assert code == 0 and json.loads(out)["separated"] is True
    code, out, _ = run(["dsep", small, "--x", "x", "--y", "y", "--given", "m", "--json"], capsys)
    assert json.loads(out)["separated"] is False


def test_paths_marks_kinds_and_blocking(small, capsys):
    code, out, _ = run(["paths", small, "--from", "x", "--to", "y", "--given", "z", "--json"], capsys)
    assert code == 0
    paths = {p["path"]: p for p in json.loads(out)["paths"]}
    assert paths["x -> m -> y"]["kind"] == "causal" and paths["x -> m -> y"]["open"]
    assert paths["x <- z -> y"]["kind"] == "back-door" and not paths["x <- z -> y"]["open"]


def test_unknown_node_suggests(small, capsys):
    code, _, err = run(["paths", small, "--from", "xx", "--to", "y"], capsys)
    assert code == 2 and "did you mean 'x'" in err


@pytest.mark.parametrize("to", ["dagitty", "dot", "mermaid", "json", "yaml"])
def test_convert_from_stdin_dagitty(to, capsys, monkeypatch):
    code, out, _ = run(
        ["convert", "-", "--to", to], capsys, stdin="dag { X [exposure] X -> Y U -> {X Y} }", monkeypatch=monkeypatch
    )
    assert code == 0
    assert "X" in out and "Y" in out


def test_convert_refuses_to_overwrite_its_input(small, capsys):
    before = open(small).read()
    code, _, err = run(["convert", small, "--to", "yaml", "--out", small], capsys)
    assert code == 2 and "refusing" in err
    assert open(small).read() == before


def test_convert_writes_file(small, tmp_path, capsys):
    out = tmp_path / "g.dagitty"
    assert run(["convert", small, "--to", "dagitty", "--out", str(out)], capsys)[0] == 0
    code, data, _ = run(["dsep", str(out), "--x", "x", "--y", "y", "--given", "m,z", "--json"], capsys)
    assert code == 0 and json.loads(data)["separated"] is True


def test_schema_is_json_schema(capsys):
    code, out, _ = run(["schema", "causal"], capsys)
    schema = json.loads(out)
    assert code == 0 and "nodes" in schema["properties"] and "$defs" in schema


def test_example_validates_against_its_schema(capsys):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the published schema")
    from tenor.core.specfile import read_yaml

    run(["schema", "causal"], capsys)
    _code, out, _ = run(["schema", "causal"], capsys)
    jsonschema.validate(read_yaml(EXAMPLE).data, json.loads(out))


def test_written_files_get_ordinary_permissions(small, tmp_path, capsys):
    import os
    import stat

    out = tmp_path / "g.dot"
    assert run(["convert", small, "--to", "dot", "--out", str(out)], capsys)[0] == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


def test_example_model_validates_against_its_schema(capsys):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the published schema")
    from tenor.core.specfile import read_yaml

    code, out, _ = run(["schema", "stocks_flows"], capsys)
    assert code == 0
    jsonschema.validate(read_yaml("examples/duration_trade/stocks.yaml").data, json.loads(out))


# --- what a new user meets first ----------------------------------------------------------------

TEACUP = "tests/data/stocks_flows/teacup.yaml"


def test_version(capsys):
    from importlib.metadata import version

    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out == f"tenor {version('tenor')}\n"
    assert re.fullmatch(r"tenor \d+\.\d+\.\d+\n", out)


def test_an_empty_spec_is_invalid_not_valid(tmp_path, capsys):
    path = tmp_path / "causal.yaml"
    path.write_text("")
    code, out, err = run(["check", str(path)], capsys)
    assert code == 2 and "valid" not in out
    assert err.startswith(f"{path}:1: the file is empty")


def test_not_identifiable_names_no_method(capsys, monkeypatch):
    code, out, _ = run(
        ["identify", "-", "--treatment", "X", "--outcome", "Y"],
        capsys,
        stdin="dag { X -> Y X <-> Y }",
        monkeypatch=monkeypatch,
    )
    line = next(line for line in out.splitlines() if line.startswith("identifiable:"))
    assert code == 0 and line.split() == ["identifiable:", "no"]


def test_plot_a_misspelt_variable_gets_a_did_you_mean(tmp_path, capsys):
    results = tmp_path / "run.csv"
    assert run(["simulate", TEACUP, "--out", str(results)], capsys)[0] == 0
    code, out, err = run(["plot", str(results), "--var", "teacup_temprature", "--out", str(tmp_path / "p.png")], capsys)
    assert code == 2 and not out
    assert "did you mean 'teacup_temperature'?" in err
    assert "room_temperature" not in err  # no list of every column
    assert not (tmp_path / "p.png").exists()


def test_format_that_contradicts_the_suffix_is_refused(tmp_path, capsys):
    out = tmp_path / "a.svg"
    code, _, err = run(["draw", EXAMPLE, "--format", "png", "--out", str(out)], capsys)
    assert code == 2 and not out.exists()
    assert "--format png does not match the file name a.svg" in err and "a.png" in err
    assert run(["draw", EXAMPLE, "--format", "svg", "--out", str(out)], capsys)[0] == 0
    assert out.read_bytes().lstrip().startswith(b"<")


def test_simulate_progress_goes_to_standard_error_only(tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, stdout, err = run(["simulate", TEACUP, "--out", str(out), "--progress"], capsys)
    assert code == 0 and stdout == ""
    assert "simulating teacup.yaml: 240 steps of 0.125 minute, vector engine" in err
    assert re.search(r"wrote .* in \d+\.\d s", err)
    # not a terminal and not asked for: no progress
    code, stdout, err = run(["simulate", TEACUP, "--out", str(out)], capsys)
    assert code == 0 and stdout == "" and "simulating" not in err


def test_draw_picks_the_drawing_for_the_file(tmp_path, capsys):
    out = tmp_path / "model.dot"
    assert run(["draw", TEACUP, "--out", str(out)], capsys)[0] == 0
    assert "stock" in out.read_text()  # a stock-and-flow diagram
    code, _, err = run(["draw", TEACUP, "--kind", "dag", "--out", str(out)], capsys)
    assert code == 2 and "kinds that fit: --kind stockflow, --kind cld" in err
    code, _, err = run(["draw", EXAMPLE, "--kind", "stockflow", "--out", str(out)], capsys)
    assert code == 2 and "kinds that fit: --kind dag" in err
