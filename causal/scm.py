"""Linear structural causal models: data from a spec's signs and gains, with a known truth.

Read every edge ``a -> b`` with gain ``β`` as a linear structural equation

    b = Σ_{a ∈ pa(b)} β_ab · a + ε_b,    ε_b ~ N(0, σ_b²)

and every latent confounder ``a <-> b`` as a hidden standard-normal cause
``U`` entering both with weight ``confounding``. Such a model (Wright 1921;
Pearl 2009, §5.3) has a known answer to every query: the total effect of
``x`` on ``y`` is the sum over directed paths of the products of their gains
(:func:`causal.paths.total_effect`). :func:`simulate` draws data from it with a
seed (latent nodes are simulated and left out), and :func:`estimate_effect`
estimates each query with DoWhy through the route that identifies it —
linear regression on a minimal adjustment set (back-door), two-stage
regression through a front-door set, or the Wald/two-stage estimator with an
instrument — and compares the estimate with the truth. A spec whose queries
all land near their truth checks itself.

An edge with a sign but no gain gets gain ``±default_gain``.

Examples
--------
>>> from causal.graph import from_edges
>>> g = from_edges([("z", "x"), ("z", "y"), ("x", "y")],
...                gains={("z", "x"): 1.0, ("z", "y"): 1.0, ("x", "y"): 0.5})
>>> data = simulate(g, n=2000, seed=1)
>>> list(data.columns), len(data)
(['z', 'x', 'y'], 2000)

References
----------
Wright, S. (1921). Correlation and causation. *Journal of Agricultural Research* 20:557–585.
Pearl, J. (2009). *Causality*, 2nd ed., §5.3.
Sharma, A. & Kiciman, E. (2020). DoWhy: an end-to-end library for causal inference. arXiv:2011.04216.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from causal.dowhy_bridge import dowhy_graph, run_with_time_limit
from causal.graph import CausalGraph
from causal.identify import Identification, identify
from causal.paths import total_effect
from causal.query import check_query
from tenor.core.errors import GraphError, SimulationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_GAIN",
    "EffectEstimate",
    "check_queries",
    "estimate_effect",
    "linear_gains",
    "simulate",
    "true_effect",
]

DEFAULT_GAIN = 0.5
"""Gain of an edge that has a sign but no gain."""


def linear_gains(graph: CausalGraph, default_gain: float = DEFAULT_GAIN) -> CausalGraph:
    """A copy of ``graph`` whose every edge has a gain (signs give ``±default_gain``).

    Raises
    ------
    GraphError
        When an edge has neither gain nor sign.
    """
    directed = graph.directed.copy()
    for a, b, attrs in directed.edges(data=True):
        if attrs.get("gain") is None:
            sign = attrs.get("sign")
            if sign is None:
                raise GraphError(
                    f"edge {a} -> {b} has neither gain nor sign",
                    hint="give it a gain (gain: 0.4) or a sign (sign: +) to simulate a linear model",
                )
            attrs["gain"] = default_gain if sign == "+" else -default_gain
    return CausalGraph(directed, graph.bidirected.copy(), graph.spec)


def true_effect(graph: CausalGraph, treatment: str, outcome: str, default_gain: float = DEFAULT_GAIN) -> float:
    """The total effect (sum of path products) in the linear reading of ``graph``."""
    return total_effect(linear_gains(graph, default_gain), treatment, outcome)


def simulate(
    graph: CausalGraph,
    n: int,
    seed: int | None = None,
    *,
    noise: float | Mapping[str, float] = 1.0,
    confounding: float = 1.0,
    default_gain: float = DEFAULT_GAIN,
) -> pd.DataFrame:
    """Draw ``n`` rows from the linear SCM of ``graph``; columns are the observed nodes in causal order.

    ``noise`` is the standard deviation of every error term, or a mapping by
    node (default 1). Latent nodes are simulated and not returned.
    """
    import numpy as np
    import pandas as pd

    if n < 1:
        raise SimulationError(f"n must be positive, got {n}")
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError("cannot simulate a cyclic graph: " + " -> ".join([*cycle, cycle[0]]))
    g = linear_gains(graph, default_gain)
    dag = g.to_dag()
    confounders = set(dag.nodes) - set(g.directed.nodes)
    rng = np.random.default_rng(seed)
    values: dict[str, Any] = {}
    for node in nx.lexicographical_topological_sort(dag):
        sd = noise.get(node, 1.0) if isinstance(noise, Mapping) else noise
        value = rng.normal(0.0, 1.0 if node in confounders else sd, size=n)
        for parent in dag.predecessors(node):
            gain = confounding if parent in confounders else dag.edges[parent, node]["gain"]
            value = value + gain * values[parent]
        if not np.all(np.isfinite(value)):
            raise SimulationError(f"non-finite values for {node}", hint="use smaller gains")
        values[node] = value
    observed = [v for v in nx.lexicographical_topological_sort(dag) if v in g.observed]
    return pd.DataFrame({v: values[v] for v in observed})


@dataclass(frozen=True)
class EffectEstimate:
    """An estimated total effect next to the path-product truth."""

    treatment: str
    outcome: str
    route: str
    method: str
    variables: list[str]
    estimate: float | None
    truth: float
    seconds: float
    note: str = ""

    @property
    def error(self) -> float | None:
        return None if self.estimate is None else self.estimate - self.truth

    def within(self, tolerance: float) -> bool:
        """Whether ``|estimate - truth| <= tolerance · max(1, |truth|)``."""
        return self.estimate is not None and abs(self.estimate - self.truth) <= tolerance * max(1.0, abs(self.truth))

    def to_dict(self) -> dict[str, Any]:
        return {
            "treatment": self.treatment,
            "outcome": self.outcome,
            "route": self.route,
            "method": self.method,
            "variables": list(self.variables),
            "estimate": self.estimate,
            "truth": self.truth,
            "error": self.error,
            "seconds": round(self.seconds, 4),
            "note": self.note,
        }


def _estimand(route: str, x: str, y: str, variables: list[str]) -> Any:
    from dowhy.causal_identifier.auto_identifier import EstimandType
    from dowhy.causal_identifier.identified_estimand import IdentifiedEstimand

    return IdentifiedEstimand(
        None,
        treatment_variable=[x],
        outcome_variable=[y],
        estimand_type=EstimandType.NONPARAMETRIC_ATE,
        estimands={route: {"estimand": f"tenor {route}", "assumptions": {}}},
        backdoor_variables={"backdoor": variables if route == "backdoor" else []},
        instrumental_variables=variables if route == "iv" else [],
        frontdoor_variables=variables if route == "frontdoor" else [],
        default_backdoor_id="backdoor",
        mediation_first_stage_confounders={"backdoor": []},
        mediation_second_stage_confounders={"backdoor": [x]},
    )


_METHODS = {
    "backdoor": "backdoor.linear_regression",
    "frontdoor": "frontdoor.two_stage_regression",
    "iv": "iv.instrumental_variable",
}


def estimate_effect(
    graph: CausalGraph,
    data: pd.DataFrame,
    treatment: str,
    outcome: str,
    *,
    identification: Identification | None = None,
    default_gain: float = DEFAULT_GAIN,
    time_limit: float = 60.0,
) -> EffectEstimate:
    """Estimate the effect of ``treatment`` on ``outcome`` with DoWhy through the identifying route.

    The route is the identification's: back-door (linear regression on the
    first minimal adjustment set), front-door (two-stage regression through a
    one-node front-door set) or IV (an instrument). Other routes (ID only, or
    none) give no estimate, and say so in ``note``.
    """
    x, y = check_query(graph, [treatment], [outcome])
    ident = identification or identify(graph, x, y)
    truth = true_effect(graph, treatment, outcome, default_gain)
    route, variables = ident.by, []

    def no_estimate(note: str, method: str = "", used: list[str] | None = None, seconds: float = 0.0) -> EffectEstimate:
        return EffectEstimate(treatment, outcome, route, method, used or [], None, truth, seconds, note)

    if route == "backdoor":
        variables = ident.minimal_adjustment_sets[0]
    elif route == "frontdoor":
        singles = [s for s in ident.frontdoor_sets if len(s) == 1]
        if not singles:
            return no_estimate("DoWhy's two-stage regression takes a one-node front-door set")
        variables = singles[0]
    elif route == "iv":
        if not ident.instruments:
            return no_estimate("only conditional instruments; DoWhy's IV estimator takes unconditional ones")
        variables = ident.instruments[:1]
    else:
        return no_estimate(f"no linear estimator for route {route!r}")
    method = _METHODS[route]

    def call() -> float:
        import logging
        import warnings

        from dowhy import CausalModel

        logging.getLogger("dowhy").setLevel(logging.ERROR)
        dag, _ = dowhy_graph(graph)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CausalModel(data=data, treatment=[treatment], outcome=[outcome], graph=dag)
            result = model.estimate_effect(
                _estimand(route, treatment, outcome, variables), method_name=method, test_significance=False
            )
        return float(result.value)

    started = time.perf_counter()
    finished, value, error = run_with_time_limit(call, time_limit)
    seconds = time.perf_counter() - started
    if not finished:
        return no_estimate(f"DoWhy gave up after {time_limit:g}s", method, variables, seconds)
    if error is not None:
        return no_estimate(f"DoWhy failed: {type(error).__name__}: {error}", method, variables, seconds)
    return EffectEstimate(treatment, outcome, route, method, variables, value, truth, seconds)


def check_queries(
    graph: CausalGraph,
    data: pd.DataFrame,
    queries: Iterable[tuple[str, str]],
    **options: Any,
) -> list[EffectEstimate]:
    """:func:`estimate_effect` for each ``(treatment, outcome)`` pair."""
    return [estimate_effect(graph, data, x, y, **options) for x, y in queries]
