"""Hostile stock-and-flow models: each file of the corpus, through the loader and through the CLI.

Every file in ``tests/data/hostile/models`` once crashed, hung or exhausted
memory (see ``manifest.json``: the file, the text the error must contain, and
the commands that apply). Each must now be refused by the loader (or by the
run, for the cases listed with commands) with a located
:class:`~tenor.core.errors.TenorError`, and by every command with exit code 2:
never 3, never a traceback, within a few seconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from stocks_flows.engine import simulate
from stocks_flows.load import load_model
from stocks_flows.loops import find_loops
from tenor.cli.main import main
from tenor.core.errors import TenorError
from tests.fuzz.bounds import bounded as time_bound

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile" / "models"
CASES = json.loads((HOSTILE / "manifest.json").read_text())
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "duration_trade" / "stocks.yaml"
ALL_COMMANDS = ["simulate", "sweep", "loops", "unroll", "check"]
BOUND = 30  # seconds: far above what any case takes; a hang fails instead of stalling the suite


def bounded(seconds: int = BOUND):
    return time_bound(seconds)


def _id(case: dict) -> str:
    return case["file"]


@pytest.mark.parametrize("case", [c for c in CASES if "commands" not in c], ids=_id)
def test_loader_refuses_with_a_location(case):
    path = HOSTILE / case["file"]
    with bounded(), pytest.raises(TenorError) as info:
        load_model(path)
    text = str(info.value)
    assert text.startswith(str(path)), text  # the file, first
    assert case["expect"] in text
    assert getattr(info.value, "line", None) is not None, f"no line in: {text}"


@pytest.mark.parametrize("case", [c for c in CASES if "commands" in c], ids=_id)
def test_model_loads_and_its_run_is_refused_or_runs(case):
    path = HOSTILE / case["file"]
    with bounded():
        model = load_model(path)
        if case.get("scenario"):
            model = model.with_scenario(case["scenario"])
        if case["expect"] is None:
            run = simulate(model)
            assert len(run.time) > 1
            return
        with pytest.raises(TenorError, match=case["expect"]):
            simulate(model)
        if case.get("analysis"):  # loop gains of a run that turned NaN mean nothing: refused too
            with pytest.raises(TenorError, match=case["expect"]):
                find_loops(model)


def _args(command: str, path: Path, tmp: Path, scenario: str | None) -> list[str]:
    extra = ["--scenario", scenario] if scenario else []
    if command == "simulate":
        return ["simulate", str(path), "--out", str(tmp / "out.csv"), *extra]
    if command == "sweep":
        return ["sweep", str(path), "--set", "k=0.1:0.2:2", "--out", str(tmp / "out.csv"), *extra]
    if command == "loops":
        return ["loops", str(path), *extra]
    if command == "unroll":
        return ["unroll", str(path), "--steps", "3", "--out", str(tmp / "u.yaml"), *extra]
    return ["check", str(path)]


@pytest.mark.parametrize(
    ("case", "command"),
    [(c, cmd) for c in CASES for cmd in c.get("commands", ALL_COMMANDS)],
    ids=lambda x: x["file"] if isinstance(x, dict) else x,
)
def test_cli_exits_2_with_a_located_message(case, command, tmp_path, capsys):
    path = HOSTILE / case["file"]
    start = time.monotonic()
    with bounded():
        code = main(_args(command, path, tmp_path, case.get("scenario")))
    out, err = capsys.readouterr()
    assert time.monotonic() - start < BOUND
    assert "Traceback" not in out + err and "internal error" not in err
    if case["expect"] is None:
        assert code == 0, err
        return
    assert code == 2, err
    if command != "check":
        assert case["expect"] in err
        assert str(path) in err or "scenario" in err or "memory" in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "u.yaml").exists()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["sweep", str(EXAMPLE), "--set", "spend_down_time=1:2:1000000", "--out", "{tmp}/o.parquet"], "memory"),
        (
            [
                *("sweep", str(EXAMPLE), "--sample", "spend_down_time=normal(1,0.1)"),
                *("--samples", "1000000000", "--out", "{tmp}/o.parquet"),
            ],
            "--samples",
        ),
        (["sweep", str(EXAMPLE), "--set", "spend_down_time=1:2:100000000000", "--out", "{tmp}/o.csv"], "at most"),
        (["unroll", str(EXAMPLE), "--steps", "10000000", "--out", "{tmp}/u.yaml"], "nodes"),
    ],
    ids=["grid-memory", "samples-1e9", "grid-1e11", "unroll-1e7"],
)
def test_oversized_jobs_are_refused_before_allocating(args, expect, tmp_path, capsys):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    with bounded():
        code = main(args)
    _, err = capsys.readouterr()
    assert code == 2, err
    assert expect in err and "Traceback" not in err


TEACUP = Path(__file__).resolve().parents[1] / "data" / "stocks_flows" / "teacup.yaml"


@pytest.mark.parametrize(
    ("option", "expect"),
    [
        (["--sample", "room_temperature=uniform(-1e308,1e308)", "--samples", "3"], "finite"),
        (["--sample", "room_temperature=normal(0,1e400)", "--samples", "3"], "finite"),
        (["--sample", "room_temperature=triangular(0,0,0)", "--samples", "3"], "low < high"),
        (["--set", "room_temperature=0:inf:3"], "finite"),
        (["--sample", "room_temperature=lognormal(1000,1)", "--samples", "3"], "infinite at time 0"),
    ],
    ids=["uniform-overflow", "normal-inf", "triangular-degenerate", "grid-inf", "draws-inf"],
)
def test_hostile_sweep_options_exit_2(option, expect, tmp_path, capsys):
    with bounded():
        code = main(["sweep", str(TEACUP), *option, "--out", str(tmp_path / "o.csv")])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert expect in err and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("suffix", [".xmile", ".mdl"])
def test_model_file_over_the_size_cap_is_refused_before_parsing(suffix, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TENOR_MAX_MODEL_BYTES", "100000")
    path = tmp_path / f"big{suffix}"
    path.write_text("x" * 200_000)
    start = time.monotonic()
    code = main(["simulate", str(path), "--out", str(tmp_path / "o.csv")])
    _, err = capsys.readouterr()
    assert code == 2 and "the limit for a model file" in err and str(path) in err
    assert time.monotonic() - start < 5
