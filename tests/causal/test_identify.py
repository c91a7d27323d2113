"""Identification against published answer keys (tests/cases/identification.py), and its errors."""

from __future__ import annotations

import pytest

from causal.adjustment import is_adjustment_set, is_backdoor_set, minimal_adjustment_sets
from causal.graph import from_edges
from causal.identify import Identification, evaluate_expectations, identify
from causal.load import parse_spec
from causal.paths import find_paths
from tenor.core.errors import GraphError, NotIdentifiableError
from tests.cases.identification import CASES, SHRIER_PLATT_EDGES, case_ids


@pytest.fixture(params=CASES, ids=case_ids())
def case(request):
    return request.param


def test_verdict_and_route(case):
    r = identify(case.graph(), case.treatment, case.outcome)
    assert r.identifiable is case.identifiable, r.reason
    assert r.by == case.by


@pytest.mark.parametrize("case", [c for c in CASES if c.minimal_sets is not None], ids=lambda c: c.name)
def test_minimal_adjustment_sets(case):
    r = identify(case.graph(), case.treatment, case.outcome)
    assert r.minimal_adjustment_sets == case.minimal_sets


def test_biased_sets_never_reported(case):
    r = identify(case.graph(), case.treatment, case.outcome)
    for biased in case.biased_sets:
        assert sorted(biased) not in r.minimal_adjustment_sets
        assert not is_adjustment_set(case.graph(), case.treatment, case.outcome, biased) or biased == []


def test_every_reported_set_is_valid(case):
    g = case.graph()
    r = identify(g, case.treatment, case.outcome)
    for z in r.minimal_adjustment_sets:
        assert is_adjustment_set(g, case.treatment, case.outcome, z)
        if len(case.treatment) == 1:
            assert is_backdoor_set(g, case.treatment, case.outcome, z)


def test_frontdoor_and_instruments(case):
    r = identify(case.graph(), case.treatment, case.outcome)
    if case.frontdoor_sets is not None:
        assert r.frontdoor_sets == case.frontdoor_sets
    if case.instruments is not None:
        assert r.instruments == case.instruments


@pytest.mark.parametrize("case", [c for c in CASES if c.estimand is not None], ids=lambda c: c.name)
def test_estimand(case):
    assert identify(case.graph(), case.treatment, case.outcome).estimand == case.estimand


def test_shrier_platt_encoding_has_nine_open_backdoor_paths():
    # dagitty's documentation: sum(paths(backDoorGraph(getExample("Shrier")))$open) is 9
    g = from_edges([e for e in SHRIER_PLATT_EDGES if e != ("WarmUp", "IntraGameProprioception")])
    assert sum(p.open for p in find_paths(g, "WarmUp", "Injury")) == 9


def test_empty_set_versus_no_set():
    m = from_edges([("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")])
    assert minimal_adjustment_sets(m, ["x"], ["y"]) == [[]]
    bow = from_edges([("x", "y")], bidirected=[("x", "y")])
    assert minimal_adjustment_sets(bow, ["x"], ["y"]) == []
    assert identify(m, "x", "y").adjustment_needed is False
    assert identify(bow, "x", "y").adjustment_needed is None


def test_latent_nodes_never_in_a_set():
    g = from_edges([("u", "x"), ("u", "c"), ("c", "y"), ("x", "y")], latent=["u"])
    assert minimal_adjustment_sets(g, ["x"], ["y"]) == [["c"]]


def test_bow_arc_reason_in_words():
    r = identify(from_edges([("x", "y")], bidirected=[("x", "y")]), "x", "y")
    assert r.reason.startswith("x <-> y: the latent confounder opens x <- U -> y and no observed variable blocks it")
    assert r.hedge == {"F": ["x", "y"], "F_prime": ["y"]}


def test_confounded_mediator_reason_names_the_mediator():
    g = from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "m")])
    r = identify(g, "x", "y")
    assert not r.identifiable
    assert r.reason.startswith("x <-> m: the latent confounder opens x <- U -> m, and m lies on the way from x to y")


def test_strict_raises():
    with pytest.raises(NotIdentifiableError, match="not identifiable"):
        identify(from_edges([("x", "y")], bidirected=[("x", "y")]), "x", "y", strict=True)


def test_to_dict_contract():
    d = identify(from_edges([("z", "x"), ("z", "y"), ("x", "y")]), "x", "y").to_dict()
    for key in (
        "identifiable",
        "minimal_adjustment_sets",
        "frontdoor_sets",
        "instruments",
        "estimand",
        "reason",
    ):
        assert key in d
    assert d["minimal_adjustment_sets"] == [["z"]]
    assert isinstance(identify(from_edges([("x", "y")]), "x", "y"), Identification)


def test_conditional_instrument_with_its_set():
    g = from_edges([("w", "z"), ("w", "y"), ("z", "x"), ("x", "y")], bidirected=[("x", "y")])
    r = identify(g, "x", "y")
    assert r.instruments == []
    assert r.conditional_instruments == [{"instrument": "z", "given": ["w"]}]
    assert r.by == "iv"


