"""From a stock-and-flow model to causal graphs: the time-unrolled DAG and the causal-loop structure.

This module is the one bridge between the two packages: it writes a model out
as a :class:`~causal.spec.CausalSpec`, so it alone in :mod:`stocks_flows`
imports :mod:`causal` (its spec type, nothing else).

A model with feedback is a cyclic graph, and causal identification needs an
acyclic one. Feedback takes time, though: a stock at ``t + 1`` depends on the
flows at ``t``, so writing each variable once per time step turns every loop
into a forward path through time (the usual *unrolling* of a dynamic system
into a dynamic Bayesian network; Dean & Kanazawa 1989; Pearl 2009, §1.4).
:func:`unroll` returns that DAG as a :class:`~causal.spec.CausalSpec`, so any
causal query (is the effect of sales at step 1 on the yield at step 3
identifiable?) can be asked of a dynamic model. The rules:

* each variable appears once per step ``t = 0 .. k-1``;
* a stock at ``t + 1`` depends on itself at ``t`` (it carries its value
  forward) and on its flows at ``t`` (they change it): ``x[t] -> S[t+1]``;
* a link through a smooth or a delay also crosses a step: ``x[t] -> y[t+1]``;
* every other link (an auxiliary or flow reading what it uses) stays within
  the step: ``x[t] -> y[t]``; the model has no algebraic loop, so this part
  is acyclic;
* link signs are the link polarities of :mod:`stocks_flows.loops` when known.

Node names of a causal spec are plain identifiers, so ``holdings[10y]`` at
step 3 becomes ``holdings_10y__t3`` with label ``holdings[10y] @ t3``.

:func:`causal_loop_structure` exports the causal-loop structure (the model
seen at the level of its named variables, with signed links, delay marks, cut
elements and the R/B loops) as plain data for diagrams.

References
----------
.. [1] Dean, T., & Kanazawa, K. (1989). A model for reasoning about persistence
   and causation. *Computational Intelligence* 5(2), 142-150.
.. [2] Pearl, J. (2009). *Causality* (2nd ed.). Cambridge University Press.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {stop: 5}
... constants: {k: 0.1}
... stocks: {s: {initial: 10}}
... flows: {drain: {from: s, equation: k * s}}
... ''')
>>> spec = unroll(model, steps=2)
>>> sorted(spec.nodes)
['drain__t0', 'drain__t1', 'k__t0', 'k__t1', 's__t0', 's__t1']
>>> sorted(e.key for e in spec.directed_edges() if e.cause.startswith("s__") or e.cause == "drain__t0")
['drain__t0 -> s__t1', 's__t0 -> drain__t0', 's__t0 -> s__t1', 's__t1 -> drain__t1']
>>> causal_loop_structure(model).to_dict()["loops"]
[{'id': 'B1', 'variables': ['s', 'drain'], 'polarity': 'B'}]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from causal.spec import CausalSpec
from stocks_flows.limits import MAX_UNROLL_NODES
from stocks_flows.loops import LoopReport, _subscript, find_loops, loop_graph
from tenor.core.errors import GraphError

if TYPE_CHECKING:
    import networkx as nx

    from stocks_flows.model import Model

__all__ = ["LoopStructure", "causal_loop_structure", "check_steps", "node_name", "unroll"]


def node_name(variable: str, step: int | None = None) -> str:
    """A causal-spec node name for ``variable`` (at ``step``): ``holdings[10y]`` -> ``holdings_10y__t3``.

    >>> node_name("holdings[10y]", 3), node_name("x"), node_name("a b[2,3]", 0)
    ('holdings_10y__t3', 'x', 'a_b_2_3__t0')
    """
    base = re.sub(r"[^A-Za-z0-9_]+", "_", variable).strip("_") or "v"
    if not re.match(r"[A-Za-z_]", base):
        base = "v_" + base
    return base if step is None else f"{base}__t{step}"


def check_steps(model: Model, steps: int) -> None:
    """Refuse an unrolling below one step or over :data:`~stocks_flows.limits.MAX_UNROLL_NODES` nodes."""
    if steps < 1:
        raise GraphError(f"steps must be at least 1, got {steps}", hint="unroll over one step or more")
    if steps * max(1, len(model.variables)) > MAX_UNROLL_NODES:
        raise GraphError(
            f"unrolling {len(model.variables)} variables over {steps:,} steps makes "
            f"{steps * len(model.variables):,} nodes; the limit is {MAX_UNROLL_NODES:,}",
            hint=f"unroll over at most {max(1, MAX_UNROLL_NODES // max(1, len(model.variables))):,} steps",
        )


def unroll(model: Model, steps: int, *, report: LoopReport | None = None) -> CausalSpec:
    """The model unrolled over ``steps`` time steps, as a causal spec (a DAG).

    Raises
    ------
    GraphError
        When ``steps`` is below 1, or two variables map to the same node name.
    """
    check_steps(model, steps)
    graph = model.dependency_graph()
    loop_graph(model)  # an algebraic loop is an error here as everywhere
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    for var in model.variables:
        n = node_name(var)
        if n in taken:
            raise GraphError(
                f"{var!r} and {taken[n]!r} both become node {n!r}",
                hint="rename one of the variables",
            )
        taken[n] = var
        names[var] = n
    signs = {k: link.polarity for k, link in report.links.items()} if report is not None else {}
    nodes: dict[str, Any] = {}
    edges: dict[str, Any] = {}
    for t in range(steps):
        for var, v in model.variables.items():
            nodes[f"{names[var]}__t{t}"] = {
                "label": f"{var} @ t{t}",
                "group": f"t{t}",
                "role": "state" if v.kind == "stock" else "variable",
            }
    for t in range(steps):
        for cause, effect, data in graph.edges(data=True):
            crosses = data.get("flow_to_stock") or data.get("delayed")
            target = t + 1 if crosses else t
            if target >= steps:
                continue
            attrs: dict[str, Any] = {}
            sign = signs.get((cause, effect))
            if sign in ("+", "-"):
                attrs["sign"] = sign
            edges[f"{names[cause]}__t{t} -> {names[effect]}__t{target}"] = attrs
        if t + 1 < steps:
            for stock in model.stocks:
                edges[f"{names[stock]}__t{t} -> {names[stock]}__t{t + 1}"] = {"sign": "+"}
    title = f"{model.name or 'model'} unrolled over {steps} steps"
    return CausalSpec.model_validate(
        {"name": node_name(model.name or "model"), "title": title, "nodes": nodes, "edges": edges}
    )


@dataclass(frozen=True)
class LoopStructure:
    """The causal-loop structure of a model, at the level of named (base) variables.

    ``links`` carry the polarity (``+``, ``-``, ``unknown``, or ``mixed`` when
    elements disagree), whether the link is delayed (a smooth or delay on it),
    and ``cut_elements``: elements where the link is cut, declared or because
    its gain is zero throughout the run while other elements are not.
    """

    variables: tuple[dict[str, str], ...]
    links: tuple[dict[str, Any], ...]
    loops: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "variables": [dict(v) for v in self.variables],
            "links": [dict(lk, cut_elements=list(lk["cut_elements"])) for lk in self.links],
            "loops": [dict(lp, variables=list(lp["variables"])) for lp in self.loops],
        }


def causal_loop_structure(model: Model, report: LoopReport | None = None) -> LoopStructure:
    """Variables with kind, signed links with delay and cut marks, and the loops with R/B."""
    if report is None:
        report = find_loops(model)
    graph = model.dependency_graph()
    base_of = {n: (v.base or n) for n, v in model.variables.items()}
    kinds: dict[str, str] = {}
    for n, v in model.variables.items():
        kinds.setdefault(base_of[n], v.kind)
    grouped: dict[tuple[str, str], list[tuple[str, str, Mapping[str, Any]]]] = {}
    for cause, effect, data in graph.edges(data=True):
        grouped.setdefault((base_of[cause], base_of[effect]), []).append((cause, effect, data))
    zero = _zero_gain_links(report)
    links = [
        _base_link(graph, report, zero, cause, effect, members, kinds.get(effect))
        for (cause, effect), members in grouped.items()
    ]
    loops = tuple({"id": lp.id, "variables": tuple(lp.variables), "polarity": lp.polarity} for lp in report.loops)
    variables = tuple({"name": name, "kind": kind} for name, kind in kinds.items())
    return LoopStructure(variables, tuple(links), loops, report.notes)


def _zero_gain_links(report: LoopReport) -> set[tuple[str, str]]:
    """Links of unknown polarity on a cycle whose loop gain is zero at its element while others are not."""
    zero: set[tuple[str, str]] = set()
    for lp in report.loops:
        if not lp.is_subscripted or not any(v != 0 for v in lp.gain.values()):
            continue
        for label, cycle in lp.cycles.items():
            if lp.gain.get(label) != 0.0:
                continue
            for i, c in enumerate(cycle):
                e = cycle[(i + 1) % len(cycle)]
                link = report.links.get((c, e))
                if link is not None and link.polarity == "unknown":
                    zero.add((c, e))
    return zero


def _base_link(
    graph: nx.DiGraph,
    report: LoopReport,
    zero: set[tuple[str, str]],
    cause: str,
    effect: str,
    members: list[tuple[str, str, Mapping[str, Any]]],
    effect_kind: str | None,
) -> dict[str, Any]:
    """One link between base variables: the polarity its elements agree on, delay and cut elements."""
    polarities = {report.links[(c, e)].polarity for c, e, _ in members if (c, e) in report.links}
    known = polarities - {"unknown"}
    polarity = known.pop() if len(known) == 1 else ("mixed" if len(known) > 1 else "unknown")
    if not polarities and effect_kind != "stock":
        polarity = "unknown"
    cut: list[str] = []
    for c, e, _ in members:
        declared = any(cutting.matches(graph, c, e) for cutting in report.cuts)
        if declared or (c, e) in zero:
            for part in _subscript(c) or _subscript(e):
                if part not in cut:
                    cut.append(part)
    return {
        "cause": cause,
        "effect": effect,
        "polarity": polarity,
        "delay": bool(any(d.get("delayed") for _, _, d in members)),
        "cut_elements": tuple(cut),
    }
