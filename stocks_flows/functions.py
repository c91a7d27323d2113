"""The built-in functions of the equation language, each declared once.

A built-in such as ``xidz`` has several faces: the names it is written with (in
tenor, and as PySD's translators hand it over from Vensim and XMILE), how many
arguments it takes, what the NumPy engine computes, the expression the compiled
kernel writes, the text the XMILE writer produces and, where the function is
smooth, the sympy function that loop analysis differentiates. One
:class:`Builtin` record holds all of them, and :data:`BUILTINS` is the one
table: the parser, the model builder, the engine, the kernel, the XMILE writer
and reader and the symbolic partial derivatives all look a function up here.
Adding a function is adding one record.

Forms take the forms of the arguments, already built: closures of the engine
(each maps an environment to a value, with ``env["__time__"]`` and
``env["__dt__"]``), source text for the kernel (with ``t`` and ``dt`` in scope
and the scalar helpers of :mod:`stocks_flows.kernel_runtime`), XMILE text for the
writer. A form that is ``None`` means the target has no such form: the kernel
then runs the model with the NumPy engine, the writer refuses it, the symbolic
derivative is taken numerically instead.

Functions that keep state between steps (smooths, delays, ``init``, ``trend``)
carry a :class:`Memory`: they hold hidden stocks that the engine and the
kernel each keep with their own machinery, so they have no closure or kernel
expression here; the record says which arguments are read at the start and
which act without a lag.

Examples
--------
>>> BUILTINS["xidz"].arity
'3'
>>> find_builtin("safediv").name
'zidz'
>>> BUILTINS["mod"].kernel(["x", "m"])
'_mod(x, m)'
>>> BUILTINS["min"].xmile(["a", "b", "c"])
'MIN(a, MIN(b, c))'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stocks_flows import draws
from stocks_flows.vectors import (
    np_allocate_available,
    np_allocate_by_priority,
    np_invert_matrix,
    np_vector_rank,
    np_vector_reorder,
    np_vector_select,
    np_vector_sort_order,
)
from tenor.core.errors import SimulationError

__all__ = [
    "BUILTINS",
    "NA",
    "PYSD_NAMES",
    "SMALL",
    "STATEFUL_FUNCTIONS",
    "Builtin",
    "Memory",
    "call_name",
    "find_builtin",
]

NA = -1.298074214633707e33
"""Vensim's :NA: ("not available"): a number like any other in the arithmetic (so ``x = :NA:`` can
test for it), the value Vensim's own engine gives for it (-2^110); Vensim's output tables show it as
a blank. PySD reads :NA: as NaN; tenor keeps Vensim's number."""

SMALL = 1e-6
"""What counts as zero in ``xidz``, ``zidz``, ``mod`` and ``pulse`` (as in Vensim and PySD)."""

_SMALL_TEXT = "1e-06"
""":data:`SMALL` as the kernel writes it."""

Fn = Callable[[dict], Any]
"""An engine closure: the value of a sub-expression in an environment."""

EngineForm = Callable[[Sequence[Fn]], Fn]
TextForm = Callable[[Sequence[str]], str]


@dataclass(frozen=True)
class Memory:
    """What a stateful function keeps: its kind, its order, and how its arguments are read.

    ``kind`` is ``"smooth"``, ``"delay"``, ``"fixed"`` (a pipeline delay),
    ``"init"``, ``"trend"``, ``"forecast"`` (a trend extrapolated), ``"sample"`` (a value held until sampled again) or
    ``"active"`` (one value while the run starts, another after). ``same_step`` lists the arguments that act within
    the same step (the others act through the hidden state, with a lag).
    ``at_start(n)`` lists the arguments read when the state is first set, for a
    call with ``n`` arguments (``None``: every argument). An ``order`` of 0 means
    the call gives it: its last argument, read once when the run starts (a whole number)
    (Vensim's DELAY N and SMOOTH N).
    """

    kind: str
    order: int = 1
    same_step: frozenset[int] = frozenset()
    at_start: Callable[[int], tuple[int, ...]] | None = None


