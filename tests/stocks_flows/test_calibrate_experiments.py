"""Calibration against several experiments at once: identification, batching, bounds, errors."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stocks_flows.calibrate as calibration_module
from stocks_flows.calibrate import (
    Experiment,
    calibrate,
    calibrate_experiments,
    experiments_objective,
    objective,
)
from stocks_flows.engine import simulate
from stocks_flows.load import parse_model
from stocks_flows.model import Scenario
from tenor.cli.main import main
from tenor.core.errors import TenorError

# A tank drained at rate k and fed at g * feed. Run empty-fed from 100 ("drain"), it shows k and
# nothing of g; run from empty with a feed and seen only once settled ("fill"), it shows g / k only.
SPEC = """
time: {start: 0, stop: 40, dt: 0.125}
constants: {k: 0.5, g: 1.0, feed: 0}
stocks: {s: {initial: 100}}
flows:
  drain: {from: s, equation: k * s}
  fill: {to: s, equation: g * feed}
"""
TRUTH = {"k": 0.3, "g": 2.0}
BOX = {"k": (0.05, 1.0), "g": (0.2, 5.0)}
SCENARIOS = {
    "drain": Scenario("drain"),
    "fill": Scenario("fill", constants={"feed": 10.0}, initial={"s": 0.0}),
}


@pytest.fixture(scope="module")
def model():
    return replace(parse_model(SPEC), scenarios=dict(SCENARIOS))


def _data(model, scenario: str, times, noise: float, seed: int) -> pd.DataFrame:
    run = simulate(model.with_scenario(scenario), {k: [v] for k, v in TRUTH.items()}, variables=["s"], times=times)
    rng = np.random.default_rng(seed)
    s = run.values[0, :, 0]
    return pd.DataFrame({"time": run.time, "s": s + rng.normal(0.0, noise, len(s))})


@pytest.fixture(scope="module")
def experiments(model):
    drain = _data(model, "drain", np.arange(0.0, 10.5, 0.5), noise=0.5, seed=1)
    fill = _data(model, "fill", np.arange(30.0, 40.5, 1.0), noise=0.5, seed=2)  # settled: s = 10 g / k
    return Experiment(drain, "drain"), Experiment(fill, "fill")


@pytest.fixture(scope="module")
def fits(model, experiments):
    drain, fill = experiments
    return {
        "drain": calibrate(model, drain.data, fit=BOX, scenario="drain", seed=3),
        "fill": calibrate(model, fill.data, fit=BOX, scenario="fill", seed=3),
        "both": calibrate(model, [drain, fill], fit=BOX, seed=3),
    }


def test_two_experiments_identify_what_neither_does(fits):
    """Each experiment alone leaves one parameter open over the box; together both are pinned."""
    drain, fill, both = fits["drain"], fits["fill"], fits["both"]
    # drain: k is identified, g not at all (its profile is flat: the interval is the whole box)
    assert drain.fitted["k"].low <= TRUTH["k"] <= drain.fitted["k"].high
    assert drain.fitted["k"].high - drain.fitted["k"].low < 0.05
    assert set(drain.fitted["g"].at_bound) == {"low", "high"}
    # fill: only g / k is seen, so k's profile (g re-optimised along it) is flat until the box
    # (g <= 5) or the unsettled start (k near 0.05) bites: an interval over most of the box
    k = fill.fitted["k"]
    assert (k.high - k.low) / (BOX["k"][1] - BOX["k"][0]) > 0.5
    assert fill.fitted["g"].value / fill.fitted["k"].value == pytest.approx(TRUTH["g"] / TRUTH["k"], rel=0.01)
    # both: each within a tight interval that holds the truth, none clipped
    for name, true in TRUTH.items():
        p = both.fitted[name]
        assert p.low <= true <= p.high, name
        assert not p.at_bound, name
        assert (p.high - p.low) / (BOX[name][1] - BOX[name][0]) < 0.05, name
        assert p.value == pytest.approx(true, rel=0.03), name


def test_results_per_experiment_and_series(fits, experiments):
    both = fits["both"]
    assert set(both.experiments) == {"drain", "fill"}
    assert set(both.residuals) == {"drain/s", "fill/s"}
    total = sum(e["objective"] for e in both.experiments.values())
    assert total == pytest.approx(both.objective, rel=1e-9)
    for exp, name in zip(experiments, ("drain", "fill"), strict=True):
        table = both.experiments[name]["residuals"]["s"]
        assert table["observed"] == pytest.approx(exp.data["s"].tolist())
        assert np.allclose(np.array(table["observed"]) - table["simulated"], table["residual"])
    payload = json.loads(json.dumps(both.to_dict()))
    assert set(payload) >= {"fitted", "objective", "evaluations", "seconds", "experiments"}
    assert set(payload["fitted"]["k"]) >= {"value", "low", "high"}


def test_batched_objective_equals_each_experiment_separately(model, experiments, monkeypatch):
    """All experiments x candidates in ONE engine call, equal to evaluating each apart and summing."""
    drain, fill = experiments
    weighted = [drain, replace(fill, weight=2.5)]
    rng = np.random.default_rng(0)
    candidates = {"k": rng.uniform(0.1, 0.9, 7), "g": rng.uniform(0.5, 4.0, 7)}
    apart = [
        objective(model, drain.data, candidates, scenario="drain", weights={"s": 0.1}),
        2.5 * objective(model, fill.data, candidates, scenario="fill", weights={"s": 0.1}),
    ]
    calls: list[int] = []
    real = calibration_module.simulate

    def counting(m, params, **kw):
        calls.append(len(next(iter(params.values()))))
        return real(m, params, **kw)

    monkeypatch.setattr(calibration_module, "simulate", counting)
    batched = experiments_objective(model, weighted, candidates, weights={"s": 0.1})
    assert calls == [14], "two experiments x seven candidates in one engine call"
    np.testing.assert_allclose(batched, np.column_stack(apart), rtol=1e-12)
    np.testing.assert_allclose(batched.sum(axis=1), apart[0] + apart[1], rtol=1e-12)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    w=st.lists(st.floats(0.0, 10.0), min_size=2, max_size=2),
    k=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4),
    high=st.floats(10.0, 90.0),
)
def test_summed_objective_is_the_weighted_sum_of_the_parts(model, experiments, w, k, high):
    """Property: the batched objective of experiments (bounds included) is each one's term, weighted, summed."""
    drain, fill = experiments
    bound = Experiment({"time": [3.0], "s:high": [high]}, "drain", weights={"s": 0.5})
    parts = [replace(drain, weight=w[0]), replace(fill, weight=w[1]), bound]
    candidates = {"k": k, "g": [2.0] * len(k)}
    together = experiments_objective(model, parts, candidates, weights={"s": 0.1})
    alone = np.column_stack([experiments_objective(model, [e], candidates, weights={"s": 0.1})[:, 0] for e in parts])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-12)
    base = objective(model, drain.data, candidates, scenario="drain", weights={"s": 0.1})
    np.testing.assert_allclose(together[:, 0], w[0] * base, rtol=1e-12, atol=1e-12)


