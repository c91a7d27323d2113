"""SAMPLE IF TRUE and ACTIVE INITIAL: ``sample_if_true`` and ``active_initial``.

Vensim's definitions: SAMPLE IF TRUE(condition, input, initial) is the input while the
condition holds and otherwise the last value it took (the initial value before the condition
first holds); ACTIVE INITIAL(active, initial) is the initial value while the model's initial
values are computed and the active equation after. The SDXorg suite's models of both are
checked against Vensim's output in tests/conformance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stocks_flows.engine import simulate
from stocks_flows.kernel import unsupported_reason
from stocks_flows.load import load_model
from tenor.core.errors import SimulationError

ROOT = Path(__file__).resolve().parents[2]
HELD = ROOT / "tests" / "data" / "stocks_flows" / "held_values.yaml"


def _column(run, name: str) -> np.ndarray:
    return run.values[0, :, run.variables.index(name)]


def test_a_sample_is_held_between_the_times_the_condition_holds() -> None:
    run = simulate(load_model(HELD))
    t = np.asarray(run.time)
    # target = 20 + 2t, sampled when t is a multiple of 4 (t = 0 among them), held in between
    np.testing.assert_array_equal(_column(run, "sampled"), 20 + 2 * 4 * np.floor(t / 4))


def test_the_initial_value_shows_until_the_condition_first_holds(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\ntime: {start: 0, stop: 6, dt: 0.25}\n"
        "auxiliaries:\n"
        "  late: {equation: 'sample_if_true(time >= 3, 10 * time, -1)'}\n"
        "  pulsed: {equation: 'sample_if_true(time > 1 and time < 2, time, 7)'}\n"
    )
    run = simulate(load_model(path))
    t = np.asarray(run.time)
    np.testing.assert_array_equal(_column(run, "late"), np.where(t >= 3, 10 * t, -1))
    expected = np.where(t <= 1, 7, np.where(t < 2, t, 1.75))  # the last time sampled is 1.75
    np.testing.assert_array_equal(_column(run, "pulsed"), expected)


def test_active_initial_breaks_a_circle_of_initial_values() -> None:
    run = simulate(load_model(HELD))
    assert _column(run, "level")[0] == 10.0  # gap * 2 with gap's initial value, 5
    assert _column(run, "gap")[0] == 20.0 - 10.0  # after the start: sampled - level


def test_without_active_initial_the_circle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "circle.yaml"
    path.write_text(HELD.read_text().replace("active_initial(sampled - level, 5)", "sampled - level"))
    with pytest.raises(SimulationError, match="initial values depend on each other in a circle"):
        simulate(load_model(path))


def test_the_numpy_engine_runs_what_the_kernel_cannot() -> None:
    model = load_model(HELD)
    reason = unsupported_reason(model, list(model.variables))
    assert reason is not None and ("sample_if_true" in reason or "active_initial" in reason)
    np.testing.assert_array_equal(simulate(model, kernel="auto").values, simulate(model, kernel="numpy").values)


def test_scenarios_are_sampled_each_on_its_own() -> None:
    model = load_model(HELD)
    run = simulate(model, {"every": [4.0, 3.0]})
    t = np.asarray(run.time)
    for i, every in enumerate((4.0, 3.0)):
        np.testing.assert_array_equal(
            run.values[i, :, run.variables.index("sampled")], 20 + 2 * every * np.floor(t / every)
        )
