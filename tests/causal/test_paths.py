"""Paths, d-separation and linear total effects, on canonical and generated graphs."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal.graph import build_graph, from_edges
from causal.paths import backdoor_paths, directed_paths, find_paths, is_d_separated, total_effect
from tenor.core.errors import GraphError
from tests.cases.graphs import CASES
from tests.strategies import dags


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_published_d_separation_facts(case):
    graph = from_edges(case.edges, bidirected=case.bidirected)
    for x, y, z, separated in case.facts:
        assert is_d_separated(graph, x, y, z) is separated, (case.reference, x, y, z)
        # the path enumeration agrees: separated iff no open path
        assert (not any(p.open for p in find_paths(graph, x, y, z))) is separated


def test_backdoor_paths_of_m_bias():
    graph = from_edges([("U1", "X"), ("U1", "M"), ("U2", "M"), ("U2", "Y"), ("X", "Y")])
    paths = backdoor_paths(graph, "X", "Y")
    assert [str(p) for p in paths] == ["X <- U1 -> M <- U2 -> Y"]
    assert not paths[0].open and paths[0].colliders == ("M",)
    opened = backdoor_paths(graph, "X", "Y", given=["M"])
    assert opened[0].open


def test_front_door_paths_classified():
    graph = from_edges([("S", "T"), ("T", "C")], bidirected=[("S", "C")])
    result = {str(p): p for p in find_paths(graph, "S", "C")}
    assert set(result) == {"S -> T -> C", "S <-> C"}
    assert result["S -> T -> C"].causal and result["S <-> C"].backdoor
    assert result["S <-> C"].open  # latent confounding cannot be blocked


def test_conditioning_on_latent_is_refused():
    graph = from_edges([("U", "X"), ("U", "Y")], latent=["U"])
    with pytest.raises(GraphError, match="latent"):
        is_d_separated(graph, "X", "Y", ["U"])
    assert not is_d_separated(graph, "X", "Y")


def test_unknown_node_suggests_a_name():
    graph = from_edges([("smoking", "cancer")])
    with pytest.raises(GraphError) as err:
        is_d_separated(graph, "smokin", "cancer")
    assert "smoking" in (err.value.hint or "")


def test_path_limit_is_reported():
    # a complete DAG on 8 nodes has 2**6 = 64 directed paths from first to last
    order = [f"n{i}" for i in range(8)]
    graph = from_edges(list(itertools.combinations(order, 2)))
    assert len(list(directed_paths(graph, "n0", "n7"))) == 64
    limited = find_paths(graph, "n0", "n7", max_paths=10)
    assert limited.truncated and len(limited) == 10


@settings(max_examples=60, deadline=None)
@given(dags(), st.data())
def test_d_separation_is_symmetric_and_matches_paths(spec, data):
    graph = build_graph(spec)
    nodes = sorted(graph.nodes)
    x, y = data.draw(st.sampled_from(list(itertools.permutations(nodes, 2))))
    rest = [n for n in nodes if n not in (x, y)]
    z = data.draw(st.lists(st.sampled_from(rest), unique=True, max_size=3)) if rest else []
    forward = is_d_separated(graph, x, y, z)
    assert forward == is_d_separated(graph, y, x, z)
    # two independent implementations: networkx's reachability test and explicit path blocking
    assert forward == (not any(p.open for p in find_paths(graph, x, y, z)))


@settings(max_examples=40, deadline=None)
@given(dags(bidirected=False))
def test_markov_condition(spec):
    """Every node is d-separated from its non-descendants given its parents (Pearl 2009, Thm 1.2.7)."""
    graph = build_graph(spec)
    g = graph.directed
    for v in g.nodes:
        parents = set(g.predecessors(v))
        others = set(g.nodes) - nx.descendants(g, v) - parents - {v}
        if others:
            assert is_d_separated(graph, v, others, parents)


@settings(max_examples=60, deadline=None)
@given(dags(bidirected=False), st.data())
def test_path_products_equal_linear_solution(spec, data):
    """Wright's path rule: the sum of path products equals (I - B)^-1 of the same gains."""
    graph = build_graph(spec)
    nodes = sorted(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    b = np.zeros((len(nodes), len(nodes)))
    for u, v, gain in graph.directed.edges(data="gain"):
        b[index[u], index[v]] = gain
    solution = np.linalg.inv(np.eye(len(nodes)) - b)
    x, y = data.draw(st.sampled_from(list(itertools.permutations(nodes, 2))))
    expected = solution[index[x], index[y]]
    brute = sum(
        np.prod([graph.directed.edges[u, v]["gain"] for u, v in itertools.pairwise(p)])
        for p in nx.all_simple_paths(graph.directed, x, y)
    )
    assert total_effect(graph, x, y) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert total_effect(graph, x, y) == pytest.approx(brute, rel=1e-9, abs=1e-12)


def test_total_effect_needs_gains():
    graph = from_edges([("a", "b"), ("b", "c")], gains={("a", "b"): 1.0})
    with pytest.raises(GraphError, match="b -> c has no gain"):
        total_effect(graph, "a", "c")


@settings(max_examples=80, deadline=None)
@given(dags(max_nodes=10), st.data())
def test_d_separation_agrees_with_networkx(spec, data):
    graph = build_graph(spec)
    nodes = sorted(graph.nodes)
    x = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=2, unique=True))
    rest = [n for n in nodes if n not in x]
    if not rest:
        return
    y = data.draw(st.lists(st.sampled_from(rest), min_size=1, max_size=2, unique=True))
    others = [n for n in rest if n not in y]
    z = data.draw(st.lists(st.sampled_from(others), max_size=3, unique=True)) if others else []
    assert is_d_separated(graph, x, y, z) == nx.is_d_separator(graph.to_dag(), set(x), set(y), set(z))
