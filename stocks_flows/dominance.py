"""Loop dominance over a run: Loops That Matter (LTM) link scores, loop scores and dominant loops.

Which feedback loop drives the behaviour at a given time? The *Loops That
Matter* method (Schoenberg, Davidsen & Eberlein 2020) answers with numbers
computed from one ordinary run, at every time step:

*Link score* of ``x -> z`` where ``z = f(x, y, ...)``, over the step from
``t - dt`` to ``t``::

    LS(x -> z) = |Δx z / Δz| * sign(Δx z / Δx)        (0 when Δz = 0 or Δx = 0)

where ``Δz`` is the change of z over the step and ``Δx z`` the part of it due
to x alone: ``f`` evaluated with x at ``t`` and every other input at ``t - dt``,
minus z at ``t - dt`` (ceteris paribus). The magnitude says how much of z's
change x caused; the sign is the link's polarity.

*Flow-to-stock link score*, as revised by Schoenberg, Hayward & Eberlein
(2023) so that splitting or merging flows does not change the result::

    LS(inflow -> S)  = +|Δinflow  / (ΔS_t - ΔS_{t-dt})|
    LS(outflow -> S) = -|Δoutflow / (ΔS_t - ΔS_{t-dt})|

the change of the flow over the change of the stock's net flow (its
acceleration). Here it is computed as the link score of the flow into the
stock's net flow ``inflows - outflows``, which is the same quantity.

*Loop score*: the product of the link scores around the loop. *Relative loop
score*: the loop score divided by the sum of the absolute loop scores of all
loops in the same *partition*, the group of stocks linked to each other by
loops (stocks not linked by any loop are analysed separately). It lies in
[-1, 1]; positive for reinforcing loops, negative for balancing ones.

*Dominance*: at each time, within each partition, the dominant loops are the
fewest loops of the same polarity whose absolute relative scores add up to at
least one half (a loop explaining at least 50% of the change is dominant
alone); when both polarities could, the set explaining more wins. Times with
the same dominant set form a *period*.

The link scores are computed by :func:`stocks_flows.links.link_scores` (shared
with the strongest-path search of :mod:`stocks_flows.loops`) and re-exported here.

Scores are labelled with the end of their step: the value at ``t`` describes
the step from ``t - dt`` to ``t``, and the first time has no score (0). Runs
made here save every ``dt``. Smooths and delays are read as in
:mod:`stocks_flows.loops` (replaced by their input).

Logistic growth as a check. With ``births = r * P * room`` and
``room = 1 - P / K``, the reinforcing loop ``P -> births -> P`` and the
balancing loop ``P -> room -> births -> P`` have link scores whose ratio gives
relative scores ``1 - P/K`` (R) and ``-P/K`` (B) in continuous time, so
dominance passes from R to B when ``P = K/2``, the inflection point.

References
----------
.. [1] Schoenberg, W., Davidsen, P., & Eberlein, R. (2020). Understanding model
   behavior using the Loops that Matter method. *System Dynamics Review*
   36(2), 158-190.
.. [2] Schoenberg, W., Hayward, J., & Eberlein, R. (2023). Improving Loops that
   Matter. *System Dynamics Review* 39(2), 140-151.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {stop: 8, dt: 0.125}
... constants: {r: 1, K: 100}
... stocks: {P: {initial: 1}}
... flows: {births: {to: P, equation: r * P * room}}
... auxiliaries: {room: {equation: 1 - P / K}}
... ''')
>>> result = loop_dominance(model)
>>> [(p["start"], p["loops"]) for p in result.to_dict()["periods"]]
[(0.125, ['R1']), (5.0, ['B1'])]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from stocks_flows.links import link_scores, loop_graph
from stocks_flows.loops import LoopReport, find_loops
from stocks_flows.time_axis import require_fixed

if TYPE_CHECKING:
    import networkx as nx

    from stocks_flows.engine import Run
    from stocks_flows.model import Model

__all__ = [
    "Dominance",
    "dominant_loops",
    "link_scores",
    "loop_dominance",
    "loop_partitions",
    "loop_scores",
    "relative_loop_scores",
]


@dataclass(frozen=True)
class Dominance:
    """Loop scores over a run: raw, relative (within partitions), and the dominant loops per period."""

    time: np.ndarray
    scores: Mapping[str, np.ndarray]
    relative: Mapping[str, np.ndarray]
    partitions: tuple[tuple[str, ...], ...]
    periods: tuple[dict[str, Any], ...]
    cycles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def dominant_at(self, time: float) -> list[str]:
        """The dominant loops in the period that holds ``time``."""
        for p in self.periods:
            if p["start"] <= time <= p["end"]:
                return list(p["loops"])
        return []

    def loop_totals(self) -> dict[str, np.ndarray]:
        """Relative scores by loop id: a loop reported per element sums its elements' scores."""
        out: dict[str, np.ndarray] = {}
        for k, v in self.relative.items():
            base = k.split("[", 1)[0]
            if base != k:
                out[base] = out.get(base, 0.0) + v
        return out

    def to_dict(self) -> dict[str, Any]:
        """``scores`` holds every loop id (summed over elements) and every ``id[element]``."""
        scores = {**self.loop_totals(), **self.relative}
        return {
            "time": [float(t) for t in self.time],
            "scores": {k: [_num(x) for x in v] for k, v in scores.items()},
            "periods": [dict(p, loops=list(p["loops"])) for p in self.periods],
            "partitions": [list(p) for p in self.partitions],
        }


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _cycle_id(loop_id: str, label: str) -> str:
    return f"{loop_id}[{label}]" if label else loop_id


