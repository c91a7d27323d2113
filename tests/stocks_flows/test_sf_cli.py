"""The command line: simulate, sweep, export, schema; exit codes and output files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sf_support import CONFORMANCE, MODELS

from tenor.cli.main import main


@pytest.fixture
def teacup(tmp_path):
    path = tmp_path / "teacup.yaml"
    shutil.copy(MODELS / "teacup.yaml", path)
    return path


def test_simulate_writes_time_then_variables(teacup, tmp_path):
    out = tmp_path / "run.csv"
    assert main(["simulate", str(teacup), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == [
        "time",
        "room_temperature",
        "characteristic_time",
        "teacup_temperature",
        "heat_loss_to_room",
    ]
    assert frame["teacup_temperature"].iloc[0] == 180


def test_simulate_engines_agree_and_set_and_scenario_apply(teacup, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    args = ["simulate", str(teacup), "--scenario", "hot_tea", "--set", "room_temperature=50"]
    assert main([*args, "--engine", "vector", "--out", str(a)]) == 0
    assert main([*args, "--engine", "pysd", "--out", str(b)]) == 0
    fa, fb = pd.read_parquet(a), pd.read_parquet(b)
    assert fa["teacup_temperature"].iloc[0] == 210 and (fa["room_temperature"] == 50).all()
    np.testing.assert_allclose(fa.to_numpy(), fb.to_numpy(), rtol=1e-9)


def test_simulate_subscripted_columns(tmp_path):
    out = tmp_path / "tenors.csv"
    assert main(["simulate", str(MODELS / "tenors.yaml"), "--set", "sale_rate[10y]=0.2", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert "holdings[10y]" in frame.columns and (frame["sale_rate[10y]"] == 0.2).all()


def test_simulate_xmile_and_vensim_models(tmp_path):
    for src in (CONFORMANCE / "xmile" / "teacup" / "teacup.xmile", MODELS / "teacup.mdl"):
        out = tmp_path / f"{src.suffix[1:]}.csv"
        assert main(["simulate", str(src), "--out", str(out)]) == 0
        assert "Teacup Temperature" in pd.read_csv(out).columns


def test_grid_sweep_rows_and_parameter_columns(teacup, tmp_path):
    out = tmp_path / "sweep.parquet"
    code = main(
        [
            "sweep",
            str(teacup),
            "--set",
            "room_temperature=60:80:3",
            "--set",
            "characteristic_time=5:10:2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 6 * 241
    assert {"scenario", "time", "room_temperature", "characteristic_time"} <= set(frame.columns)
    assert sorted(frame["room_temperature"].unique()) == [60.0, 70.0, 80.0]


def test_sweep_keeps_requested_variables_and_times(teacup, tmp_path):
    out = tmp_path / "small.parquet"
    args = ["sweep", str(teacup), "--set", "room_temperature=60:80:5", "--variables", "teacup_temperature"]
    assert main([*args, "--times", "0,10,30", "--out", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["scenario", "time", "room_temperature", "teacup_temperature"]
    assert sorted(frame["time"].unique()) == [0.0, 10.0, 30.0] and len(frame) == 15


def test_monte_carlo_is_reproducible(teacup, tmp_path):
    outs = [tmp_path / f"mc{i}.parquet" for i in range(3)]
    base = [
        "sweep",
        str(teacup),
        "--sample",
        "room_temperature=normal(70,5)",
        "--sample",
        "characteristic_time=triangular(5,10,15)",
        "--samples",
        "50",
    ]
    assert main([*base, "--seed", "1", "--out", str(outs[0])]) == 0
    assert main([*base, "--seed", "1", "--out", str(outs[1])]) == 0
    assert main([*base, "--seed", "2", "--out", str(outs[2])]) == 0
    a, b, c = (pd.read_parquet(o) for o in outs)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["room_temperature"], c["room_temperature"])
    assert a["scenario"].nunique() == 50


def test_one_scenario_sweep_equals_simulate(teacup, tmp_path):
    sweep, single = tmp_path / "s.parquet", tmp_path / "one.parquet"
    assert main(["sweep", str(teacup), "--set", "room_temperature=55:55:1", "--out", str(sweep)]) == 0
    assert main(["simulate", str(teacup), "--set", "room_temperature=55", "--out", str(single)]) == 0
    a, b = pd.read_parquet(sweep), pd.read_parquet(single)
    np.testing.assert_array_equal(a["teacup_temperature"].to_numpy(), b["teacup_temperature"].to_numpy())


def test_export_xmile_to_file_and_stdout(teacup, tmp_path, capsys):
    out = tmp_path / "teacup.xmile"
    assert main(["export", str(teacup), "--to", "xmile", "--out", str(out)]) == 0
    assert out.read_text().startswith("<?xml")
    assert main(["export", str(teacup), "--to", "xmile"]) == 0
    assert "<xmile" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "missing.yaml", "--out", "x.csv"], "file not found"),
        (["simulate", "{model}", "--set", "nope=1", "--out", "{tmp}/x.csv"], "unknown parameter"),
        (["simulate", "{model}", "--set", "room_temperature", "--out", "{tmp}/x.csv"], "NAME=VALUE"),
        (["simulate", "{model}", "--engine", "fast", "--out", "{tmp}/x.csv"], "unknown engine"),
        (["simulate", "{model}", "--scenario", "cold", "--out", "{tmp}/x.csv"], "did you mean 'cold_room'"),
        (["simulate", "{model}", "--out", "{tmp}/x.txt"], ".csv or .parquet"),
        (["sweep", "{model}", "--out", "{tmp}/x.parquet"], "either --set"),
        (
            [
                "sweep",
                "{model}",
                "--sample",
                "room_temperature=gauss(1,2)",
                "--samples",
                "3",
                "--out",
                "{tmp}/x.parquet",
            ],
            "unknown distribution",
        ),
        (
            ["sweep", "{model}", "--sample", "room_temperature=normal(1,2)", "--out", "{tmp}/x.parquet"],
            "--samples",
        ),
        (["sweep", "{model}", "--set", "room_temperature=1:2", "--out", "{tmp}/x.parquet"], "start:stop:num"),
        (["export", "{model}", "--to", "dot"], "--to xmile"),
        (["export", "{model}", "--to", "xmile", "--out", "{model}"], "input"),
        (["simulate", "{model}"], "Missing option"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(teacup, tmp_path, capsys, args, message):
    argv = [a.format(model=teacup, tmp=tmp_path) for a in args]
    assert main(argv) == 2
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert message in text
    assert "Traceback" not in text
    assert not list(tmp_path.glob("x.*")) and not list(tmp_path.glob("*.part"))


def test_division_by_zero_exits_2_and_leaves_no_file(tmp_path, capsys):
    model = tmp_path / "bad.yaml"
    model.write_text("time: {stop: 10}\nconstants: {t0: 4}\nauxiliaries:\n  r: {equation: 1 / (time - t0)}\n")
    out = tmp_path / "out.csv"
    assert main(["simulate", str(model), "--out", str(out)]) == 2
    assert "r is infinite at time 4 in scenario 'base'" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_spec_error_is_located(tmp_path, capsys):
    model = tmp_path / "typo.yaml"
    model.write_text("time: {stop: 10}\nstocks:\n  s: {initial: 1}\nflows:\n  f: {from: s, equation: 0.1 * ss}\n")
    assert main(["simulate", str(model), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert f"{model}:5:32: flows.f.equation: unknown variable 'ss'" in err and "did you mean 's'" in err


def test_schema_command(capsys):
    assert main(["schema", "stocks_flows"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "stocks" in schema["properties"]


def test_sweep_with_pysd_equals_the_vectorised_sweep(teacup, tmp_path):
    outs = {engine: tmp_path / f"{engine}.parquet" for engine in ("pysd", "vector")}
    for engine, out in outs.items():
        args = ["sweep", str(teacup), "--set", "characteristic_time=5:15:3", "--engine", engine]
        assert main([*args, "--out", str(out)]) == 0
    a, b = (pd.read_parquet(o) for o in outs.values())
    assert list(a.columns) == list(b.columns)
    np.testing.assert_allclose(a.drop(columns="scenario").to_numpy(), b.drop(columns="scenario").to_numpy(), rtol=1e-9)


def test_rk4_runs_in_the_engine_and_pysd_says_it_cannot(tmp_path, capsys):
    model = tmp_path / "rk4.yaml"
    model.write_text(
        "time: {stop: 5, dt: 0.5, method: rk4}\nstocks: {s: {initial: 1}}\nflows: {f: {to: s, equation: 0.2 * s}}\n"
    )
    out = tmp_path / "rk4.csv"
    assert main(["simulate", str(model), "--out", str(out)]) == 0
    assert abs(pd.read_csv(out)["s"].iloc[-1] - np.exp(1.0)) < 1e-5
    assert main(["simulate", str(model), "--engine", "pysd", "--out", str(tmp_path / "p.csv")]) == 2
    assert "PySD integrates with Euler only" in capsys.readouterr().err
