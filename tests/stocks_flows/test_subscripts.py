"""Vensim subscripts resolved at read time (stocks_flows/subscripts.py, through read_vensim).

Each model is small and hand-written; the expected numbers are worked out by hand from
Vensim's rules for subscripts (Vensim Reference Manual, "Subscripts": mappings pair elements
by position, a subrange picks the same element, ``range!`` runs over the range inside an
aggregation, a range used as a value is the 1-based position of the current element in its
main range, ``:EXCEPT:`` leaves elements out of an equation).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stocks_flows.engine import simulate
from stocks_flows.subscripts import excluded, family, pick, position, subscript_ranges
from stocks_flows.xmile import read_vensim, read_xmile, write_xmile
from tenor.core.errors import SpecError

_CONTROL = """
INITIAL TIME = 0 ~~|
FINAL TIME = 2 ~~|
TIME STEP = 1 ~~|
SAVEPER = TIME STEP ~~|
"""


def _write(folder: Path, body: str, name: str = "model.mdl") -> Path:
    path = folder / name
    path.write_text("{UTF-8}\n" + body.strip() + "\n" + _CONTROL, encoding="utf-8")
    return path


def _frame(folder: Path, body: str, name: str = "model.mdl") -> pd.DataFrame:
    """The run, one column per variable element."""
    return simulate(read_vensim(_write(folder, body, name))).frame(0)


def _run(folder: Path, body: str, name: str = "model.mdl") -> dict[str, float]:
    """The values at the start of the run, by variable."""
    frame = _frame(folder, body, name)
    return {column: float(frame[column].iloc[0]) for column in frame.columns if column != "time"}


def _refusal(folder: Path, body: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        read_vensim(_write(folder, body))
    return info.value


# --- the pure functions ---------------------------------------------------------------------


def test_ranges_splice_subranges_copy_and_pick_main_ranges():
    ranges = subscript_ranges(
        [
            ("dim", ["a", "sub", "c"], []),
            ("sub", ["b1", "b2"], []),
            ("copy", "sub", []),
            ("twin", ["a", "b1", "b2", "c"], []),
        ]
    )
    assert ranges.ranges["dim"] == ("a", "b1", "b2", "c")
    assert ranges.ranges["copy"] == ("b1", "b2")
    assert ranges.mappings["copy"] == ("sub",)
    # dim and twin hold the same elements: the main range is the first by name
    assert ranges.main == {"dim": "dim", "sub": "dim", "copy": "dim", "twin": "dim"}
    assert family("b2", ranges) == "dim"


def test_a_range_defined_through_itself_is_refused():
    with pytest.raises(SpecError, match="defined through itself"):
        subscript_ranges([("a", ["x", "b"], []), ("b", ["a"], [])])


def test_pick_follows_context_mapping_and_subranges():
    ranges = subscript_ranges(
        [("d", ["a", "b", "c"], []), ("s", ["b", "c"], []), ("m", ["x", "y", "z"], ["d"]), ("e", ["p", "q"], [])]
    )
    assert pick("d", {"d": "b"}, ranges) == "b"
    assert pick("s", {"d": "c"}, ranges) == "c"  # a subrange of the equation's range
    assert pick("d", {"s": "b"}, ranges) == "b"  # a superrange of it
    assert pick("m", {"d": "c"}, ranges) == "z"  # mapped by position
    assert pick("e", {"d": "a"}, ranges) is None  # free
    assert pick("d!", {"d!": "a", "d": "c"}, ranges) == "a"
    assert pick("q", {}, ranges) == "q"
    with pytest.raises(SpecError, match="not in the subscript range"):
        pick("s", {"d": "a"}, ranges)


def test_position_counts_in_the_main_range():
    ranges = subscript_ranges([("d", ["a", "b", "c"], []), ("r", ["c", "a"], [])])
    assert position("r", {"r": "c"}, ranges) == 3
    assert position("r", {"d": "a"}, ranges) == 1
    assert position("b", {}, ranges) == 2
    with pytest.raises(SpecError, match="outside an equation over it"):
        position("d", {}, ranges)


def test_except_lists_cover_elements_and_ranges():
    ranges = subscript_ranges([("d", ["a", "b", "c"], []), ("s", ["a", "b"], []), ("e", ["x", "y"], [])])
    kept = [c for c in itertools.product("abc", "xy") if not excluded(c, [("s", "y"), ("c", "x")], ranges)]
    assert kept == [("a", "x"), ("b", "x"), ("c", "y")]


# --- whole models ---------------------------------------------------------------------------


def test_mapping_pairs_elements_by_position(tmp_path):
    values = _run(
        tmp_path,
        """
        DimA: a1, a2, a3 ~~|
        DimB: b3, b1, b2 -> DimA ~~|
        y[DimB] = 1, 2, 3 ~~|
        x[DimA] = 10 * y[DimB] ~~|
        """,
    )
    # b3 pairs with a1, b1 with a2, b2 with a3 (positions, not names)
    assert [values[f"x[a{i}]"] for i in (1, 2, 3)] == [10.0, 20.0, 30.0]


def test_transposition_and_updimensioning(tmp_path):
    values = _run(
        tmp_path,
        """
        r: r1, r2, r3 ~~|
        c: c1, c2 ~~|
        m[r, c] = 1, 2; 3, 4; 5, 6 ~~|
        t[c, r] = m[r, c] ~~|
        u[r, c] = m[r, c] + 100 * t[c, r] ~~|
        w[r] = 7, 8, 9 ~~|
        up[c, r] = w[r] ~~|
        """,
    )
    assert values["t[c1,r2]"] == 3.0 and values["t[c2,r3]"] == 6.0
    assert values["u[r3,c1]"] == 505.0
    assert [values[f"up[c2,r{i}]"] for i in (1, 2, 3)] == [7.0, 8.0, 9.0]


def test_subrange_references_both_ways(tmp_path):
    values = _run(
        tmp_path,
        """
        d: a, b, c, e ~~|
        sub: b, c ~~|
        x[d] = 1, 2, 3, 4 ~~|
        y[sub] = 2 * x[d] ~~|
        z[d] :EXCEPT: [sub] = 0 ~~|
        z[sub] = x[sub] + y[sub] ~~|
        """,
    )
    assert (values["y[b]"], values["y[c]"]) == (4.0, 6.0)
    assert [values[f"z[{k}]"] for k in "abce"] == [0.0, 6.0, 9.0, 0.0]
    assert "y[a]" not in values


def test_ranges_and_elements_as_values(tmp_path):
    values = _run(
        tmp_path,
        """
        d: a, b, c ~~|
        rev: c, b, a ~~|
        sub: b, c ~~|
        p[d] = d ~~|
        q[sub] = sub ~~|
        same[d, rev] = IF THEN ELSE(d = rev, 1, 0) ~~|
        r = c ~~|
        """,
    )
    assert [values[f"p[{k}]"] for k in "abc"] == [1.0, 2.0, 3.0]
    assert (values["q[b]"], values["q[c]"]) == (2.0, 3.0)  # positions in the main range d
    # rev holds the elements of d (its main range: first by name) in another order: equality is by element
    assert values["same[a,a]"] == 1.0 and values["same[a,c]"] == 0.0 and values["same[c,c]"] == 1.0
    assert values["r"] == 3.0


def test_except_leaves_elements_to_other_equations(tmp_path):
    values = _run(
        tmp_path,
        """
        d: a, b, c ~~|
        e: x, y ~~|
        sub: a, b ~~|
        v[d, e] :EXCEPT: [sub, y], [c, x] = 1 ~~|
        v[sub, y] = 2 ~~|
        v[c, x] = 3 ~~|
        """,
    )
    assert [values[f"v[{k},x]"] for k in "abc"] == [1.0, 1.0, 3.0]
    assert [values[f"v[{k},y]"] for k in "abc"] == [2.0, 2.0, 1.0]


def test_aggregations_over_expressions(tmp_path):
    values = _run(
        tmp_path,
        """
        d: a, b, c, e ~~|
        k: k1, k2 ~~|
        x[d] = 1, 2, 3, 4 ~~|
        m[d, k] = 1, 10; 2, 20; 3, 30; 4, 40 ~~|
        squares = SUM(x[d!] * x[d!]) ~~|
        product = PROD(x[d!]) ~~|
        largest = VMAX(IF THEN ELSE(x[d!] > 2, 0, x[d!])) ~~|
        weighted[k] = SUM(m[d!, k] * x[d!]) ~~|
        smallest[d] = VMIN(m[d, k!] - x[d]) ~~|
        nested = SUM(x[d!] + SUM(m[d!, k!])) ~~|
        """,
    )
    assert values["nested"] == 10.0 + 4 * 110.0  # the inner SUM runs over d and k on its own, as in PySD
    assert values["squares"] == 30.0
    assert values["product"] == 24.0
    assert values["largest"] == 2.0
    assert (values["weighted[k1]"], values["weighted[k2]"]) == (30.0, 300.0)
    assert values["smallest[c]"] == 0.0  # min(3 - 3, 30 - 3)


def test_element_outside_a_subrange_is_refused_with_its_line(tmp_path):
    err = _refusal(
        tmp_path,
        """
        d: a, b, c ~~|
        sub: b, c ~~|
        x[d] = 1, 2, 3 ~~|
        y[d] = x[sub] ~~|
        """,
    )
    diag = err.diagnostics[0]
    assert diag.key == "y" and diag.line == 5
    assert "'a' of 'd' is not in the subscript range 'sub'" in diag.message


def test_ambiguous_range_is_refused(tmp_path):
    err = _refusal(
        tmp_path,
        """
        d1: a, b ~~|
        d2: a, b ~~|
        d3: a, b ~~|
        x[d3] = 1, 2 ~~|
        y[d1, d2] = x[d3] ~~|
        """,
    )
    assert err.diagnostics[0].key == "y"
    assert "could stand for any" in err.diagnostics[0].message


def test_range_as_value_outside_its_equation_is_refused(tmp_path):
    err = _refusal(tmp_path, "d: a, b ~~|\nk: p, q ~~|\nv[k] = d ~~|")
    assert err.diagnostics[0].key == "v" and "used as a value outside an equation over it" in str(err)


def test_mapping_between_ranges_of_different_sizes_is_refused(tmp_path):
    err = _refusal(tmp_path, "A: a1, a2 ~~|\nB: b1, b2, b3 -> A ~~|\ny[B] = 1, 2, 3 ~~|\nx[A] = y[B] ~~|")
    assert err.diagnostics[0].key == "x" and "maps to 'A'" in str(err)


def test_mapping_with_an_element_list_is_refused(tmp_path):
    err = _refusal(tmp_path, "A: a1, a2 ~~|\nB: b1, b2 -> (A: a2, a1) ~~|\ny[B] = 1, 2 ~~|\nx[A] = y[B] ~~|")
    diag = err.diagnostics[0]
    assert diag.key == "B" and diag.line == 3 and "lists its elements" in diag.message


def test_an_array_where_a_number_is_needed_is_still_refused(tmp_path):
    err = _refusal(tmp_path, "d: a, b ~~|\nx[d] = 1, 2 ~~|\ny = x[d] + 1 ~~|")
    assert err.diagnostics[0].key == "y"
    assert "array reference outside SUM/PROD/VMIN/VMAX (x): 'd' is not a range of this equation" in str(err)


def test_an_arrayed_stock_without_named_flows_is_written_with_one_net_flow_per_element(tmp_path):
    model = read_vensim(_write(tmp_path, "d: a, b ~~|\nk[d] = 0.1, 0.5 ~~|\ns[d] = INTEG(-k[d] * s[d], 10) ~~|"))
    write_xmile(model, tmp_path / "out.xmile")
    back = simulate(read_xmile(tmp_path / "out.xmile")).frame(0)
    # s[b] loses half a step: 10, 5, 2.5 (it once ran with s[a]'s net flow: 10, 9, 8.1)
    assert list(back["s[b]"]) == [10.0, 5.0, 2.5]
    assert list(back["s[a]"]) == pytest.approx([10.0, 9.0, 8.1], abs=1e-12)


def test_a_stock_whose_elements_have_other_flows_is_not_written_as_xmile(tmp_path):
    model = read_vensim(
        _write(
            tmp_path,
            """
            d: a, b ~~|
            f[d] = 1, 2 ~~|
            g = 5 ~~|
            s[d] :EXCEPT: [b] = INTEG(f[d], 0) ~~|
            s[b] = INTEG(f[b] - g, 0) ~~|
            """,
        )
    )
    with pytest.raises(SpecError, match="s\\[b\\] has other flows than s\\[a\\]"):
        write_xmile(model, tmp_path / "out.xmile")
    assert not (tmp_path / "out.xmile").exists()


# --- invariants -----------------------------------------------------------------------------

_SLOW = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
_sizes = st.integers(min_value=1, max_value=4)


def _table(values: list[list[float]]) -> str:
    return "; ".join(", ".join(repr(v) for v in row) for row in values)


@_SLOW
@given(
    rows=_sizes,
    cols=_sizes,
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_transposing_twice_is_the_identity(tmp_path_factory, rows, cols, seed):
    values = np.random.default_rng(seed).integers(-50, 50, size=(rows, cols)).astype(float).tolist()
    r = ", ".join(f"r{i}" for i in range(rows))
    c = ", ".join(f"c{j}" for j in range(cols))
    out = _run(
        tmp_path_factory.mktemp("t"),
        f"""
        r: {r} ~~|
        c: {c} ~~|
        m[r, c] = {_table(values)} ~~|
        t[c, r] = m[r, c] ~~|
        back[r, c] = t[c, r] ~~|
        """,
    )
    for i, j in itertools.product(range(rows), range(cols)):
        assert out[f"t[c{j},r{i}]"] == values[i][j]
        assert out[f"back[r{i},c{j}]"] == out[f"m[r{i},c{j}]"] == values[i][j]


@_SLOW
@given(
    values=st.lists(st.integers(min_value=-99, max_value=99), min_size=1, max_size=5),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_a_mapping_runs_as_its_elementwise_equations(tmp_path_factory, values, seed):
    n = len(values)
    names = [f"b{i}" for i in np.random.default_rng(seed).permutation(n)]  # any order of names
    a = ", ".join(f"a{i}" for i in range(n))
    common = f"""
        A: {a} ~~|
        y[B] = {", ".join(str(float(v)) for v in values)} ~~|
        s = 1 ~~|
        level[A] = INTEG(s * x[A], 0) ~~|
    """
    mapped = _frame(
        tmp_path_factory.mktemp("m"),
        f"B: {', '.join(names)} -> A ~~|\n" + common + "x[A] = 3 * y[B] - level[A] ~~|",
    )
    elementwise = _frame(
        tmp_path_factory.mktemp("e"),
        f"B: {', '.join(names)} ~~|\n"
        + common
        + "".join(f"x[a{i}] = 3 * y[{names[i]}] - level[a{i}] ~~|\n" for i in range(n)),
    )
    pd.testing.assert_frame_equal(mapped[sorted(mapped.columns)], elementwise[sorted(elementwise.columns)])
    assert [mapped[f"x[a{i}]"].iloc[0] for i in range(n)] == [3.0 * v for v in values]
    assert mapped[f"level[a{n - 1}]"].iloc[1] == 3.0 * values[-1]  # one step of level' = x


def test_an_element_with_two_equations_is_refused(tmp_path):
    err = _refusal(tmp_path, "d: a, b ~~|\nx[d] = 1 ~~|\nx[a] = 2 ~~|")
    assert err.diagnostics[0].key == "x" and "x[a] has two equations" in str(err)


def test_a_mapping_works_one_way_only(tmp_path):
    # A -> B lets A stand in an equation over B; B in an equation over A is an array, refused
    err = _refusal(tmp_path, "A: a1, a2 -> B ~~|\nB: b1, b2 ~~|\ny[B] = 1, 2 ~~|\nx[A] = y[B] ~~|")
    assert err.diagnostics[0].key == "x" and "'B' is not a range of this equation" in str(err)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    size=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_a_subrange_picks_the_same_element_both_ways(size, data):
    main = [f"e{i}" for i in range(size)]
    sub = data.draw(st.lists(st.sampled_from(main), min_size=1, max_size=size, unique=True), label="sub")
    current = data.draw(st.sampled_from(main), label="current")
    ranges = subscript_ranges([("main", main, []), ("sub", sub, [])])
    assert ranges.main["sub"] == "main"
    if current in sub:
        assert pick("sub", {"main": current}, ranges) == current
        assert pick("main", {"sub": current}, ranges) == current
        assert position("sub", {"sub": current}, ranges) == main.index(current) + 1
    else:
        with pytest.raises(SpecError, match="not in the subscript range"):
            pick("sub", {"main": current}, ranges)


def test_an_element_beside_a_range_of_its_own_family_leaves_the_range_alone(tmp_path):
    values = _run(
        tmp_path,
        """
        d: a, b, c ~~|
        x[d] = 1, 2, 3 ~~|
        m[d, a] = 10 * x[d] ~~|
        m[d, b] = x[d] ~~|
        m[d, c] = 0 ~~|
        n[a, b] = 7 ~~|
        """,
    )
    assert [values[f"m[{k},a]"] for k in "abc"] == [10.0, 20.0, 30.0]
    assert [values[f"m[{k},b]"] for k in "abc"] == [1.0, 2.0, 3.0]
    assert values["n[a,b]"] == 7.0


def test_a_range_twice_on_the_left_is_refused(tmp_path):
    err = _refusal(tmp_path, "d: a, b ~~|\nx[d] = 1, 2 ~~|\nm[d, d] = x[d] ~~|")
    assert err.diagnostics[0].key == "m" and "used twice on the left" in str(err)


def test_elements_stand_for_the_ranges_their_variable_is_defined_over(tmp_path):
    values = _run(
        tmp_path,
        """
        d: a, b ~~|
        d2 <-> d ~~|
        x[d] = 1, 2 ~~|
        y[d2] = 10, 20 ~~|
        m[d, d2] :EXCEPT: [a, b] = 0 ~~|
        m[a, b] = x[d] + y[d2] ~~|
        """,
    )
    assert values["m[a,b]"] == 21.0  # x[a] + y[b]
    assert values["m[b,a]"] == 0.0


def test_two_elements_of_one_range_give_no_context(tmp_path):
    err = _refusal(tmp_path, "d: a, b ~~|\nx[d] = 1, 2 ~~|\nn[a, b] = x[d] ~~|")
    assert err.diagnostics[0].key == "n" and "'d' is not a range of this equation" in str(err)
