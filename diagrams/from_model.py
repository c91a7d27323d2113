"""The drawable structures of a stock-and-flow model: causal loops and stocks and flows.

A :class:`~stocks_flows.model.Model` (from a tenor spec, XMILE or Vensim) is
drawn at the level of its named variables: ``holdings[bills]`` ...
``holdings[30y]`` are one box, ``holdings``. :func:`causal_loop_structure`
takes the signed links, delays, loops (R/B) and the elements where a link is
cut from loop analysis (:mod:`stocks_flows.loops`); :func:`stock_flow_structure`
takes the stocks, the flows between them (a cloud where a flow leaves or
enters the model) and the information links.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {stop: 10}
... constants: {k: 0.1}
... stocks: {s: {initial: 100}}
... flows: {decay: {from: s, equation: k * s}}
... ''')
>>> sf = stock_flow_structure(model)
>>> [(f.name, f.source, f.target) for f in sf.flows]
[('decay', 's', None)]
>>> [(loop.id, loop.polarity) for loop in causal_loop_structure(model).loops]
[('B1', 'B')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from diagrams.structures import (
    Auxiliary,
    CausalLoopStructure,
    Flow,
    InformationLink,
    Link,
    Loop,
    Stock,
    StockFlowStructure,
    Variable,
)
from stocks_flows.unroll import causal_loop_structure as loop_structure

__all__ = ["causal_loop_structure", "stock_flow_structure"]

_KIND = {"stock": "stock", "flow": "flow", "auxiliary": "auxiliary", "constant": "constant"}


def _bases(model: Any) -> dict[str, Any]:
    """The first scalar variable of each named (base) variable."""
    out: dict[str, Any] = {}
    for name, var in model.variables.items():
        out.setdefault(var.base or name, var)
    return out


def _label(var: Any, base: str) -> str:
    return base.replace("_", " ")


def causal_loop_structure(
    model: Any,
    report: Any = None,
    *,
    dimension: str | None = None,
    around: Iterable[str] | None = None,
    constants: bool = False,
    unknown_loops: bool = True,
) -> CausalLoopStructure:
    """Signed links, delays, loops and cut links of ``model``, from its loop analysis.

    ``around`` keeps only the loops through those variables (and what they
    pass through), for a diagram that teaches one mechanism; ``constants``
    keeps the parameters and their links (off by default: they carry no
    feedback); ``unknown_loops=False`` drops loops whose polarity could not
    be established.
    """
    data = loop_structure(model, report)
    bases = _bases(model)
    seen: set[tuple[str, ...]] = set()
    loops = []
    for loop in data.loops:
        key = tuple(loop["variables"])
        if key in seen:
            continue
        seen.add(key)
        polarity = loop["polarity"] if loop["polarity"] in ("R", "B") else "unknown"
        loops.append(Loop(loop["id"], key, polarity))
    if not unknown_loops:
        loops = [loop for loop in loops if loop.polarity in ("R", "B")]
    keep: set[str] | None = None
    if around is not None:
        focus = set(around)
        loops = [loop for loop in loops if focus & set(loop.variables)]
        keep = {v for loop in loops for v in loop.variables}
    loop_links = {pair for loop in loops for pair in loop.links()}
    variables = [
        Variable(v["name"], _KIND.get(v["kind"], "auxiliary"), _label(bases.get(v["name"]), v["name"]))
        for v in data.variables
        if (keep is None or v["name"] in keep) and (constants or v["kind"] != "constant")
    ]
    names = {v.name for v in variables}
    links = []
    for link in data.links:
        if link["cause"] not in names or link["effect"] not in names:
            continue
        if keep is not None and (link["cause"], link["effect"]) not in loop_links:
            continue
        polarity = link["polarity"] if link["polarity"] in ("+", "-") else "?"
        links.append(Link(link["cause"], link["effect"], polarity, bool(link["delay"]), tuple(link["cut_elements"])))
    if dimension is None and model.dimensions:
        dimension = next(iter(model.dimensions))
    return CausalLoopStructure(tuple(variables), tuple(links), tuple(loops), dimension=dimension)


def stock_flow_structure(model: Any) -> StockFlowStructure:
    """Stocks, flows (with clouds), auxiliaries and information links of ``model``."""
    bases = _bases(model)
    stocks = [Stock(b, _label(v, b)) for b, v in bases.items() if v.kind == "stock"]
    base_of = {n: (v.base or n) for n, v in model.variables.items()}
    source: dict[str, str | None] = {}
    target: dict[str, str | None] = {}
    for name, var in model.variables.items():
        if var.kind != "stock":
            continue
        for flow in var.outflows:
            source[base_of[flow]] = base_of[name]
        for flow in var.inflows:
            target[base_of[flow]] = base_of[name]
    flows = [Flow(b, source.get(b), target.get(b), _label(v, b)) for b, v in bases.items() if v.kind == "flow"]
    auxiliaries = [
        Auxiliary(b, _label(v, b), constant=v.kind == "constant")
        for b, v in bases.items()
        if v.kind in ("auxiliary", "constant")
    ]
    links: dict[tuple[str, str], None] = {}
    graph = model.dependency_graph()
    for cause, effect, data in graph.edges(data=True):
        if data.get("flow_to_stock"):
            continue
        a, b = base_of.get(cause, cause), base_of.get(effect, effect)
        if a != b and a in bases and b in bases:
            links[(a, b)] = None
    info = [InformationLink(a, b) for a, b in links]
    return StockFlowStructure(tuple(stocks), tuple(flows), tuple(auxiliaries), tuple(info))
