"""The causal graph built from a spec: directed edges plus latent confounding.

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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from causal.spec import CausalSpec
from tenor.core.errors import GraphError
from tenor.core.specfile import did_you_mean

__all__ = ["CausalGraph", "DagIndex", "build_graph", "closure", "from_edges"]


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
