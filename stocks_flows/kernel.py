"""The compiled kernel: a model's equations as one numba function over scenarios and time steps.

The NumPy engine (:mod:`stocks_flows.engine`) pays Python's price once per
equation per step, whatever the number of scenarios: on a small batch that is
nearly all of its time. This module translates the same syntax trees into one
function that loops over scenarios and steps in machine code, and numba
compiles it. Scenarios go in blocks: each step is taken by every scenario of a
block before the next, so the innermost loop runs over independent scenarios
(which the processor overlaps and, for a small model, the compiler vectorises),
and saved values go straight into the engine's ``(rows, outputs, scenarios)``
result array. The NumPy engine stays the reference: the kernel follows it rule
by rule (its order of evaluation, PySD's stepping, smooths and delays as hidden
stocks, NaN propagation), and the tests hold the two together to 1e-12 on
every model they have.

What is translated is the validated syntax tree, never text from a file: every
variable becomes a generated identifier (``v12``), every number of the model is
read from an array passed in (``C[3]``), and every function comes from a fixed
table. The generated
module is checked against an allow-list of Python syntax (:func:`check_source`)
before it is compiled.

Compiled kernels are cached on disk, keyed by a hash of the generated source
(``$TENOR_CACHE_DIR/kernels``, default ``~/.cache/tenor/kernels``), so the second
run of a model does not compile again.

Models the kernel does not translate (RK4 integration, a construct it does not
know) return ``None`` from :func:`compile_kernel`, with the reason in
:func:`unsupported_reason`; the engine then runs them itself.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {start: 0, stop: 2, dt: 0.5}
... constants: {k: 0.5}
... stocks: {s: {initial: 100}}
... flows: {decay: {from: s, equation: k * s}}
... ''')
>>> from stocks_flows.engine import simulate
>>> run = simulate(model, {"k": [0.5, 1.0]}, kernel="compiled")
>>> run.values[:, -1, run.variables.index("s")].round(4).tolist()
[31.6406, 6.25]
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stocks_flows.expr import Binary, Call, Expr, If, Name, Number, Time, Unary, walk
from stocks_flows.functions import BUILTINS, STATEFUL_FUNCTIONS
from stocks_flows.model import Model

__all__ = [
    "Kernel",
    "cache_dir",
    "check_source",
    "compile_kernel",
    "generate_source",
    "is_cached",
    "unsupported_reason",
]

_KERNEL_VERSION = "2"

_STATEFUL = STATEFUL_FUNCTIONS
_CONTINUOUS = ("smooth", "delay", "trend", "forecast")
"""Kinds of memory (see :class:`stocks_flows.functions.Memory`) kept as levels stepped with Euler."""
_KINDS = {*_CONTINUOUS, "init", "fixed"}
_COMPARE = {"=": "_eq", "<>": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge", "and": "_and", "or": "_or"}
_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}
_SMALL = "1e-06"
_BLOCK = 256
_STAGED = 16
"""Models with at most this many variables write a block's saved row to a buffer with no test per variable."""
"""Scenarios stepped together: the innermost loop runs over them, so consecutive steps of one scenario
need not wait for each other and the values of a block stay in the cache."""


class _Unsupported(Exception):
    """A construct the kernel does not translate (the engine runs the model instead)."""


def cache_dir() -> Path:
    """Where compiled kernels are kept: ``$TENOR_CACHE_DIR/kernels`` or ``~/.cache/tenor/kernels``."""
    root = os.environ.get("TENOR_CACHE_DIR")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tenor"
    return base / "kernels"


@dataclass
class _Stateful:
    kind: str
    order: int
    args: list[str]
    init: str | None
    k: int


@dataclass
class _Source:
    """The generated module and what the caller needs to feed it."""

    text: str
    variables: list[str]
    params: list[str]
    n_statefuls: int
    lookup_x: np.ndarray
    lookup_y: np.ndarray
    delays: list[int] = field(default_factory=list)
    hoisted: list[str] = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(1))
    staged: bool = False