@dataclass(frozen=True)
class Builtin:
    """One built-in function and every form it takes.

    ``min_args``/``max_args`` bound the arguments as written (``max_args`` None:
    any number); a function that ``spreads`` takes one array argument as all its
    elements (``sum(x[*])``), so once names are expanded it takes any number.
    ``units`` names the rule that gives the units of a call from those of its
    arguments (see :func:`stocks_flows.expr.infer_units`): ``"same"`` (all alike,
    the result too), ``"first"`` (those of the first), ``"sqrt"``, ``"if"`` (the
    two branches alike), ``"ratio"`` (first / second), ``"xidz"``, ``"per_time"``,
    ``"times_time"``; None when not known. ``not_compiled`` says why the compiled kernel
    has no form of a function the NumPy engine runs (a model using it runs with the NumPy engine).
    A function that ``draws`` is random: the engine passes it one more argument, the
    call's site (:func:`stocks_flows.draws.site_key`).
    """

    name: str
    min_args: int
    max_args: int | None
    doc: str
    numpy: EngineForm | None = None
    kernel: TextForm | None = None
    xmile: TextForm | None = None
    sympy: str | None = None
    units: str | None = None
    ufunc: Callable[[Any], Any] | None = None
    aliases: tuple[str, ...] = ()
    pysd: Mapping[str, tuple[int, ...] | None] = field(default_factory=dict)
    memory: Memory | None = None
    spreads: bool = False
    draws: bool = False
    not_compiled: str | None = None

    @property
    def stateful(self) -> bool:
        """Whether the function keeps state between time steps (it holds hidden stocks)."""
        return self.memory is not None

    @property
    def arity_expanded(self) -> str:
        """:attr:`arity` once array arguments are spread into their elements."""
        return f"{self.min_args} or more" if self.spreads else self.arity

    @property
    def arity(self) -> str:
        """The number of arguments as a reader would say it: ``'2'``, ``'1 or more'``, ``'2 to 3'``."""
        if self.max_args == self.min_args:
            return str(self.min_args)
        if self.max_args is None:
            return f"{self.min_args} or more"
        return f"{self.min_args} to {self.max_args}"

    def takes(self, count: int) -> bool:
        """Whether ``count`` arguments, as written, are right."""
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def takes_expanded(self, count: int) -> bool:
        """Whether ``count`` arguments are right once array arguments are spread into elements."""
        return count >= self.min_args and (self.spreads or self.max_args is None or count <= self.max_args)

    def is_lagged(self, index: int) -> bool:
        """Whether argument ``index`` acts through hidden state (not within the same step)."""
        return self.memory is not None and index not in self.memory.same_step


# --- engine forms -------------------------------------------------------------------------


def _xidz(a: Any, b: Any, x: Any) -> Any:
    small = np.abs(b) < SMALL
    safe = np.where(small, 1.0, b)
    return np.where(small, x, np.true_divide(a, safe))


def _mod(x: Any, m: Any) -> Any:
    small = m < SMALL
    safe = np.where(small, 1.0, m)
    return np.where(small, 0.0, x - safe * np.trunc(np.true_divide(x, safe)))


def _quantum(x: Any, q: Any) -> Any:
    small = q < SMALL
    return np.where(small, x, np.where(small, 1.0, q) * np.trunc(_xidz(x, q, 0.0)))


def _elementwise(fn: Callable[[Any], Any]) -> EngineForm:
    def build(args: Sequence[Fn]) -> Fn:
        a = args[0]
        return lambda env: fn(a(env))

    return build


def _reduction(ufunc: np.ufunc) -> EngineForm:
    def build(args: Sequence[Fn]) -> Fn:
        if len(args) == 1:
            return args[0]
        if len(args) == 2:
            a, b = args
            return lambda env: ufunc(a(env), b(env))
        return lambda env: ufunc.reduce(np.broadcast_arrays(*(g(env) for g in args)))

    return build


def _np_pi(args: Sequence[Fn]) -> Fn:
    return lambda env: np.float64(np.pi)


def _np_if(args: Sequence[Fn]) -> Fn:
    cond, then, other = args
    return lambda env: np.where(cond(env), then(env), other(env))


