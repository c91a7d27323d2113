"""Feedback loops of a stock-and-flow model: enumeration, polarity, loop gain per element, cuts.

A *feedback loop* is a closed path of causal links in the variable dependency
graph (:meth:`~stocks_flows.model.Model.dependency_graph`, edges cause ->
effect), for instance ``population -> births -> population``. Every loop runs
through at least one stock: a cycle of auxiliaries and flows alone would be an
*algebraic loop*, simultaneous equations with no integration between them, and
building the model already fails on one, naming the cycle.

Link polarity
-------------
A link ``x -> z`` is *positive* (+) when, all else equal, a rise in x raises z
(``dz/dx > 0``) and *negative* (-) when it lowers it (Richardson 1995). The
link from a flow to its stock is + for an inflow and - for an outflow. The
polarity of each link is found, in this order:

1. *declared*: a sign written in the spec (``signs: {cause: "-"}`` on a flow or
   auxiliary), for links whose equation hides the direction (a lookup, say);
2. *symbolic*: the partial derivative of the equation, taken with sympy after
   substituting the constants; when it is a number, its sign is the polarity;
3. *numeric*: the partial derivative by central differences at every saved
   time of a run. A link whose derivative changes sign during the run is
   flagged ``changes`` and takes the sign at the operating point ``at`` when
   one is given, else the sign it has most of the run;
4. else ``"unknown"`` (for instance a link whose derivative is zero throughout).

The polarity of a loop is the product of its link signs: *reinforcing* (R)
with an even number of negative links, *balancing* (B) with an odd number,
``"unknown"`` when any link is unknown.

Loop gain
---------
The *gain* of a link is the partial derivative ``dz/dx`` at an operating point
(Richardson 1995; Kampmann 2012). For the integration link from a flow to its
stock the gain is taken as +1 (inflow) or -1 (outflow): the flow's share of the
stock's net rate ``dS/dt``. The integrator itself (``1/s`` in Laplace terms)
is left out, as in Kampmann's loop gain, so the gain of a loop through n
stocks is the product of the Jacobian entries along it and has units of
``1/time^n``; for a one-stock loop it is the loop's contribution to
``d(dS/dt)/dS``, positive for growth and negative for goal seeking. Smooths and
delays count with their steady-state gain of one.

The gain is computed at every saved time of a run (exactly from the symbolic
derivative where there is one, else by central differences); :attr:`Loop.gain` is the
value at the time ``at`` when it is given, else the mean over the run (a loop
that is switched on only part of the time still shows). It is always a mapping
from element label to gain; a loop through scalar variables only has the one
label ``""`` (``loop.gain[""]``), and its JSON (:meth:`Loop.to_dict`) writes
that gain as a plain number.

Loops through dimensioned variables
-----------------------------------
Dimensions are expanded to one scalar variable per element (``sales[10y]``),
so a loop through ``sales`` is one scalar cycle per element. Cycles that visit
the same variables in the same order are grouped into one :class:`Loop`, and
its gain is reported per element: a gain of about zero at an element says the
loop is *cut* there (for example Treasury sales at the bills tenor do not move
the long-end yield). A cut can also be *declared*: :class:`Cut` sets the gain of
a link to zero at chosen elements, and :attr:`LoopReport.opened` says which
loops each cut opens.

Many loops
----------
Large models have astronomically many cycles. :func:`find_loops` enumerates
them with :func:`networkx.simple_cycles` up to ``length_bound`` links and stops
at ``max_loops``; when it stops early the report says ``capped`` and adds the
loops found by the strongest-path search of Eberlein & Schoenberg (2020): from
each stock, follow links in decreasing order of link score (Loops That Matter)
and keep only paths stronger than any earlier path to the same variable.

References
----------
.. [1] Richardson, G. P. (1995). Loop polarity, loop dominance, and the concept
   of dominant polarity. *System Dynamics Review* 11(1), 67-88.
.. [2] Kampmann, C. E. (2012). Feedback loop gains and system behavior.
   *System Dynamics Review* 28(4), 370-395.
.. [3] Eberlein, R. L., & Schoenberg, W. (2020). Finding the loops that matter.
   International System Dynamics Conference.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {stop: 10, dt: 0.25}
... constants: {r: 0.5, K: 100}
... stocks: {P: {initial: 5}}
... flows: {births: {to: P, equation: r * P * room}}
... auxiliaries: {room: {equation: 1 - P / K}}
... ''')
>>> report = find_loops(model)
>>> [(lp.id, lp.variables, lp.polarity) for lp in report.loops]
[('R1', ('P', 'births'), 'R'), ('B1', ('P', 'room', 'births'), 'B')]
>>> report.links[("P", "room")].polarity, report.links[("P", "room")].method
('-', 'symbolic')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from stocks_flows.engine import NonFiniteError
from stocks_flows.links import link_scores, loop_graph
from tenor.core.errors import GraphError, SimulationError, TenorError
from tenor.core.specfile import did_you_mean

if TYPE_CHECKING:
    import networkx as nx

    from stocks_flows.engine import Run
    from stocks_flows.model import Model
    from stocks_flows.spec import ModelSpec

__all__ = [
    "ZERO_GAIN",
    "Cut",
    "Link",
    "Loop",
    "LoopReport",
    "cut_graph",
    "cuts_from_spec",
    "feedback_loops",
    "find_loops",
    "link_gains",
    "link_polarities",
    "loop_graph",
    "loop_polarity",
    "strongest_path_loops",
]

ZERO_GAIN = 1e-9
"""A loop gain whose magnitude is below this (relative to the largest element's) counts as zero."""


@dataclass(frozen=True)
class Link:
    """One causal link between scalar variables, with its polarity and how it was found."""

    cause: str
    effect: str
    polarity: str = "unknown"
    method: str = "unknown"
    changes: bool = False
    flow_to_stock: bool = False
    delayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "effect": self.effect,
            "polarity": self.polarity,
            "method": self.method,
            "changes": self.changes,
            "flow_to_stock": self.flow_to_stock,
            "delayed": self.delayed,
        }


