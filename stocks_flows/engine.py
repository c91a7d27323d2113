"""The vectorised engine: many scenarios of one model in lockstep, as NumPy arrays.

A system-dynamics run is a loop over time steps. At each step the auxiliaries
and flows are computed from the stocks (in :attr:`Model.order`), then every
stock moves by its net flow times the step (Euler), or by the weighted average
of four slopes (RK4). Running N scenarios one at a time repeats the Python
work N times; here every value carries a *scenario axis* (an array of length
N), so the Python work is done once per step and NumPy does the arithmetic for
all scenarios together.

The engine follows PySD's conventions so the two agree to rounding error:
time advances by repeated addition of ``dt``; a row is saved when the time
since the start is a multiple of the save step (relative precision 1e-5 of
``dt``); a non-negative stock is clipped at zero after each step; ``step``,
``pulse``, ``ramp``, ``xidz``, ``zidz``, ``int`` and ``mod`` use PySD's
definitions; smooths and delays hold hidden stocks as PySD's ``Smooth``,
``Delay`` and ``DelayFixed`` do.

Equations are turned into closures over NumPy functions by dispatching on the
AST node type; nothing is generated as source code or evaluated from text.

A value that becomes NaN or infinite stops the run with a
:class:`~tenor.core.errors.SimulationError` naming the variable, the time and the
scenario (unless ``on_nonfinite="keep"``).

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {start: 0, stop: 2, dt: 0.5}
... constants: {k: 0.5}
... stocks: {s: {initial: 100}}
... flows: {decay: {from: s, equation: k * s}}
... ''')
>>> run = simulate(model, {"k": [0.5, 1.0]})
>>> run.time.tolist()
[0.0, 0.5, 1.0, 1.5, 2.0]
>>> run.values[:, -1, run.variables.index("s")].round(4).tolist()
[31.6406, 6.25]
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from stocks_flows import draws, time_axis
from stocks_flows.expr import Binary, Call, Expr, Fold, If, Name, Number, Time, Unary, children, walk
from stocks_flows.functions import BUILTINS, SMALL, Fn, _xidz, call_name
from stocks_flows.limits import format_bytes, max_result_bytes, max_steps, steps_needed, time_axis_problem
from stocks_flows.model import Lookup, Model, TimeSettings
from tenor.core.errors import SimulationError
from tenor.core.specfile import did_you_mean

__all__ = [
    "KERNELS",
    "SMALL",
    "NonFiniteError",
    "Run",
    "check_memory",
    "memory_estimate",
    "save_times",
    "saved_rows",
    "simulate",
    "start_time_settings",
]


class NonFiniteError(SimulationError):
    """A value became NaN or infinite: which variable, at which time, in which scenario."""

    def __init__(self, variable: str, what: str, time: float, scenario: str, *, hint: str | None = None) -> None:
        super().__init__(f"{variable} is {what} at time {time:g} in scenario {scenario!r}", hint=hint)
        self.variable, self.what, self.time, self.scenario = variable, what, time, scenario


_RPREC = 1e-5


@dataclass
class Run:
    """Results of a run: ``values[scenario, time, variable]``."""

    time: np.ndarray
    variables: list[str]
    values: np.ndarray
    scenarios: list[str]
    parameters: dict[str, np.ndarray] = field(default_factory=dict)

    def frame(self, scenario: int = 0) -> Any:
        """One scenario as a wide DataFrame: column ``time``, then one column per variable."""
        import pandas as pd

        df = pd.DataFrame(self.values[scenario], columns=self.variables)
        df.insert(0, "time", self.time)
        return df

    def to_frame(self) -> Any:
        """Tidy long-format DataFrame: one row per (scenario, time), parameter values as columns."""
        import pandas as pd

        n_scen, n_time, _ = self.values.shape
        data: dict[str, Any] = {
            "scenario": np.repeat(np.asarray(self.scenarios, dtype=object), n_time),
            "time": np.tile(self.time, n_scen),
        }
        for name, values in self.parameters.items():
            data[name] = np.repeat(np.asarray(values, dtype=float), n_time)
        flat = self.values.reshape(n_scen * n_time, len(self.variables))
        for j, name in enumerate(self.variables):
            if name not in data:
                data[name] = flat[:, j]
        return pd.DataFrame(data)

    def to_xarray(self) -> Any:
        """An xarray Dataset with dimensions (scenario, time), one data variable per model variable."""
        import xarray as xr

        coords: dict[str, Any] = {"scenario": list(self.scenarios), "time": self.time}
        for name, values in self.parameters.items():
            if name not in self.variables:
                coords[name] = ("scenario", np.asarray(values, dtype=float))
        data = {name: (("scenario", "time"), self.values[:, :, j]) for j, name in enumerate(self.variables)}
        return xr.Dataset(data, coords=coords)


def _check_axis(start: float, stop: float, dt: float, save_step: float) -> None:
    problem = time_axis_problem(start, stop, dt, save_step)
    if problem is not None:
        raise SimulationError(f"time axis: {problem[1]}", hint=problem[2])


def saved_rows(start: float, stop: float, dt: float, save_step: float) -> int:
    """How many rows a run saves, at most (without stepping through time)."""
    _check_axis(start, stop, dt, save_step)
    every = max(1, round(save_step / dt))
    steps = int(np.ceil((stop - start) / dt - 1e-9))
    return steps // every + 1 + (steps % every > 0)


def save_times(start: float, stop: float, dt: float, save_step: float) -> list[tuple[int, float]]:
    """(step index, time) of every saved row, following PySD's stepping rule.

    Raises
    ------
    SimulationError
        When the time axis cannot be run (see :func:`stocks_flows.limits.time_axis_problem`).

    >>> [t for _, t in save_times(0, 1, 0.25, 0.5)]
    [0.0, 0.5, 1.0]
    """
    _check_axis(start, stop, dt, save_step)
    out: list[tuple[int, float]] = []
    t, i = start, 0
    prec = dt * _RPREC
    digits = -int(np.log10(prec))
    last = int(np.ceil((stop - start) / dt)) + 1  # a bound: time always reaches stop by then
    while True:
        delay = t - start
        if delay % save_step < prec or -delay % save_step < prec:
            out.append((i, float(np.round(t, digits)) if abs(digits) < 300 else float(t)))
        if not t + prec < stop or i >= last:
            break
        t = t + dt
        i += 1
    return out


@functools.lru_cache(maxsize=64)
def _saved_rows(start: float, stop: float, dt: float, save_step: float) -> tuple[tuple[int, float], ...]:
    """:func:`save_times`, kept for the next run of the same time axis (batches repeat it often)."""
    return tuple(save_times(start, stop, dt, save_step))


# --- compiling equations -------------------------------------------------------------------


class _Stateful:
    """A smooth, a delay, a fixed delay or an init, at one place in one equation."""

    def __init__(
        self, func: str, args: tuple[Fn, ...], init_args: tuple[Fn, ...], where: str = "", label: str = ""
    ) -> None:
        self.func = func
        self.args = args
        self.init_args = init_args
        self.where = where  # "variable: " for messages
        self.label = label or f"{func}()"  # the call as the model's file names it
        self.state: Any = None
        self.times: Any = None
        memory = BUILTINS[func].memory
        self.order = memory.order if memory is not None else 1

    def initialize(self, env: dict, n: int, dt: float) -> None:
        if self.func == "init":
            self.state = _full(self.args[0](env), n)
            return
        if self.func in ("sample_if_true", "active_initial"):
            self.state = _full(self.init_args[0](env), n)
            return
        if self.func in ("trend", "forecast"):  # the average that gives the initial trend
            self.state = _full(self.args[0](env), n) / (1 + self.init_args[0](env) * self.args[1](env))
            return
        if self.func == "delay_fixed":
            delay_time = _full(self.args[1](env), n)
            init = _full(self.args[2](env), n)
            if not np.all(np.isfinite(delay_time)):
                raise SimulationError(
                    f"delay_fixed(): the delay time is {delay_time[~np.isfinite(delay_time)][0]:g}",
                    hint="give the fixed delay a finite delay time",
                )
            # a pipeline longer than the run never releases what enters it: cut it to the run's length
            longest = float(env.get("__steps__", max_steps())) + 2
            order = np.round(np.clip(delay_time / dt, 1.0, longest) + SMALL).astype(int)
            check_memory(
                int(order.max()) * n * 8,
                f"delay_fixed(): a pipeline of {int(order.max()):,} steps for {n:,} scenarios; "
                "use a shorter delay or a larger dt, or a smaller chunk size",
            )
            self.pipe = np.tile(init, (int(order.max()), 1))
            self.pipe_order = order
            self.pointer = np.zeros(n, dtype=int)
            self.state = init.copy()
            return
        init = _full(self.init_args[0](env), n)
        if self.order == 0:  # DELAY N, SMOOTH N: the order is the last argument
            self.order = self._given_order(env, n)
        if self.func.startswith("delay"):
            delay_time = _full(self.args[1](env), n)
            self.order = self._delay_order(delay_time, dt)
            init = init * delay_time
            if self.func == "delayn":  # PySD's DelayN keeps the delay time each stage's contents entered with
                self.times = np.tile(delay_time, (self.order, 1))
        self.state = np.tile(init, (self.order, 1))

    def _given_order(self, env: dict, n: int) -> int:
        """The order a call of ``delayn`` or ``smoothn`` gives, read once when the run starts (as Vensim
        and PySD do): one whole number of at least 1, the same in every scenario."""
        found = np.unique(_full(self.args[3](env), n))
        if len(found) > 1:
            raise SimulationError(
                f"{self.where}{self.label}: the order differs between scenarios ({found[0]:g} and {found[1]:g})",
                hint="give the order one value in every scenario (the stages of a run are fixed when it starts)",
            )
        order = float(found[0])
        whole = round(order) if np.isfinite(order) else 0
        if not (whole >= 1 and abs(order - whole) <= 1e-9 * whole):
            raise SimulationError(
                f"{self.where}{self.label}: the order is {order:g} when the run starts, "
                "not a whole number of at least 1",
                hint="give the order as a whole number (1, 2, 3, ...), or an expression that is one at the start",
            )
        return int(whole)

    def _delay_order(self, delay_time: np.ndarray, dt: float) -> int:
        """PySD lowers a delay's order until order * dt fits in the delay time; so does the engine."""
        orders = np.full(delay_time.shape, self.order)
        while np.any(too_short := (orders * dt > delay_time) & (orders > 0)):
            orders = np.where(too_short, orders - 1, orders)
        found = np.unique(orders)
        if len(found) > 1 or found[0] < 1:
            raise SimulationError(
                f"{self.func}(): the delay time is shorter than {self.order} time steps in some scenarios "
                "and not in others, so PySD would lower the order in some of them only",
                hint="use delay times of at least order x dt in every scenario, or a smaller dt",
            )
        return int(found[0])

    def output(self, env: dict) -> Any:
        if self.state is None:
            self.initialize(env, env["__n__"], env["__dt__"])
        if self.func in ("init", "delay_fixed"):
            return self.state
        if self.func == "sample_if_true":
            return np.where(self.args[0](env), self.args[1](env), self.state)
        if self.func == "active_initial":  # the initial value only while the run starts
            return self.state if env.get("__initial__") else self.args[0](env)
        if self.func == "trend":
            return _xidz(self.args[0](env) - self.state, self.args[1](env) * np.abs(self.state), 0.0)
        if self.func == "forecast":  # Vensim: input * (1 + ZIDZ(input - AV, average time * AV) * horizon)
            x = self.args[0](env)
            return x * (1 + _xidz(x - self.state, self.args[1](env) * self.state, 0.0) * self.args[2](env))
        if self.func == "delayn":
            return self.state[-1] / self.times[0]
        if self.func.startswith("delay"):
            return self.state[-1] / self.args[1](env)
        return self.state[-1]

    def derivative(self, env: dict) -> Any:
        if self.func in ("init", "delay_fixed", "sample_if_true", "active_initial"):
            return None
        x = self.args[0](env)
        if self.func in ("trend", "forecast"):
            return (x - self.state) / self.args[1](env)
        if self.func.startswith("smooth"):
            targets = np.roll(self.state, 1, axis=0)
            targets[0] = x
            return (targets - self.state) * self.order / self.args[1](env)
        outflows = self.state / (self._shifted_times(env) if self.func == "delayn" else self.args[1](env))
        inflows = np.roll(outflows, 1, axis=0)
        inflows[0] = x
        return (inflows - outflows) * self.order

    def _shifted_times(self, env: dict) -> np.ndarray:
        """The stages' delay times one step on: each moves down a stage and the first takes today's."""
        times = np.roll(self.times, 1, axis=0)
        times[0] = _full(self.args[1](env), times.shape[1])
        return times

    def discrete_update(self, env: dict) -> None:
        if self.func == "delayn":  # once a step, after the step (so RK4's four slopes share one shift)
            self.times = self._shifted_times(env)
            return
        if self.func == "sample_if_true":  # what this step showed is held for the next
            self.state = _full(np.where(self.args[0](env), self.args[1](env), self.state), len(self.state))
            return
        if self.func != "delay_fixed":
            return
        cols = np.arange(self.state.shape[0])
        self.pipe[self.pointer, cols] = _full(self.args[0](env), len(cols))
        self.pointer = (self.pointer + 1) % self.pipe_order
        self.state = self.pipe[self.pointer, cols].copy()


