"""Sobol' indices against published and analytic answers; the ``tenor sensitivity`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from stocks_flows.load import parse_model
from stocks_flows.scenarios import Distribution
from stocks_flows.sensitivity import Output, parse_output, parse_range, sobol_indices
from tenor.cli.main import main
from tenor.core.errors import TenorError

# The Ishigami function (Ishigami & Homma 1990) as a stock-and-flow model: three constants, one auxiliary,
# a time axis of one step. x_i ~ U(-pi, pi), a = 7, b = 0.1 (Marrel et al. 2009).
ISHIGAMI = """
name: ishigami
time: {start: 0, stop: 1, dt: 1}
constants: {x1: 0, x2: 0, x3: 0, a: 7, b: 0.1}
auxiliaries:
  y: {equation: "sin(x1) + a * sin(x2)^2 + b * x3^4 * sin(x1)"}
"""


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Analytic S1 and ST of the Ishigami function.

    Variance decomposition as tabulated in the OpenTURNS use case "The Ishigami function" and on UQWorld
    (Sobol' & Levitan 1999; Marrel et al. 2009): V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2,
    V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V13 = 8 b^2 pi^8/225, all other terms zero.
    For a = 7, b = 0.1: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).
    """
    v = a * a / 8 + b * math.pi**4 / 5 + b * b * math.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a * a / 8
    v13 = 8 * b * b * math.pi**8 / 225
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_the_analytic_ishigami_values_are_the_published_ones():
    s1, st = ishigami_indices()
    assert np.round(s1, 4).tolist() == [0.3139, 0.4424, 0.0]
    assert np.round(st, 4).tolist() == [0.5576, 0.4424, 0.2437]


def test_ishigami_indices_from_one_batched_run():
    model = parse_model(ISHIGAMI)
    ranges = {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)}
    result = sobol_indices(model, ranges, ["y"], n=4096, seed=7)
    ix = result.indices["y"]
    s1, st = ishigami_indices()
    assert result.runs == 4096 * 5
    np.testing.assert_allclose(ix.S1, s1, atol=0.03)
    np.testing.assert_allclose(ix.ST, st, atol=0.03)
    # The bootstrap intervals are honest: each analytic value lies within two half-widths.
    assert np.all(np.abs(ix.S1 - s1) <= 2 * ix.S1_conf)
    assert np.all(np.abs(ix.ST - st) <= 2 * ix.ST_conf)
    assert ix.variance == pytest.approx(7**2 / 8 + 0.1 * math.pi**4 / 5 + 0.01 * math.pi**8 / 18 + 0.5, rel=0.03)
    again = sobol_indices(model, ranges, ["y"], n=4096, seed=7).indices["y"]
    assert again.S1.tobytes() == ix.S1.tobytes() and again.ST_conf.tobytes() == ix.ST_conf.tobytes()


# A linear model y = 2 a - b + 0.5 c, built up in a stock over ten steps of one flow. For independent
# uniform inputs S_i = ST_i = a_i^2 var_i / sum_j a_j^2 var_j (var of U(l, h) is (h - l)^2 / 12).
LINEAR = """
name: linear
time: {start: 0, stop: 10, dt: 1}
constants: {a: 0, b: 0, c: 0}
stocks: {y: {initial: 0}}
flows: {f: {to: y, equation: "(2 * a - b + 0.5 * c) / 10"}}
"""


def test_linear_model_indices_are_the_analytic_shares():
    ranges = {"a": (0.0, 1.0), "b": (0.0, 2.0), "c": (-3.0, 3.0)}
    coef = {"a": 2.0, "b": -1.0, "c": 0.5}
    parts = np.array([coef[k] ** 2 * (hi - lo) ** 2 / 12 for k, (lo, hi) in ranges.items()])
    expected = parts / parts.sum()  # 4/17, 4/17, 9/17
    result = sobol_indices(parse_model(LINEAR), ranges, ["y", "y@5", "y@mean"], n=1024, seed=3)
    assert list(result.indices) == ["y", "y@5", "y@mean"]
    for ix in result.indices.values():
        np.testing.assert_allclose(ix.S1, expected, atol=0.02)
        np.testing.assert_allclose(ix.ST, expected, atol=0.02)
    assert result.indices["y"].mean == pytest.approx(2 * 0.5 - 1 + 0, abs=1e-3)
    # y grows linearly in time: y@5 and the mean over 0..10 are both half the final value.
    assert result.indices["y@5"].variance == pytest.approx(result.indices["y"].variance * 0.25, rel=1e-9)
    assert result.indices["y@mean"].variance == pytest.approx(result.indices["y"].variance * 0.25, rel=1e-9)


def test_linear_model_with_normal_and_triangular_inputs():
    # Var of normal(mu, sd) is sd^2; of triangular(l, m, h) it is (l^2 + m^2 + h^2 - lm - lh - mh) / 18.
    ranges = {
        "a": Distribution("normal", (1.0, 0.3)),
        "b": Distribution("triangular", (0.0, 1.0, 4.0)),
        "c": (0.0, 1.0),
    }
    var = np.array([0.3**2, (0 + 1 + 16 - 0 - 0 - 4) / 18, 1 / 12])
    parts = np.array([2.0, -1.0, 0.5]) ** 2 * var
    result = sobol_indices(parse_model(LINEAR), ranges, ["y"], n=2048, seed=5)
    ix = result.indices["y"]
    np.testing.assert_allclose(ix.S1, parts / parts.sum(), atol=0.02)
    np.testing.assert_allclose(ix.ST, parts / parts.sum(), atol=0.02)
    assert ix.mean == pytest.approx(2 * 1.0 - 5 / 3 + 0.25, abs=0.01)
    described = result.to_dict()["parameters"]
    assert described["a"] == {"distribution": "normal", "args": [1.0, 0.3]}
    assert described["c"] == {"distribution": "uniform", "args": [0.0, 1.0], "low": 0.0, "high": 1.0}
    assert parse_range("a=normal(1, 0.3)") == ("a", Distribution("normal", (1.0, 0.3)))
    with pytest.raises(TenorError, match="needs sd > 0"):
        sobol_indices(parse_model(LINEAR), {"a": Distribution("normal", (1.0, 0.0))}, ["y"], n=64)