@dataclass(frozen=True)
class Cut:
    """A link whose gain is set to zero, at chosen elements (all elements when ``elements`` is empty).

    ``cause`` and ``effect`` are variable names as in the model: a base name
    (``sales``) matches all its elements, a scalar name (``sales[bills]``) one.
    The elements are matched against the subscript of the cause, else of the
    effect.

    >>> Cut("sales", "long_yield", ("bills",)).label
    'sales -> long_yield [bills]'
    """

    cause: str
    effect: str
    elements: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        where = f" [{', '.join(self.elements)}]" if self.elements else ""
        return f"{self.cause} -> {self.effect}{where}"

    def matches(self, graph: nx.DiGraph, cause: str, effect: str) -> bool:
        """Whether the scalar link ``cause -> effect`` of ``graph`` is cut."""
        c_base = graph.nodes[cause].get("base", cause)
        e_base = graph.nodes[effect].get("base", effect)
        if self.cause not in (cause, c_base) or self.effect not in (effect, e_base):
            return False
        if not self.elements:
            return True
        wanted = set(self.elements)
        for name in (cause, effect):
            if set(_subscript(name)) & wanted:
                return True
        return False


@dataclass(frozen=True)
class Loop:
    """A feedback loop, grouped over the elements of the dimensions it runs through.

    ``variables`` are base names in causal order starting at a stock (scalar
    names for a loop through scalar variables only); ``cycles`` maps an
    element label (``"10y"``; ``""`` for a scalar loop) to the scalar cycle.
    ``gain`` maps the same labels to the loop gain: one key per element, or
    the one key ``""`` for a scalar loop (``loop.gain[""]``).
    """

    id: str
    variables: tuple[str, ...]
    polarity: str
    link_polarities: tuple[str, ...]
    cycles: Mapping[str, tuple[str, ...]]
    gain: Mapping[str, float]
    gain_series: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    polarity_changes: bool = False
    element_polarity: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_subscripted(self) -> bool:
        return any(label for label in self.cycles)

    @property
    def links(self) -> list[tuple[str, str]]:
        """The links of the loop as (cause, effect) base names, closing back to the start."""
        vs = self.variables
        return [(vs[i], vs[(i + 1) % len(vs)]) for i in range(len(vs))]

    def to_dict(self) -> dict[str, Any]:
        gain: Any = {k: _json_number(v) for k, v in self.gain.items()}
        if not self.is_subscripted:
            gain = gain[""]  # a scalar loop is written as a plain number
        return {
            "id": self.id,
            "variables": list(self.variables),
            "polarity": self.polarity,
            "links": [
                {"cause": c, "effect": e, "polarity": p}
                for (c, e), p in zip(self.links, self.link_polarities, strict=True)
            ],
            "gain": gain,
            "polarity_changes": self.polarity_changes,
            "elements": {k: list(v) for k, v in self.cycles.items()} if self.is_subscripted else {},
        }


