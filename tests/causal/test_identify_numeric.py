"""The ID algorithm's estimands, evaluated on discrete models, equal the true interventional distribution.

Each generated graph becomes a model over binary variables with random conditional probability tables in
[0.1, 0.9] (latent nodes and the hidden causes of ``a <-> b`` included). The truth ``P(y | do(x))`` comes
from the mutilated model; the estimand is evaluated on the observed joint only.
"""

from __future__ import annotations

import itertools
import random

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from causal.estimand import Product, Quotient, Sum, Term
from causal.id_algorithm import Unidentifiable, id_algorithm, latent_projection
from tests.strategies import mixed_graphs


def _model(dag: nx.DiGraph, seed: int) -> dict[str, dict[tuple[int, ...], float]]:
    rng = random.Random(seed)
    cpt = {}
    for v in dag.nodes:
        parents = sorted(dag.predecessors(v))
        cpt[v] = {vals: rng.uniform(0.1, 0.9) for vals in itertools.product((0, 1), repeat=len(parents))}
    return cpt


def _joint(dag: nx.DiGraph, cpt, do: dict[str, int] | None = None) -> dict[tuple, float]:
    """The joint over all nodes (optionally under do), as {assignment: probability}."""
    do = do or {}
    order = list(nx.topological_sort(dag))
    out = {}
    for values in itertools.product((0, 1), repeat=len(order)):
        a = dict(zip(order, values, strict=True))
        p = 1.0
        for v in order:
            if v in do:
                p *= 1.0 if a[v] == do[v] else 0.0
                continue
            p1 = cpt[v][tuple(a[u] for u in sorted(dag.predecessors(v)))]
            p *= p1 if a[v] == 1 else 1 - p1
            if p == 0:
                break
        if p:
            out[tuple(sorted(a.items()))] = p
    return out


def _marginal(joint, keep: dict[str, int]) -> float:
    return sum(p for a, p in joint.items() if all(dict(a)[k] == v for k, v in keep.items()))


def _evaluate(e, joint, values: dict[str, int]) -> float:
    if isinstance(e, Term):
        num = _marginal(joint, {v: values[v] for v in e.variables | e.given})
        den = _marginal(joint, {v: values[v] for v in e.given}) if e.given else 1.0
        return num / den
    if isinstance(e, Sum):
        over = sorted(e.over)
        return sum(
            _evaluate(e.expression, joint, {**values, **dict(zip(over, vals, strict=True))})
            for vals in itertools.product((0, 1), repeat=len(over))
        )
    if isinstance(e, Product):
        out = 1.0
        for f in e.factors:
            out *= _evaluate(f, joint, values)
        return out
    assert isinstance(e, Quotient)
    return _evaluate(e.numerator, joint, values) / _evaluate(e.denominator, joint, values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(max_nodes=6), st.integers(0, 10_000))
def test_estimand_equals_the_interventional_distribution(drawn, seed):
    graph, x, y = drawn
    try:
        result = id_algorithm(latent_projection(graph), [y], [x])
    except Unidentifiable:
        return
    dag = graph.to_dag()
    cpt = _model(dag, seed)
    observed_joint: dict = {}
    latent = {n for n, obs in dag.nodes(data="observed", default=True) if not obs}
    for a, p in _joint(dag, cpt).items():
        key = tuple((k, v) for k, v in a if k not in latent)
        observed_joint[key] = observed_joint.get(key, 0.0) + p
    extra = sorted(set().union(*[_free(result.estimand)]) - {x, y})
    for xv in (0, 1):
        truth = _marginal(_joint(dag, cpt, {x: xv}), {y: 1})
        for extra_values in itertools.product((0, 1), repeat=len(extra)):
            values = {x: xv, y: 1, **dict(zip(extra, extra_values, strict=True))}
            assert abs(_evaluate(result.estimand, observed_joint, values) - truth) < 1e-9


def _free(e):
    from causal.estimand import free_variables

    return free_variables(e)


def test_answer_key_estimands_numerically():
    """The front-door, napkin and sequential-treatment estimands of the answer keys, on random models."""
    from tests.cases.identification import CASES

    checked = 0
    for case in CASES:
        graph = case.graph()
        if not case.identifiable or graph.to_dag().number_of_nodes() > 7:
            continue
        result = id_algorithm(latent_projection(graph), case.outcome, case.treatment)
        dag = graph.to_dag()
        cpt = _model(dag, 7)
        latent = {n for n, obs in dag.nodes(data="observed", default=True) if not obs}
        observed_joint: dict = {}
        for a, p in _joint(dag, cpt).items():
            key = tuple((k, v) for k, v in a if k not in latent)
            observed_joint[key] = observed_joint.get(key, 0.0) + p
        for xs in itertools.product((0, 1), repeat=len(case.treatment)):
            do = dict(zip(case.treatment, xs, strict=True))
            truth = _marginal(_joint(dag, cpt, do), dict.fromkeys(case.outcome, 1))
            extra = sorted(_free(result.estimand) - set(do) - set(case.outcome))
            values = {**do, **dict.fromkeys(case.outcome, 1), **dict.fromkeys(extra, 0)}
            assert abs(_evaluate(result.estimand, observed_joint, values) - truth) < 1e-9, case.name
        checked += 1
    assert checked >= 6


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_graphs(min_nodes=3, max_nodes=6), st.integers(0, 10_000))
def test_frontdoor_formula_equals_the_interventional_distribution(drawn, seed):
    from causal.frontdoor import frontdoor_estimand, frontdoor_sets

    graph, x, y = drawn
    sets, _ = frontdoor_sets(graph, [x], [y])
    if not sets or not any(True for _ in nx.all_simple_paths(graph.directed, x, y)):
        return
    dag = graph.to_dag()
    cpt = _model(dag, seed)
    latent = {n for n, obs in dag.nodes(data="observed", default=True) if not obs}
    observed_joint: dict = {}
    for a, p in _joint(dag, cpt).items():
        key = tuple((k, v) for k, v in a if k not in latent)
        observed_joint[key] = observed_joint.get(key, 0.0) + p
    estimand = frontdoor_estimand(x, y, sets[0])
    for xv in (0, 1):
        truth = _marginal(_joint(dag, cpt, {x: xv}), {y: 1})
        assert abs(_evaluate(estimand, observed_joint, {x: xv, y: 1}) - truth) < 1e-9
