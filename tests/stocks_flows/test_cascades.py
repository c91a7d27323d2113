"""DELAY N and SMOOTH N: ``delayn`` and ``smoothn``, n first-order stages each of time constant T / n.

The answers checked: the orders 1 and 3 are the engine's ``delay1``/``delay3`` and
``smooth1``/``smooth3`` exactly; the step response of n stages is the Erlang
distribution's cumulative function (Sterman, *Business Dynamics*, 2000, ch. 11:
the output of an nth-order delay after a unit step is 1 - sum_{k<n} e^{-nt/T} (nt/T)^k / k!);
a material delay loses nothing. The SDXorg suite's DELAY N models are checked against
Vensim's output in tests/conformance.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from stocks_flows.engine import simulate
from stocks_flows.kernel import unsupported_reason
from stocks_flows.load import load_model
from tenor.core.errors import SimulationError, SpecError

ROOT = Path(__file__).resolve().parents[2]
CASCADES = ROOT / "tests" / "data" / "stocks_flows" / "cascades.yaml"


def _model(tmp_path: Path, auxiliaries: dict[str, str], dt: float = 0.125, stop: float = 20.0, extra: str = ""):
    lines = [
        "name: cascade_test",
        f"time: {{start: 0, stop: {stop}, dt: {dt}}}",
        "constants:",
        "  tau: 4",
        "  stages: 5",
        "auxiliaries:",
        "  x: {equation: '10 + step(5, 2) - step(5, 6)'}",
        *(f"  {name}: {{equation: '{eq}'}}" for name, eq in auxiliaries.items()),
        extra,
    ]
    path = tmp_path / "model.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_model(path)


def _column(run, name: str) -> np.ndarray:
    return run.values[0, :, run.variables.index(name)]


@pytest.mark.parametrize(
    ("cascade", "fixed"), [("delayn", "delay1"), ("delayn", "delay3"), ("smoothn", "smooth1"), ("smoothn", "smooth3")]
)
def test_orders_one_and_three_are_the_fixed_order_functions(tmp_path: Path, cascade: str, fixed: str) -> None:
    order = fixed[-1]
    run = simulate(_model(tmp_path, {"a": f"{cascade}(x, tau, 7, {order})", "b": f"{fixed}(x, tau, 7)"}))
    np.testing.assert_array_equal(_column(run, "a"), _column(run, "b"))


@pytest.mark.parametrize("n", [2, 4, 7])
def test_the_step_response_is_the_erlang_distribution(tmp_path: Path, n: int) -> None:
    dt, tau = 1 / 256, 4.0
    model = _model(tmp_path, {"s": f"smoothn(step(1, 0), tau, 0, {n})", "d": f"delayn(step(1, 0), tau, 0, {n})"}, dt)
    run = simulate(model)
    t = np.asarray(run.time)
    erlang = 1 - sum(np.exp(-n * t / tau) * (n * t / tau) ** k / math.factorial(k) for k in range(n))
    np.testing.assert_allclose(_column(run, "s"), erlang, atol=2e-3)  # Euler with dt = tau / 1024
    np.testing.assert_allclose(_column(run, "d"), erlang, atol=2e-3)
    assert abs(_column(run, "s")[-1] - erlang[-1]) < 1e-3


def test_a_material_delay_loses_nothing(tmp_path: Path) -> None:
    extra = "\n".join(
        [
            "stocks:",
            "  sent: {initial: 0}",
            "  received: {initial: 0}",
            "flows:",
            "  sending: {to: sent, equation: 'x'}",
            "  arriving: {to: received, equation: 'delayn(x, tau, 10, stages)'}",
        ]
    )
    run = simulate(_model(tmp_path, {}, dt=0.0625, stop=80.0, extra=extra))
    sent, received = _column(run, "sent"), _column(run, "received")
    # what entered by the end (10 per unit of time, 5 more between 2 and 6) has all come out
    assert sent[-1] == pytest.approx(80 * 10 + 20)
    assert received[-1] == pytest.approx(sent[-1], rel=1e-9)
    assert np.all(sent - received >= -1e-9)  # what is in transit is never negative here


def test_the_bundled_model_runs_with_the_numpy_engine_when_the_kernel_cannot() -> None:
    model = load_model(CASCADES)
    reason = unsupported_reason(model, list(model.variables))
    assert reason is not None and ("delayn" in reason or "smoothn" in reason)
    auto = simulate(model, kernel="auto")
    np.testing.assert_array_equal(auto.values, simulate(model, kernel="numpy").values)
    with pytest.raises(SimulationError, match="compiled kernel cannot run"):
        simulate(model, kernel="compiled")


@pytest.mark.parametrize(
    ("order", "shown"), [("2.5", "(it is 2.5)"), ("0", "(it is 0)"), ("stages / 2", "(it is 2.5)")]
)
def test_a_constant_order_that_is_not_a_whole_number_is_refused_with_its_line(
    tmp_path: Path, order: str, shown: str
) -> None:
    if order == "stages / 2":  # an expression is read when the run starts, so it is refused then
        with pytest.raises(SimulationError) as run_err:
            simulate(_model(tmp_path, {"a": f"delayn(x, tau, 7, {order})"}))
        assert run_err.value.message.startswith("a: delayn(): the order is 2.5 when the run starts")
        return
    with pytest.raises(SpecError) as err:
        _model(tmp_path, {"a": f"delayn(x, tau, 7, {order})"})
    problem = err.value.diagnostics[0]
    assert problem.line == 8 and problem.key == "auxiliaries.a.equation"  # the line of a's equation
    assert problem.message.endswith(shown) and "whole number of at least 1" in problem.message


@pytest.mark.parametrize("cascade", ["delayn", "smoothn"])
def test_an_order_given_by_an_expression_is_read_once_when_the_run_starts(tmp_path: Path, cascade: str) -> None:
    # Vensim and PySD fix the stages at the start: 2 + step(1, 10) is 2 for the whole run.
    # By hand, Euler with dt = 1, tau = 4, 2 stages (each moves half the gap a step), a unit step at 0:
    # stage 1: 0, 1/2, 3/4, 7/8, 15/16; stage 2 (the output): 0, 0, 1/4, 1/2, 11/16.
    model = _model(
        tmp_path,
        {"a": f"{cascade}(step(1, 0), tau, 0, 2 + step(1, 10))", "b": f"{cascade}(step(1, 0), tau, 0, 2)"},
        dt=1.0,
    )
    run = simulate(model)
    np.testing.assert_array_equal(_column(run, "a")[:5], [0.0, 0.0, 0.25, 0.5, 0.6875])
    np.testing.assert_array_equal(_column(run, "a"), _column(run, "b"))  # still 2 stages after time 10
    three = simulate(_model(tmp_path, {"c": f"{cascade}(step(1, 0), tau, 0, 3)"}, dt=1.0))
    assert np.abs(_column(run, "a")[12:] - _column(three, "c")[12:]).max() > 1e-3


def test_an_order_that_differs_between_scenarios_is_refused() -> None:
    model = load_model(CASCADES)
    with pytest.raises(SimulationError, match="order differs between scenarios"):
        simulate(model, {"stages": [5.0, 6.0]}, kernel="numpy")
    with pytest.raises(SimulationError, match="not a whole number"):
        simulate(model, {"stages": [2.5]}, kernel="numpy")
    swept = simulate(model, {"stages": [3.0, 3.0]}, kernel="numpy")
    assert swept.values.shape[0] == 2