@dataclass(frozen=True)
class LoopReport:
    """The loops of a model, their links, the cuts applied and the loops each cut opens."""

    loops: tuple[Loop, ...]
    links: Mapping[tuple[str, str], Link]
    capped: bool = False
    max_loops: int | None = None
    length_bound: int | None = None
    cuts: tuple[Cut, ...] = ()
    opened: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    time: np.ndarray | None = field(default=None, repr=False)
    at: float | None = None
    notes: tuple[str, ...] = ()

    def loop(self, loop_id: str) -> Loop:
        for lp in self.loops:
            if lp.id == loop_id:
                return lp
        raise TenorError(f"no loop {loop_id!r}", hint="loops: " + ", ".join(lp.id for lp in self.loops))

    def find(self, *variables: str) -> list[Loop]:
        """Loops that run through all the given variables (base or scalar names)."""
        out = []
        for lp in self.loops:
            names = set(lp.variables) | {v for c in lp.cycles.values() for v in c}
            if all(v in names for v in variables):
                out.append(lp)
        return out

    def gain_table(self, elements: Sequence[str]) -> list[tuple[str, list[float | None]]]:
        """(loop id, gain per element) for the loops reported per element."""
        rows = []
        for lp in self.loops:
            if lp.is_subscripted:
                rows.append((lp.id, [lp.gain.get(e) for e in elements]))
        return rows

    def _repr_html_(self) -> str:
        from html import escape

        rows = []
        for lp in self.loops:
            if lp.is_subscripted:
                gain = ", ".join(f"{k}: {v:.4g}" for k, v in lp.gain.items())
            else:
                gain = f"{lp.gain['']:.4g}"
            chain = " &rarr; ".join(escape(v) for v in lp.variables)
            rows.append(f"<tr><td>{lp.id}</td><td>{lp.polarity}</td><td>{chain}</td><td>{escape(gain)}</td></tr>")
        head = "<tr><th>loop</th><th>polarity</th><th>variables</th><th>gain</th></tr>"
        return f"<table>{head}{''.join(rows)}</table>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "loops": [lp.to_dict() for lp in self.loops],
            "capped": self.capped,
            "max_loops": self.max_loops,
            "length_bound": self.length_bound,
            "cuts": [{"cause": c.cause, "effect": c.effect, "elements": list(c.elements)} for c in self.cuts],
            "opened": {k: list(v) for k, v in self.opened.items()},
            "notes": list(self.notes),
        }


