"""Testable implications: the basis, its soundness with latent variables, and the Fisher z test on data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from causal.graph import from_edges
from causal.implications import Implication, implied_independences, test_implications
from causal.paths import is_d_separated
from causal.scm import simulate
from tenor.core.errors import SpecError
from tests.strategies import mixed_graphs


def test_chain_fork_collider():
    # Pearl (2009), §1.2.3: a chain and a fork imply independence given the middle node; a collider marginally
    assert [str(i) for i in implied_independences(from_edges([("a", "b"), ("b", "c")]))] == ["a ⊥ c | b"]
    assert [str(i) for i in implied_independences(from_edges([("b", "a"), ("b", "c")]))] == ["a ⊥ c | b"]
    assert [str(i) for i in implied_independences(from_edges([("a", "b"), ("c", "b")]))] == ["a ⊥ c"]


def test_latent_confounder_removes_the_implication():
    g = from_edges([("a", "b"), ("b", "c")], bidirected=[("a", "c")])
    assert implied_independences(g) == []


def test_latent_chain_keeps_a_testable_implication():
    # a -> u -> c with u latent: a and c are adjacent in the projection, nothing to test between them
    g = from_edges([("a", "u"), ("u", "c"), ("c", "d")], latent=["u"])
    assert implied_independences(g) == [Implication("a", "d", ("c",))]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs())
def test_every_implication_is_a_d_separation(drawn):
    graph, _, _ = drawn
    for basis in ("missing-edge", "local-markov"):
        for imp in implied_independences(graph, basis):
            assert is_d_separated(graph, imp.a, imp.b, list(imp.given))
            assert not (set(imp.given) & graph.latent)


def test_local_markov_of_a_dag_conditions_on_parents():
    # Pearl (2009), Theorem 1.2.7: each variable is independent of its earlier non-parents given its parents
    g = from_edges([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert [str(i) for i in implied_independences(g, "local-markov")] == ["a ⊥ d | b, c", "b ⊥ c | a"]


def test_true_graph_passes_and_wrong_graph_fails():
    truth = from_edges([("a", "b"), ("b", "c"), ("a", "c")], gains={("a", "b"): 0.8, ("b", "c"): 0.7, ("a", "c"): 0.6})
    data = simulate(truth, n=5000, seed=3)
    assert test_implications(truth, data) == []  # complete graph: nothing to test
    wrong = from_edges([("a", "b"), ("b", "c")])
    (result,) = test_implications(wrong, data, alpha=0.01)
    assert result.implication == Implication("a", "c", ("b",))
    assert result.rejected and result.p_value < 1e-10
    assert result.partial_correlation > 0.3


def test_fisher_z_matches_the_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(size=400)
    c = 0.2 * a + rng.normal(size=400)
    data = pd.DataFrame({"a": a, "c": c})
    (res,) = test_implications(from_edges([("a", "b"), ("c", "b")], latent=["b"]), data)
    r = np.corrcoef(a, c)[0, 1]
    assert res.partial_correlation == pytest.approx(r)
    assert res.statistic == pytest.approx(np.arctanh(r) * np.sqrt(400 - 3))


def test_calibration_under_the_true_graph():
    g = from_edges([("a", "b"), ("b", "c"), ("c", "d")], gains={("a", "b"): 1, ("b", "c"): 1, ("c", "d"): 1})
    rejected = sum(r.rejected for seed in range(20) for r in test_implications(g, simulate(g, 300, seed), 0.05))
    assert rejected <= 10  # 60 tests at alpha 0.05: about 3 expected


def test_missing_column_is_a_clear_error():
    g = from_edges([("a", "b"), ("b", "c")])
    with pytest.raises(SpecError, match="no column for c"):
        test_implications(g, pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}))
