"""Identification: can data answer a causal query, how, and why not when it cannot?

A *query* asks for the effect of intervening on treatments ``X`` on outcomes
``Y``, ``P(y | do(x))``. It is *identifiable* when that distribution is a
function of the distribution of the observed variables, for every model that
fits the graph. :func:`identify` reports, with latent confounders taken into
account:

- the **minimal adjustment sets** (:mod:`causal.adjustment`): all
  inclusion-minimal sets ``Z`` with ``P(y | do(x)) = Σ_z P(y | x, z) P(z)``
  (the generalised adjustment criterion; the back-door criterion for one
  treatment). ``[]`` means no set exists, ``[[]]`` that none is needed;
- every inclusion-minimal **front-door set** (Pearl 2009, Definition 3.3.3; listed
  as Jeong, Tian & Bareinboim 2022 list them): sets ``M`` that intercept every
  directed path from ``X`` to ``Y``, with no open back-door path from ``X`` to
  ``M`` and every back-door path from ``M`` to ``Y`` blocked by ``X``;
- every **instrument**: ``Z`` associated with ``X`` and d-separated from ``Y``
  once the causal paths out of ``X`` are cut (Pearl 2009, §7.4.5); and every
  *conditional instrument*, which does so given a set ``W`` with no descendant
  of the causal paths (Brito & Pearl 2002; van der Zander, Textor & Liśkiewicz
  2015), with one inclusion-minimal ``W``. Instruments identify effects only
  under extra assumptions (a linear model, for one);
- the verdict of the **ID algorithm** (:mod:`causal.id_algorithm`; Shpitser &
  Pearl 2006), which is complete: when it fails, a *hedge* proves that no
  formula exists, and the reason is given in words;
- the **estimand** as a formula (:mod:`causal.estimand`) for the route used.

The front door is :func:`identify`; with ``strict=True`` it raises
:class:`tenor.core.errors.NotIdentifiableError` rather than returning a negative
verdict. :func:`evaluate_expectations` checks the ``expect:`` of each query
of a spec, for ``tenor check``. :func:`dowhy_identify` runs DoWhy's own
identification under a time limit, for cross-checks and benchmarks.

Examples
--------
>>> from causal.graph import from_edges
>>> g = from_edges([("smoking", "tar"), ("tar", "cancer")], bidirected=[("smoking", "cancer")])
>>> r = identify(g, ["smoking"], ["cancer"])
>>> r.identifiable, r.by, r.minimal_adjustment_sets, r.frontdoor_sets
(True, 'frontdoor', [], [['tar']])
>>> r.estimand
"Σ_{tar} P(tar | smoking) Σ_{smoking'} P(smoking') P(cancer | smoking', tar)"
>>> bow = from_edges([("x", "y")], bidirected=[("x", "y")])
>>> print(identify(bow, ["x"], ["y"]).reason)  # doctest: +NORMALIZE_WHITESPACE
x <-> y: the latent confounder opens x <- U -> y and no observed variable blocks it
(a hedge for P(y | do(x)): F = {x, y}, F' = {y}; Shpitser & Pearl 2006, Theorem 4)

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., Cambridge University Press.
Shpitser, I. & Pearl, J. (2006). Identification of joint interventional
distributions in recursive semi-Markovian causal models. *AAAI 2006*.
Brito, C. & Pearl, J. (2002). Generalized instrumental variables. *UAI 2002*.
van der Zander, B., Textor, J. & Liśkiewicz, M. (2015). Efficiently finding
conditional instruments for causal inference. *IJCAI 2015*.
Jeong, H., Tian, J. & Bareinboim, E. (2022). Finding and listing front-door
adjustment sets. *NeurIPS 2022*.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, TypeVar

import networkx as nx

from causal.adjustment import (
    backdoor_maps,
    causal_structure,
    is_adjustment_set,
    is_minimal_adjustment_set,
    list_minimal_adjustment_sets,
    moral_adjacency,
)
from causal.estimand import Estimand, Sum, Term, conditional, marginal, product, sum_over, to_latex, to_text
from causal.graph import (
    CausalGraph,
    active_reach,
    build_graph,
    closure,
    d_connected,
    has_directed_path,
    without_out_edges,
)
from causal.id_algorithm import Unidentifiable, id_algorithm, latent_projection
from causal.spec import CausalSpec
from tenor.core.errors import GraphError, NotIdentifiableError
from tenor.core.verdict import Verdict

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "MAX_INSTRUMENT_CHECKS",
    "MAX_INSTRUMENT_SEARCH",
    "DoWhyAnswer",
    "Identification",
    "InstrumentListing",
    "check_query",
    "conditional_instruments",
    "dowhy_graph",
    "dowhy_identify",
    "evaluate_expectations",
    "frontdoor_sets",
    "identify",
    "instruments",
    "is_frontdoor_set",
    "list_conditional_instruments",
    "run_with_time_limit",
]

DEFAULT_TIME_LIMIT = 10.0
"""Seconds :func:`identify` may spend listing sets before it reports what it has."""

T = TypeVar("T")


def _fmt(nodes: Iterable[str]) -> str:
    return "{" + ", ".join(sorted(nodes)) + "}"


def _query(y: Iterable[str], x: Iterable[str]) -> str:
    return f"P({', '.join(sorted(y))} | do({', '.join(sorted(x))}))"


def check_query(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Validate a query; return its treatments and outcomes as lists.

    Raises
    ------
    GraphError
        On an unknown node (with a suggestion), a latent treatment or outcome, a
        node that is both treatment and outcome, or a directed cycle (named).
    """
    xs = list(dict.fromkeys([treatments] if isinstance(treatments, str) else treatments))
    ys = list(dict.fromkeys([outcomes] if isinstance(outcomes, str) else outcomes))
    if not xs:
        raise GraphError("a query needs at least one treatment", hint="pass --treatment NAME")
    if not ys:
        raise GraphError("a query needs at least one outcome", hint="pass --outcome NAME")
    graph.check_nodes(xs, "treatment")
    graph.check_nodes(ys, "outcome")
    both = [v for v in xs if v in ys]
    if both:
        raise GraphError(
            f"{both[0]!r} is both a treatment and an outcome",
            hint="the effect of a variable on itself is not a query; choose a different outcome",
        )
    for v in [*xs, *ys]:
        if v in graph.latent:
            raise GraphError(
                f"{v!r} is latent (unobserved)", hint="treatments and outcomes must be observed nodes"
            )
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError(
            "the graph has a directed cycle: " + " -> ".join([*cycle, cycle[0]]),
            hint="identification needs an acyclic graph; break the loop "
            "(a feedback loop belongs in a stock-and-flow model)",
        )
    return xs, ys


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
    checks = 0
    for z in sorted(iv.allowed - plain):
        if deadline is not None and time.perf_counter() > deadline:
            undecided.append(z)
            continue
        near = iv.nearest_separator(z)
        if near is None:
            continue  # no allowed set separates z from the outcome
        if not all_sets and iv.connected(z, near):
            pairs.append((z, tuple(sorted(near))))
            continue
        if not iv.around_outcome(z):
            continue
        pool = iv.pool(z)
        if len(pool) > max_search:
            undecided.append(z)
            if iv.connected(z, near):
                pairs.append((z, tuple(sorted(near))))
            continue
        found: list[frozenset[str]] = []
        settled = True
        for k in range(1, len(pool) + 1):
            for combo in combinations(pool, k):
                w = frozenset(combo)
                if any(f <= w for f in found):
                    continue
                if (max_checks is not None and checks >= max_checks) or (
                    deadline is not None and time.perf_counter() > deadline
                ):
                    settled = False
                    break
                checks += 1
                if iv.valid(z, set(w)):
                    found.append(w)
                    if not all_sets:
                        break
            if not settled or (found and not all_sets):
                break
        if not settled and not (found and not all_sets):
            undecided.append(z)
        pairs.extend((z, tuple(sorted(w))) for w in sorted(found, key=lambda s: (len(s), sorted(s))))
    return InstrumentListing(tuple(pairs), not undecided, tuple(undecided))


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


