"""Testable implications: the conditional independences a causal graph predicts for data.

A causal graph is a claim about data: whenever ``a`` and ``b`` are
d-separated by ``Z`` (see :mod:`causal.paths`), every distribution the graph
can generate has ``a ⊥ b | Z``. If the data show a clear dependence instead,
the graph is wrong (Pearl 2009, §1.2.3; Textor et al. 2016).

:func:`implied_independences` lists a *basis*: one implication for each pair of
observed variables that the graph does not link directly, as dagitty's
``impliedConditionalIndependencies`` does by default (type ``missing.edge``),
conditioning on a minimal separating set of observed variables. Latent
variables are handled soundly: a pair is listed only when some set of
*observed* variables d-separates it in the full graph, latent nodes and
``a <-> b`` confounders included; pairs tied by a latent confounder, or by an
inducing path through latent nodes, imply nothing testable and are left out.

:func:`test_implications` tests each implication on continuous data with the
**Fisher z test of zero partial correlation**: ``r`` is the correlation of the
residuals of ``a`` and ``b`` regressed linearly on ``Z``,
``z = atanh(r) · sqrt(n - |Z| - 3)``, and the two-sided p-value comes from
the standard normal. The test assumes roughly linear relations and Gaussian
noise.

A graph implies many independences at once, and testing each at ``alpha``
rejects about ``alpha`` of them by chance even when the graph is right (158
tests at 0.05: about 8). The verdict therefore uses p-values *adjusted for
multiple testing* (:func:`adjust_p_values`): Holm's step-down procedure by
default, which keeps the chance of rejecting any true implication (the
family-wise error rate) at most ``alpha`` (Holm 1979); Bonferroni, which does
so more conservatively; or Benjamini–Hochberg, which keeps the expected share
of false rejections among the rejections (the false discovery rate) at most
``alpha`` (Benjamini & Hochberg 1995).

>>> [round(p, 3) for p in adjust_p_values([0.01, 0.04, 0.03, 0.005], "holm")]
[0.03, 0.06, 0.06, 0.02]

Examples
--------
>>> from causal.graph import from_edges
>>> g = from_edges([("x", "m"), ("m", "y"), ("z", "x")])
>>> [str(i) for i in implied_independences(g)]
['m ⊥ z | x', 'x ⊥ y | m', 'y ⊥ z | m']

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., §1.2.3.
Textor, J., van der Zander, B., Gilthorpe, M. S., Liśkiewicz, M. & Ellison,
G. T. H. (2016). Robust causal inference using directed acyclic graphs: the R
package 'dagitty'. *International Journal of Epidemiology* 45(6):1887–1894.
Fisher, R. A. (1924). The distribution of the partial correlation coefficient.
*Metron* 3:329–332.
Holm, S. (1979). A simple sequentially rejective multiple test procedure.
*Scandinavian Journal of Statistics* 6(2):65–70.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. *Journal of the Royal
Statistical Society B* 57(1):289–300.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import networkx as nx

from causal.graph import CausalGraph, latent_projection
from causal.id_algorithm import c_components
from tenor.core.errors import GraphError, SpecError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CORRECTIONS",
    "TEST_NAME",
    "Implication",
    "ImplicationTest",
    "adjust_p_values",
    "implied_independences",
    "test_implications",
]

TEST_NAME = "Fisher z test of zero partial correlation"

CORRECTIONS = ("none", "bonferroni", "holm", "fdr")
"""Corrections for multiple testing (:func:`adjust_p_values`)."""


@dataclass(frozen=True, order=True)
class Implication:
    """``a ⊥ b | given``: independence implied by the graph."""

    a: str
    b: str
    given: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.a} ⊥ {self.b}" + (f" | {', '.join(self.given)}" if self.given else "")

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "given": list(self.given), "text": str(self)}


def implied_independences(graph: CausalGraph, basis: str = "missing-edge") -> list[Implication]:
    """The implied independences of a basis, sorted.

    ``basis="missing-edge"`` (the default): one per separable non-adjacent pair of
    observed variables, given a minimal separating set. ``basis="local-markov"``:
    the ordered local Markov property of the latent projection (Richardson
    2003): in a topological order, each variable ``v`` is independent of the
    earlier variables outside its Markov blanket given that blanket (its
    district among the earlier variables, and their parents), split into pairs;
    for a DAG without latent variables, each variable given its parents.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("a", "b"), ("b", "c"), ("c", "d")], bidirected=[("c", "d")])
    >>> [str(i) for i in implied_independences(g, "local-markov")]
    ['a ⊥ c | b', 'a ⊥ d | b, c']
    """
    if basis not in ("missing-edge", "local-markov"):
        raise SpecError(f"unknown basis {basis!r}", hint="use missing-edge or local-markov")
    if basis == "local-markov":
        return _local_markov(graph)
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError("the graph has a directed cycle: " + " -> ".join([*cycle, cycle[0]]))
    dag = graph.to_dag()
    observed = sorted(graph.index.observed)
    out = []
    for i, a in enumerate(observed):
        for b in observed[i + 1 :]:
            if dag.has_edge(a, b) or dag.has_edge(b, a):
                continue
            z = nx.find_minimal_d_separator(dag, {a}, {b}, restricted=set(observed) - {a, b})
            if z is None:
                continue
            out.append(Implication(a, b, tuple(sorted(z))))
    return sorted(out)


def _local_markov(graph: CausalGraph) -> list[Implication]:
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError("the graph has a directed cycle: " + " -> ".join([*cycle, cycle[0]]))
    admg = latent_projection(graph)
    order = admg.order()
    out = []
    for i, v in enumerate(order):
        prefix = set(order[: i + 1])
        district = next(c for c in c_components(admg, prefix) if v in c)
        parents = set()
        for d in district:
            parents |= set(admg.directed.predecessors(d))
        blanket = (district | parents) - {v}
        given = tuple(sorted(blanket))
        for w in sorted(prefix - blanket - {v}):
            a, b = sorted((v, w))
            out.append(Implication(a, b, given))
    return sorted(out)


def adjust_p_values(p_values: Sequence[float], correction: str = "holm") -> list[float]:
    """P-values adjusted for testing them together, in the order given (NaN stays NaN, left out).

    With ``m`` p-values sorted ascending, ``p(1) <= ... <= p(m)``:

    * ``"bonferroni"``: ``m · p``;
    * ``"holm"`` (Holm 1979, step-down): ``p(i)`` becomes the running maximum,
      from the smallest up, of ``(m - i + 1) · p(i)``;
    * ``"fdr"`` (Benjamini & Hochberg 1995, step-up): ``p(i)`` becomes the
      running minimum, from the largest down, of ``m · p(i) / i``;
    * ``"none"``: unchanged;

    all capped at 1. An adjusted p-value below ``alpha`` is a rejection at level
    ``alpha`` of the procedure.

    >>> adjust_p_values([0.01, 0.04, 0.03, 0.005], "fdr")
    [0.02, 0.04, 0.04, 0.02]
    """
    if correction not in CORRECTIONS:
        raise SpecError(f"unknown correction {correction!r}", hint="use one of: " + ", ".join(CORRECTIONS))
    out = [float(p) for p in p_values]
    finite = sorted((p, i) for i, p in enumerate(out) if not math.isnan(p))
    m = len(finite)
    if correction == "none" or not m:
        return out
    if correction == "bonferroni":
        adjusted = [m * p for p, _ in finite]
    elif correction == "holm":
        adjusted, top = [], 0.0
        for rank, (p, _) in enumerate(finite, start=1):
            top = max(top, (m - rank + 1) * p)
            adjusted.append(top)
    else:
        adjusted, low = [0.0] * m, math.inf
        for rank in range(m, 0, -1):
            low = min(low, m * finite[rank - 1][0] / rank)
            adjusted[rank - 1] = low
    for (p, i), q in zip(finite, adjusted, strict=True):
        # 15 significant digits hide float noise (0.04 not 0.039999...) without rounding a tiny p to 0;
        # an adjusted p is never below the raw one.
        out[i] = min(1.0, max(float(f"{q:.15g}"), p))
    return out


@dataclass(frozen=True)
class ImplicationTest:
    """The test of one implication on data: its raw p-value, the adjusted one, and the verdict on the latter."""

    implication: Implication
    n: int
    partial_correlation: float
    statistic: float
    p_value: float
    rejected: bool
    p_adjusted: float = math.nan
    correction: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.implication.to_dict(),
            "test": TEST_NAME,
            "n": self.n,
            "partial_correlation": round(self.partial_correlation, 6),
            "statistic": round(self.statistic, 6),
            "p": self.p_value,
            "p_adjusted": self.p_adjusted,
            "p_value": self.p_value,
            "correction": self.correction,
            "rejected": self.rejected,
        }


def _is_numeric(column: Any) -> bool:
    """Whether a data column holds numbers."""
    from pandas.api.types import is_numeric_dtype

    return bool(is_numeric_dtype(column))


def _partial_correlation(values: Any) -> float:
    """The correlation of columns 0 and 1 of ``values`` after regressing both on the other columns."""
    import numpy as np

    xa = values[:, 0]
    xb = values[:, 1]
    if values.shape[1] > 2:
        design = np.column_stack([np.ones(len(xa)), values[:, 2:]])
        coef_a, *_ = np.linalg.lstsq(design, xa, rcond=None)
        coef_b, *_ = np.linalg.lstsq(design, xb, rcond=None)
        xa = xa - design @ coef_a
        xb = xb - design @ coef_b
    else:
        xa = xa - xa.mean()
        xb = xb - xb.mean()
    denom = math.sqrt(float(xa @ xa) * float(xb @ xb))
    if denom == 0:
        return 0.0
    return float(xa @ xb) / denom


def test_implications(
    graph: CausalGraph,
    data: pd.DataFrame,
    alpha: float = 0.05,
    basis: str = "missing-edge",
    correction: str = "holm",
    *,
    implications: Sequence[Implication] | None = None,
) -> list[ImplicationTest]:
    """Test every implied independence on ``data`` (one column per observed variable).

    Rows with a missing value in the columns a test uses are dropped for that
    test. A test is *rejected* when its p-value adjusted by ``correction``
    (:func:`adjust_p_values`; Holm by default) is below ``alpha``.
    ``implications`` tests these instead of the ``basis`` (to test one list on
    many datasets without finding it again).

    Raises
    ------
    SpecError
        When an observed variable has no column, ``alpha`` is not in (0, 1), or the correction is unknown.
    """
    from scipy.stats import norm

    if not 0 < alpha < 1:
        raise SpecError(f"alpha must be between 0 and 1, got {alpha}", hint="use e.g. --alpha 0.05")
    if correction not in CORRECTIONS:
        raise SpecError(f"unknown correction {correction!r}", hint="use one of: " + ", ".join(CORRECTIONS))
    if implications is None:
        implications = implied_independences(graph, basis)
    needed = sorted({v for i in implications for v in (i.a, i.b, *i.given)})
    missing = [v for v in needed if v not in data.columns]
    if missing:
        raise SpecError(
            f"the data have no column for {', '.join(missing)}",
            hint="name the columns as the graph's nodes; latent nodes need no column",
        )
    import numpy as np

    try:
        table = data[needed].to_numpy(dtype=float)
    except (TypeError, ValueError):
        bad = [v for v in needed if not _is_numeric(data[v])]
        raise SpecError(
            f"the column(s) {', '.join(bad) or '?'} are not numbers", hint="the Fisher z test needs numeric data"
        ) from None
    column = {v: i for i, v in enumerate(needed)}
    results = []
    for imp in implications:
        values = table[:, [column[v] for v in (imp.a, imp.b, *imp.given)]]
        values = values[~np.isnan(values).any(axis=1)]
        n = len(values)
        dof = n - len(imp.given) - 3
        if dof <= 0:
            results.append(ImplicationTest(imp, n, float("nan"), float("nan"), float("nan"), False))
            continue
        r = max(min(_partial_correlation(values), 1 - 1e-15), -1 + 1e-15)
        z = math.atanh(r) * math.sqrt(dof)
        p = float(2 * norm.sf(abs(z)))
        results.append(ImplicationTest(imp, n, r, z, p, False))
    adjusted = adjust_p_values([t.p_value for t in results], correction)
    return [
        replace(t, p_adjusted=q, correction=correction, rejected=not math.isnan(q) and q < alpha)
        for t, q in zip(results, adjusted, strict=True)
    ]


# pytest would collect the public ``test_implications`` as a test when imported into a test module
test_implications.__test__ = False  # type: ignore[attr-defined]
