"""Data files named by a Vensim model (GET XLS / GET DIRECT, DATA variables): stocks_flows.external.

Every sheet here is written by the test (openpyxl, csv) with values chosen so that the expected
numbers can be worked out by hand; the comments give the working. Vensim's conventions followed:
Vensim's reference manual, "GET XLS CONSTANTS", "GET XLS LOOKUPS", "GET XLS DATA" and "Data
Variables" (keywords INTERPOLATE, HOLD BACKWARD, LOOK FORWARD, RAW).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName

from stocks_flows.engine import _lookup_fn, simulate
from stocks_flows.external import (
    cell_name,
    cell_position,
    column_number,
    fill_missing,
    reference_line,
    table_shape,
)
from stocks_flows.model import Lookup
from stocks_flows.xmile import generate_xmile, read_vensim, read_xmile, write_xmile
from tenor.core.errors import ExportError, SpecError, TenorError

CONTROL = """FINAL TIME = {stop}
\t~\tMonth\t~\t|
INITIAL TIME = 0
\t~\tMonth\t~\t|
SAVEPER = {dt}
\t~\tMonth\t~\t|
TIME STEP = {dt}
\t~\tMonth\t~\t|
"""


def write_model(folder, equations: str, stop: float = 4, dt: float = 1):
    """A Vensim model of these equations (each ends with ``~ ~ |``) in ``folder``."""
    path = folder / "model.mdl"
    path.write_text("{UTF-8}\n" + equations + CONTROL.format(stop=stop, dt=dt), encoding="utf-8")
    return path


def write_book(path, sheets: dict[str, list[list[object]]], names: dict[str, str] | None = None) -> None:
    """An .xlsx workbook: rows from A1 on, one list per sheet; ``names`` are global named ranges."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    for name, ref in (names or {}).items():
        book.defined_names[name] = DefinedName(name, attr_text=ref)
    book.save(path)


def run(path, **kw):
    model = read_vensim(path, **kw)
    return model, simulate(model).frame(0).set_index("time")


# --- cell references and shapes ---------------------------------------------------------------


def test_cells_are_read_as_vensim_writes_them():
    assert cell_position("A1") == (0, 0)
    assert cell_position("c5") == (4, 2)
    assert cell_position("$AB$12") == (11, 27)  # AB = 26 + 2 = 28th column
    assert cell_position("A0") is None  # no row 0: a named range's name
    assert cell_position("value1") is None
    assert column_number("Z") == 25 and column_number("AA") == 26 and column_number("AAA") == 702
    for row, col in [(0, 0), (4, 25), (9, 26), (99, 702)]:
        assert cell_position(cell_name(row, col)) == (row, col)


def test_a_block_has_the_shape_of_the_subscripts_with_several_elements():
    assert table_shape([]) == (1, 1)
    assert table_shape([3]) == (1, 3)  # one subscript: a row
    assert table_shape([3, 1]) == (1, 3)  # an element (one of a range) does not count
    assert table_shape([2, 3]) == (2, 3)
    with pytest.raises(ValueError):
        table_shape([2, 2, 2])


# --- filling missing values -------------------------------------------------------------------


def test_missing_values_are_filled_by_the_interpolation_method():
    xs = np.array([0.0, 1, 2, 3, 4])
    ys = np.array([np.nan, 10, np.nan, 30, np.nan])
    # before the first value and after the last one: the nearest value, whatever the method
    assert fill_missing(xs, ys, "interpolate").tolist() == [10, 10, 20, 30, 30]
    assert fill_missing(xs, ys, "hold_backward").tolist() == [10, 10, 10, 30, 30]
    assert fill_missing(xs, ys, "look_forward").tolist() == [10, 10, 30, 30, 30]


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(-100, 100)), min_size=2, max_size=12).filter(
        lambda v: any(x is not None for x in v)
    ),
    st.sampled_from(["interpolate", "hold_backward", "look_forward"]),
)
def test_filling_keeps_the_known_values_and_stays_within_them(values, mode):
    ys = np.array([np.nan if v is None else v for v in values])
    xs = np.arange(len(ys), dtype=float)
    out = fill_missing(xs, ys, mode)
    known = ~np.isnan(ys)
    assert np.array_equal(out[known], ys[known])
    assert not np.isnan(out).any()
    assert out.min() >= ys[known].min() - 1e-12 and out.max() <= ys[known].max() + 1e-12
    if mode != "interpolate":  # a step method only repeats values it was given
        assert set(out.tolist()) <= set(ys[known].tolist())


