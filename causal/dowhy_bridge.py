"""The DoWhy estimand bridge: DoWhy's own identification of a query, under a time limit.

DoWhy (Sharma & Kiciman 2020) identifies effects by the back-door, the
front door and instruments. :func:`dowhy_identify` hands it the graph as a
plain DAG with each latent confounder an unobserved node
(:func:`dowhy_graph`), runs it in a worker thread that may not exceed its
time limit (:func:`run_with_time_limit`), and reads back the sets it found
(:class:`DoWhyAnswer`), for cross-checks and benchmarks. DoWhy is imported
only when asked for.

Examples
--------
>>> from causal.graph import from_edges
>>> dag, observed = dowhy_graph(from_edges([("x", "y")], bidirected=[("x", "y")]))
>>> sorted(dag.edges()), observed
([('U_x_y', 'x'), ('U_x_y', 'y'), ('x', 'y')], ['x', 'y'])

References
----------
Sharma, A. & Kiciman, E. (2020). DoWhy: an end-to-end library for causal
inference. arXiv:2011.04216.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import networkx as nx

from causal.graph import CausalGraph
from causal.query import check_query

__all__ = ["DoWhyAnswer", "dowhy_graph", "dowhy_identify", "run_with_time_limit"]

T = TypeVar("T")


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
