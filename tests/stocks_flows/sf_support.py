"""Shared test support: model files, canonical outputs, and the comparison rule of the conformance corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "data"
CONFORMANCE = DATA / "conformance"
MODELS = DATA / "stocks_flows"
CONTROL = {"initial_time", "final_time", "time_step", "saveper"}


def manifest() -> list[dict]:
    return json.loads((CONFORMANCE / "manifest.json").read_text())["models"]


def xmile_key(name: str) -> str:
    """XMILE names are case-insensitive, and '_' is the same as a space."""
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def read_canonical(path: Path) -> pd.DataFrame:
    """A canonical output, indexed by its Time column; constants forward-filled."""
    if path.suffix == ".tab":
        frame = pd.read_table(path)
    else:
        frame = pd.read_csv(path)
    time = next(c for c in frame.columns if c.strip().lower() == "time")
    return frame.set_index(time).ffill()


def assert_matches_canonical(result: pd.DataFrame, canon: pd.DataFrame, time_settings) -> None:
    """The corpus rule: |x - canon| <= max(1e-5 |canon|, 1e-8) per cell; rows matched by position."""
    assert len(result) == len(canon), f"{len(result)} rows, canonical has {len(canon)}"
    times = result["time"].to_numpy(float)
    np.testing.assert_allclose(times, canon.index.to_numpy(float), rtol=1e-5, atol=1e-12)
    columns = {xmile_key(c): c for c in result.columns}
    control = {
        "initial_time": time_settings.start,
        "final_time": time_settings.stop,
        "time_step": time_settings.dt,
        "saveper": time_settings.save_step,
    }
    failures = []
    for col in canon.columns:
        key = xmile_key(col)
        expected = canon[col].to_numpy(float)
        if key in CONTROL:
            actual = np.full(len(expected), control[key])
        else:
            assert key in columns, f"canonical column {col!r} is not in the result"
            actual = result[columns[key]].to_numpy(float)
        ok = (np.abs(actual - expected) <= np.maximum(1e-5 * np.abs(expected), 1e-8)) | (
            np.isnan(actual) & np.isnan(expected)
        )
        if not ok.all():
            i = int(np.argmin(ok))
            failures.append(f"{col} at t={times[i]:g}: {actual[i]!r} != {expected[i]!r}")
    assert not failures, "first differences: " + "; ".join(failures[:5])


def assert_runs_equal(a: np.ndarray, b: np.ndarray, names: list[str], times: np.ndarray, rtol: float = 1e-9):
    """Equal within ``rtol`` relative (1e-12 absolute near zero); names where they first differ."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    close = np.abs(a - b) <= np.maximum(rtol * np.abs(b), 1e-12)
    if not close.all():
        row = int(np.argmax(~close.all(axis=1)))
        bad = [names[j] for j in np.where(~close[row])[0]]
        raise AssertionError(
            f"first difference at t={times[row]:g} in {bad}: {a[row][~close[row]]} vs {b[row][~close[row]]}"
        )