# --- the engine's tables read by Vensim's keywords ----------------------------------------------


def test_lookup_modes_between_and_beyond_the_points():
    xs, ys = (0.0, 2.0, 4.0), (1.0, 5.0, 3.0)
    at = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert _lookup_fn(Lookup(xs, ys)).__call__(at).tolist() == [1, 1, 3, 5, 4, 3, 3]
    assert _lookup_fn(Lookup(xs, ys, mode="hold_backward"))(at).tolist() == [1, 1, 1, 5, 5, 3, 3]
    assert _lookup_fn(Lookup(xs, ys, mode="look_forward"))(at).tolist() == [1, 1, 5, 5, 3, 3, 3]
    raw = _lookup_fn(Lookup(xs, ys, mode="raw"))(at)
    assert np.array_equal(raw, [np.nan, 1, np.nan, 5, np.nan, 3, np.nan], equal_nan=True)
    # a time that is a point up to rounding (0.1 * 20 is not exactly 2.0) is that point
    assert _lookup_fn(Lookup(xs, ys, mode="look_forward"))(np.array([0.1 * 20])).tolist() == [5.0]


# --- GET XLS / GET DIRECT from hand-made sheets -----------------------------------------------


def test_constants_a_row_a_column_and_a_named_range(tmp_path):
    write_book(
        tmp_path / "data.xlsx",
        {"Inputs": [["", 1, 2, 3], ["", 10], ["", 20], ["", 30], [], [7, 8], [9, 10]]},
        names={"block": "Inputs!$A$6:$B$7"},
    )
    path = write_model(
        tmp_path,
        """dim:\n\ta, b, c\n\t~\t~\t|
two:\n\tp, q\n\t~\t~\t|
other two <-> two\n\t~\t~\t|
across[dim]=\n\tGET DIRECT CONSTANTS('data.xlsx', 'inputs', 'B1')\n\t~\t~\t|
down[dim]=\n\tGET XLS CONSTANTS('data.xlsx', 'Inputs', 'B2*')\n\t~\t~\t|
table[two, other two]=\n\tGET DIRECT CONSTANTS('data.xlsx', 'Inputs', 'block')\n\t~\t~\t|
one=\n\tGET DIRECT CONSTANTS('data.xlsx', 'Inputs', 'D1')\n\t~\t~\t|
""",
    )
    model = read_vensim(path)
    value = {n: v.value for n, v in model.variables.items()}
    # B1:D1 across (the sheet's name matched without case), B2:B4 down (the *), A6:B7 by name
    assert [value[f"across[{e}]"] for e in "abc"] == [1, 2, 3]
    assert [value[f"down[{e}]"] for e in "abc"] == [10, 20, 30]
    assert [value[f"table[{r},{c}]"] for r in "pq" for c in "pq"] == [7, 8, 9, 10]
    assert value["one"] == 3


def test_lookups_and_data_by_row_with_each_keyword(tmp_path):
    # times 0, 2, 4 in row 1 from B1; element a's values in row 2, b's in row 3
    write_book(tmp_path / "series.xlsx", {"S": [["t", 0, 2, 4], ["a", 1, 5, 3], ["b", 0, 0, 8]]})
    path = write_model(
        tmp_path,
        """dim:\n\ta, b\n\t~\t~\t|
curve[dim](\n\tGET XLS LOOKUPS('series.xlsx', 'S', '1', 'B2'))\n\t~\t~\t|
on curve[dim]=\n\tcurve[dim](Time)\n\t~\t~\t|
lin[dim]:=\n\tGET XLS DATA('series.xlsx', 'S', '1', 'B2')\n\t~\t~\t|
held[dim]:HOLD BACKWARD::=\n\tGET XLS DATA('series.xlsx', 'S', '1', 'B2')\n\t~\t~\t|
ahead[dim]:LOOK FORWARD::=\n\tGET XLS DATA('series.xlsx', 'S', '1', 'B2')\n\t~\t~\t|
""",
        stop=5,
    )
    _, out = run(path)
    # times 0..5: linear 1,3,5,4,3 then the last value held; a step holds back or looks ahead
    assert out["lin[a]"].tolist() == [1, 3, 5, 4, 3, 3]
    assert out["on curve[a]"].tolist() == [1, 3, 5, 4, 3, 3]
    assert out["held[a]"].tolist() == [1, 1, 5, 5, 3, 3]
    assert out["ahead[a]"].tolist() == [1, 5, 5, 3, 3, 3]
    assert out["lin[b]"].tolist() == [0, 0, 0, 4, 8, 8]


