"""Cross-checks: tenor against DoWhy (back-door, front door, instruments) and y0 (ID verdicts)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from causal.adjustment import is_backdoor_set, minimal_adjustment_sets
from causal.dowhy_bridge import dowhy_graph, dowhy_identify, run_with_time_limit
from causal.frontdoor import frontdoor_sets, is_frontdoor_set
from causal.id_algorithm import latent_projection
from causal.identify import identify
from causal.instruments import instruments
from tests.cases.identification import CASES, case_ids
from tests.strategies import mixed_graphs

pytest.importorskip("dowhy", reason="DoWhy is the cross-check for back-door, front-door and IV")

# DoWhy's ID builds numpy matrices
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mixed_graphs(max_nodes=7, latent=False, bidirected=False))
def test_dowhy_backdoor_set_is_valid_and_agrees_on_existence(drawn):
    graph, x, y = drawn
    answer = dowhy_identify(graph, [x], [y], time_limit=30)
    assert answer.finished, answer.error
    ours = minimal_adjustment_sets(graph, [x], [y])
    if answer.estimand is not None and answer.estimand.no_directed_path:
        return  # DoWhy stops early: no causal path
    assert answer.error is None, answer.error
    found = [s for s in (answer.backdoor_sets or [])]
    assert bool(found) == bool(ours)
    for s in found:
        assert is_backdoor_set(graph, [x], [y], s)
        assert any(set(m) <= set(s) for m in ours)


@SETTINGS
@given(mixed_graphs(max_nodes=7))
def test_networkx_minimal_separator_is_among_the_listed_sets(drawn):
    """DoWhy's generalised adjustment (networkx's minimal d-separator in the proper back-door graph)."""
    import networkx as nx

    from causal.adjustment import forbidden_nodes, proper_backdoor_graph

    graph, x, y = drawn
    dag = graph.to_dag()
    restricted = (graph.observed - forbidden_nodes(dag, {x}, {y})) - {y}
    z = nx.find_minimal_d_separator(proper_backdoor_graph(dag, {x}, {y}), {x}, {y}, restricted=restricted)
    ours = minimal_adjustment_sets(graph, [x], [y])
    if z is None:
        assert ours == []
    else:
        assert sorted(z) in ours


@SETTINGS
@given(mixed_graphs(max_nodes=7))
def test_dowhy_instruments_and_frontdoor(drawn):
    from dowhy.causal_identifier.auto_identifier import identify_frontdoor
    from dowhy.graph import get_instruments

    graph, x, y = drawn
    dag, observed = dowhy_graph(graph)
    if not identify(graph, x, y).effect_exists:
        return  # DoWhy then offers the outcome itself when it is a parent of the treatment
    theirs = {z for z in get_instruments(dag, [x], [y]) if z in observed}
    assert theirs <= set(instruments(graph, x, y))
    finished, fd, error = run_with_time_limit(lambda: identify_frontdoor(dag, [x], [y], observed), 30)
    assert finished and error is None
    ours, _ = frontdoor_sets(graph, [x], [y])
    if fd:
        assert is_frontdoor_set(graph, [x], [y], fd)
        assert ours
        assert any(set(f) <= set(fd) for f in ours)


@pytest.mark.parametrize("case", CASES, ids=case_ids())
def test_y0_agrees_on_answer_keys(case):
    y0 = pytest.importorskip("y0", reason="y0 (test-only) cross-checks the ID algorithm")
    assert y0
    assert _y0_identifiable(case.graph(), case.treatment, case.outcome) == case.identifiable


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(max_nodes=7))
def test_y0_agrees_on_generated_graphs(drawn):
    pytest.importorskip("y0", reason="y0 (test-only) cross-checks the ID algorithm")
    graph, x, y = drawn
    assert identify(graph, x, y).identifiable == _y0_identifiable(graph, [x], [y])


def _y0_identifiable(graph, treatments, outcomes) -> bool:
    from y0.algorithm.identify import identify_outcomes
    from y0.dsl import Variable
    from y0.graph import NxMixedGraph

    admg = latent_projection(graph)
    mixed = NxMixedGraph.from_str_edges(
        nodes=sorted(admg.nodes), directed=list(admg.directed.edges), undirected=list(admg.bidirected.edges)
    )
    result = identify_outcomes(mixed, {Variable(t) for t in treatments}, {Variable(o) for o in outcomes})
    return result is not None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(max_nodes=6, latent=False, bidirected=False))
def test_dowhy_id_agrees_on_fully_observed_graphs(drawn):
    """On fully observed DAGs every effect is identifiable; DoWhy's ID and tenor's agree."""
    from dowhy.causal_identifier.id_identifier import identify_effect_id

    graph, x, y = drawn
    dag, _ = dowhy_graph(graph)
    finished, expression, error = run_with_time_limit(lambda: identify_effect_id(dag, [x], [y]), 10)
    if not finished:
        pytest.skip("DoWhy's ID did not finish within 10 s")
    assert error is None and expression is not None
    assert identify(graph, x, y).identifiable


def test_dowhy_id_misreads_latent_confounding_on_the_bow_arc():
    """Why tenor runs its own ID: DoWhy 0.14 sums over the latent node as if it were observed (DoWhy #824)."""
    from dowhy.causal_identifier.id_identifier import identify_effect_id

    from causal.graph import from_edges

    bow = from_edges([("x", "y")], bidirected=[("x", "y")])
    dag, _ = dowhy_graph(bow)
    finished, expression, error = run_with_time_limit(lambda: identify_effect_id(dag, ["x"], ["y"]), 10)
    assert finished and error is None and expression is not None  # DoWhy: "identifiable"
    assert not identify(bow, "x", "y").identifiable  # tenor: a hedge