def _np_xidz(args: Sequence[Fn]) -> Fn:
    a, b, x = args
    return lambda env: _xidz(a(env), b(env), x(env))


def _np_zidz(args: Sequence[Fn]) -> Fn:
    a, b = args
    return lambda env: _xidz(a(env), b(env), 0.0)


def _np_mod(args: Sequence[Fn]) -> Fn:
    a, m = args
    return lambda env: _mod(a(env), m(env))


def _np_step(args: Sequence[Fn]) -> Fn:
    height, start = args
    return lambda env: height(env) * (env["__time__"] + env["__dt__"] / 2 > start(env))


def _np_pulse(args: Sequence[Fn]) -> Fn:
    start, width = args

    def pulse(env: dict) -> Any:
        t, s = env["__time__"], start(env)
        return np.where((s - SMALL <= t) & (t < s + width(env)), 1.0, 0.0)

    return pulse


def _np_pulse_train(args: Sequence[Fn]) -> Fn:
    start, width, repeat, end = args

    def pulse_train(env: dict) -> Any:
        t, s = env["__time__"], start(env)
        inside = (s <= t) & (t < end(env))
        return np.where(inside & (np.mod(t - s + SMALL, repeat(env)) < width(env)), 1.0, 0.0)

    return pulse_train


def _np_impulse(args: Sequence[Fn]) -> Fn:
    volume, first = args[0], args[1]
    interval = args[2] if len(args) > 2 else None

    def impulse(env: dict) -> Any:
        t, dt, s = env["__time__"], env["__dt__"], first(env)
        height = volume(env) / dt
        once = (s - SMALL <= t) & (t < s + dt / 2)
        if interval is None:
            return np.where(once, height, 0.0)
        every = interval(env)
        repeated = (s <= t) & (np.mod(t - s + SMALL, np.where(every > 0, every, 1.0)) < dt / 2)
        return np.where(np.where(every > 0, repeated, once), height, 0.0)

    return impulse


def _np_ramp(args: Sequence[Fn]) -> Fn:
    slope, start = args[0], args[1]
    end = args[2] if len(args) > 2 else None

    def ramp(env: dict) -> Any:
        t = env["__time__"]
        final = t if end is None else np.minimum(end(env), t)
        s = start(env)
        return (t + SMALL > s) * slope(env) * (final - s)

    return ramp


def _np_get_time_value(args: Sequence[Fn]) -> Fn:
    relative_to, offset, measure = args

    def get_time_value(env: dict) -> Any:
        if np.any(np.asarray(relative_to(env)) != 0) or np.any(np.asarray(measure(env)) != 0):
            raise SimulationError(
                "GET TIME VALUE: only the model's own time (relativeto 0, measure 0) is supported",
                hint="calendar measures and the computer's clock need Vensim's time base, which tenor lacks",
            )
        return env["__time__"] + offset(env)

    return get_time_value


# --- kernel forms (scalar source text) ----------------------------------------------------


def _template(text: str) -> TextForm:
    return lambda a: text.format(*a)


def _k_reduction(func: str) -> TextForm:
    def form(a: Sequence[str]) -> str:
        out = a[0]
        for other in a[1:]:
            out = f"({out} + {other})" if func == "sum" else f"_{func}2({out}, {other})"
        return out

    return form


def _k_pulse(a: Sequence[str]) -> str:
    return f"_where(_and(_le({a[0]} - {_SMALL_TEXT}, t), _lt(t, {a[0]} + {a[1]})), 1.0, 0.0)"


def _k_pulse_train(a: Sequence[str]) -> str:
    start, width, repeat, end = a
    inside = f"_and(_le({start}, t), _lt(t, {end}))"
    return f"_where(_and({inside}, _lt(_pymod(t - {start} + {_SMALL_TEXT}, {repeat}), {width})), 1.0, 0.0)"


