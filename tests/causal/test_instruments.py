"""Instruments and conditional instruments: the answer keys, a linear simulation, and brute force.

The definition checked (Brito & Pearl 2002; van der Zander, Textor &
Liśkiewicz 2015, for the total effect): observed ``z`` and ``W``, outside
``De(cn(x, y)) ∪ De(y) ∪ {x}``, with ``z`` d-connected to ``x`` given ``W`` in
the graph and d-separated from ``y`` given ``W`` in the proper back-door graph.
The brute force below recomputes all of it with networkx, independently of
the code under test.
"""

from __future__ import annotations

from itertools import combinations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from causal.graph import from_edges
from causal.identify import identify
from causal.instruments import conditional_instruments, instruments, list_conditional_instruments
from tests.cases.identification import CASES
from tests.strategies import mixed_graphs

IV_CASES = [c for c in CASES if c.conditional_instruments is not None]


@pytest.mark.parametrize("case", IV_CASES, ids=lambda c: c.name)
def test_answer_keys(case):
    r = identify(case.graph(), case.treatment, case.outcome)
    assert r.conditional_instruments == case.conditional_instruments
    assert r.instruments == case.instruments
    assert r.by == case.by
    assert r.complete


def test_dagitty_offers_a_set_that_conditions_on_a_mediator_descendant():
    """z given {c, d} passes DAGitty's check but d descends from the mediator m: tenor lists nothing."""
    g = from_edges([("c", "x"), ("x", "m"), ("m", "y"), ("c", "y"), ("m", "d"), ("d", "z"), ("x", "z")])
    assert list_conditional_instruments(g, "x", "y", all_sets=True).lists() == []
    assert instruments(g, "x", "y") == []
    dag = g.to_dag()
    pbd = dag.copy()
    pbd.remove_edge("x", "m")
    # what DAGitty checks holds: z is separated from y given {c, d} once x -> m is cut ...
    assert nx.is_d_separator(pbd, {"z"}, {"y"}, {"c", "d"})
    # ... but without d (the only way to block z <- d <- m -> y) it is not
    assert not nx.is_d_separator(pbd, {"z"}, {"y"}, {"c"})


def _simulate(edges, bidirected, gains, n, seed):
    rng = np.random.default_rng(seed)
    g = nx.DiGraph(edges)
    values = {}
    shared = {pair: rng.normal(size=n) for pair in bidirected}
    for v in nx.topological_sort(g):
        noise = rng.normal(size=n)
        for pair, u in shared.items():
            if v in pair:
                noise = noise + u
        values[v] = noise + sum(gains[(p, v)] * values[p] for p in g.predecessors(v))
    return values


def _residual(a, given):
    if not given:
        return a - a.mean()
    design = np.column_stack([np.ones_like(a), *given])
    coef, *_ = np.linalg.lstsq(design, a, rcond=None)
    return a - design @ coef


def test_conditional_instrument_recovers_the_effect_in_a_linear_model():
    """z given {w}: Cov(y, z | w) / Cov(x, z | w) is the effect 0.5, while regression is biased."""
    edges = [("c", "x"), ("x", "y"), ("c", "z"), ("w", "z"), ("w", "y")]
    gains = {("c", "x"): 1.0, ("x", "y"): 0.5, ("c", "z"): 1.0, ("w", "z"): 1.0, ("w", "y"): 1.0}
    v = _simulate(edges, [("x", "y")], gains, 200_000, seed=3)
    g = from_edges(edges, bidirected=[("x", "y")])
    ((z, w),) = conditional_instruments(g, "x", "y")
    rz = _residual(v[z], [v[n] for n in w])
    ratio = np.dot(_residual(v["y"], [v[n] for n in w]), rz) / np.dot(_residual(v["x"], [v[n] for n in w]), rz)
    assert abs(ratio - 0.5) < 0.03
    naive = np.dot(v["y"] - v["y"].mean(), v["x"] - v["x"].mean()) / np.dot(v["x"] - v["x"].mean(), v["x"])
    assert abs(naive - 0.5) > 0.2
    # without w the ratio is biased: z <- w -> y is open
    raw = np.cov(v["y"], v["z"])[0, 1] / np.cov(v["x"], v["z"])[0, 1]
    assert abs(raw - 0.5) > 0.2


def _brute_force(graph, x, y):
    """Every valid (z, W) by the definition, computed from scratch with networkx."""
    dag = graph.to_dag()
    observed = {n for n, obs in dag.nodes(data="observed", default=True) if obs}
    no_out = dag.copy()
    no_out.remove_edges_from(list(dag.out_edges(x)))
    cn = (nx.descendants(dag, x) - {x}) & (nx.ancestors(no_out, y) | {y})
    forbidden = {x, y} | cn | nx.descendants(dag, y)
    for c in cn:
        forbidden |= nx.descendants(dag, c)
    pbd = dag.copy()
    pbd.remove_edges_from([(x, c) for c in dag.successors(x) if c in cn])
    allowed = sorted(observed - forbidden)
    valid: dict[str, list[frozenset[str]]] = {}
    for z in allowed:
        rest = [v for v in allowed if v != z]
        for k in range(len(rest) + 1):
            for w in combinations(rest, k):
                if not nx.is_d_separator(dag, {z}, {x}, set(w)) and nx.is_d_separator(pbd, {z}, {y}, set(w)):
                    valid.setdefault(z, []).append(frozenset(w))
    return valid


def _minimal(sets):
    return sorted((sorted(s) for s in sets if not any(t < s for t in sets)), key=lambda s: (len(s), s))


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(max_nodes=8))
def test_listing_equals_brute_force(drawn):
    """Plain instruments, every conditional instrument, and (all_sets) every minimal W, against brute force."""
    graph, x, y = drawn
    valid = _brute_force(graph, x, y)
    plain = sorted(z for z, ws in valid.items() if frozenset() in ws)
    assert instruments(graph, x, y) == plain
    expected = [(z, w) for z in sorted(valid) if z not in plain for w in _minimal(valid[z])]
    listing = list_conditional_instruments(graph, x, y, all_sets=True)
    assert listing.complete
    assert listing.lists() == expected
    one_each = list_conditional_instruments(graph, x, y)
    assert one_each.complete
    assert [z for z, _ in one_each.lists()] == sorted(z for z in valid if z not in plain)
    for z, w in one_each.lists():
        assert sorted(w) in _minimal(valid[z])


def test_search_limit_is_reported_not_hidden():
    """Past max_search candidates a node the nearest separator does not settle is reported undecided."""
    # z -> k <- u -> x: z reaches x only when the collider k (or its child d) is conditioned on
    edges = [("z", "k"), ("u", "k"), ("u", "x"), ("x", "y"), ("k", "d")]
    g = from_edges(edges, bidirected=[("x", "y")], latent=["u"])
    full = list_conditional_instruments(g, "x", "y", all_sets=True)
    assert full.lists() == [("z", ["d"]), ("z", ["k"])]
    capped = list_conditional_instruments(g, "x", "y", max_search=1)
    assert not capped.complete and "z" in capped.undecided