def test_series_down_a_column_with_missing_cells_and_a_csv(tmp_path):
    # column A holds the times (an empty one and a text one: those rows are no points)
    rows = [["time", "v"], [0, 2], [None, 99], [1, None], ["n/a", 50], [3, 8]]
    write_book(tmp_path / "down.xlsx", {"D": rows})
    (tmp_path / "values.csv").write_text("x,y\n0,1\n2,3\n", encoding="utf-8")
    path = write_model(
        tmp_path,
        """v:=\n\tGET DIRECT DATA('down.xlsx', 'D', 'A', 'B2')\n\t~\t~\t|
from csv=\n\tGET DIRECT CONSTANTS('values.csv', ',', 'B3')\n\t~\t~\t|
csv table(\n\tGET DIRECT LOOKUPS('values.csv', ',', 'A', 'B2'))\n\t~\t~\t|
on table=\n\tcsv table(Time)\n\t~\t~\t|
""",
        stop=3,
    )
    _, out = run(path)
    # points (0, 2), (1, missing -> 2 + (8 - 2) / 3 = 4), (3, 8); linear between
    assert out["v"].tolist() == pytest.approx([2, 4, 6, 8])
    assert out["from csv"].tolist() == [3, 3, 3, 3]
    assert out["on table"].tolist() == [1, 2, 3, 3]


def test_subscript_elements_from_a_sheet(tmp_path):
    write_book(tmp_path / "subs.xlsx", {"S": [["", 1, 2, None, 4], ["", 5, 6, 7, 8]]})
    path = write_model(
        tmp_path,
        """dim:\n\tGET DIRECT SUBSCRIPT('subs.xlsx', 'S', 'B1', 'E1', 'p')\n\t~\t~\t|
x[dim]=\n\tGET DIRECT CONSTANTS('subs.xlsx', 'S', 'B2')\n\t~\t~\t|
""",
    )
    model = read_vensim(path)
    assert model.dimensions["dim"] == ("p1", "p2", "p4")  # the empty cell is no element
    assert [model.variables[f"x[{e}]"].value for e in ("p1", "p2", "p4")] == [5, 6, 7]


# --- refusals: each names the model file, the line and the variable ------------------------------


def _refused(tmp_path, equation: str, *, variable: str = "x") -> SpecError:
    path = write_model(tmp_path, f"{variable}=\n\t{equation}\n\t~\t~\t|\n")
    with pytest.raises(SpecError) as err:
        read_vensim(path)
    assert err.value.file == str(path)
    assert err.value.line == 3  # the line of the GET call
    assert err.value.key == variable
    return err.value


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../outside.xlsx", "climbs out of the model's folder"),
        ("/etc/passwd.xlsx", "absolute path"),
        ("C:/data/book.xlsx", "absolute path"),
        ("https://example.org/book.xlsx", "URL"),
        ("?inputs", "indirect reference"),
        ("missing.xlsx", "does not exist"),
    ],
)
def test_a_data_file_outside_the_models_folder_is_refused(tmp_path, name, words):
    (tmp_path.parent / "outside.xlsx").write_bytes(b"")
    err = _refused(tmp_path, f"GET DIRECT CONSTANTS('{name}', 'S', 'A1')")
    assert words in err.message


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links (os.symlink)")
def test_a_link_that_leads_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_book(outside / "book.xlsx", {"S": [[1]]})
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "book.xlsx").symlink_to(outside / "book.xlsx")
    err = _refused(folder, "GET DIRECT CONSTANTS('book.xlsx', 'S', 'A1')")
    assert "link" in err.message


def test_a_missing_sheet_a_bad_cell_and_a_text_cell_are_named(tmp_path):
    write_book(tmp_path / "book.xlsx", {"Data": [[1, "n/a"]]})
    err = _refused(tmp_path, "GET DIRECT CONSTANTS('book.xlsx', 'Other', 'A1')")
    assert err.message.startswith("GET DIRECT CONSTANTS: ")  # the function in the model's words
    assert "'book.xlsx' has no sheet 'Other'" in err.message
    err = _refused(tmp_path, "GET XLS LOOKUPS('book.xlsx', 'Other', '1', 'A2')")
    assert err.message.startswith("GET XLS LOOKUPS: ")
    err = _refused(tmp_path, "GET DIRECT CONSTANTS('book.xlsx', 'Data', 'nowhere')")
    assert "'book.xlsx', sheet 'Data' has no cell or named range 'nowhere'" in err.message
    err = _refused(tmp_path, "GET DIRECT CONSTANTS('book.xlsx', 'Data', 'B1')")
    assert "'book.xlsx', sheet 'Data', cell B1 holds the text 'n/a'" in err.message
    err = _refused(tmp_path, "GET DIRECT CONSTANTS('book.xlsx', 'Data', 'C1')")
    assert "cell C1 is empty" in err.message


