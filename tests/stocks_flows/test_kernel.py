"""The compiled kernel computes what the NumPy engine computes.

The NumPy engine is the reference (it equals PySD on the conformance corpus);
the kernel must give the same numbers to 1e-12 on every model, every batch of
scenarios, and report problems with the engine's own errors.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows import kernel as K
from stocks_flows import kernel_runtime as R
from stocks_flows.engine import _initial_order, simulate
from stocks_flows.functions import _mod, _xidz
from stocks_flows.load import load_model, parse_model
from tenor.core.errors import SimulationError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "conformance" / "xmile"

# One model for each kind of construct the kernel translates: lookups (with and without
# extrapolation), pulses and ramps, smooths and delays (fixed ones too), trend, init,
# subscripts, non-negative stocks, if-then-else and logic, and the bundled example.
MODELS = [
    "tests/data/kernel/every_function.yaml",
    "tests/data/stocks_flows/teacup.yaml",
    "tests/data/stocks_flows/tenors.yaml",
    "tests/data/stocks_flows/pulses.xmile",
    "tests/data/stocks_flows/trend.xmile",
    "tests/data/stocks_flows/functions.mdl",
    "tests/data/conformance/xmile/lookups/test_lookups.xmile",
    "tests/data/conformance/xmile/constant_expressions/test_constant_expressions.xmile",
    "tests/data/conformance/xmile/chained_initialization/test_chained_initialization.xmile",
    "tests/data/conformance/xmile/non_negative_flows/test_non_negative_flows.xmile",
    "tests/data/conformance/xmile/if_stmt/if_stmt.xmile",
    "tests/data/conformance/xmile/logicals/test_logicals.xmile",
    "examples/duration_trade/stocks.yaml",
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENOR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernel-cache"))


def _existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p).exists()]


def test_every_listed_model_exists() -> None:
    assert _existing(MODELS) == MODELS


def _perturbed(model, n: int, seed: int) -> dict[str, np.ndarray]:
    """Every constant with a nonzero value, scaled by a random factor in each scenario."""
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for name in model.constants:
        tree = model.variables[name].equation
        value = getattr(tree, "value", None)
        if isinstance(value, float) and value != 0.0 and np.isfinite(value):
            params[name] = value * rng.uniform(0.8, 1.2, n)
    return params


@pytest.mark.parametrize("path", MODELS)
def test_kernel_equals_engine(path: str) -> None:
    model = load_model(ROOT / path)
    params = _perturbed(model, 5, seed=len(path))
    try:
        reference = simulate(model, params, kernel="numpy")
    except SimulationError:  # a perturbation the model cannot take: both must say the same thing
        with pytest.raises(SimulationError):
            simulate(model, params, kernel="compiled")
        return
    compiled = simulate(model, params, kernel="compiled")
    assert compiled.variables == reference.variables
    np.testing.assert_array_equal(np.isnan(compiled.values), np.isnan(reference.values))
    np.testing.assert_allclose(compiled.values, reference.values, rtol=1e-12, atol=1e-12)


def test_chunks_and_selected_outputs() -> None:
    model = load_model(ROOT / "tests/data/stocks_flows/tenors.yaml")
    params = _perturbed(model, 7, seed=3)
    wanted = list(model.variables)[::3]
    reference = simulate(model, params, variables=wanted, chunk_size=3, kernel="numpy")
    compiled = simulate(model, params, variables=wanted, chunk_size=3, kernel="compiled")
    np.testing.assert_allclose(compiled.values, reference.values, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "path", ["tests/data/stocks_flows/teacup.yaml", "tests/data/kernel/every_function.yaml"]
)  # a small model (its saved rows staged per block) and one over the staging size (kept variables tested)
def test_blocks_of_scenarios_across_chunks_with_outputs_in_any_order(path: str) -> None:
    """More scenarios than a block, chunks that end inside a block, outputs reordered and repeated."""
    model = load_model(ROOT / path)
    n = K._BLOCK + 45
    params = _perturbed(model, n, seed=11)
    names = list(model.variables)
    wanted = [names[-1], names[0], names[-1], *names[1:-1:2]]
    reference = simulate(model, params, variables=wanted, kernel="numpy")
    for chunk_size in (4096, 100):
        compiled = simulate(model, params, variables=wanted, chunk_size=chunk_size, kernel="compiled")
        assert compiled.variables == wanted
        np.testing.assert_array_equal(np.isnan(compiled.values), np.isnan(reference.values))
        np.testing.assert_allclose(compiled.values, reference.values, rtol=1e-12, atol=1e-12)
    assert (len(names) <= K._STAGED) == (path.endswith("teacup.yaml"))


def test_stock_initial_overrides_with_nan_keep_the_model_value() -> None:
    model = load_model(ROOT / "tests/data/stocks_flows/teacup.yaml")
    stock = model.stocks[0]
    params = {stock: np.array([np.nan, 50.0, 120.0])}
    reference = simulate(model, params, kernel="numpy")
    compiled = simulate(model, params, kernel="compiled")
    np.testing.assert_allclose(compiled.values, reference.values, rtol=1e-12, atol=1e-12)


DIVIDES_BY_ZERO = """
time: {start: 0, stop: 4, dt: 1}
constants: {k: 1}
stocks: {s: {initial: 2}}
flows: {f: {from: s, equation: s / (k - time)}}
"""


def test_a_nonfinite_value_gives_the_engines_error() -> None:
    model = parse_model(DIVIDES_BY_ZERO)
    with pytest.raises(SimulationError) as numpy_error:
        simulate(model, kernel="numpy")
    with pytest.raises(SimulationError) as kernel_error:
        simulate(model, kernel="compiled")
    assert str(kernel_error.value) == str(numpy_error.value)
    kept = simulate(model, kernel="compiled", on_nonfinite="keep")
    reference = simulate(model, kernel="numpy", on_nonfinite="keep")
    np.testing.assert_array_equal(np.isnan(kept.values), np.isnan(reference.values))


RK4 = """
time: {start: 0, stop: 1, dt: 0.5, method: rk4}
stocks: {s: {initial: 1}}
flows: {f: {to: s, equation: s}}
"""


def test_what_the_kernel_does_not_translate_is_said_and_auto_falls_back() -> None:
    model = parse_model(RK4)
    assert "rk4" in K.unsupported_reason(model, _initial_order(model))
    with pytest.raises(SimulationError, match="cannot run this model"):
        simulate(model, kernel="compiled")
    assert simulate(model, kernel="auto").values[0, -1, 0] == simulate(model, kernel="numpy").values[0, -1, 0]


def test_an_unknown_kernel_is_refused() -> None:
    with pytest.raises(SimulationError, match="unknown kernel"):
        simulate(parse_model(RK4), kernel="gpu")


def test_the_cache_is_used_by_a_second_process(tmp_path: Path) -> None:
    """A model compiled once is loaded from disk by the next process, not compiled again."""
    spec = ROOT / "tests/data/stocks_flows/teacup.yaml"
    script = textwrap.dedent(
        f"""
        from stocks_flows.engine import simulate
        from stocks_flows.load import load_model
        from stocks_flows import kernel
        run = simulate(load_model({str(spec)!r}), kernel="compiled")
        fn = next(iter(kernel._LOADED.values())).function
        print(fn.stats.cache_hits.most_common(1)[0][1] if fn.stats.cache_hits else 0)
        """
    )
    env = {"TENOR_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    assert (first.stdout.strip(), second.stdout.strip()) == ("0", "1")


def test_the_kernel_flag_of_simulate_and_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--kernel`` reaches the engine: compiled and numpy write the same table; compiled refuses RK4."""
    import pandas as pd

    from tenor.cli.main import main

    teacup = str(ROOT / "tests/data/stocks_flows/teacup.yaml")
    tables = {}
    for kernel in ("numpy", "compiled", "auto"):
        out = tmp_path / f"{kernel}.csv"
        assert main(["simulate", teacup, "--kernel", kernel, "--set", "room_temperature=60", "--out", str(out)]) == 0
        tables[kernel] = pd.read_csv(out)
    pd.testing.assert_frame_equal(tables["compiled"], tables["numpy"], rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(tables["auto"], tables["numpy"], rtol=1e-12, atol=1e-12)
    sweeps = {}
    for kernel in ("numpy", "compiled"):
        out = tmp_path / f"sweep-{kernel}.csv"
        args = ["sweep", teacup, "--set", "characteristic_time=5:15:7", "--kernel", kernel, "--out", str(out)]
        assert main(args) == 0
        sweeps[kernel] = pd.read_csv(out)
    pd.testing.assert_frame_equal(sweeps["compiled"], sweeps["numpy"], rtol=1e-12, atol=1e-12)
    rk4 = tmp_path / "rk4.yaml"
    rk4.write_text(RK4)
    assert main(["simulate", str(rk4), "--kernel", "numpy", "--out", str(tmp_path / "r.csv")]) == 0
    capsys.readouterr()
    assert main(["simulate", str(rk4), "--kernel", "compiled", "--out", str(tmp_path / "r.csv")]) == 2
    assert "cannot run this model" in capsys.readouterr().err
    bad = tmp_path / "x.csv"
    assert main(["sweep", teacup, "--set", "characteristic_time=5:15:3", "--kernel", "gpu", "-o", str(bad)]) == 2
    assert "unknown kernel 'gpu'" in capsys.readouterr().err
    assert not bad.exists()


# --- the generated source stays inside its vocabulary ------------------------------------------


@pytest.mark.parametrize("path", MODELS[:4])
def test_generated_source_passes_the_allow_list(path: str) -> None:
    model = load_model(ROOT / path)
    K.check_source(K.generate_source(model, _initial_order(model)).text)


@pytest.mark.parametrize(
    "text",
    [
        "import os",
        "from subprocess import run",
        "def kernel():\n    open('x', 'w')\n",
        "def kernel():\n    x = 'text'\n",
        "def kernel():\n    np.load('x')\n",
        "def kernel():\n    x = (1).__class__\n",
        "def kernel():\n    __import__('os')\n",
        "def kernel():\n    lambda: 0\n",
        "def helper():\n    pass\n",
        "class A:\n    pass\n",
        "def kernel():\n    with x:\n        pass\n",
    ],
)
def test_the_allow_list_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="generated kernel"):
        K.check_source(text)


