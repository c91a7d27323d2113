"""The vectorised engine: closed forms, agreement with PySD, bad values, memory-bounded chunks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sf_support import MODELS, assert_runs_equal

from stocks_flows.engine import save_times, simulate
from stocks_flows.load import load_model, parse_model
from stocks_flows.pysd_runner import run_pysd, run_pysd_scenarios
from tenor.core.errors import SimulationError

DECAY = """
time: {{start: 0, stop: {stop}, dt: {dt}, method: {method}}}
constants: {{k: {k}}}
stocks: {{s: {{initial: {s0}}}}}
flows: {{decay: {{from: s, equation: k * s}}}}
"""

LOGISTIC = """
time: {{start: 0, stop: {stop}, dt: {dt}}}
constants: {{r: {r}, capacity: {K}}}
stocks: {{p: {{initial: {p0}}}}}
flows: {{growth: {{to: p, equation: r * p * (1 - p / capacity)}}}}
"""


@pytest.mark.parametrize("dt", [0.5, 0.125, 0.03125])
def test_exponential_decay_within_euler_bound(dt):
    # s' = -k s, s(t) = s0 exp(-k t). Euler's global error on a contracting system is at most
    # t * dt / 2 * max|s''| = t * dt / 2 * k^2 s0.
    k, s0, stop = 0.3, 100.0, 10.0
    run = simulate(parse_model(DECAY.format(stop=stop, dt=dt, method="euler", k=k, s0=s0)))
    t = run.time
    exact = s0 * np.exp(-k * t)
    s = run.values[0, :, run.variables.index("s")]
    assert np.all(np.abs(s - exact) <= t * dt / 2 * k**2 * s0 + 1e-12)
    # and Euler's iterate is exactly s0 (1 - k dt)^n
    np.testing.assert_allclose(s, s0 * (1 - k * dt) ** np.round(t / dt), rtol=1e-12)


def test_euler_error_falls_with_the_step():
    errors = []
    for dt in (0.5, 0.25, 0.125):
        run = simulate(parse_model(DECAY.format(stop=10, dt=dt, method="euler", k=0.3, s0=100)))
        exact = 100 * np.exp(-0.3 * run.time)
        errors.append(np.sqrt(np.mean((run.values[0, :, 0 + run.variables.index("s")] - exact) ** 2)))
    assert errors[0] > 1.8 * errors[1] > 1.8**2 * errors[2]


def test_rk4_is_fourth_order_on_decay():
    run = simulate(parse_model(DECAY.format(stop=10, dt=0.5, method="rk4", k=0.3, s0=100)))
    exact = 100 * np.exp(-0.3 * run.time)
    s = run.values[0, :, run.variables.index("s")]
    assert np.max(np.abs(s - exact)) < 1e-3


def test_logistic_growth_within_euler_bound():
    # P' = r P (1 - P/K). With L = r (Lipschitz) and M = max|P''| <= r^2 K / 4 (as |P'| <= r K / 4,
    # |dP'/dP| <= r), Euler's global error is at most dt M / (2 L) (exp(L t) - 1).
    r, K, p0, dt = 0.5, 1000.0, 10.0, 0.0625
    run = simulate(parse_model(LOGISTIC.format(stop=20, dt=dt, r=r, K=K, p0=p0)))
    t = run.time
    exact = K / (1 + (K / p0 - 1) * np.exp(-r * t))
    p = run.values[0, :, run.variables.index("p")]
    bound = dt * (r**2 * K / 4) / (2 * r) * (np.exp(r * t) - 1)
    assert np.all(np.abs(p - exact) <= bound + 1e-9)
    assert abs(p[-1] - exact[-1]) / K < 0.01


def test_save_times_follow_pysd():
    assert [t for _, t in save_times(0, 1, 0.1, 0.1)][-1] == 1.0
    assert len(save_times(0, 10, 0.25, 1)) == 11
    assert [t for _, t in save_times(0, 2, 0.5, 1.5)] == [0.0, 1.5]


@pytest.mark.parametrize(
    "name",
    [
        "teacup.yaml",
        "tenors.yaml",
        "two_dimensions.yaml",
        "teacup.mdl",
        "functions.mdl",
        "pulses.mdl",
        "pulses.xmile",
        "subscripts.mdl",
        "trend.xmile",
    ],
)
def test_vector_engine_equals_pysd_on_example_models(name):
    model = load_model(MODELS / name)
    mine = simulate(model).frame(0)
    reference = run_pysd(model)
    assert list(mine.columns) == list(reference.columns)
    assert_runs_equal(mine.to_numpy(), reference.to_numpy(), list(mine.columns), mine["time"].to_numpy())


def test_stateful_functions_equal_pysd():
    model = parse_model("""