def cuts_from_spec(spec: ModelSpec, scenario: str) -> list[Cut]:
    """The cuts a scenario of a spec declares (``cuts: {"a -> b": [elements]}``).

    >>> from stocks_flows.spec import ModelSpec
    >>> spec = ModelSpec.model_validate({"time": {"stop": 1},
    ...     "scenarios": {"s": {"cuts": {"sales -> long_yield": ["bills"]}}}})
    >>> cuts_from_spec(spec, "s")
    [Cut(cause='sales', effect='long_yield', elements=('bills',))]

    Raises
    ------
    SpecError
        When a key is not of the form ``cause -> effect``.
    """
    from tenor.core.errors import SpecError

    scen = spec.scenarios.get(scenario)
    if scen is None:
        return []
    out = []
    for key, elements in scen.cuts.items():
        parts = [p.strip() for p in key.split("->")]
        if len(parts) != 2 or not all(parts):
            raise SpecError(
                f"cut {key!r} is not a link",
                key=f"scenarios.{scenario}.cuts",
                hint="write the link as 'cause -> effect'",
            )
        out.append(Cut(parts[0], parts[1], tuple(str(e) for e in elements)))
    return out


# --- graph ---------------------------------------------------------------------------------


def cut_graph(graph: nx.DiGraph, cuts: Iterable[Cut]) -> nx.DiGraph:
    """A copy of ``graph`` without the links the cuts match.

    >>> import networkx as nx
    >>> g = nx.DiGraph([("a", "b"), ("b", "a")])
    >>> sorted(cut_graph(g, [Cut("a", "b")]).edges)
    [('b', 'a')]
    """
    cuts = list(cuts)
    out = graph.copy()
    out.remove_edges_from([(c, e) for c, e in graph.edges if any(cut.matches(graph, c, e) for cut in cuts)])
    return out


def feedback_loops(
    graph: nx.DiGraph, length_bound: int | None = None, max_loops: int | None = None
) -> Iterator[list[str]]:
    """Simple cycles of ``graph`` (each in causal order), at most ``max_loops`` of them.

    A generator over :func:`networkx.simple_cycles`; each cycle starts at its
    smallest node name so the same loop is always written the same way.

    >>> import networkx as nx
    >>> sorted(feedback_loops(nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")])))
    [['a', 'b'], ['b', 'c']]
    """
    import networkx as nx

    for count, cycle in enumerate(nx.simple_cycles(graph, length_bound=length_bound)):
        if max_loops is not None and count >= max_loops:
            return
        k = cycle.index(min(cycle))
        yield cycle[k:] + cycle[:k]


def loop_polarity(signs: Iterable[str]) -> str:
    """R for an even number of negative links, B for an odd number, unknown if any sign is unknown.

    >>> loop_polarity("+-+"), loop_polarity("--"), loop_polarity(["+", "unknown"])
    ('B', 'R', 'unknown')
    """
    negatives = 0
    for s in signs:
        if s == "-":
            negatives += 1
        elif s != "+":
            return "unknown"
    return "B" if negatives % 2 else "R"


# --- link gains and polarities -------------------------------------------------------------


def link_gains(model: Model, run: Run, graph: nx.DiGraph | None = None) -> dict[tuple[str, str], np.ndarray]:
    """The gain ``d effect / d cause`` of every link of the loop graph at every saved time of ``run``.

    Flow-to-stock links have gain +1 (inflow) or -1 (outflow).
    """
    from stocks_flows._partials import Evaluator, steady_state_equation, symbolic_gain

    graph = loop_graph(model) if graph is None else graph
    evaluator = Evaluator(model, run)
    env = evaluator.env(run)
    n = len(run.time)
    constants = {name: v.value for name, v in model.variables.items() if v.value is not None}
    gains: dict[tuple[str, str], np.ndarray] = {}
    for cause, effect, data in graph.edges(data=True):
        var = model.variables[effect]
        if data.get("flow_to_stock"):
            sign = 1.0 if cause in var.inflows else -1.0 if cause in var.outflows else np.nan
            gains[(cause, effect)] = np.full(n, sign)
            continue
        if cause not in env:
            gains[(cause, effect)] = np.full(n, np.nan)
            continue
        exact = symbolic_gain(steady_state_equation(var.equation), cause, constants, env, n)
        gains[(cause, effect)] = exact if exact is not None else evaluator.partial(effect, cause, env)
    return gains


