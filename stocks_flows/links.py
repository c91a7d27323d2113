"""The links feedback runs along: the loop graph of a model and the Loops That Matter link scores.

Loop enumeration (:mod:`stocks_flows.loops`) and loop dominance
(:mod:`stocks_flows.dominance`) both read the model as its *loop graph*, the
variable dependency graph without constants (a constant is on no loop), and
both use the *link score* of Schoenberg, Davidsen & Eberlein (2020): loops to
find the strong loops of a model with too many to enumerate, dominance to score
every loop. Both pieces live here, below the two modules that use them.

*Link score* of ``x -> z`` where ``z = f(x, y, ...)``, over the step from
``t - dt`` to ``t``::

    LS(x -> z) = |Δx z / Δz| * sign(Δx z / Δx)        (0 when Δz = 0 or Δx = 0)

``Δz`` is the change of z over the step and ``Δx z`` the part of it due to x
alone (``f`` with x at ``t`` and every other input at ``t - dt``, minus z at
``t - dt``).

References
----------
.. [1] Schoenberg, W., Davidsen, P., & Eberlein, R. (2020). Understanding model
   behavior using the Loops that Matter method. *System Dynamics Review*
   36(2), 158-190.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {stop: 2}
... constants: {k: 0.5}
... stocks: {s: {initial: 8}}
... flows: {f: {from: s, equation: k * s}}
... ''')
>>> sorted(loop_graph(model).edges)
[('f', 's'), ('s', 'f')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from stocks_flows.model import evaluation_order

if TYPE_CHECKING:
    import networkx as nx

    from stocks_flows.engine import Run
    from stocks_flows.model import Model

__all__ = ["link_scores", "loop_graph"]


def loop_graph(model: Model) -> nx.DiGraph:
    """The dependency graph without constants (a constant is on no loop).

    Raises
    ------
    SpecError
        For an algebraic loop, naming the cycle (checked again here because a
        model read from XMILE or Vensim may carry its own order).
    """
    evaluation_order(model.variables)
    graph = model.dependency_graph()
    graph.remove_nodes_from([n for n, v in model.variables.items() if v.kind == "constant"])
    return graph


def link_scores(
    model: Model, run: Run, graph: nx.DiGraph | None = None, scenario: int = 0
) -> dict[tuple[str, str], np.ndarray]:
    """The LTM link score of every link of the loop graph at every saved time of ``run``.

    The value at index i describes the step from ``time[i-1]`` to ``time[i]``;
    index 0 is 0.
    """
    from stocks_flows._partials import Evaluator

    graph = loop_graph(model) if graph is None else graph
    evaluator = Evaluator(model, run)
    env = evaluator.env(run, scenario)
    n = len(run.time)
    prev = {k: (v[:-1] if isinstance(v, np.ndarray) and v.shape == (n,) else v) for k, v in env.items()}
    cur = {k: (v[1:] if isinstance(v, np.ndarray) and v.shape == (n,) else v) for k, v in env.items()}
    prev["__n__"] = cur["__n__"] = n - 1
    out: dict[tuple[str, str], np.ndarray] = {}
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with np.errstate(all="ignore"):
        for cause, effect in graph.edges:
            if effect not in cache:
                cache[effect] = (evaluator.value(effect, prev), evaluator.value(effect, cur))
            z_prev, z_cur = cache[effect]
            mixed = dict(prev)
            mixed[cause] = cur[cause]
            dz = z_cur - z_prev
            dzx = evaluator.value(effect, mixed) - z_prev
            dx = np.asarray(cur[cause]) - np.asarray(prev[cause])
            score = np.abs(dzx / dz) * np.sign(dzx / dx)
            score = np.where((dz == 0) | (dx == 0) | ~np.isfinite(score), 0.0, score)
            out[(cause, effect)] = np.concatenate([[0.0], score])
    return out
