"""The one internal model: variables with parsed equations, dimensions expanded, an evaluation order.

A :class:`Model` is what every consumer reads: the XMILE writer, the PySD
runner, the vectorised engine, and loop analysis. It is built from a validated
:class:`~stocks_flows.spec.ModelSpec` by :func:`build_model` (or from XMILE and
Vensim files by :mod:`stocks_flows.xmile`).

Building does three things:

1. *Parse* every equation into an AST (:mod:`stocks_flows.expr`) and check each
   name it uses, with "did you mean" for a near miss, and the units where they
   are declared.
2. *Expand dimensions*: a variable with dimension ``tenor`` becomes one scalar
   variable per element, named ``holdings[10y]``; a reference ``holdings`` in
   an equation of the same dimension becomes ``holdings[10y]`` for element
   ``10y``, and ``sum(holdings[*])`` becomes the sum of the five elements.
3. *Order* the auxiliaries and flows so each is computed after what it uses. A
   cycle without a stock (or a delay) on it is an algebraic loop and an error.

:meth:`Model.dependency_graph` returns the variable dependency graph (edge
cause -> effect) that loop analysis works on; an edge from a flow to a stock
has ``flow_to_stock=True``.

Examples
--------
>>> from stocks_flows.spec import ModelSpec
>>> spec = ModelSpec.model_validate({
...     "time": {"stop": 4},
...     "dimensions": {"tenor": ["bills", "10y"]},
...     "constants": {"rate": {"dimensions": ["tenor"], "value": {"bills": 0.5, "10y": 0.1}}},
...     "stocks": {"holdings": {"dimensions": ["tenor"], "initial": 100}},
...     "flows": {"sales": {"dimensions": ["tenor"], "from": "holdings", "equation": "rate * holdings"}},
...     "auxiliaries": {"total": {"equation": "sum(holdings[*])"}}})
>>> model = build_model(spec)
>>> model.stocks
['holdings[bills]', 'holdings[10y]']
>>> from stocks_flows.expr import to_text
>>> to_text(model.variables["sales[10y]"].equation)
'rate[10y] * holdings[10y]'
>>> sorted(model.dependency_graph().predecessors("holdings[bills]"))
['sales[bills]']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from stocks_flows.expr import (
    Binary,
    Call,
    Expr,
    Name,
    Number,
    SyntaxProblem,
    Transform,
    Unary,
    UnitProblem,
    children,
    depth,
    format_units,
    infer_units,
    parse_expression,
    parse_units,
    walk,
)
from stocks_flows.functions import BUILTINS, call_name
from stocks_flows.limits import MAX_EQUATION_DEPTH, MAX_VARIABLES
from stocks_flows.time_axis import TimeEquations
from tenor.core.errors import Diagnostic, ExpressionError, SpecError, TenorError
from tenor.core.specfile import Document, did_you_mean, format_key

if TYPE_CHECKING:
    import networkx as nx

    from stocks_flows.spec import LookupSpec, ModelSpec

__all__ = [
    "KINDS",
    "Lookup",
    "Model",
    "Scenario",
    "TimeSettings",
    "Variable",
    "build_model",
    "element_name",
    "equation_problems",
    "evaluation_order",
]

KINDS = ("constant", "stock", "flow", "auxiliary")


def element_name(base: str, subscript: tuple[str, ...]) -> str:
    """Scalar name of one element: ``element_name("x", ("10y",))`` is ``'x[10y]'``."""
    return f"{base}[{','.join(subscript)}]" if subscript else base


@dataclass(frozen=True)
class TimeSettings:
    """Start, stop, integration step, saving step, time unit and method."""

    start: float
    stop: float
    dt: float
    save_step: float
    unit: str = "day"
    method: str = "euler"


@dataclass(frozen=True)
class Lookup:
    """A graphical function ``y = f(x)``: linear interpolation between points.

    ``mode`` is how a DATA variable read from a file is read between its points,
    in Vensim's words: ``interpolate`` (linear), ``hold_backward`` (the last
    point at or before x), ``look_forward`` (the first point at or after x) or
    ``raw`` (a value only at a point, NaN elsewhere); the first three keep the
    first and last values past the ends.
    """

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    extrapolate: bool = False
    mode: str = "interpolate"

    @classmethod
    def from_spec(cls, spec: LookupSpec) -> Lookup:
        return cls(tuple(spec.xs), tuple(spec.ys), spec.extrapolate)


@dataclass(frozen=True)
class Variable:
    """One scalar variable (one element of a dimensioned one).

    ``equation`` is the rate of a flow, the formula of an auxiliary, the value
    of a constant, or the net flow of a stock (``inflows - outflows``), with
    every name resolved to a scalar name. ``source`` is the equation as written
    (names not expanded), used when writing the model back out.
    """

    name: str
    kind: str
    equation: Expr
    base: str = ""
    subscript: tuple[str, ...] = ()
    initial: Expr | None = None
    units: str | None = None
    non_negative: bool = False
    inflows: tuple[str, ...] = ()
    outflows: tuple[str, ...] = ()
    source: Expr | None = None
    source_initial: Expr | None = None
    description: str | None = None
    signs: Mapping[str, str] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The number of a constant (None for anything else)."""
        return self.equation.value if self.kind == "constant" and isinstance(self.equation, Number) else None


