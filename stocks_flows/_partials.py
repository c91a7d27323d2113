"""Re-evaluating equations along a run: partial derivatives and ceteris-paribus changes.

Loop analysis needs two things the engine does not keep: the partial derivative
of each equation with respect to each input (the *link gain*), and the change
of a variable caused by one input alone (the *partial change* of Loops That
Matter). Both come from evaluating an equation again with some inputs moved,
with every value of the run laid along one array axis (time), so one call
evaluates the equation at every saved time.

Smooths and delays hold hidden state that a run does not save. Here they are
replaced by their input (their steady-state gain is one): a link through a
smooth or delay keeps its sign and its steady-state gain, and is flagged
``delayed`` in the dependency graph. ``init(x)`` is replaced by the value of
``x`` at the first saved time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from stocks_flows.expr import Binary, Call, Expr, Fold, If, Name, Number, Time, Transform, Unary
from stocks_flows.functions import BUILTINS
from stocks_flows.time_axis import require_fixed

if TYPE_CHECKING:
    from stocks_flows.engine import Run
    from stocks_flows.model import Model

__all__: list[str] = []


class _SteadyState(Transform):
    """Each smooth or delay replaced by its input, and ``init(x)`` by x at the start when known."""

    def __init__(self, initial: Mapping[str, float] | None) -> None:
        self.initial = initial

    def call(self, node: Call, args: list[Expr]) -> Expr:
        memory = None if node.lookup or node.func not in BUILTINS else BUILTINS[node.func].memory
        if memory is not None and memory.kind in ("smooth", "delay", "fixed"):
            return args[0]
        if memory is not None and memory.kind == "init":
            arg = args[0]
            if isinstance(arg, Name) and self.initial is not None and arg.name in self.initial:
                return Number(float(self.initial[arg.name]))
            return arg
        return super().call(node, args)


def steady_state_equation(tree: Expr, initial: Mapping[str, float] | None = None) -> Expr:
    """``tree`` with each smooth or delay replaced by its input, and ``init(x)`` by x at the start."""
    return _SteadyState(initial)(tree)


class Evaluator:
    """Compiled steady-state equations of a model, evaluated over arrays of times."""

    def __init__(self, model: Model, run: Run | None = None) -> None:
        from stocks_flows.engine import _Compiler  # the engine's AST-to-closure compiler

        self.model = model
        initial: dict[str, float] = {}
        if run is not None:
            for j, name in enumerate(run.variables):
                initial[name] = float(run.values[0, 0, j])
        compiler = _Compiler(model.lookups)
        self.functions = {
            name: compiler.compile(steady_state_equation(var.equation, initial))
            for name, var in model.variables.items()
            if var.kind != "constant"
        }

    def env(self, run: Run, scenario: int = 0) -> dict[str, Any]:
        """Every variable of the run as an array over saved times (constants as scalars)."""
        env: dict[str, Any] = {
            "__time__": np.asarray(run.time, dtype=float),
            "__dt__": self.model.time.dt,
            "__n__": len(run.time),
        }
        for name, var in self.model.variables.items():
            if var.kind == "constant" and var.value is not None:
                env[name] = np.float64(var.value)
        for j, name in enumerate(run.variables):
            env[name] = np.asarray(run.values[scenario, :, j], dtype=float)
        return env

    def value(self, name: str, env: Mapping[str, Any]) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = self.functions[name](dict(env))
        return np.broadcast_to(np.asarray(out, dtype=float), np.shape(env["__time__"])).copy()

    def partial(self, effect: str, cause: str, env: Mapping[str, Any]) -> np.ndarray:
        """d effect / d cause at every saved time, by central differences."""
        x = np.asarray(env[cause], dtype=float)
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        up = dict(env)
        down = dict(env)
        up[cause] = x + h
        down[cause] = x - h
        return (self.value(effect, up) - self.value(effect, down)) / (2 * h)


def run_for_analysis(model: Model, *, every_step: bool = False) -> Run:
    """Simulate ``model`` once, every variable kept (at every ``dt`` when ``every_step``).

    Raises
    ------
    NonFiniteError
        When a value becomes NaN or infinite: gains and scores of such a run mean nothing.
    """
    from dataclasses import replace

    from stocks_flows.engine import simulate

    if every_step:
        require_fixed(model.time_equations, "an analysis at every time step")
        model = replace(model, time=replace(model.time, save_step=model.time.dt))
    return simulate(model, scenario_names=["base"])


# --- symbolic signs -------------------------------------------------------------------------


class _NotSymbolic(Exception):
    pass


class _Sympy(Fold[Any]):
    """An equation as a sympy expression; anything without a symbolic form raises :class:`_NotSymbolic`."""

    def __init__(self, symbols: dict[str, Any], constants: Mapping[str, float]) -> None:
        import sympy

        self.sympy, self.symbols, self.constants = sympy, symbols, constants

    def enter(self, node: Expr) -> Any:
        """Refuse a condition, a logical ``not`` or a call without a symbolic form before its arguments."""
        if isinstance(node, If) or (isinstance(node, Unary) and node.op == "not"):
            raise _NotSymbolic
        if isinstance(node, Call):
            builtin = None if node.lookup else BUILTINS.get(node.func)
            if builtin is None or builtin.sympy is None or not builtin.takes_expanded(len(node.args)):
                raise _NotSymbolic
        return None

    def number(self, node: Number) -> Any:
        value = node.value
        return self.sympy.Float(value) if value != int(value) else self.sympy.Integer(int(value))

    def time(self, node: Time) -> Any:
        raise _NotSymbolic

    def name(self, node: Name) -> Any:
        if node.name in self.constants:
            return self.sympy.Float(self.constants[node.name])
        if node.name not in self.symbols:
            self.symbols[node.name] = self.sympy.Symbol(node.name, real=True)
        return self.symbols[node.name]

    def unary(self, node: Unary, operand: Any) -> Any:
        if node.op == "-":
            return -operand
        if node.op == "+":
            return operand
        raise _NotSymbolic

    def binary(self, node: Binary, a: Any, b: Any) -> Any:
        if node.op not in _ARITHMETIC:
            raise _NotSymbolic
        return _ARITHMETIC[node.op](a, b)

    def if_(self, node: If, cond: Any, then: Any, other: Any) -> Any:
        raise _NotSymbolic

    def call(self, node: Call, args: list[Any]) -> Any:
        return getattr(self.sympy, BUILTINS[node.func].sympy or "")(*args)


_ARITHMETIC: dict[str, Any] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}


def _to_sympy(tree: Expr, symbols: dict[str, Any], constants: Mapping[str, float]) -> Any:
    return _Sympy(symbols, constants)(tree)


def symbolic_partial(tree: Expr, cause: str, constants: Mapping[str, float]) -> tuple[Any, list[str]] | None:
    """d tree / d cause as a sympy expression (constants other than ``cause`` substituted), and its names.

    Works on sums, products, quotients, powers and smooth elementary functions;
    anything with a condition, a lookup, time or a kink (min, max, abs)
    returns None, and the derivative is then taken numerically.
    """
    constants = {k: v for k, v in constants.items() if k != cause}
    try:
        symbols: dict[str, Any] = {}
        expr = _to_sympy(tree, symbols, constants)
        if cause not in symbols:
            return None
        derivative = expr.diff(symbols[cause])
    except (_NotSymbolic, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    names = sorted(str(sym) for sym in derivative.free_symbols)
    return derivative, names


def symbolic_sign(tree: Expr, cause: str, constants: Mapping[str, float]) -> str | None:
    """Sign of d tree / d cause when it is a nonzero number once constants are known, else None.

    >>> from stocks_flows.expr import parse_expression
    >>> symbolic_sign(parse_expression("a - 2 * b"), "b", {})
    '-'
    >>> symbolic_sign(parse_expression("a * b"), "b", {}) is None
    True
    """
    found = symbolic_partial(tree, cause, constants)
    if found is None or not found[0].is_number:
        return None
    try:
        value = float(found[0])
    except (TypeError, ValueError):
        return None
    if not np.isfinite(value) or value == 0:
        return None
    return "+" if value > 0 else "-"


def symbolic_gain(
    tree: Expr, cause: str, constants: Mapping[str, float], env: Mapping[str, Any], n: int
) -> np.ndarray | None:
    """d tree / d cause evaluated exactly at every saved time (None when not symbolic).

    The sympy derivative is walked node by node with NumPy (no code is generated).
    """
    found = symbolic_partial(tree, cause, constants)
    if found is None:
        return None
    derivative, names = found
    if any(name not in env for name in names):
        return None
    try:
        with np.errstate(all="ignore"):
            value = _evaluate_sympy(derivative, env)
    except _NotSymbolic:
        return None
    return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()


_NUMPY_FUNCTIONS = {b.sympy: b.ufunc for b in BUILTINS.values() if b.sympy is not None and b.ufunc is not None}
"""sympy's function name -> the NumPy function of the same built-in (to evaluate a derivative)."""


def _evaluate_sympy(expr: Any, env: Mapping[str, Any]) -> Any:
    if expr.is_Number:
        return float(expr)
    if expr.is_Symbol:
        return np.asarray(env[str(expr)], dtype=float)
    if expr.is_Add:
        out: Any = 0.0
        for arg in expr.args:
            out = out + _evaluate_sympy(arg, env)
        return out
    if expr.is_Mul:
        out = 1.0
        for arg in expr.args:
            out = out * _evaluate_sympy(arg, env)
        return out
    if expr.is_Pow:
        base, exponent = expr.args
        return np.power(_evaluate_sympy(base, env), _evaluate_sympy(exponent, env))
    function = _NUMPY_FUNCTIONS.get(type(expr).__name__)
    if function is not None and len(expr.args) == 1:
        return function(_evaluate_sympy(expr.args[0], env))
    raise _NotSymbolic
