"""Checks a causal spec's references and structure, beyond its field types.

Every edge key must be ``cause -> effect`` or ``a <-> b`` over declared nodes;
channels must be directed paths of the graph; claims and queries must name
declared channels and nodes; and the directed edges must not form a cycle (a
causal graph is acyclic; a feedback loop belongs in a stock-and-flow model).
Each problem carries the key path where it sits and a hint on how to fix it.

Examples
--------
>>> from causal.spec import CausalSpec
>>> spec = CausalSpec.model_validate({"nodes": {"a": {}, "b": {}},
...                                   "edges": {"a -> c": {}}})
>>> [p.message for p in check_spec(spec)]
["unknown node 'c' in edge 'a -> c'"]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx

from causal.spec import _NAME_RE, CausalSpec, Claim, Role, Separation, parse_edge_key
from tenor.core.specfile import Problem, did_you_mean

__all__ = ["check_spec", "find_cycle"]


def _unknown(
    name: str, known: Iterable[str], what: str, path: tuple, kind: str = "node", at_key: bool = False
) -> Problem:
    close = did_you_mean(name, known)
    hint = f"did you mean {close!r}?" if close else f"declare it under {kind}s:, or fix the spelling"
    return Problem(path, f"unknown {kind} {name!r} {what}", hint, at_key)


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """A directed cycle as a closed list of nodes (``[a, b, c, a]``), or None.

    >>> find_cycle([("a", "b"), ("b", "c"), ("c", "a")])
    ['a', 'b', 'c', 'a']
    """
    graph = nx.DiGraph(edges)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    nodes = [u for u, _ in cycle]
    return [*nodes, nodes[0]]


def check_spec(spec: CausalSpec) -> list[Problem]:
    """Every reference and structure problem of ``spec``, in file order.

    The checks run in phases: node names, edges (each over declared nodes,
    once), the directed cycle, channels, claims and queries.
    """
    nodes = list(spec.nodes)
    problems = _check_node_names(nodes)
    edges = _EdgeIndex()
    for key in spec.edges:
        problems += _check_edge(spec, key, nodes, edges)
    problems += _check_acyclic(edges)
    for name in spec.channels:
        problems += _check_channel(spec, name, nodes, edges)
    for i, claim in enumerate(spec.claims):
        problems += _check_claim(spec, i, claim, nodes)
    for name in spec.queries:
        problems += _check_query(spec, name, nodes)
    return problems


@dataclass
class _EdgeIndex:
    """The edges read so far: each directed pair and each latent-confounded pair, with its key."""

    directed: dict[tuple[str, str], str] = field(default_factory=dict)
    bidirected: dict[frozenset[str], str] = field(default_factory=dict)


def _check_node_names(nodes: list[str]) -> list[Problem]:
    return [
        Problem(
            ("nodes", name),
            f"bad node name {name!r}",
            "use letters, digits and _ (not starting with a digit), e.g. ust_30y",
            at_key=True,
        )
        for name in nodes
        if not _NAME_RE.match(name)
    ]


def _check_edge(spec: CausalSpec, key: str, nodes: list[str], edges: _EdgeIndex) -> list[Problem]:
    """The problems of one edge key; a well-formed edge is added to ``edges``."""
    path = ("edges", key)
    parsed = parse_edge_key(key)
    if parsed is None:
        hint = "write 'cause -> effect' (or 'a <-> b' for a latent confounder)"
        return [Problem(path, f"bad edge {key!r}", hint, at_key=True)]
    a, arrow, b = parsed
    what = f"in edge {key!r}"
    unknown = [_unknown(name, nodes, what, path, at_key=True) for name in (a, b) if name not in spec.nodes]
    if unknown:
        return unknown
    if a == b:
        return [Problem(path, f"edge {key!r} links {a} to itself", "remove the self-loop", at_key=True)]
    if arrow == "->":
        problems = []
        if (a, b) in edges.directed:
            message = f"edge {a} -> {b} is given twice (also as {edges.directed[(a, b)]!r})"
            problems.append(Problem(path, message, "keep one of the two", at_key=True))
        edges.directed[(a, b)] = key
        return problems
    return _check_bidirected(spec, key, a, b, edges)


def _check_bidirected(spec: CausalSpec, key: str, a: str, b: str, edges: _EdgeIndex) -> list[Problem]:
    path = ("edges", key)
    problems = []
    pair = frozenset((a, b))
    if pair in edges.bidirected:
        problems.append(
            Problem(path, f"latent confounding {a} <-> {b} is given twice", "keep one of the two", at_key=True)
        )
    edges.bidirected[pair] = key
    attrs = spec.edges[key]
    if attrs.gain is not None or attrs.sign is not None or attrs.lag is not None:
        problems.append(
            Problem(
                path,
                f"{key!r} is a latent confounding and takes no sign, gain or lag",
                "model the common cause as a latent node (role: latent) with signed edges",
                at_key=True,
            )
        )
    return problems


def _check_acyclic(edges: _EdgeIndex) -> list[Problem]:
    cycle = find_cycle(list(edges.directed))
    if not cycle:
        return []
    first = edges.directed[(cycle[0], cycle[1])]
    return [
        Problem(
            ("edges", first),
            "directed cycle: " + " -> ".join(cycle),
            "a causal graph must be acyclic: remove or reverse one of these edges "
            "(feedback loops belong in a stock-and-flow model)",
            at_key=True,
        )
    ]


def _check_channel(spec: CausalSpec, name: str, nodes: list[str], edges: _EdgeIndex) -> list[Problem]:
    """A channel names declared nodes and follows directed edges, visiting each node once."""
    steps = spec.channels[name].path
    path = ("channels", name, "path")
    unknown = [_unknown(node, nodes, f"in channel {name!r}", path) for node in steps if node not in spec.nodes]
    if unknown:
        return unknown
    problems = []
    for a, b in pairwise(steps):
        if (a, b) not in edges.directed:
            hint = (
                f"the graph has {b} -> {a}; reverse the channel"
                if (b, a) in edges.directed
                else f"add an edge '{a} -> {b}' or fix the path"
            )
            problems.append(Problem(path, f"channel {name!r} is not a path of the graph: no edge {a} -> {b}", hint))
    if len(set(steps)) != len(steps):
        problems.append(Problem(path, f"channel {name!r} visits a node twice", "a channel is a simple path"))
    return problems


def _check_claim(spec: CausalSpec, i: int, claim: Claim, nodes: list[str]) -> list[Problem]:
    """A claim names declared channels, or declared (and for ``given``, observed) nodes."""
    kind = claim.kind
    path = ("claims", i, kind)
    channels = list(spec.channels)
    if kind in ("separated", "connected"):
        return _check_separation(spec, getattr(claim, kind), path, nodes)
    if kind == "distinct":
        named = [(ch, path) for ch in claim.distinct or []]
    elif kind == "sign":
        named = [(claim.sign.channel, (*path, "channel"))] if claim.sign else []
    else:
        order = getattr(claim, kind)
        named = [(getattr(order, f), (*path, f)) for f in ("channel", "than")]
    return [_unknown(ch, channels, "in claim", where, kind="channel") for ch, where in named if ch not in spec.channels]


def _check_separation(spec: CausalSpec, sep: Separation, path: tuple, nodes: list[str]) -> list[Problem]:
    problems = [
        _unknown(node, nodes, "in claim", (*path, f))
        for f in ("x", "y", "given")
        for node in getattr(sep, f)
        if node not in spec.nodes
    ]
    for node in sep.given:
        if node in spec.nodes and spec.nodes[node].role is Role.latent:
            problems.append(
                Problem(
                    (*path, "given"),
                    f"{node!r} is latent and cannot be conditioned on",
                    "condition only on observed nodes",
                )
            )
    overlap = (set(sep.x) & set(sep.y)) | ((set(sep.x) | set(sep.y)) & set(sep.given))
    if overlap:
        problems.append(
            Problem(path, f"x, y and given overlap in {sorted(overlap)}", "each node may appear in one set only")
        )
    return problems


def _check_query(spec: CausalSpec, name: str, nodes: list[str]) -> list[Problem]:
    query = spec.queries[name]
    problems = [
        _unknown(node, nodes, f"in query {name!r}", ("queries", name, f))
        for f in ("treatment", "outcome")
        for node in getattr(query, f)
        if node not in spec.nodes
    ]
    both = set(query.treatment) & set(query.outcome)
    if both:
        problems.append(
            Problem(("queries", name), f"{sorted(both)} is both treatment and outcome", "pick different nodes")
        )
    if query.expect and query.expect.adjust:
        where = ("queries", name, "expect", "adjust")
        what = f"in query {name!r}"
        problems += [_unknown(n, nodes, what, where) for n in query.expect.adjust if n not in spec.nodes]
    return problems
