"""Stock-and-flow models: a declarative spec, XMILE in and out, PySD and a vectorised engine.

The flow of data is one way: YAML (or XMILE, Vensim) -> :class:`ModelSpec` -> :class:`Model`
-> runs (:func:`simulate`, :func:`run_pysd`, :func:`run_scenarios`) or XMILE (:func:`write_xmile`).
"""

from stocks_flows.engine import Run, simulate
from stocks_flows.load import load_model, parse_model, parse_spec, read_model, read_spec
from stocks_flows.model import Lookup, Model, Scenario, TimeSettings, Variable, build_model
from stocks_flows.pysd_runner import run_pysd, run_pysd_scenarios
from stocks_flows.scenarios import (
    ParameterTable,
    grid,
    monte_carlo,
    parse_assignment,
    parse_grid,
    parse_sample,
    run_named_scenarios,
    run_scenarios,
    single,
    write_table,
)
from stocks_flows.spec import ModelSpec, json_schema
from stocks_flows.xmile import generate_xmile, read_vensim, read_xmile, write_xmile

__all__ = [
    "Lookup",
    "Model",
    "ModelSpec",
    "ParameterTable",
    "Run",
    "Scenario",
    "TimeSettings",
    "Variable",
    "build_model",
    "generate_xmile",
    "grid",
    "json_schema",
    "load_model",
    "monte_carlo",
    "parse_assignment",
    "parse_grid",
    "parse_model",
    "parse_sample",
    "parse_spec",
    "read_model",
    "read_spec",
    "read_vensim",
    "read_xmile",
    "run_named_scenarios",
    "run_pysd",
    "run_pysd_scenarios",
    "run_scenarios",
    "simulate",
    "single",
    "write_table",
    "write_xmile",
]