class _Generator:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.index = {name: i for i, name in enumerate(model.variables)}
        self.statefuls: list[_Stateful] = []
        self.lookups: dict[str, tuple[int, int, bool]] = {}
        self.steps: dict[str, bool] = {}  # DATA tables read by steps: name -> whether it looks forward
        self.numbers: list[float] = []
        self.number_index: dict[str, int] = {}
        xs: list[float] = []
        ys: list[float] = []
        for name, table in model.lookups.items():
            if table.mode not in ("interpolate", "hold_backward", "look_forward"):
                raise _Unsupported(f"lookup {name} is read by {table.mode} (a DATA variable's keyword)")
            if table.mode != "interpolate":
                self.steps[name] = table.mode == "look_forward"
            if len(table.xs) < 2 and table.extrapolate:
                raise _Unsupported(f"lookup {name} extrapolates from fewer than two points")
            self.lookups[name] = (len(xs), len(table.xs), table.extrapolate)
            xs += [float(x) for x in table.xs]
            ys += [float(y) for y in table.ys]
        self.lookup_x = np.asarray(xs or [0.0], dtype=float)
        self.lookup_y = np.asarray(ys or [0.0], dtype=float)

    def number(self, value: float) -> str:
        """A number of the model, read from the kernel's table ``C`` (so that a model that differs
        only in its numbers, e.g. a scenario's initial values, shares the compiled kernel)."""
        v = float(value)
        key = v.hex()
        if key not in self.number_index:
            self.number_index[key] = len(self.numbers)
            self.numbers.append(v)
        return f"C[{self.number_index[key]}]"

    # -- expressions --------------------------------------------------------------------

    def expr(self, node: Expr, found: list[_Stateful]) -> str:
        """Python source for ``node``; stateful calls met on the way are appended to ``found``."""
        if isinstance(node, Number):
            return self.number(node.value)
        if isinstance(node, Time):
            return "t"
        if isinstance(node, Name):
            if node.name not in self.index:
                raise _Unsupported(f"reference to {node.name!r}, which is not a variable")
            return f"v{self.index[node.name]}"
        if isinstance(node, Unary):
            inner = self.expr(node.operand, found)
            return {"-": f"(-{inner})", "not": f"_not({inner})"}.get(node.op, inner)
        if isinstance(node, Binary):
            left, right = self.expr(node.left, found), self.expr(node.right, found)
            if node.op in _ARITH:
                return f"({left} {_ARITH[node.op]} {right})"
            if node.op in _COMPARE:
                return f"{_COMPARE[node.op]}({left}, {right})"
            raise _Unsupported(f"operator {node.op}")
        if isinstance(node, If):
            parts = [self.expr(x, found) for x in (node.cond, node.then, node.other)]
            return "_where({}, {}, {})".format(*parts)
        if isinstance(node, Call):
            return self.call(node, found)
        raise _Unsupported(f"node {type(node).__name__}")

    def call(self, node: Call, found: list[_Stateful]) -> str:
        f = node.func
        if node.lookup:
            if f not in self.lookups:
                raise _Unsupported(f"lookup {f}")
            off, length, extrapolate = self.lookups[f]
            arg = self.expr(node.args[0], found)
            if f in self.steps:
                return f"_step({arg}, LX, LY, {off}, {length}, {self.steps[f]})"
            fn = "_interp_ext" if extrapolate else "_interp"
            return f"{fn}({arg}, LX, LY, {off}, {length})"
        if f in _STATEFUL:
            return self.stateful(node, found)
        a = [self.expr(x, found) for x in node.args]
        builtin = BUILTINS.get(f)
        if builtin is not None and builtin.kernel is not None and builtin.takes_expanded(len(a)):
            return builtin.kernel(a)
        raise _Unsupported(f"function {f}() with {len(a)} argument(s)")

    def stateful(self, node: Call, found: list[_Stateful]) -> str:
        memory = BUILTINS[node.func].memory
        args = [self.expr(x, found) for x in node.args]
        if memory is None or memory.kind not in _KINDS or memory.order < 1:  # order 0: the call gives it (n stages)
            raise _Unsupported(f"function {node.func}()")
        kind = memory.kind
        if kind in ("init", "fixed"):
            init = None
        elif kind == "trend":
            init = args[2] if len(args) > 2 else "0.0"
        elif kind == "forecast":
            init = args[3] if len(args) > 3 else "0.0"
        else:
            init = args[2] if len(args) > 2 else args[0]
        st = _Stateful(kind, memory.order, args, init, len(self.statefuls))
        self.statefuls.append(st)
        found.append(st)
        k = st.k
        if kind in ("init", "fixed"):
            return f"ST[{k}, 0, s]"
        if kind == "trend":
            return f"_xidz({args[0]} - ST[{k}, 0, s], {args[1]} * abs(ST[{k}, 0, s]), 0.0)"
        if kind == "forecast":  # Vensim: input * (1 + ZIDZ(input - AV, average time * AV) * horizon)
            trend = f"_xidz({args[0]} - ST[{k}, 0, s], {args[1]} * ST[{k}, 0, s], 0.0)"
            return f"({args[0]} * (1.0 + {trend} * {args[2]}))"
        if kind == "delay":
            return f"(ST[{k}, o{k}[s] - 1, s] / {args[1]})"
        return f"ST[{k}, {st.order - 1}, s]"

    # -- statements ---------------------------------------------------------------------
    # State is kept per scenario of a block: ``ST[k, i, s]`` (the k-th stateful function's i-th
    # level), ``o{k}[s]`` (a delay's order), ``po{k}[s]``/``ptr{k}[s]`` (a fixed delay's pipe).

    @staticmethod
    def init_stateful(st: _Stateful) -> list[str]:
        k, a = st.k, st.args
        lines = [f"if not ini{k}:", f"    ini{k} = True"]
        if st.kind == "init":
            lines.append(f"    ST[{k}, 0, s] = {a[0]}")
        elif st.kind in ("trend", "forecast"):
            lines.append(f"    ST[{k}, 0, s] = {a[0]} / (1.0 + {st.init} * {a[1]})")
        elif st.kind == "fixed":
            lines += [
                f"    dtime = {a[1]}",
                f"    first = {a[2]}",
                f"    length = int(np.rint(_max2(dtime / dt, 1.0) + {_SMALL}))",
                "    if length < 1:",
                "        length = 1",
                "        flags[sg] = 3",
                f"    po{k}[s] = length",
                f"    first{k}[s] = first",
                f"    ST[{k}, 0, s] = first",
            ]
        elif st.kind == "delay":
            lines += [
                f"    dtime = {a[1]}",
                f"    order = {st.order}",
                "    while order * dt > dtime and order > 0:",
                "        order -= 1",
                f"    orders[sg, {k}] = order",
                "    if order < 1:",
                "        order = 1",
                "        flags[sg] = 2",
                f"    o{k}[s] = order",
                f"    first = {st.init} * dtime",
                "    for i in range(order):",
                f"        ST[{k}, i, s] = first",
            ]
        else:  # smooth
            order = st.order
            lines += [f"    first = {st.init}", f"    for i in range({order}):", f"        ST[{k}, i, s] = first"]
        return lines

    @staticmethod
    def derivative(st: _Stateful) -> list[str]:
        k, a = st.k, st.args
        if st.kind in ("trend", "forecast"):
            return [f"D[{k}, 0] = ({a[0]} - ST[{k}, 0, s]) / {a[1]}"]
        if st.kind == "smooth":
            order = st.order
            lines = [f"x = {a[0]}", f"tau = {a[1]}"]
            for i in range(order):
                target = "x" if i == 0 else f"ST[{k}, {i - 1}, s]"
                lines.append(f"D[{k}, {i}] = ({target} - ST[{k}, {i}, s]) * {float(order)!r} / tau")
            return lines
        if st.kind == "delay":
            return [
                f"prev = {a[0]}",
                f"tau = {a[1]}",
                f"for i in range(o{k}[s]):",
                f"    outflow = ST[{k}, i, s] / tau",
                f"    D[{k}, i] = (prev - outflow) * o{k}[s]",
                "    prev = outflow",
            ]
        return []