def test_names_and_text_from_the_file_never_reach_the_source() -> None:
    model = parse_model(
        "time: {start: 0, stop: 1, dt: 1}\n"
        'constants: {evil_name: {value: 2, description: "x\\"\\"\\"\\nimport os\\n"}}\n'
        "stocks: {s: {initial: 1}}\n"
        "flows: {f: {to: s, equation: evil_name * s}}\n"
    )
    text = K.generate_source(model, _initial_order(model)).text
    assert "evil_name" not in text and "import os" not in text


# --- the scalar rules match NumPy's, one by one -------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)
anything = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(anything, anything)
def test_min_max_propagate_nan_as_numpy_does(a: float, b: float) -> None:
    np.testing.assert_equal(R._min2.py_func(a, b), np.minimum(a, b))
    np.testing.assert_equal(R._max2.py_func(a, b), np.maximum(a, b))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(finite, finite)
def test_mod_and_xidz_as_the_engine(a: float, b: float) -> None:
    np.testing.assert_equal(R._mod.py_func(a, b), _mod(np.float64(a), np.float64(b)))
    np.testing.assert_equal(R._xidz.py_func(a, b, 7.0), _xidz(np.float64(a), np.float64(b), 7.0))
    if b != 0:
        np.testing.assert_equal(R._pymod.py_func(a, b), np.mod(a, b))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=8, unique=True),
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=8, max_size=8),
    st.floats(-200, 200, allow_nan=False),
)
def test_interp_is_numpys(xs: list[float], ys: list[float], x: float) -> None:
    xs_arr = np.sort(np.asarray(xs))
    ys_arr = np.asarray(ys[: len(xs)])
    pad = np.array([9.0, 9.0])  # the table sits at an offset inside a longer array, as in the kernel
    got = R._interp.py_func(x, np.r_[pad, xs_arr], np.r_[pad, ys_arr], 2, len(xs_arr))
    assert got == np.interp(x, xs_arr, ys_arr)
    assert R._interp.py_func(float(xs_arr[1]), xs_arr, ys_arr, 0, len(xs_arr)) == ys_arr[1]


def test_compiled_helpers_agree_with_their_python() -> None:
    for a, b in [(1.0, 2.0), (-3.5, 2.0), (np.nan, 1.0), (5.0, 0.0)]:
        np.testing.assert_equal(R._min2(a, b), R._min2.py_func(a, b))
        np.testing.assert_equal(R._xidz(a, b, 3.0), R._xidz.py_func(a, b, 3.0))
        np.testing.assert_equal(R._mod(a, b), R._mod.py_func(a, b))
