"""The front-door criterion: identifying an effect through the mediators that carry it.

When an unobserved common cause of ``X`` and ``Y`` leaves no adjustment set,
the effect may still be identified through a set ``M`` of mediators (Pearl
2009, Definition 3.3.3): a *front-door set* (i) intercepts every directed
path from ``X`` to ``Y``, (ii) has no open back-door path from ``X``, and (iii)
has every back-door path to ``Y`` blocked by ``X``. Then

    P(y | do(x)) = Σ_m P(m | x) Σ_{x'} P(y | x', m) P(x')

(:func:`frontdoor_estimand`). :func:`is_frontdoor_set` checks one set;
:func:`frontdoor_sets` lists every inclusion-minimal one as Jeong, Tian &
Bareinboim (2022) list them. All of it runs on the graph core's cached DAG
(:mod:`causal.graph`).

Examples
--------
Smoking, tar and cancer, with a latent genotype behind smoking and cancer:

>>> from causal.graph import from_edges
>>> g = from_edges([("smoking", "tar"), ("tar", "cancer")], bidirected=[("smoking", "cancer")])
>>> frontdoor_sets(g, ["smoking"], ["cancer"])
([['tar']], True)

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., §3.3.2.
Jeong, H., Tian, J. & Bareinboim, E. (2022). Finding and listing front-door
adjustment sets. *NeurIPS 2022*.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from causal.estimand import Estimand, Sum, Term, product
from causal.graph import CausalGraph, active_reach, closure, has_directed_path, without_out_edges

__all__ = ["frontdoor_estimand", "frontdoor_sets", "is_frontdoor_set"]


class _FrontDoor:
    """Pearl's front-door criterion for one query, on the graph's cached adjacency.

    A set ``M`` (non-empty, observed, without ``X`` or ``Y``) is a front-door
    set when (i) it intercepts every directed path from ``X`` to ``Y``; (ii) no
    back-door path from ``X`` to ``M`` is open: ``(X ⊥ M)`` in ``G`` without the
    edges out of ``X``; (iii) ``X`` blocks every back-door path from ``M`` to
    ``Y``: ``(M ⊥ Y | X)`` in ``G`` without the edges out of ``M``.

    (ii) holds node by node, so it fixes the candidates. Each node's part of
    (iii) only gets easier as ``M`` grows (the edges out of the added nodes
    disappear, and no open path passes through a node of ``M``), as does (i):
    so the front-door sets inside any range have a largest member, found by
    dropping the nodes that fail (iii) until none does (:meth:`largest`).
    """

    def __init__(self, graph: CausalGraph, x: set[str], y: set[str]) -> None:
        index = graph.index
        self.x, self.y = x, y
        self.parents, self.children = index.parents, index.children
        parents, children = without_out_edges(index.parents, index.children, x)
        self.candidates = set(index.observed) - active_reach(parents, children, x, set()) - x - y

    def relevant(self) -> set[str]:
        """The candidates that can belong to an inclusion-minimal front-door set.

        A node of a minimal set is needed either for (i), and then lies on a causal
        path from ``X`` to ``Y``, or for (iii) of another node ``m``: it lies on a
        path from ``m`` to ``Y`` open given ``X`` (in ``G`` with some edges removed,
        so also in ``G``); then it is d-connected given ``X`` both to ``Y`` and to
        another candidate.
        """
        on_causal = closure(self.children, self.x) & closure(self.parents, self.y)
        near_y = active_reach(self.parents, self.children, self.y, self.x)
        keep = self.candidates & on_causal
        for m in self.candidates & near_y:
            others = (active_reach(self.parents, self.children, [m], self.x) & self.candidates & near_y) - {m}
            if others:
                keep |= others | {m}
        return keep

    def failing_iii(self, m: set[str]) -> set[str]:
        """Nodes of ``m`` with an open back-door path to ``Y`` given ``X`` (edges out of ``m`` removed)."""
        parents, children = without_out_edges(self.parents, self.children, m)
        return active_reach(parents, children, self.y, self.x) & m

    def holds(self, m: set[str]) -> bool:
        return (
            bool(m)
            and m <= self.candidates
            and not has_directed_path(self.children, self.x, self.y, m)
            and not self.failing_iii(m)
        )

    def largest(self, within: set[str]) -> set[str] | None:
        """The largest front-door set inside ``within`` (it contains every other one), or None."""
        m = within & self.candidates
        while m:
            bad = self.failing_iii(m)
            if not bad:
                break
            m -= bad
        if not m or has_directed_path(self.children, self.x, self.y, m):
            return None
        return m


def is_frontdoor_set(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str], mediators: Iterable[str]
) -> bool:
    """Pearl's front-door criterion (2009, Definition 3.3.3) for the set ``mediators``.

    (i) ``M`` intercepts every directed path from ``X`` to ``Y``; (ii) no
    back-door path from ``X`` to ``M`` is open; (iii) every back-door path from
    ``M`` to ``Y`` is blocked by ``X``, read for a set as ``(M ⊥ Y | X)`` in the
    graph without the edges out of ``M`` (Jeong, Tian & Bareinboim 2022).

    >>> from causal.graph import from_edges
    >>> g = from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "y")])
    >>> is_frontdoor_set(g, ["x"], ["y"], ["m"]), is_frontdoor_set(g, ["x"], ["y"], [])
    (True, False)
    """
    x, y, m = set(treatments), set(outcomes), set(mediators)
    graph.check_nodes([*x, *y, *m])
    if not m or m & (x | y | graph.index.latent):
        return False
    return _FrontDoor(graph, x, y).holds(m)


def frontdoor_sets(
    graph: CausalGraph,
    treatments: Iterable[str],
    outcomes: Iterable[str],
    *,
    deadline: float | None = None,
) -> tuple[list[list[str]], bool]:
    """Every inclusion-minimal front-door set, and whether the listing is complete.

    A set qualifies by :func:`is_frontdoor_set`; nodes off the causal paths
    count too (they can block a back-door path from a mediator to ``Y``).
    Candidates are the nodes that can belong to a minimal set
    (``_FrontDoor.relevant``). The search splits them as Jeong, Tian &
    Bareinboim (2022) list front-door sets: a range ``I ⊆ M ⊆ R`` is explored only when it holds
    a front-door set (the largest one in ``R``, which must contain ``I``), so
    every branch ends in a front-door set; a set is reported when no proper
    subset holds one. It stops at ``deadline`` (a :func:`time.perf_counter`
    value) with ``complete`` False. Nothing is listed when no directed path
    leads from ``X`` to ``Y``. Sets come smallest first, then in name order.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("x", "m"), ("m", "y"), ("t", "m"), ("t", "p"), ("p", "y")], bidirected=[("x", "y")])
    >>> frontdoor_sets(g, ["x"], ["y"])
    ([['m', 'p'], ['m', 't']], True)
    """
    x, y = set(treatments), set(outcomes)
    fd = _FrontDoor(graph, x, y)
    if not has_directed_path(fd.children, x, y, set()):
        return [], True
    found: list[frozenset[str]] = []
    stack: list[tuple[frozenset[str], set[str]]] = [(frozenset(), fd.relevant())]
    complete = True
    while stack:
        if deadline is not None and time.perf_counter() > deadline:
            complete = False
            break
        inside, within = stack.pop()
        if any(f <= inside for f in found):
            continue  # every set here contains a listed one: none is minimal
        top = fd.largest(within)
        if top is None or not inside <= top:
            continue
        free = sorted(top - inside)
        if not free:
            if all(fd.largest(top - {v}) is None for v in top):
                found.append(inside)
            continue
        v = free[0]
        stack.append((inside | {v}, top))  # with v, explored after the branch without it
        stack.append((inside, top - {v}))
    return sorted((sorted(f) for f in found), key=lambda s: (len(s), s)), complete


def frontdoor_estimand(x: str, y: str, m: list[str]) -> Estimand:
    """Pearl's front-door formula (2009, eq. 3.29): ``Σ_m P(m | x) Σ_{x'} P(y | x', m) P(x')``.

    >>> from causal.estimand import to_text
    >>> to_text(frontdoor_estimand("x", "y", ["m"]))
    "Σ_{m} P(m | x) Σ_{x'} P(x') P(y | m, x')"
    """
    ms, xs = frozenset(m), frozenset([x])
    inner = Sum(xs, product([Term(xs), Term(frozenset([y]), xs | ms)]))
    return Sum(ms, product([Term(ms, xs), inner]))