def _hoisted_constants(model: Model, init_order: Sequence[str]) -> list[str]:
    """Constants whose value is fixed for a run: computed once, outside the kernel, in init order."""
    constant = {n for n, var in model.variables.items() if var.kind == "constant"}
    fixed: list[str] = []
    done: set[str] = set()
    for name in init_order:
        if name not in constant:
            continue
        tree = model.variables[name].equation
        nodes = list(walk(tree))
        refs = {x.name for x in nodes if isinstance(x, Name)}
        dynamic = any(isinstance(x, Time) or (isinstance(x, Call) and x.func in _STATEFUL) for x in nodes)
        if refs <= done and not dynamic:
            fixed.append(name)
            done.add(name)
    return fixed


def _needed_at_start(model: Model, hoisted: set[str]) -> set[str]:
    """Auxiliaries whose initial value something reads: a stock's initial value or a smooth's start.

    The engine computes every auxiliary once before the first step, but the first
    step computes them all again from the stocks; only these are read in between.
    """

    def refs(tree: Expr | None) -> set[str]:
        return {x.name for x in walk(tree) if isinstance(x, Name)} if tree is not None else set()

    wanted: set[str] = set()
    for name in model.stocks:
        wanted |= refs(model.variables[name].initial)
    for var in model.variables.values():
        for node in walk(var.equation):
            if isinstance(node, Call) and node.func in _STATEFUL:
                wanted |= refs(node)
    seen: set[str] = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in seen or name not in model.variables:
            continue
        seen.add(name)
        var = model.variables[name]
        if var.kind != "stock":
            stack.extend(refs(var.equation))
    return {n for n in seen if n not in hoisted and model.variables[n].kind != "stock"}