def _full(value: Any, n: int) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,)))


def _lookup_fn(table: Lookup) -> Callable[[Any], Any]:
    xs = np.asarray(table.xs, dtype=float)
    ys = np.asarray(table.ys, dtype=float)
    if table.mode != "interpolate":
        return _stepped(xs, ys, table.mode)
    if not table.extrapolate or len(xs) < 2:
        return lambda x: np.interp(x, xs, ys)
    k_low = (ys[1] - ys[0]) / (xs[1] - xs[0])
    k_high = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])

    def extrapolated(x: Any) -> Any:
        inside = np.interp(x, xs, ys)
        return np.where(
            x < xs[0],
            ys[0] + k_low * (x - xs[0]),
            np.where(x > xs[-1], ys[-1] + k_high * (x - xs[-1]), inside),
        )

    return extrapolated


def _stepped(xs: np.ndarray, ys: np.ndarray, mode: str) -> Callable[[Any], Any]:
    """A DATA table read by Vensim's ``hold_backward`` or ``look_forward`` (ends held), or ``raw``
    (a value only at a point of the table, NaN elsewhere, as PySD reads it)."""
    last = len(xs) - 1

    def at(x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        hi = np.clip(np.searchsorted(xs, x), 0, last)
        lo = np.clip(hi - 1, 0, last)
        near = np.where(np.abs(xs[hi] - x) <= np.abs(xs[lo] - x), hi, lo)
        hit = np.isclose(xs[near], x, rtol=1e-12, atol=1e-12)  # a time that is a point, up to rounding
        x = np.where(hit, xs[near], x)
        if mode == "hold_backward":
            return ys[np.clip(np.searchsorted(xs, x, side="right") - 1, 0, last)]
        if mode == "look_forward":
            return ys[np.clip(np.searchsorted(xs, x, side="left"), 0, last)]
        return np.where(hit, ys[near], np.nan)

    return at


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
    "^": np.power,
    "=": np.equal,
    "<>": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "and": np.logical_and,
    "or": np.logical_or,
}


