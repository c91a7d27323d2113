"""Hypothesis strategies shared by the tests: random DAGs and mixed graphs.

A DAG is drawn as an order of nodes plus edges that only point forward in that
order, so every draw is acyclic by construction.
"""

from __future__ import annotations

from hypothesis import strategies as st

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