@dataclass
class _Plan:
    """The layout of a model's kernel: what is a parameter, what is hoisted, and every tree translated.

    Each tree is translated once, as the engine compiles each once (equations, net flows,
    initial values), so the table of numbers ``C`` is filled before any text is emitted.
    """

    model: Model
    init_order: Sequence[str]
    gen: _Generator
    names: list[str]
    hoisted: list[str]
    params: list[str]
    stocks: list[str]
    equations: dict[str, tuple[str, list[_Stateful]]]
    derivatives: dict[str, str]
    initials: dict[str, tuple[str, list[_Stateful]]]
    at_start: set[str]
    staged: bool
    hoisted_set: set[str] = field(init=False)
    pidx: dict[str, int] = field(init=False)
    v: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.hoisted_set = set(self.hoisted)
        self.pidx = {n: j for j, n in enumerate(self.params)}
        self.v = {n: f"v{i}" for i, n in enumerate(self.names)}

    @property
    def statefuls(self) -> list[_Stateful]:
        return self.gen.statefuls

    @property
    def n_statefuls(self) -> int:
        return max(1, len(self.gen.statefuls))

    @property
    def fixed_delays(self) -> list[_Stateful]:
        return [st for st in self.gen.statefuls if st.kind == "fixed"]

    def par(self, j: int | str) -> str:
        """Parameter ``j`` of the current scenario: a small (staged) model keeps a parameter's values
        side by side (``P[j, s]``: the innermost loop reads them in a row), a larger one keeps a
        scenario's parameters together (``P[s, j]``)."""
        return f"P[{j}, sg]" if self.staged else f"P[sg, {j}]"


def _translate(gen: _Generator, tree: Expr) -> tuple[str, list[_Stateful]]:
    found: list[_Stateful] = []
    return gen.expr(tree, found), found


def _plan(model: Model, init_order: Sequence[str]) -> _Plan:
    """Translate every tree of ``model`` and decide the kernel's layout."""
    if model.time.method != "euler":
        raise _Unsupported(f"the {model.time.method} integration method (the kernel steps with Euler)")
    gen = _Generator(model)
    names = list(model.variables)
    hoisted = _hoisted_constants(model, init_order)
    hoisted_set = set(hoisted)
    stocks = list(model.stocks)
    equations = {
        name: _translate(gen, model.variables[name].equation) for name in model.order if name not in hoisted_set
    }
    derivatives = {name: _translate(gen, model.variables[name].equation)[0] for name in stocks}
    initials = {name: _translate(gen, model.variables[name].initial or Number(0.0)) for name in stocks}
    for name in names:
        if name not in equations and name not in stocks and name not in hoisted_set:
            raise _Unsupported(f"{name} is neither ordered nor a stock")
    return _Plan(
        model=model,
        init_order=init_order,
        gen=gen,
        names=names,
        hoisted=hoisted,
        params=[n for n in names if model.variables[n].kind in ("constant", "stock")],
        stocks=stocks,
        equations=equations,
        derivatives=derivatives,
        initials=initials,
        at_start=_needed_at_start(model, hoisted_set),
        staged=len(names) <= _STAGED,
    )