def _sign_series(values: np.ndarray) -> np.ndarray:
    scale = np.nanmax(np.abs(values)) if np.any(np.isfinite(values)) else 0.0
    tol = max(scale * 1e-7, 1e-12)
    out = np.zeros(len(values))
    out[values > tol] = 1
    out[values < -tol] = -1
    return out


def _at_index(time: np.ndarray, at: float | None) -> int | None:
    if at is None:
        return None
    return int(np.argmin(np.abs(np.asarray(time) - at)))


def link_polarities(
    model: Model,
    run: Run | None = None,
    *,
    graph: nx.DiGraph | None = None,
    gains: Mapping[tuple[str, str], np.ndarray] | None = None,
    at: float | None = None,
) -> dict[tuple[str, str], Link]:
    """The polarity of every link of the loop graph, symbolic where possible, else along ``run``."""
    from stocks_flows._partials import symbolic_sign

    graph = loop_graph(model) if graph is None else graph
    if run is not None and gains is None:
        gains = link_gains(model, run, graph)
    constants = {n: v.value for n, v in model.variables.items() if v.value is not None}
    k = _at_index(run.time, at) if run is not None else None
    out: dict[tuple[str, str], Link] = {}
    for cause, effect, data in graph.edges(data=True):
        f2s = bool(data.get("flow_to_stock"))
        delayed = bool(data.get("delayed"))
        var = model.variables[effect]
        polarity, method, changes = "unknown", "unknown", False
        if f2s:
            polarity = "+" if cause in var.inflows else "-" if cause in var.outflows else "unknown"
            method = "structure"
        elif data.get("sign") in ("+", "-"):
            polarity, method = data["sign"], "declared"
        else:
            from stocks_flows._partials import steady_state_equation

            sign = symbolic_sign(steady_state_equation(var.equation), cause, constants)
            if sign is not None:
                polarity, method = sign, "symbolic"
            elif gains is not None:
                signs = _sign_series(gains[(cause, effect)])
                nonzero = signs[signs != 0]
                if len(nonzero):
                    changes = bool(np.any(nonzero != nonzero[0]))
                    ref = signs[k] if k is not None and signs[k] != 0 else None
                    if ref is None:
                        ref = nonzero[0] if not changes else _majority(nonzero)
                    polarity, method = ("+" if ref > 0 else "-"), "numeric"
        out[(cause, effect)] = Link(cause, effect, polarity, method, changes, f2s, delayed)
    return out


def _majority(signs: np.ndarray) -> float:
    return 1.0 if np.sum(signs > 0) >= np.sum(signs < 0) else -1.0


# --- finding the loops ---------------------------------------------------------------------


def _subscript(name: str) -> tuple[str, ...]:
    if name.endswith("]") and "[" in name:
        return tuple(name[name.index("[") + 1 : -1].split(","))
    return ()


def _base(graph: nx.DiGraph, name: str) -> str:
    return graph.nodes[name].get("base", name) if name in graph else name


def _rotate(cycle: Sequence[str], rank: Mapping[str, tuple[int, int, str]]) -> list[str]:
    """Start the cycle at its first stock (in model order), so loops read stock -> ... -> stock."""
    k = min(range(len(cycle)), key=lambda i: rank[cycle[i]])
    return list(cycle[k:]) + list(cycle[:k])


def _element_label(cycle: Sequence[str]) -> str:
    labels: list[str] = []
    for name in cycle:
        sub = ",".join(_subscript(name))
        if sub and sub not in labels:
            labels.append(sub)
    return "|".join(labels)


