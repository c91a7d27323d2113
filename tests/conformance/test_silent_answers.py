"""Answers that were once silently wrong: each now matches the suite's canonical output, or is refused.

The expected values come from the canonical outputs of SDXorg/test-models (Vensim's own runs).
"""

from __future__ import annotations

import numpy as np
import pytest
from suite import CASES, SUITE, compare, read_canonical, run_tenor

from stocks_flows.engine import simulate
from stocks_flows.load import load_model
from tenor.core.errors import TenorError


def test_chained_power_is_right_associative():
    # tests/arithmetics: cons4^cons3^cons2 with 4, 3, 2 is 4^(3^2) = 262,144, not (4^3)^2 = 4,096
    frame = run_tenor(SUITE / "arithmetics" / "test_arithmetics.mdl")
    first = frame.iloc[0]
    assert first["expo[sub2]"] == 262144.0
    assert first["expo[sub3]"] == 262144.0
    assert first["expo[sub4]"] == 4096.0
    assert first["expo[sub6]"] == pytest.approx(2 ** (-(2**-3)), rel=1e-12)  # cons2^-cons2^-cons3


@pytest.mark.parametrize("model", ["arithmetics/test_arithmetics.mdl", "arithmetics_exp/test_arithmetics_exp.mdl"])
def test_arithmetics_models_match_canonical(model):
    path = SUITE / model
    assert compare(run_tenor(path), read_canonical(path.parent / "output.tab")) is None


def test_chained_power_in_a_spec_is_right_associative():
    from stocks_flows.engine import simulate
    from stocks_flows.load import parse_model

    text = "time: {stop: 1}\nconstants: {a: 4, b: 3, c: 2}\nauxiliaries:\n  x: {equation: a ^ b ^ c}\n"
    model = parse_model(text)
    assert simulate(model).frame(0)["x"].iloc[0] == 262144.0


def test_subscripted_lookups_keep_one_table_per_element():
    # tests/subscripted_lookups: lookup1dim[A] and lookup1dim[B] are different tables
    path = SUITE / "subscripted_lookups" / "test_subscripted_lookups.mdl"
    frame = run_tenor(path)
    assert compare(frame, read_canonical(path.parent / "output.tab")) is None
    assert not np.allclose(frame["lookup1dimtime[A]"], frame["lookup1dimtime[B]"])


def test_time_settings_that_change_during_the_run_are_followed_by_the_engine():
    # tests/control_vars: FINAL TIME, SAVEPER and TIME STEP depend on Time (25 canonical rows)
    path = SUITE / "control_vars" / "test_control_vars.mdl"
    frame = run_tenor(path)
    assert len(frame) == 25 and list(frame.index[-3:]) == [40.0, 45.0, 50.0]
    assert compare(frame, read_canonical(path.parent / "output.tab")) is None


def test_a_variable_using_a_changing_time_setting_is_refused_by_the_engine(tmp_path):
    path = tmp_path / "uses_time_step.mdl"
    path.write_text(
        "{UTF-8}\nx = TIME STEP * 2\n~~|\nINITIAL TIME = 0\n~~|\nFINAL TIME = 3\n~~|\n"
        "TIME STEP = IF THEN ELSE(Time < 2, 1, 0.5)\n~~|\nSAVEPER = TIME STEP\n~~|\n",
        encoding="utf-8",
    )
    with pytest.raises(TenorError) as err:
        load_model(path)
    assert err.value.line == 2 and "x uses TIME STEP, which changes during the run" in err.value.message
    assert "--engine pysd" in err.value.hint


def test_time_settings_that_change_during_the_run_are_followed_by_pysd():
    from suite import run_tenor_pysd

    path = SUITE / "control_vars" / "test_control_vars.mdl"
    frame = run_tenor_pysd(path)
    assert len(frame) == 25
    assert compare(frame, read_canonical(path.parent / "output.tab")) is None


def test_equations_naming_the_time_settings_run():
    # tests/time: Inflow = IF THEN ELSE(Time = INITIAL TIME, 10, 3), Outflow 1 = Stock / TIME STEP
    path = SUITE / "time" / "test_time.mdl"
    assert compare(run_tenor(path), read_canonical(path.parent / "output.tab")) is None


@pytest.mark.parametrize(
    "model", ["comparisons/comparisons.stmx", "eval_order/eval_order.stmx", "lookups/test_lookups_no-indirect.stmx"]
)
def test_pre_1_0_stella_files_are_read_in_full(model):
    # Stella 10.0 put the variables directly under <model>; they used to load as 0 variables
    path = SUITE / model
    frame = run_tenor(path)
    assert len(frame.columns) > 0
    canonical = next(c.canonical for c in CASES if c.path == path)
    assert compare(frame, read_canonical(canonical)) is None


def test_a_file_with_no_variables_is_refused(tmp_path):
    path = tmp_path / "empty.xmile"
    path.write_text(
        '<?xml version="1.0"?><xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
        "<header/><sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs><model/></xmile>"
    )
    with pytest.raises(TenorError, match="defines no variables"):
        load_model(path)