def _adjustment_estimand(x: list[str], y: list[str], z: list[str]) -> str:
    joint = Term(frozenset([*x, *y, *z]))
    dom = set(joint.variables)
    e = sum_over(z, product([conditional(joint, dom, y, [*x, *z]), marginal(joint, dom, z)]))
    return to_text(e)


def _frontdoor_estimand(x: str, y: str, m: list[str]) -> Estimand:
    """Pearl's front-door formula (2009, eq. 3.29): ``Σ_m P(m | x) Σ_{x'} P(y | x', m) P(x')``."""
    ms, xs = frozenset(m), frozenset([x])
    inner = Sum(xs, product([Term(xs), Term(frozenset([y]), xs | ms)]))
    return Sum(ms, product([Term(ms, xs), inner]))


@dataclass(frozen=True)
class Identification:
    """The answer to a causal query: whether, how, and why (not)."""

    treatments: list[str]
    outcomes: list[str]
    identifiable: bool
    by: str
    minimal_adjustment_sets: list[list[str]]
    frontdoor_sets: list[list[str]]
    instruments: list[str]
    conditional_instruments: list[dict[str, Any]]
    estimand: str
    reason: str
    routes: list[str] = field(default_factory=list)
    estimand_latex: str = ""
    id_estimand: str | None = None
    id_lines: list[str] = field(default_factory=list)
    hedge: dict[str, list[str]] | None = None
    effect_exists: bool = True
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dowhy: dict[str, Any] | None = None

    @property
    def query(self) -> str:
        return _query(self.outcomes, self.treatments)

    @property
    def adjustment_needed(self) -> bool | None:
        """False when the empty set suffices, True when a non-empty set is needed, None when none exists."""
        if not self.minimal_adjustment_sets:
            return None
        return self.minimal_adjustment_sets != [[]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; ``seconds`` is left out, so the same graph always gives the same bytes."""
        return {
            "query": self.query,
            "treatments": list(self.treatments),
            "outcomes": list(self.outcomes),
            "identifiable": self.identifiable,
            "by": self.by,
            "routes": list(self.routes),
            "minimal_adjustment_sets": [list(s) for s in self.minimal_adjustment_sets],
            "frontdoor_sets": [list(s) for s in self.frontdoor_sets],
            "instruments": list(self.instruments),
            "conditional_instruments": [dict(c) for c in self.conditional_instruments],
            "estimand": self.estimand,
            "estimand_latex": self.estimand_latex,
            "id_estimand": self.id_estimand,
            "id_lines": list(self.id_lines),
            "hedge": self.hedge,
            "effect_exists": self.effect_exists,
            "reason": self.reason,
            "complete": self.complete,
            "notes": list(self.notes),
            "dowhy": self.dowhy,
        }

    def _repr_html_(self) -> str:
        rows = [
            ("query", self.query),
            ("identifiable", "yes" if self.identifiable else "no"),
            ("by", self.by),
            ("minimal adjustment sets", "; ".join(_fmt(s) for s in self.minimal_adjustment_sets) or "none"),
            ("front-door sets", "; ".join(_fmt(s) for s in self.frontdoor_sets) or "none"),
            ("instruments", ", ".join(self.instruments) or "none"),
            ("estimand", self.estimand or "—"),
            ("reason", self.reason),
        ]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"


def _hedge_reason(exc: Unidentifiable, graph: CausalGraph, x: list[str], y: list[str]) -> str:
    """Words for a hedge: the bidirected path that no observed variable can block."""
    bi = exc.graph.bidirected.subgraph(exc.hedge_f)
    starts = sorted(set(exc.x) & set(exc.hedge_f))
    targets = set(exc.hedge_f_prime)
    best: list[str] | None = None
    for s in starts:
        for t in sorted(targets):
            try:
                p = nx.shortest_path(bi, s, t)
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
            if best is None or (len(p), p[-1] not in y) < (len(best), best[-1] not in y):
                best = p
    tail = (
        f"(a hedge for {_query(y, x)}: F = {_fmt(exc.hedge_f)}, F' = {_fmt(exc.hedge_f_prime)}; "
        "Shpitser & Pearl 2006, Theorem 4)"
    )
    if best is None:
        return f"no formula over the observed variables gives {_query(y, x)} {tail}"
    arcs = " <-> ".join(best)
    if len(best) == 2:
        a, b = best
        target = _fmt(y) if len(y) > 1 else y[0]
        if b in y:
            where = ""
        elif b in nx.descendants(graph.directed, a):
            where = f", and {b} lies on the way from {a} to {target}"
        else:
            where = f", and {b} affects {target}"
        return (
            f"{arcs}: the latent confounder opens {a} <- U -> {b}{where} "
            f"and no observed variable blocks it {tail}"
        )
    return (
        f"{arcs}: latent confounders tie {best[0]} to {best[-1]} through "
        f"{', '.join(best[1:-1])}, which {x[0] if len(x) == 1 else 'the treatment'} also affects, "
        f"and no observed variable blocks them {tail}"
    )


def identify(
    graph: CausalGraph,
    treatments: str | Iterable[str],
    outcomes: str | Iterable[str],
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
    max_sets: int | None = 10_000,
    dowhy: bool = False,
) -> Identification:
    """Identify ``P(outcomes | do(treatments))`` in ``graph``.

    Lists every minimal adjustment set, every minimal front-door set and every
    instrument (for one treatment and one outcome), runs the ID algorithm,
    and picks the route: back-door, then front-door, then ID; ``iv`` when
    only an instrument is left (identification then needs linearity).

    ``time_limit`` bounds the listing of sets (in seconds): when reached, the
    result has ``complete=False`` and says in ``notes`` what was established.
    With ``dowhy=True``, DoWhy's own identification (back-door, IV, front-door)
    runs too, within the same time limit (default 10 s), and is reported under
    ``dowhy``; a DoWhy back-door set that fails the adjustment criterion is noted.

    Raises
    ------
    GraphError
        On a bad query (see :func:`check_query`).
    NotIdentifiableError
        With ``strict=True``, when the effect is not identifiable.
    """
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    x, y = check_query(graph, treatments, outcomes)
    index = graph.index
    notes: list[str] = []
    complete = True
    effect_exists = has_directed_path(index.children, set(x), set(y), set())

    # the listing of adjustment sets gets most of the time; the front door and instruments the rest
    listing = list_minimal_adjustment_sets(
        graph, x, y, max_sets=max_sets, time_limit=None if time_limit is None else 0.7 * time_limit
    )
    adjust = listing.lists()
    if not listing.complete:
        complete = False
        notes.append(
            f"listing of minimal adjustment sets stopped at {listing.stopped_by} after {len(adjust)} set(s); "
            "each listed set is valid and minimal"
        )

    single = len(x) == 1 and len(y) == 1
    fd: list[list[str]] = []
    iv: list[str] = []
    civ: list[dict[str, Any]] = []
    if single and effect_exists:
        fd, fd_complete = frontdoor_sets(graph, x, y, deadline=deadline)
        if not fd_complete:
            complete = False
            notes.append(f"front-door listing stopped at the time limit after {len(fd)} set(s); each is minimal")
        if deadline is None or time.perf_counter() < deadline:
            iv = instruments(graph, x[0], y[0])
            civ_listing = list_conditional_instruments(graph, x[0], y[0], deadline=deadline)
            civ = [{"instrument": z, "given": w} for z, w in civ_listing.lists()]
            if not civ_listing.complete:
                complete = False
                notes.append(
                    "conditional-instrument search left undecided: "
                    + ", ".join(civ_listing.undecided)
                    + " (deciding one is NP-hard; each listed instrument is valid)"
                )
        else:
            complete = False
            notes.append("instrument search skipped: time limit reached")
    elif not single:
        notes.append("front-door and instrument searches cover one treatment and one outcome")

    id_text: str | None = None
    id_latex = ""
    id_lines: list[str] = []
    hedge = None
    id_reason = ""
    run_id = not adjust or len(index.observed) <= 60
    id_ok: bool | None = None
    if run_id:
        try:
            result = id_algorithm(latent_projection(graph), y, x)
            id_ok = True
            id_text = to_text(result.estimand)
            id_latex = to_latex(result.estimand)
            id_lines = list(result.lines)
        except Unidentifiable as exc:
            id_ok = False
            hedge = {"F": sorted(exc.hedge_f), "F_prime": sorted(exc.hedge_f_prime)}
            id_reason = _hedge_reason(exc, graph, x, y)

    routes = []
    if adjust:
        routes.append("backdoor")
    if fd:
        routes.append("frontdoor")
    if iv or civ:
        routes.append("iv")
    if id_ok or (id_ok is None and adjust):
        routes.append("id")

    q = _query(y, x)
    identifiable = bool(adjust) or bool(fd) or bool(id_ok)
    estimand = ""
    latex = ""
    if adjust:
        by = "backdoor"
        z = adjust[0]
        estimand = _adjustment_estimand(x, y, z)
        if z:
            reason = (
                f"adjusting for {_fmt(z)} blocks every back-door path from {_fmt(x)} to {_fmt(y)} "
                "(generalised adjustment criterion)"
            )
        else:
            reason = f"no adjustment needed: no open back-door path from {_fmt(x)} to {_fmt(y)}"
        if not effect_exists:
            nil = f"{q} = P({', '.join(y)})"
            reason += f"; no directed path from {_fmt(x)} to {_fmt(y)}, so the effect is nil ({nil})"
        joint = Term(frozenset([*x, *y, *z]))
        dom = set(joint.variables)
        latex = to_latex(
            sum_over(z, product([conditional(joint, dom, y, [*x, *z]), marginal(joint, dom, z)]))
        )
    elif fd:
        by = "frontdoor"
        front = _frontdoor_estimand(x[0], y[0], fd[0])
        estimand, latex = to_text(front), to_latex(front)
        reason = (
            f"no adjustment set exists, but {_fmt(fd[0])} satisfies the front-door criterion: it "
            f"intercepts every directed path from {x[0]} to {y[0]}, and its confounding with "
            f"{y[0]} is blocked by {x[0]}"
        )
    elif id_ok and not effect_exists:
        by = "id"
        estimand, latex = id_text or "", id_latex
        reason = (
            f"no directed path from {_fmt(x)} to {_fmt(y)}: intervening does not change {_fmt(y)}, "
            f"{q} = P({', '.join(y)})"
        )
    elif id_ok:
        by = "id"
        estimand, latex = id_text or "", id_latex
        reason = (
            "no adjustment or front-door set exists; the ID algorithm identifies the effect "
            f"({', '.join(line.split(':')[0] for line in id_lines)})"
        )
    else:
        by = "iv" if (iv or civ) else "none"
        reason = id_reason or f"{q} is not identifiable"
        if iv or civ:
            names = iv or [c["instrument"] for c in civ]
            reason += (
                f"; the instrument(s) {', '.join(names)} identify it only under further assumptions "
                "(a linear model, for example)"
            )
    dowhy_report = None
    if dowhy:
        answer = dowhy_identify(graph, x, y, time_limit=time_limit or DEFAULT_TIME_LIMIT)
        dowhy_report = answer.to_dict()
        if not answer.finished:
            notes.append(f"DoWhy {answer.error}")
        for s in answer.backdoor_sets or []:
            if not is_adjustment_set(graph, x, y, s):
                notes.append(f"DoWhy's back-door set {_fmt(s)} fails the adjustment criterion")
    if strict and not identifiable:
        raise NotIdentifiableError(
            f"{q} is not identifiable: {reason}",
            hint="measure a confounder, or look for a front-door set or an instrument",
        )
    return Identification(
        treatments=x,
        outcomes=y,
        identifiable=identifiable,
        by=by,
        minimal_adjustment_sets=adjust,
        frontdoor_sets=fd,
        instruments=iv,
        conditional_instruments=civ,
        estimand=estimand,
        reason=reason,
        routes=routes,
        estimand_latex=latex,
        id_estimand=id_text,
        id_lines=id_lines,
        hedge=hedge,
        effect_exists=effect_exists,
        complete=complete,
        notes=notes,
        seconds=time.perf_counter() - started,
        dowhy=dowhy_report,
    )


def evaluate_expectations(
    spec: CausalSpec, graph: CausalGraph | None = None, *, time_limit: float | None = DEFAULT_TIME_LIMIT
) -> list[Verdict]:
    """Check the ``expect:`` of every query of ``spec`` (kind ``"query"``, in file order).

    ``identifiable`` holds when the verdict matches; ``by`` when that route
    identifies the effect (``backdoor``: an adjustment set exists;
    ``frontdoor``: a front-door set; ``iv``: an instrument; ``id``: the ID
    algorithm; ``none``: nothing identifies it); ``adjust`` when the set is a
    valid adjustment set (the detail says whether it is minimal).

    >>> from causal.load import parse_spec
    >>> spec = parse_spec('''
    ... nodes: {z: {}, x: {}, y: {}}
    ... edges: {z -> x: {}, z -> y: {}, x -> y: {}}
    ... queries:
    ...   effect: {treatment: x, outcome: y, expect: {identifiable: true, by: backdoor, adjust: [z]}}
    ... ''')
    >>> [(r.statement, r.holds) for r in evaluate_expectations(spec)]
    [('effect: P(y | do(x)) is identifiable, by backdoor, adjusting for {z}', True)]
    """
    graph = graph or build_graph(spec)
    out: list[Verdict] = []
    for index, (name, query) in enumerate(spec.queries.items()):
        expect = query.expect
        if expect is None:
            continue
        where = spec.where("queries", name)
        q = _query(query.outcome, query.treatment)
        parts = []
        if expect.identifiable is not None:
            parts.append("is identifiable" if expect.identifiable else "is not identifiable")
        if expect.by is not None:
            parts.append(f"by {expect.by}")
        if expect.adjust is not None:
            parts.append(f"adjusting for {_fmt(expect.adjust)}")
        statement = f"{name}: {q} " + ", ".join(parts)
        try:
            r = identify(graph, query.treatment, query.outcome, time_limit=time_limit)
        except GraphError as err:
            out.append(
                Verdict(
                    index,
                    "query",
                    None,
                    f"cannot evaluate: {err.message}",
                    kind="query",
                    statement=statement,
                    says=query.description,
                    where=where,
                )
            )
            continue
        verdicts: list[bool | None] = []
        details = []
        if expect.identifiable is not None:
            verdicts.append(r.identifiable == expect.identifiable)
            details.append(("identifiable" if r.identifiable else "not identifiable") + f": {r.reason}")
        if expect.by is not None:
            if expect.by == "none":
                ok: bool | None = not r.identifiable
            elif expect.by in r.routes:
                ok = True
            else:
                ok = None if (not r.complete and expect.by in ("frontdoor", "iv")) else False
            verdicts.append(ok)
            details.append(f"routes that identify it: {', '.join(r.routes) or 'none'}")
        if expect.adjust is not None:
            z = sorted(expect.adjust)
            valid = is_adjustment_set(graph, query.treatment, query.outcome, z)
            verdicts.append(valid)
            listed = "; ".join(_fmt(s) for s in r.minimal_adjustment_sets)
            if not valid:
                details.append(
                    f"{_fmt(z)} is not a valid adjustment set; minimal sets: {listed or 'none exists'}"
                )
            elif is_minimal_adjustment_set(graph, query.treatment, query.outcome, z):
                details.append(f"{_fmt(z)} is a valid adjustment set and minimal")
            else:
                details.append(f"{_fmt(z)} is a valid adjustment set, not minimal (minimal sets: {listed})")
        holds = False if False in verdicts else None if None in verdicts else True
        out.append(
            Verdict(
                index,
                "query",
                holds,
                "; ".join(details),
                kind="query",
                statement=statement,
                says=query.description,
                where=where,
            )
        )
    return out


def run_with_time_limit(fn: Callable[[], T], seconds: float) -> tuple[bool, T | None, BaseException | None]:
    """Run ``fn`` in a worker thread; ``(finished, result, error)`` after at most ``seconds``.

    A call that does not finish keeps running in a daemon thread, its result dropped.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # reported to the caller
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True, name="tenor-time-limited")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return False, None, None
    return True, box.get("result"), box.get("error")


