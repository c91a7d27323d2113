"""Calibration: recovery of known parameters, a published fit, properties of the objective, errors, CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows.calibrate import PENALTY, calibrate, objective, read_data
from stocks_flows.engine import simulate
from stocks_flows.load import load_model, parse_model
from stocks_flows.scenario_file import parse_scenarios
from tenor.cli.main import main
from tenor.core.errors import SimulationError, SpecError, TenorError

DATA = Path(__file__).resolve().parent.parent / "data" / "calibrate"
SIR = DATA / "sir_boarding_school.yaml"
FLU = DATA / "boarding_school_influenza.csv"

# name, bounds, true values, observed variables, time-step override (None: the file's)
CASES = {
    "logistic": (
        {"growth_rate": (0.05, 1.0), "capacity": (100.0, 2000.0)},
        {"growth_rate": 0.35, "capacity": 500.0},
        ["population"],
    ),
    "bass": ({"p": (0.001, 0.2), "q": (0.05, 1.0)}, {"p": 0.03, "q": 0.38}, ["adopters"]),
    "sir": ({"r": (1e-4, 1e-2), "a": (0.05, 2.0)}, {"r": 0.0022, "a": 0.45}, ["infective", "removed"]),
}


def _model(name: str):
    if name == "sir":
        model = load_model(SIR)
        return replace(model, time=replace(model.time, dt=0.25))  # coarser: the data come from the same model
    return load_model(DATA / f"{name}.yaml")


def _synthetic(model, truth, variables, noise: float, seed: int) -> pd.DataFrame:
    """Noise-free runs at the true values, plus Gaussian noise of sd = noise x the series' largest value."""
    run = simulate(model, {k: [v] for k, v in truth.items()}, variables=variables)
    rng = np.random.default_rng(seed)
    frame = {"time": run.time}
    for j, var in enumerate(variables):
        clean = run.values[0, :, j]
        frame[var] = clean + rng.normal(0.0, noise * np.abs(clean).max(), len(clean)) if noise else clean
    return pd.DataFrame(frame)


# --- recovery of known values --------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_recovers_known_parameters_across_seeds(name):
    """1% noise: every estimate within 10% of the truth and within one interval width of it (about four standard
    errors: 10% alone lets a well-pinned parameter be far off), and the truth inside the 95% interval for >= 3 of 5
    seeds."""
    bounds, truth, variables = CASES[name]
    model = _model(name)
    covered = {k: 0 for k in truth}
    for seed in range(5):
        data = _synthetic(model, truth, variables, 0.01, seed)
        cal = calibrate(model, data, fit=bounds, method="least_squares", seed=seed)
        for k, true in truth.items():
            p = cal.fitted[k]
            assert p.value == pytest.approx(true, rel=0.10), (name, seed, k, p)
            assert abs(p.value - true) <= p.high - p.low, (name, seed, k, p)
            assert p.low <= p.value <= p.high
            covered[k] += p.low <= true <= p.high
    assert all(c >= 3 for c in covered.values()), covered


@pytest.mark.parametrize("name", list(CASES))
def test_differential_evolution_recovers(name):
    bounds, truth, variables = CASES[name]
    model = _model(name)
    cal = calibrate(model, _synthetic(model, truth, variables, 0.01, 11), fit=bounds, method="de", seed=3)
    assert cal.method == "de" and cal.interval_method == "profile"
    for k, true in truth.items():
        p = cal.fitted[k]
        assert p.value == pytest.approx(true, rel=0.10) and abs(p.value - true) <= p.high - p.low, (k, p)
    assert cal.evaluations > cal.fit_evaluations > 0 and cal.nan_candidates == 0


def test_interval_shrinks_with_noise():
    bounds, truth, variables = CASES["logistic"]
    model = _model("logistic")
    wide = calibrate(model, _synthetic(model, truth, variables, 0.05, 2), fit=bounds, method="least_squares")
    narrow = calibrate(model, _synthetic(model, truth, variables, 0.005, 2), fit=bounds, method="least_squares")
    for k in truth:
        w = wide.fitted[k].high - wide.fitted[k].low
        n = narrow.fitted[k].high - narrow.fitted[k].low
        assert 0 < n < w / 4, (k, n, w)  # ten times less noise: about ten times narrower