def loop_scores(
    report: LoopReport, scores: Mapping[tuple[str, str], np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, ...]]]:
    """Loop score (product of link scores) of every scalar cycle of the report, and the cycles by id.

    A loop reported per element gives one score per element, with id ``R1[10y]``.
    """
    out: dict[str, np.ndarray] = {}
    cycles: dict[str, tuple[str, ...]] = {}
    for lp in report.loops:
        for label, cycle in lp.cycles.items():
            edges = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
            n = len(next(iter(scores.values())))
            value = np.ones(n)
            for e in edges:
                value = value * scores[e]
            out[_cycle_id(lp.id, label)] = value
            cycles[_cycle_id(lp.id, label)] = cycle
    return out, cycles


def loop_partitions(cycles: Mapping[str, Sequence[str]], graph: nx.DiGraph) -> list[tuple[str, ...]]:
    """Group loop ids by the strongly connected part of ``graph`` they run in: the partitions of LTM.

    Stocks that feed back on each other through any chain of loops share a
    partition; loops in separate parts of the model are normalised separately.

    >>> import networkx as nx
    >>> g = nx.DiGraph([("S", "f"), ("f", "S"), ("f", "T"), ("T", "f"), ("U", "u"), ("u", "U")])
    >>> loop_partitions({"a": ["S", "f"], "b": ["T", "f"], "c": ["U", "u"]}, g)
    [('a', 'b'), ('c',)]
    """
    import networkx as nx

    component: dict[str, int] = {}
    for i, nodes in enumerate(nx.strongly_connected_components(graph)):
        for node in nodes:
            component[node] = i
    groups: dict[int, list[str]] = {}
    for loop_id, cycle in cycles.items():
        groups.setdefault(component.get(cycle[0], -1 - len(groups)), []).append(loop_id)
    return [tuple(g) for g in groups.values()]


def relative_loop_scores(
    scores: Mapping[str, np.ndarray], partitions: Sequence[Sequence[str]]
) -> dict[str, np.ndarray]:
    """Each loop score over the sum of absolute loop scores in its partition (0 where that sum is 0)."""
    out: dict[str, np.ndarray] = {}
    for group in partitions:
        total = np.sum([np.abs(scores[k]) for k in group], axis=0)
        for k in group:
            with np.errstate(all="ignore"):
                rel = np.where(total > 0, scores[k] / np.where(total > 0, total, 1.0), 0.0)
            out[k] = rel
    return out


def dominant_loops(
    time: np.ndarray,
    relative: Mapping[str, np.ndarray],
    partitions: Sequence[Sequence[str]],
    threshold: float = 0.5,
) -> list[dict[str, Any]]:
    """Periods of constant dominance: ``{"start", "end", "loops"}``.

    At each time, in each partition, the dominant loops are the fewest loops
    of one polarity (by the sign of their relative score; largest first) that
    together explain at least ``threshold`` of the change; of the reinforcing
    and the balancing candidate sets, the one explaining more wins. Times
    where no loop is active are skipped.
    """
    periods: list[dict[str, Any]] = []
    matrices = [(list(group), np.array([relative[k] for k in group], dtype=float)) for group in partitions]
    for i, t in enumerate(time):
        chosen: list[str] = []
        for ids, matrix in matrices:
            column = matrix[:, i]
            best: tuple[float, list[str]] = (0.0, [])
            for sign in (1.0, -1.0):
                members = np.flatnonzero(np.sign(column) == sign)
                if len(members) == 0:
                    continue
                # largest first; ties by id so the choice does not depend on input order
                order = sorted(members, key=lambda j: (-abs(column[j]), ids[j]))
                totals = np.cumsum(np.abs(column[order]))
                reach = np.flatnonzero(totals >= threshold)
                count = int(reach[0]) + 1 if len(reach) else len(order)
                if totals[count - 1] > best[0]:
                    best = (float(totals[count - 1]), [ids[j] for j in order[:count]])
            chosen.extend(best[1])
        if not chosen:
            continue
        chosen_t = tuple(sorted(chosen))
        if periods and periods[-1]["loops"] == chosen_t and periods[-1]["_last"] == i - 1:
            periods[-1]["end"] = float(t)
            periods[-1]["_last"] = i
        else:
            periods.append({"start": float(t), "end": float(t), "loops": chosen_t, "_last": i})
    for p in periods:
        del p["_last"]
    return periods


def loop_dominance(
    model: Model,
    run: Run | None = None,
    report: LoopReport | None = None,
    *,
    threshold: float = 0.5,
) -> Dominance:
    """Loops That Matter over a run of ``model`` (made here, saving every ``dt``, when not given)."""
    from stocks_flows._partials import run_for_analysis

    require_fixed(model.time_equations, "loop dominance (scores at every time step)")
    if run is None:
        run = run_for_analysis(model, every_step=True)
    if report is None:
        report = find_loops(model, run)
    graph = loop_graph(model)
    scores = link_scores(model, run, graph)
    for cut in report.cuts:
        for c, e in list(scores):
            if cut.matches(graph, c, e):
                scores[(c, e)] = np.zeros_like(scores[(c, e)])
    raw, cycles = loop_scores(report, scores)
    partitions = loop_partitions(cycles, graph)
    relative = relative_loop_scores(raw, partitions)
    periods = dominant_loops(run.time, relative, partitions, threshold)
    return Dominance(
        time=np.asarray(run.time),
        scores=raw,
        relative=relative,
        partitions=tuple(tuple(p) for p in partitions),
        periods=tuple(periods),
        cycles=cycles,
    )