def _k_impulse(a: Sequence[str]) -> str:
    once = f"_and(_le({a[1]} - {_SMALL_TEXT}, t), _lt(t, {a[1]} + dt / 2))"
    if len(a) == 2:
        return f"_where({once}, {a[0]} / dt, 0.0)"
    every = a[2]
    safe = f"_where(_gt({every}, 0.0), {every}, 1.0)"
    repeated = f"_and(_le({a[1]}, t), _lt(_pymod(t - {a[1]} + {_SMALL_TEXT}, {safe}), dt / 2))"
    return f"_where(_where(_gt({every}, 0.0), {repeated}, {once}), {a[0]} / dt, 0.0)"


def _k_ramp(a: Sequence[str]) -> str:
    final = "t" if len(a) == 2 else f"_min2({a[2]}, t)"
    return f"(_gt(t + {_SMALL_TEXT}, {a[1]}) * {a[0]} * ({final} - {a[1]}))"


# --- XMILE forms ---------------------------------------------------------------------------


def _x_call(name: str) -> TextForm:
    return lambda a: f"{name}({', '.join(a)})"


def _x_nested(name: str) -> TextForm:
    def form(a: Sequence[str]) -> str:
        if len(a) == 1:
            return a[0]
        out = a[-1]
        for arg in reversed(a[:-1]):
            out = f"{name}({arg}, {out})"
        return out

    return form


def _x_pulse(a: Sequence[str]) -> str:
    start, width = a
    return f"(IF (TIME >= ({start} - 0.000001)) AND (TIME < ({start} + {width})) THEN 1 ELSE 0)"


def _x_pulse_train(a: Sequence[str]) -> str:
    start, width, repeat, end = a
    return (
        f"(IF (TIME >= {start}) AND (TIME < {end}) AND ((((TIME - {start}) + 0.000001) mod ({repeat}))"
        f" < {width}) THEN 1 ELSE 0)"
    )


def _np_draw(draw: Callable[..., Any], count: int) -> EngineForm:
    """A random function of ``count`` written arguments; the engine appends the call's site."""

    def build(args: Sequence[Fn]) -> Fn:
        written = tuple(args[:count])
        site = int(args[count]({})) if len(args) > count else 0
        return lambda env: draw(*(a(env) for a in written), site, env["__time__"])

    return build


def _random_0_1(site: int, time: Any) -> Any:
    return draws.uniform(0.0, 1.0, 0.0, site, time)


# --- the table -----------------------------------------------------------------------------


def _elementary(name: str, doc: str, fn: Callable[[Any], Any], kernel: str, sympy: str | None, **more: Any) -> Builtin:
    """A function of one number, the same in every target."""
    return Builtin(
        name,
        1,
        1,
        doc,
        numpy=_elementwise(fn),
        kernel=_template(kernel + "({})"),
        xmile=_x_call(name.upper()),
        sympy=sympy,
        ufunc=fn,
        pysd={name: None},
        **more,
    )


def _smoothing_start(count: int) -> tuple[int, ...]:
    return (2 if count > 2 else 0, 1)


def _cascade_start(count: int) -> tuple[int, ...]:
    return (2, 1, 3)


def _x_cascade(name: str) -> TextForm:
    """XMILE's DELAYN and SMTHN take the order third and the initial value last."""
    return lambda a: f"{name}({a[0]}, {a[1]}, {a[3]}, {a[2]})"


_SMOOTH = Memory("smooth", 1, frozenset(), _smoothing_start)

_WHOLE_ARRAYS = "a function of whole arrays: the compiled kernel computes one element at a time"

