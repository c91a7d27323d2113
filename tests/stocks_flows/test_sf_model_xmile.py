"""The internal model (dependency graph, order) and XMILE in and out."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sf_support import CONFORMANCE, MODELS, assert_runs_equal

from stocks_flows.engine import simulate
from stocks_flows.load import load_model, parse_model
from stocks_flows.pysd_runner import run_pysd, run_pysd_file
from stocks_flows.xmile import generate_xmile, read_vensim, read_xmile, write_xmile
from tenor.core.errors import ExportError, SpecError


def test_dependency_graph_marks_flow_to_stock_links():
    model = load_model(MODELS / "teacup.yaml")
    graph = model.dependency_graph()
    assert graph.edges["heat_loss_to_room", "teacup_temperature"]["flow_to_stock"] is True
    assert graph.edges["teacup_temperature", "heat_loss_to_room"]["flow_to_stock"] is False
    assert graph.edges["room_temperature", "heat_loss_to_room"]["flow_to_stock"] is False
    assert graph.nodes["teacup_temperature"]["kind"] == "stock"
    assert sorted(graph.predecessors("heat_loss_to_room")) == [
        "characteristic_time",
        "room_temperature",
        "teacup_temperature",
    ]


def test_dependency_graph_per_tenor_and_delayed_links():
    model = load_model(MODELS / "tenors.yaml")
    graph = model.dependency_graph()
    assert graph.has_edge("sales[10y]", "holdings[10y]") and not graph.has_edge("sales[10y]", "holdings[2y]")
    assert {p for p in graph.predecessors("proceeds")} == {f"sales[{t}]" for t in ("bills", "2y", "5y", "10y", "30y")}
    assert graph.nodes["holdings[10y]"]["base"] == "holdings"
    assert graph.nodes["holdings[10y]"]["subscript"] == ("10y",)
    assert graph.nodes["holdings[10y]"]["units"] == "billion"
    assert model.base_dimensions["sales"] == ("tenor",)
    smoothed = parse_model("""
time: {stop: 5}
stocks: {s: {initial: 1}}
flows: {f: {to: s, equation: "smooth1(s, 2)"}}
""").dependency_graph()
    assert smoothed.edges["s", "f"]["delayed"] is True


def test_a_smooth_breaks_an_algebraic_loop():
    model = parse_model("""
time: {stop: 5}
auxiliaries:
  a: {equation: "smooth1(b, 2, 0)"}
  b: {equation: a + 1}