def test_bootstrap_interval_agrees_with_profile():
    bounds, truth, variables = CASES["logistic"]
    model = _model("logistic")
    data = _synthetic(model, truth, variables, 0.02, 5)
    profile = calibrate(model, data, fit=bounds, method="least_squares")
    boot = calibrate(model, data, fit=bounds, method="least_squares", interval="bootstrap", bootstrap_replicates=60)
    assert boot.interval_method == "bootstrap"
    for k in truth:
        pw = profile.fitted[k].high - profile.fitted[k].low
        bw = boot.fitted[k].high - boot.fitted[k].low
        assert 0.5 < bw / pw < 2.0, (k, pw, bw)
        assert boot.fitted[k].low < boot.fitted[k].value < boot.fitted[k].high


def test_methods_agree_on_the_optimum():
    bounds, truth, variables = CASES["bass"]
    model = _model("bass")
    data = _synthetic(model, truth, variables, 0.02, 4)
    fits = [
        calibrate(model, data, fit=bounds, method=m, seed=1, interval=None) for m in ("de", "cmaes", "least_squares")
    ]
    for k in truth:
        values = [f.fitted[k].value for f in fits]
        assert max(values) == pytest.approx(min(values), rel=1e-3), (k, values)
    assert fits[0].fitted["p"].low != fits[0].fitted["p"].low  # no interval asked: NaN


# --- a published fit -----------------------------------------------------------------------


def test_boarding_school_influenza_reproduces_murrays_fit():
    """Murray, Mathematical Biology I (3rd ed., 2002), section 10.2, Fig. 10.2: r = 2.18e-3/day, a = 0.44/day.

    Least squares on the boys-in-bed counts (BMJ 1978;1:587) with S0 = 762, I0 = 1 gives
    r within 2% and a within 4% of Murray's values, and both published values lie in the
    95% profile intervals.
    """
    model = load_model(SIR)
    cal = calibrate(model, read_data(FLU), fit={"r": (1e-4, 1e-2), "a": (0.05, 2.0)}, method="de", seed=0)
    r, a = cal.fitted["r"], cal.fitted["a"]
    assert r.value == pytest.approx(2.18e-3, rel=0.02)
    assert a.value == pytest.approx(0.44, rel=0.04)
    assert r.low < 2.18e-3 < r.high and a.low < 0.44 < a.high
    assert cal.residuals["infective"]["rmse"] < 25  # boys; the epidemic peaks near 290
    assert cal.observations == 14 and not r.at_bound and not a.at_bound


# --- properties of the objective -----------------------------------------------------------


def test_objective_is_zero_at_the_truth_on_noise_free_data():
    for name, (_, truth, variables) in CASES.items():
        model = _model(name)
        data = _synthetic(model, truth, variables, 0.0, 0)
        assert objective(model, data, truth)[0] == pytest.approx(0.0, abs=1e-20)
        nudged = {k: v * 1.01 for k, v in truth.items()}
        assert objective(model, data, nudged)[0] > 1e-8


def test_noise_free_fit_has_a_point_interval():
    bounds, truth, variables = CASES["logistic"]
    model = _model("logistic")
    cal = calibrate(model, _synthetic(model, truth, variables, 0.0, 0), fit=bounds, method="least_squares")
    for k, true in truth.items():
        assert cal.fitted[k].value == pytest.approx(true, rel=1e-6)
    assert cal.objective < 1e-12


_LOGISTIC = _model("logistic")
_LOGISTIC_DATA = _synthetic(_LOGISTIC, CASES["logistic"][1], ["population"], 0.03, 9)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    c=st.floats(0.01, 100.0),
    rate=st.floats(0.1, 0.8),
    capacity=st.floats(200.0, 900.0),
)
def test_weights_scale_the_objective(c, rate, capacity):
    """f(theta; c w) = c f(theta; w), and the default weight is 1 / the sample variance of the series."""
    values = {"growth_rate": rate, "capacity": capacity}
    default = objective(_LOGISTIC, _LOGISTIC_DATA, values)[0]
    var = float(np.var(_LOGISTIC_DATA["population"], ddof=1))
    explicit = objective(_LOGISTIC, _LOGISTIC_DATA, values, weights={"population": 1.0 / var})[0]
    scaled = objective(_LOGISTIC, _LOGISTIC_DATA, values, weights={"population": c / var})[0]
    assert explicit == pytest.approx(default, rel=1e-12)
    assert scaled == pytest.approx(c * default, rel=1e-9)


def test_weights_scale_objective_but_not_fit_or_interval():
    bounds, truth, _ = CASES["logistic"]
    var = float(np.var(_LOGISTIC_DATA["population"], ddof=1))
    a = calibrate(_LOGISTIC, _LOGISTIC_DATA, fit=bounds, method="least_squares", weights={"population": 1 / var})
    b = calibrate(_LOGISTIC, _LOGISTIC_DATA, fit=bounds, method="least_squares", weights={"population": 50 / var})
    assert b.objective == pytest.approx(50 * a.objective, rel=1e-6)
    for k in truth:
        assert b.fitted[k].value == pytest.approx(a.fitted[k].value, rel=1e-5)
        assert b.fitted[k].low == pytest.approx(a.fitted[k].low, rel=1e-3)