_TABLE: tuple[Builtin, ...] = (
    Builtin(
        "min",
        1,
        None,
        "smallest argument (or smallest element of one array argument)",
        numpy=_reduction(np.minimum),
        kernel=_k_reduction("min"),
        xmile=_x_nested("MIN"),
        pysd={"min": None, "vmin_xmile": None, "vmin": None},
        spreads=True,
        units="same",
    ),
    Builtin(
        "max",
        1,
        None,
        "largest argument (or largest element of one array argument)",
        numpy=_reduction(np.maximum),
        kernel=_k_reduction("max"),
        xmile=_x_nested("MAX"),
        pysd={"max": None, "vmax_xmile": None, "vmax": None},
        spreads=True,
        units="same",
    ),
    Builtin(
        "sum",
        1,
        1,
        "sum over a dimension: sum(x[*]) or sum(x[tenor])",
        numpy=_reduction(np.add),
        kernel=_k_reduction("sum"),
        xmile=lambda a: "(" + " + ".join(a) + ")",
        sympy="Add",
        pysd={"sum": None},
        spreads=True,
        units="same",
    ),
    _elementary("abs", "absolute value", np.abs, "abs", None, units="same"),
    _elementary("exp", "e to the power x", np.exp, "np.exp", "exp"),
    _elementary("ln", "natural logarithm", np.log, "np.log", "log", aliases=("log",)),
    _elementary("log10", "base-10 logarithm", np.log10, "np.log10", None),
    _elementary("sqrt", "square root", np.sqrt, "np.sqrt", "sqrt", units="sqrt"),
    _elementary("sin", "sine (radians)", np.sin, "np.sin", "sin"),
    _elementary("cos", "cosine (radians)", np.cos, "np.cos", "cos"),
    _elementary("tan", "tangent (radians)", np.tan, "np.tan", "tan"),
    _elementary("arctan", "inverse tangent", np.arctan, "np.arctan", "atan"),
    _elementary("arcsin", "inverse sine", np.arcsin, "np.arcsin", None),
    _elementary("arccos", "inverse cosine", np.arccos, "np.arccos", None),
    _elementary("sinh", "hyperbolic sine", np.sinh, "np.sinh", "sinh"),
    _elementary("cosh", "hyperbolic cosine", np.cosh, "np.cosh", "cosh"),
    _elementary("tanh", "hyperbolic tangent", np.tanh, "np.tanh", "tanh"),
    Builtin(
        "power",
        2,
        2,
        "power(x, p): x to the power p (Vensim's POWER)",
        numpy=lambda a: lambda env, x=a[0], p=a[1]: np.power(x(env), p(env)),
        kernel=_template("np.power({}, {})"),
        xmile=lambda a: f"(({a[0]}) ^ ({a[1]}))",
        sympy="Pow",
        pysd={"power": None},
    ),
    Builtin(
        "log_base",
        2,
        2,
        "log_base(x, base): the logarithm of x to the base (Vensim's LOG)",
        numpy=lambda a: lambda env, x=a[0], b=a[1]: np.log(x(env)) / np.log(b(env)),
        kernel=_template("(np.log({}) / np.log({}))"),
        xmile=lambda a: f"(LN({a[0]}) / LN({a[1]}))",
        pysd={"log": None},
    ),
    Builtin(
        "quantum",
        2,
        2,
        "quantum(x, q): x rounded towards zero to a multiple of q; x itself when q is not positive",
        numpy=lambda a: lambda env, x=a[0], q=a[1]: _quantum(x(env), q(env)),
        kernel=lambda a: f"_where(_lt({a[1]}, {_SMALL_TEXT}), {a[0]}, {a[1]} * np.trunc(_xidz({a[0]}, {a[1]}, 0.0)))",
        xmile=lambda a: f"(IF ({a[1]}) < 0.000001 THEN ({a[0]}) ELSE ({a[1]}) * INT(({a[0]}) / ({a[1]})))",
        pysd={"quantum": None},
        units="first",
    ),
    Builtin(
        "pi", 0, 0, "3.14159...", numpy=_np_pi, kernel=lambda a: "np.pi", xmile=lambda a: "PI()", pysd={"pi": None}
    ),
    Builtin(
        "int",
        1,
        1,
        "integer part (towards zero)",
        numpy=_elementwise(np.trunc),
        kernel=_template("np.trunc({})"),
        xmile=_x_call("INT"),
        ufunc=np.trunc,
        aliases=("integer",),
        pysd={"integer": None},
        units="same",
    ),
    Builtin(
        "mod",
        2,
        2,
        "remainder: mod(x, m) = x - m * int(x / m)",
        numpy=_np_mod,
        kernel=_template("_mod({}, {})"),
        xmile=lambda a: f"(({a[0]}) mod ({a[1]}))",
        pysd={"modulo": None},
        units="first",
    ),
    Builtin(
        "if_then_else",
        3,
        3,
        "if_then_else(cond, a, b)",
        numpy=_np_if,
        kernel=_template("_where({}, {}, {})"),
        xmile=lambda a: f"(IF {a[0]} THEN {a[1]} ELSE {a[2]})",
        pysd={"if_then_else": None},
        units="if",
    ),
    Builtin(
        "xidz",
        3,
        3,
        "xidz(a, b, x): a / b, or x when b is (about) zero",
        numpy=_np_xidz,
        kernel=_template("_xidz({}, {}, {})"),
        xmile=_x_call("SAFEDIV"),
        pysd={"xidz": None},
        units="xidz",
    ),
    Builtin(
        "zidz",
        2,
        2,
        "zidz(a, b): a / b, or 0 when b is (about) zero",
        numpy=_np_zidz,
        kernel=_template("_xidz({}, {}, 0.0)"),
        xmile=_x_call("SAFEDIV"),
        aliases=("safediv",),
        pysd={"zidz": None},
        units="ratio",
    ),
    Builtin(
        "step",
        2,
        2,
        "step(height, start): 0 before start, height from start on",
        numpy=_np_step,
        kernel=lambda a: f"({a[0]} * _gt(t + dt / 2, {a[1]}))",
        xmile=_x_call("STEP"),
        pysd={"step": None},
        units="first",
    ),
    Builtin(
        "pulse",
        2,
        2,
        "pulse(start, width): 1 from start for width time units, else 0",
        numpy=_np_pulse,
        kernel=_k_pulse,
        xmile=_x_pulse,
        pysd={"pulse": None},
    ),
    Builtin(
        "pulse_train",
        4,
        4,
        "pulse_train(start, width, repeat, end): 1 for width every repeat until end",
        numpy=_np_pulse_train,
        kernel=_k_pulse_train,
        xmile=_x_pulse_train,
        pysd={"pulse_train": (0, 2, 1, 3)},
    ),
    Builtin(
        "impulse",
        2,
        3,
        "impulse(volume, first[, interval]): volume / dt during one step at first (every interval)",
        numpy=_np_impulse,
        kernel=_k_impulse,
        xmile=_x_call("PULSE"),
        pysd={"Xpulse": (1, 0), "Xpulse_train": (2, 0, 1)},
        units="per_time",
    ),
    Builtin(
        "ramp",
        2,
        3,
        "ramp(slope, start[, end]): slope * (time - start) between start and end",
        numpy=_np_ramp,
        kernel=_k_ramp,
        xmile=_x_call("RAMP"),
        pysd={"ramp": None, "Xramp": None},
        units="times_time",
    ),
    Builtin(
        "smooth1",
        2,
        3,
        "first-order exponential smoothing: smooth1(x, time[, initial])",
        xmile=_x_call("SMTH1"),
        aliases=("smth1",),
        memory=_SMOOTH,
        units="first",
    ),
    Builtin(
        "smooth3",
        2,
        3,
        "third-order exponential smoothing: smooth3(x, time[, initial])",
        xmile=_x_call("SMTH3"),
        aliases=("smth3",),
        memory=Memory("smooth", 3, frozenset(), _smoothing_start),
        units="first",
    ),
    Builtin(
        "delay1",
        2,
        3,
        "first-order material delay: delay1(x, time[, initial])",
        xmile=_x_call("DELAY1"),
        memory=Memory("delay", 1, frozenset({1}), _smoothing_start),  # the output is state / delay time
        units="first",
    ),
    Builtin(
        "delay3",
        2,
        3,
        "third-order material delay: delay3(x, time[, initial])",
        xmile=_x_call("DELAY3"),
        memory=Memory("delay", 3, frozenset({1}), _smoothing_start),
        units="first",
    ),
    Builtin(
        "smoothn",
        4,
        4,
        "exponential smoothing in n stages: smoothn(x, time, initial, n), n read at the start",
        xmile=_x_cascade("SMTHN"),
        aliases=("smooth_n", "smthn"),
        memory=Memory("smooth", 0, frozenset({3}), _cascade_start),
        units="first",
    ),
    Builtin(
        "delayn",
        4,
        4,
        "material delay in n stages: delayn(x, time, initial, n), n read at the start",
        xmile=_x_cascade("DELAYN"),
        aliases=("delay_n",),
        memory=Memory("delay", 0, frozenset({1, 3}), _cascade_start),
        units="first",
    ),
    Builtin(
        "delay_fixed",
        3,
        3,
        "pipeline delay: delay_fixed(x, time, initial)",
        xmile=_x_call("DELAY"),
        aliases=("delay", "fixed_delay"),
        memory=Memory("fixed", 1, frozenset(), lambda count: (1, 2)),
        units="first",
    ),
    Builtin(
        "sample_if_true",
        3,
        3,
        "sample_if_true(condition, x, initial): x while condition holds, else the last x sampled (initial before)",
        # the output is x in a step where the condition holds: both act within the step
        memory=Memory("sample", 1, frozenset({0, 1})),
        units="if",
    ),
    Builtin(
        "active_initial",
        2,
        2,
        "active_initial(x, initial): initial while the run starts (for other initial values), x after",
        pysd={"active_initial": None},
        memory=Memory("active", 1, frozenset({0}), lambda count: (1,)),
        units="first",
    ),
    Builtin(
        "init",
        1,
        1,
        "value of x at the initial time",
        xmile=_x_call("INIT"),
        memory=Memory("init"),
        units="first",
    ),
    Builtin(
        "trend",
        2,
        3,
        "fractional growth rate of x, averaged: trend(x, averaging time[, initial trend])",
        xmile=_x_call("TREND"),
        # the output compares the input with the state; the initial trend is used once
        memory=Memory("trend", 1, frozenset({0, 1})),
    ),
    Builtin(
        "forecast",
        3,
        4,
        "trend extrapolation: forecast(x, averaging time, horizon[, initial trend]) (Vensim's FORECAST)",
        xmile=_x_call("FORCST"),
        aliases=("forcst",),
        # input * (1 + trend * horizon): the input, the averaging time and the horizon act within the step
        memory=Memory("forecast", 1, frozenset({0, 1, 2})),
        units="first",
    ),
    Builtin(
        "get_time_value",
        3,
        3,
        "get_time_value(0, offset, 0): time + offset (Vensim's GET TIME VALUE on the model's own time)",
        numpy=_np_get_time_value,
        pysd={"get_time_value": None},
        not_compiled="relativeto and measure are checked as the run goes",
    ),
    Builtin(
        "invert_matrix",
        2,
        None,
        "invert_matrix(position, m11, m12, ..., mNN): an element (row by row) of the inverse matrix",
        numpy=np_invert_matrix,
        pysd={"invert_matrix": None},
        not_compiled=_WHOLE_ARRAYS,
    ),
    Builtin(
        "vector_select",
        5,
        None,
        "vector_select(missing, action, error, selections..., expressions...) (Vensim's VECTOR SELECT)",
        numpy=np_vector_select,
        pysd={"vector_select": None},
        not_compiled=_WHOLE_ARRAYS,
    ),
    Builtin(
        "vector_sort_order",
        3,
        None,
        "vector_sort_order(position, direction, values...): the index (from 0) in that sorted place"
        " (Vensim's VECTOR SORT ORDER)",
        numpy=np_vector_sort_order,
        not_compiled=_WHOLE_ARRAYS,
    ),
    Builtin(
        "vector_rank",
        3,
        None,
        "vector_rank(position, direction, values...): the rank (from 1) of that element (Vensim's VECTOR RANK)",
        numpy=np_vector_rank,
        not_compiled=_WHOLE_ARRAYS,
    ),
    Builtin(
        "vector_reorder",
        2,
        None,
        "vector_reorder(index, values...): the element at a 0-based index (Vensim's VECTOR REORDER)",
        numpy=np_vector_reorder,
        not_compiled=_WHOLE_ARRAYS,
    ),
    Builtin(
        "allocate_by_priority",
        5,
        None,
        "allocate_by_priority(position, width, supply, requests..., priorities...) (Vensim's ALLOCATE BY PRIORITY)",
        numpy=np_allocate_by_priority,
        not_compiled=_WHOLE_ARRAYS,
    ),
    Builtin(
        "allocate_available",
        7,
        None,
        "allocate_available(position, available, requests..., profiles of 4 values...) (Vensim's ALLOCATE AVAILABLE)",
        numpy=np_allocate_available,
        not_compiled=_WHOLE_ARRAYS,
    ),
)