@dataclass(frozen=True)
class Scenario:
    """Changes to the base model: constants, initial values of stocks, lookups (scalar names)."""

    name: str
    constants: Mapping[str, float] = field(default_factory=dict)
    initial: Mapping[str, float] = field(default_factory=dict)
    lookups: Mapping[str, Lookup] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class Model:
    """A validated stock-and-flow model, ready to simulate, export or analyse."""

    time: TimeSettings
    variables: dict[str, Variable]
    lookups: dict[str, Lookup] = field(default_factory=dict)
    dimensions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    name: str | None = None
    order: tuple[str, ...] = ()
    base_dimensions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    origin: str = "spec"
    path: str | None = None
    spec: ModelSpec | None = None
    """The validated spec this model was built from (None for XMILE and Vensim files)."""
    time_equations: TimeEquations | None = None
    """Time settings that change during the run (Vensim's), evaluated at every step; ``time`` then
    holds their values at the start."""

    @property
    def stocks(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind == "stock"]

    @property
    def constants(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind == "constant"]

    def names_of(self, kind: str) -> list[str]:
        """Scalar names of the variables of one kind."""
        return [n for n, v in self.variables.items() if v.kind == kind]

    def dependency_graph(self) -> nx.DiGraph:
        """The variable dependency graph: an edge ``cause -> effect`` for each name an equation uses.

        Node attributes: ``kind``, ``base`` (the name without element), ``subscript``
        (its elements, e.g. ``('10y',)``) and ``units``. Edge attributes:
        ``flow_to_stock`` (a flow filling or draining a stock), ``delayed``
        (the cause enters through a smooth or delay, so it acts with a lag) and
        ``sign``: ``'+'``/``'-'`` for an inflow/outflow of a stock or a sign
        declared in the spec (``signs:``), else None.
        """
        import networkx as nx

        graph = nx.DiGraph()
        for name, var in self.variables.items():
            graph.add_node(name, kind=var.kind, base=var.base or name, subscript=var.subscript, units=var.units)
        for name, var in self.variables.items():
            for ref, delayed in _references(var.equation):
                if ref not in self.variables:
                    continue
                sign = var.signs.get(ref)
                if var.kind == "stock":
                    sign = "+" if ref in var.inflows else "-" if ref in var.outflows else None
                graph.add_edge(ref, name, flow_to_stock=var.kind == "stock", delayed=delayed, sign=sign)
        return graph

    def with_scenario(self, scenario: Scenario | str | None) -> Model:
        """This model with a scenario's changes applied as its base values."""
        if scenario is None:
            return self
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        variables = dict(self.variables)
        for name, value in scenario.constants.items():
            variables[name] = replace(variables[name], equation=Number(float(value)))
        for name, value in scenario.initial.items():
            variables[name] = replace(variables[name], initial=Number(float(value)))
        lookups = {**self.lookups, **scenario.lookups}
        return replace(self, variables=variables, lookups=lookups)

    def scenario(self, name: str) -> Scenario:
        """The named scenario, with a "did you mean" when the name is unknown."""
        if name not in self.scenarios:
            close = did_you_mean(name, self.scenarios)
            known = ", ".join(self.scenarios) or "none"
            raise TenorError(
                f"unknown scenario {name!r}",
                hint=f"did you mean {close!r}?" if close else f"scenarios in this model: {known}",
            )
        return self.scenarios[name]


# --- references and order ------------------------------------------------------------------


