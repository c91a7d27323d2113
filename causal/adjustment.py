"""Covariate adjustment: which sets ``Z`` make ``P(y | do(x))`` an average of ``P(y | x, z)``.

Adjusting for ``Z`` means estimating the effect of ``X`` on ``Y`` as

    P(y | do(x)) = Σ_z P(y | x, z) P(z)

which is right exactly when ``Z`` is an *adjustment set*. Pearl's **back-door
criterion** (Pearl 2009, §3.3.1) gives a sufficient condition for one
treatment: no node of ``Z`` descends from ``X``, and ``Z`` blocks every path
from ``X`` to ``Y`` that starts with an arrow into ``X``. The **generalised
adjustment criterion** (Shpitser, VanderWeele & Robins 2010; Perković et al.
2015; for DAGs it is the *adjustment criterion*) is necessary and sufficient,
also for sets of treatments:

1. ``Z`` contains no node of ``Forb = De(cn(X, Y)) ∪ X``, where ``cn`` are the
   nodes (other than ``X``) on *proper causal paths* from ``X`` to ``Y``
   (directed paths that meet ``X`` only at their start);
2. ``Z`` d-separates ``X`` from ``Y`` in the *proper back-door graph*: the
   graph with the first edge of every proper causal path removed.

For one treatment, the inclusion-minimal adjustment sets and the
inclusion-minimal back-door sets coincide (a minimal set never contains a
descendant of ``X``). Latent nodes (declared latent, or the hidden common cause
of an ``a <-> b`` edge) take part in the paths but never in a set.

**Listing every minimal set.** Minimal separators lie among the ancestors of
``X ∪ Y`` (Tian, Paz & Pearl 1998), where d-separation equals vertex separation
in the moral graph of the ancestral subgraph (Lauritzen et al. 1990). So the
minimal adjustment sets are the minimal vertex separators between ``X`` and
``Y`` in that moral graph, using only allowed (observed, not forbidden) nodes:
:func:`minimal_adjustment_sets` lists them as van der Zander, Liśkiewicz &
Textor (2019, §5) do, by the separator-generation step of Kloks & Kratsch
(1998) — from the minimal separator closest to ``X``, each separator ``S`` and
node ``s ∈ S`` give the next one, ``N(C_Y(S ∪ N(s)))`` — with a polynomial
amount of work per set listed (polynomial delay).

Examples
--------
Pearl's (1993) confounding triangle and the M-graph:

>>> from causal.graph import from_edges
>>> g = from_edges([("z", "x"), ("z", "y"), ("x", "y")])
>>> minimal_adjustment_sets(g, ["x"], ["y"])
[['z']]
>>> m = from_edges([("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")])
>>> minimal_adjustment_sets(m, ["x"], ["y"])
[[]]
>>> is_adjustment_set(m, ["x"], ["y"], ["m"])
False

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., §3.3.
Shpitser, I., VanderWeele, T. & Robins, J. (2010). On the validity of covariate
adjustment for estimating causal effects. *UAI 2010*.
Perković, E., Textor, J., Kalisch, M. & Maathuis, M. (2015). A complete
generalized adjustment criterion. *UAI 2015*.
van der Zander, B., Liśkiewicz, M. & Textor, J. (2019). Separators and
adjustment sets in causal graphs: complete criteria and an algorithmic
framework. *Artificial Intelligence* 270:1–40.
Kloks, T. & Kratsch, D. (1998). Listing all minimal separators of a graph.
*SIAM Journal on Computing* 27(3):605–613.
Tian, J., Paz, A. & Pearl, J. (1998). Finding minimal d-separators. Technical
report R-254, UCLA.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import networkx as nx

from causal.graph import CausalGraph, closure, d_connected, without_out_edges

__all__ = [
    "AdjustmentListing",
    "backdoor_maps",
    "causal_structure",
    "forbidden_nodes",
    "is_adjustment_set",
    "is_backdoor_set",
    "is_minimal_adjustment_set",
    "iter_minimal_adjustment_sets",
    "list_minimal_adjustment_sets",
    "minimal_adjustment_sets",
    "moral_adjacency",
    "proper_backdoor_graph",
    "proper_causal_nodes",
]


def _descendants(dag: nx.DiGraph, nodes: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        if n not in out:
            out |= nx.descendants(dag, n)
            out.add(n)
    return out


def _ancestors(dag: nx.DiGraph, nodes: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        if n not in out:
            out |= nx.ancestors(dag, n)
            out.add(n)
    return out


def proper_causal_nodes(dag: nx.DiGraph, x: set[str], y: set[str]) -> set[str]:
    """``cn(X, Y)``: nodes other than ``X`` on proper causal paths from ``X`` to ``Y``.

    They are the descendants of ``X`` in the graph without edges into ``X``,
    intersected with the ancestors of ``Y`` in the graph without edges out of ``X``.
    """
    no_in = dag.copy()
    no_in.remove_edges_from([(p, v) for v in x for p in dag.predecessors(v)])
    no_out = dag.copy()
    no_out.remove_edges_from([(v, c) for v in x for c in dag.successors(v)])
    return (_descendants(no_in, x) - x) & _ancestors(no_out, y)


def forbidden_nodes(dag: nx.DiGraph, x: set[str], y: set[str]) -> set[str]:
    """``Forb(X, Y) = De(cn(X, Y)) ∪ X``: nodes no adjustment set may contain."""
    return _descendants(dag, proper_causal_nodes(dag, x, y)) | set(x)


def proper_backdoor_graph(dag: nx.DiGraph, x: set[str], y: set[str]) -> nx.DiGraph:
    """The graph without the first edge of each proper causal path from ``X`` to ``Y``."""
    cn = proper_causal_nodes(dag, x, y)
    pbd = dag.copy()
    pbd.remove_edges_from([(v, c) for v in x for c in dag.successors(v) if c in cn])
    return pbd


def is_adjustment_set(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str], adjust: Iterable[str]
) -> bool:
    """Whether ``adjust`` satisfies the (generalised) adjustment criterion for the total effect.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("z", "x"), ("z", "y"), ("x", "m"), ("m", "y")])
    >>> is_adjustment_set(g, ["x"], ["y"], ["z"]), is_adjustment_set(g, ["x"], ["y"], ["z", "m"])
    (True, False)
    """
    x, y, z = set(treatments), set(outcomes), set(adjust)
    if z & (graph.index.latent | x | y):
        return False
    cn, forb = causal_structure(graph, x, y)
    if z & forb:
        return False
    parents, children = backdoor_maps(graph, x, cn)
    return not d_connected(parents, children, x, y, z)


def is_backdoor_set(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str], adjust: Iterable[str]
) -> bool:
    """Pearl's back-door criterion: no descendant of ``X`` in ``Z``, and ``Z`` blocks every back-door path.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("z", "x"), ("z", "y"), ("x", "y")])
    >>> is_backdoor_set(g, ["x"], ["y"], []), is_backdoor_set(g, ["x"], ["y"], ["z"])
    (False, True)
    """
    index = graph.index
    x, y, z = set(treatments), set(outcomes), set(adjust)
    if z & (index.latent | x | y) or z & closure(index.children, x):
        return False
    parents, children = without_out_edges(index.parents, index.children, x)
    return not d_connected(parents, children, x, y, z)


def is_minimal_adjustment_set(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str], adjust: Iterable[str]
) -> bool:
    """Whether ``adjust`` is an adjustment set and no proper subset of it is one.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("a", "x"), ("a", "y"), ("b", "y"), ("x", "y")])
    >>> [is_minimal_adjustment_set(g, ["x"], ["y"], z) for z in (["a"], ["a", "b"])]
    [True, False]
    """
    x, y, z = set(treatments), set(outcomes), set(adjust)
    if not is_adjustment_set(graph, x, y, z):
        return False
    dag = graph.to_dag()
    allowed = set(graph.index.observed) - forbidden_nodes(dag, x, y) - y
    return bool(nx.is_minimal_d_separator(proper_backdoor_graph(dag, x, y), x, y, z, restricted=allowed))


@dataclass(frozen=True)
class AdjustmentListing:
    """Minimal adjustment sets as listed; ``complete`` is False when a limit stopped the listing."""

    sets: tuple[tuple[str, ...], ...]
    complete: bool
    seconds: float
    stopped_by: str | None = None

    def lists(self) -> list[list[str]]:
        return [list(s) for s in self.sets]


class _MoralSearch:
    """Vertex separation between ``X`` and ``Y`` in a moral graph, through allowed nodes only.

    Nodes that may not be in a separator (latent, forbidden) are passed through
    freely, which amounts to eliminating them (joining their neighbours).
    """

    def __init__(self, adj: dict[str, set[str]], x: set[str], y: set[str], allowed: set[str]) -> None:
        self.adj = adj
        self.x, self.y, self.allowed = x, y, allowed

    def boundary(self, start: set[str], blocked: set[str], through_terminals: bool) -> tuple[set[str], set[str]]:
        """Nodes reached from ``start`` without entering ``blocked``, and the blocked nodes met.

        With ``through_terminals`` False, nodes of ``X`` and ``Y`` outside
        ``start`` are met but not entered.
        """
        seen = set(start)
        met: set[str] = set()
        queue = deque(start)
        while queue:
            v = queue.popleft()
            for w in self.adj[v]:
                if w in seen or w in met:
                    continue
                if w in blocked:
                    met.add(w)
                    continue
                if not through_terminals and (w in self.x or w in self.y):
                    met.add(w)
                    continue
                seen.add(w)
                queue.append(w)
        return seen, met

    def component_of_y(self, blocked: set[str]) -> tuple[set[str], set[str]]:
        """The component of ``Y`` after removing ``blocked``, and its neighbourhood ``N(C_Y)``."""
        seen, met = self.boundary(set(self.y), blocked, through_terminals=True)
        return seen, met


def _closure_avoiding(links: dict[str, tuple[str, ...]], start: set[str], avoid: set[str]) -> set[str]:
    """``start`` and the nodes reached from it along ``links`` without entering ``avoid``."""
    out = set(start)
    stack = list(start)
    while stack:
        for w in links[stack.pop()]:
            if w not in out and w not in avoid:
                out.add(w)
                stack.append(w)
    return out


def causal_structure(graph: CausalGraph, x: set[str], y: set[str]) -> tuple[set[str], set[str]]:
    """``cn(X, Y)`` and ``Forb(X, Y)`` of :func:`proper_causal_nodes` and :func:`forbidden_nodes`.

    Computed on the graph's cached adjacency (:attr:`CausalGraph.index`), without copying it.
    """
    index = graph.index
    cn = (_closure_avoiding(index.children, x, x) - x) & _closure_avoiding(index.parents, y, x)
    return cn, _closure_avoiding(index.children, cn, set()) | x


def backdoor_maps(
    graph: CausalGraph, x: set[str], cn: set[str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Parent and child maps of the proper back-door graph (edges ``x -> c``, ``c`` in ``cn``, removed)."""
    index = graph.index
    parents, children = index.parents, index.children
    cut = [(v, c) for v in x for c in children[v] if c in cn]
    if not cut:
        return parents, children
    parents, children = dict(parents), dict(children)
    for v, c in cut:
        children[v] = tuple(w for w in children[v] if w != c)
        parents[c] = tuple(p for p in parents[c] if p != v)
    return parents, children