_RANDOM = "; a new draw every time step, reproducible from the seed (stocks_flows.draws)"
_DRAWN = "random draws are made by the NumPy engine (stocks_flows.draws)"

_TABLE += (
    Builtin(
        "random_uniform",
        3,
        3,
        "random_uniform(min, max, seed): uniform on [min, max]" + _RANDOM,
        numpy=_np_draw(draws.uniform, 3),
        pysd={"random_uniform": None},
        draws=True,
        not_compiled=_DRAWN,
        units="first",
    ),
    Builtin(
        "random_normal",
        5,
        5,
        "random_normal(min, max, mean, sd, seed): normal truncated to [min, max]" + _RANDOM,
        numpy=_np_draw(draws.normal, 5),
        pysd={"random_normal": None},
        draws=True,
        not_compiled=_DRAWN,
        units="first",
    ),
    Builtin(
        "random_exponential",
        5,
        5,
        "random_exponential(min, max, shift, stretch, seed): max(min, shift) + stretch * Exp(1), below max" + _RANDOM,
        numpy=_np_draw(draws.exponential, 5),
        pysd={"random_exponential": None},
        draws=True,
        not_compiled=_DRAWN,
        units="first",
    ),
    Builtin(
        "random_0_1",
        0,
        0,
        "random_0_1(): uniform on [0, 1], seed 0" + _RANDOM,
        numpy=_np_draw(_random_0_1, 0),
        pysd={"random_0_1": None},
        draws=True,
        not_compiled=_DRAWN,
    ),
)