def test_two_series_each_weighted():
    _, truth, variables = CASES["sir"]
    model = _model("sir")
    data = _synthetic(model, truth, variables, 0.0, 0)
    off = {"r": 0.0021, "a": 0.47}
    both = objective(model, data, off)[0]
    only_i = objective(model, data, off, weights={"removed": 0.0})[0]
    only_r = objective(model, data, off, weights={"infective": 0.0})[0]
    assert both == pytest.approx(only_i + only_r, rel=1e-12) and only_i > 0 and only_r > 0


def test_data_between_saved_steps_are_interpolated():
    model = parse_model(
        "time: {start: 0, stop: 4, dt: 1}\nconstants: {k: 2}\nstocks: {s: {initial: 0}}\n"
        "flows: {f: {to: s, equation: k}}\n"
    )
    exact = pd.DataFrame({"time": [1.0, 2.0, 3.0], "s": [2.0, 4.0, 6.0]})
    between = pd.DataFrame({"time": [0.5, 2.5], "s": [1.0, 5.0]})  # s is linear, so interpolation is exact
    assert objective(model, exact, {"k": 2.0})[0] == 0.0
    assert objective(model, between, {"k": 2.0})[0] == pytest.approx(0.0, abs=1e-24)
    cal = calibrate(model, between, fit={"k": (0.0, 5.0)}, method="least_squares", interval=None)
    assert cal.fitted["k"].value == pytest.approx(2.0, rel=1e-8)
    assert cal.residuals["s"]["simulated"] == pytest.approx([1.0, 5.0])


_NAN_MODEL = """
time: {start: 0, stop: 10, dt: 0.5}
constants: {k: 0.4}
stocks: {s: {initial: 100}}
flows: {decay: {from: s, equation: sqrt(k - 0.1) * s}}
"""


def test_nan_candidates_are_penalised_and_counted():
    model = parse_model(_NAN_MODEL)
    data = _synthetic(model, {"k": 0.4}, ["s"], 0.0, 0)
    assert objective(model, data, {"k": [0.4, 0.0]}).tolist() == [pytest.approx(0.0, abs=1e-20), PENALTY]
    cal = calibrate(model, data, fit={"k": (-1.0, 1.0)}, method="de", seed=2)
    assert cal.nan_candidates > 0  # sqrt of a negative number for k < 0.1: about half the box
    assert cal.fitted["k"].value == pytest.approx(0.4, rel=1e-6)
    assert cal.to_dict()["nan_candidates"] == cal.nan_candidates


def test_objective_nan_for_every_candidate_is_an_error():
    model = parse_model(_NAN_MODEL)
    data = _synthetic(model, {"k": 0.4}, ["s"], 0.0, 0)
    with pytest.raises(SimulationError) as err:
        calibrate(model, data, fit={"k": (-1.0, 0.05)})
    assert "every candidate" in err.value.message and "narrow the bounds of k" in err.value.hint


def test_subscripted_constant_elements_fitted_and_written(tmp_path):
    model = parse_model(
        "time: {start: 0, stop: 8, dt: 0.25, save_step: 1}\ndimensions: {g: [a, b]}\n"
        "constants: {c: {dimensions: [g], value: {a: 0.2, b: 0.5}}}\n"
        "stocks: {s: {dimensions: [g], initial: 50}}\nflows: {out: {dimensions: [g], from: s, equation: c * s}}\n"
    )
    data = _synthetic(model, {"c[a]": 0.3, "c[b]": 0.1}, ["s[a]", "s[b]"], 0.0, 0)
    cal = calibrate(model, data, fit={"c[a]": (0.0, 1.0), "c[b]": (0.0, 1.0)}, method="least_squares")
    assert cal.fitted["c[a]"].value == pytest.approx(0.3, rel=1e-6)
    assert cal.fitted["c[b]"].value == pytest.approx(0.1, rel=1e-6)
    body = cal.to_scenario("fitted")
    assert body["constants"]["c"] == {"a": pytest.approx(0.3, rel=1e-6), "b": pytest.approx(0.1, rel=1e-6)}
    path = tmp_path / "fitted.yaml"
    cal.write_scenario(path)
    scenario = parse_scenarios(path.read_text(), model)["fitted"]
    assert scenario.constants == {"c[a]": pytest.approx(0.3, rel=1e-6), "c[b]": pytest.approx(0.1, rel=1e-6)}


