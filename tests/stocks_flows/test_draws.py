"""Random functions: reproducible from the seed, one stream per call and per seed, the right distributions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from stocks_flows import draws
from stocks_flows.engine import simulate
from stocks_flows.load import load_model, parse_model
from stocks_flows.pysd_runner import run_pysd_file
from tenor.core.errors import SimulationError

MODEL = """
name: noisy
time: {start: 0, stop: 50, dt: 0.5}
constants:
  seed: 7
stocks:
  level: {initial: 0}
flows:
  inflow: {to: level, equation: "random_normal(-1, 1, 0, 0.5, seed)"}
auxiliaries:
  u: {equation: "random_uniform(2, 4, seed)"}
  v: {equation: "random_uniform(2, 4, seed)"}
  pair: {equation: "random_uniform(0, 1, seed) - random_uniform(0, 1, seed)"}
  wait: {equation: "random_exponential(1, 10, 0, 2, seed)"}
  plain: {equation: "random_0_1()"}
"""

SEEDS = np.arange(1.0, 20_001.0)


def _column(run, name: str) -> np.ndarray:
    return run.values[:, :, run.variables.index(name)]


def test_the_same_seed_gives_the_same_run_whatever_the_batch_and_block():
    model = parse_model(MODEL)
    alone = simulate(model, {"seed": [7.0]})
    batch = simulate(model, {"seed": [3.0, 7.0, 11.0, 7.0]}, chunk_size=3)
    for name in ("inflow", "level", "u", "wait", "plain", "pair"):
        np.testing.assert_array_equal(_column(batch, name)[1], _column(alone, name)[0])
        np.testing.assert_array_equal(_column(batch, name)[3], _column(alone, name)[0])
    assert not np.array_equal(_column(batch, "u")[0], _column(batch, "u")[1])  # another seed, another stream
    np.testing.assert_array_equal(_column(simulate(model), "u"), _column(simulate(model), "u"))


def test_each_call_has_its_own_stream_even_with_the_same_seed():
    run = simulate(parse_model(MODEL))
    u, v, pair = _column(run, "u")[0], _column(run, "v")[0], _column(run, "pair")[0]
    assert not np.any(u == v)
    assert not np.any(pair == 0.0)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.3
    assert len(np.unique(u)) == len(u)  # a new draw every step


def test_a_stock_fed_by_draws_integrates_them():
    run = simulate(parse_model(MODEL))
    level, inflow = _column(run, "level")[0], _column(run, "inflow")[0]
    np.testing.assert_allclose(np.diff(level), 0.5 * inflow[:-1], rtol=1e-12, atol=1e-15)


# --- the distributions (20,000 seeds at one time; deterministic, so a p-value is fixed, not flaky) --------


def test_uniform_is_uniform():
    x = draws.uniform(2.0, 4.0, SEEDS, 1, 3.0)
    assert stats.kstest(x, stats.uniform(loc=2, scale=2).cdf).pvalue > 1e-3
    assert x.min() >= 2.0 and x.max() <= 4.0


def test_unit_draws_at_successive_times_are_independent():
    times = np.arange(0.0, 20_000.0)
    x, y = draws.unit(5.0, 9, times), draws.unit(5.0, 9, times + 1.0)
    assert stats.kstest(x, "uniform").pvalue > 1e-3
    assert abs(stats.pearsonr(x[:-1], x[1:]).statistic) < 0.03
    np.testing.assert_array_equal(x[1:], y[:-1])  # the draw belongs to the time, not to the call


def test_normal_is_the_truncated_normal_pysd_draws_from():
    """PySD reads RANDOM NORMAL(min, max, mean, sd, seed) as scipy.stats.truncnorm on [min, max]."""
    x = draws.normal(-1.0, 2.0, 0.5, 1.5, SEEDS, 4, 0.0)
    reference = stats.truncnorm((-1.0 - 0.5) / 1.5, (2.0 - 0.5) / 1.5, loc=0.5, scale=1.5)
    assert stats.kstest(x, reference.cdf).pvalue > 1e-3
    assert x.min() >= -1.0 and x.max() <= 2.0


def test_exponential_is_the_truncated_exponential_pysd_draws_from():
    """PySD: scipy.stats.truncexpon((max - start) / stretch, loc=start, scale=stretch), start = max(min, shift)."""
    x = draws.exponential(1.0, 10.0, 0.0, 2.0, SEEDS, 4, 0.0)
    reference = stats.truncexpon((10.0 - 1.0) / 2.0, loc=1.0, scale=2.0)
    assert stats.kstest(x, reference.cdf).pvalue > 1e-3


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    low=st.floats(-100, 100),
    width=st.floats(1e-3, 100),
    mean=st.floats(-200, 200),
    sd=st.floats(0, 50),
    seed=st.floats(-1e6, 1e6),
    time=st.floats(0, 1e4),
)
def test_every_draw_stays_inside_its_bounds(low, width, mean, sd, seed, time):
    high = low + width
    for value in (
        draws.uniform(low, high, seed, 3, time),
        draws.normal(low, high, mean, sd, seed, 3, time),
        draws.exponential(low, high, mean, sd, seed, 3, time),
    ):
        assert np.isfinite(value)
        assert low - 1e-9 * abs(low) <= value <= high + 1e-9 * abs(high)


# --- read from Vensim ------------------------------------------------------------------------------------

VENSIM = """{UTF-8}
noise = RANDOM UNIFORM(0, 10, 3) ~ ~ |
shock = RANDOM NORMAL(-2, 2, 0, 1, 5) ~ ~ |
gap = RANDOM EXPONENTIAL(0, 100, 1, 4, 9) ~ ~ |
base = RANDOM 0 1() ~ ~ |
INITIAL TIME = 0 ~ ~ |
FINAL TIME = 20 ~ ~ |
TIME STEP = 1 ~ ~ |
SAVEPER = TIME STEP ~ ~ |
"""


def test_vensim_random_functions_run_in_both_engines(tmp_path):
    path = tmp_path / "noise.mdl"
    path.write_text(VENSIM)
    ours = simulate(load_model(path)).frame(0)
    theirs = run_pysd_file(path)  # PySD draws from NumPy's global generator: only the bounds can agree
    for frame in (ours, theirs):
        assert frame["noise"].between(0, 10).all() and frame["noise"].nunique() > 15
        assert frame["shock"].between(-2, 2).all()
        assert (frame["gap"] >= 1).all()
        assert frame["base"].between(0, 1).all()
    np.testing.assert_array_equal(simulate(load_model(path)).frame(0)["noise"], ours["noise"])


def test_the_compiled_kernel_leaves_random_models_to_the_numpy_engine():
    model = parse_model(MODEL)
    with pytest.raises(SimulationError, match="random_normal"):
        simulate(model, kernel="compiled")
    np.testing.assert_array_equal(_column(simulate(model, kernel="auto"), "u"), _column(simulate(model), "u"))
