"""Sampling designs, correlated normals, summary sweeps: the properties each design promises."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sf_support import MODELS

from stocks_flows.engine import simulate
from stocks_flows.load import load_model
from stocks_flows.sampling import (
    correlated_normals,
    covariance_root,
    inverse_cdf,
    parse_correlation,
    sample,
    unit_design,
)
from stocks_flows.scenarios import Distribution, monte_carlo, parse_sample
from stocks_flows.summary import parse_percentiles, summarize, summarize_frame, swept_parameters
from tenor.cli.main import main
from tenor.core.errors import TenorError

FAST = settings(max_examples=25, deadline=None, derandomize=True)

DISTS = st.sampled_from(
    [
        "uniform(-2, 3)",
        "normal(10, 2)",
        "lognormal(0, 0.5)",
        "triangular(0, 1, 4)",
        "triangular(0, 0, 1)",
    ]
)


def _cdf(dist: Distribution, x: np.ndarray) -> np.ndarray:
    a = dist.args
    if dist.kind == "uniform":
        return stats.uniform.cdf(x, a[0], a[1] - a[0])
    if dist.kind == "normal":
        return stats.norm.cdf(x, a[0], a[1])
    if dist.kind == "lognormal":
        return stats.lognorm.cdf(x, a[1], scale=np.exp(a[0]))
    return stats.triang.cdf(x, (a[1] - a[0]) / (a[2] - a[0]), a[0], a[2] - a[0])


@FAST
@given(n=st.integers(1, 300), d=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_lhs_puts_one_point_in_each_stratum_of_every_margin(n, d, seed):
    u = unit_design("lhs", n, d, seed)
    assert u.shape == (n, d)
    for j in range(d):
        assert sorted(np.floor(u[:, j] * n).astype(int).tolist()) == list(range(n))


@FAST
@given(dists=st.lists(DISTS, min_size=1, max_size=4), n=st.integers(2, 200), seed=st.integers(0, 10**6))
def test_lhs_strata_are_strata_of_probability_after_the_transform(dists, n, seed):
    draws = [parse_sample(f"p{i}={d}") for i, d in enumerate(dists)]
    table = sample(draws, n, seed, design="lhs")
    for name, dist in draws:
        p = _cdf(dist, table.columns[name])
        assert sorted(np.floor(p * n).astype(int).tolist()) == list(range(n))


@FAST
@given(k=st.integers(0, 9), d=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_sobol_with_a_power_of_two_is_balanced(k, d, seed):
    n = 2**k
    u = unit_design("sobol", n, d, seed)
    assert u.shape == (n, d)
    assert ((u >= 0) & (u < 1)).all()
    for j in range(d):
        # Each of the n equal intervals of every margin holds exactly one point.
        assert np.array_equal(np.sort(np.floor(u[:, j] * n).astype(int)), np.arange(n))
    if n >= 4 and d >= 2:
        # (0, m, 2)-net property of the first two Sobol' dimensions: every 2 x n/2 box holds one point.
        cells = np.floor(u[:, 0] * 2).astype(int) * (n // 2) + np.floor(u[:, 1] * (n // 2)).astype(int)
        assert np.array_equal(np.sort(cells), np.arange(n))


@FAST
@given(design=st.sampled_from(["random", "lhs", "sobol"]), seed=st.integers(0, 10**9), n=st.integers(1, 64))
def test_same_seed_same_bytes(design, seed, n):
    draws = [parse_sample("a=normal(1, 2)"), parse_sample("b=triangular(0, 1, 3)"), parse_sample("c=normal(0, 1)")]
    one = sample(draws, n, seed, design=design, correlations=[("a", "c", 0.4)])
    two = sample(draws, n, seed, design=design, correlations=[("a", "c", 0.4)])
    for name in ("a", "b", "c"):
        assert one.columns[name].tobytes() == two.columns[name].tobytes()
    other = sample(draws, n, seed + 1, design=design)
    assert n == 1 or not np.array_equal(one.columns["a"], other.columns["a"])


def test_random_design_without_correlations_is_the_old_monte_carlo():
    draws = [parse_sample("a=normal(1, 2)"), parse_sample("b=lognormal(0, 1)")]
    old = monte_carlo(draws, 50, 11)
    new = sample(draws, 50, 11, design="random")
    for name in ("a", "b"):
        assert old.columns[name].tobytes() == new.columns[name].tobytes()


@pytest.mark.parametrize("design", ["random", "lhs", "sobol"])
def test_correlated_normals_reproduce_the_covariance(design):
    corr = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
    sds = np.array([1.0, 3.0, 0.5])
    n = 2**14
    x = correlated_normals([1.0, -2.0, 5.0], corr=corr, sds=sds, n=n, seed=4, design=design)
    cov = np.outer(sds, sds) * corr
    # Sampling error of a covariance estimate: sd(c_ij) = sqrt((c_ii c_jj + c_ij^2) / n); allow 5 of them.
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(x.T) - cov) < 5 * se)
    assert np.allclose(x.mean(axis=0), [1.0, -2.0, 5.0], atol=5 * sds / np.sqrt(n))
    same = correlated_normals([1.0, -2.0, 5.0], cov=cov, n=n, seed=4, design=design)
    assert np.allclose(np.cov(same.T), np.cov(x.T), rtol=1e-9, atol=1e-12)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    a=st.lists(st.floats(-2, 2, allow_nan=False), min_size=9, max_size=9),
    design=st.sampled_from(["random", "lhs", "sobol"]),
    seed=st.integers(0, 10**6),
)
def test_any_covariance_is_reproduced_within_sampling_error(a, design, seed):
    root = np.array(a).reshape(3, 3)
    cov = root @ root.T + 0.05 * np.eye(3)  # positive definite
    n = 4096
    x = correlated_normals([0.0, 1.0, -1.0], cov, n=n, seed=seed, design=design)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(x.T) - cov) < 6 * se)
    again = correlated_normals([0.0, 1.0, -1.0], cov, n=n, seed=seed, design=design)
    assert again.tobytes() == x.tobytes()


def test_sweep_table_correlates_only_the_named_normals():
    draws = [parse_sample("a=normal(0, 1)"), parse_sample("b=normal(10, 2)"), parse_sample("c=uniform(0, 1)")]
    table = sample(draws, 4096, 3, design="lhs", correlations={("a", "b"): -0.8})
    r = np.corrcoef(np.vstack([table.columns[k] for k in "abc"]))
    assert r[0, 1] == pytest.approx(-0.8, abs=0.03)
    assert abs(r[0, 2]) < 0.05 and abs(r[1, 2]) < 0.05
    assert table.columns["b"].std() == pytest.approx(2.0, rel=0.03)
    # c keeps its Latin-hypercube margin.
    assert sorted(np.floor(table.columns["c"] * 4096).astype(int).tolist()) == list(range(4096))


def test_a_matrix_that_is_not_positive_semidefinite_is_refused_clearly():
    bad = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    with pytest.raises(TenorError, match="not positive semi-definite") as info:
        correlated_normals([0, 0, 0], corr=bad, sds=[1, 1, 1], n=10, seed=1)
    assert "smallest eigenvalue" in str(info.value)
    with pytest.raises(TenorError, match="not symmetric"):
        covariance_root(np.array([[1.0, 0.5], [0.2, 1.0]]))
    # A singular but valid matrix (perfect correlation) is accepted and honoured.
    x = correlated_normals([0, 0], corr=np.array([[1.0, 1.0], [1.0, 1.0]]), sds=[1, 2], n=100, seed=1)
    assert np.allclose(x[:, 1], 2 * x[:, 0])


def test_bad_correlations_name_what_is_wrong():
    draws = [parse_sample("a=normal(0, 1)"), parse_sample("u=uniform(0, 1)")]
    with pytest.raises(TenorError, match="not drawn with --sample"):
        sample(draws, 5, 1, correlations=[("a", "zz", 0.5)])
    with pytest.raises(TenorError, match="correlations are for normal"):
        sample(draws, 5, 1, correlations=[("a", "u", 0.5)])
    with pytest.raises(TenorError, match="outside"):
        parse_correlation("a,b=1.5")
    with pytest.raises(TenorError, match="cannot read"):
        parse_correlation("a=0.5")
    with pytest.raises(TenorError, match="unknown sampling design"):
        sample(draws, 5, 1, design="latin")


def test_inverse_cdf_inverts_each_distribution():
    u = np.linspace(0.01, 0.99, 7)
    for text in ("normal(3, 2)", "uniform(1, 5)", "lognormal(0.5, 0.3)", "triangular(-1, 2, 4)"):
        _, dist = parse_sample(f"x={text}")
        assert np.allclose(_cdf(dist, inverse_cdf(dist, u)), u)
    assert np.isfinite(inverse_cdf(Distribution("normal", (0.0, 1.0)), np.array([0.0, 1.0]))).all()


# --- summary sweeps -------------------------------------------------------------------------


@pytest.fixture
def teacup(tmp_path):
    path = tmp_path / "teacup.yaml"
    shutil.copy(MODELS / "teacup.yaml", path)
    return path


def test_summary_equals_numpy_percentile_over_the_full_sweep(teacup, tmp_path):
    full, summary = tmp_path / "full.parquet", tmp_path / "summary.csv"
    args = [
        "sweep",
        str(teacup),
        "--sample",
        "room_temperature=normal(70, 5)",
        "--sample",
        "characteristic_time=uniform(5, 15)",
        "--samples",
        "300",
        "--seed",
        "5",
        "--design",
        "lhs",
        "--chunk-size",
        "64",
        "--variables",
        "teacup_temperature,heat_loss_to_room",
    ]
    assert main([*args, "--out", str(full)]) == 0
    assert main([*args, "--summary", "--percentiles", "5,25,50,75,95", "--out", str(summary)]) == 0
    f, s = pd.read_parquet(full), pd.read_csv(summary)
    assert list(s.columns) == ["time", "variable", "units", "mean", "p5", "p25", "p50", "p75", "p95"]
    for var in ("teacup_temperature", "heat_loss_to_room"):
        wide = f.pivot(index="scenario", columns="time", values=var).to_numpy()
        part = s[s["variable"] == var].sort_values("time")
        assert np.allclose(part["time"], np.sort(f["time"].unique()))
        expected = np.percentile(wide, [5, 25, 50, 75, 95], axis=0)
        for q, row in zip(("p5", "p25", "p50", "p75", "p95"), expected, strict=True):
            np.testing.assert_allclose(part[q].to_numpy(), row, rtol=1e-12)
        np.testing.assert_allclose(part["mean"].to_numpy(), wide.mean(axis=0), rtol=1e-12)
    assert (s.loc[s["variable"] == "teacup_temperature", "units"] == "degF").all()


def test_summary_of_a_run_and_of_its_table_agree():
    model = load_model(MODELS / "teacup.yaml")
    draws = sample([parse_sample("room_temperature=uniform(60, 80)")], 33, 2, design="sobol")
    run = simulate(model, draws.columns, scenario_names=draws.names)
    a = summarize(run, [10, 90], variables=["teacup_temperature"])
    b = summarize_frame(run.to_frame(), ["teacup_temperature"], [10, 90])
    pd.testing.assert_frame_equal(a, b)
    assert swept_parameters(run.to_frame()) == ["room_temperature"]


def test_summary_options_are_checked(teacup, tmp_path, capsys):
    out = tmp_path / "x.csv"
    base = ["sweep", str(teacup), "--sample", "room_temperature=normal(70,5)", "--samples", "5"]
    assert main([*base, "--percentiles", "5,95", "--out", str(out)]) == 2
    assert main([*base, "--summary", "--percentiles", "5,120", "--out", str(out)]) == 2
    assert main(["sweep", str(teacup), "--set", "room_temperature=60:70:2", "--design", "lhs", "--out", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "--percentiles goes with --summary" in err and "between 0 and 100" in err


def test_sweep_design_and_correlation_on_the_command_line(teacup, tmp_path, capsys):
    out = tmp_path / "c.parquet"
    args = ["sweep", str(teacup), "--sample", "room_temperature=normal(70,5)"]
    args += ["--sample", "characteristic_time=normal(10,1)", "--samples", "512", "--seed", "3"]
    args += ["--design", "sobol", "--correlate", "room_temperature,characteristic_time=0.7"]
    args += ["--times", "0", "--out", str(out)]
    assert main(args) == 0
    frame = pd.read_parquet(out)
    r = np.corrcoef(frame["room_temperature"], frame["characteristic_time"])[0, 1]
    assert r == pytest.approx(0.7, abs=0.05)
    assert "balanced" not in capsys.readouterr().err  # 512 is a power of two
    args[args.index("512")] = "500"
    assert main(args) == 0
    assert "not (try 256 or 512)" in capsys.readouterr().err


def test_a_negative_seed_is_bad_input_for_every_design(teacup, tmp_path, capsys):
    draws = [parse_sample("a=normal(0, 1)")]
    for design in ("random", "lhs", "sobol"):
        with pytest.raises(TenorError, match="--seed must be a whole number"):
            sample(draws, 4, -1, design=design)
    out = tmp_path / "x.csv"
    base = ["sweep", str(teacup), "--sample", "room_temperature=normal(70,5)", "--samples", "5", "--out", str(out)]
    assert main([*base, "--seed", "-2"]) == 2
    assert main([*base, "--seed", "-2", "--design", "sobol"]) == 2
    assert "--seed must be a whole number" in capsys.readouterr().err and not out.exists()


def test_percentiles_whose_columns_would_collide_are_refused(teacup, tmp_path, capsys):
    """p{q:g} keeps six digits: 99.999999 would be written as a second 'p100' column."""
    with pytest.raises(TenorError, match=r"99\.999999"):
        parse_percentiles("99.999999,100")
    assert parse_percentiles("2.5,97.5,99.9") == [2.5, 97.5, 99.9]
    out = tmp_path / "s.csv"
    args = ["sweep", str(teacup), "--sample", "room_temperature=normal(70,5)", "--samples", "5", "--summary"]
    assert main([*args, "--percentiles", "99.999999,100", "--out", str(out)]) == 2
    assert "99.999999" in capsys.readouterr().err and not out.exists()
