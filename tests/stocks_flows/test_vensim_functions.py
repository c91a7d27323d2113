"""Vensim's INVERT MATRIX, VECTOR SELECT, ALLOCATE BY PRIORITY, ALLOCATE AVAILABLE, FORECAST,
GET TIME VALUE and :NA: in tenor's engine, on small Vensim models written here.

Each expected value is worked by hand from the function's page of the Vensim Help
(https://www.vensim.com/documentation/, pages named below); the allocations and the inverse
also have property tests of what must hold for any input.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows.engine import simulate
from stocks_flows.functions import NA
from stocks_flows.load import load_model
from stocks_flows.vectors import (
    allocate_curves,
    np_invert_matrix,
    np_vector_rank,
    np_vector_reorder,
    np_vector_select,
    np_vector_sort_order,
)
from tenor.core.errors import SimulationError, SpecError

FEW = settings(max_examples=40, derandomize=True, deadline=None)

_CONTROL = """
INITIAL TIME = 0
\t~\tMonth\t~\t|
FINAL TIME = {stop}
\t~\tMonth\t~\t|
TIME STEP = 1
\t~\tMonth\t~\t|
SAVEPER = TIME STEP
\t~\tMonth\t~\t|
"""


def _run(tmp_path: Path, equations: str, stop: int = 2) -> dict[str, np.ndarray]:
    """Run a Vensim model made of ``equations`` (each ended by ``~ ~ |``); its columns by name."""
    path = tmp_path / "model.mdl"
    path.write_text("{UTF-8}\n" + equations + _CONTROL.format(stop=stop), encoding="utf-8")
    frame = simulate(load_model(path)).frame(0)
    return {str(c): frame[c].to_numpy(float) for c in frame.columns}


def _eq(text: str) -> str:
    return f"{text}\n\t~\t\n\t~\t\t|\n\n"


# --- INVERT MATRIX (Vensim Help: "INVERT MATRIX") ------------------------------------------


def test_invert_matrix_of_a_two_by_two_matrix(tmp_path: Path) -> None:
    # [[4, 7], [2, 6]] has determinant 10, so its inverse is [[6, -7], [-2, 4]] / 10
    out = _run(
        tmp_path,
        _eq("row: r1, r2")
        + _eq("col: c1, c2")
        + _eq("m[row, col] = 4, 7; 2, 6;")
        + _eq("mi[row, col] = INVERT MATRIX(m[row, col], 2)"),
    )
    expected = {"mi[r1,c1]": 0.6, "mi[r1,c2]": -0.7, "mi[r2,c1]": -0.2, "mi[r2,c2]": 0.4}
    for name, value in expected.items():
        np.testing.assert_allclose(out[name], value, rtol=1e-12)


def test_invert_matrix_of_a_singular_matrix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="singular"):
        _run(
            tmp_path,
            _eq("row: r1, r2")
            + _eq("col: c1, c2")
            + _eq("m[row, col] = 1, 2; 2, 4;")
            + _eq("mi[row, col] = INVERT MATRIX(m[row, col], 2)"),
        )


@FEW
@given(st.lists(st.floats(-5, 5), min_size=9, max_size=9))
def test_invert_matrix_times_the_matrix_is_the_identity(cells: list[float]) -> None:
    matrix = np.array(cells).reshape(3, 3) + 8 * np.eye(3)  # diagonally dominant: invertible
    closures = [lambda env, v=v: np.float64(v) for v in matrix.ravel()]
    inverse = np.array(
        [np_invert_matrix([lambda env, i=i: np.float64(i), *closures])({})[0] for i in range(1, 10)]
    ).reshape(3, 3)
    np.testing.assert_allclose(inverse @ matrix, np.eye(3), atol=1e-12)


# --- VECTOR SELECT (Vensim Help: "VECTOR SELECT") ------------------------------------------


def test_vector_select_actions(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        _eq("d: a, b, c")
        + _eq("sel[d] = 1, 0, 2")
        + _eq("none[d] = 0, 0, 0")
        + _eq("x[d] = 3, 5, 7")
        + _eq("weighted sum = VECTOR SELECT(sel[d!], x[d!], -1, 0, 0)")  # 1*3 + 2*7
        + _eq("largest = VECTOR SELECT(sel[d!], x[d!], -1, 9, 0)")  # max of 3 and 7
        + _eq("mean = VECTOR SELECT(sel[d!], x[d!], -1, 10, 0)")  # (3 + 7) / 2
        + _eq("missing = VECTOR SELECT(none[d!], x[d!], -1, 0, 0)"),  # nothing selected
    )
    assert out["weighted sum"][0] == 17 and out["largest"][0] == 7 and out["mean"][0] == 5
    assert out["missing"][0] == -1


@FEW
@given(
    st.lists(st.tuples(st.sampled_from([0.0, 0.0, 1.0, 2.0, -1.5]), st.floats(-10, 10)), min_size=1, max_size=6),
    st.sampled_from([0, 6, 8, 9, 10]),
)
def test_vector_select_reduces_the_selected_elements(pairs: list, action: int) -> None:
    def const(v: float):
        return lambda env: np.float64(v)

    args = [const(-99), const(action), const(0), *(const(s) for s, _ in pairs), *(const(e) for _, e in pairs)]
    got = float(np_vector_select(args)({})[0])
    weights = np.array([s for s, _ in pairs])
    chosen = np.array([e for s, e in pairs if s != 0])
    if not len(chosen):
        assert got == -99  # nothing selected: the missing value
        return
    expected = {
        0: float(np.sum(weights[weights != 0] * chosen)),
        6: chosen.sum(),
        8: chosen.min(),
        9: chosen.max(),
        10: chosen.mean(),
    }[action]
    assert math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-12)


# --- ALLOCATE BY PRIORITY (Vensim Help: "ALLOCATE BY PRIORITY", "Allocation Functions") --------

_PRIORITY = (
    _eq("branch: first, second")
    + _eq("request[branch] = 10, 6")
    + _eq("priority[branch] = 4, 2")
    + _eq("supply = 12 + 8 * Time")
    + _eq("shipped[branch] = ALLOCATE BY PRIORITY(request[branch], priority[branch], ELMCOUNT(branch), 3, supply)")
)


def test_allocate_by_priority_worked_by_hand(tmp_path: Path) -> None:
    # width 3: the higher request (priority 4) is served alone until it holds (4 - 2) / 3 of its
    # request, 6.67; then both, in proportion to their requests (10:6), until the first is full at 10
    # and the second has 2: 12 in all at t = 0. From t = 1 the supply (20) covers both requests.
    out = _run(tmp_path, _PRIORITY)
    np.testing.assert_allclose(out["shipped[first]"], [10, 10, 10], rtol=1e-12)
    np.testing.assert_allclose(out["shipped[second]"], [2, 6, 6], rtol=1e-12)


def test_equal_priorities_share_in_proportion_to_the_requests(tmp_path: Path) -> None:
    out = _run(
        tmp_path, _PRIORITY.replace("priority[branch] = 4, 2", "priority[branch] = 3, 3").replace("12 + 8 * Time", "8")
    )
    np.testing.assert_allclose(out["shipped[first]"], 5, rtol=1e-12)  # 8 * 10 / 16
    np.testing.assert_allclose(out["shipped[second]"], 3, rtol=1e-12)  # 8 * 6 / 16


_CURVES = st.integers(1, 4)


@FEW
@given(
    st.lists(st.tuples(st.floats(0, 100), st.floats(-10, 10), st.floats(0.1, 5), _CURVES), min_size=1, max_size=6),
    st.floats(0, 400),
)
def test_an_allocation_never_exceeds_the_supply_nor_any_request(requests: list, supply: float) -> None:
    q, p, w, kind = (np.array([[r[i]] for r in requests], dtype=float) for i in range(4))
    got = allocate_curves(q, kind, p, w, np.array([supply])).ravel()
    assert np.all(got >= 0) and np.all(got <= q.ravel() * (1 + 1e-12))
    assert got.sum() <= supply * (1 + 1e-9) + 1e-9
    np.testing.assert_allclose(got.sum(), min(supply, q.sum()), rtol=1e-7, atol=1e-7)  # nothing is left over


@FEW
@given(st.lists(st.tuples(st.floats(0.5, 100), st.floats(-10, 10)), min_size=2, max_size=6), st.floats(0.1, 5))
def test_a_higher_priority_is_filled_at_least_as_fully(requests: list, width: float) -> None:
    q = np.array([[r[0]] for r in requests])
    p = np.array([[r[1]] for r in requests])
    got = allocate_curves(q, np.ones_like(q), p, np.full_like(q, width), np.array([q.sum() / 2])).ravel()
    fraction = got / q.ravel()
    order = np.argsort(-p.ravel(), kind="stable")
    assert np.all(np.diff(fraction[order]) <= 1e-9)


# --- ALLOCATE AVAILABLE (Vensim Help: "ALLOCATE AVAILABLE", "Allocation Functions") ------------

_AVAILABLE = (
    _eq("branch: first, second")
    + _eq("pprofile: ptype, ppriority, pwidth, pextra")
    + _eq("request[branch] = 10, 6")
    + _eq("rectangular[branch, pprofile] = 1, 4, 3, 0; 1, 2, 3, 0;")
    + _eq("normal[branch, pprofile] = 3, 5, 1, 0; 3, 5, 1, 0;")
    + _eq("available = 12")
    + _eq("by profile[branch] = ALLOCATE AVAILABLE(request[branch], rectangular[branch, ptype], available)")
    + _eq("by normal[branch] = ALLOCATE AVAILABLE(request[branch], normal[branch, ptype], available)")
)


def test_allocate_available_with_rectangular_profiles_is_allocate_by_priority(tmp_path: Path) -> None:
    out = _run(tmp_path, _AVAILABLE, stop=1)
    np.testing.assert_allclose([out["by profile[first]"][0], out["by profile[second]"][0]], [10, 2], rtol=1e-12)


def test_allocate_available_with_normal_profiles(tmp_path: Path) -> None:
    # the same profile for both: the market priority x fills the same fraction of each request,
    # 12 / 16; the normal curve gives q * (1 - Phi((x - 5) / 1)), so x = 5 + Phi^-1(1 - 0.75)
    out = _run(tmp_path, _AVAILABLE, stop=1)
    np.testing.assert_allclose([out["by normal[first]"][0], out["by normal[second]"][0]], [7.5, 4.5], rtol=1e-12)


def test_a_negative_request_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="request is -10"):
        _run(tmp_path, _AVAILABLE.replace("request[branch] = 10, 6", "request[branch] = -10, 6"), stop=1)


# --- FORECAST (Vensim Help: "FORECAST") ----------------------------------------------------


def test_forecast_worked_by_hand(tmp_path: Path) -> None:
    # FORECAST = input * (1 + TRD * horizon), TRD = ZIDZ(input - AV, average time * AV),
    # AV = INTEG((input - AV) / average time, input); input 10 + Time, average time 2, horizon 3, dt 1:
    # t=0: AV 10, TRD 0 -> 10; t=1: AV 10, TRD 1/20 -> 11 * 1.15; t=2: AV 10.5, TRD 1.5/21 -> 12 * (1 + 4.5/21)
    out = _run(tmp_path, _eq("input = 10 + Time") + _eq("f = FORECAST(input, 2, 3)"))
    np.testing.assert_allclose(out["f"], [10, 12.65, 12 * (1 + 4.5 / 21)], rtol=1e-12)


# --- GET TIME VALUE (Vensim Help: "GET TIME VALUE") and subscripts as numbers --------------


def test_get_time_value_is_the_time_plus_the_offset(tmp_path: Path) -> None:
    # a subscript range in an expression is the element's position, from 1: (d - 2) is -1, 0, 1
    out = _run(tmp_path, _eq("d: a, b, c") + _eq("when[d] = GET TIME VALUE(0, d - 2, 0)"))
    np.testing.assert_allclose(out["when[a]"], [-1, 0, 1])
    np.testing.assert_allclose(out["when[c]"], [1, 2, 3])


def test_get_time_value_of_a_calendar_measure_is_refused_where_it_is_written(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        _run(tmp_path, _eq("x = 1") + _eq("month = GET TIME VALUE(0, 0, 3)"))
    assert "GET TIME VALUE with measure 3" in err.value.message and err.value.line == 6 and err.value.key == "month"


# --- :NA: (Vensim Help: ":NA:") ------------------------------------------------------------


def test_na_is_vensims_number_and_can_be_tested(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        _eq("variable = IF THEN ELSE(Time > 0, :NA:, Time)") + _eq("missing = IF THEN ELSE(variable = :NA:, 1, 0)"),
    )
    assert out["variable"][0] == 0 and np.all(out["variable"][1:] == NA)
    assert math.isclose(NA, -(2.0**110)) and list(out["missing"]) == [0, 1, 1]


# --- subscripts as numbers and nested ranges (tests/subscript_logicals, tests/subscript_definition) ---


def test_a_subscript_compares_as_its_element_whatever_the_order_of_its_range(tmp_path: Path) -> None:
    # dim3 lists B last, yet dim1 = dim3 holds where both stand for B (Vensim compares elements)
    out = _run(
        tmp_path,
        _eq("dim1: A, B, C")
        + _eq("dim3: A, C, B")
        + _eq("same[dim1, dim3] = IF THEN ELSE(dim1 = dim3, 1, 0)")
        + _eq("is b[dim3] = IF THEN ELSE(dim3 = B, 1, 0)"),
    )
    assert out["same[B,B]"][0] == 1 and out["same[B,C]"][0] == 0 and out["same[C,C]"][0] == 1
    assert [out[f"is b[{e}]"][0] for e in "ACB"] == [0, 0, 1]


def test_a_range_that_lists_another_range_holds_its_elements(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        _eq("dim: A, sub, B") + _eq("sub: (s1-s3)") + _eq("n = ELMCOUNT(dim)") + _eq("position[sub] = sub"),
    )
    assert out["n"][0] == 5  # A, s1, s2, s3, B
    assert [out[f"position[s{i}]"][0] for i in (1, 2, 3)] == [2, 3, 4]  # their places in dim, listed first


# --- VECTOR SORT ORDER, VECTOR RANK, VECTOR REORDER (Vensim Help: the pages of each) ----------------


def test_sort_order_rank_and_reorder_worked_by_hand(tmp_path: Path) -> None:
    # v = [30, 10, 20] over a, b, c. Ascending: b (index 1), c (2), a (0); so the sort order is [1, 2, 0],
    # the ranks are a 3, b 1, c 2, and reordering v by the sort order gives [10, 20, 30].
    # Descending (direction 0) is the ascending order reversed: [0, 2, 1], ranks a 1, b 3, c 2.
    out = _run(
        tmp_path,
        _eq("k: a, b, c")
        + _eq("place: p1, p2, p3")
        + _eq("v[k] = 30, 10, 20")
        + _eq("up[place] = VECTOR SORT ORDER(v[k], 1)")
        + _eq("down[place] = VECTOR SORT ORDER(v[k], 0)")
        + _eq("rank up[k] = VECTOR RANK(v[k], 1)")
        + _eq("rank down[k] = VECTOR RANK(v[k], 0)")
        + _eq("sorted[place] = VECTOR REORDER(v[k], up[place])"),
    )
    assert [out[f"up[{p}]"][0] for p in ("p1", "p2", "p3")] == [1, 2, 0]
    assert [out[f"down[{p}]"][0] for p in ("p1", "p2", "p3")] == [0, 2, 1]
    assert [out[f"rank up[{e}]"][0] for e in "abc"] == [3, 1, 2]
    assert [out[f"rank down[{e}]"][0] for e in "abc"] == [1, 3, 2]
    assert [out[f"sorted[{p}]"][0] for p in ("p1", "p2", "p3")] == [10, 20, 30]


def test_the_vector_functions_work_along_the_last_subscript(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        _eq("row: r1, r2")
        + _eq("k: a, b")
        + _eq("v[row, k] = 2, 1; 5, 9;")
        + _eq("rank[row, k] = VECTOR RANK(v[row, k], 1)"),
    )
    assert [out[f"rank[{r},{e}]"][0] for r in ("r1", "r2") for e in "ab"] == [2, 1, 1, 2]


@FEW
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=8), st.sampled_from([0.0, 1.0]))
def test_rank_inverts_the_sort_order_and_reorder_sorts(values: list[float], direction: float) -> None:
    cells = [lambda env, v=v: np.float64(v) for v in values]
    n = len(values)

    def at(build, i: int, *first) -> float:
        return float(np.asarray(build([*(lambda env, x=x: np.float64(x) for x in (i, *first)), *cells])({})).item())

    order = [int(at(np_vector_sort_order, i + 1, direction)) for i in range(n)]
    ranks = [int(at(np_vector_rank, i + 1, direction)) for i in range(n)]
    assert sorted(order) == list(range(n))  # a permutation of the indices
    assert [ranks[j] for j in order] == list(range(1, n + 1))  # the element in place p has rank p + 1
    reorder = [np_vector_reorder([lambda env, j=j: np.float64(j), *cells])({}) for j in order]
    assert [float(np.asarray(r).item()) for r in reorder] == sorted(values, reverse=direction <= 0)