class _Emitter:
    """Lines of source, each at its indent."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, indent: int, *lines: str) -> None:
        self.lines.extend(" " * indent + line for line in lines)


def _emit_setup(p: _Plan, emit: _Emitter) -> None:
    """The signature and what is read once, outside the loops."""
    n_names = len(p.names)
    emit(0, "def kernel(P, use, start, dt, last_step, save_steps, pos, out, lo, LX, LY, C, flags, orders, check):")
    emit(4, f"n = P.shape[{1 if p.staged else 0}]", "nsave = save_steps.shape[0]")
    # read once, outside the loops: where each variable goes in ``out`` (-1: not kept), which constants are set
    # where each kept output comes from: sel[j] is the variable of out[:, j]
    emit(4, "nout = out.shape[1]", "sel = np.zeros(nout, np.int64)")
    emit(4, f"for i in range({n_names}):", "    if pos[i] >= 0:", "        sel[pos[i]] = i")
    if p.staged:  # every value to its own row of W, then the kept rows to ``out``: no test in the loop
        emit(4, f"W = np.zeros(({n_names}, {_BLOCK}))")
    else:  # a scenario's values side by side, then the kept ones to ``out``; a hoisted constant from P
        emit(4, f"V = np.zeros({max(1, n_names)})")
        for name in p.hoisted:
            i = p.names.index(name)
            emit(4, f"if pos[{i}] >= 0:", f"    sel[pos[{i}]] = {-1 - p.pidx[name]}")
    for name in p.params:
        if name not in p.hoisted_set and p.model.variables[name].kind == "constant":
            emit(4, f"u{p.pidx[name]} = use[{p.pidx[name]}]")
    emit(4, f"D = np.zeros(({p.n_statefuls}, 3))")


def _emit_block_state(p: _Plan, emit: _Emitter) -> None:
    """The start of a block of scenarios: its stocks and the statefuls' state."""
    emit(4, f"for b0 in range(0, n, {_BLOCK}):")
    emit(8, f"m = min({_BLOCK}, n - b0)")
    for i in range(len(p.stocks)):
        emit(8, f"x{i} = np.zeros(m)")
    emit(8, f"ST = np.zeros(({p.n_statefuls}, 3, m))")
    for st in p.statefuls:
        if st.kind == "fixed":
            emit(8, f"po{st.k} = np.ones(m, np.int64)", f"first{st.k} = np.zeros(m)")
        elif st.kind == "delay":
            emit(8, f"o{st.k} = np.full(m, {st.order}, np.int64)")
    emit(8, "t = start")


def _emit_initial(p: _Plan, name: str, emit: _Emitter) -> None:
    """One variable's initial value, in the engine's way (a set parameter wins over the equation)."""
    var, v = p.model.variables[name], p.v
    if var.kind in ("constant", "stock"):
        j = p.pidx[name]
        code, found = p.equations[name] if var.kind == "constant" else p.initials[name]
        test = f"use[{j}]" if var.kind == "constant" else f"use[{j}] and {p.par(j)} == {p.par(j)}"
        emit(12, f"if {test}:", f"    {v[name]} = {p.par(j)}", "else:")
        for st in found:
            emit(16, *_Generator.init_stateful(st))
        emit(16, f"{v[name]} = {code}")
    elif name in p.at_start:
        code, found = p.equations[name]
        for st in found:
            emit(12, *_Generator.init_stateful(st))
        emit(12, f"{v[name]} = {code}")


def _emit_initial_values(p: _Plan, emit: _Emitter) -> None:
    """Initial values, one scenario at a time, in the engine's order; auxiliaries only where something reads them."""
    emit(8, "for s in range(m):")
    emit(12, "sg = b0 + s")
    for st in p.statefuls:
        emit(12, f"ini{st.k} = False")
    for name in p.names:
        emit(12, f"{p.v[name]} = {p.par(p.pidx[name])}" if name in p.hoisted_set else f"{p.v[name]} = 0.0")
    for name in p.init_order:
        if name not in p.hoisted_set:
            _emit_initial(p, name, emit)
    for st in p.statefuls:
        emit(12, *_Generator.init_stateful(st))
    for i, name in enumerate(p.stocks):
        emit(12, f"x{i}[s] = {p.v[name]}")
    # a fixed delay's pipes, one after another in one array: scenario s owns at[s] .. at[s] + po[s] - 1
    for st in p.fixed_delays:
        k = st.k
        emit(8, f"at{k} = np.zeros(m, np.int64)", f"ptr{k} = np.zeros(m, np.int64)", "total = 0")
        emit(8, "for s in range(m):", f"    at{k}[s] = total", f"    total += po{k}[s]")
        emit(8, f"pipe{k} = np.zeros(total)")
        emit(8, "for s in range(m):", f"    for i in range(po{k}[s]):", f"        pipe{k}[at{k}[s] + i] = first{k}[s]")