""")
    assert model.order == ("a", "b")


def test_scenarios_apply_constants_initials_and_lookups():
    model = load_model(MODELS / "tenors.yaml")
    calm = model.with_scenario("calm")
    assert calm.lookups["pressure"].ys == (1.0, 1.0)
    bills = model.with_scenario("bills_only")
    assert bills.variables["sale_rate[10y]"].value == 0.0
    hot = load_model(MODELS / "teacup.yaml").with_scenario("hot_tea")
    assert simulate(hot).values[0, 0, hot_index(hot)] == 210.0


def hot_index(model):
    return list(model.variables).index("teacup_temperature")


@pytest.mark.parametrize("name", ["teacup.yaml", "tenors.yaml"])
def test_export_reads_back_and_runs_the_same(tmp_path, name):
    model = load_model(MODELS / name)
    path = tmp_path / "model.xmile"
    write_xmile(model, path)
    back = read_xmile(path)
    original = simulate(model).frame(0)
    again = simulate(back).frame(0)
    # XMILE (as PySD reads it) saves every dt; keep the rows of the original save step
    again = again[np.isin(again["time"].to_numpy(), original["time"].to_numpy())].reset_index(drop=True)
    assert set(original.columns) <= set(again.columns)
    cols = list(original.columns)
    assert_runs_equal(again[cols].to_numpy(), original.to_numpy(), cols, original["time"].to_numpy())


def test_exported_xmile_runs_in_pysd_directly(tmp_path):
    import pysd

    model = load_model(MODELS / "tenors.yaml")
    path = tmp_path / "model.xmile"
    path.write_text(generate_xmile(model))
    result = pysd.read_xmile(str(path)).run(return_columns=["cash", "holdings[10y]"], saveper=1)
    mine = simulate(model, variables=["cash", "holdings[10y]"])
    np.testing.assert_allclose(result.to_numpy(), mine.values[0], rtol=1e-9)


def test_reading_never_writes_beside_the_model(tmp_path):
    for src in (CONFORMANCE / "xmile" / "teacup" / "teacup.xmile", MODELS / "teacup.mdl"):
        shutil.copy(src, tmp_path / src.name)
    before = sorted(p.name for p in tmp_path.iterdir())
    for name in ("teacup.xmile", "teacup.mdl"):
        model = load_model(tmp_path / name)
        run_pysd(model)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_vensim_model_reads_into_the_same_model():
    vensim = read_vensim(MODELS / "teacup.mdl")
    xmile = read_xmile(CONFORMANCE / "xmile" / "teacup" / "teacup.xmile")
    assert set(vensim.variables) == set(xmile.variables)
    assert (vensim.time.start, vensim.time.stop, vensim.time.dt) == (
        xmile.time.start,
        xmile.time.stop,
        xmile.time.dt,
    )
    a, b = simulate(vensim).frame(0), simulate(xmile).frame(0)
    np.testing.assert_allclose(a[list(b.columns)].to_numpy(), b.to_numpy(), rtol=1e-12)
    assert vensim.variables["Teacup Temperature"].outflows == ("Heat Loss to Room",)


def test_unsupported_construct_names_construct_variable_and_file():
    with pytest.raises(SpecError) as info:
        load_model(MODELS / "unsupported.xmile")
    err = info.value
    assert err.message == "the function NORMAL is not supported"  # in Stella's own word
    assert err.key == "growth" and err.file.endswith("unsupported.xmile")
    assert err.line == 8


def test_broken_xmile_is_a_spec_error_naming_variable_and_place(tmp_path):
    bad = tmp_path / "bad.xmile"
    bad.write_text((MODELS / "unsupported.xmile").read_text().replace("NORMAL(input, 3)", "input +* ("))
    with pytest.raises(SpecError, match="cannot read this equation") as info:
        load_model(bad)
    err = info.value
    assert (err.key, err.line, err.column) == ("growth", 8, 37)
    assert "'+* ('" in err.message


def test_export_refuses_to_overwrite_its_input(tmp_path):
    src = tmp_path / "teacup.yaml"
    shutil.copy(MODELS / "teacup.yaml", src)
    with pytest.raises(ExportError):
        write_xmile(load_model(src), src, inputs=(src,))
    assert src.read_text() == (MODELS / "teacup.yaml").read_text()


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("a.xmile", "not xml at all", "not an XML file", 1),
        ("b.xmile", "<?xml version='1.0'?>\n<model>\n</model>\n", "not <xmile>", None),
        ("c.mdl", "", "the file is empty", None),
        ("d.stmx", "<xmile>\n  <model>\n</xmile>\n", "cannot read this model", None),
    ],
)
def test_files_that_are_not_models(tmp_path, name, content, message, line):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SpecError, match=message) as info:
        load_model(path)
    assert info.value.line == line


def test_declared_signs_and_stock_links_on_the_graph():
    model = parse_model("""
time: {stop: 5}
constants: {k: 0.1, target: 50}
stocks: {s: {initial: 1}}
flows:
  inflow: {to: s, equation: k * (target - s), signs: {target: +, s: negative}}
  outflow: {from: s, equation: k * s}
