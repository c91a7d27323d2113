"""Feedback loops: known loop structures, polarity, gain by tenor, cuts, algebraic loops, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stocks_flows.load import load_model, parse_model
from stocks_flows.loops import (
    Cut,
    cut_graph,
    feedback_loops,
    find_loops,
    loop_graph,
    loop_polarity,
    strongest_path_loops,
)
from tenor.cli.main import main
from tenor.core.errors import SpecError

DATA = Path(__file__).resolve().parent.parent / "data"
INTERVENTION = DATA / "loops" / "intervention.yaml"

LOGISTIC = """
time: {stop: 10, dt: 0.125}
constants: {r: 1, K: 100}
stocks: {P: {initial: 1}}
flows: {births: {to: P, equation: r * P * room}}
auxiliaries: {room: {equation: 1 - P / K}}
"""

OSCILLATOR = """
time: {stop: 10, dt: 0.01}
constants: {k: 4}
stocks: {x: {initial: 1}, v: {initial: 0}}
flows:
  move: {to: x, equation: v}
  pull: {to: v, equation: -k * x}
"""


def test_logistic_has_one_reinforcing_and_one_balancing_loop():
    report = find_loops(parse_model(LOGISTIC))
    assert [(lp.id, lp.variables, lp.polarity) for lp in report.loops] == [
        ("R1", ("P", "births"), "R"),
        ("B1", ("P", "room", "births"), "B"),
    ]
    balancing = report.loop("B1")
    assert balancing.link_polarities == ("-", "+", "+")
    assert report.links[("P", "room")].method == "symbolic"  # -1/K
    assert report.links[("room", "births")].method == "numeric"  # r * P, positive along the run
    assert not report.capped


def test_two_stock_oscillator_is_one_balancing_loop_with_gain_minus_k():
    report = find_loops(parse_model(OSCILLATOR))
    assert len(report.loops) == 1
    (loop,) = report.loops
    assert loop.polarity == "B"
    assert set(loop.variables) == {"x", "v", "move", "pull"}
    assert loop.gain == pytest.approx({"": -4.0}, rel=1e-6)  # one key, "", for a scalar loop
    assert loop.to_dict()["gain"] == pytest.approx(-4.0, rel=1e-6)  # written as a plain number


def test_algebraic_loop_is_an_error_naming_the_cycle():
    text = """
time: {stop: 1}
stocks: {s: {initial: 1}}
flows: {f: {to: s, equation: a}}
auxiliaries:
  a: {equation: b + s}
  b: {equation: 2 * a}
"""
    with pytest.raises(SpecError) as info:
        parse_model(text)
    message = str(info.value)
    assert "algebraic loop" in message
    assert "a" in message and "b" in message


def test_polarity_that_changes_during_the_run_is_flagged():
    model = parse_model("""