def test_a_text_value_in_a_series_names_its_cell(tmp_path):
    # times in row 1 (C1 is text: that point is dropped, as Vensim does); a text value at D3 is an error
    write_book(tmp_path / "book.xlsx", {"S": [[0, 1, "x", 3], [5, 6, 7, 8], [1, 2, 3, "oops"]]})
    path = write_model(tmp_path, "ok:=\n\tGET XLS DATA('book.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n")
    assert read_vensim(path).lookups["ok (data)"].xs == (0.0, 1.0, 3.0)
    write_model(tmp_path, "x:=\n\tGET XLS DATA('book.xlsx', 'S', '1', 'A3')\n\t~\t~\t|\n")
    with pytest.raises(SpecError, match=r"'book.xlsx', sheet 'S', cell D3 holds the text 'oops'") as err:
        read_vensim(path)
    assert err.value.message.startswith("GET XLS DATA: ") and err.value.line == 3


def test_workbooks_are_parsed_without_entity_expansion():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML  # openpyxl parses through defusedxml: no entity bombs from a data file


def test_a_corrupt_workbook_is_a_located_error(tmp_path):
    (tmp_path / "book.xlsx").write_text("not a workbook", encoding="utf-8")
    err = _refused(tmp_path, "GET DIRECT CONSTANTS('book.xlsx', 'S', 'A1')")
    assert "cannot read the data file 'book.xlsx'" in err.message


def test_reference_line_finds_the_definition_that_names_the_cell(tmp_path):
    path = write_model(
        tmp_path,
        "x[a]=\n\tGET DIRECT CONSTANTS('b.xlsx', 'S', 'A1') ~~|\nx[b]=\n\tGET DIRECT CONSTANTS('b.xlsx', 'S', 'A2')\n"
        "\t~\t~\t|\n",
    )
    assert reference_line(str(path), "x", "A2") == 5
    assert reference_line(str(path), "x", "Z9") == 2  # not named: where x is defined


# --- DATA variables with no equation: values given with the run ---------------------------------


def test_a_data_variable_reads_the_data_file_given_to_the_run(tmp_path):
    (tmp_path / "given.tab").write_text("Time\tseries[a]\tseries[b]\n0\t1\t10\n2\t3\t\n4\t5\t30\n", encoding="utf-8")
    path = write_model(
        tmp_path,
        "dim:\n\ta, b\n\t~\t~\t|\nseries[dim]:HOLD BACKWARD:\n\t~\t~\t|\nout[dim]=\n\tseries[dim]\n\t~\t~\t|\n",
    )
    with pytest.raises(SpecError) as err:
        read_vensim(path)
    assert "data file given with the run" in err.value.message and err.value.key == "series"
    _, out = run(path, data_files=[tmp_path / "given.tab"])
    assert out["out[a]"].tolist() == [1, 1, 3, 3, 5]
    assert out["out[b]"].tolist() == [10, 10, 10, 10, 30]  # the missing value at 2 held from 0


def test_a_raw_gap_stops_the_run_with_a_reason(tmp_path):
    write_book(tmp_path / "s.xlsx", {"S": [[0, 2], [1, 3]]})
    path = write_model(tmp_path, "r:RAW::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n", stop=2)
    model = read_vensim(path)
    with pytest.raises(TenorError) as err:
        simulate(model)
    assert "RAW" in (err.value.hint or "")


# --- export ------------------------------------------------------------------------------------


def test_export_writes_hold_backward_as_discrete_and_refuses_look_forward(tmp_path):
    write_book(tmp_path / "s.xlsx", {"S": [[0, 2, 4], [1, 3, 5]]})
    held = write_model(tmp_path, "h:HOLD BACKWARD::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n")
    text = generate_xmile(read_vensim(held))
    assert '<gf name="h (data)" type="discrete">' in text
    ahead = write_model(tmp_path, "f:LOOK FORWARD::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n")
    with pytest.raises(ExportError, match="LOOK FORWARD"):
        generate_xmile(read_vensim(ahead))


