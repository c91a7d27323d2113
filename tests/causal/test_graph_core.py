"""The graph core (causal.graph): the active-trail search, the latent projection, the open back-door edges."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from causal.graph import (
    active_reach,
    d_connected,
    from_edges,
    has_directed_path,
    latent_projection,
    open_trail_edges,
)
from causal.paths import find_paths
from tests.strategies import mixed_graphs

CORE = settings(max_examples=60, deadline=None, derandomize=True)


def _reference_projection(graph) -> tuple[set[tuple[str, str]], set[frozenset[str]]]:
    """The latent projection by its definition (Verma & Pearl 1990), with networkx path searches."""
    dag = graph.to_dag()
    latent = {n for n, obs in dag.nodes(data="observed", default=True) if not obs}
    observed = [n for n in dag if n not in latent]
    through = dag.subgraph(latent)
    directed = set()
    for a in observed:
        for b in observed:
            if a == b:
                continue
            # a -> b: an edge, or a -> l ... l' -> b with every l latent
            if dag.has_edge(a, b) or any(
                nx.has_path(through, la, lb)
                for la in dag.successors(a)
                if la in latent
                for lb in dag.predecessors(b)
                if lb in latent
            ):
                directed.add((a, b))
    bidirected = set()
    for u in latent:
        reach = nx.descendants(through, u) | {u}
        hit = {c for r in reach for c in dag.successors(r) if c not in latent}
        bidirected |= {frozenset((a, b)) for a in hit for b in hit if a != b}
    return directed, bidirected


def test_projection_of_a_latent_chain_and_a_latent_cause():
    # x -> l -> y with l latent projects to x -> y; l is also a hidden common cause of y and w
    g = from_edges([("x", "l"), ("l", "y"), ("l", "w")], latent=["l"])
    p = latent_projection(g)
    assert sorted(p.directed.edges()) == [("x", "w"), ("x", "y")]
    assert sorted(tuple(sorted(e)) for e in p.bidirected.edges()) == [("w", "y")]
    assert p.nodes == {"x", "y", "w"}


@CORE
@given(mixed_graphs(max_nodes=7))
def test_projection_matches_its_definition(case):
    graph, _, _ = case
    p = latent_projection(graph)
    directed, bidirected = _reference_projection(graph)
    assert set(p.directed.edges()) == directed
    assert {frozenset(e) for e in p.bidirected.edges()} == bidirected
    assert p.nodes == set(graph.index.observed)


@CORE
@given(mixed_graphs(max_nodes=8), st.data())
def test_active_reach_is_d_connection(case, data):
    """``v`` is reached from ``x`` given ``Z`` exactly when networkx finds them not d-separated."""
    graph, x, _ = case
    index = graph.index
    dag = graph.to_dag()
    others = sorted(index.observed - {x})
    z = set(data.draw(st.lists(st.sampled_from(others), max_size=3, unique=True))) if others else set()
    reached = active_reach(index.parents, index.children, [x], z)
    for v in sorted(set(dag) - z - {x}):
        assert (v in reached) == (not nx.is_d_separator(dag, {x}, {v}, z)), v
        assert d_connected(index.parents, index.children, [x], {v}, z) == (v in reached)


@CORE
@given(mixed_graphs(max_nodes=8))
def test_directed_path_matches_networkx(case):
    graph, x, y = case
    assert has_directed_path(graph.index.children, [x], {y}) == nx.has_path(graph.directed, x, y)


@CORE
@given(mixed_graphs(max_nodes=7), st.data())
def test_open_trail_edges_cover_every_open_backdoor_path(case, data):
    """Each edge of an open back-door path (enumerated one by one) is among the trail search's edges."""
    graph, x, y = case
    index = graph.index
    others = sorted(index.observed - {x, y})
    z = set(data.draw(st.lists(st.sampled_from(others), max_size=2, unique=True))) if others else set()
    found = open_trail_edges(index, x, y, z)
    edges = {(a, b) for a, b in found if a in index.named}
    confounded = {frozenset(index.children[a]) for a, _ in found if a not in index.named}
    for path in find_paths(graph, x, y, z):
        if not (path.backdoor and path.open):
            continue
        for a, arrow, b in zip(path.nodes, path.arrows, path.nodes[1:], strict=False):
            if arrow == "<->":
                assert frozenset((a, b)) in confounded, str(path)
            else:
                assert ((a, b) if arrow == "->" else (b, a)) in edges, str(path)
    if not found:
        assert not any(p.backdoor and p.open for p in find_paths(graph, x, y, z))


def test_open_trail_edges_of_the_confounding_triangle():
    # Pearl (2009, §3.3.1): z -> x, z -> y, x -> y; the back-door path x <- z -> y is open until z is given
    g = from_edges([("z", "x"), ("z", "y"), ("x", "y")])
    assert open_trail_edges(g.index, "x", "y", set()) == {("z", "x"), ("z", "y")}
    assert open_trail_edges(g.index, "x", "y", {"z"}) == set()
    # the M-graph: the back-door path through the collider m is closed, and opened by conditioning on m
    m = from_edges([("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")])
    assert open_trail_edges(m.index, "x", "y", set()) == set()
    assert open_trail_edges(m.index, "x", "y", {"m"}) == {("a", "x"), ("a", "m"), ("b", "m"), ("b", "y")}