def _emit_equations(p: _Plan, emit: _Emitter, ind: int) -> None:
    """One scenario's values at this step, in the engine's order, and the finiteness check."""
    v = p.v
    emit(ind, "sg = b0 + s")
    for name in p.hoisted:
        emit(ind, f"{v[name]} = {p.par(p.pidx[name])}")
    for i, name in enumerate(p.stocks):
        emit(ind, f"{v[name]} = x{i}[s]")
    for name in p.model.order:
        if name in p.hoisted_set:
            continue
        code, _ = p.equations[name]
        if p.model.variables[name].kind == "constant":
            j = p.pidx[name]
            emit(ind, f"if u{j}:", f"    {v[name]} = {p.par(j)}", "else:", f"    {v[name]} = {code}")
        else:
            emit(ind, f"{v[name]} = {code}")
    emit(ind, "if check:", "    tot = 0.0")
    for name in p.names:
        if name not in p.hoisted_set:
            emit(ind, f"    tot += {v[name]}")
    emit(ind, "    if not np.isfinite(tot):", "        bad = 1")


def _emit_save(p: _Plan, emit: _Emitter, ind: int) -> None:
    """A saved step's values: a variable is written where it is kept; a group's test spares the tests of
    its variables that are not."""
    v, names = p.v, p.names
    if p.staged and names:
        emit(ind, "if saving:", *(f"    W[{i}, s] = {v[name]}" for i, name in enumerate(names)))
    elif names:
        emit(ind, "if saving:", *(f"    V[{i}] = {v[n]}" for i, n in enumerate(names) if n not in p.hoisted_set))
        emit(ind, "    for j in range(nout):", "        k = sel[j]", "        if k >= 0:")
        emit(ind + 12, "out[row, j, lo + sg] = V[k]")
        emit(ind + 8, "else:", f"    out[row, j, lo + sg] = {p.par('-1 - k')}")


def _update(p: _Plan) -> list[str]:
    """One Euler step of the stocks and of the statefuls' state (skipped on the last step)."""
    update = [f"d{i} = {p.derivatives[name]}" for i, name in enumerate(p.stocks)]
    for st in p.statefuls:
        update += _Generator.derivative(st)
    for st in p.statefuls:
        if st.kind in _CONTINUOUS:
            count = f"o{st.k}[s]" if st.kind == "delay" else str(st.order)
            update += [f"for i in range({count}):", f"    ST[{st.k}, i, s] = ST[{st.k}, i, s] + D[{st.k}, i] * dt"]
    for st in p.fixed_delays:
        k = st.k
        update += [
            f"pipe{k}[at{k}[s] + ptr{k}[s]] = {st.args[0]}",
            f"ptr{k}[s] = (ptr{k}[s] + 1) % po{k}[s]",
            f"ST[{k}, 0, s] = pipe{k}[at{k}[s] + ptr{k}[s]]",
        ]
    for i, name in enumerate(p.stocks):
        if p.model.variables[name].non_negative:
            update.append(f"x{i}[s] = _max2({p.v[name]} + d{i} * dt, 0.0)")
        else:
            update.append(f"x{i}[s] = {p.v[name]} + d{i} * dt")
    return update


def _emit_steps(p: _Plan, emit: _Emitter) -> None:
    """The steps: every scenario of the block takes one step, then the block takes the next."""
    emit(8, "step = 0", "row = 0", "while True:")
    emit(12, "saving = row < nsave and step == save_steps[row]", "last = step >= last_step", "bad = 0")
    emit(12, "for s in range(m):")
    ind = 16
    _emit_equations(p, emit, ind)
    _emit_save(p, emit, ind)
    update = _update(p)
    if update:
        emit(ind, "if not last:")
        emit(ind + 4, *update)
    emit(12, "if bad:", "    flags[b0] = 1", "    return")
    if p.staged:
        emit(12, "if saving:", "    ob = lo + b0", "    for j in range(nout):", "        w = sel[j]")
        # an unsigned index: no test for a negative one, so the copy is a plain contiguous loop
        emit(20, "for s in range(m):", "    out[row, j, np.uint64(ob + s)] = W[w, s]")
    emit(12, "if saving:", "    row += 1")
    emit(12, "if last:", "    break")
    emit(12, "t = t + dt", "step += 1")


_MODULE_HEADER = (
    "import numba",
    "import numpy as np",
    "from stocks_flows.kernel_runtime import (",
    "    _and, _eq, _ge, _gt, _interp, _interp_ext, _le, _lt, _max2, _min2, _mod, _ne, _not, _or, _pymod,",
    "    _where, _xidz,",
    ")",
    "",
    "",
    "@numba.njit(cache=True, error_model='numpy')",
)