def test_fit_from_a_named_scenario_keeps_its_changes():
    model = parse_model(
        "time: {start: 0, stop: 10, dt: 0.5}\nconstants: {k: 0.4, inflow: 0}\nstocks: {s: {initial: 100}}\n"
        "flows: {decay: {from: s, equation: k * s}, feed: {to: s, equation: inflow}}\n"
        "scenarios: {fed: {constants: {inflow: 5}, initial: {s: 80}}}\n"
    )
    truth = model.with_scenario("fed")
    data = _synthetic(truth, {"k": 0.25}, ["s"], 0.0, 0)
    cal = calibrate(model, data, fit={"k": (0.0, 1.0)}, scenario="fed", method="least_squares")
    assert cal.fitted["k"].value == pytest.approx(0.25, rel=1e-6)
    body = cal.to_scenario()
    assert body["constants"] == {"inflow": 5.0, "k": pytest.approx(0.25, rel=1e-6)} and body["initial"] == {"s": 80.0}


def test_initial_value_of_a_stock_is_fitted_and_written_as_initial():
    bounds, truth, variables = CASES["logistic"]
    model = _model("logistic")
    data = _synthetic(model, {**truth, "population": 25.0}, variables, 0.0, 0)
    cal = calibrate(model, data, fit={**bounds, "population": (1.0, 100.0)}, method="least_squares", interval=None)
    assert cal.fitted["population"].value == pytest.approx(25.0, rel=1e-5)
    body = cal.to_scenario()
    assert body["initial"] == {"population": pytest.approx(25.0, rel=1e-5)} and set(body["constants"]) == set(truth)


def test_interval_reaching_a_bound_is_clipped_and_said():
    """The truth (0.35) lies above the box: the best value sits on the upper bound, the interval is clipped there."""
    model = _model("logistic")
    data = _synthetic(model, CASES["logistic"][1], ["population"], 0.02, 3)
    cal = calibrate(model, data, fit={"growth_rate": (0.05, 0.3), "capacity": (100.0, 2000.0)}, method="least_squares")
    g = cal.fitted["growth_rate"]
    assert g.value == pytest.approx(0.3) and g.high == pytest.approx(0.3) and "high" in g.at_bound
    assert g.low < g.value and "low" not in g.at_bound
    assert cal.to_dict()["interval_at_bound"]["growth_rate"] == ["high"]


def test_flat_profile_is_clipped_at_both_bounds():
    """A constant the observed series does not depend on: nothing pins it, the interval is the whole box."""
    model = parse_model(
        "time: {start: 0, stop: 6, dt: 0.5}\nconstants: {k: 0.3, unused: 1}\nstocks: {s: {initial: 10}}\n"
        "flows: {f: {from: s, equation: k * s}}\nauxiliaries: {noise: {equation: unused * 0}}\n"
    )
    data = _synthetic(model, {"k": 0.3}, ["s"], 0.02, 1)
    cal = calibrate(model, data, fit={"k": (0.0, 1.0), "unused": (0.0, 2.0)}, method="least_squares")
    u = cal.fitted["unused"]
    assert (u.low, u.high) == (0.0, 2.0) and set(u.at_bound) == {"low", "high"}
    assert cal.fitted["k"].at_bound == ()


# --- bad input -----------------------------------------------------------------------------


@pytest.fixture
def flu():
    return load_model(SIR), read_data(FLU)


def test_unknown_parameter_suggests_a_name(flu):
    model, data = flu
    with pytest.raises(TenorError) as err:
        calibrate(model, data, fit={"rr": (0.0, 1.0)})
    assert err.value.message.startswith("fit: ") and "'rr'" in err.value.message
    assert err.value.hint == "did you mean 'r'?"


def test_unknown_variable_column_names_file_and_suggests(tmp_path, flu):
    model, _ = flu
    path = tmp_path / "obs.csv"
    path.write_text("time,infectve\n1,3\n2,8\n")
    with pytest.raises(TenorError) as err:
        calibrate(model, read_data(path), fit={"r": (1e-4, 1e-2)})
    assert str(path) in err.value.message and "'infectve'" in err.value.message
    assert err.value.hint == "did you mean 'infective'?"


def test_data_time_outside_the_run(tmp_path, flu):
    model, _ = flu
    path = tmp_path / "obs.csv"
    path.write_text("time,infective\n1,3\n20,8\n")
    with pytest.raises(TenorError) as err:
        calibrate(model, read_data(path), fit={"r": (1e-4, 1e-2)})
    assert f"{path}: line 3: time 20 is outside the run (0 to 14)" == err.value.message
    assert "time.stop" in err.value.hint


