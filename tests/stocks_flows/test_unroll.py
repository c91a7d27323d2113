"""Unrolling a model into a time-indexed DAG, and the causal-loop structure for diagrams."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from causal.spec import CausalSpec
from stocks_flows.load import load_model, parse_model
from stocks_flows.loops import Cut, find_loops
from stocks_flows.unroll import causal_loop_structure, node_name, unroll
from tenor.cli.main import main
from tenor.core.errors import GraphError

DATA = Path(__file__).resolve().parent.parent / "data"
INTERVENTION = DATA / "loops" / "intervention.yaml"


def _dag(spec: CausalSpec) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(spec.nodes)
    graph.add_edges_from((e.cause, e.effect) for e in spec.directed_edges())
    return graph


def test_intervention_model_unrolls_to_a_dag_with_stocks_crossing_steps():
    model = load_model(INTERVENTION)
    spec = unroll(model, steps=3, report=find_loops(model))
    graph = _dag(spec)
    assert nx.is_directed_acyclic_graph(graph)
    assert len(spec.nodes) == 3 * len(model.variables)
    assert spec.nodes["holdings_10y__t2"].label == "holdings[10y] @ t2"
    # within a step: the yield reads the push; across steps: flows fill stocks
    assert graph.has_edge("yield_push_10y__t1", "long_yield__t1")
    assert graph.has_edge("yen_weakening__t0", "usdjpy__t1")
    assert graph.has_edge("usdjpy__t0", "usdjpy__t1")
    assert not graph.has_edge("yen_weakening__t0", "usdjpy__t0")
    signs = {e.key: e.sign for e in spec.directed_edges()}
    assert signs["sales_10y__t0 -> holdings_10y__t1"] == "-"
    assert signs["usdjpy__t1 -> intervention__t1"] == "+"
    # the unrolled loop is a path through time
    assert nx.has_path(graph, "usdjpy__t0", "usdjpy__t2")


def test_delayed_links_cross_a_step():
    model = parse_model("""
time: {stop: 10}
constants: {tau: 3}
stocks: {s: {initial: 1}}
flows: {f: {to: s, equation: 0.1 * perceived}}
auxiliaries: {perceived: {equation: 'smooth1(s, tau)'}}
""")
    graph = _dag(unroll(model, steps=2))
    assert graph.has_edge("s__t0", "perceived__t1")
    assert not graph.has_edge("s__t0", "perceived__t0")


def test_node_names_are_identifiers():
    pattern = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
    for name in ("holdings[10y]", "x", "Teacup Temperature", "a[b,c]", "10y"):
        assert pattern.match(node_name(name, 4))


def test_zero_steps_is_an_error():
    with pytest.raises(GraphError):
        unroll(parse_model("time: {stop: 1}\nstocks: {s: {initial: 1}}"), steps=0)


@st.composite
def models(draw):
    n = draw(st.integers(1, 4))
    m = draw(st.integers(0, 3))
    lines = ["time: {stop: 1}", "stocks:"]
    lines += [f"  s{i}: {{initial: 1}}" for i in range(n)]
    if m:
        lines.append("auxiliaries:")
        for j in range(m):
            # an auxiliary may read stocks and earlier auxiliaries only: no algebraic loop
            pool = [f"s{i}" for i in range(n)] + [f"a{k}" for k in range(j)]
            used = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
            lines.append(f"  a{j}: {{equation: '{' + '.join(used)}'}}")
    lines.append("flows:")
    pool = [f"s{i}" for i in range(n)] + [f"a{k}" for k in range(m)]
    for i in range(n):
        used = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        lines.append(f"  f{i}: {{to: s{i}, equation: '{' - '.join(used)}'}}")
    return "\n".join(lines)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.integers(1, 4))
def test_unrolled_graph_is_acyclic_with_one_node_per_variable_per_step(text, steps):
    model = parse_model(text)
    spec = unroll(model, steps)
    graph = _dag(spec)
    assert nx.is_directed_acyclic_graph(graph)
    assert len(spec.nodes) == steps * len(model.variables)
    for var in model.variables:
        copies = [n for n in spec.nodes if n.rsplit("__t", 1)[0] == node_name(var)]
        assert len(copies) == steps
    # every link of the model appears, within a step or into the next one
    for cause, effect in model.dependency_graph().edges:
        assert (
            any(graph.has_edge(f"{node_name(cause)}__t0", f"{node_name(effect)}__t{k}") for k in (0, 1)) or steps == 1
        )


def test_causal_loop_structure_marks_the_bills_cut():
    model = load_model(INTERVENTION)
    data = causal_loop_structure(model).to_dict()
    assert set(data) == {"variables", "links", "loops"}
    kinds = {v["name"]: v["kind"] for v in data["variables"]}
    assert kinds["holdings"] == "stock" and kinds["sales"] == "flow" and kinds["share"] == "constant"
    links = {(lk["cause"], lk["effect"]): lk for lk in data["links"]}
    assert links[("sales", "yield_push")]["cut_elements"] == ["bills"]
    assert links[("sales", "holdings")]["polarity"] == "-"
    assert links[("usdjpy", "yen_weakening")]["polarity"] == "-"
    assert all(set(lk) == {"cause", "effect", "polarity", "delay", "cut_elements"} for lk in data["links"])
    loops = {lp["id"]: lp for lp in data["loops"]}
    assert loops["R1"]["polarity"] == "R" and "long_yield" in loops["R1"]["variables"]


def test_causal_loop_structure_with_a_declared_cut_and_delays():
    model = load_model(INTERVENTION)
    report = find_loops(model, cuts=[Cut("yield_push", "long_yield", ("30y",))])
    links = {(lk["cause"], lk["effect"]): lk for lk in causal_loop_structure(model, report).to_dict()["links"]}
    assert links[("yield_push", "long_yield")]["cut_elements"] == ["30y"]
    smooth = parse_model("""
time: {stop: 10}
stocks: {s: {initial: 1}}
flows: {f: {to: s, equation: 0.1 * perceived}}
auxiliaries: {perceived: {equation: 'smooth1(s, 3)'}}
""")
    links = {(lk["cause"], lk["effect"]): lk for lk in causal_loop_structure(smooth).to_dict()["links"]}
    assert links[("s", "perceived")]["delay"] is True
    assert links[("perceived", "f")]["delay"] is False


def test_cli_unroll_writes_a_causal_spec(tmp_path, capsys):
    from ruamel.yaml import YAML

    out = tmp_path / "unrolled.yaml"
    assert main(["unroll", str(INTERVENTION), "--steps", "2", "--out", str(out)]) == 0
    spec = CausalSpec.model_validate(YAML(typ="safe", pure=True).load(out.read_text()))
    assert len(spec.nodes) == 2 * len(load_model(INTERVENTION).variables)
    assert nx.is_directed_acyclic_graph(_dag(spec))
    assert main(["unroll", str(INTERVENTION), "--steps", "2", "--out", str(INTERVENTION)]) == 2