def generate_source(model: Model, init_order: Sequence[str]) -> _Source:
    """The kernel module for ``model`` (raises ``_Unsupported`` for what it does not translate).

    ``init_order`` is the order in which the engine computes initial values.
    """
    p = _plan(model, init_order)
    emit = _Emitter()
    _emit_setup(p, emit)
    _emit_block_state(p, emit)
    _emit_initial_values(p, emit)
    _emit_steps(p, emit)
    header = list(_MODULE_HEADER)
    if p.gen.steps:  # DATA tables read by steps: one more runtime function (other kernels' text unchanged)
        header.insert(2, "from stocks_flows.kernel_runtime import _step")
    text = "\n".join([*header, *emit.lines, ""])
    g = p.gen
    delays = [st.k for st in g.statefuls if st.kind == "delay"]
    numbers = np.asarray(g.numbers or [0.0], dtype=float)
    return _Source(text, p.names, p.params, p.n_statefuls, g.lookup_x, g.lookup_y, delays, p.hoisted, numbers, p.staged)


# --- the allow-list --------------------------------------------------------------------------

_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign, ast.Expr,
    ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.If, ast.While,
    ast.For, ast.Break, ast.Return, ast.Call, ast.Attribute, ast.Subscript, ast.Tuple, ast.Load, ast.Store,
    ast.Import, ast.ImportFrom, ast.alias, ast.keyword,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.Not,
    ast.And, ast.Or, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
)  # fmt: skip
_ALLOWED_IMPORTS = {"numba", "numpy", "stocks_flows.kernel_runtime"}
_ALLOWED_ATTRIBUTES = {
    "np": {"exp", "log", "log10", "sqrt", "sin", "cos", "tan", "arctan", "arcsin", "arccos", "power", "trunc", "pi",
           "sinh", "cosh", "tanh", "zeros", "ones", "full", "rint", "isfinite", "int64", "uint64"},
    "numba": {"njit"},
    "P": {"shape"}, "save_steps": {"shape"}, "out": {"shape"},
}  # fmt: skip


def check_source(text: str) -> None:
    """Refuse generated source that uses anything beyond the kernel's own small vocabulary.

    The generator writes only its own identifiers, numbers and a fixed set of
    functions; this check makes that a property of the text rather than a hope.

    >>> check_source("import os")
    Traceback (most recent call last):
    ...
    ValueError: generated kernel imports 'os'
    """
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"generated kernel contains {type(node).__name__} at line {getattr(node, 'lineno', '?')}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if module not in _ALLOWED_IMPORTS or (isinstance(node, ast.Import) and len(node.names) != 1):
                raise ValueError(f"generated kernel imports {module!r}")
        elif isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if base not in _ALLOWED_ATTRIBUTES or node.attr not in _ALLOWED_ATTRIBUTES[base]:
                raise ValueError(f"generated kernel reads the attribute {node.attr!r} at line {node.lineno}")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, int | float | bool):
            if node.value != "numpy":  # error_model='numpy'
                raise ValueError(f"generated kernel contains the constant {node.value!r} at line {node.lineno}")
        elif isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ValueError(f"generated kernel names {node.id!r} at line {node.lineno}")
        elif isinstance(node, ast.Return) and node.value is not None:
            raise ValueError(f"generated kernel returns a value at line {node.lineno}")
        elif isinstance(node, ast.FunctionDef) and node.name != "kernel":
            raise ValueError(f"generated kernel defines {node.name!r}")


# --- compiling and running ------------------------------------------------------------------


def unsupported_reason(model: Model, init_order: Sequence[str]) -> str | None:
    """Why the kernel cannot run ``model`` (``None`` when it can)."""
    return _source_of(model, init_order)[1]


