"""Summaries of many runs: per-time mean and percentiles of each variable over the scenarios.

A sweep of ten thousand scenarios is usually read as a fan: at each saved
time, the mean and a few percentiles of each variable over the scenarios.
:func:`summarize` computes that table straight from the engine's array
(``Run.values[scenario, time, variable]``), without building the table of
every trajectory; :func:`summarize_frame` does the same from a tidy results
table (``tenor sweep`` output), and :func:`swept_parameters` finds the
parameter columns of such a table.

The percentiles are exact (``numpy.percentile``, linear interpolation between
order statistics), so they need every scenario's value at each time: memory
is bounded by scenarios x saved (or kept) times x requested variables, held as
one float64 array by the engine while it runs the scenarios chunk by chunk,
plus one scenarios x times copy while a variable is being summarised.

The summary is long: one row per (time, variable), columns ``time``,
``variable``, (``units`` when known), ``mean``, then ``p5``, ``p25``, ... for
the requested percentiles.

Examples
--------
>>> import numpy as np
>>> from stocks_flows.engine import Run
>>> run = Run(np.array([0.0, 1.0]), ["x"], np.arange(6.0).reshape(3, 2, 1), ["a", "b", "c"])
>>> summarize(run, [50]).to_dict("list")
{'time': [0.0, 1.0], 'variable': ['x', 'x'], 'mean': [2.0, 3.0], 'p50': [2.0, 3.0]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stocks_flows.engine import Run
from tenor.core.errors import TenorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DEFAULT_PERCENTILES",
    "parse_percentiles",
    "percentile_column",
    "summarize",
    "summarize_frame",
    "swept_parameters",
]

DEFAULT_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)


def percentile_column(q: float) -> str:
    """The summary's column for percentile ``q``: ``p5``, ``p50``, ``p2.5``.

    >>> percentile_column(5.0), percentile_column(2.5)
    ('p5', 'p2.5')
    """
    return f"p{q:g}"


def parse_percentiles(text: str | Sequence[float], option: str = "--percentiles") -> list[float]:
    """``"5,50,95"`` -> ``[5.0, 50.0, 95.0]`` (sorted, each in [0, 100]).

    >>> parse_percentiles("95, 5,50")
    [5.0, 50.0, 95.0]
    """
    hint = f"e.g. {option} 5,25,50,75,95"
    if isinstance(text, str):
        try:
            values = [float(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise TenorError(f"{option} takes numbers separated by commas, got {text!r}", hint=hint) from None
    else:
        values = [float(x) for x in text]
    if not values:
        raise TenorError(f"{option} needs at least one percentile", hint=hint)
    bad = [v for v in values if not 0 <= v <= 100]
    if bad:
        raise TenorError(f"percentiles lie between 0 and 100, got {bad[0]:g}", hint=hint)
    # A percentile's column is p{q:g} (six significant digits): more digits would mislabel it, or write
    # two columns of one name (99.999999 and 100 are both p100).
    long = [v for v in values if float(percentile_column(v)[1:]) != v]
    if long:
        raise TenorError(
            f"{option}: {long[0]!r} has more digits than its column {percentile_column(long[0])!r} keeps",
            hint="give percentiles with at most six significant digits, e.g. 99.9999",
        )
    return sorted(set(values))


def _table(
    time: np.ndarray,
    series: Sequence[tuple[str, np.ndarray]],
    percentiles: Sequence[float],
    units: Mapping[str, str | None] | None,
) -> pd.DataFrame:
    """Rows (time, variable) from ``(name, values[scenario, time])`` pairs."""
    import pandas as pd

    qs = parse_percentiles(percentiles)
    parts: dict[str, list[Any]] = {"time": [], "variable": []}
    if units and any(units.get(name) for name, _ in series):
        parts["units"] = []
    parts["mean"] = []
    for q in qs:
        parts[percentile_column(q)] = []
    for name, values in series:
        parts["time"].append(np.asarray(time, dtype=float))
        parts["variable"].append(np.full(len(time), name, dtype=object))
        if "units" in parts:
            parts["units"].append(np.full(len(time), (units or {}).get(name) or "", dtype=object))
        parts["mean"].append(values.mean(axis=0))
        pct = np.percentile(values, qs, axis=0)
        for q, row in zip(qs, pct, strict=True):
            parts[percentile_column(q)].append(row)
    return pd.DataFrame({k: np.concatenate(v) if v else np.array([]) for k, v in parts.items()})


def summarize(
    run: Run,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    *,
    variables: Sequence[str] | None = None,
    units: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """Per-time mean and percentiles over the scenarios of ``run``, one row per (time, variable).

    ``units`` (variable -> units) adds a ``units`` column when any is known.
    """
    names = list(run.variables) if variables is None else list(variables)
    missing = [v for v in names if v not in run.variables]
    if missing:
        raise TenorError(f"the run has no variable {missing[0]!r}", hint="kept: " + ", ".join(run.variables))
    series = [(name, run.values[:, :, run.variables.index(name)]) for name in names]
    return _table(run.time, series, percentiles, units)


def summarize_frame(
    frame: pd.DataFrame,
    variables: Sequence[str],
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    *,
    time: str = "time",
    units: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """The same summary from a tidy results table (one row per scenario and time).

    Every time is summarised over the rows at that time; a time missing from
    some scenarios is summarised over those that have it.
    """
    missing = [c for c in [time, *variables] if c not in frame.columns]
    if missing:
        raise TenorError(
            f"the results have no column {missing[0]!r}", hint="columns: " + ", ".join(map(str, frame.columns))
        )
    times = np.sort(frame[time].unique()).astype(float)
    t = frame[time].to_numpy(dtype=float)
    order = np.argsort(t, kind="stable")
    counts = np.searchsorted(t[order], times, side="right") - np.searchsorted(t[order], times, side="left")
    if len(set(counts.tolist())) == 1:
        n = int(counts[0])
        series = [(v, frame[v].to_numpy(dtype=float)[order].reshape(len(times), n).T) for v in variables]
        return _table(times, series, percentiles, units)
    return _ragged(frame, variables, percentiles, time, units)


def _ragged(
    frame: pd.DataFrame,
    variables: Sequence[str],
    percentiles: Sequence[float],
    time: str,
    units: Mapping[str, str | None] | None,
) -> pd.DataFrame:
    """The summary when scenarios are saved at different times (each time over the rows it has)."""
    import pandas as pd

    parts = []
    for v in variables:
        grouped = frame.groupby(time)[v]
        per_time = [(float(at), part.to_numpy(dtype=float)) for at, part in grouped]
        for at, values in per_time:
            parts.append(_table(np.array([at]), [(v, values[:, None])], percentiles, units))
    return pd.concat(parts, ignore_index=True)


def swept_parameters(frame: pd.DataFrame, *, scenario: str = "scenario") -> list[str]:
    """Numeric columns of a sweep that are constant within each scenario and vary across scenarios.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"scenario": ["a", "a", "b", "b"], "time": [0, 1, 0, 1],
    ...                    "k": [1.0, 1.0, 2.0, 2.0], "x": [0.0, 1.0, 0.0, 3.0]})
    >>> swept_parameters(df)
    ['k']
    """
    if scenario not in frame.columns:
        return []
    out = []
    groups = frame.groupby(scenario, sort=False)
    for column in frame.columns:
        if column in (scenario, "time", "run") or frame[column].dtype.kind not in "fiu":
            continue
        if groups[column].nunique(dropna=False).max() == 1 and frame[column].nunique() > 1:
            out.append(column)
    return out
