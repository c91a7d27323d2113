"""dagitty, DOT, Mermaid and node-link JSON: parsing, writing, round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from causal.formats.dagitty import generate_dagitty, parse_dagitty
from causal.formats.dot import generate_dot
from causal.formats.mermaid import generate_mermaid
from causal.formats.node_link import generate_node_link, parse_node_link
from causal.formats.spec_yaml import generate_yaml
from causal.load import parse_spec, read_spec
from tenor.core.errors import SpecError
from tests.strategies import dags


def _structure(spec):
    return (
        {n: node.role.value for n, node in spec.nodes.items()},
        {(e.cause, e.effect): (e.sign, e.gain) for e in spec.directed_edges()},
        {frozenset((a, b)) for a, b, _ in spec.bidirected_edges()},
    )


def test_dagitty_features():
    text = """
    dag {
      bb="0,0,1,1"
      "Smoking status" [exposure,pos="0.1,0.2"]
      Cancer [outcome]
      U [latent]
      Age [adjusted]
      "Smoking status" -> Tar -> Cancer [beta=0.5]
      {U Age} -> {"Smoking status" Cancer}
      Tar <- Genes
      Genes <-> Cancer
    }
    """
    spec = parse_dagitty(text)
    assert spec.nodes["Smoking_status"].label == "Smoking status"
    assert spec.nodes["Smoking_status"].role.value == "exposure"
    assert spec.nodes["U"].role.value == "latent"
    assert spec.nodes["Age"].role.value == "adjusted"
    edges = {(e.cause, e.effect): e.gain for e in spec.directed_edges()}
    assert edges[("Smoking_status", "Tar")] == 0.5 and edges[("Tar", "Cancer")] == 0.5
    assert {("U", "Smoking_status"), ("U", "Cancer"), ("Age", "Smoking_status"), ("Age", "Cancer")} <= set(edges)
    assert ("Genes", "Tar") in edges
    assert spec.bidirected_edges()[0][:2] == ("Genes", "Cancer")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("dag {\n  X -> \n}", 3, "expected a node name"),
        ("graf { X -> Y }", 1, "expected 'dag'"),
        ("dag {\n X -- Y\n}", 2, "undirected"),
        ("dag { X -> Y [beta=big] }", 1, "beta must be a number"),
        ("dag {\n X -> Y\n X -> Z\n Y -> X }", 2, "directed cycle"),
    ],
)
def test_dagitty_errors_are_located(text, line, message):
    with pytest.raises(SpecError) as caught:
        parse_dagitty(text, file="g.dagitty")
    assert message in str(caught.value)
    assert caught.value.diagnostics[0].line in (line, None) or message == "directed cycle"


@pytest.mark.parametrize(
    ("text", "edges"),
    [
        ("dag { {x y} <- {p q} }", {"p -> x", "q -> x", "p -> y", "q -> y"}),
        ("dag { {a b} -> {c d} }", {"a -> c", "a -> d", "b -> c", "b -> d"}),
        ("dag { a <- {p q} -> b }", {"p -> a", "q -> a", "p -> b", "q -> b"}),
    ],
)
def test_dagitty_group_arrows_connect_every_pair(text, edges):
    """A group on either side of an arrow connects every member with every member (dagitty's rule),
    whichever way the arrow points."""
    assert set(parse_dagitty(text).edges) == edges


@settings(max_examples=80, deadline=None)
@given(dags())
def test_dagitty_round_trip(spec):
    back = parse_dagitty(generate_dagitty(spec))
    assert _structure(back) == _structure(spec)


@settings(max_examples=80, deadline=None)
@given(dags())
def test_node_link_and_yaml_round_trips(spec):
    assert _structure(parse_node_link(generate_node_link(spec))) == _structure(spec)
    assert _structure(parse_spec(generate_yaml(spec))) == _structure(spec)


def test_example_round_trips_keep_everything_the_format_holds():
    spec = read_spec("examples/duration_trade/causal.yaml")
    again = parse_spec(generate_yaml(spec))
    assert again.model_dump() == spec.model_dump()
    via_json = parse_node_link(generate_node_link(spec))
    assert via_json.model_dump()["edges"] == spec.model_dump()["edges"]
    via_dagitty = parse_dagitty(generate_dagitty(spec))
    assert {k for k in via_dagitty.edges} == set(spec.edges)
    assert via_dagitty.nodes["global_risk"].role.value == "latent"


def test_dot_and_mermaid_hold_every_edge():
    spec = read_spec("examples/duration_trade/causal.yaml")
    dot, mermaid = generate_dot(spec), generate_mermaid(spec)
    for e in spec.directed_edges():
        assert f'"{e.cause}" -> "{e.effect}"' in dot
        assert any(
            line.strip().startswith(e.cause) and line.strip().endswith(e.effect) for line in mermaid.splitlines()
        )
    for a, b, _ in spec.bidirected_edges():
        assert f'"{a}" -> "{b}" [dir=both, style=dashed, bidirected=true]' in dot
        assert f"{a} <-.-> {b}" in mermaid
    assert generate_dot(spec) == dot  # deterministic
    data = json.loads(generate_node_link(spec))
    assert data["directed"] is True and len(data["edges"]) == len(spec.edges)
