"""Instrumental variables: nodes that move the treatment and touch the outcome only through it.

An *instrument* ``Z`` for the effect of ``X`` on ``Y`` is associated with
``X`` and d-separated from ``Y`` once the causal paths out of ``X`` are cut
(Pearl 2009, §7.4.5); a *conditional instrument* does so given a set ``W``
holding no descendant of the causal paths (Brito & Pearl 2002; van der
Zander, Textor & Liśkiewicz 2015). Instruments identify an effect only under
further assumptions, a linear model for one. :func:`instruments` lists the
plain ones; :func:`list_conditional_instruments` the conditional ones, each
with its conditioning sets, saying which nodes it could not decide (deciding
one is NP-hard). The d-separation questions go to the graph core
(:mod:`causal.graph`).

Examples
--------
>>> from causal.graph import from_edges
>>> g = from_edges([("z", "x"), ("x", "y"), ("w", "z"), ("w", "y")], bidirected=[("x", "y")])
>>> instruments(g, "x", "y"), conditional_instruments(g, "x", "y")
([], [('z', ['w'])])

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., §7.4.5.
Brito, C. & Pearl, J. (2002). Generalized instrumental variables. *UAI 2002*.
van der Zander, B., Textor, J. & Liśkiewicz, M. (2015). Efficiently finding
conditional instruments for causal inference. *IJCAI 2015*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations

from causal.adjustment import backdoor_maps, causal_structure, moral_adjacency
from causal.graph import CausalGraph, active_reach, closure, d_connected

__all__ = [
    "MAX_INSTRUMENT_CHECKS",
    "MAX_INSTRUMENT_SEARCH",
    "InstrumentListing",
    "conditional_instruments",
    "instruments",
    "list_conditional_instruments",
]


class _Instruments:
    """The conditions on an instrument ``z`` given ``W`` for the effect of ``x`` on ``y``."""

    def __init__(self, graph: CausalGraph, x: str, y: str) -> None:
        index = graph.index
        cn, forb = causal_structure(graph, {x}, {y})
        self.x, self.y = x, y
        self.parents, self.children = index.parents, index.children
        self.bd_parents, self.bd_children = backdoor_maps(graph, {x}, cn)
        # W and z avoid the descendants of the causal paths (and of y), x and y themselves
        self.allowed = set(index.observed) - forb - closure(index.children, [y])
        # nodes no path open to x can pass without opening one to y (see around_outcome)
        self.barrier = (forb - {x}) if cn else {y}

    def separated(self, z: str, w: set[str]) -> bool:
        """``(z ⊥ y | W)`` in the proper back-door graph."""
        return not d_connected(self.bd_parents, self.bd_children, [z], {self.y}, w)

    def connected(self, z: str, w: set[str]) -> bool:
        """``z`` and ``x`` d-connected given ``W`` in the graph."""
        return d_connected(self.parents, self.children, [z], {self.x}, w)

    def valid(self, z: str, w: set[str]) -> bool:
        return self.separated(z, w) and self.connected(z, w)

    def nearest_separator(self, z: str) -> set[str] | None:
        """The minimal allowed separator of ``z`` and ``y`` closest to ``y`` (None: none exists).

        Vertex separation in the moral graph of the ancestors of ``{z, y}`` in
        the proper back-door graph, where d-separation by ancestors is decided
        (Lauritzen et al. 1990); van der Zander, Textor & Liśkiewicz (2015) use
        this separator to find ancestral instruments.
        """
        anc = closure(self.bd_parents, [z, self.y])
        adj = moral_adjacency(self.bd_parents, anc)
        allowed = (self.allowed & anc) - {z}
        seen, met, queue = {self.y}, set(), [self.y]
        while queue:
            for w in adj[queue.pop()]:
                if w in seen or w in met:
                    continue
                if w == z:
                    return None
                if w in allowed:
                    met.add(w)
                else:
                    seen.add(w)
                    queue.append(w)
        comp, queue = {z}, [z]
        while queue:
            for w in adj[queue.pop()]:
                if w not in comp and w not in met:
                    comp.add(w)
                    queue.append(w)
        return {s for s in met if adj[s] & comp}

    def around_outcome(self, z: str) -> bool:
        """Whether some path joins ``z`` to ``x`` avoiding ``y`` and the descendants of the causal paths.

        If none does, ``z`` is no instrument. Take a path open to ``x`` given
        ``W`` and its first node ``f`` among those: ``f`` is no collider (``W``
        holds no descendant of it), and the path cannot go on down from ``f`` to
        ``x`` (``x`` would descend from a causal path), so it leaves ``f`` by an
        edge into ``f``. Then ``f`` descends from ``y`` or from a node ``c`` of a
        causal path, and the walk from ``z`` to ``f``, up the directed path to
        ``y`` (or to ``c``, then along the causal path to ``y``) is open in the
        proper back-door graph, against (b).
        """
        seen, stack = {z} | self.barrier, [z]
        while stack:
            v = stack.pop()
            for w in (*self.parents[v], *self.children[v]):
                if w == self.x:
                    return True
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        return False

    def pool(self, z: str) -> list[str]:
        """Allowed nodes that share a connected piece of the graph with ``z``."""
        comp, stack = {z}, [z]
        while stack:
            v = stack.pop()
            for w in (*self.parents[v], *self.children[v]):
                if w not in comp:
                    comp.add(w)
                    stack.append(w)
        return sorted((comp & self.allowed) - {z})


def instruments(graph: CausalGraph, treatment: str, outcome: str) -> list[str]:
    """Instruments: observed ``Z`` d-connected to ``treatment``, and d-separated from ``outcome``
    once the causal paths are cut (the first edge of each removed).

    >>> from causal.graph import from_edges
    >>> g = from_edges([("z", "x"), ("x", "y")], bidirected=[("x", "y")])
    >>> instruments(g, "x", "y")
    ['z']
    """
    iv = _Instruments(graph, treatment, outcome)
    near_x = active_reach(iv.parents, iv.children, [treatment], set())
    near_y = active_reach(iv.bd_parents, iv.bd_children, [outcome], set())
    return sorted((iv.allowed & near_x) - near_y)


MAX_INSTRUMENT_SEARCH = 10
"""Conditioning candidates beyond which the exhaustive instrument search gives up on a node."""

MAX_INSTRUMENT_CHECKS = 4096
"""Conditioning sets the exhaustive instrument search may try in one listing, over all nodes."""


@dataclass(frozen=True)
class InstrumentListing:
    """Conditional instruments as ``(z, W)`` pairs; ``undecided`` the nodes the search could not settle."""

    pairs: tuple[tuple[str, tuple[str, ...]], ...]
    complete: bool
    undecided: tuple[str, ...] = ()

    def lists(self) -> list[tuple[str, list[str]]]:
        return [(z, list(w)) for z, w in self.pairs]


def list_conditional_instruments(
    graph: CausalGraph,
    treatment: str,
    outcome: str,
    *,
    all_sets: bool = False,
    deadline: float | None = None,
    max_search: int = MAX_INSTRUMENT_SEARCH,
    max_checks: int | None = MAX_INSTRUMENT_CHECKS,
) -> InstrumentListing:
    """Every conditional instrument ``z`` (one that needs a conditioning set), with its sets ``W``.

    ``z`` is a conditional instrument given ``W`` (Brito & Pearl 2002; van der
    Zander, Textor & Liśkiewicz 2015, for the total effect) when ``z`` and ``W``
    are observed, hold no descendant of the causal paths from ``treatment`` to
    ``outcome`` (nor of ``outcome``), and

    (a) ``z`` and ``treatment`` are d-connected given ``W``;
    (b) ``W`` d-separates ``z`` from ``outcome`` in the proper back-door graph.

    With ``all_sets`` False each instrument comes with one inclusion-minimal
    ``W``: the allowed separator of ``z`` and ``outcome`` nearest to ``outcome``
    when it satisfies (a) (the construction van der Zander et al. 2015 use for
    ancestral instruments; no proper subset of it separates), else a smallest
    ``W`` found by exhaustive search, so nothing hinges on that construction. With
    ``all_sets`` True, every inclusion-minimal ``W`` is listed, one pair each.
    Whether a given ``z`` has any ``W`` is NP-hard to decide (van der Zander et
    al. 2015), so the search is exhaustive over the allowed nodes connected to
    ``z``; past ``max_search`` of them, after ``max_checks`` sets tried in all
    (None: no limit), or past ``deadline`` (a :func:`time.perf_counter` value),
    ``z`` is reported undecided and the listing incomplete. Instruments that need no ``W`` are :func:`instruments`.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("j", "b"), ("b", "y"), ("l", "b"), ("l", "x"), ("x", "y")], bidirected=[("x", "y")])
    >>> list_conditional_instruments(g, "x", "y").lists()
    [('j', ['b']), ('l', ['b'])]
    """
    iv = _Instruments(graph, treatment, outcome)
    plain = set(instruments(graph, treatment, outcome))
    pairs: list[tuple[str, tuple[str, ...]]] = []
    undecided: list[str] = []
    budget = _Budget(max_checks, deadline)
    for z in sorted(iv.allowed - plain):
        if budget.expired():
            undecided.append(z)
            continue
        sets, decided = _conditioning_sets(iv, z, all_sets=all_sets, max_search=max_search, budget=budget)
        if not decided:
            undecided.append(z)
        pairs.extend((z, w) for w in sets)
    return InstrumentListing(tuple(pairs), not undecided, tuple(undecided))


@dataclass
class _Budget:
    """What the exhaustive search may still spend: conditioning sets to try (None: no limit), and time."""

    checks: int | None
    deadline: float | None

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def spend(self) -> bool:
        """Take one check; False when none is left or the time is up."""
        if (self.checks is not None and self.checks <= 0) or self.expired():
            return False
        if self.checks is not None:
            self.checks -= 1
        return True


def _conditioning_sets(
    iv: _Instruments, z: str, *, all_sets: bool, max_search: int, budget: _Budget
) -> tuple[list[tuple[str, ...]], bool]:
    """The conditioning sets ``W`` that make ``z`` an instrument (each sorted), and whether ``z`` was decided."""
    near = iv.nearest_separator(z)
    if near is None:
        return [], True  # no allowed set separates z from the outcome
    if not all_sets and iv.connected(z, near):
        return [tuple(sorted(near))], True
    if not iv.around_outcome(z):
        return [], True
    pool = iv.pool(z)
    if len(pool) > max_search:
        return ([tuple(sorted(near))] if iv.connected(z, near) else []), False
    found, settled = _exhaustive_search(iv, z, pool, all_sets, budget)
    decided = settled or (bool(found) and not all_sets)
    return [tuple(sorted(w)) for w in sorted(found, key=lambda s: (len(s), sorted(s)))], decided


def _exhaustive_search(
    iv: _Instruments, z: str, pool: list[str], all_sets: bool, budget: _Budget
) -> tuple[list[frozenset[str]], bool]:
    """Inclusion-minimal ``W`` from ``pool``, smallest first (only the first unless ``all_sets``),
    and whether the search ran to its end within the budget."""
    found: list[frozenset[str]] = []
    for k in range(1, len(pool) + 1):
        for combo in combinations(pool, k):
            w = frozenset(combo)
            if any(f <= w for f in found):
                continue
            if not budget.spend():
                return found, False
            if iv.valid(z, set(w)):
                found.append(w)
                if not all_sets:
                    return found, True
    return found, True


def conditional_instruments(
    graph: CausalGraph, treatment: str, outcome: str, *, deadline: float | None = None
) -> list[tuple[str, list[str]]]:
    """Each conditional instrument with one inclusion-minimal conditioning set (see
    :func:`list_conditional_instruments`).

    >>> from causal.graph import from_edges
    >>> g = from_edges([("w", "z"), ("w", "y"), ("z", "x"), ("x", "y")], bidirected=[("x", "y")])
    >>> conditional_instruments(g, "x", "y")
    [('z', ['w'])]
    """
    return list_conditional_instruments(graph, treatment, outcome, deadline=deadline).lists()