@dataclass
class Kernel:
    """A compiled model: :meth:`run` fills the engine's output array for a batch of scenarios."""

    model: Model
    source: _Source
    function: Callable[..., None]
    path: Path

    def run(
        self,
        parameters: Mapping[str, np.ndarray],
        n: int,
        outputs: Sequence[str],
        rows: Sequence[tuple[int, float]],
        out: np.ndarray,
        check: bool,
        fixed: Mapping[str, np.ndarray] | None = None,
        offset: int = 0,
    ) -> bool:
        """Simulate ``n`` scenarios into ``out[time, variable, offset:offset + n]``.

        ``out`` has the engine's layout, ``(rows, outputs, scenarios)``: the kernel
        writes each saved value in its place, with no copy afterwards. ``fixed``
        holds the value, per scenario, of each constant in ``source.hoisted`` (the
        engine computes them: one meaning per equation).

        Returns False when the NumPy engine must redo this batch: a value became
        non-finite (with ``check``), or a delay's order differs between scenarios,
        so that the engine's own error, with its wording, is what the user sees.
        """
        src = self.source
        width = max(1, len(src.params))
        P = np.zeros((width, n))  # one row per parameter; a larger model reads its transpose
        use = np.zeros(width, dtype=np.bool_)
        column = {name: j for j, name in enumerate(src.params)}
        for name, values in parameters.items():
            P[column[name]] = np.broadcast_to(np.asarray(values, dtype=float), (n,))
            use[column[name]] = True
        for name in src.hoisted:
            if not use[column[name]]:
                if fixed is None or name not in fixed:
                    raise ValueError(f"the value of {name} is needed")
                P[column[name]] = np.broadcast_to(np.asarray(fixed[name], dtype=float), (n,))
        if check and src.hoisted and not np.isfinite(P[[column[h] for h in src.hoisted]]).all():
            return False
        if not src.staged:
            P = np.ascontiguousarray(P.T)
        index = {name: i for i, name in enumerate(src.variables)}
        pos = np.full(len(src.variables), -1, dtype=np.int64)
        for j, name in reversed(list(enumerate(outputs))):
            pos[index[name]] = j
        save_steps = np.asarray([step for step, _ in rows], dtype=np.int64)
        last_step = int(save_steps[-1]) if len(save_steps) else 0
        flags = np.zeros(n, dtype=np.int64)
        orders = np.zeros((n, src.n_statefuls), dtype=np.int64)
        target, lo = (out, offset) if out.flags.c_contiguous else (np.empty((len(rows), len(outputs), n)), 0)
        with np.errstate(all="ignore"):
            self.function(
                P, use, float(self.model.time.start), float(self.model.time.dt), last_step, save_steps, pos,
                target, lo, src.lookup_x, src.lookup_y, src.numbers, flags, orders, bool(check),
            )  # fmt: skip
        for j, name in enumerate(outputs):  # a variable asked for twice is computed once
            if pos[index[name]] != j:
                target[:, j, lo : lo + n] = target[:, pos[index[name]], lo : lo + n]
        if target is not out:
            out[:, :, offset : offset + n] = target
        if flags.any():
            return False
        return all(len(np.unique(orders[:, k])) <= 1 for k in src.delays)


_LOADED: dict[str, Kernel] = {}
_BY_MODEL: dict[int, tuple[weakref.ref, _Source | None, str | None]] = {}


def _source_of(model: Model, init_order: Sequence[str]) -> tuple[_Source | None, str | None]:
    """The generated source of ``model`` (or why there is none), made once per model object."""
    key = id(model)
    found = _BY_MODEL.get(key)
    if found is not None and found[0]() is model:
        return found[1], found[2]
    try:
        src, reason = generate_source(model, init_order), None
    except _Unsupported as exc:
        src, reason = None, str(exc)
    except RecursionError:
        src, reason = None, "an equation nested too deeply to translate"
    # the callback holds the dict itself: at interpreter exit the module global may already be None
    _BY_MODEL[key] = (weakref.ref(model, lambda _ref, key=key, cache=_BY_MODEL: cache.pop(key, None)), src, reason)
    return src, reason


def _digest(src: _Source) -> str:
    return hashlib.sha256(f"{_KERNEL_VERSION}\n{src.text}".encode()).hexdigest()[:24]


def is_cached(model: Model, init_order: Sequence[str]) -> bool:
    """Whether a compiled kernel of ``model`` is already on disk (or loaded in this process)."""
    src, _ = _source_of(model, init_order)
    if src is None:
        return False
    digest = _digest(src)
    if digest in _LOADED:
        return True
    folder = cache_dir() / "__pycache__"
    return folder.is_dir() and any(folder.glob(f"tenor_kernel_{digest}.kernel-*.nbi"))


def compile_kernel(model: Model, init_order: Sequence[str]) -> Kernel | None:
    """The compiled kernel of ``model``, from the disk cache when it is there; ``None`` if unsupported."""
    src, _ = _source_of(model, init_order)
    if src is None:
        return None
    digest = _digest(src)
    cached = _LOADED.get(digest)
    if cached is not None:
        return Kernel(model, src, cached.function, cached.path)
    try:
        check_source(src.text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return None
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"tenor_kernel_{digest}.py"
    if not path.exists() or path.read_text() != src.text:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kernel-", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(src.text)
        os.replace(tmp, path)
    name = f"tenor_kernel_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    kernel = Kernel(model, src, module.kernel, path)
    _LOADED[digest] = kernel
    return kernel
