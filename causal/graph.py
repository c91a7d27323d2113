"""The causal graph built from a spec: directed edges plus latent confounding, and its one search.

A :class:`CausalGraph` holds, as y0's mixed graphs do, a ``networkx.DiGraph``
of direct causal links (latent nodes included) and an undirected
``networkx.Graph`` of bidirected edges, each ``a <-> b`` standing for an
unobserved common cause of ``a`` and ``b``. Node attributes come from the
spec (label, role, unit, group, observed); edge attributes are ``sign``,
``gain``, ``lag_days`` and ``source``.

Examples
--------
>>> g = from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "y")])
>>> sorted(g.directed.edges()), sorted(g.observed)
([('m', 'y'), ('x', 'm')], ['m', 'x', 'y'])
>>> sorted(g.to_dag().predecessors("y"))
['U_x_y', 'm']

This module is the graph core every analysis stands on. The latent set and
the DAG with the hidden causes made explicit are computed once per graph
(:attr:`CausalGraph.index`); on that DAG live the ancestors
(:func:`closure`), the one active-trail search behind every d-separation
question (:func:`active_reach`, :func:`d_connected`, and its moral-graph form
:func:`moral_connected`), the edges of the open trails into a node
(:func:`open_trail_edges`), and the latent projection, the :class:`ADMG` over
the observed nodes that the ID algorithm works on (:func:`latent_projection`).

>>> sorted(active_reach(g.index.parents, g.index.children, ["x"], {"m"}))
['U_x_y', 'x', 'y']
>>> p = latent_projection(g)
>>> sorted(p.directed.edges()), sorted(p.bidirected.edges())
([('m', 'y'), ('x', 'm')], [('x', 'y')])

References
----------
Koller, D. & Friedman, N. (2009). *Probabilistic Graphical Models*, Alg. 3.1.
Lauritzen, S. L., Dawid, A. P., Larsen, B. N. & Leimer, H.-G. (1990).
Independence properties of directed Markov fields. *Networks* 20(5).
Verma, T. & Pearl, J. (1990). Equivalence and synthesis of causal models. *UAI 1990*.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from causal.spec import CausalSpec
from tenor.core.errors import GraphError
from tenor.core.specfile import did_you_mean

__all__ = [
    "ADMG",
    "CausalGraph",
    "DagIndex",
    "Maps",
    "active_reach",
    "build_graph",
    "closure",
    "d_connected",
    "from_edges",
    "has_directed_path",
    "latent_projection",
    "moral_connected",
    "open_trail_edges",
    "without_out_edges",
]

Maps = dict[str, tuple[str, ...]]
"""Parent or child lists by node, as :class:`DagIndex` holds them."""


def closure(links: Mapping[str, Iterable[str]], nodes: Iterable[str]) -> set[str]:
    """``nodes`` and everything reached from them along ``links``.

    With ``links`` a parents map this is the ancestors of ``nodes`` (``nodes``
    included); with a children map, their descendants.

    >>> sorted(closure({"a": (), "b": ("a",), "c": ("b",)}, ["c"]))
    ['a', 'b', 'c']
    """
    out = set(nodes)
    stack = list(out)
    while stack:
        for w in links[stack.pop()]:
            if w not in out:
                out.add(w)
                stack.append(w)
    return out


@dataclass(frozen=True, eq=False)
class DagIndex:
    """The DAG of a graph (each ``a <-> b`` a latent parent of both) as plain adjacency dicts.

    Built once per graph and cached: graph searches run on these tuples
    rather than on networkx views, which keeps the cost of a query on a small
    graph close to the cost of the search itself. Do not modify.
    """

    parents: dict[str, tuple[str, ...]]
    children: dict[str, tuple[str, ...]]
    latent: frozenset[str]
    observed: frozenset[str]
    named: frozenset[str] = frozenset()
    """The nodes of the graph itself (without the latent nodes standing for ``<->``)."""

    @cached_property
    def bit(self) -> dict[str, int]:
        """Each node's bit, ``1 << position``, for the bitset searches."""
        return {v: 1 << i for i, v in enumerate(self.parents)}

    @cached_property
    def ancestor_bits(self) -> dict[str, int]:
        """Ancestors, itself included, as a bitset, for the nodes asked so far (see :meth:`ancestor_mask`)."""
        return {}

    def ancestor_mask(self, node: str) -> int:
        """The ancestors of ``node``, itself included, as a bitset; computed on first use and cached.

        The graph must be acyclic.
        """
        memo = self.ancestor_bits
        mask = memo.get(node)
        if mask is not None:
            return mask
        bit, parents = self.bit, self.parents
        stack = [node]
        while stack:
            v = stack[-1]
            if v in memo:
                stack.pop()
                continue
            missing = [p for p in parents[v] if p not in memo]
            if missing:
                stack += missing
                continue
            mask = bit[v]
            for p in parents[v]:
                mask |= memo[p]
            memo[v] = mask
            stack.pop()
        return memo[node]

    @cached_property
    def moral_links(self) -> list[tuple[int, int, tuple[tuple[int, int], ...]]]:
        """For the node at each position: its parents and children as a bitset, its children
        as a bitset, and for each child the pair (child's bit, child's parents as a bitset),
        whose parents the moral graph joins when the child is kept."""
        bit = self.bit
        pa = {}
        for v, ps in self.parents.items():
            mask = 0
            for p in ps:
                mask |= bit[p]
            pa[v] = mask
        out = []
        for v, cs in self.children.items():
            below = 0
            for c in cs:
                below |= bit[c]
            out.append((pa[v] | below, below, tuple([(bit[c], pa[c]) for c in cs])))
        return out


