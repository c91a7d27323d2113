"""Hypothesis strategies shared by the tests: random DAGs and mixed graphs.

A DAG is drawn as an order of nodes plus edges that only point forward in that
order, so every draw is acyclic by construction.
"""

from __future__ import annotations

from hypothesis import strategies as st

from causal.graph import CausalGraph, from_edges
from causal.spec import CausalSpec

NAMES = [f"v{i}" for i in range(12)]


@st.composite
def dags(draw, min_nodes: int = 2, max_nodes: int = 8, bidirected: bool = True, gains: bool = True):
    """A random :class:`CausalSpec` over ``v0..vn``; edges point forward in a random order."""
    n = draw(st.integers(min_nodes, max_nodes))
    order = draw(st.permutations(NAMES[:n]))
    edges: dict[str, dict] = {}
    for i in range(n):
        for j in range(i + 1, n):
            if draw(st.booleans()) and draw(st.booleans()):
                attrs: dict = {}
                if gains:
                    attrs["gain"] = draw(st.floats(-2, 2, allow_nan=False).filter(lambda g: abs(g) > 1e-3))
                edges[f"{order[i]} -> {order[j]}"] = attrs
    if bidirected:
        for i in range(n):
            for j in range(i + 1, n):
                if draw(st.integers(0, 9)) == 0:
                    a, b = sorted((order[i], order[j]))
                    edges[f"{a} <-> {b}"] = {}
    return CausalSpec.model_validate({"nodes": {name: {} for name in NAMES[:n]}, "edges": edges})


@st.composite
def mixed_graphs(
    draw,
    min_nodes: int = 3,
    max_nodes: int = 8,
    latent: bool = True,
    bidirected: bool = True,
    gains: bool = False,
):
    """A random acyclic graph, possibly with latent nodes and bidirected edges, and a query on it.

    Returns ``(graph, treatment, outcome)`` with distinct observed treatment and outcome.
    """
    n = draw(st.integers(min_nodes, max_nodes))
    nodes = [f"v{i}" for i in range(n)]
    edges = [
        (nodes[i], nodes[j])
        for i in range(n)
        for j in range(i + 1, n)
        if draw(st.booleans()) and draw(st.integers(0, 2)) == 0
    ]
    hidden = draw(st.lists(st.sampled_from(nodes), max_size=2, unique=True)) if latent else []
    bi = []
    if bidirected:
        pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :] if a not in hidden and b not in hidden]
        bi = draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True)) if pairs else []
    observed = [v for v in nodes if v not in hidden]
    if len(observed) < 2:
        hidden = []
        observed = nodes
    x = draw(st.sampled_from(observed))
    y = draw(st.sampled_from([v for v in observed if v != x]))
    g_edges = {e: draw(st.sampled_from([-1.0, -0.6, 0.4, 0.8, 1.2])) for e in edges} if gains else None
    graph = from_edges(edges, bidirected=bi, latent=hidden, gains=g_edges)
    for v in nodes:  # isolated nodes
        if v not in graph.directed:
            graph.directed.add_node(v, observed=v not in hidden, label=v, role="variable")
            graph.bidirected.add_node(v)
    return graph, x, y


def observed_nodes(graph: CausalGraph) -> list[str]:
    return sorted(graph.observed)