def _references(tree: Expr) -> Iterator[tuple[str, bool]]:
    """Names used by ``tree``, each with whether it enters through a stateful function (in reading order)."""
    stack: list[tuple[Expr, bool]] = [(tree, False)]
    while stack:
        node, delayed = stack.pop()
        if isinstance(node, Name):
            yield node.name, delayed
            continue
        kids = children(node)
        builtin = BUILTINS.get(node.func) if isinstance(node, Call) else None
        if builtin is None:
            stack.extend((kid, delayed) for kid in reversed(kids))
        else:
            stack.extend((kid, delayed or builtin.is_lagged(i)) for i, kid in reversed(list(enumerate(kids))))


def _same_step_references(tree: Expr) -> set[str]:
    return {name for name, delayed in _references(tree) if not delayed}


def evaluation_order(variables: Mapping[str, Variable]) -> tuple[str, ...]:
    """Constants, auxiliaries and flows in an order where each comes after what it uses.

    Raises
    ------
    SpecError
        For an algebraic loop (a cycle with no stock or delay on it), naming it.
    """
    import networkx as nx

    graph = nx.DiGraph()
    computed = [n for n, v in variables.items() if v.kind != "stock"]
    graph.add_nodes_from(computed)
    for name in computed:
        for ref in _same_step_references(variables[name].equation):
            if ref in variables and variables[ref].kind != "stock":
                graph.add_edge(ref, name)
    try:
        position = {name: i for i, name in enumerate(computed)}
        return tuple(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        cycle = [edge[0] for edge in nx.find_cycle(graph)]
        raise SpecError(
            "algebraic loop: " + " -> ".join([*cycle, cycle[0]]),
            key=cycle[0],
            hint="a feedback loop needs a stock (or a smooth or delay) on it; add one, or break the loop",
        ) from None


def equation_problems(
    variables: Mapping[str, Variable], lookups: Mapping[str, Lookup], origin: str = "spec"
) -> list[tuple[str, str, str]]:
    """What would stop a model from running, as (variable, message, hint): an equation too deep,
    a name that is not a variable, a lookup that does not exist, a function with the wrong number
    of arguments. Models built from a spec are checked as they are built; this checks the others
    (``origin``, "vensim" or "xmile", names the functions in the file's words).
    """
    problems: list[tuple[str, str, str]] = []
    for name, var in variables.items():
        for tree in (var.equation, var.initial):
            if tree is None:
                continue
            deepest, _ = depth(tree)
            if deepest > MAX_EQUATION_DEPTH:
                problems.append(
                    (
                        name,
                        f"the equation is {deepest} levels deep; the limit is {MAX_EQUATION_DEPTH}",
                        "split it into auxiliaries",
                    )
                )
                continue
            for node in walk(tree):
                found = _node_problem(node, variables, lookups, origin)
                if found is not None:
                    problems.append((name, *found))
    return problems


def _node_problem(
    node: Expr, variables: Mapping[str, Variable], lookups: Mapping[str, Lookup], origin: str = "spec"
) -> tuple[str, str] | None:
    """(message, hint) when one node of an equation cannot run: an unknown name, lookup or function,
    or a call with the wrong number of arguments."""
    if isinstance(node, Name) and node.name not in variables:
        return f"{node.name!r} is not a variable of this model", "define it, or fix the name"
    if not isinstance(node, Call):
        return None
    if node.lookup:
        if node.func not in lookups:
            return f"no lookup named {node.func!r}", "define the lookup"
        if len(node.args) != 1:
            return f"the lookup {node.func}() takes 1 argument, got {len(node.args)}", ""
        return None
    builtin = BUILTINS.get(node.func)
    if builtin is None:
        return f"unknown function {node.func}()", "use a supported function"
    if not builtin.takes_expanded(len(node.args)):
        return f"{node.func}() takes {builtin.arity_expanded} argument(s), got {len(node.args)}", builtin.doc
    if builtin.memory is not None and builtin.memory.order == 0:
        return _order_problem(node, variables, origin)
    return None


def _order_problem(node: Call, variables: Mapping[str, Variable], origin: str = "spec") -> tuple[str, str] | None:
    """(message, hint) when the order of ``delayn`` or ``smoothn`` is a constant but not a whole number >= 1.

    An order given by an expression is read once, when the run starts (as Vensim and PySD do), and
    checked by the engine then.
    """
    order = node.args[-1]
    value = order.value if isinstance(order, Number) else None
    if isinstance(order, Name) and order.name in variables:
        value = variables[order.name].value
    if value is None or (value >= 1 and value == round(value)):
        return None
    return (
        f"the order of {call_name(node.func, origin)} must be a whole number of at least 1 (it is {value:g})",
        "give the order as a whole number (1, 2, 3, ...), or an expression that is one when the run starts",
    )


# --- building from the spec ----------------------------------------------------------------


@dataclass
class _Finding:
    path: tuple[str | int, ...]
    message: str
    hint: str | None = None
    pos: tuple[int, int] | None = None  # (line, column) inside the equation text


class _Builder:
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.findings: list[_Finding] = []
        self.kinds: dict[str, str] = {}
        self.dims: dict[str, tuple[str, ...]] = {}
        self.sections: dict[str, str] = {}
        self.dimensions = {d: tuple(str(e) for e in els) for d, els in spec.dimensions.items()}
        for section, kind in (
            ("constants", "constant"),
            ("stocks", "stock"),
            ("flows", "flow"),
            ("auxiliaries", "auxiliary"),
        ):
            for name, var in getattr(spec, section).items():
                if name in self.kinds or name in spec.lookups:
                    other = self.sections.get(name, "lookups")
                    self.report(
                        (section, name),
                        f"{name!r} is also defined in {other}",
                        "give each variable its own name",
                        key=True,
                    )
                    continue
                self.kinds[name] = kind
                self.sections[name] = section
                dims = []
                for i, dim in enumerate(var.dimensions):
                    if dim not in self.dimensions:
                        close = did_you_mean(dim, self.dimensions)
                        self.report(
                            (section, name, "dimensions", i),
                            f"unknown dimension {dim!r}",
                            f"did you mean {close!r}?" if close else "declare it under dimensions:",
                        )
                    dims.append(dim)
                self.dims[name] = tuple(dims)

    def report(
        self,
        path: tuple[str | int, ...],
        message: str,
        hint: str | None = None,
        pos: tuple[int, int] | None = None,
        key: bool = False,
    ) -> None:
        self.findings.append(_Finding(path, message, hint, pos))

    def elements(self, name: str) -> list[tuple[str, ...]]:
        dims = self.dims.get(name, ())
        if any(d not in self.dimensions for d in dims):
            return []
        return [tuple(p) for p in itertools.product(*(self.dimensions[d] for d in dims))]

    def per_element(self, path: tuple[str, ...], name: str, value: Any) -> dict[tuple[str, ...], tuple[Any, tuple]]:
        """Element -> (value, path of that value)."""
        elements = self.elements(name)
        if not isinstance(value, dict):
            return {e: (value, path) for e in elements}
        out: dict[tuple[str, ...], tuple[Any, tuple]] = {}
        known = {",".join(e): e for e in elements}
        if not self.dims.get(name):
            self.report(path, "a value per element needs dimensions", f"add dimensions: [...] to {name!r}")
            return {}
        for key, item in value.items():
            if str(key) not in known:
                close = did_you_mean(str(key), known)
                self.report(
                    (*path, key),
                    f"{key!r} is not an element of {', '.join(self.dims[name])}",
                    f"did you mean {close!r}?" if close else "elements: " + ", ".join(known),
                )
                continue
            out[known[str(key)]] = (item, (*path, key))
        missing = [k for k in known if known[k] not in out]
        if missing:
            self.report(
                path,
                "no value for element(s) " + ", ".join(missing),
                "give every element a value, or one equation for all",
            )
        return out

    def parse(self, text: Any, path: tuple) -> Expr | None:
        if isinstance(text, int | float):
            return Number(float(text))
        try:
            return parse_expression(text)
        except SyntaxProblem as problem:
            self.report(path, problem.message, problem.hint, (problem.line, problem.column))
            return None

    # name resolution ---------------------------------------------------------------------

    def resolve(self, tree: Expr, owner: str, element: tuple[str, ...], path: tuple) -> Expr:
        """``tree`` with every name made a scalar name for this element (problems are reported)."""
        owner_dims = self.dims.get(owner, ())
        return _Resolve(self, dict(zip(owner_dims, element, strict=False)), path)(tree)


class _Resolve(Transform):
    """Names of one element's equation resolved to scalar names; what cannot be is reported
    and stands as 0, so that every problem of the model is found in one pass."""

    def __init__(self, builder: _Builder, context: dict[str, str], path: tuple) -> None:
        self.b, self.context, self.path = builder, context, path

    def unknown(self, node: Name | Call, what: str) -> None:
        b = self.b
        pool = [*b.kinds, *b.spec.lookups] if what == "variable" else [*b.spec.lookups]
        word = node.name if isinstance(node, Name) else node.func
        close = did_you_mean(word, pool)
        hint = (
            f"did you mean {close!r}?"
            if close
            else (
                f"define {word!r} in constants, stocks, flows or auxiliaries"
                if what == "variable"
                else "known functions: " + ", ".join(sorted(_known_functions()))
            )
        )
        b.report(self.path, f"unknown {what} {word!r}", hint, node.pos)

    def expand(self, node: Name) -> list[Name] | None:
        """Scalar names for a reference; None if it is in error."""
        b = self.b
        if node.name not in b.kinds:
            if node.name in b.spec.lookups:
                b.report(
                    self.path,
                    f"{node.name!r} is a lookup; call it with an argument",
                    f"write {node.name}(x)",
                    node.pos,
                )
            else:
                self.unknown(node, "variable")
            return None
        dims = b.dims[node.name]
        parts = node.subscript if node.subscript is not None else tuple(dims)
        if len(parts) != len(dims):
            b.report(
                self.path,
                f"{node.name!r} has {len(dims)} dimension(s), {len(parts)} given",
                f"write {node.name}[{', '.join(dims)}]" if dims else f"write {node.name}",
                node.pos,
            )
            return None
        choices: list[list[str]] = []
        for dim, part in zip(dims, parts, strict=True):
            if dim not in b.dimensions:
                return None  # an unknown dimension, already reported where it is declared
            chosen = self.elements(dim, part, node)
            if chosen is None:
                return None
            choices.append(chosen)
        return [Name(_full(node.name, combo), None, node.pos) for combo in itertools.product(*choices)]

    def elements(self, dim: str, part: str, node: Name) -> list[str] | None:
        """The elements of ``dim`` that ``part`` of a reference stands for (None, reported, if none)."""
        elements = self.b.dimensions[dim]
        if part in elements:
            return [part]
        if part == dim and dim in self.context:
            return [self.context[dim]]
        if part in (dim, "*"):
            return list(elements)
        close = did_you_mean(part, elements)
        hint = f"did you mean {close!r}?" if close else f"elements of {dim}: " + ", ".join(elements)
        self.b.report(self.path, f"{part!r} is not an element of {dim!r}", hint, node.pos)
        return None

    def enter(self, node: Expr) -> Expr | None:
        if not isinstance(node, Call):
            return None
        if node.lookup:
            return self.lookup_problem(node)
        builtin = BUILTINS.get(node.func)
        if builtin is not None and builtin.spreads and len(node.args) == 1 and isinstance(node.args[0], Name):
            names = self.expand(node.args[0])
            if not names:  # in error, or a dimension that is in error (no elements)
                return Number(0.0, node.pos)
            return Call(node.func, tuple(names), node.pos)
        return None

    def lookup_problem(self, node: Call) -> Expr | None:
        """0 in place of a call of a lookup that does not exist or with the wrong arguments (reported)."""
        b = self.b
        if node.func not in b.spec.lookups:
            if node.func in b.kinds:
                b.report(
                    self.path,
                    f"{node.func!r} is a variable, not a function or lookup",
                    f"use it without parentheses: {node.func}",
                    node.pos,
                )
            else:
                self.unknown(node, "function")
            return Number(0.0, node.pos)
        if len(node.args) != 1:
            b.report(
                self.path,
                f"the lookup {node.func}() takes 1 argument, got {len(node.args)}",
                f"write {node.func}(x)",
                node.pos,
            )
            return Number(0.0, node.pos)
        return None

    def name(self, node: Name) -> Expr:
        names = self.expand(node)
        if names is None:
            return Number(0.0, node.pos)
        if len(names) != 1:
            self.b.report(
                self.path,
                f"{node.name!r} stands for {len(names)} elements here",
                f"pick one element, or sum them: sum({node.name}[*])",
                node.pos,
            )
            return Number(0.0, node.pos)
        return names[0]


def _full(base: str, combo: tuple[str, ...]) -> str:
    return element_name(base, combo)


def _known_functions() -> list[str]:
    return list(BUILTINS)


_CHAIN = 64
"""Longest net flow written as a chain ``a + b - c``; a stock with more flows gets a balanced sum."""


def _sum_names(names: list[str]) -> Expr | None:
    if len(names) > _CHAIN:  # balanced, so the tree stays shallow for any number of flows
        half = len(names) // 2
        return Binary("+", _sum_names(names[:half]), _sum_names(names[half:]))  # type: ignore[arg-type]
    tree: Expr | None = None
    for n in names:
        tree = Name(n) if tree is None else Binary("+", tree, Name(n))
    return tree


def _net_flow(ins: list[str], outs: list[str]) -> Expr | None:
    """``in1 + in2 - out1``: the net flow of a stock (None when it has no flows)."""
    if len(ins) + len(outs) > _CHAIN:
        gained, lost = _sum_names(ins), _sum_names(outs)
        if lost is None:
            return gained
        return Unary("-", lost) if gained is None else Binary("-", gained, lost)
    net = _sum_names(ins)
    for o in outs:
        net = Unary("-", Name(o)) if net is None else Binary("-", net, Name(o))
    return net


def build_model(spec: ModelSpec, doc: Document | None = None, text: str | None = None) -> Model:
    """Build the internal :class:`Model` from a validated spec.

    ``doc`` and ``text`` (the YAML the spec came from) let errors point at the
    file, line and column, inside the equation.

    Raises
    ------
    ExpressionError
        When an equation does not parse or names something unknown (every such
        problem is reported at once).
    SpecError
        For other inconsistencies (unknown stocks, dimensions, elements).
    """
    b = _Builder(spec)
    if not _size_fits(b):
        raise _error(b.findings, doc, text)
    flows = _stock_flows(b)
    variables = _Variables(b, flows, _declared_units(b)).build()
    _check_orders(b, variables)
    lookups = {name: Lookup.from_spec(lk) for name, lk in spec.lookups.items()}
    scenarios = {name: _scenario(b, name, scen, lookups) for name, scen in spec.scenarios.items()}
    if b.findings:
        raise _error(b.findings, doc, text)
    time = spec.time
    settings = TimeSettings(time.start, time.stop, time.dt, time.save_step or time.dt, time.unit, time.method)
    try:
        order = evaluation_order(variables)
    except SpecError as err:
        base = variables[err.key].base if err.key in variables else err.key
        section = b.sections.get(base or "", "auxiliaries")
        raise _error([_Finding((section, base or ""), err.message, err.hint)], doc, text) from None
    return Model(
        time=settings,
        variables=variables,
        lookups=lookups,
        dimensions=b.dimensions,
        scenarios=scenarios,
        name=spec.name,
        order=order,
        base_dimensions=dict(b.dims),
        spec=spec,
    )


_SECTIONS = (("constants", "constant"), ("stocks", "stock"), ("flows", "flow"), ("auxiliaries", "auxiliary"))
"""The spec's sections of variables, in the order they are built, with the kind of each."""


def _size_fits(b: _Builder) -> bool:
    """Whether the model stays within :data:`MAX_VARIABLES` once dimensions are expanded (else reported)."""
    total = 0
    for name, dims in b.dims.items():
        total += math.prod(len(b.dimensions.get(d, ())) for d in dims)
        if total > MAX_VARIABLES:
            b.report(
                (b.sections[name], name, "dimensions"),
                f"with this variable the model has more than {MAX_VARIABLES:,} variables once its "
                "dimensions are expanded",
                "use fewer or smaller dimensions",
            )
            return False
    return True


def _check_orders(b: _Builder, variables: Mapping[str, Variable]) -> None:
    """Report each ``delayn`` or ``smoothn`` whose constant order is not a whole number >= 1 (once per variable)."""
    reported: set[str] = set()
    for var in variables.values():
        base = var.base or var.name
        for node in walk(var.equation):
            builtin = BUILTINS.get(node.func) if isinstance(node, Call) and not node.lookup else None
            if builtin is None or builtin.memory is None or builtin.memory.order != 0 or base in reported:
                continue
            found = _order_problem(node, variables)
            if found is not None:
                reported.add(base)
                b.report((b.sections.get(base, "auxiliaries"), base, _FIELD.get(var.kind, "equation")), *found)


@dataclass
class _StockFlows:
    """The flows into and out of each stock (names as declared, not expanded)."""

    inflows: dict[str, list[str]] = field(default_factory=dict)
    outflows: dict[str, list[str]] = field(default_factory=dict)


def _stock_flows(b: _Builder) -> _StockFlows:
    """Which flows fill and drain each stock; a flow naming an unknown stock, or one of other
    dimensions, is reported."""
    spec = b.spec
    found = _StockFlows()
    for name, flow in spec.flows.items():
        for end, key, table in ((flow.source, "from", found.outflows), (flow.target, "to", found.inflows)):
            if end is None:
                continue
            if end not in spec.stocks:
                close = did_you_mean(end, spec.stocks)
                b.report(
                    ("flows", name, key),
                    f"{end!r} is not a stock",
                    f"did you mean {close!r}?" if close else "stocks: " + ", ".join(spec.stocks),
                )
                continue
            if b.dims.get(end, ()) != b.dims.get(name, ()):
                b.report(
                    ("flows", name, "dimensions"),
                    f"flow {name!r} and stock {end!r} have different dimensions",
                    "give the flow the same dimensions as its stock",
                )
                continue
            table.setdefault(end, []).append(name)
    return found


def _declared(b: _Builder) -> Iterator[tuple[str, str, str, Any]]:
    """(section, kind, name, spec) of every variable that was accepted, in build order."""
    for section, kind in _SECTIONS:
        for name, var in getattr(b.spec, section).items():
            if b.kinds.get(name) == kind:
                yield section, kind, name, var


def _declared_units(b: _Builder) -> dict[str, Any]:
    """The declared units of every scalar variable (None where none are declared)."""
    return {
        _full(name, element): parse_units(var.units)
        for _section, _kind, name, var in _declared(b)
        for element in b.elements(name)
    }


_FIELD = {"constant": "value", "stock": "initial"}
"""The field of the spec that holds a variable's formula, by kind (others: ``equation``)."""


class _Variables:
    """The scalar variables of a spec: each element's equation parsed, resolved and checked."""

    def __init__(self, b: _Builder, flows: _StockFlows, units_of: dict[str, Any]) -> None:
        self.b, self.flows, self.units_of = b, flows, units_of
        self.time_units = parse_units(b.spec.time.unit)
        self.variables: dict[str, Variable] = {}

    def build(self) -> dict[str, Variable]:
        for section, kind, name, var in _declared(self.b):
            field_name = _FIELD.get(kind, "equation")
            values = self.b.per_element((section, name, field_name), name, getattr(var, field_name))
            for element, (text_, path) in values.items():
                source = self.b.parse(text_, path)
                if source is None:
                    continue
                resolved = self.b.resolve(source, name, element, path)
                _check_units(self.b, resolved, parse_units(var.units), self.units_of, self.time_units, path)
                if kind == "stock":
                    self.stock(name, var, element, source, resolved)
                else:
                    self.computed(section, kind, name, var, element, source, resolved)
        return self.variables

    def stock(self, name: str, var: Any, element: tuple[str, ...], source: Expr, initial: Expr) -> None:
        ins = [_full(f, element) for f in self.flows.inflows.get(name, [])]
        outs = [_full(f, element) for f in self.flows.outflows.get(name, [])]
        net = _net_flow(ins, outs)
        full = _full(name, element)
        self.variables[full] = Variable(
            full,
            "stock",
            net if net is not None else Number(0.0),
            name,
            element,
            initial,
            var.units,
            var.non_negative,
            tuple(ins),
            tuple(outs),
            None,
            source,
            var.description,
        )

    def computed(
        self, section: str, kind: str, name: str, var: Any, element: tuple[str, ...], source: Expr, resolved: Expr
    ) -> None:
        declared = parse_units(var.units)
        if kind == "flow" and declared is not None and self.time_units is not None:
            self.check_flow_units(name, var, declared)
        signs = _element_signs(self.b, section, name, getattr(var, "signs", {}), resolved, element)
        if kind == "flow" and var.non_negative:
            resolved = Call("max", (resolved, Number(0.0)))
        full = _full(name, element)
        self.variables[full] = Variable(
            full,
            kind,
            resolved,
            name,
            element,
            None,
            var.units,
            getattr(var, "non_negative", False),
            (),
            (),
            source,
            None,
            var.description,
            signs,
        )

    def check_flow_units(self, name: str, var: Any, declared: Any) -> None:
        """A flow's units are its stock's units per time unit (reported when not)."""
        spec, time_units = self.b.spec, self.time_units
        for stock in filter(None, (var.source, var.target)):
            stock_units = parse_units(spec.stocks[stock].units) if stock in spec.stocks else None
            if stock_units is None:
                continue
            expected = dict(stock_units)
            for k, v in time_units.items():
                expected[k] = expected.get(k, 0.0) - v
            expected = {k: v for k, v in expected.items() if v}
            if expected != declared:
                self.b.report(
                    ("flows", name, "units"),
                    f"flow units {var.units!r} do not match stock {stock!r} "
                    f"({format_units(stock_units)}) per {spec.time.unit}",
                    f"write units: {format_units(expected)}",
                )


def _scenario(b: _Builder, sname: str, scen: Any, lookups: Mapping[str, Lookup]) -> Scenario:
    """One scenario of the spec with scalar names (unknown names and bad values reported)."""
    constants = _scenario_values(b, sname, scen.constants, "constant", "constants")
    initial = _scenario_values(b, sname, scen.initial, "stock", "initial")
    scen_lookups: dict[str, Lookup] = {}
    for name, lk in scen.lookups.items():
        if name not in lookups:
            close = did_you_mean(name, lookups)
            b.report(
                ("scenarios", sname, "lookups", name),
                f"{name!r} is not a lookup",
                f"did you mean {close!r}?" if close else "declare it under lookups:",
            )
            continue
        scen_lookups[name] = Lookup.from_spec(lk)
    return Scenario(sname, constants, initial, scen_lookups, scen.description)


def _scenario_values(
    b: _Builder, sname: str, table: Mapping[str, Any], wanted: str, field_name: str
) -> dict[str, float]:
    """A scenario's values of constants or initial values, by scalar name."""
    out: dict[str, float] = {}
    for name, value in table.items():
        if b.kinds.get(name) != wanted:
            pool = [n for n, k in b.kinds.items() if k == wanted]
            close = did_you_mean(name, pool)
            b.report(
                ("scenarios", sname, field_name, name),
                f"{name!r} is not a {wanted}",
                f"did you mean {close!r}?" if close else f"{wanted}s: " + ", ".join(pool),
            )
            continue
        for element, (item, path) in b.per_element(("scenarios", sname, field_name, name), name, value).items():
            if not isinstance(item, int | float):
                b.report(path, "expected a number", "scenario values are numbers")
                continue
            out[_full(name, element)] = float(item)
    return out


def _element_signs(
    b: _Builder,
    section: str,
    owner: str,
    declared: Mapping[str, str],
    resolved: Expr,
    element: tuple[str, ...],
) -> dict[str, str]:
    """Declared signs keyed by the scalar names this element's equation uses."""
    if not declared:
        return {}
    used = {n.name for n in walk(resolved) if isinstance(n, Name)}
    out: dict[str, str] = {}
    for cause, sign in declared.items():
        hits = [u for u in used if u == cause or u.split("[", 1)[0] == cause]
        if not hits:
            close = did_you_mean(cause, sorted({u.split("[", 1)[0] for u in used}))
            b.report(
                (section, owner, "signs", cause),
                f"{cause!r} is not used in the equation of {owner!r}",
                f"did you mean {close!r}?" if close else "declare signs only for names the equation uses",
            )
            continue
        for hit in hits:
            out[hit] = sign
    return out


def _check_units(
    b: _Builder, tree: Expr, declared: Any, units_of: Mapping[str, Any], time_units: Any, path: tuple
) -> None:
    problems: list[UnitProblem] = []
    inferred = infer_units(tree, units_of, time_units, problems)
    for p in problems:
        b.report(path, p.message, "check the units of the names on both sides", p.pos)
    if declared is not None and inferred is not None and inferred != declared and not problems:
        b.report(
            path,
            f"the equation gives {format_units(inferred)!r} but the units are {format_units(declared)!r}",
            "fix the equation or the declared units",
        )


def _error(findings: list[_Finding], doc: Document | None, text: str | None) -> SpecError:
    diagnostics: list[Diagnostic] = []
    for finding in findings:  # an equation shared by every element reports its problem once
        found = _locate(finding, doc, text)
        if found not in diagnostics:
            diagnostics.append(found)
    cls = ExpressionError if any(i.pos is not None for i in findings) else SpecError
    return cls(diagnostics=diagnostics)


def _locate(finding: _Finding, doc: Document | None, text: str | None) -> Diagnostic:
    key = format_key(finding.path) or None
    if doc is None:
        line, column = finding.pos if finding.pos else (None, None)
        return Diagnostic(finding.message, None, line, column, key, finding.hint)
    where = doc.locate(finding.path)
    if where is None:
        return Diagnostic(finding.message, doc.file, None, None, key, finding.hint)
    line, column = where
    if finding.pos is not None and text is not None and tuple(finding.path) in doc.marks:
        eq_line, eq_col = finding.pos
        lines = text.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        first = source[column - 1] if 0 < column <= len(source) else ""
        if first in "|>":
            block = lines[line] if line < len(lines) else ""  # first line of the block sets its indentation
            line, column = line + eq_line, len(block) - len(block.lstrip()) + eq_col
        elif eq_line == 1:
            column = column + (1 if first in "'\"" else 0) + eq_col - 1
        else:
            line = line + eq_line - 1
            column = eq_col
    return Diagnostic(finding.message, doc.file, line, column, key, finding.hint)