time: {start: 0, stop: 12, dt: 0.25}
constants: {base: 2, lag: 3}
stocks: {s: {initial: 1}}
flows:
  f:
    to: s
    equation: >-
      smooth1(base * time, lag) + smooth3(time, 4, 1) + delay1(time, lag) + delay3(base, 2, 0)
      + delay_fixed(time, 2, 5) + init(s) + step(2, 3) + pulse(4, 1.5) + ramp(0.5, 2, 8)
      + xidz(1, time - 3, 7) + zidz(time, 0) + mod(time, 2.5) + int(time / 3)
      + pulse_train(1, 0.5, 2, 9) + impulse(3, 2) + impulse(2, 1, 3) + trend(s, 2, 0.1) + trend(time + 1, 3)
auxiliaries:
  g: {equation: "if time > 5 and not (time >= 9) then sqrt(s) else ln(s) + exp(-time) + abs(-1)"}
""")
    mine = simulate(model).frame(0)
    reference = run_pysd(model)
    assert_runs_equal(mine.to_numpy(), reference.to_numpy(), list(mine.columns), mine["time"].to_numpy())


def test_scenarios_in_lockstep_equal_pysd_one_at_a_time():
    model = load_model(MODELS / "teacup.yaml")
    params = {"room_temperature": [40.0, 70.0, 95.0], "teacup_temperature": [150.0, 180.0, 200.0]}
    mine = simulate(model, params)
    reference = run_pysd_scenarios(model, params)
    for i in range(3):
        assert_runs_equal(mine.values[i], reference.values[i], mine.variables, mine.time)


def test_element_parameters_equal_pysd():
    model = load_model(MODELS / "tenors.yaml")
    params = {"sale_rate[10y]": [0.2, 0.0], "holdings[bills]": [10.0, 500.0]}
    mine = simulate(model, params)
    reference = run_pysd_scenarios(model, params)
    for i in range(2):
        assert_runs_equal(mine.values[i], reference.values[i], mine.variables, mine.time)


def test_chunks_do_not_change_results():
    model = load_model(MODELS / "tenors.yaml")
    rates = np.linspace(0, 0.1, 37)
    whole = simulate(model, {"sale_rate[2y]": rates})
    chunked = simulate(model, {"sale_rate[2y]": rates}, chunk_size=5, variables=["cash", "holdings[2y]"])
    np.testing.assert_array_equal(
        whole.values[:, :, [whole.variables.index("cash"), whole.variables.index("holdings[2y]")]],
        chunked.values,
    )


def test_division_by_zero_names_variable_time_and_scenario():
    model = parse_model("""
time: {start: 0, stop: 10, dt: 1}
constants: {t0: 4}
auxiliaries:
  ratio: {equation: 1 / (time - t0)}
""")
    with pytest.raises(SimulationError) as info:
        simulate(model, {"t0": [20.0, 3.0]}, scenario_names=["far", "near"])
    message = str(info.value)
    assert "ratio" in message and "time 3" in message and "'near'" in message
    assert "zidz" in (info.value.hint or "")


def test_nan_is_reported():
    model = parse_model("""
time: {start: 0, stop: 5, dt: 1}
stocks: {s: {initial: 2}}
flows: {f: {from: s, equation: "1"}}
auxiliaries: {root: {equation: sqrt(s - 1)}}
""")
    with pytest.raises(SimulationError, match=r"root is NaN at time 2 in scenario '0'"):
        simulate(model)


def test_non_negative_stock_is_clipped_as_declared():
    model = parse_model("""
time: {start: 0, stop: 10, dt: 1}
stocks:
  kept: {initial: 3, non_negative: true}
  free: {initial: 3}
flows:
  out_kept: {from: kept, equation: "1"}
  out_free: {from: free, equation: "1"}
