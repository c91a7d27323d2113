"""Time settings computed during the run (Vensim re-evaluates FINAL TIME, TIME STEP and SAVEPER at each step).

The rows below are computed by hand with Euler's method; the two suite models are compared with
Vensim's canonical output (tests/data/test-models/tests/control_vars and dynamic_final_time).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from stocks_flows.engine import simulate
from stocks_flows.load import load_model
from stocks_flows.time_axis import goes_on, is_saved, one_value
from tenor.core.errors import SimulationError, SpecError

SUITE = Path(__file__).resolve().parents[1] / "data" / "test-models" / "tests"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))


def _mdl(tmp_path: Path, equations: dict[str, str], name: str = "m.mdl") -> Path:
    text = "{UTF-8}\n" + "".join(f"{lhs} = {rhs}\n\t~\tMonth\n\t~\t\t|\n\n" for lhs, rhs in equations.items())
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


_SETTINGS = {"INITIAL TIME": "0", "FINAL TIME": "3", "TIME STEP": "1", "SAVEPER": "TIME STEP"}


def test_time_step_that_halves_at_t2(tmp_path):
    # stock' = Time; dt 1 until t = 2, then 0.5: stock(1) = 0, stock(2) = 0 + 1*1 = 1,
    # stock(2.5) = 1 + 2*0.5 = 2, stock(3) = 2 + 2.5*0.5 = 3.25; SAVEPER follows TIME STEP
    path = _mdl(tmp_path, {"stock": "INTEG(Time, 0)", **_SETTINGS, "TIME STEP": "IF THEN ELSE(Time < 2, 1, 0.5)"})
    model = load_model(path)
    assert model.time_equations is not None and model.time.dt == 1.0
    run = simulate(model)
    assert run.time.tolist() == [0.0, 1.0, 2.0, 2.5, 3.0]
    assert run.frame()["stock"].tolist() == [0.0, 0.0, 1.0, 2.0, 3.25]


_GROWTH = {
    "level": "INTEG(level * 0.5, 1)",
    "threshold": "3",
    **_SETTINGS,
    "FINAL TIME": "IF THEN ELSE(level > threshold, Time, 100)",
}


def test_final_time_reached_when_a_stock_crosses_a_threshold(tmp_path):
    # level: 1, 1.5, 2.25, 3.375 at t = 3 > 3: FINAL TIME = Time there, the run stops at 3
    model = load_model(_mdl(tmp_path, _GROWTH))
    assert model.time.stop == 100.0  # the value at the start
    run = simulate(model)
    assert run.time.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert run.frame()["level"].tolist() == [1.0, 1.5, 2.25, 3.375]
    # a scenario's constant moves the stop: level 2.25 > 2 at t = 2
    assert simulate(model, {"threshold": [2.0]}).time.tolist() == [0.0, 1.0, 2.0]


def test_scenarios_share_one_time_axis(tmp_path):
    model = load_model(_mdl(tmp_path, _GROWTH))
    both = simulate(model, {"threshold": [3.0, 3.1]})  # both stop at t = 3
    assert both.values.shape == (2, 4, len(model.variables))
    with pytest.raises(SimulationError, match="FINAL TIME differs between scenarios at time 3"):
        simulate(model, {"threshold": [3.0, 50.0]})


def test_saveper_and_initial_time_that_change(tmp_path):
    # SAVEPER 1 before t = 4, then 2: saved 0..4, 6, 8. INITIAL TIME turning 5 later changes nothing
    # (Vensim starts at its first value and counts saved times from there, as in tests/control_vars)
    path = _mdl(
        tmp_path,
        {
            "x": "Time * 2",
            "INITIAL TIME": "IF THEN ELSE(Time < 1, 0, 5)",
            "FINAL TIME": "8",
            "TIME STEP": "1",
            "SAVEPER": "IF THEN ELSE(Time < 4, 1, 2)",
        },
    )
    run = simulate(load_model(path))
    assert run.time.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
    assert run.frame()["x"].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0]


def test_kernels(tmp_path):
    model = load_model(_mdl(tmp_path, _GROWTH))
    assert simulate(model, kernel="auto").time.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(SimulationError, match="compiled kernel cannot run this model"):
        simulate(model, kernel="compiled")


def test_times_keeps_requested_rows(tmp_path):
    model = load_model(_mdl(tmp_path, _GROWTH))
    assert simulate(model, times=[1, 3]).frame()["level"].tolist() == [1.5, 3.375]


def test_a_run_that_never_reaches_final_time_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("TENOR_MAX_STEPS", "50")
    model = load_model(_mdl(tmp_path, {"x": "1", **_SETTINGS, "FINAL TIME": "Time + 1"}))
    with pytest.raises(SimulationError, match="passed 50 time steps"):
        simulate(model)


def test_time_step_that_turns_zero_is_refused(tmp_path):
    model = load_model(_mdl(tmp_path, {"x": "1", **_SETTINGS, "TIME STEP": "IF THEN ELSE(Time < 1, 1, 0)"}))
    with pytest.raises(SimulationError, match="TIME STEP is 0 at time 1; it must be a positive number"):
        simulate(model)


def test_a_variable_using_a_changing_setting_is_refused(tmp_path):
    path = _mdl(tmp_path, {"x": "TIME STEP * 2", **_SETTINGS, "TIME STEP": "IF THEN ELSE(Time < 2, 1, 0.5)"})
    with pytest.raises(SpecError) as err:
        load_model(path)
    assert err.value.line == 2 and "x uses TIME STEP, which changes during the run" in err.value.message
    assert "--engine pysd" in err.value.hint


def test_initial_time_from_a_model_variable_is_refused(tmp_path):
    path = _mdl(tmp_path, {"start": "2", **_SETTINGS, "INITIAL TIME": "start"})
    with pytest.raises(SpecError, match="INITIAL TIME uses the model variable"):
        load_model(path)


def test_constant_settings_keep_the_fixed_axis(tmp_path):
    model = load_model(_mdl(tmp_path, {"stock": "INTEG(Time, 0)", **_SETTINGS}))
    assert model.time_equations is None


def test_rules_match_pysd_time():
    # PySD's Time: saved when (t - start) is a multiple of SAVEPER within TIME STEP * 1e-5; goes on while
    # t + TIME STEP * 1e-5 < FINAL TIME
    assert is_saved(10.0, 5.0, 5e-6) and not is_saved(10.5, 5.0, 5e-6) and is_saved(0.3 - 0.1, 0.1, 1e-6)
    assert goes_on(49.5, 50.0, 0.5) and not goes_on(50.0 - 1e-7, 50.0, 0.5)
    assert one_value("saveper", 2.0, 3, 0.0) == 2.0


@pytest.mark.parametrize(("folder", "rows", "last"), [("control_vars", 25, 50.0), ("dynamic_final_time", 29, 28.0)])
def test_suite_models_match_vensim(folder, rows, last):
    from suite import compare, read_canonical, run_tenor

    path = next((SUITE / folder).glob("*.mdl"))
    frame = run_tenor(path)
    assert len(frame) == rows and frame.index[-1] == last
    assert compare(frame, read_canonical(path.parent / "output.tab")) is None


def test_agrees_with_pysd(tmp_path):
    from stocks_flows.pysd_runner import run_pysd_file

    path = _mdl(
        tmp_path,
        {
            "level": "INTEG(level * 0.5 + Time, 1)",
            **_SETTINGS,
            "FINAL TIME": "IF THEN ELSE(level > 20, Time, 100)",
            "TIME STEP": "IF THEN ELSE(Time < 2, 0.5, 0.25)",
            "SAVEPER": "IF THEN ELSE(Time < 3, 0.5, 1)",
        },
    )
    ours = simulate(load_model(path)).frame()
    theirs = run_pysd_file(path)
    assert ours["time"].tolist() == theirs["time"].tolist()
    np.testing.assert_allclose(ours["level"], theirs["level"], rtol=1e-12)


def test_analyses_that_need_the_saved_times_up_front_are_refused(tmp_path):
    from stocks_flows._partials import run_for_analysis

    model = load_model(_mdl(tmp_path, _GROWTH))
    with pytest.raises(SimulationError, match="this model's FINAL TIME change during the run"):
        run_for_analysis(model, every_step=True)
    assert run_for_analysis(model).time.tolist() == [0.0, 1.0, 2.0, 3.0]  # a plain run is fine
    from stocks_flows.dominance import loop_dominance
    from stocks_flows.loops import find_loops

    with pytest.raises(SimulationError, match="loop dominance"):
        loop_dominance(model, run_for_analysis(model))
    assert find_loops(model).loops  # gains over the plain run


def test_xmile_stop_computed_during_the_run(tmp_path):
    # <sim_specs> read as equations, as PySD's translator reads them: the run stops when level > 3, at t = 3
    path = tmp_path / "growth.xmile"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">\n'
        '<header><name>growth</name><vendor>v</vendor><product version="1">p</product></header>\n'
        '<sim_specs method="Euler" time_units="Months"><start>0</start>\n'
        "<stop>IF level &gt; 3 THEN TIME ELSE 100</stop><dt>1</dt></sim_specs>\n"
        '<model><variables><stock name="level"><eqn>1</eqn><inflow>growth</inflow></stock>\n'
        '<flow name="growth"><eqn>level * 0.5</eqn></flow></variables></model></xmile>\n',
        encoding="utf-8",
    )
    run = simulate(load_model(path))
    assert run.time.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert run.frame()["level"].tolist() == [1.0, 1.5, 2.25, 3.375]
