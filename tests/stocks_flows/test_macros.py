"""Vensim macros expanded at read time (stocks_flows/macros.py), on small hand-written models.

The expected values are worked out by hand from Euler's method (dt as given):
a stock ``s = INTEG(rate, start)`` is ``start + rate * t`` for a constant rate,
and a first-order smooth of a step of height h at time 2, with averaging time
4 and dt 1, is ``h * (1 - (3/4) ** (t - 2))`` for t >= 2 (0 before).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows.engine import simulate
from stocks_flows.loops import find_loops
from stocks_flows.macros import SEPARATOR, instance_name, macro_line, mark_output_lists, variable_line
from stocks_flows.pysd_runner import run_pysd
from stocks_flows.xmile import generate_xmile, read_vensim, read_xmile
from tenor.core.errors import SpecError

CONTROL = """FINAL TIME = {stop}
	~	Month
	~		|
INITIAL TIME = 0
	~	Month
	~		|
SAVEPER = TIME STEP
	~	Month
	~		|
TIME STEP = {dt}
	~	Month
	~		|
"""


def mdl(tmp_path: Path, body: str, stop: float = 5, dt: float = 1, name: str = "model.mdl") -> Path:
    """A Vensim file: ``body`` (equations written as 'name = equation' lines) plus the time settings."""
    lines = []
    for line in body.strip().splitlines():
        line = line.strip()
        lines.append(line if line.startswith(":") else f"{line}\n\t~\t\n\t~\t\t|")
    path = tmp_path / name
    path.write_text("{UTF-8}\n" + "\n".join(lines) + "\n" + CONTROL.format(stop=stop, dt=dt))
    return path


def run(path: Path):
    return simulate(read_vensim(path)).frame(0).set_index("time")


ACC = """
:MACRO: ACC(rate, start)
ACC = INTEG(rate, start)
:END OF MACRO:
"""


def test_two_calls_of_a_macro_with_a_stock_keep_two_states(tmp_path):
    out = run(mdl(tmp_path, ACC + "slow = ACC(-1, 0) + ACC(3, 1)\nfast = ACC(2, 10)"))
    t = out.index.to_numpy()
    np.testing.assert_allclose(out["slow"], (0 - t) + (1 + 3 * t))  # two stocks: -t and 1 + 3t
    np.testing.assert_allclose(out["fast"], 10 + 2 * t)
    first, second = (f"{instance_name('slow', 'ACC', k)}{SEPARATOR}ACC" for k in (1, 2))
    np.testing.assert_allclose(out[first], -t)
    np.testing.assert_allclose(out[second], 1 + 3 * t)
    model = read_vensim(mdl(tmp_path, ACC + "slow = ACC(-1, 0) + ACC(3, 1)\nfast = ACC(2, 10)"))
    assert sorted(model.stocks) == sorted([first, second, f"fast{SEPARATOR}ACC#1{SEPARATOR}ACC"])


def test_a_call_shared_by_two_arguments_of_a_function_is_one_instance(tmp_path):
    # PySD reads SMOOTH(x, t) with x as both the input and the initial value: still one call of ACC
    model = read_vensim(mdl(tmp_path, ACC + "w = SMOOTH(ACC(1, 0), 2)", stop=3))
    assert [name for name in model.variables if name.endswith(f"{SEPARATOR}ACC")] == [
        f"w{SEPARATOR}ACC#1{SEPARATOR}ACC"
    ]
    assert simulate(model).frame(0)["w"].tolist() == [0.0, 0.0, 0.5, 1.25]  # smoothing t over 2: 0, 0, 1/2, 5/4


def test_a_macro_calling_another_macro(tmp_path):
    body = """
    :MACRO: DOUBLE(x)
    DOUBLE = 2 * x
    :END OF MACRO:
    :MACRO: QUAD(x)
    QUAD = DOUBLE(DOUBLE(x)) + half
    half = x / 2
    :END OF MACRO:
    y = QUAD(3)
    """
    out = run(mdl(tmp_path, body))
    assert out["y"].tolist() == [13.5] * len(out)  # 2 * (2 * 3) + 3 / 2
    inner = f"y{SEPARATOR}QUAD#1{SEPARATOR}DOUBLE#2{SEPARATOR}DOUBLE"  # the outer call, second in QUAD
    assert out[inner].iloc[0] == 12.0
    assert out[f"y{SEPARATOR}QUAD#1{SEPARATOR}half"].iloc[0] == 1.5


def test_additional_outputs_are_variables_of_the_calling_model(tmp_path):
    # the example of Vensim's "Using Macros" page, with its typos corrected
    body = """
    :MACRO: ADD3(val1, val2, val3 : minval, maxval)
    ADD3 = val1 + val2 + val3
    minval = MIN(val1, MIN(val2, val3))
    maxval = MAX(val1, MAX(val2, val3))
    :END OF MACRO:
    total = ADD3(a, b, c : low, high)
    spread = high - low
    a = 4
    b = 9
    c = 2
    """
    out = run(mdl(tmp_path, body))
    assert (out["total"].iloc[0], out["low"].iloc[0], out["high"].iloc[0], out["spread"].iloc[0]) == (15, 2, 9, 7)


def test_an_output_bound_inside_a_macro(tmp_path):
    body = """
    :MACRO: SPLIT(x : rest)
    SPLIT = x / 2
    rest = x - SPLIT
    :END OF MACRO:
    :MACRO: QUARTERS(x)
    QUARTERS = SPLIT(x : other) + other / 10
    :END OF MACRO:
    y = QUARTERS(8)
    """
    assert run(mdl(tmp_path, body))["y"].iloc[0] == 4.4  # 8 / 2 + (8 - 4) / 10


def test_a_subscripted_call_expands_element_by_element(tmp_path):
    body = """
    :MACRO: SMOOTHER(input, delay)
    SMOOTHER = INTEG((input - SMOOTHER) / delay, input)
    :END OF MACRO:
    r: r1, r2
    height[r] = 5, 7
    sm[r] = SMOOTHER(height[r] * STEP(1, 2), 4)
    """
    out = run(mdl(tmp_path, body, stop=8))
    t = out.index.to_numpy()
    for element, h in (("r1", 5.0), ("r2", 7.0)):
        expected = np.where(t >= 2, h * (1 - 0.75 ** np.maximum(t - 2, 0)), 0.0)
        np.testing.assert_allclose(out[f"sm[{element}]"], expected)


def test_each_element_defined_by_its_own_call(tmp_path):
    out = run(mdl(tmp_path, ACC + "r: r1, r2\ny[r1] = ACC(1, 0)\ny[r2] = ACC(2, 5)", stop=3))
    t = out.index.to_numpy()
    np.testing.assert_allclose(out["y[r1]"], t)
    np.testing.assert_allclose(out["y[r2]"], 5 + 2 * t)
    assert f"y{SEPARATOR}ACC#2{SEPARATOR}ACC[r2]" in out.columns


def test_a_model_variable_named_with_a_dollar(tmp_path):
    body = """
    :MACRO: PER STEP(x)
    PER STEP = x / TIME STEP$ + Time$ * 0
    :END OF MACRO:
    y = PER STEP(3)
    """
    assert run(mdl(tmp_path, body, stop=1, dt=0.25))["y"].iloc[0] == 12.0


def test_the_macro_names_are_local_to_the_macro(tmp_path):
    body = """
    :MACRO: TWICE(x)
    TWICE = 2 * x
    :END OF MACRO:
    x = 100
    y = TWICE(x + 1)
    """
    assert run(mdl(tmp_path, body))["y"].iloc[0] == 202.0


@pytest.mark.parametrize(
    ("macros", "named", "line"),
    [
        (":MACRO: FACT(x)\nFACT = IF THEN ELSE(x <= 1, 1, x * FACT(x - 1))\n:END OF MACRO:", "FACT", 2),
        (
            ":MACRO: PING(x)\nPING = PONG(x)\n:END OF MACRO:\n:MACRO: PONG(x)\nPONG = PING(x)\n:END OF MACRO:",
            "PING",
            2,
        ),
    ],
)
def test_a_recursive_macro_is_refused_with_its_name_and_line(tmp_path, macros, named, line):
    name = "FACT" if named == "FACT" else "PING"
    with pytest.raises(SpecError) as err:
        read_vensim(mdl(tmp_path, f"{macros}\ny = {name}(4)"))
    assert err.value.key == named and err.value.line == line
    assert "recursive" in err.value.message and named in err.value.message


@pytest.mark.parametrize(
    ("body", "words", "line"),
    [
        (ACC + "y = ACC(1)", "called with 1 input(s); it takes 2", 7),
        (ACC + "y = ACC(1, 2 : z)", "called with 2 input(s) and 1 output(s)", 7),
        (":MACRO: F(x)\nF = x + elsewhere\n:END OF MACRO:\nelsewhere = 1\ny = F(1)", "'elsewhere'", 2),
        (":MACRO: F(x : o)\nF = x\no = x\n:END OF MACRO:\no = 3\ny = F(1 : o)", "also defined", None),
        (":MACRO: F(x : o)\nF = x\n:END OF MACRO:\ny = F(1)", "no equation for it", 2),
        (":MACRO: F(x)\nG = x\n:END OF MACRO:\ny = F(1)", "no equation for its own name", 2),
        (":MACRO: SMOOTH(x, t)\nSMOOTH = x\n:END OF MACRO:\ny = SMOOTH(1, 2)", "name of a Vensim function", 2),
        (":MACRO: F(x)\nF = x[r1]\n:END OF MACRO:\nr: r1, r2\ny = F(1)", "subscripted reference", 2),
    ],
)
def test_bad_macros_are_located_spec_errors(tmp_path, body, words, line):
    with pytest.raises(SpecError) as err:
        read_vensim(mdl(tmp_path, body))
    assert words in err.value.message
    if line is not None:
        assert err.value.line == line


def test_output_lists_are_rewritten_on_the_same_lines():
    text = ":MACRO: M(a : b)\nM = a\n~~|\n:END OF MACRO:\ny = M(x :AND: w : z1,\n z2)\n~~|\nq = M(1)"
    marked = mark_output_lists(text)
    assert marked.count("\n") == text.count("\n")
    assert "y = M(x :AND: w , 'z1', 'z2'\n)" in marked and ":MACRO: M(a : b)" in marked
    assert mark_output_lists("a = b : c") == "a = b : c"  # no macro, nothing touched


SMOOTHER = """
:MACRO: SMOOTHER(input, delay, init)
SMOOTHER = INTEG(change, init)
change = (input - SMOOTHER) / delay
:END OF MACRO:
"""


def test_expanded_variables_export_and_make_loops(tmp_path):
    model = read_vensim(mdl(tmp_path, SMOOTHER + "goal = 10\ny = SMOOTHER(goal - y / 2, 3, 0)", stop=6))
    stock = f"y{SEPARATOR}SMOOTHER#1{SEPARATOR}SMOOTHER"
    # two balancing loops: the smooth's own (gain -1/delay) and the one through y (gain 1 * -1/2 * 1/delay)
    gains = {loop.variables: loop.gain[""] for loop in find_loops(model).loops}
    change, given = f"y{SEPARATOR}SMOOTHER#1{SEPARATOR}change", f"y{SEPARATOR}SMOOTHER#1{SEPARATOR}input"
    assert gains == pytest.approx({(stock, change): -1 / 3, (stock, "y", given, change): -1 / 6})
    path = tmp_path / "model.xmile"
    path.write_text(generate_xmile(model))
    back = simulate(read_xmile(path)).frame(0).set_index("time")
    mine = simulate(model).frame(0).set_index("time")
    np.testing.assert_allclose(back.loc[mine.index, ["y", stock]], mine[["y", stock]], rtol=1e-12)
    # PySD runs the exported file (plain variables, no macro left) to the same numbers
    theirs = run_pysd(read_xmile(path)).set_index("time")
    np.testing.assert_allclose(theirs.loc[mine.index, ["y", stock]], mine[["y", stock]], rtol=1e-9)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    start=st.floats(-50, 50),
    rate=st.floats(-5, 5),
    time=st.floats(0.5, 20),
    dt=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_a_macro_call_equals_its_equations_written_out(tmp_path_factory, start, rate, time, dt):
    tmp = tmp_path_factory.mktemp("inline")
    macro = f"""
    :MACRO: ADJUST(goal, start, time)
    ADJUST = INTEG(gap / time, start)
    gap = goal - ADJUST
    :END OF MACRO:
    y = ADJUST(target, {start}, {time}) + ADJUST(2 * target, -{start}, {time} * 2)
    target = {rate} * Time
    """
    written = f"""
    first = INTEG((target - first) / {time}, {start})
    second = INTEG((2 * target - second) / ({time} * 2), -{start})
    y = first + second
    target = {rate} * Time
    """
    called = run(mdl(tmp, macro, stop=10, dt=dt, name="macro.mdl"))["y"]
    inline = run(mdl(tmp, written, stop=10, dt=dt, name="inline.mdl"))["y"]
    np.testing.assert_allclose(called.to_numpy(), inline.to_numpy(), rtol=1e-12, atol=1e-12)


def test_lookups_and_stateful_functions_inside_a_macro(tmp_path):
    body = """
    :MACRO: SHAPED(x, f)
    SHAPED = table(x) + f(x) + SMOOTH(x, 2)
    table([(0,0)-(10,10)],(0,0),(10,20))
    :END OF MACRO:
    curve([(0,0)-(10,10)],(0,0),(10,10))
    y = SHAPED(Time, curve)
    z = SHAPED(2 * Time, curve)
    """
    out = run(mdl(tmp_path, body, stop=3))
    # table(x) = 2x, curve(x) = x, and each call smooths its own input (time 2, dt 1): 0, 0, 0.5, 1.25 for x = t
    assert out["y"].tolist() == [0.0, 3.0, 6.5, 10.25]
    assert out["z"].tolist() == [0.0, 6.0, 13.0, 20.5]  # x = 2t: 6t plus the smooth 0, 0, 1, 2.5


def test_lines_of_expanded_variables_point_into_the_macro():
    text = "{UTF-8}\n:MACRO: M(x)\nM = x + inner\n~~|\ninner = 2 * x\n~~|\n:END OF MACRO:\ny[r] = M(1)\n~~|\n"
    assert variable_line(text, f"y{SEPARATOR}M#1{SEPARATOR}inner[r1]") == 5
    assert variable_line(text, f"y{SEPARATOR}M#1{SEPARATOR}M") == 3
    assert variable_line(text, f"y{SEPARATOR}M#1{SEPARATOR}x") == 2  # a parameter: the header's line
    assert macro_line(text, "m") == 2 and variable_line(text, "y") is None


def test_the_commands_treat_expanded_variables_as_ordinary_ones(tmp_path, capsys):
    import json

    from tenor.cli.main import main

    path = mdl(tmp_path, SMOOTHER + "goal = 10\ny = SMOOTHER(goal - y / 2, 3, 0)", stop=6)
    stock = f"y{SEPARATOR}SMOOTHER#1{SEPARATOR}SMOOTHER"
    assert main(["export", str(path), "--to", "xmile", "-o", str(tmp_path / "out.xmile")]) == 0
    assert f'<stock name="{stock}">' in (tmp_path / "out.xmile").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["loops", str(path), "--json"]) == 0
    loops = json.loads(capsys.readouterr().out)["loops"]
    assert {loop["polarity"] for loop in loops} == {"B"} and all(stock in loop["variables"] for loop in loops)
    assert main(["draw", str(path), "--kind", "stockflow", "--format", "dot", "-o", str(tmp_path / "d.dot")]) == 0
    assert stock in (tmp_path / "d.dot").read_text(encoding="utf-8")