BUILTINS: dict[str, Builtin] = {b.name: b for b in _TABLE}
"""Every built-in by its tenor name: nothing else can be called from an equation."""

_BY_ALIAS: dict[str, Builtin] = {alias: b for b in _TABLE for alias in b.aliases}

PYSD_NAMES: dict[str, tuple[Builtin, tuple[int, ...] | None]] = {
    name: (b, order) for b in _TABLE for name, order in b.pysd.items()
}
"""PySD's name of a function (as its translators read it from Vensim or XMILE) -> the built-in and,
when PySD orders the arguments differently, the positions of tenor's arguments in PySD's list."""

STATEFUL_FUNCTIONS = frozenset(b.name for b in _TABLE if b.stateful)
"""Functions that keep state between time steps (they hold hidden stocks)."""


def find_builtin(name: str) -> Builtin | None:
    """The built-in called ``name`` (a tenor name or another spelling, any case), or None."""
    word = name.lower()
    return BUILTINS.get(word) or _BY_ALIAS.get(word)


_FILE_NAMES: dict[str, dict[str, str]] = {
    "vensim": {
        "delayn": "DELAY N",
        "smoothn": "SMOOTH N",
        "forecast": "FORECAST",
        "get_time_value": "GET TIME VALUE",
        "invert_matrix": "INVERT MATRIX",
        "vector_select": "VECTOR SELECT",
        "allocate_by_priority": "ALLOCATE BY PRIORITY",
        "allocate_available": "ALLOCATE AVAILABLE",
    },
    "xmile": {"delayn": "DELAYN", "smoothn": "SMTHN", "forecast": "FORCST"},
}


def call_name(func: str, origin: str = "spec") -> str:
    """How a message names a call of ``func``: in the file's own words where they differ from tenor's.

    >>> call_name("delayn", "vensim"), call_name("delayn")
    ('DELAY N', 'delayn()')
    """
    return _FILE_NAMES.get(origin, {}).get(func) or f"{func}()"