def test_a_single_experiment_is_the_single_table_fit(model, experiments):
    drain, _ = experiments
    one = calibrate(model, drain.data, fit={"k": BOX["k"]}, scenario="drain", seed=1, interval=None)
    many = calibrate_experiments(model, [drain], fit={"k": BOX["k"]}, seed=1, interval=None)
    assert many.fitted["k"].value == pytest.approx(one.fitted["k"].value, rel=1e-6)
    assert many.objective == pytest.approx(one.objective, rel=1e-6)


def test_bounds_penalise_only_when_violated(model):
    """``s:high`` adds w (m - h)^2 when the run is above h, nothing below; ``s:low`` the mirror image."""
    run = simulate(model.with_scenario("drain"), {"k": [0.2, 0.3, 0.4]}, variables=["s"], times=[0.0, 2.0, 4.0])
    m = run.values[:, 2, 0]  # s at t = 4 for each k
    for column, bound, sign in (("s:high", 40.0, 1.0), ("s:low", 30.0, -1.0)):
        exp = Experiment({"time": [4.0], column: [bound]}, "drain", weights={"s": 3.0})
        got = experiments_objective(model, [exp], {"k": [0.2, 0.3, 0.4], "g": [1.0] * 3})[:, 0]
        want = 3.0 * np.maximum(sign * (m - bound), 0.0) ** 2
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert (got == 0).any() and (got > 0).any()


