"""Invariants of identification on generated acyclic graphs (latent nodes and confounders included)."""

from __future__ import annotations

from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from causal.adjustment import is_adjustment_set, is_backdoor_set, minimal_adjustment_sets
from causal.frontdoor import is_frontdoor_set
from causal.identify import identify
from tests.strategies import mixed_graphs, observed_nodes

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _brute_force_minimal(graph, xs, ys, valid) -> list[list[str]]:
    candidates = [v for v in observed_nodes(graph) if v not in xs and v not in ys]
    found = [set(c) for k in range(len(candidates) + 1) for c in combinations(candidates, k) if valid(graph, xs, ys, c)]
    minimal = [sorted(s) for s in found if not any(t < s for t in found)]
    return sorted(minimal, key=lambda s: (len(s), s))


@SETTINGS
@given(mixed_graphs())
def test_reported_sets_are_backdoor_sets_and_minimal(drawn):
    graph, x, y = drawn
    for z in minimal_adjustment_sets(graph, [x], [y]):
        assert is_backdoor_set(graph, [x], [y], z)
        for k in range(len(z)):
            for sub in combinations(z, k):
                assert not is_adjustment_set(graph, [x], [y], sub)


@SETTINGS
@given(mixed_graphs(max_nodes=7))
def test_listing_equals_brute_force(drawn):
    """All minimal sets are listed; when none is reported, brute force confirms none exists."""
    graph, x, y = drawn
    assert minimal_adjustment_sets(graph, [x], [y]) == _brute_force_minimal(graph, [x], [y], is_backdoor_set)


@settings(max_examples=80, deadline=None)
@given(mixed_graphs(min_nodes=4, max_nodes=7), st.data())
def test_two_treatments_equal_brute_force(drawn, data):
    graph, x, y = drawn
    others = [v for v in observed_nodes(graph) if v not in (x, y)]
    x2 = data.draw(st.sampled_from(others)) if others else None
    if x2 is None:
        return
    xs = [x, x2]
    assert minimal_adjustment_sets(graph, xs, [y]) == _brute_force_minimal(graph, xs, [y], is_adjustment_set)


@SETTINGS
@given(mixed_graphs())
def test_routes_are_consistent_with_id(drawn):
    """An adjustment set or a front-door set implies the ID algorithm identifies the effect."""
    graph, x, y = drawn
    r = identify(graph, x, y)
    assert r.identifiable == (bool(r.minimal_adjustment_sets) or bool(r.frontdoor_sets) or r.id_estimand is not None)
    if r.minimal_adjustment_sets or r.frontdoor_sets:
        assert r.id_estimand is not None, r.to_dict()
    for f in r.frontdoor_sets:
        assert is_frontdoor_set(graph, [x], [y], f)
    if not r.identifiable:
        assert r.hedge is not None and r.reason


@SETTINGS
@given(mixed_graphs(latent=False, bidirected=False))
def test_fully_observed_graphs_are_always_identifiable(drawn):
    graph, x, y = drawn
    r = identify(graph, x, y)
    assert r.identifiable
    if r.effect_exists:
        # the parents of x are a valid adjustment set (Pearl 2009, Theorem 3.2.2), so a minimal one exists
        assert is_adjustment_set(graph, [x], [y], sorted(graph.directed.predecessors(x)))
        assert r.by == "backdoor"


@SETTINGS
@given(mixed_graphs())
def test_instruments_match_their_definition(drawn):
    """Z is d-connected to X, and d-separated from Y in the proper back-door graph; W keeps both."""
    import networkx as nx

    from causal.adjustment import forbidden_nodes, proper_backdoor_graph
    from causal.instruments import conditional_instruments, instruments

    graph, x, y = drawn
    dag = graph.to_dag()
    pbd = proper_backdoor_graph(dag, {x}, {y})
    allowed = graph.observed - forbidden_nodes(dag, {x}, {y}) - {y}
    expected = sorted(
        z for z in allowed if not nx.is_d_separator(dag, {z}, {x}, set()) and nx.is_d_separator(pbd, {z}, {y}, set())
    )
    assert instruments(graph, x, y) == expected
    for z, w in conditional_instruments(graph, x, y):
        assert z in allowed and set(w) <= allowed - {z}
        assert nx.is_d_separator(pbd, {z}, {y}, set(w))
        assert not nx.is_d_separator(dag, {z}, {x}, set(w))


@SETTINGS
@given(mixed_graphs(max_nodes=7))
def test_minimality_check_agrees_with_the_listing(drawn):
    from causal.adjustment import is_minimal_adjustment_set

    graph, x, y = drawn
    listed = minimal_adjustment_sets(graph, [x], [y])
    candidates = [v for v in observed_nodes(graph) if v not in (x, y)]
    for k in range(min(len(candidates), 3) + 1):
        for z in combinations(candidates, k):
            assert is_minimal_adjustment_set(graph, [x], [y], z) == (sorted(z) in listed)


@settings(max_examples=80, deadline=None)
@given(mixed_graphs(min_nodes=4, max_nodes=7), st.data())
def test_two_outcomes_equal_brute_force(drawn, data):
    graph, x, y = drawn
    others = [v for v in observed_nodes(graph) if v not in (x, y)]
    if not others:
        return
    ys = [y, data.draw(st.sampled_from(others))]
    assert minimal_adjustment_sets(graph, [x], ys) == _brute_force_minimal(graph, [x], ys, is_adjustment_set)