""")
    graph = model.dependency_graph()
    assert graph.edges["target", "inflow"]["sign"] == "+"
    assert graph.edges["s", "inflow"]["sign"] == "-"
    assert graph.edges["k", "inflow"]["sign"] is None
    assert graph.edges["inflow", "s"]["sign"] == "+" and graph.edges["outflow", "s"]["sign"] == "-"


def test_a_sign_for_a_name_the_equation_does_not_use():
    with pytest.raises(SpecError) as info:
        parse_model(
            "time: {stop: 5}\nconstants: {k: 1}\nauxiliaries:\n  a: {equation: 2 * k, signs: {kk: +}}\n",
            file="m.yaml",
        )
    d = info.value.diagnostics[0]
    assert (d.line, d.key) == (4, "auxiliaries.a.signs.kk") and "did you mean 'k'" in d.hint


@pytest.mark.parametrize(
    "name",
    ["functions.mdl", "pulses.mdl", "pulses.xmile", "trend.xmile", "subscripts.mdl", "two_dimensions.yaml"],
)
def test_exported_models_run_the_same_in_pysd(tmp_path, name):
    model = load_model(MODELS / name)
    path = tmp_path / "exported.xmile"
    write_xmile(model, path)
    original = simulate(model).frame(0)
    columns = list(original.columns)
    exported = run_pysd(read_xmile(path))
    exported = exported[np.isin(exported["time"], original["time"])][columns]
    assert_runs_equal(exported.to_numpy(), original.to_numpy(), columns, original["time"].to_numpy())


_GF_CALL = """<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <isee:prefs show_module_prefix="true"/>
  <header><vendor>t</vendor><product version="1">t</product></header>
  <sim_specs><start>0</start><stop>4</stop><dt>0.5</dt></sim_specs>
  <model><variables>
    <aux name="shape">
      <eqn>1</eqn>
      <gf><yscale min="0" max="10"/><xpts>0,2,4</xpts><ypts>0,10,0</ypts></gf>
    </aux>
    <aux name="called"><eqn>{call}</eqn></aux>
  </variables></model>
</xmile>
"""


@pytest.mark.parametrize("call", ["LOOKUP(shape, Time)", "lookup( shape ,Time)", "shape(Time)"])
def test_a_graphical_function_variable_called_on_another_input(tmp_path, call):
    """Stella's LOOKUP(table, x) and XMILE's table(x) both apply the variable's graphical function to x;
    the variable itself stays the function of its own equation (here shape = gf(1) = 5)."""
    path = tmp_path / "gf.stmx"
    path.write_text(_GF_CALL.replace("{call}", call))
    frame = simulate(load_model(path)).frame(0)
    t = frame["time"].to_numpy()
    np.testing.assert_allclose(frame["called"], np.where(t <= 2, 5 * t, 20 - 5 * t))
    np.testing.assert_allclose(frame["shape"], 5.0)


_BARE_FLOW = """<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <header><vendor>t</vendor><product version="1">t</product></header>
  <sim_specs><start>0</start><stop>3</stop><dt>1</dt></sim_specs>
  <model><variables>
    <stock name="Tank"><eqn>10</eqn><inflow>In_w/_slash,_comma</inflow><outflow>Out*star</outflow></stock>
    <flow name="In w/ slash, comma"><eqn>3</eqn></flow>
    <flow name="Out*star"><eqn>1</eqn></flow>
  </variables></model>
</xmile>
"""


def test_a_stock_names_its_flows_bare_whatever_their_characters(tmp_path):
    """Stella writes <inflow>In_w/_slash,_comma</inflow> unquoted: a name, not arithmetic."""
    path = tmp_path / "bare.stmx"
    path.write_text(_BARE_FLOW)
    for frame in (simulate(load_model(path)).frame(0), run_pysd_file(path)):
        np.testing.assert_allclose(frame["Tank"], [10, 12, 14, 16])


@pytest.mark.parametrize(("tag", "words"), [("conveyor", "a conveyor"), ("queue", "a queue"), ("oven", "an oven")])
@pytest.mark.parametrize("engine", ["vector", "pysd"])
def test_a_conveyor_queue_or_oven_is_refused_not_run_as_a_plain_stock(tmp_path, capsys, tag, words, engine):
    """PySD reads these Stella stocks as plain stocks: a silent wrong answer, so both engines refuse them."""
    from tenor.cli.main import main

    path = tmp_path / "belt.xmile"
    path.write_text(
        _BARE_FLOW.replace("<outflow>Out*star</outflow></stock>", f"<outflow>Out*star</outflow>\n<{tag}/></stock>")
    )
    out = tmp_path / "out.csv"
    assert main(["simulate", str(path), "--engine", engine, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"belt.xmile:6: Tank: the stock 'Tank' is {words}" in err and err.count("the stock 'Tank'") == 1
    assert not out.exists()
