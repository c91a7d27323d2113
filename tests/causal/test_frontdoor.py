"""Front-door sets: the answer keys, the front-door formula on a model, and brute force.

The criterion checked (Pearl 2009, Definition 3.3.3; for sets as in Jeong,
Tian & Bareinboim 2022): a non-empty observed ``M`` without ``x`` or ``y``
(i) intercepts every directed path from ``x`` to ``y``; (ii) ``x ⊥ M`` in the
graph without the edges out of ``x``; (iii) ``M ⊥ y | x`` in the graph without
the edges out of ``M``. The brute force recomputes it with networkx.
"""

from __future__ import annotations

from itertools import combinations

import networkx as nx
from hypothesis import HealthCheck, given, settings

from causal.frontdoor import frontdoor_estimand, frontdoor_sets, is_frontdoor_set
from causal.graph import from_edges
from causal.identify import identify
from tests.causal.test_identify_numeric import _evaluate, _joint, _marginal, _model
from tests.strategies import mixed_graphs

OFF_PATH = dict(edges=[("x", "m"), ("m", "y"), ("t", "m"), ("t", "p"), ("p", "y")], bidirected=[("x", "y")])


def test_a_node_off_the_causal_paths_completes_a_front_door_set():
    g = from_edges(**OFF_PATH)
    assert frontdoor_sets(g, ["x"], ["y"]) == ([["m", "p"], ["m", "t"]], True)
    assert not is_frontdoor_set(g, ["x"], ["y"], ["m"])  # m <- t -> p -> y is open given x
    assert is_frontdoor_set(g, ["x"], ["y"], ["m", "p", "t"])  # valid, not minimal
    r = identify(g, "x", "y")
    assert (r.identifiable, r.by, r.frontdoor_sets) == (True, "frontdoor", [["m", "p"], ["m", "t"]])
    assert r.estimand == "Σ_{m, p} P(m, p | x) Σ_{x'} P(x') P(y | m, p, x')"


def test_both_sets_give_the_interventional_distribution():
    """Pearl's front-door formula with {m, t} and with {m, p} equals P(y | do(x)) on random binary models."""
    g = from_edges(**OFF_PATH)
    dag = g.to_dag()
    for seed in (1, 2, 3):
        cpt = _model(dag, seed)
        latent = {n for n, obs in dag.nodes(data="observed", default=True) if not obs}
        observed: dict = {}
        for a, p in _joint(dag, cpt).items():
            key = tuple((k, v) for k, v in a if k not in latent)
            observed[key] = observed.get(key, 0.0) + p
        for m in (["m", "t"], ["m", "p"]):
            for xv in (0, 1):
                truth = _marginal(_joint(dag, cpt, {"x": xv}), {"y": 1})
                assert abs(_evaluate(frontdoor_estimand("x", "y", m), observed, {"x": xv, "y": 1}) - truth) < 1e-9
        # {m} alone is not a front-door set, and its formula is off
        bad = _evaluate(frontdoor_estimand("x", "y", ["m"]), observed, {"x": 1, "y": 1})
        assert abs(bad - _marginal(_joint(dag, cpt, {"x": 1}), {"y": 1})) > 1e-6


def _textbook(dag, x, y, m):
    if nx.has_path(dag.subgraph(set(dag) - m), x, y):
        return False
    no_out_x = dag.copy()
    no_out_x.remove_edges_from(list(dag.out_edges(x)))
    if not nx.is_d_separator(no_out_x, {x}, m, set()):
        return False
    no_out_m = dag.copy()
    no_out_m.remove_edges_from([e for v in m for e in dag.out_edges(v)])
    return bool(nx.is_d_separator(no_out_m, m, {y}, {x}))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(max_nodes=8))
def test_listing_equals_brute_force(drawn):
    """Every listed set meets the textbook criterion and is minimal; every valid set contains a listed one."""
    graph, x, y = drawn
    dag = graph.to_dag()
    candidates = sorted(graph.observed - {x, y})
    valid = []
    for k in range(1, len(candidates) + 1):
        for combo in combinations(candidates, k):
            m = set(combo)
            ok = _textbook(dag, x, y, m)
            assert is_frontdoor_set(graph, [x], [y], m) == ok, m
            if ok:
                valid.append(m)
    listed, complete = frontdoor_sets(graph, [x], [y])
    assert complete
    if not nx.has_path(graph.directed, x, y):
        assert listed == []
        return
    minimal = sorted((sorted(m) for m in valid if not any(t < m for t in valid)), key=lambda s: (len(s), s))
    assert listed == minimal