def test_a_scenario_gives_a_data_table_new_points_read_the_same_way(tmp_path):
    from stocks_flows.scenario_file import parse_scenarios

    write_book(tmp_path / "s.xlsx", {"S": [[0, 2, 4], [1, 3, 5]]})
    path = write_model(tmp_path, "h:HOLD BACKWARD::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n")
    model = read_vensim(path)
    found = parse_scenarios('scenarios: {new: {lookups: {"h (data)": {points: [[0, 10], [3, 40]]}}}}', model)
    assert found["new"].lookups["h (data)"] == Lookup((0.0, 3.0), (10.0, 40.0), False, "hold_backward")


def test_cli_simulate_takes_the_data_file_with_data(tmp_path, capsys):
    from tenor.cli.main import main

    (tmp_path / "given.csv").write_text("Time,series\n0,1\n2,3\n", encoding="utf-8")
    path = write_model(tmp_path, "series:HOLD BACKWARD:\n\t~\t~\t|\nout=\n\tseries\n\t~\t~\t|\n", stop=3)
    out = tmp_path / "run.csv"
    assert main(["simulate", str(path), "--out", str(out)]) == 2  # no data file: refused, nothing written
    assert "--data FILE" in capsys.readouterr().err and not out.exists()
    assert main(["simulate", str(path), "--data", str(tmp_path / "given.csv"), "--out", str(out)]) == 0
    import pandas as pd

    assert pd.read_csv(out)["out"].tolist() == [1, 1, 3, 3]


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    st.lists(st.floats(-50, 50), min_size=2, max_size=8, unique=True),
    st.lists(st.floats(-60, 60), min_size=1, max_size=10),
    st.booleans(),
)
def test_the_compiled_step_reads_a_table_as_the_engine_does(xs, at, forward):
    from stocks_flows.kernel_runtime import _step

    xs = np.sort(np.asarray(xs))
    ys = np.arange(len(xs), dtype=float) * 10
    probe = np.concatenate([np.asarray(at), xs, xs * (1 + 1e-15)])  # points and points up to rounding
    mode = "look_forward" if forward else "hold_backward"
    engine = _lookup_fn(Lookup(tuple(xs), tuple(ys), mode=mode))(probe)
    compiled = [_step(float(x), xs, ys, 0, len(xs), forward) for x in probe]
    assert engine.tolist() == compiled


def test_compiled_kernel_and_numpy_engine_agree_on_data_tables(tmp_path):
    write_book(tmp_path / "s.xlsx", {"S": [[0, 1, 2, 3], [1, 4, 2, 8]]})
    path = write_model(
        tmp_path,
        "h:HOLD BACKWARD::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n"
        "f:LOOK FORWARD::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'A2')\n\t~\t~\t|\n"
        "s=\n\tINTEG(h + f, 0)\n\t~\t~\t|\n",
        stop=3,
        dt=0.1,  # 0.1 * k is a data time only up to rounding
    )
    model = read_vensim(path)
    numpy_run = simulate(model, kernel="numpy").frame(0)
    compiled = simulate(model, kernel="compiled").frame(0)[list(numpy_run.columns)]
    assert np.array_equal(numpy_run.to_numpy(), compiled.to_numpy())
    assert numpy_run.set_index("time")["h"].iloc[10] == 4  # at t = 1.0 (ten steps of 0.1): the point itself


def test_pysd_runs_the_data_tables_as_the_engine_does(tmp_path):
    from stocks_flows.pysd_runner import run_pysd

    write_book(tmp_path / "s.xlsx", {"S": [["", 0, 1.5, 3], ["a", 1, 4, 2], ["b", 0, 5, None]]})
    path = write_model(
        tmp_path,
        "dim:\n\ta, b\n\t~\t~\t|\n"
        "lin[dim]:=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'B2')\n\t~\t~\t|\n"
        "held[dim]:HOLD BACKWARD::=\n\tGET XLS DATA('s.xlsx', 'S', '1', 'B2')\n\t~\t~\t|\n"
        "s[dim]=\n\tINTEG(lin[dim] + held[dim], 0)\n\t~\t~\t|\n",
        stop=4,
        dt=0.25,
    )
    model = read_vensim(path)
    ours = simulate(model).frame(0)
    write_xmile(model, tmp_path / "exported.xmile")  # the data go into the file as graphical functions
    theirs = run_pysd(read_xmile(tmp_path / "exported.xmile"))[list(ours.columns)]
    np.testing.assert_allclose(theirs.to_numpy(), ours.to_numpy(), rtol=1e-9, atol=1e-12)