class _Compiler(Fold[Fn]):
    """Equations as closures over NumPy, node by node; built-ins come from the function registry."""

    def __init__(self, lookups: Mapping[str, Lookup], origin: str = "spec") -> None:
        self.lookups = {name: _lookup_fn(table) for name, table in lookups.items()}
        self.statefuls: list[_Stateful] = []
        self.origin = origin
        self.variable = ""
        self.draws = 0

    def compile(self, node: Expr, variable: str = "") -> Fn:
        self.variable = variable
        self.draws = 0  # random calls are numbered within each equation: the same equation, the same sites
        return self(node)

    def number(self, node: Number) -> Fn:
        value = np.float64(node.value)
        return lambda env: value

    def time(self, node: Time) -> Fn:
        return lambda env: env["__time__"]

    def name(self, node: Name) -> Fn:
        name = node.name
        return lambda env: env[name]

    def unary(self, node: Unary, inner: Fn) -> Fn:
        if node.op == "-":
            return lambda env: np.negative(inner(env))
        if node.op == "not":
            return lambda env: np.logical_not(inner(env))
        return inner

    def binary(self, node: Binary, left: Fn, right: Fn) -> Fn:
        op = _BINARY[node.op]
        return lambda env: op(left(env), right(env))

    def if_(self, node: If, cond: Fn, then: Fn, other: Fn) -> Fn:
        return lambda env: np.where(cond(env), then(env), other(env))

    def call(self, node: Call, args: list[Fn]) -> Fn:
        f = node.func
        if node.lookup:
            table = self.lookups[f]
            arg = args[0]
            return lambda env: table(arg(env))
        builtin = BUILTINS.get(f)
        if builtin is not None and builtin.stateful:
            return self._stateful(f, tuple(args))
        if builtin is None or builtin.numpy is None:
            raise SimulationError(f"the engine cannot run the function {f}()")
        if builtin.draws:  # each random call has its own stream: its site is the variable and the call's rank
            site = draws.site_key(self.variable, self.draws)
            self.draws += 1
            return builtin.numpy((*args, lambda env: site))
        return builtin.numpy(tuple(args))

    def _stateful(self, f: str, args: tuple[Fn, ...]) -> Fn:
        if f == "init" or f == "delay_fixed":
            init_args: tuple[Fn, ...] = ()
        elif f == "trend":
            init_args = (args[2] if len(args) > 2 else (lambda env: np.float64(0.0)),)
        elif f == "forecast":
            init_args = (args[3] if len(args) > 3 else (lambda env: np.float64(0.0)),)
        elif f == "active_initial":
            init_args = (args[1],)
        else:
            init_args = (args[2],) if len(args) > 2 else (args[0],)
        where = f"{self.variable}: " if self.variable else ""
        stateful = _Stateful(f, args, init_args, where, call_name(f, self.origin))
        self.statefuls.append(stateful)
        return stateful.output