def test_low_not_below_high(flu):
    model, data = flu
    with pytest.raises(TenorError) as err:
        calibrate(model, data, fit={"r": (0.5, 0.5)})
    assert "fit: 'r': low (0.5) must be below high (0.5)" == err.value.message and err.value.hint
    with pytest.raises(TenorError) as err:
        calibrate(model, data, fit={"r": (0.5, 0.1)})
    assert err.value.hint == "swap them: r=0.1:0.5"


def test_column_all_missing(tmp_path, flu):
    model, _ = flu
    path = tmp_path / "obs.csv"
    path.write_text("time,infective,removed\n1,3,\n2,8,NA\n")
    with pytest.raises(TenorError) as err:
        calibrate(model, read_data(path), fit={"r": (1e-4, 1e-2)})
    assert "column 'removed' has no values" in err.value.message and str(path) in err.value.message
    assert "drop the column" in err.value.hint


def test_missing_cells_are_skipped(tmp_path, flu):
    model, _ = flu
    path = tmp_path / "obs.csv"
    path.write_text("time,infective,removed\n1,3,\n2,,1.5\n3,28,\n")
    cal = calibrate(model, read_data(path), fit={"r": (1e-4, 1e-2)}, method="least_squares", interval=None)
    assert cal.residuals["infective"]["time"] == [1.0, 3.0] and cal.residuals["removed"]["time"] == [2.0]
    assert cal.observations == 3


