"""Self-checking linear models: DoWhy's estimate through the identifying route vs the path-product truth.

Tolerance: ``|estimate - truth| <= 0.1 · max(1, |truth|)`` with n = 20000 rows and unit noise; the
standard error of these estimators is below 0.03 here, so a miss means a wrong route, not bad luck.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from causal.graph import from_edges
from causal.identify import identify
from causal.scm import estimate_effect, linear_gains, simulate, true_effect
from tenor.core.errors import GraphError
from tests.strategies import mixed_graphs

pytest.importorskip("dowhy", reason="DoWhy estimates the effects")

TOLERANCE = 0.1
N = 20_000


def test_simulation_is_seeded_and_hides_latent_nodes():
    g = from_edges(
        [("u", "x"), ("u", "y"), ("x", "y")],
        latent=["u"],
        gains={("u", "x"): 1, ("u", "y"): 1, ("x", "y"): 2},
    )
    a, b = simulate(g, 100, seed=7), simulate(g, 100, seed=7)
    assert list(a.columns) == ["x", "y"]
    assert a.equals(b)
    assert not a.equals(simulate(g, 100, seed=8))


def test_signs_give_default_gains_and_missing_ones_are_an_error():
    g = from_edges([("x", "y")])
    g.directed.edges["x", "y"]["sign"] = "-"
    assert true_effect(g, "x", "y") == -0.5
    g.directed.edges["x", "y"]["sign"] = None
    with pytest.raises(GraphError, match="neither gain nor sign"):
        linear_gains(g)


@pytest.mark.parametrize(
    ("edges", "bidirected", "gains", "route"),
    [
        (
            [("z", "x"), ("z", "y"), ("x", "y")],
            [],
            {("z", "x"): 1.0, ("z", "y"): -1.0, ("x", "y"): 0.5},
            "backdoor",
        ),
        ([("x", "m"), ("m", "y")], [("x", "y")], {("x", "m"): 0.8, ("m", "y"): 0.7}, "frontdoor"),
        ([("z", "x"), ("x", "y")], [("x", "y")], {("z", "x"): 1.0, ("x", "y"): -0.7}, "iv"),
    ],
    ids=["backdoor", "frontdoor", "iv"],
)
def test_each_route_recovers_the_truth(edges, bidirected, gains, route):
    g = from_edges(edges, bidirected=bidirected, gains=gains)
    data = simulate(g, N, seed=11)
    est = estimate_effect(g, data, "x", "y")
    assert est.route == route
    assert est.within(TOLERANCE), est


def test_naive_regression_is_biased_where_identification_is_needed():
    g = from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "y")], gains={("x", "m"): 0.8, ("m", "y"): 0.7})
    data = simulate(g, N, seed=5)
    import numpy as np

    naive = np.polyfit(data["x"], data["y"], 1)[0]
    assert abs(naive - true_effect(g, "x", "y")) > 0.2


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(max_nodes=6, gains=True))
def test_estimate_lands_near_the_path_product_truth(drawn):
    graph, x, y = drawn
    r = identify(graph, x, y)
    if r.by != "backdoor":
        return
    data = simulate(graph, N, seed=1, confounding=0.5)
    est = estimate_effect(graph, data, x, y, identification=r)
    assert est.estimate is not None, est.note
    assert est.within(TOLERANCE), est


def test_no_linear_estimator_for_the_napkin():
    g = from_edges(
        [("w", "z"), ("z", "x"), ("x", "y")],
        bidirected=[("w", "x"), ("w", "y")],
        gains={("w", "z"): 1.0, ("z", "x"): 1.0, ("x", "y"): 0.5},
    )
    est = estimate_effect(g, simulate(g, 500, seed=1), "x", "y")
    assert est.route == "id" and est.estimate is None
    assert "no linear estimator" in est.note
    assert est.truth == 0.5