time: {stop: 12, dt: 0.125}
constants: {r: 1, K: 100}
stocks: {P: {initial: 1}}
flows: {net_growth: {to: P, equation: r * P * (1 - P / K)}}
""")
    report = find_loops(model)
    (loop,) = report.loops
    link = report.links[("P", "net_growth")]
    assert link.method == "numeric" and link.changes
    assert loop.polarity_changes
    # at an operating point below K/2 the loop reinforces, above it balances
    assert find_loops(model, at=1.0).loops[0].polarity == "R"
    assert find_loops(model, at=11.0).loops[0].polarity == "B"


def test_intervention_loop_is_cut_at_bills():
    report = find_loops(load_model(INTERVENTION))
    (loop,) = report.find("intervention", "long_yield")
    assert loop.variables == (
        "usdjpy",
        "intervention",
        "sales",
        "yield_push",
        "long_yield",
        "yen_weakening",
    )
    assert loop.polarity == "R"
    assert list(loop.gain) == ["bills", "2y", "10y", "30y"]
    assert loop.gain["bills"] == pytest.approx(0.0, abs=1e-12)
    assert loop.gain["10y"] > 0 and loop.gain["30y"] > 0
    # gain = intensity * share * duration_weight * yield_to_dollar
    assert loop.gain["30y"] == pytest.approx(0.5 * 0.2 * 0.15 * 2.0, rel=1e-5)
    assert loop.element_polarity["bills"] == "unknown"
    assert loop.cycles["10y"][2] == "sales[10y]"
    assert loop.to_dict()["gain"]["30y"] == pytest.approx(loop.gain["30y"])  # written by element


def test_declared_cut_sets_the_gain_to_zero_and_names_the_loops_it_opens():
    model = load_model(INTERVENTION)
    report = find_loops(model, cuts=[Cut("yield_push", "long_yield", ("10y",))])
    (loop,) = report.find("long_yield")
    assert loop.gain["10y"] == 0.0
    assert loop.gain["30y"] > 0
    assert report.opened == {"yield_push -> long_yield [10y]": (f"{loop.id}[10y]",)}


def test_cut_of_a_link_on_no_loop_opens_nothing():
    report = find_loops(load_model(INTERVENTION), cuts=[Cut("sales", "holdings")])
    assert report.opened == {"sales -> holdings": ()}


@pytest.mark.parametrize(
    "path", [DATA / "stocks_flows" / "teacup.mdl", DATA / "conformance" / "xmile" / "teacup" / "teacup.xmile"]
)
def test_loops_of_xmile_and_vensim_models(path):
    teacup = find_loops(load_model(path))
    assert [lp.polarity for lp in teacup.loops] == ["B"]
    assert teacup.loops[0].variables == ("Teacup Temperature", "Heat Loss to Room")
    assert teacup.loops[0].gain == pytest.approx({"": -0.1})


def test_capped_enumeration_says_so_and_finds_strong_loops():
    # a chain of stocks, each coupled both ways to its neighbours: many cycles
    n = 7
    lines = ["time: {stop: 2, dt: 0.125}", "stocks:"]
    lines += [f"  s{i}: {{initial: {i + 1}}}" for i in range(n)]
    lines.append("flows:")
    for i in range(n):
        terms = " + ".join(f"0.{j + 1} * s{j}" for j in range(n) if j != i)
        lines.append(f"  f{i}: {{to: s{i}, equation: '{terms} - s{i}'}}")
    model = parse_model("\n".join(lines))
    full = sum(1 for _ in feedback_loops(loop_graph(model)))
    report = find_loops(model, max_loops=20)
    assert full > 20
    assert report.capped
    assert any("stopped after 20 loops" in note for note in report.notes)
    assert len(report.loops) >= 20


def test_strongest_path_search_finds_the_strong_loop():
    graph = nx.DiGraph()
    graph.add_node("S", kind="stock")
    graph.add_edges_from([("S", "a"), ("a", "S"), ("S", "b"), ("b", "S")])
    scores = {
        ("S", "a"): np.array([0.0, 2.0]),
        ("a", "S"): np.array([0.0, 1.0]),
        ("S", "b"): np.array([0.0, 0.0]),
        ("b", "S"): np.array([0.0, 1.0]),
    }
    assert strongest_path_loops(graph, scores) == [["S", "a"]]


# --- properties -------------------------------------------------------------------------------


@st.composite
def signed_models(draw):
    """A linear model: stocks with one net flow each, flows reading random stocks with random signs."""
    n = draw(st.integers(1, 4))
    lines = ["time: {stop: 1, dt: 0.25}", "stocks:"]
    lines += [f"  s{i}: {{initial: {i + 1}}}" for i in range(n)]
    lines.append("flows:")
    signs = {}
    for i in range(n):
        terms = []
        for j in range(n):
            if draw(st.booleans()) or j == (i + 1) % n:
                sign = draw(st.sampled_from(["+", "-"]))
                signs[(f"s{j}", f"f{i}")] = sign
                terms.append(f"{sign} {draw(st.integers(1, 5))} * s{j}")
        lines.append(f"  f{i}: {{to: s{i}, equation: '0 {' '.join(terms)}'}}")
    return "\n".join(lines), signs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signed_models())
def test_loop_polarity_is_the_parity_of_negative_links(case):
    text, signs = case
    report = find_loops(parse_model(text), simulate=False)
    for lp in report.loops:
        cycle = lp.cycles[""]
        edges = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
        expected = [signs.get(e, "+") for e in edges]  # flow -> stock links are +
        assert list(lp.link_polarities) == expected
        negatives = expected.count("-")
        assert lp.polarity == ("B" if negatives % 2 else "R")
        assert lp.polarity == loop_polarity(expected)


@st.composite
def graphs_with_an_edge(draw):
    n = draw(st.integers(2, 6))
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1]),
            min_size=1,
            max_size=14,
            unique=True,
        )
    )
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from((f"v{a}", f"v{b}") for a, b in edges)
    nx.relabel_nodes(graph, {i: f"v{i}" for i in range(n)}, copy=False)
    edge = draw(st.sampled_from(sorted(graph.edges)))
    return graph, edge


@settings(max_examples=60, deadline=None)
@given(graphs_with_an_edge())
def test_cutting_a_link_removes_exactly_the_loops_through_it(case):
    graph, (a, b) = case
    before = {tuple(c) for c in feedback_loops(graph)}
    after = {tuple(c) for c in feedback_loops(cut_graph(graph, [Cut(a, b)]))}

    def through(cycle):
        return any((cycle[i], cycle[(i + 1) % len(cycle)]) == (a, b) for i in range(len(cycle)))

    assert after == {c for c in before if not through(c)}


# --- command line -----------------------------------------------------------------------------


def test_cli_json_contract(capsys):
    assert main(["loops", str(INTERVENTION), "--dominance", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    loops = {lp["id"]: lp for lp in data["loops"]}
    for lp in loops.values():
        assert set(lp) >= {"id", "variables", "polarity", "gain"}
        assert lp["polarity"] in ("R", "B", "unknown")
    r1 = loops["R1"]
    assert r1["gain"]["bills"] == 0.0 and r1["gain"]["10y"] > 0 and r1["gain"]["30y"] > 0
    assert isinstance(loops["B1"]["gain"], float)
    dom = data["dominance"]
    assert len(dom["time"]) == len(dom["scores"]["B1"]) == len(dom["scores"]["R1"])
    assert all(set(p) >= {"start", "end", "loops"} for p in dom["periods"])


def test_cli_scenario_with_declared_cuts(capsys):
    assert main(["loops", str(INTERVENTION), "--scenario", "long_end_cut", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    r1 = next(lp for lp in data["loops"] if lp["id"] == "R1")
    assert r1["gain"]["10y"] == 0.0 and r1["gain"]["30y"] == 0.0 and r1["gain"]["2y"] > 0
    assert data["opened"] == {"yield_push -> long_yield [10y, 30y]": ["R1[10y]", "R1[30y]"]}


def test_cli_table_by_tenor(capsys):
    assert main(["loops", str(INTERVENTION), "--by", "tenor"]) == 0
    out = capsys.readouterr().out
    assert "Loop gain by tenor" in out
    assert "bills" in out and "30y" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["loops", "missing.yaml"], "file not found"),
        (["loops", str(INTERVENTION), "--by", "maturity"], "unknown dimension 'maturity'"),
        (["loops", str(INTERVENTION), "--scenario", "nope"], "unknown scenario"),
        (["loops", "examples/duration_trade/causal.yaml"], "tenor loops needs a stock-and-flow model"),
    ],
)
def test_cli_bad_input_exits_2(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_cli_operating_point_and_notebook_table(capsys):
    assert main(["loops", str(INTERVENTION), "--at", "0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    r1 = next(lp for lp in data["loops"] if lp["id"] == "R1")
    assert r1["gain"] == {
        "bills": 0.0,
        "2y": pytest.approx(0.004),
        "10y": pytest.approx(0.016),
        "30y": pytest.approx(0.03),
    }
    html = find_loops(load_model(INTERVENTION))._repr_html_()
    assert html.startswith("<table>") and "R1" in html and "bills: 0" in html


def test_cut_of_an_unknown_variable_is_an_error():
    from tenor.core.errors import GraphError

    with pytest.raises(GraphError, match="unknown variable"):
        find_loops(load_model(INTERVENTION), cuts=[Cut("yield_pushh", "long_yield")])


def test_cli_table_with_dominance_and_cut_report(capsys):
    assert main(["loops", str(INTERVENTION), "--scenario", "long_end_cut", "--dominance"]) == 0
    out = capsys.readouterr().out
    assert "Feedback loops of intervention_loop" in out
    assert "cut yield_push -> long_yield [10y, 30y] opens: R1[10y], R1[30y]" in out
    assert "Dominant loops" in out


def test_strongest_path_search_finds_the_strongest_loop_at_each_sampled_time():
    from stocks_flows._partials import run_for_analysis
    from stocks_flows.dominance import link_scores

    n = 5
    lines = ["time: {stop: 5, dt: 0.125}", "stocks:"]
    lines += [f"  s{i}: {{initial: {i + 1}}}" for i in range(n)]
    lines.append("flows:")
    for i in range(n):
        terms = " + ".join(f"{0.05 * (j + 1):g} * s{j}" for j in range(n) if j != i)
        lines.append(f"  f{i}: {{to: s{i}, equation: '{terms} - 0.3 * s{i}'}}")
    model = parse_model("\n".join(lines))
    graph = loop_graph(model)
    run = run_for_analysis(model)
    scores = link_scores(model, run, graph)
    cycles = list(feedback_loops(graph))
    times = [1, 10, 20, 40]
    found = {tuple(c) for c in strongest_path_loops(graph, scores, times)}

    def score(cycle, t):
        return abs(np.prod([scores[(cycle[i], cycle[(i + 1) % len(cycle)])][t] for i in range(len(cycle))]))

    for t in times:
        assert tuple(max(cycles, key=lambda c, t=t: score(c, t))) in found


def test_declared_sign_sets_the_polarity_of_a_link_the_equation_hides():
    from stocks_flows.load import parse_model
    from stocks_flows.loops import find_loops

    text = """
time: {stop: 20}
lookups:
  response: {points: [[0, 1], [100, 0]]}
stocks:
  s: {initial: 50}
auxiliaries:
  pressure: {equation: response(s), signs: {s: "-"}}
flows:
  inflow: {to: s, equation: pressure}
"""
    report = find_loops(parse_model(text))
    link = report.links[("s", "pressure")]
    assert (link.polarity, link.method) == ("-", "declared")
    assert [lp.polarity for lp in report.loops] == ["B"]
    undeclared = find_loops(parse_model(text.replace(', signs: {s: "-"}', "")))
    assert undeclared.links[("s", "pressure")].method != "declared"