def test_pysd_sets_one_element_of_an_arrayed_constant():
    # --engine pysd --set 'Matrix_A[da1,db1,dc1]=5' used to stop with PySD's NameError
    from stocks_flows.engine import simulate
    from stocks_flows.pysd_runner import run_pysd

    model = load_model(SUITE / "subscript_numeric_range" / "test_subscript_numeric_range.mdl")
    setting = {"Matrix_A[da1,db1,dc1]": 5.0}
    ours = simulate(model, {k: [v] for k, v in setting.items()}).frame(0)
    theirs = run_pysd(model, setting)[list(ours.columns)]
    before = simulate(model).frame(0)
    assert not np.allclose(ours.to_numpy(), before.to_numpy())
    np.testing.assert_allclose(theirs.to_numpy(), ours.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize(
    "model",
    [
        "trig/test_trig.mdl",  # ARCSIN, ARCCOS, and the hyperbolic functions
        "log/test_log.mdl",  # LOG(x, base)
        "elm_count/test_elm_count.mdl",  # ELMCOUNT(dim)
        "forecast/test_forecast.mdl",  # FORECAST
        "invert_matrix/test_invert_matrix.mdl",  # INVERT MATRIX
        "get_time_value/test_get_time_value_simple.mdl",  # GET TIME VALUE(0, (dim - 20) / 3, 0)
        "na/test_na.mdl",  # :NA:, which Vensim's table shows as a blank
    ],
)
def test_vensim_functions_match_canonical(model):
    path = SUITE / model
    canonical = next(c.canonical for c in CASES if c.path == path)
    assert compare(run_tenor(path), read_canonical(canonical)) is None


def test_refusals_name_the_construct_in_vensim_words_with_line_and_remedy():
    with pytest.raises(TenorError) as err:
        load_model(SUITE / "get_time_value" / "test_get_time_value.mdl")
    assert err.value.message == "GET TIME VALUE with relativeto 1 is not supported"
    assert err.value.line == 10 and err.value.key == "get time 1 dim 0"
    assert "GET TIME VALUE(0, offset, 0)" in err.value.hint
    with pytest.raises(TenorError) as err:
        load_model(SUITE / "subscript_1d_arrays" / "test_subscript_1d_arrays.xmile")
    assert "'???'" in err.value.message and err.value.line == 43


def _delays_with_order(tmp_path, order: str):
    text = (SUITE / "delays" / "test_delays.mdl").read_text()
    assert "2 + STEP(1, 10)" in text
    path = tmp_path / "test_delays.mdl"
    path.write_text(text.replace("2 + STEP(1, 10)", order))
    return path


def test_a_delay_n_order_that_is_not_a_whole_number_is_refused_in_vensim_words(tmp_path):
    # tests/delays gives the order as 2 + STEP(1, 10), read once at the start (2; see results.json)
    with pytest.raises(TenorError) as err:
        load_model(_delays_with_order(tmp_path, "2.5"))  # a constant: refused when read, with its line
    problem = err.value.diagnostics[0]
    assert problem.message == "the order of DELAY N must be a whole number of at least 1 (it is 2.5)"
    assert problem.line == 44 and problem.key == "OutputDelayN"
    model = load_model(_delays_with_order(tmp_path, "2.5 + STEP(1, 10)"))  # an expression: at the start
    with pytest.raises(TenorError) as run_err:
        simulate(model)
    assert run_err.value.message.startswith("OutputDelayN: DELAY N: the order is 2.5 when the run starts")


def test_cli_engine_pysd_runs_a_file_tenor_refuses(tmp_path, capsys):
    from tenor.cli.main import main

    out = tmp_path / "run.csv"
    model = tmp_path / "uses_time_step.mdl"
    model.write_text(
        "{UTF-8}\nx = TIME STEP * 2\n~~|\nINITIAL TIME = 0\n~~|\nFINAL TIME = 3\n~~|\n"
        "TIME STEP = IF THEN ELSE(Time < 2, 1, 0.5)\n~~|\nSAVEPER = TIME STEP\n~~|\n",
        encoding="utf-8",
    )
    # tenor's engine refuses: x uses TIME STEP, which changes during the run
    assert main(["simulate", str(model), "--out", str(out)]) == 2
    assert main(["simulate", str(model), "--engine", "pysd", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "PySD ran the file itself" in err and "5 rows" in err
    import pandas as pd

    frame = pd.read_csv(out)
    assert list(frame["time"]) == [0.0, 1.0, 2.0, 2.5, 3.0]
    assert list(frame["x"]) == [2.0, 2.0, 1.0, 1.0, 1.0]


def test_cli_engine_pysd_runs_a_macro_model_with_set_and_sweep(tmp_path, capsys):
    """tests/macro_stock: EXPRESSION MACRO = INTEG(input, parameter), under PySD and tenor's engine alike."""
    import pandas as pd

    from tenor.cli.main import main

    model = str(SUITE / "macro_stock" / "test_macro_stock.mdl")
    out = tmp_path / "run.csv"
    assert main(["simulate", model, "--engine", "pysd", "--set", "macro input=2", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    # the stock starts at the parameter (1.1) and gains the input (2, set) each unit of time
    assert frame["macro output"].to_list() == pytest.approx([1.1 + 2 * t for t in frame["time"]])
    sweep = tmp_path / "sweep.csv"
    args = ["sweep", model, "--engine", "pysd", "--set", "macro parameter=1:3:3", "--variables", "macro output"]
    assert main([*args, "--times", "0,10", "--out", str(sweep)]) == 0
    runs = pd.read_csv(sweep)
    assert runs["macro output"].to_list() == pytest.approx([1, 51, 2, 52, 3, 53])  # parameter, + 5 x 10
    ours = tmp_path / "ours.csv"
    assert main(["simulate", model, "--set", "macro input=2", "--out", str(ours)]) == 0
    assert pd.read_csv(ours)["macro output"].to_list() == pytest.approx(frame["macro output"].to_list(), rel=1e-12)


def test_cli_engine_pysd_keeps_tenors_reason_when_pysd_cannot_run_it_either(tmp_path, capsys):
    from tenor.cli.main import main

    out = tmp_path / "run.csv"
    model = str(SUITE / "get_constants" / "test_get_constants.mdl")
    assert main(["simulate", model, "--engine", "pysd", "--out", str(out)]) == 2
    assert "GET XLS CONSTANTS" in capsys.readouterr().err
    assert not out.exists()