def test_an_output_that_does_not_vary_has_no_indices():
    result = sobol_indices(parse_model(LINEAR), {"a": (0, 1), "b": (0, 1)}, ["y@0"], n=64, seed=1)
    ix = result.indices["y@0"]
    assert ix.variance == 0 and np.isnan(ix.S1).all()
    assert ix.to_dict()["parameters"]["a"]["S1"] is None


def test_bad_input_is_named():
    model = parse_model(LINEAR)
    with pytest.raises(TenorError, match="power of two"):
        sobol_indices(model, {"a": (0, 1)}, ["y"], n=1000)
    with pytest.raises(TenorError, match="unknown output variable 'yy'"):
        sobol_indices(model, {"a": (0, 1)}, ["yy"], n=64)
    with pytest.raises(TenorError, match="not a saved time"):
        sobol_indices(model, {"a": (0, 1)}, ["y@2.5"], n=64)
    with pytest.raises(TenorError, match="unknown parameter"):
        sobol_indices(model, {"q": (0, 1)}, ["y"], n=64)
    with pytest.raises(TenorError, match="computed by its equation"):
        sobol_indices(model, {"f": (0, 1)}, ["y"], n=64)
    with pytest.raises(TenorError, match="low < high"):
        parse_range("a=2:1")
    assert parse_output("h[10y]@mean") == Output("h[10y]", mean=True)
    with pytest.raises(TenorError, match="cannot read the time"):
        parse_output("y@end")


def test_sensitivity_command_prints_json_and_draws_a_chart(tmp_path, capsys):
    path = tmp_path / "ishigami.yaml"
    path.write_text(ISHIGAMI)
    chart = tmp_path / "s.svg"
    args = ["sensitivity", str(path), "--output", "y", "--n", "512", "--seed", "2"]
    for i in (1, 2, 3):
        args += ["--sample", f"x{i}=-3.141592653589793:3.141592653589793"]
    assert main([*args, "--json", "--out", str(chart)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"] == 512 * 5 and report["seed"] == 2
    (out,) = report["outputs"]
    assert out["output"] == "y" and set(out["parameters"]) == {"x1", "x2", "x3"}
    assert set(out["parameters"]["x1"]) == {"S1", "S1_conf", "ST", "ST_conf"}
    assert out["parameters"]["x2"]["ST"] == pytest.approx(0.4424, abs=0.06)
    svg = chart.read_text()
    assert svg.count('id="S1-') == 3 and svg.count('id="ST-') == 3
    assert "first order (S1)" in svg and "total (ST)" in svg
    # Plain text: one row per parameter, with intervals.
    assert main([*args, "--out", str(tmp_path / "t.png")]) == 0
    text = capsys.readouterr().out
    assert "x3" in text and "±" in text and "S1" in text


def test_sensitivity_command_bad_input_exits_2(tmp_path, capsys):
    path = tmp_path / "linear.yaml"
    path.write_text(LINEAR)
    base = ["sensitivity", str(path), "--output", "y"]
    assert main([*base, "--sample", "a=1"]) == 2
    assert main([*base, "--sample", "a=0:1", "--sample", "a=0:2"]) == 2
    assert main([*base, "--sample", "a=0:1", "--n", "100"]) == 2
    assert main([*base, "--sample", "a=0:1", "--out", str(tmp_path / "c.txt")]) == 2
    err = capsys.readouterr().err
    assert "cannot read the range" in err and "two ranges" in err and "power of two" in err
    assert not (tmp_path / "c.txt").exists()


def test_a_negative_seed_is_bad_input(tmp_path, capsys):
    with pytest.raises(TenorError, match="--seed must be a whole number"):
        sobol_indices(parse_model(LINEAR), {"a": (0, 1)}, ["y"], n=8, seed=-3)
    path = tmp_path / "linear.yaml"
    path.write_text(LINEAR)
    assert main(["sensitivity", str(path), "--output", "y", "--sample", "a=0:1", "--n", "8", "--seed", "-3"]) == 2
    assert "--seed must be a whole number" in capsys.readouterr().err


def test_a_parameter_given_twice_through_its_elements_is_refused():
    """'c' and 'c[a]' both set c[a]: the indices would credit 'c' with what only c[b] did."""
    model = parse_model(
        "time: {start: 0, stop: 1, dt: 1}\ndimensions: {g: [a, b]}\n"
        "constants: {c: {dimensions: [g], value: {a: 0.2, b: 0.5}}}\n"
        'auxiliaries: {y: {equation: "c[a] + 2 * c[b]"}}\n'
    )
    with pytest.raises(TenorError, match="'c\\[a\\]' is set by both 'c' and 'c\\[a\\]'"):
        sobol_indices(model, {"c": (0, 1), "c[a]": (0, 1)}, ["y"], n=8, seed=1)
