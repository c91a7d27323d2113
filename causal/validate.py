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

import networkx as nx

from causal.spec import _NAME_RE, CausalSpec, Role, parse_edge_key
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
    """Every reference and structure problem of ``spec``, in file order."""
    problems: list[Problem] = []
    nodes = list(spec.nodes)
    known = set(nodes)
    for name in nodes:
        if not _NAME_RE.match(name):
            problems.append(
                Problem(
                    ("nodes", name),
                    f"bad node name {name!r}",
                    "use letters, digits and _ (not starting with a digit), e.g. ust_30y",
                    at_key=True,
                )
            )

    directed: dict[tuple[str, str], str] = {}
    bidirected: dict[frozenset[str], str] = {}
    for key in spec.edges:
        path = ("edges", key)
        parsed = parse_edge_key(key)
        if parsed is None:
            problems.append(
                Problem(
                    path,
                    f"bad edge {key!r}",
                    "write 'cause -> effect' (or 'a <-> b' for a latent confounder)",
                    at_key=True,
                )
            )
            continue
        a, arrow, b = parsed
        bad = False
        for name in (a, b):
            if name not in known:
                problems.append(_unknown(name, nodes, f"in edge {key!r}", path, at_key=True))
                bad = True
        if bad:
            continue
        if a == b:
            problems.append(Problem(path, f"edge {key!r} links {a} to itself", "remove the self-loop", at_key=True))
            continue
        if arrow == "->":
            if (a, b) in directed:
                problems.append(
                    Problem(
                        path,
                        f"edge {a} -> {b} is given twice (also as {directed[(a, b)]!r})",
                        "keep one of the two",
                        at_key=True,
                    )
                )
            directed[(a, b)] = key
        else:
            pair = frozenset((a, b))
            if pair in bidirected:
                problems.append(
                    Problem(path, f"latent confounding {a} <-> {b} is given twice", "keep one of the two", at_key=True)
                )
            bidirected[pair] = key
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

    cycle = find_cycle(list(directed))
    if cycle:
        first = directed[(cycle[0], cycle[1])]
        problems.append(
            Problem(
                ("edges", first),
                "directed cycle: " + " -> ".join(cycle),
                "a causal graph must be acyclic: remove or reverse one of these edges "
                "(feedback loops belong in a stock-and-flow model)",
                at_key=True,
            )
        )

    channel_names = list(spec.channels)
    for name, channel in spec.channels.items():
        path = ("channels", name, "path")
        steps_ok = True
        for node in channel.path:
            if node not in known:
                problems.append(_unknown(node, nodes, f"in channel {name!r}", path))
                steps_ok = False
        if not steps_ok:
            continue
        for a, b in zip(channel.path, channel.path[1:], strict=False):
            if (a, b) not in directed:
                hint = (
                    f"the graph has {b} -> {a}; reverse the channel"
                    if (b, a) in directed
                    else f"add an edge '{a} -> {b}' or fix the path"
                )
                problems.append(Problem(path, f"channel {name!r} is not a path of the graph: no edge {a} -> {b}", hint))
        if len(set(channel.path)) != len(channel.path):
            problems.append(Problem(path, f"channel {name!r} visits a node twice", "a channel is a simple path"))

    latent = {n for n, node in spec.nodes.items() if node.role is Role.latent}
    for i, claim in enumerate(spec.claims):
        kind = claim.kind
        path = ("claims", i, kind)
        if kind == "distinct":
            for ch in claim.distinct or []:
                if ch not in spec.channels:
                    problems.append(_unknown(ch, channel_names, "in claim", path, kind="channel"))
        elif kind in ("separated", "connected"):
            sep = getattr(claim, kind)
            for field in ("x", "y", "given"):
                for node in getattr(sep, field):
                    if node not in known:
                        problems.append(_unknown(node, nodes, "in claim", (*path, field)))
            for node in sep.given:
                if node in latent:
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
                    Problem(
                        path, f"x, y and given overlap in {sorted(overlap)}", "each node may appear in one set only"
                    )
                )
        elif kind == "sign":
            if claim.sign and claim.sign.channel not in spec.channels:
                problems.append(_unknown(claim.sign.channel, channel_names, "in claim", (*path, "channel"), "channel"))
        else:
            order = getattr(claim, kind)
            for field in ("channel", "than"):
                ch = getattr(order, field)
                if ch not in spec.channels:
                    problems.append(_unknown(ch, channel_names, "in claim", (*path, field), "channel"))

    for name, query in spec.queries.items():
        for field in ("treatment", "outcome"):
            for node in getattr(query, field):
                if node not in known:
                    problems.append(_unknown(node, nodes, f"in query {name!r}", ("queries", name, field)))
        both = set(query.treatment) & set(query.outcome)
        if both:
            problems.append(
                Problem(("queries", name), f"{sorted(both)} is both treatment and outcome", "pick different nodes")
            )
        if query.expect and query.expect.adjust:
            for node in query.expect.adjust:
                if node not in known:
                    problems.append(_unknown(node, nodes, f"in query {name!r}", ("queries", name, "expect", "adjust")))
    return problems
