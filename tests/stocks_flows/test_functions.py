"""The function registry: every built-in's forms agree with each other.

Each test enumerates :data:`stocks_flows.functions.BUILTINS`, so a function added
to the registry is checked by all of them: its engine closure against its kernel
expression, its engine closure against the derivative of its sympy form, its XMILE
text through PySD's translator and back.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows import kernel_runtime as R
from stocks_flows._partials import _evaluate_sympy, steady_state_equation, symbolic_partial
from stocks_flows.engine import simulate
from stocks_flows.expr import Call, Name, SyntaxProblem, names, parse_expression, walk
from stocks_flows.functions import BUILTINS, PYSD_NAMES, STATEFUL_FUNCTIONS, find_builtin
from stocks_flows.load import load_model
from stocks_flows.xmile import generate_xmile, read_xmile
from tenor.core.errors import SpecError

DATA = Path(__file__).resolve().parents[1] / "data"
ROUND_TRIP = [
    DATA / "kernel" / "every_function.yaml",
    DATA / "stocks_flows" / "two_dimensions.yaml",
    DATA / "stocks_flows" / "cascades.yaml",  # delayn and smoothn, which the compiled kernel does not run
]
FEW = settings(max_examples=25, derandomize=True, deadline=None)
STATELESS = sorted(name for name, b in BUILTINS.items() if not b.stateful and b.not_compiled is None)
SYMBOLIC = sorted(name for name, b in BUILTINS.items() if b.sympy is not None)
NO_XMILE = {"sample_if_true", "active_initial"}  # Vensim's SAMPLE IF TRUE and ACTIVE INITIAL: not in XMILE
# Vensim's functions of whole arrays and GET TIME VALUE: not in XMILE, not compiled (used in VENSIM_FUNCTIONS)
NOT_COMPILED = sorted(name for name, b in BUILTINS.items() if b.not_compiled is not None)
NO_XMILE |= set(NOT_COMPILED)
VENSIM_FUNCTIONS = DATA / "stocks_flows" / "vensim_functions.yaml"


def _counts(name: str) -> list[int]:
    b = BUILTINS[name]
    top = b.max_args if b.max_args is not None else b.min_args + 2
    if b.spreads:
        top = max(top, 3)
    return list(range(b.min_args, top + 1))


# --- the table itself ----------------------------------------------------------------------


def test_every_entry_is_complete_and_its_names_are_unambiguous() -> None:
    spellings: dict[str, str] = {}
    for name, b in BUILTINS.items():
        assert name == b.name == name.lower()
        assert b.max_args is None or b.min_args <= b.max_args
        assert b.doc
        assert b.xmile is not None or b.name in NO_XMILE
        if b.stateful:
            assert b.numpy is None and b.kernel is None  # hidden stocks: the engines' own machinery
        else:
            assert b.numpy is not None and (b.kernel is None) == (b.not_compiled is not None)
        for spelling in (name, *b.aliases):
            assert spelling not in spellings, f"{spelling} names both {spellings[spelling]} and {name}"
            spellings[spelling] = name
            assert find_builtin(spelling.upper()) is b
    assert STATEFUL_FUNCTIONS == {n for n, b in BUILTINS.items() if b.memory is not None}
    for pysd_name, (b, order) in PYSD_NAMES.items():
        assert BUILTINS[b.name] is b
        assert order is None or sorted(order) == list(range(len(order))), pysd_name


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_the_parser_enforces_the_arity(name: str) -> None:
    b = BUILTINS[name]
    for count in range(0, (b.max_args or b.min_args) + 2):
        text = f"{name}({', '.join(['x'] * count)})"
        if b.takes(count):
            assert parse_expression(text).func == name
        else:
            with pytest.raises(SyntaxProblem, match=rf"{name}\(\) takes {b.arity} arguments, got {count}"):
                parse_expression(text)


def test_lagged_arguments_follow_the_memory() -> None:
    for b in BUILTINS.values():
        for i in range(b.max_args or b.min_args):
            assert b.is_lagged(i) == (b.memory is not None and i not in b.memory.same_step)
    assert not BUILTINS["delay1"].is_lagged(1) and BUILTINS["delay1"].is_lagged(0)


# --- the engine against the kernel ---------------------------------------------------------

_RUNTIME = {name: getattr(getattr(R, name), "py_func", getattr(R, name)) for name in R.__all__ if name.startswith("_")}
_VALUES = st.one_of(
    st.floats(-20, 20, allow_nan=False),
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-7, 3.0]),
)


def _engine(name: str, args: list[float], t: float, dt: float) -> float:
    closures = [lambda env, v=v: np.float64(v) for v in args]
    fn = BUILTINS[name].numpy(closures)
    with np.errstate(all="ignore"):
        return float(np.asarray(fn({"__time__": np.float64(t), "__dt__": dt}), dtype=float))


def _kernel(name: str, args: list[float], t: float, dt: float) -> float:
    text = BUILTINS[name].kernel([f"a{i}" for i in range(len(args))])
    assert re.fullmatch(r"[\w\s().,*/+\-<>=]*", text), text  # names, numbers and operators only
    scope = {"np": np, "abs": abs, "t": t, "dt": dt, **_RUNTIME, **{f"a{i}": v for i, v in enumerate(args)}}
    with np.errstate(all="ignore"):
        return float(eval(text, {"__builtins__": {}}, scope))  # the registry's own text, names and operators only


@pytest.mark.parametrize("name", STATELESS)
@FEW
@given(data=st.data())
def test_the_kernel_expression_computes_what_the_engine_computes(name: str, data: st.DataObject) -> None:
    count = data.draw(st.sampled_from(_counts(name)))
    args = data.draw(st.lists(_VALUES, min_size=count, max_size=count))
    t = data.draw(st.floats(0, 20, allow_nan=False))
    dt = data.draw(st.sampled_from([0.25, 0.5, 1.0]))
    np.testing.assert_allclose(_kernel(name, args, t, dt), _engine(name, args, t, dt), rtol=1e-12, atol=1e-300)


# --- the engine against the symbolic derivative ------------------------------------------


@pytest.mark.parametrize("name", SYMBOLIC)
@FEW
@given(x=st.floats(0.1, 1.4), y=st.floats(-2, 2))
def test_the_symbolic_derivative_is_the_slope_of_the_engine(name: str, x: float, y: float) -> None:
    count = BUILTINS[name].min_args + (1 if BUILTINS[name].spreads else 0)  # sum(x[*]) spread: sum(x, y)
    tree = Call(name, (Name("x"), Name("y"))[:count])
    found = symbolic_partial(tree, "x", {})
    assert found is not None, f"{name}() has a sympy form but no symbolic derivative"
    exact = float(_evaluate_sympy(found[0], {"x": x, "y": y}))
    h = 1e-6
    slope = (_engine(name, [x + h, y][:count], 0, 1) - _engine(name, [x - h, y][:count], 0, 1)) / (2 * h)
    assert math.isclose(exact, slope, rel_tol=1e-5, abs_tol=1e-7)


def test_a_function_without_a_sympy_form_is_taken_numerically() -> None:
    for name, b in BUILTINS.items():
        if b.sympy is None and not b.stateful and b.min_args == 1:
            assert symbolic_partial(parse_expression(f"{name}(x)"), "x", {}) is None, name


def test_the_steady_state_replaces_each_smooth_and_delay_by_its_input() -> None:
    for name, b in BUILTINS.items():
        if b.memory is not None and b.memory.kind in ("smooth", "delay", "fixed"):
            args = ", ".join(["x * 2", "3", "4", "2"][: b.min_args])
            tree = steady_state_equation(parse_expression(f"1 + {name}({args})"))
            assert not any(getattr(n, "func", None) == name for n in walk(tree))
            assert [n.name for n in names(tree)] == ["x"]


# --- XMILE out and back in ------------------------------------------------------------------


def _calls(path: Path) -> set[str]:
    model = load_model(path)
    trees = [t for var in model.variables.values() for t in (var.equation, var.initial) if t is not None]
    return {node.func for tree in trees for node in walk(tree) if isinstance(node, Call)}


def test_the_round_trip_models_use_every_builtin() -> None:
    used = set().union(*(_calls(path) for path in ROUND_TRIP))
    assert set(BUILTINS) - NO_XMILE <= used, f"use {sorted(set(BUILTINS) - NO_XMILE - used)} in {ROUND_TRIP[0].name}"


def test_the_functions_the_kernel_does_not_compile_are_used_and_run_with_the_numpy_engine() -> None:
    assert set(NOT_COMPILED) <= _calls(VENSIM_FUNCTIONS), f"use {NOT_COMPILED} in {VENSIM_FUNCTIONS.name}"
    model = load_model(VENSIM_FUNCTIONS)
    result = simulate(model)
    assert np.isfinite(result.values).all()


@pytest.mark.parametrize("name", sorted(NO_XMILE))
def test_the_writer_refuses_a_function_xmile_lacks(name: str, tmp_path: Path) -> None:
    args = ", ".join(["time > 1", "time", "0", "1", "2", "3", "4"][: BUILTINS[name].min_args])
    path = tmp_path / "m.yaml"
    path.write_text(f"name: m\ntime: {{start: 0, stop: 2, dt: 1}}\nauxiliaries:\n  x: {{equation: '{name}({args})'}}\n")
    with pytest.raises(SpecError, match=rf"{name}\(\) has no XMILE form"):
        generate_xmile(load_model(path))


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.name)
def test_every_builtin_survives_the_xmile_round_trip(path: Path, tmp_path: Path) -> None:
    model = load_model(path)
    target = tmp_path / "model.xmile"
    target.write_text(generate_xmile(model))
    back = read_xmile(target)
    first = simulate(model, kernel="numpy")
    second = simulate(back, kernel="numpy", times=list(first.time))
    assert set(first.variables) <= set(second.variables)
    for j, name in enumerate(first.variables):
        np.testing.assert_allclose(
            second.values[0, :, second.variables.index(name)], first.values[0, :, j], rtol=1e-12, err_msg=name
        )
