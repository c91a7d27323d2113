"""The tenor command: exit codes, JSON contracts, and errors without tracebacks."""

from __future__ import annotations

import io
import json
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
    from tenor.specfile import read_yaml

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
    from tenor.specfile import read_yaml

    code, out, _ = run(["schema", "stocks_flows"], capsys)
    assert code == 0
    jsonschema.validate(read_yaml("examples/duration_trade/stocks.yaml").data, json.loads(out))