def test_bounds_move_the_fit_only_when_binding(model, experiments):
    drain, fill = experiments
    loose = Experiment({"time": [35.0], "s:high": [200.0]}, "fill", name="loose")  # 10 g / k = 66.7 holds
    tight = Experiment({"time": [35.0], "s:low": [80.0]}, "fill", name="tight")  # asks for more than the data
    free = calibrate(model, [drain, fill], fit=BOX, seed=3, interval=None)
    same = calibrate(model, [drain, fill, loose], fit=BOX, seed=3, interval=None)
    moved = calibrate(model, [drain, fill, replace(tight, weight=100.0)], fit=BOX, seed=3, interval=None)
    assert same.fitted["g"].value == pytest.approx(free.fitted["g"].value, rel=1e-6)
    assert same.experiments["loose"]["bounds"][0]["violated_by"] == 0.0
    ratio = {k: c.fitted["g"].value / c.fitted["k"].value for k, c in (("free", free), ("moved", moved))}
    assert ratio["moved"] > ratio["free"] * 1.05, "a violated bound pulls the settled level 10 g / k up"
    assert moved.experiments["tight"]["bounds"][0]["bound"] == "at least"


def test_bootstrap_intervals_across_experiments(model, experiments):
    both = calibrate(model, list(experiments), fit=BOX, seed=3, interval="bootstrap", bootstrap_replicates=40)
    for name, true in TRUTH.items():
        p = both.fitted[name]
        assert p.low < p.value < p.high, name
        assert p.low <= true <= p.high, name


def test_bad_experiments_are_located_errors(model, experiments):
    drain, _ = experiments
    with pytest.raises(TenorError, match="unknown scenario 'fil'") as err:
        calibrate(model, [replace(drain, scenario="fil")], fit=BOX)
    assert "fill" in err.value.hint
    with pytest.raises(TenorError, match="weights: 'z' is not an observed series"):
        calibrate(model, [replace(drain, weights={"z": 1.0})], fit=BOX)
    with pytest.raises(TenorError, match="weights: 'x' is not an observed series"):
        calibrate(model, [drain], fit=BOX, weights={"x": 1.0})
    with pytest.raises(TenorError, match="weight -1"):
        calibrate(model, [replace(drain, weight=-1)], fit=BOX)
    with pytest.raises(TenorError, match=r"experiment 2 \(drain\): <data>: row 1: time 99 is outside the run"):
        calibrate(model, [drain, Experiment({"time": [99.0], "s": [1.0]}, "drain")], fit=BOX)
    with pytest.raises(TenorError, match="column 'q' is not a variable"):
        calibrate(model, [Experiment({"time": [1.0], "q:high": [1.0]}, "drain")], fit=BOX)


def test_cli_experiments(tmp_path, model, experiments, capsys):
    spec = tmp_path / "tank.yaml"
    spec.write_text(
        SPEC + "scenarios:\n  drain: {}\n  fill: {constants: {feed: 10}, initial: {s: 0}}\n", encoding="utf-8"
    )
    paths = []
    for exp in experiments:
        path = tmp_path / f"{exp.scenario}.csv"
        exp.data.to_csv(path, index=False)
        paths.append(f"{exp.scenario}={path}")
    argv = ["calibrate", str(spec), "--fit", "k=0.05:1", "--fit", "g=0.2:5", "--interval", "none", "--json"]
    for item in paths:
        argv += ["--experiment", item]
    code = main(argv)
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["fitted"]["k"]["value"] == pytest.approx(TRUTH["k"], rel=0.03)
    assert set(out["residuals"]) == {"drain/s", "fill/s"}
    code = main([*argv[:-1], str(tmp_path / "drain.csv"), "--json"])
    assert code == 2