""")
    run = simulate(model)
    kept = run.values[0, :, run.variables.index("kept")]
    free = run.values[0, :, run.variables.index("free")]
    assert kept.min() == 0.0 and free.min() == -7.0
    reference = run_pysd(model)
    np.testing.assert_array_equal(reference["kept"].to_numpy(), kept)


def test_tidy_frame_and_dataset():
    model = load_model(MODELS / "teacup.yaml")
    run = simulate(model, {"room_temperature": [60.0, 80.0]}, scenario_names=["a", "b"])
    frame = run.to_frame()
    assert list(frame.columns[:3]) == ["scenario", "time", "room_temperature"]
    assert len(frame) == 2 * len(run.time)
    data = run.to_xarray()
    assert data["teacup_temperature"].shape == (2, len(run.time))
    assert math.isclose(float(data["room_temperature"].sel(scenario="b")[0]), 80.0)


def test_only_requested_times_are_kept():
    model = load_model(MODELS / "tenors.yaml")
    full = simulate(model, {"start_day": [5.0, 15.0]})
    some = simulate(model, {"start_day": [5.0, 15.0]}, times=[0, 12, 30], variables=["cash"])
    assert some.values.shape == (2, 3, 1)
    rows = [list(full.time).index(t) for t in (0, 12, 30)]
    np.testing.assert_array_equal(some.values[:, :, 0], full.values[:, rows, full.variables.index("cash")])
    with pytest.raises(SimulationError, match="requested times"):
        simulate(model, times=[0.25])


def test_pysd_runs_report_non_finite_values_too():
    model = parse_model("""
time: {start: 0, stop: 10, dt: 1}
constants: {t0: 4}
auxiliaries:
  ratio: {equation: 1 / (time - t0)}
""")
    with pytest.raises(SimulationError, match=r"ratio is infinite at time 4 in scenario '1'"):
        run_pysd_scenarios(model, {"t0": [20.0, 4.0]})


def test_lookups_hold_or_extrapolate_at_the_ends_as_pysd_does():
    model = parse_model("""
time: {stop: 10, dt: 0.5}
auxiliaries:
  a: {equation: "f(time - 2) + g(time)"}
lookups:
  f: {points: [[0, 1], [2, 3], [4, 2]], extrapolate: true}
  g: {x: [1, 3, 5], y: [0, 1, 0.5]}
""")
    mine = simulate(model).frame(0)
    assert mine["a"].iloc[0] == -1.0  # f extrapolated below 0 (slope 1), g held at 0
    assert mine["a"].iloc[-1] == 0.5  # f extrapolated above 4 (slope -0.5) to -0, g held at 0.5
    reference = run_pysd(model)
    assert_runs_equal(mine.to_numpy(), reference.to_numpy(), list(mine.columns), mine["time"].to_numpy())


def test_named_scenarios_together_equal_each_alone():
    from stocks_flows.scenarios import run_named_scenarios

    model = load_model(MODELS / "tenors.yaml")
    together = run_named_scenarios(model, ["calm", "base", "bills_only"])
    assert together.scenarios == ["calm", "base", "bills_only"]
    for i, name in enumerate(together.scenarios):
        alone = simulate(model if name == "base" else model.with_scenario(name))
        np.testing.assert_array_equal(together.values[i], alone.values[0])


def test_an_initial_value_given_by_an_equation_is_kept_where_a_scenario_does_not_set_it():
    from stocks_flows.scenarios import run_named_scenarios

    model = parse_model("""
time: {stop: 3}
constants: {k: 2}
stocks:
  a: {initial: k * 10}
  b: {initial: 1}
flows: {f: {from: a, to: b, equation: a / 4}}
scenarios:
  more_a: {initial: {a: 100}}
  more_b: {initial: {b: 7}}
""")
    run = run_named_scenarios(model)
    first = run.values[:, 0, :]
    assert first[:, run.variables.index("a")].tolist() == [20.0, 100.0, 20.0]
    assert first[:, run.variables.index("b")].tolist() == [1.0, 1.0, 7.0]
    assert np.isnan(run.parameters["a"]).tolist() == [True, False, True]


def test_short_delays_lower_their_order_as_in_pysd():
    model = parse_model("""
time: {stop: 10, dt: 0.5}
constants: {lag: 1.2}
auxiliaries:
  a: {equation: "delay3(time, lag) + delay1(2 * time, 0.7)"}
""")
    mine = simulate(model).frame(0)
    reference = run_pysd(model)
    assert_runs_equal(mine.to_numpy(), reference.to_numpy(), list(mine.columns), mine["time"].to_numpy())
    with pytest.raises(SimulationError, match="lower the order in some"):
        simulate(model, {"lag": [1.2, 3.0]})
