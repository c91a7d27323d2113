"""tenor's engine against Simlin (pysimlin) and PySD: three engines, one answer.

The smooth with an explicit initial value inside a feedback loop is checked against Euler's
method worked by hand: s(t+dt) = s(t) + dt (x(t) - s(t)) / T, with s(0) the given initial value.
Suite models on which tenor and Simlin both match the canonical output are compared with each
other directly, to 1e-9.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from suite import CASES, column_key, run_pysd, run_simlin, run_tenor, run_tenor_pysd

simlin = pytest.importorskip("simlin", reason="pysimlin (the simlin engine's Python bindings) not installed")

DATA = Path(__file__).resolve().parents[1] / "data" / "differential"
RESULTS = json.loads((Path(__file__).parent / "results.json").read_text())


def _column(frame, name: str) -> np.ndarray:
    columns = {column_key(str(c)): c for c in frame.columns}
    return frame[columns[column_key(name)]].to_numpy(float)


def _euler_smooth_loop(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Stock' = SMTH1(100 - Stock, 3, 0), Stock(0) = 10, dt = 1, by hand."""
    stock, smooth = [10.0], [0.0]
    for _ in range(steps):
        s, x = smooth[-1], 100.0 - stock[-1]
        stock.append(stock[-1] + s)
        smooth.append(s + (x - s) / 3.0)
    return np.array(stock), np.array(smooth)


@pytest.mark.parametrize("runner", [run_tenor, run_simlin, run_pysd], ids=["tenor", "simlin", "pysd"])
def test_smooth_with_initial_value_in_a_loop_is_textbook_euler(runner):
    frame = runner(DATA / "smooth_loop.xmile")
    stock, smooth = _euler_smooth_loop(10)
    np.testing.assert_allclose(_column(frame, "Stock"), stock, rtol=1e-12)
    np.testing.assert_allclose(_column(frame, "Inflow"), smooth, rtol=1e-12)


def test_smooth_in_an_algebraic_loop_agrees_across_engines():
    ours = run_tenor(DATA / "smooth_in_an_algebraic_loop.xmile")
    for other in (run_simlin, run_pysd):
        theirs = other(DATA / "smooth_in_an_algebraic_loop.xmile")
        for name in ("Stock", "Inflow", "Gap"):
            np.testing.assert_allclose(_column(ours, name), _column(theirs, name), rtol=1e-12)


BOTH = [c for c in CASES if RESULTS.get(c.id, {}).get("tenor") == "pass" and RESULTS[c.id].get("simlin") == "pass"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in BOTH[::4]])
def test_tenor_equals_simlin(case):
    ours = run_tenor(case.path)
    theirs = run_simlin(case.path)
    times = np.asarray(theirs.index, dtype=float)
    rows = np.isin(np.round(times, 9), np.round(np.asarray(ours.index, dtype=float), 9))
    _assert_same_columns(case, ours, theirs, rows)


def _assert_same_columns(case, ours, theirs, rows) -> None:
    """Every column both runs have agrees to 1e-9 on the shared rows (and at least one is shared)."""
    keys = {column_key(str(c)): c for c in theirs.columns}
    compared = 0
    for column in ours.columns:
        key = column_key(str(column))
        if key not in keys:
            continue
        np.testing.assert_allclose(
            ours[column].to_numpy(float),
            theirs[keys[key]].to_numpy(float)[rows],
            rtol=1e-9,
            atol=1e-12,
            err_msg=f"{case.id}: {column}",
        )
        compared += 1
    assert compared > 0


PYSD_BOTH = [
    c for c in CASES if RESULTS.get(c.id, {}).get("tenor") == "pass" and RESULTS[c.id].get("tenor-pysd") == "pass"
]
PYSD_SLICE = PYSD_BOTH if os.environ.get("TENOR_SUITE") == "full" else PYSD_BOTH[::8]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in PYSD_SLICE])
def test_tenor_equals_pysd(case):
    ours = run_tenor(case.path)
    theirs = run_tenor_pysd(case.path)
    times = np.asarray(theirs.index, dtype=float)
    rows = [int(np.argmin(np.abs(times - t))) for t in np.asarray(ours.index, dtype=float)]
    _assert_same_columns(case, ours, theirs, rows)
