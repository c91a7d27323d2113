"""Named scenarios and sweeps in one engine pass (stocks_flows.batch).

The teacup of Newton's law of cooling is the published answer: with Euler steps of ``dt`` the
temperature after n steps is ``room + (T0 - room) * (1 - dt / tau) ** n`` exactly (the Euler
recursion of T' = -(T - room) / tau; Sterman, *Business Dynamics*, 2000, ch. 8 on first-order
negative feedback).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows.batch import Batch, constant_values, element_names, run_batch, run_sweep
from stocks_flows.engine import simulate
from stocks_flows.load import load_model, parse_model
from tenor.core.errors import TenorError

DATA = Path(__file__).resolve().parents[1] / "data"
TEACUP = load_model(DATA / "stocks_flows" / "teacup.yaml")
TENORS = parse_model(
    "time: {stop: 4}\n"
    "dimensions: {tenor: [bills, 10y, 30y]}\n"
    "constants: {rate: {dimensions: [tenor], value: {bills: 0.5, 10y: 0.1, 30y: 0.2}}, k: 1}\n"
    "stocks: {held: {dimensions: [tenor], initial: 10}}\n"
    "flows: {sold: {dimensions: [tenor], from: held, equation: k * rate * held}}\n"
)


def _euler_teacup(room: float, start: float, tau: float, time: np.ndarray, dt: float) -> np.ndarray:
    return room + (start - room) * (1 - dt / tau) ** np.round(time / dt)


def test_each_scenario_follows_the_euler_solution_of_newtons_cooling():
    batch = run_batch(
        TEACUP,
        {"base": {}, "cold_room": {"room_temperature": 40}, "hot_tea": {"teacup_temperature": 210}},
        outputs=["teacup_temperature"],
    )
    assert list(batch) == ["base", "cold_room", "hot_tea"] and len(batch) == 3
    dt = TEACUP.time.dt
    for name, (room, start) in {"base": (70, 180), "cold_room": (40, 180), "hot_tea": (70, 210)}.items():
        expected = _euler_teacup(room, start, 10.0, batch.time, dt)
        np.testing.assert_allclose(batch[name]["teacup_temperature"], expected, rtol=1e-12)
    frame = batch.frame("cold_room")
    assert list(frame.columns) == ["time", "teacup_temperature"]


def test_sweep_points_and_which_setting_wins():
    scenarios = {"cold_room": {"room_temperature": 40}, "slow": {"characteristic_time": 20}}
    points = [{}, {"room_temperature": 100}]
    by_scenario = run_sweep(TEACUP, scenarios, points, outputs=["teacup_temperature"])
    by_point = run_sweep(TEACUP, scenarios, points, outputs=["teacup_temperature"], prefer="point")
    final = {
        (prefer, i, name): float(b[name]["teacup_temperature"][-1])
        for prefer, batches in (("scenario", by_scenario), ("point", by_point))
        for i, b in enumerate(batches)
        for name in b
    }
    t, dt = by_scenario[0].time[-1], TEACUP.time.dt
    room_of = {0: 70.0, 1: 100.0}
    for i in (0, 1):
        # the scenario's room wins over the point's, unless the point is preferred
        assert final["scenario", i, "cold_room"] == pytest.approx(_euler_teacup(40, 180, 10, t, dt))
        assert final["point", i, "cold_room"] == pytest.approx(_euler_teacup(40 if i == 0 else 100, 180, 10, t, dt))
        # a setting only one of them makes is kept either way
        for prefer in ("scenario", "point"):
            assert final[prefer, i, "slow"] == pytest.approx(_euler_teacup(room_of[i], 180, 20, t, dt))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "rate[10y]": st.floats(0.0, 1.0),
                "k": st.floats(0.0, 2.0),
                "held[bills]": st.floats(0.0, 50.0),
                "rate": st.floats(0.0, 1.0),
            },
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_batch_is_its_scenarios_run_one_at_a_time(settings_list):
    """Running scenarios together changes nothing: each equals its own run of the engine."""
    scenarios = {f"s{i}": s for i, s in enumerate(settings_list) if not ("rate" in s and "rate[10y]" in s)}
    if not scenarios:
        return
    batch = run_batch(TENORS, scenarios)
    for name, setting in scenarios.items():
        alone = simulate(TENORS, {k: [v] for k, v in _expanded(setting).items()} or None)
        got = batch[name]
        for j, variable in enumerate(alone.variables):
            np.testing.assert_array_equal(got[variable], alone.values[0, :, j])


def _expanded(setting: dict[str, float]) -> dict[str, float]:
    out = {}
    for name, value in setting.items():
        for scalar in element_names(TENORS, name):
            out[scalar] = value
    return out


def test_constant_values_and_element_names():
    assert constant_values(TENORS) == {"rate[bills]": 0.5, "rate[10y]": 0.1, "rate[30y]": 0.2, "k": 1.0}
    assert element_names(TENORS, "held") == ["held[bills]", "held[10y]", "held[30y]"]
    assert element_names(TENORS, "k") == ["k"]
    with pytest.raises(TenorError, match="unknown variable 'helt'") as err:
        element_names(TENORS, "helt")
    assert "held" in (err.value.hint or "")


def test_bad_settings_name_the_scenario_and_the_fix():
    with pytest.raises(TenorError, match=r"scenario 'warm'.*unknown parameter 'room_temp'") as err:
        run_batch(TEACUP, {"warm": {"room_temp": 90}})
    assert "room_temperature" in (err.value.hint or "")
    with pytest.raises(TenorError, match=r"sweep point 1.*heat_loss_to_room"):
        run_sweep(TEACUP, {"base": {}}, [{}, {"heat_loss_to_room": 1.0}])
    with pytest.raises(TenorError, match="unknown variable 'teacup_temp'"):
        run_batch(TEACUP, {"base": {}}, outputs=["teacup_temp"])
    with pytest.raises(TenorError, match="no scenario 'bse'"):
        run_batch(TEACUP, {"base": {}})["bse"]


def test_batch_is_a_mapping_of_series():
    batch = run_batch(TEACUP, {"a": {}, "b": {"room_temperature": 0.0}}, times=[0.0, 10.0, 30.0])
    assert isinstance(batch, Batch)
    assert batch.time.tolist() == [0.0, 10.0, 30.0]
    assert set(batch["a"]) == set(batch.variables)
    assert batch.values.shape == (2, 3, len(batch.variables))