def find_loops(
    model: Model,
    run: Run | None = None,
    *,
    length_bound: int | None = None,
    max_loops: int = 10_000,
    cuts: Iterable[Cut] = (),
    at: float | None = None,
    simulate: bool = True,
) -> LoopReport:
    """Enumerate the feedback loops of ``model`` with polarity and gain (per element), applying ``cuts``.

    ``run`` is a simulation of ``model`` (one is made when ``simulate`` is true
    and none is given); the numeric link polarities and the loop gains come
    from it. ``at`` picks the operating point (a time), else gains are means
    over the run. At most ``max_loops`` scalar cycles of at most
    ``length_bound`` links are enumerated; beyond that, the strongest-path
    search adds the loops that matter.

    The work runs in phases: check the cuts, make the run, find the link
    polarities and gains, enumerate the scalar cycles, group them over
    elements, measure each group's polarity and gain, then number the loops
    and list the loops each cut opens.

    Raises
    ------
    SpecError
        When the model has an algebraic loop (the message names the cycle).
    """
    cuts = tuple(cuts)
    graph = loop_graph(model)
    _check_cuts(model, cuts)
    notes: list[str] = []
    if run is None and simulate:
        run = _analysis_run(model, notes)
    full = model.dependency_graph()
    gains = link_gains(model, run, full) if run is not None else None
    links = link_polarities(model, run, graph=full, gains=gains, at=at)
    cycles, capped = _enumerate_cycles(model, graph, run, length_bound, max_loops, notes)
    order = _model_order(model)
    groups = _group_cycles(graph, cycles, order)
    cut_edges = {(c, e): cut for c, e in graph.edges for cut in cuts if cut.matches(graph, c, e)}
    time = run.time if run is not None else None
    measure = _LoopMeasure(links, gains, cut_edges, time, _at_index(time, at) if time is not None else None)
    position = {e: i for elements in model.dimensions.values() for i, e in enumerate(elements)}
    built = [(key, measure.loop(key, _by_element(members, position))) for key, members in groups.items()]
    loops = _number_loops(built, order)
    return LoopReport(
        loops=tuple(loops),
        links=links,
        capped=capped,
        max_loops=max_loops,
        length_bound=length_bound,
        cuts=cuts,
        opened=_opened(cuts, loops, cut_edges),
        time=time,
        at=at,
        notes=tuple(notes),
    )


def _check_cuts(model: Model, cuts: Sequence[Cut]) -> None:
    """Refuse a cut that names a variable the model does not have."""
    known = set(model.variables) | {v.base for v in model.variables.values() if v.base}
    for cut in cuts:
        unknown = [n for n in (cut.cause, cut.effect) if n not in known]
        if unknown:
            close = did_you_mean(unknown[0], sorted(known))
            raise GraphError(
                f"cut {cut.label}: unknown variable(s) {', '.join(unknown)}",
                hint=f"did you mean {close!r}?" if close else "name the variables of the link as in the model",
            )


def _analysis_run(model: Model, notes: list[str]) -> Run | None:
    """A run of ``model`` for the numeric polarities and gains; None (and a note) when it cannot run."""
    from stocks_flows._partials import run_for_analysis

    try:
        return run_for_analysis(model)
    except NonFiniteError:
        raise
    except (SimulationError, TenorError, KeyError, TypeError, ValueError) as err:
        notes.append(f"no run ({err}); polarities are symbolic only and gains are not computed")
        return None


def _enumerate_cycles(
    model: Model,
    graph: nx.DiGraph,
    run: Run | None,
    length_bound: int | None,
    max_loops: int,
    notes: list[str],
) -> tuple[list[list[str]], bool]:
    """The scalar cycles (at most ``max_loops``, then the strongest-path loops) and whether it stopped early."""
    cycles = list(feedback_loops(graph, length_bound, max_loops + 1))
    capped = len(cycles) > max_loops
    cycles = cycles[:max_loops]
    if capped:
        notes.append(f"stopped after {max_loops} loops; loops found by the strongest-path search on link scores added")
        if run is not None:
            scores = link_scores(model, run, graph)
            seen = {tuple(c) for c in cycles}
            for cycle in strongest_path_loops(graph, scores):
                if tuple(cycle) not in seen:
                    seen.add(tuple(cycle))
                    cycles.append(cycle)
    return cycles, capped