@dataclass(frozen=True, eq=False)
class CausalGraph:
    """Directed causal links and latent confounding over one set of nodes."""

    directed: nx.DiGraph
    bidirected: nx.Graph
    spec: CausalSpec | None = field(default=None, repr=False)

    @property
    def nodes(self) -> list[str]:
        return list(self.directed.nodes)

    @property
    def latent(self) -> set[str]:
        """Nodes declared latent (unobserved)."""
        return set(self._declared_latent)

    @property
    def observed(self) -> set[str]:
        return set(self.directed.nodes) - self._declared_latent

    @cached_property
    def _declared_latent(self) -> frozenset[str]:
        return frozenset(n for n, d in self.directed._node.items() if not d.get("observed", True))

    @cached_property
    def index(self) -> DagIndex:
        """The DAG of :meth:`to_dag` as plain adjacency dicts (cached; do not modify)."""
        parents = {v: tuple(ps) for v, ps in self.directed._pred.items()}
        children = {v: tuple(cs) for v, cs in self.directed._succ.items()}
        latent = set(self._declared_latent)
        for a, b in self.bidirected.edges():  # the same names as to_dag gives
            first, second = (a, b) if a <= b else (b, a)
            u = f"U_{first}_{second}"
            while u in parents:
                u = "_" + u
            parents[u] = ()
            children[u] = (a, b)
            parents[a] += (u,)
            parents[b] += (u,)
            latent.add(u)
        return DagIndex(
            parents, children, frozenset(latent), frozenset(parents) - latent, frozenset(self.directed._node)
        )

    def check_nodes(self, names: Iterable[str], what: str = "node") -> None:
        """Raise :class:`GraphError` naming the first unknown node, with a suggestion."""
        for name in names:
            if name not in self.directed:
                close = did_you_mean(name, self.directed.nodes)
                raise GraphError(
                    f"unknown {what} {name!r}",
                    hint=f"did you mean {close!r}?"
                    if close
                    else "list the nodes with: tenor convert GRAPH --to dagitty",
                )

    def to_dag(self) -> nx.DiGraph:
        """The graph as a DAG: each ``a <-> b`` becomes a latent node ``U_a_b`` with ``a`` and ``b`` as children."""
        return self._dag.copy()

    @cached_property
    def _dag(self) -> nx.DiGraph:
        dag = self.directed.copy()
        for a, b in self.bidirected.edges():
            first, second = sorted((a, b))
            u = f"U_{first}_{second}"
            while u in dag:
                u = "_" + u
            dag.add_node(u, observed=False, role="latent", label=u)
            dag.add_edge(u, a)
            dag.add_edge(u, b)
        return dag

    def is_acyclic(self) -> bool:
        return self._acyclic

    @cached_property
    def _acyclic(self) -> bool:
        return nx.is_directed_acyclic_graph(self.directed)

    @cached_property
    def skeleton(self) -> nx.Graph:
        """Every adjacency, directed or bidirected, as an undirected graph (do not modify)."""
        skeleton = nx.Graph(self.directed.to_undirected(as_view=False))
        skeleton.add_edges_from(self.bidirected.edges())
        return skeleton


