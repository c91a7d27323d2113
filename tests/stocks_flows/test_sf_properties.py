"""Invariants on generated models: accumulation, agreement with PySD, sweeps of one."""

from __future__ import annotations

import numpy as np
import sf_strategies as specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sf_support import MODELS, assert_runs_equal

from stocks_flows.engine import simulate
from stocks_flows.load import load_model
from stocks_flows.model import build_model
from stocks_flows.pysd_runner import run_pysd
from stocks_flows.scenarios import grid, run_scenarios, single
from stocks_flows.spec import ModelSpec


@given(specs.models())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_stock_change_equals_integral_of_net_flow(data):
    model = build_model(ModelSpec.model_validate(data))
    run = simulate(model, on_nonfinite="keep")
    dt = model.time.dt
    for stock in model.stocks:
        var = model.variables[stock]
        if var.non_negative:
            continue
        s = run.values[0, :, run.variables.index(stock)]
        net = sum(run.values[0, :, run.variables.index(f)] for f in var.inflows) - sum(
            (run.values[0, :, run.variables.index(f)] for f in var.outflows), np.zeros_like(s)
        )
        integral = np.concatenate([[0.0], np.cumsum(net[:-1] * dt)])
        np.testing.assert_allclose(s - s[0], integral, rtol=1e-9, atol=1e-9 * (1 + np.abs(s).max()))


@given(specs.models())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_vector_engine_equals_pysd_on_generated_models(data):
    model = build_model(ModelSpec.model_validate(data))
    mine = simulate(model, on_nonfinite="keep").frame(0)
    reference = run_pysd(model)
    assert list(mine.columns) == list(reference.columns)
    assert_runs_equal(mine.to_numpy(), reference.to_numpy(), list(mine.columns), mine["time"].to_numpy())


@given(st.floats(min_value=0, max_value=150), st.floats(min_value=1, max_value=30))
@settings(max_examples=25, deadline=None)
def test_one_scenario_sweep_equals_a_single_run(room, tau):
    model = load_model(MODELS / "teacup.yaml")
    swept = run_scenarios(
        model, grid([("room_temperature", np.array([room])), ("characteristic_time", np.array([tau]))])
    )
    one = run_scenarios(model, single([("room_temperature", room), ("characteristic_time", tau)]))
    np.testing.assert_array_equal(swept.values, one.values)
    frame = swept.to_frame()
    assert (frame["room_temperature"] == room).all() and (frame["characteristic_time"] == tau).all()


def _yaml_text(data) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


@given(specs.models())
@settings(max_examples=60, deadline=None)
def test_spec_to_yaml_to_spec_is_the_identity(data):
    from stocks_flows.load import parse_spec

    spec = ModelSpec.model_validate(data)
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert parse_spec(_yaml_text(dumped)) == spec


def test_example_specs_round_trip_through_yaml():
    from stocks_flows.load import parse_spec, read_spec

    for name in ("teacup.yaml", "tenors.yaml", "two_dimensions.yaml"):
        spec = read_spec(MODELS / name)
        dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert parse_spec(_yaml_text(dumped)) == spec