def _model_order(model: Model) -> dict[str, int]:
    """Each base name's place in the model (the order its variables are declared in)."""
    order: dict[str, int] = {}
    for name, var in model.variables.items():
        order.setdefault(var.base or name, len(order))
    return order


def _group_cycles(
    graph: nx.DiGraph, cycles: Iterable[Sequence[str]], order: Mapping[str, int]
) -> dict[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Cycles that visit the same base variables in the same order, keyed by element label."""
    base_of = {n: _base(graph, n) for n in graph}
    rank = {n: (0 if graph.nodes[n].get("kind") == "stock" else 1, order.get(base_of[n], 0), n) for n in graph}
    groups: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}
    for cycle in cycles:
        rotated = _rotate(cycle, rank)
        key = tuple(base_of[n] for n in rotated)
        groups.setdefault(key, {})[_element_label(rotated)] = tuple(rotated)
    return groups


def _by_element(members: Mapping[str, tuple[str, ...]], position: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
    """The members of a group in the order of the elements of their dimensions."""

    def element_key(label: str) -> tuple:
        return tuple(position.get(part, len(position)) for part in label.replace("|", ",").split(","))

    return dict(sorted(members.items(), key=lambda item: element_key(item[0])))


def _cycle_edges(cycle: Sequence[str]) -> list[tuple[str, str]]:
    return [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]


def _agreed(values: Iterable[str]) -> str:
    """The one known polarity the values agree on, else ``"unknown"``."""
    known = {p for p in values if p != "unknown"}
    return known.pop() if len(known) == 1 else "unknown"


@dataclass(frozen=True)
class _LoopMeasure:
    """What measuring a group of cycles needs: the links, their gains over the run, the cut links."""

    links: Mapping[tuple[str, str], Link]
    gains: Mapping[tuple[str, str], np.ndarray] | None
    cut_edges: Mapping[tuple[str, str], Cut]
    time: np.ndarray | None
    k: int | None

    def gain_series(self, edges: Sequence[tuple[str, str]], gains: Mapping[tuple[str, str], np.ndarray]) -> np.ndarray:
        """The product of the link gains along ``edges`` at every saved time (zero when a link is cut)."""
        n = len(gains[edges[0]])
        g = np.ones(n)
        for e in edges:
            g = g * gains[e]
        if any(e in self.cut_edges for e in edges):
            g = np.zeros(n)
        return g

    def loop(self, key: tuple[str, ...], members: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
        """Variables, polarity, link polarities, gain per element and gain series of one group of cycles."""
        member_polarity: dict[str, str] = {}
        series: dict[str, np.ndarray] = {}
        point: dict[str, float] = {}
        changes = False
        link_signs: list[list[str]] = [[] for _ in key]
        for label, cycle in members.items():
            edges = _cycle_edges(cycle)
            signs = [self.links[e].polarity for e in edges]
            for i, s in enumerate(signs):
                link_signs[i].append(s)
            member_polarity[label] = loop_polarity(signs)
            changes = changes or any(self.links[e].changes for e in edges)
            if self.gains is not None:
                g = series[label] = self.gain_series(edges, self.gains)
                if self.k is not None:
                    point[label] = float(g[self.k])
                else:  # the mean over the run; NaN (no warning) when no step has a gain
                    point[label] = float(np.nanmean(g)) if np.any(~np.isnan(g)) else float("nan")
            elif any(e in self.cut_edges for e in edges):
                point[label] = 0.0
        subscripted = any(label for label in members)
        return {
            "variables": tuple(key if subscripted else members[""]),
            "polarity": _agreed(member_polarity.values()),
            "link_polarities": tuple(_agreed(signs) for signs in link_signs),
            "cycles": members,
            "gain": _loop_gain(point, members, subscripted),
            "gain_series": series,
            "polarity_changes": changes,
            "element_polarity": member_polarity,
        }


def _loop_gain(point: Mapping[str, float], members: Iterable[str], subscripted: bool) -> dict[str, float]:
    """Gain by element label; an element's gain about zero against the largest counts as zero (the loop is cut)."""
    if not subscripted:
        return {"": point.get("", float("nan"))}
    gain = {lbl: point.get(lbl, float("nan")) for lbl in members}
    scale = max((abs(v) for v in gain.values() if np.isfinite(v)), default=0.0)
    return {lbl: (0.0 if abs(v) <= ZERO_GAIN * scale else v) for lbl, v in gain.items()}


def _number_loops(built: list[tuple[tuple[str, ...], dict[str, Any]]], order: Mapping[str, int]) -> list[Loop]:
    """Loops sorted by length and model order, numbered R1, R2, ..., B1, ..., U1 (unknown polarity)."""
    built = sorted(built, key=lambda item: (len(item[0]), [order.get(v, 0) for v in item[0]], item[0]))
    counters = {"R": 0, "B": 0, "unknown": 0}
    loops: list[Loop] = []
    for _key, data in built:
        counters[data["polarity"]] += 1
        prefix = {"R": "R", "B": "B", "unknown": "U"}[data["polarity"]]
        loops.append(Loop(id=f"{prefix}{counters[data['polarity']]}", **data))
    return loops


def _opened(cuts: Sequence[Cut], loops: Sequence[Loop], cut_edges: Mapping[tuple[str, str], Cut]) -> dict:
    """Cut label -> the loops (``R1[bills]`` for one element) it opens."""
    opened: dict[str, tuple[str, ...]] = {}
    for cut in cuts:
        ids = []
        for lp in loops:
            for label, cycle in lp.cycles.items():
                if any(cut_edges.get(e) == cut for e in _cycle_edges(cycle)):
                    ids.append(f"{lp.id}[{label}]" if label else lp.id)
        opened[cut.label] = tuple(ids)
    return opened


def strongest_path_loops(
    graph: nx.DiGraph,
    scores: Mapping[tuple[str, str], np.ndarray],
    times: Iterable[int] | None = None,
    max_visits: int = 200_000,
) -> list[list[str]]:
    """Loops found by the strongest-path search over link scores (Eberlein & Schoenberg 2020).

    At each time index in ``times`` (default: ten spread over the run), from
    each stock, a depth-first search follows the links in decreasing order of
    |link score| and abandons a path whose |score| is not above the best score
    that reached the same variable earlier. A path back to the start stock is
    a loop. Heuristic: it finds the strong loops, not necessarily all.
    """
    n = len(next(iter(scores.values()))) if scores else 0
    if n == 0:
        return []
    if times is None:
        times = sorted({int(i) for i in np.linspace(1, n - 1, min(10, n - 1))}) if n > 1 else [0]
    stocks = [v for v, d in graph.nodes(data=True) if d.get("kind") == "stock"]
    found: dict[tuple[str, ...], list[str]] = {}
    visits = 0
    for t in times:
        weight = {e: abs(float(np.nan_to_num(s[t]))) for e, s in scores.items()}
        for start in stocks:
            best: dict[str, float] = {}
            stack: list[tuple[str, float, list[str]]] = [(start, 1.0, [start])]
            while stack and visits < max_visits:
                node, score, path = stack.pop()
                visits += 1
                successors = sorted(graph.successors(node), key=lambda v, node=node: weight.get((node, v), 0.0))
                for succ in successors:
                    w = score * weight.get((node, succ), 0.0)
                    if w == 0.0:
                        continue
                    if succ == start:
                        k = path.index(min(path))
                        found.setdefault(tuple(path[k:] + path[:k]), path[k:] + path[:k])
                        continue
                    if succ in path or w <= best.get(succ, 0.0):
                        continue
                    best[succ] = w
                    stack.append((succ, w, [*path, succ]))
    return list(found.values())


def _json_number(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