def build_graph(spec: CausalSpec) -> CausalGraph:
    """Build the :class:`CausalGraph` of a validated spec."""
    directed = nx.DiGraph(name=spec.name or "")
    bidirected = nx.Graph()
    for name, node in spec.nodes.items():
        directed.add_node(
            name,
            label=node.label or name,
            role=node.role.value,
            unit=node.unit,
            group=node.group,
            observed=node.observed,
        )
        bidirected.add_node(name)
    for edge in spec.directed_edges():
        delay = edge.delay
        directed.add_edge(
            edge.cause,
            edge.effect,
            sign=edge.sign,
            gain=edge.gain,
            lag_days=None if delay is None else delay.days,
            lag=None if delay is None else str(delay),
            source=edge.spec.source,
            description=edge.spec.description,
        )
    for a, b, key in spec.bidirected_edges():
        bidirected.add_edge(a, b, description=spec.edges[key].description)
    return CausalGraph(directed, bidirected, spec)


def from_edges(
    edges: Iterable[tuple[str, str]],
    *,
    bidirected: Iterable[tuple[str, str]] = (),
    latent: Iterable[str] = (),
    gains: dict[tuple[str, str], float] | None = None,
) -> CausalGraph:
    """A :class:`CausalGraph` from edge lists (handy in tests and notebooks)."""
    directed = nx.DiGraph()
    gains = gains or {}
    edges = list(edges)
    bidirected = list(bidirected)
    latent = set(latent)
    for a, b in [*edges, *bidirected]:
        for n in (a, b):
            directed.add_node(n, label=n, role="latent" if n in latent else "variable", observed=n not in latent)
    for n in latent:
        directed.add_node(n, label=n, role="latent", observed=False)
    for a, b in edges:
        g = gains.get((a, b))
        directed.add_edge(a, b, gain=g, sign=None if g is None else ("-" if g < 0 else "+"), lag_days=None)
    bi = nx.Graph()
    bi.add_nodes_from(directed.nodes)
    bi.add_edges_from(bidirected)
    return CausalGraph(directed, bi)


def moral_connected(index: DagIndex, xs: Iterable[str], ys: Iterable[str], given: Iterable[str]) -> bool:
    """Whether ``xs`` and ``ys`` are d-connected given ``given``: connected, avoiding ``given``, in the
    moral graph of the ancestors of all three (Lauritzen et al. 1990), searched on bitsets.

    The ancestor sets are cached per graph, so a query costs a few integer
    operations per node of the moral graph that the search visits.
    """
    bit, known, ancestors = index.bit, index.ancestor_bits, index.ancestor_mask
    kept = blocked = targets = reached = 0
    for v in given:
        kept |= known.get(v) or ancestors(v)
        blocked |= bit[v]
    for v in ys:
        kept |= known.get(v) or ancestors(v)
        targets |= bit[v]
    for v in xs:
        kept |= known.get(v) or ancestors(v)
        reached |= bit[v]
    links = index.moral_links
    free = kept & ~blocked
    frontier = reached
    while frontier:
        near = 0
        while frontier:
            low = frontier & -frontier
            frontier ^= low
            mask, below, kids = links[low.bit_length() - 1]
            if below & kept:
                for child, coparents in kids:
                    if child & kept:
                        mask |= coparents
            near |= mask
        near &= free & ~reached
        if near & targets:
            return True
        reached |= near
        frontier = near
    return False


def d_connected(
    parents: Mapping[str, Iterable[str]],
    children: Mapping[str, Iterable[str]],
    xs: Iterable[str],
    ys: Collection[str],
    given: Collection[str],
) -> bool:
    """Whether some active trail joins ``xs`` to ``ys`` given ``given`` (the search of
    :func:`active_reach`, stopped at the first node of ``ys`` reached)."""
    return any(v in ys for v in _active_trail(parents, children, xs, given))


