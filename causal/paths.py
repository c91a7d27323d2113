"""Paths in a causal graph, and whether conditioning blocks them (d-separation).

A *path* between ``a`` and ``b`` is a sequence of distinct nodes, each linked
to the next by an edge of any orientation: ``->``, ``<-``, or ``<->`` (a latent
common cause). It is *causal* (directed) when every edge points from ``a``
towards ``b``, and *back-door* when its first edge points into ``a``.

A node ``v`` inside a path is a *collider* when both adjacent edges point into
it (``-> v <-``, ``<-> v <-``, ...). Given a conditioning set ``Z``, a path is
*blocked* when a non-collider on it is in ``Z``, or a collider on it is neither
in ``Z`` nor an ancestor of a node of ``Z``; otherwise it is *open*. ``x`` and
``y`` are *d-separated* by ``Z`` when every path between them is blocked; then
``x`` and ``y`` are independent given ``Z`` in every distribution the graph
can generate (Pearl 2009, *Causality*, §1.2.3).

Examples
--------
>>> from causal.graph import from_edges
>>> g = from_edges([("x", "m"), ("m", "y"), ("z", "x"), ("z", "y")])
>>> [str(p) for p in find_paths(g, "x", "y")]
['x -> m -> y', 'x <- z -> y']
>>> [p.open for p in find_paths(g, "x", "y", given=["z"])]
[True, False]
>>> is_d_separated(g, "x", "y", given=["m", "z"])
True

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., Cambridge University Press.
Shrier, I. & Platt, R. W. (2008). Reducing bias through directed acyclic
graphs. *BMC Medical Research Methodology* 8:70.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import networkx as nx

from causal.graph import CausalGraph, active_reach, closure, d_connected, moral_connected
from tenor.core.errors import GraphError

__all__ = [
    "GraphPath",
    "PathSet",
    "active_reach",
    "backdoor_paths",
    "d_connected",
    "directed_paths",
    "find_paths",
    "is_d_separated",
    "moral_connected",
    "total_effect",
]

DEFAULT_MAX_PATHS = 10_000


@dataclass(frozen=True)
class GraphPath:
    """One path, its orientation, and whether it is open given a conditioning set."""

    nodes: tuple[str, ...]
    arrows: tuple[str, ...]
    open: bool
    colliders: tuple[str, ...] = ()
    blocked_by: tuple[str, ...] = ()

    @property
    def causal(self) -> bool:
        """Every edge points forward, from the first node to the last."""
        return all(a == "->" for a in self.arrows)

    @property
    def backdoor(self) -> bool:
        """The first edge points into the first node."""
        return bool(self.arrows) and self.arrows[0] in ("<-", "<->")

    @property
    def kind(self) -> str:
        return "causal" if self.causal else "back-door" if self.backdoor else "non-causal"

    def __str__(self) -> str:
        out = self.nodes[0]
        for arrow, node in zip(self.arrows, self.nodes[1:], strict=True):
            out += f" {arrow} {node}"
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self),
            "nodes": list(self.nodes),
            "kind": self.kind,
            "open": self.open,
            "colliders": list(self.colliders),
            "blocked_by": list(self.blocked_by),
        }


@dataclass(frozen=True)
class PathSet:
    """The paths between two nodes; ``truncated`` when a limit stopped the search."""

    source: str
    target: str
    given: tuple[str, ...]
    paths: tuple[GraphPath, ...]
    truncated: bool = False
    limit: int | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[GraphPath]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def to_dict(self) -> dict[str, object]:
        return {
            "from": self.source,
            "to": self.target,
            "given": list(self.given),
            "paths": [p.to_dict() for p in self.paths],
            "truncated": self.truncated,
        }


def _as_set(nodes: str | Iterable[str] | None) -> set[str]:
    if nodes is None:
        return set()
    if isinstance(nodes, str):
        return {nodes}
    return set(nodes)


def _check_given(graph: CausalGraph, given: set[str]) -> None:
    graph.check_nodes(given)
    hidden = sorted(given & graph.latent)
    if hidden:
        raise GraphError(
            f"cannot condition on latent node(s) {', '.join(hidden)}", hint="condition only on observed nodes"
        )


def _neighbours(graph: CausalGraph, node: str) -> list[tuple[str, str]]:
    """``(arrow, next)`` pairs leaving ``node`` in a fixed order."""
    out = [("->", n) for n in graph.directed.successors(node)]
    out += [("<-", n) for n in graph.directed.predecessors(node)]
    out += [("<->", n) for n in graph.bidirected.neighbors(node)] if node in graph.bidirected else []
    return sorted(out, key=lambda t: (t[1], t[0]))


def _classify(nodes: tuple[str, ...], arrows: tuple[str, ...], given: set[str], opened: set[str]) -> GraphPath:
    colliders, blocked = [], []
    for i in range(1, len(nodes) - 1):
        v = nodes[i]
        head_left = arrows[i - 1] in ("->", "<->")
        head_right = arrows[i] in ("<-", "<->")
        if head_left and head_right:
            colliders.append(v)
            if v not in opened:
                blocked.append(v)
        elif v in given:
            blocked.append(v)
    return GraphPath(nodes, arrows, not blocked, tuple(colliders), tuple(blocked))


def find_paths(
    graph: CausalGraph,
    source: str,
    target: str,
    given: str | Iterable[str] | None = None,
    *,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_length: int | None = None,
) -> PathSet:
    """Every simple path between ``source`` and ``target``, each classified given ``given``.

    Paths come shortest first, then in name order. The search stops after
    ``max_paths`` paths (``truncated`` is then True); ``max_length`` bounds the
    number of edges on a path.
    """
    graph.check_nodes([source, target])
    z = _as_set(given)
    _check_given(graph, z)
    if source == target:
        raise GraphError("source and target are the same node", hint="ask for paths between two different nodes")
    opened = closure(graph.index.parents, z)  # colliders that conditioning opens: ``z`` and its ancestors
    limit = max_length if max_length is not None else graph.directed.number_of_nodes()
    # distance to the target bounds how short a path through a node can be: prune hopeless branches
    distance = nx.single_source_shortest_path_length(graph.skeleton, target, cutoff=limit)
    found: list[GraphPath] = []
    truncated = False
    # depth-first search over the mixed graph with an explicit stack
    stack: list[tuple[str, Iterator[tuple[str, str]]]] = [(source, iter(_neighbours(graph, source)))]
    on_path = [source]
    arrows: list[str] = []
    visited = {source}
    while stack:
        _, children = stack[-1]
        step = next(children, None)
        if step is None:
            stack.pop()
            visited.discard(on_path.pop())
            if arrows:
                arrows.pop()
            continue
        arrow, nxt = step
        if nxt in visited:
            continue
        if nxt == target:
            found.append(_classify((*on_path, nxt), (*arrows, arrow), z, opened))
            if len(found) >= max_paths:
                truncated = True
                break
            continue
        if len(arrows) + 1 + distance.get(nxt, limit + 1) > limit:
            continue
        visited.add(nxt)
        on_path.append(nxt)
        arrows.append(arrow)
        stack.append((nxt, iter(_neighbours(graph, nxt))))
    found.sort(key=lambda p: (len(p.nodes), p.nodes, p.arrows))
    return PathSet(source, target, tuple(sorted(z)), tuple(found), truncated, max_paths)


def directed_paths(graph: CausalGraph, source: str, target: str) -> Iterator[list[str]]:
    """Directed (causal) paths from ``source`` to ``target``, as node lists."""
    graph.check_nodes([source, target])
    yield from nx.all_simple_paths(graph.directed, source, target)


def backdoor_paths(
    graph: CausalGraph, source: str, target: str, given: str | Iterable[str] | None = None, **limits: int
) -> list[GraphPath]:
    """The back-door paths from ``source`` to ``target`` (first edge into ``source``)."""
    return [p for p in find_paths(graph, source, target, given, **limits) if p.backdoor]


def is_d_separated(
    graph: CausalGraph,
    x: str | Iterable[str],
    y: str | Iterable[str],
    given: str | Iterable[str] | None = None,
) -> bool:
    """Whether every path between ``x`` and ``y`` is blocked by ``given``.

    Latent confounders (``a <-> b``) count as paths through an unobserved
    common cause: each becomes an explicit latent node of the graph core's
    cached DAG, on which the core answers the question
    (:func:`causal.graph.moral_connected`: separation in the moral graph of the
    ancestors, on bitsets). The tests check it against networkx's
    ``is_d_separator``, against explicit path blocking, and the core's
    active-trail search against both.

    Raises
    ------
    GraphError
        On an unknown node, a latent node in ``given``, overlapping sets, or a
        directed cycle.
    """
    xs = {x} if type(x) is str else set(x)
    ys = {y} if type(y) is str else set(y)
    zs = set() if given is None else {given} if type(given) is str else set(given)
    index = graph.index
    # the common case in a few set operations: known nodes, observed given, disjoint sets, a DAG
    if not (
        xs
        and ys
        and index.named >= xs
        and index.named >= ys
        and index.observed >= zs
        and xs.isdisjoint(ys)
        and zs.isdisjoint(xs)
        and zs.isdisjoint(ys)
        and graph._acyclic
    ):
        _check_d_separation_query(graph, xs, ys, zs)
    return not moral_connected(index, xs, ys, zs)


def _check_d_separation_query(graph: CausalGraph, xs: set[str], ys: set[str], zs: set[str]) -> None:
    for s in (xs, ys, zs):
        graph.check_nodes(sorted(s))
    _check_given(graph, zs)
    if not xs or not ys:
        raise GraphError("x and y must each name at least one node")
    overlap = (xs & ys) | ((xs | ys) & zs)
    if overlap:
        raise GraphError(f"x, y and given overlap in {sorted(overlap)}", hint="each node may appear in one set only")
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError("directed cycle: " + " -> ".join([*cycle, cycle[0]]), hint="d-separation needs a DAG")


def total_effect(graph: CausalGraph, source: str, target: str) -> float:
    """Total effect of ``source`` on ``target`` under the linear reading of the gains.

    It is the sum over directed paths of the product of the gains along each
    path (Wright's path rule), computed in one pass in topological order; it
    equals entry ``(source, target)`` of ``(I - B)^-1`` for the gain matrix
    ``B``. Zero when no directed path exists.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("x", "m"), ("m", "y"), ("x", "y")],
    ...                gains={("x", "m"): 0.5, ("m", "y"): 2.0, ("x", "y"): -0.25})
    >>> total_effect(g, "x", "y")
    0.75

    Raises
    ------
    GraphError
        When an edge on a directed path has no gain.
    """
    graph.check_nodes([source, target])
    if not graph.is_acyclic():
        raise GraphError("total effects need an acyclic graph")
    reach = nx.descendants(graph.directed, source) & (nx.ancestors(graph.directed, target) | {target})
    effect: dict[str, float] = {source: 1.0}
    sub = graph.directed.subgraph(reach | {source})
    for node in nx.topological_sort(sub):
        if node == source:
            continue
        total = 0.0
        for parent in sub.predecessors(node):
            gain = sub.edges[parent, node].get("gain")
            if gain is None:
                raise GraphError(
                    f"edge {parent} -> {node} has no gain",
                    hint="give every edge on the paths a gain, e.g. gain: 0.5",
                )
            total += effect.get(parent, 0.0) * gain
        effect[node] = total
    return effect.get(target, 0.0) if target != source else 1.0