# --- running -------------------------------------------------------------------------------


_ORDERS: dict[int, tuple[weakref.ref, list[str]]] = {}


def _initial_order(model: Model) -> list[str]:
    """Variables in the order their initial values can be computed (found once per model object)."""
    found = _ORDERS.get(id(model))
    if found is not None and found[0]() is model:
        return found[1]
    order = _find_initial_order(model)
    key = id(model)
    # the callback holds the dict itself: at interpreter exit the module global may already be None
    _ORDERS[key] = (weakref.ref(model, lambda _ref, key=key, cache=_ORDERS: cache.pop(key, None)), order)
    return order


def _find_initial_order(model: Model) -> list[str]:
    import networkx as nx

    graph = nx.DiGraph()
    names = list(model.variables)
    graph.add_nodes_from(names)
    for name, var in model.variables.items():
        tree = var.initial if var.kind == "stock" else var.equation
        if tree is None:
            continue
        for ref in _initial_references(tree):
            if ref in model.variables:
                graph.add_edge(ref, name)
    try:
        position = {name: i for i, name in enumerate(names)}
        return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        cycle = [e[0] for e in nx.find_cycle(graph)]
        raise SimulationError(
            "the initial values depend on each other in a circle: " + " -> ".join([*cycle, cycle[0]]),
            hint="give one of these stocks (or smooths) an explicit initial value",
        ) from None