def dowhy_graph(graph: CausalGraph) -> tuple[nx.DiGraph, list[str]]:
    """DoWhy's view of the graph, and its observed nodes.

    A plain DAG in which each latent confounder is an unobserved node.
    """
    dag = graph.to_dag()
    plain = nx.DiGraph()
    plain.add_nodes_from(dag.nodes)
    plain.add_edges_from(dag.edges)
    return plain, sorted(graph.index.observed)


@dataclass(frozen=True)
class DoWhyAnswer:
    """DoWhy's identification of a query, or how it gave up."""

    finished: bool
    seconds: float
    backdoor_sets: list[list[str]] | None = None
    instruments: list[str] | None = None
    frontdoor: list[str] | None = None
    error: str | None = None
    estimand: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, without the timing (``seconds``)."""
        return {
            "finished": self.finished,
            "backdoor_sets": self.backdoor_sets,
            "instruments": self.instruments,
            "frontdoor": self.frontdoor,
            "error": self.error,
        }


def dowhy_identify(
    graph: CausalGraph,
    treatments: Iterable[str],
    outcomes: Iterable[str],
    *,
    time_limit: float = 30.0,
    method: str = "default",
) -> DoWhyAnswer:
    """DoWhy's non-parametric identification (back-door, IV, front-door) under a time limit.

    ``method`` is DoWhy's back-door method (``"default"``, ``"minimal-adjustment"``,
    ``"exhaustive-search"``, ...).
    """
    x, y = check_query(graph, treatments, outcomes)
    dag, observed = dowhy_graph(graph)

    def call() -> Any:
        import logging

        from dowhy.causal_identifier.auto_identifier import (
            BackdoorAdjustment,
            EstimandType,
            identify_effect_auto,
        )

        logging.getLogger("dowhy").setLevel(logging.ERROR)
        return identify_effect_auto(
            dag,
            x,
            y,
            observed,
            EstimandType.NONPARAMETRIC_ATE,
            backdoor_adjustment=BackdoorAdjustment(method),
        )

    started = time.perf_counter()
    finished, est, error = run_with_time_limit(call, time_limit)
    seconds = time.perf_counter() - started
    if not finished:
        return DoWhyAnswer(False, seconds, error=f"gave up after {time_limit:g}s")
    if error is not None:
        return DoWhyAnswer(True, seconds, error=f"{type(error).__name__}: {error}")
    sets = None
    if est.backdoor_variables is not None:
        sets = sorted(
            {tuple(sorted(v)) for k, v in est.backdoor_variables.items() if k != "backdoor" and v is not None}
        )
        sets = [list(s) for s in sets]
    return DoWhyAnswer(
        True,
        seconds,
        backdoor_sets=sets,
        instruments=sorted(est.instrumental_variables or []),
        frontdoor=sorted(est.frontdoor_variables or []),
        estimand=est,
    )
