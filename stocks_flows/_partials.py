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

from stocks_flows.expr import Binary, Call, Expr, If, Name, Number, Time, Unary

if TYPE_CHECKING:
    from stocks_flows.engine import Run
    from stocks_flows.model import Model

__all__: list[str] = []

_SMOOTHING = ("smooth1", "smooth3", "delay1", "delay3", "delay_fixed")


def steady_state_equation(tree: Expr, initial: Mapping[str, float] | None = None) -> Expr:
    """``tree`` with each smooth or delay replaced by its input, and ``init(x)`` by x at the start."""
    if isinstance(tree, Number | Time | Name):
        return tree
    if isinstance(tree, Unary):
        return Unary(tree.op, steady_state_equation(tree.operand, initial), tree.pos)
    if isinstance(tree, Binary):
        return Binary(
            tree.op, steady_state_equation(tree.left, initial), steady_state_equation(tree.right, initial)
        )
    if isinstance(tree, If):
        return If(
            steady_state_equation(tree.cond, initial),
            steady_state_equation(tree.then, initial),
            steady_state_equation(tree.other, initial),
        )
    if isinstance(tree, Call):
        if not tree.lookup and tree.func in _SMOOTHING:
            return steady_state_equation(tree.args[0], initial)
        if not tree.lookup and tree.func == "init":
            arg = tree.args[0]
            if isinstance(arg, Name) and initial is not None and arg.name in initial:
                return Number(float(initial[arg.name]))
            return steady_state_equation(arg, initial)
        return Call(
            tree.func, tuple(steady_state_equation(a, initial) for a in tree.args), tree.pos, tree.lookup
        )
    raise TypeError(tree)


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
        model = replace(model, time=replace(model.time, save_step=model.time.dt))
    return simulate(model, scenario_names=["base"])


# --- symbolic signs -------------------------------------------------------------------------

_SYMPY_UNARY = {
    "exp": "exp",
    "ln": "log",
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "arctan": "atan",
    "log10": None,
}


class _NotSymbolic(Exception):
    pass


def _to_sympy(tree: Expr, symbols: dict[str, Any], constants: Mapping[str, float]) -> Any:
    import sympy

    def go(node: Expr) -> Any:
        if isinstance(node, Number):
            return (
                sympy.Float(node.value) if node.value != int(node.value) else sympy.Integer(int(node.value))
            )
        if isinstance(node, Name):
            if node.name in constants:
                return sympy.Float(constants[node.name])
            if node.name not in symbols:
                symbols[node.name] = sympy.Symbol(node.name, real=True)
            return symbols[node.name]
        if isinstance(node, Unary):
            if node.op == "-":
                return -go(node.operand)
            if node.op == "+":
                return go(node.operand)
            raise _NotSymbolic
        if isinstance(node, Binary):
            a, b = go(node.left), go(node.right)
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if node.op == "/":
                return a / b
            if node.op == "^":
                return a**b
            raise _NotSymbolic
        if isinstance(node, Call) and not node.lookup:
            if node.func == "sum":
                return sympy.Add(*(go(a) for a in node.args))
            name = _SYMPY_UNARY.get(node.func)
            if name is not None and len(node.args) == 1:
                return getattr(sympy, name)(go(node.args[0]))
        raise _NotSymbolic

    return go(tree)


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


_NUMPY_FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "atan": np.arctan,
}


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
