"""A causal query, ``P(y | do(x))``: checked against a graph, and written out.

A query names the treatments ``X`` whose effect is asked for and the outcomes
``Y`` it is asked on. :func:`check_query` refuses what no identification
can answer (unknown or latent nodes, a node on both sides, a cyclic graph),
each with a hint; :func:`query_text` and :func:`node_set` are how the
answers write a query and a set of nodes.

Examples
--------
>>> from causal.graph import from_edges
>>> check_query(from_edges([("x", "y")]), "x", ["y"])
(['x'], ['y'])
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from causal.graph import CausalGraph
from tenor.core.errors import GraphError

__all__ = ["check_query", "node_set", "query_text"]


def node_set(nodes: Iterable[str]) -> str:
    """A set of nodes as text, in name order.

    >>> node_set(["z", "a"])
    '{a, z}'
    """
    return "{" + ", ".join(sorted(nodes)) + "}"


def query_text(y: Iterable[str], x: Iterable[str]) -> str:
    """The query ``P(y | do(x))`` as text.

    >>> query_text(["y"], ["x", "w"])
    'P(y | do(w, x))'
    """
    return f"P({', '.join(sorted(y))} | do({', '.join(sorted(x))}))"


def check_query(graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str]) -> tuple[list[str], list[str]]:
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
            raise GraphError(f"{v!r} is latent (unobserved)", hint="treatments and outcomes must be observed nodes")
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError(
            "the graph has a directed cycle: " + " -> ".join([*cycle, cycle[0]]),
            hint="identification needs an acyclic graph; break the loop "
            "(a feedback loop belongs in a stock-and-flow model)",
        )
    return xs, ys