def active_reach(
    parents: Mapping[str, Iterable[str]],
    children: Mapping[str, Iterable[str]],
    sources: Iterable[str],
    given: Collection[str],
) -> set[str]:
    """Nodes with an active trail from ``sources`` given ``given`` (Koller & Friedman 2009, Alg. 3.1).

    The graph is a DAG given as parent and child maps (for example a
    :class:`causal.graph.DagIndex`). A search over (node, direction) states,
    linear in the size of the graph: "up" means the trail arrived from a
    child, "down" from a parent. Nodes of ``given`` are never reported;
    ``sources`` are, unless they are in ``given``.

    >>> parents = {"x": (), "m": ("x",), "y": ("m",)}
    >>> children = {"x": ("m",), "m": ("y",), "y": ()}
    >>> sorted(active_reach(parents, children, ["x"], set())), sorted(active_reach(parents, children, ["x"], {"m"}))
    (['m', 'x', 'y'], ['x'])
    """
    return set(_active_trail(parents, children, sources, given))


def _active_trail(
    parents: Mapping[str, Iterable[str]],
    children: Mapping[str, Iterable[str]],
    sources: Iterable[str],
    given: Collection[str],
) -> Iterator[str]:
    """The nodes an active trail from ``sources`` reaches, as the search meets them (a node may
    come twice: once going up, once going down)."""
    anc = closure(parents, given) if given else given
    seen: dict[str, int] = {}  # bit 1: visited going up, bit 2: going down
    up = list(sources)
    down: list[str] = []
    while up or down:
        while up:
            v = up.pop()
            state = seen.get(v, 0)
            if state & 1:
                continue
            seen[v] = state | 1
            if v in given:
                continue
            yield v
            up += parents[v]
            down += children[v]
        while down:
            v = down.pop()
            state = seen.get(v, 0)
            if state & 2:
                continue
            seen[v] = state | 2
            if v not in given:
                yield v
                down += children[v]
            if v in anc:
                up += parents[v]


def open_trail_edges(index: DagIndex, source: str, target: str, given: Collection[str]) -> set[tuple[str, str]]:
    """The edges of the DAG ``index`` on the back-door trails from ``source`` to ``target`` open given ``given``.

    A trail counts when it leaves ``source`` by an edge into it, never comes
    back to ``source``, stops at ``target``, and is active given ``given``.
    The search ("Bayes-ball", Shachter 1998) runs over states (node, whether
    the trail arrived with an arrowhead into it, the edge it arrived by) and
    never turns back along the edge it came by; an edge is reported when a
    state arriving by it can still reach ``target``. Linear in the size of the
    graph, it can also report an edge that lies only on an active trail that
    visits a node twice. Edges are ``(parent, child)`` pairs of the DAG, so a
    latent confounder ``a <-> b`` shows as the edges out of its latent node.

    >>> g = from_edges([("z", "x"), ("z", "y"), ("x", "y")])
    >>> sorted(open_trail_edges(g.index, "x", "y", set())), open_trail_edges(g.index, "x", "y", {"z"})
    ([('z', 'x'), ('z', 'y')], set())
    """
    parents, children = index.parents, index.children
    opened = closure(parents, given)  # colliders that conditioning opens
    # a state: (node, arrived with an arrowhead into it?, the edge it arrived by)
    start = [(p, False, (p, source)) for p in parents[source]]
    moves: dict[tuple, list[tuple]] = {}
    seen = set(start)
    stack = list(start)
    while stack:
        state = stack.pop()
        v, head, came = state
        if v == target:
            continue
        out = []
        through = v not in given  # passing v as a non-collider
        if through:
            out += [(c, True, (v, c)) for c in children[v]]
        if through if not head else v in opened:  # v in opened: passing v as a collider
            out += [(p, False, (p, v)) for p in parents[v]]
        out = [s for s in out if s[0] != source and s[2] != came]
        moves[state] = out
        for nxt in out:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    # the states from which the target can be reached
    reverse: dict[tuple, list[tuple]] = {}
    for state, out in moves.items():
        for nxt in out:
            reverse.setdefault(nxt, []).append(state)
    alive = {s for s in seen if s[0] == target}
    stack = list(alive)
    while stack:
        for prev in reverse.get(stack.pop(), []):
            if prev not in alive:
                alive.add(prev)
                stack.append(prev)
    return {s[2] for s in alive}