@pytest.mark.parametrize(
    ("treatment", "outcome", "message"),
    [
        ("smokng", "cancer", "unknown treatment 'smokng'"),
        ("smoking", "cancr", "unknown outcome 'cancr'"),
        ("smoking", "smoking", "'smoking' is both a treatment and an outcome"),
    ],
)
def test_bad_queries(treatment, outcome, message):
    g = from_edges([("smoking", "tar"), ("tar", "cancer")])
    with pytest.raises(GraphError, match=message) as info:
        identify(g, treatment, outcome)
    if message.startswith("unknown"):
        assert "did you mean" in (info.value.hint or "")


def test_cycle_is_named():
    g = from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "y")])
    with pytest.raises(GraphError, match="directed cycle: a -> b -> c -> a"):
        identify(g, "a", "y")


def test_latent_treatment_rejected():
    g = from_edges([("u", "y")], latent=["u"])
    with pytest.raises(GraphError, match="latent"):
        identify(g, "u", "y")


def test_limit_stops_and_says_what_was_established():
    g = from_edges(SHRIER_PLATT_EDGES)
    r = identify(g, "WarmUp", "Injury", max_sets=2)
    assert not r.complete
    assert len(r.minimal_adjustment_sets) == 2
    assert r.identifiable
    assert "stopped at the limit of 2 sets" in r.notes[0]


SPEC = """
nodes: {z: {}, x: {}, m: {}, y: {}, u: {role: latent}}
edges:
  z -> x: {sign: +}
  z -> y: {sign: +}
  x -> m: {sign: +}
  m -> y: {sign: +}
  u -> x: {}
  u -> z: {}
queries:
  right:
    treatment: x
    outcome: y
    expect: {identifiable: true, by: backdoor, adjust: [z]}
  not_minimal:
    treatment: x
    outcome: y
    expect: {adjust: [z, u]}
  wrong_route:
    treatment: x
    outcome: y
    expect: {by: none}
  mediator:
    treatment: x
    outcome: y
    expect: {adjust: [z, m]}
  silent:
    treatment: x
    outcome: y
"""


def test_evaluate_expectations(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(SPEC)
    from causal.load import read_spec

    spec = read_spec(path)
    results = {r.statement.split(":")[0]: r for r in evaluate_expectations(spec)}
    assert set(results) == {"right", "not_minimal", "wrong_route", "mediator"}
    assert results["right"].holds is True
    assert results["right"].kind == "query"
    assert results["right"].where.startswith(f"{path}:")
    assert "minimal" in results["right"].detail
    assert results["not_minimal"].holds is False  # u is latent: not a valid set
    assert results["wrong_route"].holds is False
    assert results["mediator"].holds is False
    assert "not a valid adjustment set" in results["mediator"].detail


def test_expectation_valid_but_not_minimal():
    spec = parse_spec("""
nodes: {a: {}, b: {}, x: {}, y: {}}
edges: {a -> x: {}, a -> y: {}, b -> y: {}, x -> y: {}}
queries:
  q: {treatment: x, outcome: y, expect: {adjust: [a, b]}}
""")
    (r,) = evaluate_expectations(spec)
    assert r.holds is True
    assert "not minimal" in r.detail


def _ladder(k: int):
    """x <- a_i -> b_i -> y for i < k, and x -> y: 2**k minimal adjustment sets (one of a_i, b_i per rung)."""
    edges = [("x", "y")]
    for i in range(k):
        edges += [(f"a{i}", "x"), (f"a{i}", f"b{i}"), (f"b{i}", "y")]
    return from_edges(edges)


def test_ladder_lists_every_combination():
    sets = minimal_adjustment_sets(_ladder(4), ["x"], ["y"])
    assert len(sets) == 16
    assert ["a0", "a1", "a2", "a3"] in sets and ["b0", "b1", "b2", "b3"] in sets


def test_time_limit_stops_the_listing_and_says_so():
    r = identify(_ladder(16), "x", "y", time_limit=0.05)
    assert r.identifiable and r.by == "backdoor"
    assert not r.complete
    assert 0 < len(r.minimal_adjustment_sets) < 2**16
    assert "stopped at the time limit" in r.notes[0]
    assert all(is_backdoor_set(_ladder(16), ["x"], ["y"], z) for z in r.minimal_adjustment_sets[:20])


def test_outcome_causing_the_treatment():
    # y -> x: no adjustment set can separate adjacent nodes, yet P(y | do(x)) = P(y)
    r = identify(from_edges([("y", "x")]), "x", "y")
    assert r.identifiable and r.by == "id" and r.minimal_adjustment_sets == []
    assert r.estimand == "P(y)"
    assert r.reason.startswith("no directed path from {x} to {y}")


def test_run_with_time_limit_gives_up():
    import time

    from causal.dowhy_bridge import run_with_time_limit

    assert run_with_time_limit(lambda: 42, 5) == (True, 42, None)
    finished, result, error = run_with_time_limit(lambda: time.sleep(2), 0.05)
    assert (finished, result, error) == (False, None, None)
    finished, _, error = run_with_time_limit(lambda: 1 / 0, 5)
    assert finished and isinstance(error, ZeroDivisionError)
