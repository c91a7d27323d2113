"""The ID algorithm: is ``P(y | do(x))`` a function of the observed distribution, and which?

Latent confounders make some effects impossible to learn from observational
data, however much of it there is. Shpitser & Pearl (2006) gave an algorithm,
*ID*, that decides this for any acyclic graph with latent variables, and is
complete: when it fails, no formula exists.

ID works on the **latent projection** of the graph (Verma & Pearl 1990), an
acyclic directed mixed graph (ADMG) over the observed nodes: ``a -> b`` when
``a`` causes ``b`` directly or through latent nodes only, and ``a <-> b`` when
``a`` and ``b`` share a latent cause. A **c-component** is a set of nodes
linked by ``<->`` edges. ID recurses on subgraphs and c-components (lines as in
Fig. 3 of the paper; ``π`` is a topological order):

1. if ``x = ∅``: return ``Σ_{v∖y} P(v)``;
2. if ``V ≠ An(Y)``: return ``ID(y, x ∩ An(Y), Σ_{V∖An(Y)} P, G_{An(Y)})``;
3. ``W = (V ∖ X) ∖ An(Y)_{G_x̄}``; if ``W ≠ ∅``: return ``ID(y, x ∪ w, P, G)``;
4. if ``C(G ∖ X) = {S_1, …, S_k}``: return ``Σ_{v∖(y∪x)} Π_i ID(s_i, v ∖ s_i, P, G)``;
5. if ``C(G) = {G}``: FAIL, the *hedge* ``(G, S)`` proves non-identifiability;
6. if ``S ∈ C(G)``: return ``Σ_{s∖y} Π_{V_i ∈ S} P(v_i | v_π^{(i-1)})``;
7. if ``S ⊂ S' ∈ C(G)``: return ``ID(y, x ∩ S', P', G_{S'})`` with
   ``P' = Π_{V_i ∈ S'} P(V_i | V_π^{(i-1)} ∩ S', v_π^{(i-1)} ∖ S')``.

:func:`id_algorithm` returns the estimand (:mod:`causal.estimand`) and the
lines it took, or raises :class:`Unidentifiable` carrying the hedge. Each
line is a function ``line_1`` … ``line_7`` that tests can call.

Examples
--------
The front-door graph (Pearl 2009, §3.3.2): smoking ``x``, tar ``m``, cancer
``y``, with a latent genotype behind ``x`` and ``y``:

>>> from causal.graph import from_edges
>>> g = from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "y")])
>>> from causal.estimand import to_text
>>> to_text(id_algorithm(latent_projection(g), {"y"}, {"x"}).estimand)
"Σ_{m} P(m | x) Σ_{x'} P(x') P(y | m, x')"

The bow arc ``x -> y``, ``x <-> y`` is the smallest hedge:

>>> bow = from_edges([("x", "y")], bidirected=[("x", "y")])
>>> try:
...     id_algorithm(latent_projection(bow), {"y"}, {"x"})
... except Unidentifiable as exc:
...     sorted(exc.hedge_f), sorted(exc.hedge_f_prime)
(['x', 'y'], ['y'])

References
----------
Shpitser, I. & Pearl, J. (2006). Identification of joint interventional
distributions in recursive semi-Markovian causal models. *AAAI 2006*, 1219–1226.
Tian, J. & Pearl, J. (2002). A general identification condition for causal
effects. *AAAI 2002*.
Verma, T. & Pearl, J. (1990). Equivalence and synthesis of causal models. *UAI 1990*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from causal.estimand import ONE, Estimand, Term, conditional, marginal, product, sum_over
from causal.graph import ADMG, latent_projection
from tenor.core.errors import NotIdentifiableError

__all__ = [
    "ADMG",
    "IDResult",
    "Unidentifiable",
    "c_components",
    "id_algorithm",
    "latent_projection",
    "line_1",
    "line_2",
    "line_3",
    "line_4",
    "line_6",
    "line_7",
]


def c_components(g: ADMG, nodes: Iterable[str] | None = None) -> list[frozenset[str]]:
    """The c-components (districts) of ``g``, or of its subgraph on ``nodes``, in a fixed order."""
    sub = g.bidirected if nodes is None else g.bidirected.subgraph(set(nodes))
    comps = [frozenset(c) for c in nx.connected_components(sub)]
    return sorted(comps, key=lambda c: sorted(c))


class Unidentifiable(NotIdentifiableError):
    """ID failed at line 5: the hedge ``(F, F')`` shows the effect is not identifiable.

    A :class:`tenor.core.errors.NotIdentifiableError`, so a caller that lets it
    through reports it as any other user-facing error.
    """

    def __init__(
        self,
        hedge_f: frozenset[str],
        hedge_f_prime: frozenset[str],
        graph: ADMG,
        x: frozenset[str],
        y: frozenset[str],
    ) -> None:
        super().__init__(
            f"hedge F={sorted(hedge_f)}, F'={sorted(hedge_f_prime)}",
            hint="measure a variable of the hedge, or ask for a different effect",
        )
        self.hedge_f = hedge_f
        self.hedge_f_prime = hedge_f_prime
        self.graph = graph
        self.x = x
        self.y = y


@dataclass(frozen=True)
class IDResult:
    """The estimand found by ID and the lines of the algorithm it went through."""

    estimand: Estimand
    lines: tuple[str, ...] = field(default=())


@dataclass
class _Trace:
    lines: list[str] = field(default_factory=list)

    def add(self, line: int, y: frozenset[str], x: frozenset[str]) -> None:
        self.lines.append(f"line {line}: P({', '.join(sorted(y))} | do({', '.join(sorted(x))}))")


def line_1(y: frozenset[str], x: frozenset[str], p: Estimand, g: ADMG) -> Estimand | None:
    """Line 1: with no intervention, marginalise: ``Σ_{v∖y} P(v)``."""
    if x:
        return None
    return marginal(p, g.nodes, y)


def line_2(y: frozenset[str], x: frozenset[str], p: Estimand, g: ADMG) -> tuple | None:
    """Line 2: drop non-ancestors of ``Y``; returns the arguments of the recursive call, or None."""
    anc = g.ancestors(y)
    if anc == g.nodes:
        return None
    return y, x & anc, marginal(p, g.nodes, anc), g.subgraph(anc)


def line_3(y: frozenset[str], x: frozenset[str], p: Estimand, g: ADMG) -> tuple | None:
    """Line 3: intervene also on ``W``, the nodes that cannot affect ``Y`` once ``X`` is fixed."""
    w = (g.nodes - x) - g.without_incoming(x).ancestors(y)
    if not w:
        return None
    return y, x | w, p, g


def line_4(y: frozenset[str], x: frozenset[str], p: Estimand, g: ADMG) -> list[frozenset[str]] | None:
    """Line 4: the c-components of ``G ∖ X`` when there are several, else None."""
    comps = c_components(g, g.nodes - x)
    return comps if len(comps) > 1 else None


def _factor(p: Estimand, g: ADMG, order: list[str], v: str) -> Estimand:
    """``P(v_i | v_π^{(i-1)})`` of the current distribution ``p``."""
    before = order[: order.index(v)]
    return conditional(p, g.nodes, v, before)


def line_6(y: frozenset[str], s: frozenset[str], p: Estimand, g: ADMG) -> Estimand:
    """Line 6: ``Σ_{s∖y} Π_{V_i ∈ S} P(v_i | v_π^{(i-1)})``."""
    order = g.order()
    factors = [_factor(p, g, order, v) for v in order if v in s]
    return sum_over(s - y, product(factors))


def line_7(y: frozenset[str], x: frozenset[str], s_prime: frozenset[str], p: Estimand, g: ADMG) -> tuple:
    """Line 7: the arguments of ``ID(y, x ∩ S', P', G_{S'})`` with ``P'`` the factorisation over ``S'``."""
    order = g.order()
    factors = [_factor(p, g, order, v) for v in order if v in s_prime]
    return y, x & s_prime, product(factors), g.subgraph(s_prime)


def _id(y: frozenset[str], x: frozenset[str], p: Estimand, g: ADMG, trace: _Trace) -> Estimand:
    # line 1
    result = line_1(y, x, p, g)
    if result is not None:
        trace.add(1, y, x)
        return result
    # line 2
    call = line_2(y, x, p, g)
    if call is not None:
        trace.add(2, y, x)
        return _id(*call, trace)
    # line 3
    call = line_3(y, x, p, g)
    if call is not None:
        trace.add(3, y, x)
        return _id(*call, trace)
    # line 4
    comps = line_4(y, x, p, g)
    if comps is not None:
        trace.add(4, y, x)
        parts = [_id(s, frozenset(g.nodes - s), p, g, trace) for s in comps]
        return sum_over(g.nodes - (y | x), product(parts))
    (s,) = c_components(g, g.nodes - x)
    comps_g = c_components(g)
    # line 5
    if len(comps_g) == 1:
        trace.add(5, y, x)
        raise Unidentifiable(frozenset(g.nodes), s, g, x, y)
    # line 6
    if s in comps_g:
        trace.add(6, y, x)
        return line_6(y, s, p, g)
    # line 7
    s_prime = next(c for c in comps_g if s < c)
    trace.add(7, y, x)
    return _id(*line_7(y, x, s_prime, p, g), trace)


def id_algorithm(g: ADMG, outcomes: Iterable[str], treatments: Iterable[str]) -> IDResult:
    """Run ID for ``P(outcomes | do(treatments))`` on the ADMG ``g``.

    Raises
    ------
    Unidentifiable
        With the hedge, when the effect is not identifiable.
    """
    y, x = frozenset(outcomes), frozenset(treatments)
    trace = _Trace()
    estimand = _id(y, x, Term(frozenset(g.nodes)), g, trace)
    if estimand == ONE:
        estimand = ONE
    return IDResult(estimand, tuple(trace.lines))