def test_non_numeric_cell_names_file_line_and_column(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("# a comment line\ntime,infective\n1,3\n2,eight\n")
    with pytest.raises(TenorError) as err:
        read_data(path)
    assert err.value.message == f"{path}: line 4, column 'infective': 'eight' is not a number"
    assert "leave the cell empty" in err.value.hint


def test_unknown_method_and_interval(flu):
    model, data = flu
    with pytest.raises(TenorError) as err:
        calibrate(model, data, fit={"r": (1e-4, 1e-2)}, method="cma")
    assert err.value.hint == "did you mean 'cmaes'?"
    with pytest.raises(TenorError):
        calibrate(model, data, fit={"r": (1e-4, 1e-2)}, interval="wald")


def test_scenario_file_errors_are_located():
    model = load_model(SIR)
    with pytest.raises(SpecError) as err:
        parse_scenarios("scenarios:\n  fitted:\n    constants: {rr: 0.1}\n", model, file="f.yaml")
    d = err.value.diagnostics[0]
    assert (d.file, d.line, d.key) == ("f.yaml", 3, "scenarios.fitted.constants.rr")
    assert d.hint == "did you mean 'r'?"


# --- the command line ----------------------------------------------------------------------


def test_cli_json_contract(capsys):
    code = main(
        ["calibrate", str(SIR), str(FLU), "--fit", "r=1e-4:1e-2", "--fit", "a=0.05:2", "--method",
         "least_squares", "--json"]
    )  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert {"fitted", "objective", "evaluations", "seconds"} <= set(out)
    assert set(out["fitted"]) == {"r", "a"}
    for p in out["fitted"].values():
        assert set(p) == {"value", "low", "high"} and p["low"] <= p["value"] <= p["high"]
    assert out["bounds"] == {"r": [1e-4, 1e-2], "a": [0.05, 2.0]} and out["interval_at_bound"] == {"r": [], "a": []}
    assert out["fitted"]["r"]["value"] == pytest.approx(2.18e-3, rel=0.02)
    assert isinstance(out["evaluations"], int) and out["seconds"] > 0 and out["nan_candidates"] == 0
    assert out["residuals"]["infective"]["observations"] == 14


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--fit", "rr=0:1"], "did you mean 'r'?"),
        (["--fit", "r=1:0"], "must be below"),
        (["--fit", "r=0.1"], "NAME=low:high"),
        (["--fit", "r=1e-4:1e-2", "--weight", "infective=x"], "VAR=W"),
        (["--fit", "r=1e-4:1e-2", "--method", "nelder"], "unknown method"),
        ([], "nothing to fit"),
    ],
)
def test_cli_bad_input_exits_2_with_json_error(capsys, args, needle):
    assert main(["calibrate", str(SIR), str(FLU), *args, "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert needle in (error["message"] + " " + str(error["hint"]))


def test_cli_out_then_simulate_reproduces_the_fit(tmp_path, capsys):
    fitted = tmp_path / "fitted.yaml"
    code = main(
        ["calibrate", str(SIR), str(FLU), "--fit", "r=1e-4:1e-2", "--fit", "a=0.05:2", "--method",
         "least_squares", "--interval", "none", "--out", str(fitted), "--json"]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    run = tmp_path / "run.csv"
    assert main(["simulate", str(SIR), "--scenarios", str(fitted), "--scenario", "fitted", "--out", str(run)]) == 0
    frame = pd.read_csv(run).set_index("time")
    cal = calibrate(
        load_model(SIR),
        read_data(FLU),
        fit={"r": (1e-4, 1e-2), "a": (0.05, 2.0)},
        method="least_squares",
        interval=None,
    )
    assert frame.loc[1.0:14.0, "infective"].to_numpy() == pytest.approx(
        cal.residuals["infective"]["simulated"], rel=1e-9
    )
    assert result["fitted"]["r"]["value"] == pytest.approx(cal.fitted["r"].value, rel=1e-12)


def test_cli_text_table(capsys):
    assert main(["calibrate", str(SIR), str(FLU), "--fit", "a=0.05:2", "--method", "least_squares"]) == 0
    out = capsys.readouterr().out
    assert "95% interval" in out and "residual RMSE of infective" in out and "objective" in out


def test_cli_out_refuses_to_overwrite_an_input(capsys):
    assert main(["calibrate", str(SIR), str(FLU), "--fit", "a=0.05:2", "--out", str(SIR), "--json"]) == 2
    assert "input" in json.loads(capsys.readouterr().out)["error"]["message"]


@pytest.mark.parametrize("method", ["de", "cmaes", "least_squares"])
def test_max_evaluations_caps_the_fit(method):
    bounds, truth, variables = CASES["bass"]
    model = _model("bass")
    data = _synthetic(model, truth, variables, 0.01, 1)
    cal = calibrate(model, data, fit=bounds, method=method, max_evaluations=150, interval=None)
    assert 0 < cal.fit_evaluations <= 150


def test_scenario_with_lookups_round_trips_through_the_scenario_file(tmp_path):
    model = parse_model(
        "time: {start: 0, stop: 10, dt: 0.5}\nconstants: {k: 0.3}\nstocks: {s: {initial: 10}}\n"
        "flows: {f: {to: s, equation: k * push(time)}}\nlookups: {push: {points: [[0, 1], [10, 1]]}}\n"
        "scenarios: {ramp: {lookups: {push: {points: [[0, 0], [10, 2]]}}}}\n"
    )
    data = _synthetic(model.with_scenario("ramp"), {"k": 0.5}, ["s"], 0.0, 0)
    cal = calibrate(model, data, fit={"k": (0.0, 1.0)}, scenario="ramp", method="least_squares", interval=None)
    assert cal.fitted["k"].value == pytest.approx(0.5, rel=1e-6)
    path = tmp_path / "fitted.yaml"
    cal.write_scenario(path, "best")
    scenario = parse_scenarios(path.read_text(), model)["best"]
    assert scenario.lookups["push"].ys == (0.0, 2.0) and scenario.constants == {"k": pytest.approx(0.5, rel=1e-6)}
    rerun = simulate(model.with_scenario(scenario), variables=["s"])
    assert rerun.values[0, :, 0] == pytest.approx(data["s"].to_numpy(), rel=1e-6)


def test_parquet_data_non_numeric_cell(tmp_path):
    path = tmp_path / "obs.parquet"
    pd.DataFrame({"time": [1.0, 2.0], "infective": ["3", "many"]}).to_parquet(path)
    with pytest.raises(TenorError) as err:
        read_data(path)
    assert err.value.message == f"{path}: row 2, column 'infective': 'many' is not a number"
    good = tmp_path / "good.parquet"
    pd.DataFrame({"time": [1.0, 2.0], "infective": [3.0, None]}).to_parquet(good)
    assert read_data(good)["infective"].isna().tolist() == [False, True]


@pytest.mark.parametrize("method", ["de", "cmaes"])
def test_same_seed_same_fit(method):
    bounds, truth, variables = CASES["bass"]
    model = _model("bass")
    data = _synthetic(model, truth, variables, 0.02, 6)
    a, b = (calibrate(model, data, fit=bounds, method=method, seed=4, max_evaluations=200, interval=None) for _ in "ab")
    assert a.fitted == b.fitted and a.fit_evaluations == b.fit_evaluations


def test_run_stops_at_the_last_data_time():
    """Data only up to day 7 of 14: the fit runs the model to day 7 and gets the same answer as the full run."""
    model = load_model(SIR)
    early = read_data(FLU).iloc[:7]
    cal = calibrate(model, early, fit={"r": (1e-4, 1e-2), "a": (0.05, 2.0)}, method="least_squares", interval=None)
    full = simulate(model, {"r": [cal.fitted["r"].value], "a": [cal.fitted["a"].value]}, variables=["infective"])
    on_days = full.values[0, 1:8, 0]
    assert cal.residuals["infective"]["simulated"] == pytest.approx(on_days.tolist(), rel=1e-12)
    assert objective(model, early, {"r": cal.fitted["r"].value, "a": cal.fitted["a"].value})[0] == pytest.approx(
        cal.objective, rel=1e-9
    )


def test_time_as_index_is_read_and_dates_are_refused():
    model = load_model(SIR)
    data = read_data(FLU).set_index("time")
    assert objective(model, data, {"r": 2.18e-3, "a": 0.44})[0] == pytest.approx(
        objective(model, read_data(FLU), {"r": 2.18e-3, "a": 0.44})[0]
    )
    dated = read_data(FLU).assign(time=pd.date_range("1978-01-22", periods=14))
    with pytest.raises(TenorError) as err:
        objective(model, dated, {"r": 2.18e-3})
    assert "holds dates" in err.value.message and "days" in err.value.hint


def test_profile_interval_matches_a_brute_force_profile():
    """On a dense (r, a) grid, the profile of r (min over a) crosses f_min + 3.84 sigma^2 where tenor says."""
    bounds, truth, _ = CASES["sir"]
    model = _model("sir")
    data = _synthetic(model, truth, ["infective"], 0.03, 8)
    cal = calibrate(model, data, fit=bounds, method="least_squares")
    threshold = cal.objective + 3.841458820694124 * cal.sigma**2
    r, a = cal.fitted["r"], cal.fitted["a"]
    rs = np.linspace(r.low - 0.2 * (r.high - r.low), r.high + 0.2 * (r.high - r.low), 29)
    As = np.linspace(a.low - 0.3 * (a.high - a.low), a.high + 0.3 * (a.high - a.low), 161)
    R, A = np.meshgrid(rs, As, indexing="ij")
    f = objective(model, data, {"r": R.ravel(), "a": A.ravel()}).reshape(R.shape)
    for values, profile, fitted in ((rs, f.min(axis=1), r), (As, f.min(axis=0), a)):
        inside = values[profile <= threshold]
        step = values[1] - values[0]
        assert inside.min() == pytest.approx(fitted.low, abs=step) and inside.max() == pytest.approx(
            fitted.high, abs=step
        )


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), noise=st.floats(0.001, 0.1), method=st.sampled_from(["de", "least_squares"]))
def test_fit_is_at_least_as_good_as_the_truth(seed, noise, method):
    """Whatever the noise, the optimum found is no worse than the true parameters (the data's own optimum is)."""
    bounds, truth, variables = CASES["bass"]
    model = _model("bass")
    data = _synthetic(model, truth, variables, noise, seed)
    cal = calibrate(model, data, fit=bounds, method=method, seed=seed, interval=None)
    assert cal.objective <= objective(model, data, truth)[0] * (1 + 1e-9)
    assert cal.objective == pytest.approx(objective(model, data, cal.values)[0], rel=1e-9)


def test_a_subscripted_name_fits_one_value_for_every_element():
    model = parse_model(
        "time: {start: 0, stop: 8, dt: 0.25, save_step: 1}\ndimensions: {g: [a, b]}\n"
        "constants: {c: {dimensions: [g], value: {a: 0.2, b: 0.5}}}\n"
        "stocks: {s: {dimensions: [g], initial: {a: 50, b: 20}}}\n"
        "flows: {out: {dimensions: [g], from: s, equation: c * s}}\n"
    )
    data = _synthetic(model, {"c[a]": 0.35, "c[b]": 0.35}, ["s[a]", "s[b]"], 0.0, 0)
    cal = calibrate(model, data, fit={"c": (0.0, 1.0)}, method="least_squares", interval=None)
    assert cal.fitted["c"].value == pytest.approx(0.35, rel=1e-6)
    assert cal.to_scenario()["constants"] == {
        "c": {"a": pytest.approx(0.35, rel=1e-6), "b": pytest.approx(0.35, rel=1e-6)}
    }
    with pytest.raises(TenorError) as err:
        calibrate(model, data, fit={"c": (0.0, 1.0), "c[a]": (0.0, 1.0)})
    assert "set by both 'c' and 'c[a]'" in err.value.message


# --- review: budgets, seeds, weights, unreadable files -------------------------------------


@pytest.mark.parametrize(("method", "budget"), [("de", 30), ("de", 45), ("cmaes", 3), ("least_squares", 3)])
def test_max_evaluations_is_a_cap_even_when_small(method, budget):
    """A budget smaller than the default first batch still caps the runs (it used to run 30 for a budget of 1)."""
    model = _model("logistic")
    cal = calibrate(model, _LOGISTIC_DATA, fit={"growth_rate": (0.05, 1.0)}, method=method, max_evaluations=budget,
                    interval=None)  # fmt: skip
    assert 0 < cal.fit_evaluations <= budget


def test_a_budget_below_the_first_population_of_de_is_refused():
    with pytest.raises(TenorError, match="at least 15") as err:
        calibrate(_LOGISTIC, _LOGISTIC_DATA, fit={"growth_rate": (0.05, 1.0)}, max_evaluations=14)
    assert "--method least_squares" in err.value.hint


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_a_seed_out_of_range_is_bad_input(seed):
    with pytest.raises(TenorError, match="seed"):
        calibrate(_LOGISTIC, _LOGISTIC_DATA, fit={"growth_rate": (0.05, 1.0)}, seed=seed, max_evaluations=40)


@pytest.mark.parametrize("method", ["de", "cmaes"])
def test_the_largest_seed_runs(method):
    cal = calibrate(_LOGISTIC, _LOGISTIC_DATA, fit={"growth_rate": (0.05, 1.0)}, seed=2**32 - 1, method=method,
                    max_evaluations=30, interval="bootstrap", bootstrap_replicates=4)  # fmt: skip
    assert 0.05 <= cal.fitted["growth_rate"].value <= 1.0


def test_all_weights_zero_is_refused():
    """With every weight 0 the objective is 0 everywhere: any value would be 'fitted'."""
    with pytest.raises(TenorError, match="every series has weight 0"):
        calibrate(_LOGISTIC, _LOGISTIC_DATA, fit={"growth_rate": (0.05, 1.0)}, weights={"population": 0.0})


def test_unreadable_data_files_exit_2(tmp_path, capsys):
    broken = tmp_path / "obs.parquet"
    broken.write_bytes(b"not parquet at all")
    folder = tmp_path / "obs.csv"
    folder.mkdir()
    for path in (broken, folder):
        with pytest.raises(TenorError, match=str(path)):
            read_data(path)
        assert main(["calibrate", str(SIR), str(path), "--fit", "a=0.05:2", "--json"]) == 2
        assert str(path) in json.loads(capsys.readouterr().out)["error"]["message"]
    assert main(["calibrate", str(SIR), str(FLU), "--fit", "a=0.05:2", "--seed", "-1", "--json"]) == 2


def test_a_column_named_twice_is_named_as_such(tmp_path):
    """pandas renames a second 'infective' column 'infective.1'; the error must speak of the file's own header."""
    path = tmp_path / "obs.csv"
    path.write_text("# a comment\ntime,infective,infective\n1,3,3\n")
    with pytest.raises(TenorError) as err:
        read_data(path)
    assert err.value.message == f"{path}: line 2: the column 'infective' appears twice"


def test_scenario_file_refuses_values_that_are_not_finite():
    model = load_model(SIR)
    text = "scenarios:\n  fitted:\n    constants: {r: .nan}\n    initial: {infective: .inf}\n"
    with pytest.raises(SpecError) as err:
        parse_scenarios(text, model, file="f.yaml")
    found = {(d.line, d.key) for d in err.value.diagnostics}
    assert found == {(3, "scenarios.fitted.constants.r"), (4, "scenarios.fitted.initial.infective")}
    assert all("finite" in d.message for d in err.value.diagnostics)
    model = parse_model(
        "time: {start: 0, stop: 2, dt: 1}\nconstants: {k: 1}\nlookups: {push: {points: [[0, 1], [2, 1]]}}\n"
        'auxiliaries: {y: {equation: "push(time) * k"}}\n'
    )
    with pytest.raises(SpecError, match="finite"):
        parse_scenarios("scenarios:\n  s:\n    lookups: {push: {points: [[0, .nan], [2, 1]]}}\n", model)


def test_errors_name_the_real_line_past_comments_and_blank_lines(tmp_path):
    """Lines that pandas skips (a comment or a blank line among the data) must not shift the line named."""
    path = tmp_path / "obs.csv"
    path.write_text("# source\ntime,infective\n1,3\n\n# a note among the data\n2,many\n")
    with pytest.raises(TenorError) as err:
        read_data(path)
    assert err.value.message == f"{path}: line 6, column 'infective': 'many' is not a number"
    path.write_text("# source\n\ntime,infective\n1,3\n# note\n99,4\n")
    with pytest.raises(TenorError) as err:
        objective(load_model(SIR), read_data(path), {"r": 2.18e-3})
    assert err.value.message.startswith(f"{path}: line 6: time 99 is outside the run")