def without_out_edges(parents: Maps, children: Maps, nodes: Iterable[str]) -> tuple[Maps, Maps]:
    """Parent and child maps with every edge out of ``nodes`` removed (``G`` with ``nodes`` underlined).

    >>> without_out_edges({"x": (), "y": ("x",)}, {"x": ("y",), "y": ()}, ["x"])
    ({'x': (), 'y': ()}, {'x': (), 'y': ()})
    """
    nodes = list(nodes)
    if not nodes:
        return parents, children
    parents, children = dict(parents), dict(children)
    for v in nodes:
        for c in children[v]:
            parents[c] = tuple(p for p in parents[c] if p != v)
        children[v] = ()
    return parents, children


def has_directed_path(children: Maps, x: Iterable[str], y: Collection[str], avoiding: Collection[str] = ()) -> bool:
    """Whether a directed path leads from a node of ``x`` to one of ``y`` through no node of ``avoiding``.

    >>> has_directed_path({"x": ("m",), "m": ("y",), "y": ()}, ["x"], {"y"}, avoiding={"m"})
    False
    """
    seen = set(x)
    stack = list(seen)
    while stack:
        for c in children[stack.pop()]:
            if c in avoiding or c in seen:
                continue
            if c in y:
                return True
            seen.add(c)
            stack.append(c)
    return False


@dataclass(frozen=True, eq=False)
class ADMG:
    """An acyclic directed mixed graph: directed edges and bidirected (latent confounding) edges."""

    directed: nx.DiGraph
    bidirected: nx.Graph

    @property
    def nodes(self) -> set[str]:
        return set(self.directed.nodes)

    def subgraph(self, nodes: Iterable[str]) -> ADMG:
        keep = set(nodes)
        return ADMG(self.directed.subgraph(keep).copy(), self.bidirected.subgraph(keep).copy())

    def without_incoming(self, x: Iterable[str]) -> ADMG:
        """``G_x̄``: no edge (directed or bidirected) points into ``x``."""
        xs = set(x)
        d = self.directed.copy()
        d.remove_edges_from([(p, v) for v in xs for p in self.directed.predecessors(v)])
        b = self.bidirected.copy()
        b.remove_edges_from([(v, w) for v in xs for w in self.bidirected.neighbors(v)])
        return ADMG(d, b)

    def ancestors(self, y: Iterable[str]) -> set[str]:
        """``An(Y)``, including ``Y``."""
        return closure(self.directed._pred, y)

    def order(self) -> list[str]:
        """A topological order, ties broken by name (deterministic)."""
        return list(nx.lexicographical_topological_sort(self.directed))


def latent_projection(graph: CausalGraph) -> ADMG:
    """The ADMG over the observed nodes (Verma & Pearl 1990).

    ``a -> b`` when a directed path leads from ``a`` to ``b`` through latent
    nodes only; ``a <-> b`` when they share a latent cause. Read off the
    graph's :attr:`~CausalGraph.index`, whose latent set already holds the
    hidden cause of each ``a <-> b``.
    """
    index = graph.index
    latent, children = index.latent, index.children
    observed = [n for n in index.parents if n not in latent]
    directed = nx.DiGraph()
    directed.add_nodes_from(observed)
    bidirected = nx.Graph()
    bidirected.add_nodes_from(observed)

    def observed_reach(start: str) -> set[str]:
        """Observed nodes reached from ``start`` by directed paths through latent nodes only."""
        out, stack, seen = set(), [start], {start}
        while stack:
            for c in children[stack.pop()]:
                if c in seen:
                    continue
                seen.add(c)
                if c in latent:
                    stack.append(c)
                else:
                    out.add(c)
        return out

    for v in observed:
        for c in observed_reach(v):
            directed.add_edge(v, c)
    for u in [n for n in index.parents if n in latent]:
        reached = sorted(observed_reach(u))
        for i, a in enumerate(reached):
            for b in reached[i + 1 :]:
                bidirected.add_edge(a, b)
    return ADMG(directed, bidirected)