def moral_adjacency(parents: dict[str, tuple[str, ...]], nodes: set[str]) -> dict[str, set[str]]:
    """The moral graph of the subgraph on ``nodes`` (an ancestral set): adjacency sets."""
    adj: dict[str, set[str]] = {v: set() for v in nodes}
    for v in nodes:
        ps = [p for p in parents[v] if p in adj]
        for i, p in enumerate(ps):
            adj[v].add(p)
            adj[p].add(v)
            for q in ps[i + 1 :]:
                adj[p].add(q)
                adj[q].add(p)
    return adj


def _moral_setup(graph: CausalGraph, x: set[str], y: set[str]) -> tuple[_MoralSearch, set[str]] | None:
    cn, forb = causal_structure(graph, x, y)
    parents, _ = backdoor_maps(graph, x, cn)
    anc = _closure_avoiding(parents, x | y, set())
    allowed = anc - graph.index.latent - forb - y - x
    return _MoralSearch(moral_adjacency(parents, anc), x, y, allowed), allowed


def iter_minimal_adjustment_sets(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str]
) -> Iterator[tuple[str, ...]]:
    """Yield every inclusion-minimal adjustment set (each a sorted tuple), with polynomial delay.

    Nothing is yielded when no adjustment set exists; ``()`` when the empty set is valid
    (it is then the only minimal set).
    """
    x, y = set(treatments), set(outcomes)
    setup = _moral_setup(graph, x, y)
    if setup is None:
        return
    search, allowed = setup
    # The separator closest to X: N(C_Y) where C_Y is Y's component after removing N(X).
    seen_x, near_x = search.boundary(set(x), allowed, through_terminals=False)
    if seen_x & y or near_x & y:
        return  # X and Y adjacent through non-allowed nodes: nothing separates them
    near_x -= x
    comp, start = search.component_of_y(near_x)
    if comp & x:
        return
    near_y = search.boundary(set(y), allowed, through_terminals=False)[1] - x - y
    neighbours: dict[str, set[str]] = {}
    done: set[frozenset[str]] = set()
    stack = [frozenset(start)]
    done.add(stack[0])
    while stack:
        sep = stack.pop()
        yield tuple(sorted(sep))
        for s in sorted(sep - near_y):
            ns = neighbours.get(s)
            if ns is None:
                ns = neighbours[s] = search.boundary({s}, allowed - {s}, through_terminals=False)[1] - x - y
            comp, nxt_set = search.component_of_y(set(sep) | ns)
            nxt = frozenset(nxt_set)
            if nxt not in done and not comp & x:
                done.add(nxt)
                stack.append(nxt)


