"""Error text is API: each bad spec gives (type, line, key) and a hint, every problem at once."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows.load import load_model, parse_model
from stocks_flows.spec import json_schema
from tenor.core.errors import ExpressionError, SpecError

BASE = """\
time: {start: 0, stop: 10, dt: 1, unit: day}
constants:
  k: {value: 0.1, units: 1/day}
stocks:
  s: {initial: 100, units: people}
"""

CASES = [
    # (id, extra yaml, error type, line, column or None, key, hint substring)
    (
        "unknown name",
        "flows:\n  f: {from: s, equation: k * ss}\n",
        ExpressionError,
        7,
        30,
        "flows.f.equation",
        "did you mean 's'",
    ),
    (
        "syntax",
        "flows:\n  f: {from: s, equation: k * (s + 1}\n",
        ExpressionError,
        7,
        36,
        "flows.f.equation",
        "not closed",
    ),
    (
        "unknown stock",
        "flows:\n  f: {from: ss, equation: k * s}\n",
        SpecError,
        7,
        None,
        "flows.f.from",
        "did you mean 's'",
    ),
    ("flow without stock", "flows:\n  f: {equation: k * s}\n", SpecError, 7, None, "flows.f", "from: STOCK"),
    (
        "unknown key",
        "flows:\n  f: {from: s, equation: k * s, unit: x}\n",
        SpecError,
        7,
        None,
        "flows.f.unit",
        "did you mean 'units'",
    ),
    (
        "bad number",
        "auxiliaries:\n  a: {equation: true}\n",
        SpecError,
        7,
        None,
        "auxiliaries.a.equation",
        "number",
    ),
    (
        "unit mismatch",
        "auxiliaries:\n  a: {equation: s + k}\n",
        ExpressionError,
        7,
        19,
        "auxiliaries.a.equation",
        "units",
    ),
    (
        "flow units",
        "flows:\n  f: {from: s, equation: k * s, units: people}\n",
        SpecError,
        7,
        None,
        "flows.f.units",
        "people/day",
    ),
    (
        "lookup as variable",
        "auxiliaries:\n  a: {equation: tbl + 1}\nlookups:\n  tbl: {points: [[0, 0], [1, 1]]}\n",
        ExpressionError,
        7,
        17,
        "auxiliaries.a.equation",
        "tbl(x)",
    ),
    (
        "unknown function",
        "auxiliaries:\n  a: {equation: 'smoth1(k, 2)'}\n",
        ExpressionError,
        7,
        18,
        "auxiliaries.a.equation",
        "smooth1",
    ),
    (
        "algebraic loop",
        "auxiliaries:\n  a: {equation: b + 1}\n  b: {equation: a * 2}\n",
        SpecError,
        7,
        None,
        "auxiliaries.a",
        "stock",
    ),
    (
        "unknown dimension",
        "auxiliaries:\n  a: {dimensions: [tenr], equation: 1}\ndimensions:\n  tenor: [bills]\n",
        SpecError,
        7,
        None,
        "auxiliaries.a.dimensions[0]",
        "did you mean 'tenor'",
    ),
    (
        "bad element",
        "dimensions:\n  tenor: [bills, 10y]\nauxiliaries:\n  a: {dimensions: [tenor], equation: {bills: 1, 10yr: 2}}\n",
        SpecError,
        9,
        55,
        "auxiliaries.a.equation.10yr",
        "did you mean '10y'",
    ),
    (
        "whole array used as a value",
        "dimensions:\n  tenor: [bills, 10y]\nauxiliaries:\n  r: {dimensions: [tenor], "
        "equation: 1}\n  a: {equation: r * 2}\n",
        ExpressionError,
        10,
        17,
        "auxiliaries.a.equation",
        "sum(r[*])",
    ),
    (
        "scenario of unknown constant",
        "scenarios:\n  x: {constants: {kk: 1}}\n",
        SpecError,
        7,
        None,
        "scenarios.x.constants.kk",
        "did you mean 'k'",
    ),
    ("stop before start", "", SpecError, 1, None, "time", "stop larger"),
]


@pytest.mark.parametrize(("case", "extra", "kind", "line", "column", "key", "hint"), CASES, ids=[c[0] for c in CASES])
def test_error_location_and_hint(case, extra, kind, line, column, key, hint):
    text = BASE + extra
    if case == "stop before start":
        text = text.replace("stop: 10", "stop: -1")
    with pytest.raises(SpecError) as info:
        parse_model(text, file="m.yaml")
    err = info.value
    assert type(err) is kind
    first = next((d for d in err.diagnostics if d.key == key), err.diagnostics[0])
    assert (first.file, first.line, first.key) == ("m.yaml", line, key), str(err)
    if column is not None:
        assert first.column == column, str(err)
    assert hint in (first.hint or ""), str(err)


def test_every_problem_is_reported_at_once():
    text = BASE + "flows:\n  f: {from: s, equation: k * ss}\n  g: {from: s, equation: kk * s}\n"
    with pytest.raises(ExpressionError) as info:
        parse_model(text, file="m.yaml")
    assert [(d.line, d.key) for d in info.value.diagnostics] == [
        (7, "flows.f.equation"),
        (8, "flows.g.equation"),
    ]


def test_block_scalar_equation_points_inside_the_block():
    text = BASE + "flows:\n  f:\n    from: s\n    equation: |\n      k * s +\n        bogus\n"
    with pytest.raises(ExpressionError) as info:
        parse_model(text, file="m.yaml")
    d = info.value.diagnostics[0]
    assert (d.line, d.column) == (11, 9)


def test_missing_and_unknown_files():
    with pytest.raises(SpecError, match="file not found"):
        load_model("no/such/model.yaml")
    with pytest.raises(SpecError, match="unknown model file type"):
        load_model("model.txt")


def test_json_schema_describes_the_spec():
    schema = json_schema()
    json.dumps(schema)
    assert {
        "time",
        "stocks",
        "flows",
        "auxiliaries",
        "constants",
        "lookups",
        "dimensions",
        "scenarios",
    } <= set(schema["properties"])
    flow = schema["$defs"]["FlowSpec"]["properties"]
    assert "from" in flow and "to" in flow


@given(st.text(max_size=200))
@settings(max_examples=150, deadline=None)
def test_any_text_loads_or_raises_spec_error(text):
    try:
        parse_model(text)
    except SpecError:
        pass


def test_parameters_carry_a_source_or_an_assumption():
    model = parse_model(
        "time: {stop: 2}\nconstants:\n  k: {value: 1, source: 'sources.md, row 3'}\n"
        "  j: {value: 2, assumption: 'a round number, to be swept'}\n"
        "stocks:\n  s: {initial: 5, source: 'Treasury, TIC table'}\n"
    )
    assert model.spec.constants["k"].source == "sources.md, row 3"
    assert model.spec.constants["j"].assumption.startswith("a round number")
    assert model.spec.stocks["s"].source == "Treasury, TIC table"
    properties = json_schema()["$defs"]["ConstantSpec"]["properties"]
    assert {"source", "assumption"} <= set(properties)