def _read_at_start(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of ``node`` read when the run starts (a smooth's input is not, its initial value is)."""
    if isinstance(node, Call):
        builtin = BUILTINS.get(node.func)
        if builtin is not None and builtin.memory is not None and builtin.memory.at_start is not None:
            return tuple(node.args[i] for i in builtin.memory.at_start(len(node.args)))
    return children(node)


def _initial_references(tree: Expr) -> set[str]:
    return {node.name for node in walk(tree, _read_at_start) if isinstance(node, Name)}


@dataclass
class _Compiled:
    """One chunk's closures and per-scenario values."""

    equations: dict[str, Fn]
    derivatives: dict[str, Fn]
    initials: dict[str, Fn]
    statefuls: list[_Stateful]
    constants: dict[str, np.ndarray]
    initial_overrides: dict[str, np.ndarray]
    n: int


class _Program:
    """A model ready to run; :meth:`run` simulates one chunk of scenarios."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.stocks = model.stocks
        self.non_negative = [s for s in self.stocks if model.variables[s].non_negative]
        self.init_order = _initial_order(model)
        ts = model.time
        self.steps = steps_needed(ts.start, ts.stop, ts.dt)

    def fixed_constants(self, names: Sequence[str], n: int, parameters: Mapping[str, np.ndarray]) -> dict:
        """Values of constants that depend on constants only (in initial order), one per scenario."""
        compiler = _Compiler(self.model.lookups)
        env: dict[str, Any] = {"__time__": self.model.time.start, "__dt__": self.model.time.dt, "__n__": n}
        with np.errstate(all="ignore"):
            for name in names:
                given = parameters.get(name)
                if given is None:
                    given = compiler.compile(self.model.variables[name].equation)(env)
                env[name] = _full(given, n)
        return env

    def compile(self, n: int, parameters: Mapping[str, np.ndarray]) -> _Compiled:
        """Fresh closures (statefuls hold state, so each chunk gets its own)."""
        model = self.model
        compiler = _Compiler(model.lookups, model.origin)
        fixed = {k: np.asarray(v, dtype=float) for k, v in parameters.items()}
        return _Compiled(
            equations={name: compiler.compile(model.variables[name].equation, name) for name in model.order},
            derivatives={s: compiler.compile(model.variables[s].equation, s) for s in self.stocks},
            initials={
                s: compiler.compile(model.variables[s].initial or Number(0.0), f"{s} (initial)") for s in self.stocks
            },
            statefuls=compiler.statefuls,
            constants={k: v for k, v in fixed.items() if model.variables[k].kind == "constant"},
            initial_overrides={k: v for k, v in fixed.items() if model.variables[k].kind == "stock"},
            n=n,
        )

    def run(
        self,
        n: int,
        parameters: Mapping[str, np.ndarray],
        outputs: list[str],
        rows: list[tuple[int, float]],
        names: Sequence[str],
        on_nonfinite: str,
        out: np.ndarray,
    ) -> None:
        """Simulate ``n`` scenarios, writing ``out[time, variable, scenario]``."""
        c = self.compile(n, parameters)
        with np.errstate(all="ignore"):
            state = self._initialize(c)
            self._loop(c, state, outputs, rows, names, on_nonfinite == "raise", out)

    def _initialize(self, c: _Compiled) -> dict[str, np.ndarray]:
        """Initial values of every variable, in dependency order; returns the stocks."""
        model = self.model
        ts = model.time
        env: dict[str, Any] = {
            "__time__": ts.start,
            "__dt__": ts.dt,
            "__n__": c.n,
            "__steps__": self.steps,
            "__initial__": True,
        }
        for name in self.init_order:
            var = model.variables[name]
            if name in c.constants:
                env[name] = c.constants[name]
            elif var.kind == "stock":
                overridden = c.initial_overrides.get(name)
                if overridden is None:
                    env[name] = _full(c.initials[name](env), c.n)
                elif np.isnan(overridden).any():  # NaN: this scenario keeps the model's initial value
                    env[name] = np.where(np.isnan(overridden), _full(c.initials[name](env), c.n), overridden)
                else:
                    env[name] = _full(overridden, c.n)
            else:
                env[name] = c.equations[name](env)
        for stateful in c.statefuls:
            if stateful.state is None:
                stateful.initialize(env, c.n, model.time.dt)
        return {s: env[s] for s in self.stocks}

    def evaluate(
        self, c: _Compiled, t: float, stocks: Mapping[str, np.ndarray], dt: float | None = None
    ) -> dict[str, Any]:
        """Every auxiliary and flow at time ``t`` for the given stocks (``dt``: the model's time step)."""
        values: dict[str, Any] = {
            "__time__": t,
            "__dt__": self.model.time.dt if dt is None else dt,
            "__n__": c.n,
            "__steps__": self.steps,
            **stocks,
        }
        for name in self.model.order:
            values[name] = c.constants[name] if name in c.constants else c.equations[name](values)
        return values

    def slopes(self, c: _Compiled, values: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Net flow of every stock, and the derivative of every smooth and delay."""
        return (
            {s: c.derivatives[s](values) for s in self.stocks},
            [st.derivative(values) for st in c.statefuls],
        )

    def _loop(
        self,
        c: _Compiled,
        state: dict[str, np.ndarray],
        outputs: list[str],
        rows: list[tuple[int, float]],
        names: Sequence[str],
        check: bool,
        out: np.ndarray,
    ) -> None:
        ts = self.model.time
        save_at = {step: k for k, (step, _) in enumerate(rows)}
        last_step = rows[-1][0] if rows else 0
        t, step = ts.start, 0
        while True:
            values = self.evaluate(c, t, state)
            if check:
                self._check(values, t, names)
            if step in save_at:
                k = save_at[step]
                for j, name in enumerate(outputs):
                    out[k, j] = values[name]
            if step >= last_step:
                break
            if ts.method == "rk4":
                state = self._rk4(c, state, values, t)
            else:
                d_stocks, d_states = self.slopes(c, values)
                for st, d in zip(c.statefuls, d_states, strict=True):
                    if d is not None:
                        st.state = st.state + d * ts.dt
                for st in c.statefuls:
                    st.discrete_update(values)
                state = {s: state[s] + d_stocks[s] * ts.dt for s in self.stocks}
            for s in self.non_negative:
                state[s] = np.maximum(state[s], 0.0)
            t = t + ts.dt  # repeated addition, as PySD steps time
            step += 1

    def _rk4(self, c: _Compiled, state: dict, values: dict, t: float, step: float | None = None) -> dict:
        """One classic Runge-Kutta step (smooths and delays move with the stocks)."""
        dt = self.model.time.dt if step is None else step
        saved = [st.state for st in c.statefuls]
        k1 = self.slopes(c, values)

        def shifted(k: tuple, h: float) -> dict:
            for st, base, d in zip(c.statefuls, saved, k[1], strict=True):
                st.state = base if d is None else base + d * h
            return {s: state[s] + k[0][s] * h for s in self.stocks}

        k2 = self.slopes(c, self.evaluate(c, t + dt / 2, shifted(k1, dt / 2), step))
        k3 = self.slopes(c, self.evaluate(c, t + dt / 2, shifted(k2, dt / 2), step))
        k4 = self.slopes(c, self.evaluate(c, t + dt, shifted(k3, dt), step))
        for i, st in enumerate(c.statefuls):
            st.state = saved[i]
            if k1[1][i] is not None:
                st.state = saved[i] + dt / 6 * (k1[1][i] + 2 * k2[1][i] + 2 * k3[1][i] + k4[1][i])
        for st in c.statefuls:
            st.discrete_update(values)
        return {s: state[s] + dt / 6 * (k1[0][s] + 2 * k2[0][s] + 2 * k3[0][s] + k4[0][s]) for s in self.stocks}

    def run_dynamic(
        self, n: int, parameters: Mapping[str, np.ndarray], outputs: list[str], names: Sequence[str], check: bool
    ) -> tuple[list[float], list[np.ndarray]]:
        """Simulate ``n`` scenarios on time settings evaluated at every step (:mod:`stocks_flows.time_axis`):
        the saved times, and per saved time an array ``[variable, scenario]``."""
        equations = self.model.time_equations
        assert equations is not None
        compiler = _Compiler(self.model.lookups, self.model.origin)
        settings = {k: compiler.compile(getattr(equations, k), time_axis.LABELS[k]) for k in time_axis.KEYS[1:]}
        if compiler.statefuls:
            raise SimulationError(
                "a time setting uses a function with memory (a delay, smooth or integral)",
                hint="compute FINAL TIME, TIME STEP and SAVEPER from Time and model variables",
            )
        c = self.compile(n, parameters)
        start = self.model.time.start
        dt = self.model.time.dt
        limit, steps = max_steps(), 0
        row_bytes = len(outputs) * n * 8
        times: list[float] = []
        rows: list[np.ndarray] = []
        with np.errstate(all="ignore"):
            state = self._initialize(c)
            t = start
            while True:
                values = self.evaluate(c, t, state, dt)
                now = {k: time_axis.one_value(k, f(values), n, t) for k, f in settings.items()}
                if now["time_step"] != dt:  # TIME STEP changed: what uses it sees the new one
                    dt = now["time_step"]
                    values = self.evaluate(c, t, state, dt)
                if check:
                    self._check(values, t, names)
                if time_axis.is_saved(t - start, now["saveper"], dt * time_axis.RPREC):
                    check_memory((len(rows) + 1) * row_bytes, "keep fewer variables, or save less often")
                    rows.append(np.array([np.broadcast_to(values[name], (n,)) for name in outputs], dtype=float))
                    times.append(time_axis.saved_time(t, dt))
                if not time_axis.goes_on(t, now["final_time"], dt):
                    return times, rows
                steps += 1
                if steps > limit:
                    raise SimulationError(
                        f"the run passed {limit:,} time steps at time {t:g} without reaching FINAL TIME "
                        f"({now['final_time']:g})",
                        hint="check FINAL TIME and TIME STEP, or raise the limit with TENOR_MAX_STEPS",
                    )
                state = self._step(c, state, values, t, dt)
                t = t + dt

    def _step(self, c: _Compiled, state: dict[str, np.ndarray], values: dict, t: float, dt: float) -> dict:
        """The stocks (and smooths and delays) one step ``dt`` later."""
        if self.model.time.method == "rk4":
            state = self._rk4(c, state, values, t, dt)
        else:
            d_stocks, d_states = self.slopes(c, values)
            for st, d in zip(c.statefuls, d_states, strict=True):
                if d is not None:
                    st.state = st.state + d * dt
            for st in c.statefuls:
                st.discrete_update(values)
            state = {s: state[s] + d_stocks[s] * dt for s in self.stocks}
        for s in self.non_negative:
            state[s] = np.maximum(state[s], 0.0)
        return state

    def _check(self, values: dict[str, Any], t: float, names: Sequence[str]) -> None:
        total = 0.0
        for name in self.model.variables:
            total = total + np.sum(values[name])
        if np.isfinite(total):
            return
        for name in [*self.stocks, *self.model.order]:
            bad = ~np.isfinite(np.broadcast_to(values[name], (len(names),)))
            if bad.any():
                which = names[int(np.argmax(bad))]
                raise NonFiniteError(
                    name, _describe(values[name], bad), t, which, hint=_nonfinite_hint(self.model, name)
                )


def _describe(value: Any, bad: np.ndarray) -> str:
    v = np.broadcast_to(value, bad.shape)[int(np.argmax(bad))]
    return "NaN" if np.isnan(v) else "infinite"


def _nonfinite_hint(model: Model, name: str) -> str:
    tree = model.variables[name].equation
    if any(isinstance(n, Call) and n.lookup and model.lookups[n.func].mode == "raw" for n in walk(tree)):
        return (
            "a DATA variable read RAW has no value between its points (Vensim's :NA:), and the engine "
            "runs with numbers only: read it with HOLD BACKWARD, or give a value at every time step"
        )
    if any(isinstance(n, Binary) and n.op == "/" for n in walk(tree)):
        return "a division by zero? guard it, e.g. zidz(a, b) or xidz(a, b, fallback)"
    return "check the equation of this variable and the values it uses"


KERNELS = ("auto", "compiled", "numpy")

_SECONDS_PER_EQUATION_STEP = 4e-6
"""What the NumPy engine spends per equation per step, whatever the batch (measured on 2 cores)."""

_WORTH_COMPILING = 1.0
"""Seconds of NumPy-engine time above which ``auto`` compiles the model (once; the kernel is cached on disk)."""


def _pick_kernel(model: Model, choice: str | None, n: int, chunk_size: int, rows: Sequence[tuple[int, float]]) -> Any:
    """The compiled kernel to use, or None for this engine."""
    choice = choice or os.environ.get("TENOR_KERNEL") or "auto"
    if choice not in KERNELS:
        raise SimulationError(f"unknown kernel {choice!r}", hint="use one of: " + ", ".join(KERNELS))
    if choice == "numpy" or not rows:
        return None
    try:
        from stocks_flows import kernel as compiled
    except ImportError:  # numba is not installed
        if choice == "compiled":
            raise SimulationError("the compiled kernel needs numba", hint="pip install numba") from None
        return None
    order = _initial_order(model)
    if choice == "compiled":
        found = compiled.compile_kernel(model, order)
        if found is None:
            raise SimulationError(
                f"the compiled kernel cannot run this model: {compiled.unsupported_reason(model, order)}",
                hint="use --kernel numpy (or auto, which falls back by itself)",
            )
        return found
    steps = rows[-1][0] + 1
    chunks = -(-n // max(1, chunk_size))
    estimate = steps * (len(model.order) + len(model.stocks)) * chunks * _SECONDS_PER_EQUATION_STEP
    if estimate < _WORTH_COMPILING and not compiled.is_cached(model, order):
        return None
    return compiled.compile_kernel(model, order)


_WORKING_COPIES = 8
"""Arrays of one chunk alive at once per variable (values, stocks, slopes; RK4 keeps four sets)."""


def memory_estimate(
    model: Model,
    scenarios: int,
    *,
    variables: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    chunk_size: int = 4096,
    copies: int = 1,
) -> int:
    """Bytes a run needs: its results (saved rows x kept variables x scenarios, ``copies`` times)
    plus the working arrays of one chunk of scenarios.

    >>> from stocks_flows.load import parse_model
    >>> model = parse_model("time: {stop: 99}\\nstocks: {s: {initial: 1}}\\nflows: {f: {to: s, equation: 1}}\\n")
    >>> memory_estimate(model, 1000, chunk_size=10)  # 100 rows x 2 variables x 1000 x 8, + 10 x 2 x 8 x 8
    1601280
    """
    ts = model.time
    rows = saved_rows(ts.start, ts.stop, ts.dt, ts.save_step)
    if times is not None:
        rows = min(rows, len(times))
    kept = len(variables) if variables is not None else len(model.variables)
    chunk = max(1, min(scenarios, chunk_size))
    results = rows * kept * scenarios * 8 * max(1, copies)
    working = chunk * len(model.variables) * 8 * _WORKING_COPIES
    return int(results + working)


def check_memory(needed: int, hint: str) -> None:
    """Refuse a job whose estimated memory is over the limit (:data:`stocks_flows.limits.MAX_RESULT_BYTES`)."""
    limit = max_result_bytes()
    if needed > limit:
        raise SimulationError(
            f"this run would need about {format_bytes(needed)} of memory; the limit is {format_bytes(limit)}",
            hint=hint + " (or raise the limit with TENOR_MAX_RESULT_BYTES)",
        )


def _scenario_parameters(
    model: Model, parameters: Mapping[str, Sequence[float] | np.ndarray | float] | None
) -> tuple[dict[str, np.ndarray], int]:
    """Each parameter as an array of one value per scenario, and the number of scenarios."""
    params = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in (parameters or {}).items()}
    sizes = {len(v) for v in params.values()}
    if len(sizes) > 1:
        raise SimulationError("every parameter needs the same number of values (one per scenario)")
    n = sizes.pop() if sizes else 1
    for name in params:
        var = model.variables.get(name)
        if var is None or var.kind not in ("constant", "stock"):
            pool = [v for v, x in model.variables.items() if x.kind in ("constant", "stock")]
            close = did_you_mean(name, pool)
            raise SimulationError(
                f"{name!r} is not a constant or a stock of this model",
                hint=f"did you mean {close!r}?" if close else "constants: " + ", ".join(model.constants),
            )
    return params, n


def _rows_kept(ts: TimeSettings, times: Sequence[float] | None) -> list[tuple[int, float]]:
    """The saved rows of a run: all of them, or those at the requested ``times``."""
    rows = list(_saved_rows(ts.start, ts.stop, ts.dt, ts.save_step))
    if times is None:
        return rows
    wanted = np.sort(np.asarray(times, dtype=float).ravel())
    prec = ts.dt * _RPREC
    at = np.array([t for _, t in rows])
    k = np.clip(np.searchsorted(wanted, at), 1, max(1, len(wanted) - 1)) if len(wanted) else at
    near = (
        np.minimum(np.abs(wanted[k - 1] - at), np.abs(wanted[np.minimum(k, len(wanted) - 1)] - at))
        if len(wanted)
        else np.full(len(at), np.inf)
    )
    rows = [row for row, keep in zip(rows, near <= prec, strict=True) if keep]
    if not rows:
        raise SimulationError(
            "none of the requested times is a saved time of this model",
            hint=f"times run from {ts.start:g} to {ts.stop:g} every {ts.save_step:g}",
        )
    return rows


def simulate(
    model: Model,
    parameters: Mapping[str, Sequence[float] | np.ndarray | float] | None = None,
    *,
    variables: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    scenario_names: Sequence[str] | None = None,
    chunk_size: int = 4096,
    on_nonfinite: str = "raise",
    progress: Callable[[int], None] | None = None,
    kernel: str | None = None,
) -> Run:
    """Run ``model`` for every scenario in ``parameters`` at once.

    ``parameters`` maps a constant's scalar name (``k``, ``rate[10y]``) or a
    stock's name (its initial value; NaN keeps the model's) to one value per
    scenario; all lists have the same length N. Scenarios are processed ``chunk_size`` at a time; only
    ``variables`` (default: all) are kept, at the saved times (or only at
    ``times``, those of them that are saved times), so memory is bounded by
    N x times x variables.

    ``kernel`` picks who computes: ``"numpy"`` this module, ``"compiled"`` the
    compiled kernel (:mod:`stocks_flows.kernel`; an error if it cannot run the
    model), ``"auto"`` (the default, or ``$TENOR_KERNEL``) the compiled kernel when
    it is already compiled or the run is long enough to repay compiling it.
    Both give the same numbers.

    Raises
    ------
    SimulationError
        When a value becomes NaN or infinite (variable, time and scenario named).
    """
    params, n = _scenario_parameters(model, parameters)
    names = list(scenario_names) if scenario_names is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise SimulationError("one scenario name per scenario is needed")
    outputs = list(variables) if variables is not None else list(model.variables)
    unknown = [v for v in outputs if v not in model.variables]
    if unknown:
        raise SimulationError(f"unknown variable(s): {', '.join(unknown)}")
    if model.time_equations is not None:
        return _simulate_dynamic(model, params, names, outputs, times, kernel, on_nonfinite == "raise", progress)
    check_memory(
        memory_estimate(model, n, variables=outputs, times=times, chunk_size=chunk_size),
        "keep fewer variables or times, save less often (a larger save step), run fewer scenarios, "
        "or use a smaller chunk size",
    )
    rows = _rows_kept(model.time, times)
    program = _Program(model)
    compiled = _pick_kernel(model, kernel, n, chunk_size, rows)
    # One layout for both engines, so that every later reduction over scenarios sums in the same order.
    store = np.empty((len(rows), len(outputs), n))  # filled per (time, variable); seen as [scenario, time, var]
    values = store.transpose(2, 0, 1)
    for lo in range(0, n, max(1, chunk_size)):
        hi = min(n, lo + max(1, chunk_size))
        chunk = {k: v[lo:hi] for k, v in params.items()}
        done = False
        if compiled is not None:
            fixed = program.fixed_constants(compiled.source.hoisted, hi - lo, chunk)
            done = compiled.run(chunk, hi - lo, outputs, rows, store, on_nonfinite == "raise", fixed, lo)
        if not done:
            program.run(hi - lo, chunk, outputs, rows, names[lo:hi], on_nonfinite, store[:, :, lo:hi])
        if progress is not None:
            progress(hi - lo)
    time = np.array([t for _, t in rows])
    return Run(time, outputs, values, names, params)


def _simulate_dynamic(
    model: Model,
    params: dict[str, np.ndarray],
    names: list[str],
    outputs: list[str],
    times: Sequence[float] | None,
    kernel: str | None,
    check: bool,
    progress: Callable[[int], None] | None,
) -> Run:
    """:func:`simulate` for time settings computed during the run: every scenario at once, on one time axis."""
    choice = kernel or os.environ.get("TENOR_KERNEL") or "auto"
    if choice not in KERNELS:
        raise SimulationError(f"unknown kernel {choice!r}", hint="use one of: " + ", ".join(KERNELS))
    if choice == "compiled":
        raise SimulationError(
            "the compiled kernel cannot run this model: its time settings (FINAL TIME, TIME STEP or SAVEPER) "
            "change during the run",
            hint="use --kernel numpy (or auto, which runs it with the NumPy engine)",
        )
    n = len(names)
    saved, rows = _Program(model).run_dynamic(n, params, outputs, names, check)
    at = np.array(saved, dtype=float)
    store = np.stack(rows) if rows else np.empty((0, len(outputs), n))
    if times is not None:
        wanted = np.asarray(times, dtype=float).ravel()
        prec = model.time.dt * time_axis.RPREC
        keep = np.array([bool(len(wanted)) and float(np.min(np.abs(wanted - a))) <= prec for a in at], dtype=bool)
        if not keep.any():
            raise SimulationError(
                "none of the requested times is a saved time of this model",
                hint="saved times: " + ", ".join(f"{a:g}" for a in at[:10]) + (" ..." if len(at) > 10 else ""),
            )
        at, store = at[keep], store[keep]
    if progress is not None:
        progress(n)
    return Run(at, outputs, store.transpose(2, 0, 1), names, params)


def start_time_settings(model: Model) -> TimeSettings:
    """The values of a model's changing time settings (``model.time_equations``) at its start,
    computed from the start values of its variables; ``model.time`` gives INITIAL TIME."""
    equations = model.time_equations
    if equations is None:
        return model.time
    ts = model.time
    for _ in range(2):  # once more when TIME STEP at the start differs from the one assumed
        program = _Program(replace(model, time=ts))
        c = program.compile(1, {})
        compiler = _Compiler(model.lookups, model.origin)
        with np.errstate(all="ignore"):
            values = program.evaluate(c, ts.start, program._initialize(c))
            got = {
                k: float(np.asarray(compiler.compile(getattr(equations, k))(values), dtype=float).reshape(-1)[0])
                for k in time_axis.KEYS[1:]
            }
        new = replace(ts, stop=got["final_time"], dt=got["time_step"], save_step=got["saveper"])
        if new.dt == ts.dt:
            return new
        ts = new
    return ts