def list_minimal_adjustment_sets(
    graph: CausalGraph,
    treatments: Iterable[str],
    outcomes: Iterable[str],
    *,
    max_sets: int | None = 10_000,
    time_limit: float | None = None,
) -> AdjustmentListing:
    """All inclusion-minimal adjustment sets, sorted, stopping at ``max_sets`` or ``time_limit`` seconds."""
    started = time.perf_counter()
    found: list[tuple[str, ...]] = []
    stopped = None
    for s in iter_minimal_adjustment_sets(graph, treatments, outcomes):
        found.append(s)
        if max_sets is not None and len(found) >= max_sets:
            stopped = f"the limit of {max_sets} sets"
            break
        if time_limit is not None and time.perf_counter() - started > time_limit:
            stopped = f"the time limit of {time_limit:g} s"
            break
    found.sort(key=lambda s: (len(s), s))
    return AdjustmentListing(tuple(found), stopped is None, time.perf_counter() - started, stopped)


def minimal_adjustment_sets(graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str]) -> list[list[str]]:
    """Every inclusion-minimal adjustment set as a sorted list; ``[]`` none exists, ``[[]]`` none needed.

    Sets come smallest first, then in name order.
    """
    return list_minimal_adjustment_sets(graph, treatments, outcomes, max_sets=None).lists()
