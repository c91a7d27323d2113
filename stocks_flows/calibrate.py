"""Calibration: fit constants (and initial values) of a stock-and-flow model to observed data.

The objective is a weighted sum of squared errors at the data times::

    f(theta) = sum over series j, times t of  w_j * (y_j(t) - m_j(t; theta))^2

where ``y_j`` is an observed series (a column of the data named as a model
variable, ``name[element]`` for an element of a subscripted one) and ``m_j`` the
simulated one, read at the data times (linearly interpolated between saved
steps when a data time is not a saved time). Missing cells (NaN) are skipped.
The default weight of a series is ``1 / variance`` of its observed values, so
series in different units count alike; ``weights={"var": w}`` sets it.

Every candidate *population* is run as ONE batch of the vectorised engine
(:func:`stocks_flows.engine.simulate`), so a population of 50 costs little more
than a single run; runs stop at the last data time. Three optimisers, all over the box given by ``fit``:

- ``"de"``: SciPy's differential evolution (``vectorized=True``,
  ``updating="deferred"``), then a local least-squares polish;
- ``"cmaes"``: CMA-ES (the ``cma`` package), ask/tell with the population in one batch,
  then the same polish;
- ``"least_squares"``: SciPy's trust-region least squares, started from the best
  point of a Latin-hypercube batch, with the Jacobian by batched finite differences.

A candidate whose run produces NaN or infinity gets a large finite objective
and is counted (:attr:`Calibration.nan_candidates`).

Intervals (95%) assume independent Gaussian errors, with variance
``sigma^2 / w_j`` for series ``j`` and ``sigma^2`` estimated from the residuals
(``sigma^2 = f_min / (n - p)``). ``interval="profile"`` (the default) is the
profile likelihood interval: the values of one parameter at which the
log-likelihood, with every other parameter re-optimised, falls by
``chi2(1, 0.95) / 2 = 1.92`` from its maximum, i.e. ``f <= f_min + 3.84 sigma^2``.
``interval="bootstrap"`` is a parametric bootstrap: data are redrawn from the
fitted run plus Gaussian noise, refitted, and the 2.5% and 97.5% percentiles
taken. Intervals are clipped to the bounds; :attr:`FittedParameter.at_bound` says
which end was clipped.

Examples
--------
>>> import pandas as pd
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {start: 0, stop: 10, dt: 0.25}
... constants: {k: 0.5}
... stocks: {s: {initial: 100}}
... flows: {decay: {from: s, equation: k * s}}
... ''')
>>> from stocks_flows.engine import simulate
>>> run = simulate(model, {"k": [0.3]}, times=[0, 2, 4, 6, 8, 10])
>>> data = pd.DataFrame({"time": run.time, "s": run.values[0, :, run.variables.index("s")]})
>>> cal = calibrate(model, data, fit={"k": (0.01, 1.0)}, seed=1)
>>> round(cal.fitted["k"].value, 6)
0.3
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from stocks_flows.engine import save_times, simulate
from stocks_flows.model import Model, Scenario
from stocks_flows.sampling import MAX_SEED, check_seed
from stocks_flows.scenarios import resolve_parameters
from stocks_flows.time_axis import require_fixed
from tenor.core.errors import SimulationError, TenorError
from tenor.core.specfile import did_you_mean
from tenor.core.tables import csv_lines, first_non_number, read_table

__all__ = [
    "BOUND_SUFFIXES",
    "INTERVALS",
    "METHODS",
    "PENALTY",
    "Calibration",
    "Experiment",
    "ExperimentsCalibration",
    "FittedParameter",
    "calibrate",
    "calibrate_experiments",
    "experiments_objective",
    "objective",
    "parse_bounds",
    "read_data",
]

METHODS = ("de", "cmaes", "least_squares")
"""The optimisers :func:`calibrate` offers."""

INTERVALS = ("profile", "bootstrap")
"""The interval methods :func:`calibrate` offers."""

PENALTY = 1e30
"""The objective given to a candidate whose run is NaN or infinite at a data time."""

LEVEL = 0.95
_CHI2_95 = 3.841458820694124  # chi2(1).ppf(0.95)
_DE_POPSIZE = 15  # differential evolution's population: this many candidates per fitted parameter
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-"}


# --- data ----------------------------------------------------------------------------------


def read_data(path: str | Path) -> Any:
    """Observed data from CSV or Parquet: a ``time`` column and one column per observed variable.

    Empty cells (and ``NA``, ``NaN``) are missing and skipped by the fit. A cell
    that is not a number is an error naming the file, the row and the column.
    Returns a pandas DataFrame (its ``attrs["source"]`` is the path).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    raw = read_table(p, dtype=str, keep_default_na=False, comment="#", skipinitialspace=True)
    if suffix == ".csv":
        header, lines = csv_lines(p, comment="#")
        _no_repeated_columns(p, header)
        word = "line"
    else:
        lines, word = list(range(1, len(raw) + 1)), "row"
    frame = _numeric_frame(raw, str(path), lines, word)
    frame.attrs.update(source=str(path), row_lines=lines, row_word=word)
    return frame


def _line(lines: Any, i: int) -> int:
    """The line (or row) of the ``i``-th data row: from the file's layout when known, else ``i + 1``."""
    return int(lines[i]) if lines is not None and i < len(lines) else i + 1


def _no_repeated_columns(path: Path, header_line: int) -> None:
    """A column named twice in the header is an error (pandas would quietly rename the second ``x.1``)."""
    import csv

    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for _ in range(header_line - 1):
            fh.readline()
        header = next(csv.reader(fh, skipinitialspace=True), [])
    names = [h.strip() for h in header]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise TenorError(
            f"{path}: line {header_line}: the column {twice!r} appears twice",
            hint="give each observed series one column",
        )


def _numeric_frame(raw: Any, source: str, lines: Sequence[int] | None, row_word: str) -> Any:
    """Every column as floats; the first non-numeric cell is an error located by row and column."""
    import pandas as pd

    raw = raw.rename(columns=lambda c: str(c).strip())
    out = {}
    for column in raw.columns:
        values = raw[column]
        numbers = pd.to_numeric(values, errors="coerce")
        i = first_non_number(values, _MISSING)
        if i is not None:
            raise TenorError(
                f"{source}: {row_word} {_line(lines, i)}, column {column!r}: {values.iloc[i]!r} is not a number",
                hint="write a number, or leave the cell empty for a missing value",
            )
        out[column] = numbers.astype(float).to_numpy()
    return pd.DataFrame(out)


@dataclass
class _Observations:
    """The observed points, flattened: series, time, value, weight, and where to read the run."""

    series: list[str]
    series_of: np.ndarray  # (n,) index into series
    times: np.ndarray  # (n,)
    y: np.ndarray  # (n,)
    weights: dict[str, float]
    sqrt_w: np.ndarray  # (n,)
    run_times: list[float]  # saved times the engine must keep
    lo: np.ndarray  # (n,) index into run_times
    hi: np.ndarray
    frac: np.ndarray


def _data_frame(model: Model, data: Any) -> Any:
    """The data as a DataFrame with a plain index; a column of dates is refused (the model counts numbers)."""
    import pandas as pd

    if isinstance(data, Mapping):
        data = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in data.items()})
    if not isinstance(data, pd.DataFrame):
        raise TenorError("the data must be a DataFrame (or a mapping of columns)", hint="use read_data(path)")
    if str(data.index.name).lower() == "time" and not any(str(c).strip().lower() == "time" for c in data.columns):
        data = data.reset_index()
    source = str(data.attrs.get("source", "<data>"))
    for column in data.columns:
        if pd.api.types.is_datetime64_any_dtype(data[column]) or pd.api.types.is_timedelta64_dtype(data[column]):
            raise TenorError(
                f"{source}: column {str(column)!r} holds dates; the model counts time in {model.time.unit}s",
                hint=f"give times as numbers in {model.time.unit}s from the model's start",
            )
    return data


@dataclass(frozen=True)
class _Table:
    """The data read as numbers: its times, its series' columns and how to name a row in an error."""

    source: str
    frame: Any
    columns: dict[str, Any]
    time_col: Any
    t: np.ndarray
    names: list[str]
    lines: Any
    word: str


def _numeric_table(data: Any) -> _Table:
    source = str(data.attrs.get("source", "<data>"))
    lines, word = data.attrs.get("row_lines"), str(data.attrs.get("row_word", "row"))
    frame = _numeric_frame(data, source, None, "row") if any(not _is_float(data[c]) for c in data.columns) else data
    columns = {str(c).strip(): c for c in frame.columns}
    time_col = next((columns[c] for c in columns if c.lower() == "time"), None)
    if time_col is None:
        raise TenorError(
            f"{source}: no 'time' column (columns: {', '.join(columns) or 'none'})",
            hint="name the column of times 'time'",
        )
    t = frame[time_col].to_numpy(float)
    if np.isnan(t).any():
        i = int(np.argmax(np.isnan(t)))
        raise TenorError(
            f"{source}: {word} {_line(lines, i)}, column 'time': the time is missing", hint="give every row a time"
        )
    names = [c for c in columns if columns[c] != time_col]
    if not names:
        raise TenorError(f"{source}: no observed series besides 'time'", hint="add a column named as a model variable")
    return _Table(source, frame, columns, time_col, t, names, lines, word)


def _check_within_run(table: _Table, saved: np.ndarray, prec: float) -> None:
    for i, ti in enumerate(table.t):
        if ti < saved[0] - prec or ti > saved[-1] + prec:
            raise TenorError(
                f"{table.source}: {table.word} {_line(table.lines, i)}: time {ti:g} is outside the run "
                f"({saved[0]:g} to {saved[-1]:g})",
                hint="drop the rows outside the run, or change time.start/time.stop of the model",
            )


def _checked_weights(weights: Mapping[str, float] | None, names: list[str]) -> dict[str, float]:
    user_weights = dict(weights or {})
    for name in user_weights:
        if name not in names:
            close = did_you_mean(name, names)
            raise TenorError(
                f"weights: {name!r} is not an observed series",
                hint=f"did you mean {close!r}?" if close else "observed series: " + ", ".join(names),
            )
        w = user_weights[name]
        if not (isinstance(w, int | float) and math.isfinite(w) and w >= 0):
            raise TenorError(f"weights: {name!r} has weight {w!r}", hint="a weight is a finite number >= 0")
    if names and all(user_weights.get(name, 1.0) == 0 for name in names):
        raise TenorError(
            "weights: every series has weight 0, so every candidate fits equally well",
            hint="give at least one observed series a positive weight",
        )
    return user_weights


def _observed_series(
    model: Model, table: _Table, user_weights: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Each series' observed points flattened (series index, time, value) and its weight.

    A series without a given weight is weighted by the inverse of its variance.
    """
    series_of, times, ys = [], [], []
    used_weights: dict[str, float] = {}
    for j, name in enumerate(table.names):
        if name not in model.variables:
            close = did_you_mean(name, model.variables)
            raise TenorError(
                f"{table.source}: column {name!r} is not a variable of the model",
                hint=f"did you mean {close!r}?" if close else "name each column as a model variable, e.g. x or x[a]",
            )
        values = table.frame[table.columns[name]].to_numpy(float)
        keep = ~np.isnan(values)
        if not keep.any():
            raise TenorError(
                f"{table.source}: column {name!r} has no values (every cell is missing)",
                hint="fill in some observations, or drop the column",
            )
        if name in user_weights:
            used_weights[name] = float(user_weights[name])
        else:
            var = float(np.var(values[keep], ddof=1)) if keep.sum() > 1 else 0.0
            used_weights[name] = 1.0 / var if var > 0 else 1.0
        series_of.append(np.full(int(keep.sum()), j))
        times.append(table.t[keep])
        ys.append(values[keep])
    return np.concatenate(series_of), np.concatenate(times), np.concatenate(ys), used_weights


def _observations(model: Model, data: Any, weights: Mapping[str, float] | None) -> _Observations:
    require_fixed(model.time_equations, "calibration")
    table = _numeric_table(_data_frame(model, data))
    ts = model.time
    saved = np.array([s for _, s in save_times(ts.start, ts.stop, ts.dt, ts.save_step)])
    prec = ts.dt * 1e-5
    _check_within_run(table, saved, prec)
    user_weights = _checked_weights(weights, table.names)
    series_idx, times_all, y, used_weights = _observed_series(model, table, user_weights)
    # Where to read each data time in the saved rows: exact when it is a saved time, else interpolate.
    k = np.clip(np.searchsorted(saved, times_all - prec), 0, len(saved) - 1)
    exact = np.abs(saved[k] - times_all) <= prec
    lo = np.where(exact, k, np.clip(k - 1, 0, len(saved) - 1))
    hi = k
    span = saved[hi] - saved[lo]
    frac = np.where(exact | (span <= 0), 0.0, (times_all - saved[lo]) / np.where(span > 0, span, 1.0))
    needed = sorted(set(lo.tolist()) | set(hi.tolist()))
    position = {row: i for i, row in enumerate(needed)}
    names = table.names
    sqrt_w = np.sqrt(np.array([used_weights[names[j]] for j in series_idx]))
    return _Observations(
        series=names,
        series_of=series_idx,
        times=times_all,
        y=y,
        weights=used_weights,
        sqrt_w=sqrt_w,
        run_times=[float(saved[r]) for r in needed],
        lo=np.array([position[r] for r in lo.tolist()], dtype=int),
        hi=np.array([position[r] for r in hi.tolist()], dtype=int),
        frac=frac,
    )


def _is_float(column: Any) -> bool:
    return np.issubdtype(column.dtype, np.number)


# --- the problem ---------------------------------------------------------------------------


def _through(model: Model, last: float) -> Model:
    """The model run only as far as the last saved time the data need (the steps before it are the same)."""
    ts = model.time
    stop = max(last, ts.start + ts.dt)
    if stop >= ts.stop - ts.dt * 1e-5 or any(name.lower() in ("final_time", "final time") for name in model.variables):
        return model
    return replace(model, time=replace(ts, stop=stop))


def parse_bounds(text: str) -> tuple[str, tuple[float, float]]:
    """``"NAME=low:high"`` -> (name, (low, high)).

    >>> parse_bounds("c[a]=0:5")
    ('c[a]', (0.0, 5.0))
    """
    name, sep, value = text.partition("=")
    parts = value.split(":")
    try:
        if not sep or not name.strip() or len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise TenorError(f"--fit: cannot read {text!r}", hint="write NAME=low:high, e.g. --fit k=0.01:1") from None
    return name.strip(), (low, high)


class _Problem:
    """The model, the data and the box: evaluates populations of candidates as one engine batch."""

    def __init__(
        self,
        model: Model,
        obs: _Observations,
        fit: Mapping[str, tuple[float, float]],
        chunk_size: int = 4096,
    ) -> None:
        self.model = _through(model, obs.run_times[-1])
        self.obs = obs
        self.names = list(fit)
        for name, bounds in fit.items():
            try:
                low, high = (float(b) for b in bounds)
            except (TypeError, ValueError):
                raise TenorError(
                    f"fit: {name!r}: bounds {bounds!r} are not two numbers", hint="give (low, high), e.g. (0.01, 1.0)"
                ) from None
            if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
                raise TenorError(
                    f"fit: {name!r}: low ({low:g}) must be below high ({high:g})",
                    hint=f"swap them: {name}={high:g}:{low:g}"
                    if low > high
                    else "give a range: low strictly below high, both finite",
                )
        self.targets = resolve_parameters(model, self.names, "fit: ")
        self.lower = np.array([float(fit[n][0]) for n in self.names])
        self.upper = np.array([float(fit[n][1]) for n in self.names])
        self.chunk_size = chunk_size
        self.variables = list(dict.fromkeys(obs.series))
        self.var_index = np.array([self.variables.index(obs.series[j]) for j in obs.series_of], dtype=int)
        self.evaluations = 0
        self.nan_candidates = 0
        self.best_u: np.ndarray | None = None
        self.best_f = math.inf

    @property
    def p(self) -> int:
        return len(self.names)

    @property
    def n(self) -> int:
        return len(self.obs.y)

    def natural(self, u: np.ndarray) -> np.ndarray:
        """Unit-cube coordinates -> parameter values."""
        u = np.clip(u, 0.0, 1.0)
        return self.lower * (1.0 - u) + self.upper * u  # exactly the bounds at 0 and 1

    def unit(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.lower) / (self.upper - self.lower)

    def predict(self, U: np.ndarray) -> np.ndarray:
        """Simulated values at the data points for each row of ``U`` (unit coordinates): (G, n)."""
        return self.predict_values(self.natural(np.atleast_2d(U)))

    def predict_values(self, X: np.ndarray) -> np.ndarray:
        """Simulated values at the data points for each row of parameter values ``X``: (G, n)."""
        X = np.atleast_2d(X)
        params: dict[str, np.ndarray] = {}
        for i, name in enumerate(self.names):
            for scalar in self.targets[name]:
                params[scalar] = X[:, i]
        run = simulate(
            self.model,
            params,
            variables=self.variables,
            times=self.obs.run_times,
            on_nonfinite="keep",
            chunk_size=self.chunk_size,
        )
        self.evaluations += len(X)
        values = run.values  # (G, times, variables)
        lo = values[:, self.obs.lo, self.var_index]
        hi = values[:, self.obs.hi, self.var_index]
        with np.errstate(all="ignore"):
            return lo + (hi - lo) * self.obs.frac

    def residuals(self, U: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Weighted residuals ``sqrt(w) (m - y)`` (G, n) and which rows are finite (G,)."""
        pred = self.predict(U)
        target = self.obs.y if y is None else y
        r = self.obs.sqrt_w * (pred - target)
        finite = np.isfinite(r).all(axis=1)
        return r, finite

    def objective(self, U: np.ndarray) -> np.ndarray:
        """Weighted SSE of each candidate; NaN/inf candidates get :data:`PENALTY` and are counted."""
        U = np.atleast_2d(U)
        r, finite = self.residuals(U)
        with np.errstate(all="ignore"):
            f = np.where(finite, np.sum(np.where(np.isfinite(r), r, 0.0) ** 2, axis=1), PENALTY)
        self._note(U, f, finite)
        return f

    def _note(self, U: np.ndarray, f: np.ndarray, finite: np.ndarray) -> None:
        bad = int((~finite).sum())
        self.nan_candidates += bad
        if not finite.any() and self.best_u is None:
            names = ", ".join(self.names)
            raise SimulationError(
                f"the run is NaN or infinite at the data times for every candidate tried ({len(U)} of them)",
                hint=f"narrow the bounds of {names} to values where the model runs; try one with "
                "tenor simulate MODEL --set NAME=VALUE to see where it breaks",
            )
        i = int(np.argmin(f))
        if finite[i] and f[i] < self.best_f:
            self.best_f = float(f[i])
            self.best_u = np.array(U[i], dtype=float)

    def residual_jacobian(
        self, U: np.ndarray, free: Sequence[int], y: np.ndarray | None = None, step: float = 1e-6
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Residuals (G, n), forward-difference Jacobian over ``free`` (G, n, k), finite (G,): one batch."""
        U = np.atleast_2d(U)
        G, k = len(U), len(free)
        batch = np.repeat(U[:, None, :], k + 1, axis=1)  # (G, k+1, p)
        steps = np.zeros((G, k))
        for j, i in enumerate(free):
            h = np.where(U[:, i] + step <= 1.0, step, -step)
            steps[:, j] = h
            batch[:, j + 1, i] = U[:, i] + h
        pred = self.predict(batch.reshape(G * (k + 1), -1)).reshape(G, k + 1, -1)
        target = self.obs.y if y is None else y
        if target.ndim == 1:
            target = target[None, :]
        r = self.obs.sqrt_w * (pred[:, 0, :] - target)
        with np.errstate(all="ignore"):
            J = (
                self.obs.sqrt_w[None, :, None]
                * (pred[:, 1:, :] - pred[:, :1, :]).transpose(0, 2, 1)
                / steps[:, None, :]
            )
        finite = np.isfinite(r).all(axis=1)
        self.nan_candidates += int((~np.isfinite(pred).all(axis=2)).sum())
        J = np.where(np.isfinite(J), J, 0.0)
        return r, J, finite


# --- optimisers ----------------------------------------------------------------------------


def _budget_left(problem: _Problem, budget: int | None) -> int | None:
    return None if budget is None else max(0, budget - problem.evaluations)


def _de(problem: _Problem, seed: int, budget: int | None) -> None:
    from scipy.optimize import differential_evolution

    popsize = _DE_POPSIZE
    pop = popsize * problem.p
    maxiter = 200 if budget is None else max(0, budget // pop - 1)  # the first population, then maxiter more

    def func(x: np.ndarray) -> np.ndarray:  # x: (p, N)
        return problem.objective(np.asarray(x).T)

    differential_evolution(
        func,
        bounds=[(0.0, 1.0)] * problem.p,
        vectorized=True,
        updating="deferred",
        seed=seed,
        popsize=popsize,
        maxiter=maxiter,
        tol=0.01,  # SciPy's default: the polish that follows does the fine work
        polish=False,
        init="latinhypercube",
    )


def _cmaes(problem: _Problem, seed: int, budget: int | None) -> None:
    import cma

    start = _lhs_start(problem, seed, _start_size(max(8, 4 * problem.p), budget))
    options = {
        "bounds": [0.0, 1.0],
        "seed": seed % MAX_SEED + 1,  # pycma reads 0 as "seed from the clock"; it takes at most MAX_SEED
        "verbose": -9,
        "maxfevals": budget if budget is not None else 2000 * problem.p,
        "tolfun": 1e-12,
        "tolx": 1e-10,
    }
    es = cma.CMAEvolutionStrategy(start.tolist(), 0.25, options)
    while not es.stop():
        if budget is not None and problem.evaluations + es.popsize > budget:
            break
        candidates = es.ask()
        f = problem.objective(np.asarray(candidates))
        es.tell(candidates, f.tolist())


def _start_size(wanted: int, budget: int | None) -> int:
    """The size of the first Latin-hypercube batch: ``wanted``, or all the budget when that is smaller."""
    return wanted if budget is None else max(1, min(wanted, budget))


def _lhs_start(problem: _Problem, seed: int, n: int) -> np.ndarray:
    from scipy.stats import qmc

    U = qmc.LatinHypercube(d=problem.p, seed=seed).random(n)
    f = problem.objective(U)
    return np.array(U[int(np.argmin(f))])


def _polish(problem: _Problem, budget: int | None) -> None:
    """Trust-region least squares from the best point so far, Jacobian by one batch per step."""
    from scipy.optimize import least_squares

    if problem.best_u is None:
        return
    left = _budget_left(problem, budget)
    if left is not None and left < 2 * (problem.p + 1):
        return
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
    penalty = math.sqrt(PENALTY / max(problem.n, 1))
    free = list(range(problem.p))

    def evaluate(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = np.asarray(u, dtype=float).tobytes()
        if key not in cache:
            r, J, finite = problem.residual_jacobian(u[None, :], free)
            f = np.array([np.sum(r[0] ** 2) if finite[0] else PENALTY])
            problem._note(u[None, :], f, finite)
            cache.clear()
            cache[key] = (r[0] if finite[0] else np.full(problem.n, penalty), J[0])
        return cache[key]

    max_nfev = None if left is None else max(1, left // (problem.p + 1))
    u0 = np.clip(problem.best_u, 0.0, 1.0)
    try:
        least_squares(
            lambda u: evaluate(u)[0],
            u0,
            jac=lambda u: evaluate(u)[1],
            bounds=(0.0, 1.0),
            method="trf",
            x_scale="jac",
            max_nfev=max_nfev if max_nfev is not None else 100 * problem.p,
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
        )
    except ValueError:  # a degenerate start (e.g. on the boundary with zero Jacobian): keep the best so far
        pass


# --- intervals -----------------------------------------------------------------------------


def _batched_lm(
    problem: _Problem,
    U0: np.ndarray,
    free: np.ndarray,
    y: np.ndarray | None = None,
    iterations: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt for every row of ``U0`` at once, moving only the coordinates ``free`` marks.

    ``free`` is a (G, p) boolean mask (rows are independent problems); ``y`` gives each row its own
    data (G, n) or None for the observed data. Each iteration is one engine batch of ``G * (p + 1)``
    runs. Returns the fitted unit coordinates (G, p) and each row's weighted SSE.
    """
    U = np.array(U0, dtype=float)
    G, p = U.shape
    free = np.broadcast_to(np.asarray(free, dtype=bool), (G, p))
    if not free.any():
        r, finite = problem.residuals(U, y)
        return U, np.where(finite, np.sum(np.where(np.isfinite(r), r, 0) ** 2, axis=1), PENALTY)
    columns = list(range(p))

    def evaluate(V: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r, J, finite = problem.residual_jacobian(V, columns, y)
        J = J * free[:, None, :]
        r = np.where(finite[:, None], r, 0.0)
        return r, J, finite, np.where(finite, np.sum(r**2, axis=1), PENALTY)

    r, J, finite, sse = evaluate(U)
    lam = np.full(G, 1e-3)
    fixed = (~free)[:, :, None] * np.eye(p)  # keeps the fixed coordinates' rows of the system solvable
    for _ in range(iterations):
        A = np.einsum("gnk,gnl->gkl", J, J)
        g = np.einsum("gnk,gn->gk", J, r)
        system = A + lam[:, None, None] * (A * np.eye(p) + 1e-12 * np.eye(p)) + fixed
        try:
            delta = np.linalg.solve(system, -g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            delta = -np.einsum("gkl,gl->gk", np.linalg.pinv(system), g)
        trial = np.where(free, np.clip(U + delta, 0.0, 1.0), U)
        r2, J2, finite2, sse2 = evaluate(trial)
        better = sse2 < sse
        gain = np.where(better, (sse - sse2) / np.maximum(sse, 1e-300), 0.0)
        U[better], r[better], J[better], finite[better], sse[better] = (
            trial[better],
            r2[better],
            J2[better],
            finite2[better],
            sse2[better],
        )
        lam = np.where(better, np.maximum(lam / 5, 1e-10), lam * 10)
        if np.all((better & (gain < 1e-10)) | (~better & (lam > 1e8))):
            break
    return U, sse


def _wald_se(problem: _Problem, u: np.ndarray, sigma2: float) -> np.ndarray:
    """Approximate standard errors in unit coordinates, from the Jacobian at the optimum."""
    _, J, finite = problem.residual_jacobian(u[None, :], list(range(problem.p)))
    if not finite[0]:
        return np.full(problem.p, np.inf)
    cov = sigma2 * np.linalg.pinv(J[0].T @ J[0])
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return np.where(np.isfinite(se) & (se > 0), se, np.inf)


def _profile_intervals(
    problem: _Problem, u_hat: np.ndarray, f_min: float, sigma2: float
) -> list[tuple[float, float, bool, bool]]:
    """Per parameter: (low, high, low clipped at bound, high clipped at bound), in unit coordinates.

    Each parameter's profile is walked outwards on both sides, in rounds; the points of one round,
    for every parameter and side still open, are re-optimised together in one batched fit.
    """
    threshold = f_min + _CHI2_95 * sigma2
    se = _wald_se(problem, u_hat, sigma2)
    walks = []
    for i in range(problem.p):
        for side in (-1.0, 1.0):
            room = float(u_hat[i] if side < 0 else 1.0 - u_hat[i])
            first = min(room, se[i] * 4.0) if math.isfinite(se[i]) else room
            walks.append(_Walk(i, side, room, np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]) * first / 2.0, f_min))
    for attempt in range(4):
        batch = [(w, w.next_offsets()) for w in walks if w.result is None]
        batch = [(w, o) for w, o in batch if len(o)]
        if not batch:
            break
        U0 = np.concatenate([np.repeat(u_hat[None, :], len(o), axis=0) for _, o in batch])
        free = np.ones_like(U0, dtype=bool)
        row = 0
        for w, offsets in batch:
            U0[row : row + len(offsets), w.i] = u_hat[w.i] + w.side * offsets
            free[row : row + len(offsets), w.i] = False
            row += len(offsets)
        _, sse = _batched_lm(problem, U0, free, iterations=25)
        row = 0
        for w, offsets in batch:
            w.add(offsets, sse[row : row + len(offsets)], threshold, f_min, attempt)
            row += len(offsets)
    out = []
    for i in range(problem.p):
        low, high = walks[2 * i].end(u_hat), walks[2 * i + 1].end(u_hat)
        out.append((low[0], high[0], low[1], high[1]))
    return out


class _Walk:
    """One side of one parameter's profile: the offsets tried, the profile there, where it crossed."""

    def __init__(self, i: int, side: float, room: float, first: np.ndarray, f_min: float) -> None:
        self.i, self.side, self.room = i, side, room
        self.done = np.array([0.0])
        self.profile = np.array([f_min])
        self.planned = first
        self.result: float | None = None if room > 1e-12 else 0.0
        self.clipped = room <= 1e-12

    def next_offsets(self) -> np.ndarray:
        offsets = np.unique(np.clip(self.planned, 0.0, self.room))
        return offsets[offsets > self.done[-1]]

    def add(self, offsets: np.ndarray, sse: np.ndarray, threshold: float, f_min: float, attempt: int) -> None:
        self.done = np.concatenate([self.done, offsets])
        self.profile = np.concatenate([self.profile, sse])
        above = np.nonzero(self.profile > threshold)[0]
        if len(above):
            k = int(above[0])
            a, b = math.sqrt(max(self.profile[k - 1] - f_min, 0.0)), math.sqrt(self.profile[k] - f_min)
            root = math.sqrt(threshold - f_min)
            t = 1.0 if b <= a else (root - a) / (b - a)  # the signed root of the profile is near linear
            self.result = float(self.done[k - 1] + min(max(t, 0.0), 1.0) * (self.done[k] - self.done[k - 1]))
            return
        last = self.done[-1]
        if last >= self.room - 1e-12 or attempt >= 3:
            self.result, self.clipped = self.room, True  # the profile never rose enough: clipped at the bound
            return
        end = (
            self.room
            if attempt >= 2
            else min(self.room, max(last * (4.0 if attempt == 0 else 16.0), last + self.room / 4))
        )
        self.planned = np.linspace(last, end, 7)[1:]

    def end(self, u_hat: np.ndarray) -> tuple[float, bool]:
        offset = self.room if self.result is None else self.result
        return float(u_hat[self.i] + self.side * offset), bool(self.clipped or self.result is None)


def _bootstrap_intervals(
    problem: _Problem, u_hat: np.ndarray, sigma2: float, seed: int, replicates: int
) -> list[tuple[float, float, bool, bool]]:
    """Parametric bootstrap: redraw the data from the fitted run plus Gaussian noise, refit all at once."""
    rng = np.random.default_rng(seed + 7919)
    fitted = problem.predict(u_hat[None, :])[0]
    noise = rng.normal(size=(replicates, problem.n)) * np.sqrt(sigma2) / problem.obs.sqrt_w
    Y = fitted[None, :] + noise
    U0 = np.repeat(u_hat[None, :], replicates, axis=0)
    U, sse = _batched_lm(problem, U0, np.ones(problem.p, dtype=bool), Y, iterations=30)
    ok = sse < PENALTY
    out = []
    for i in range(problem.p):
        values = U[ok, i] if ok.any() else U[:, i]
        low, high = np.percentile(values, [2.5, 97.5])
        out.append((float(low), float(high), bool(low <= 1e-9), bool(high >= 1 - 1e-9)))
    return out


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FittedParameter:
    """One fitted parameter: the best value, its 95% interval, and the bounds searched."""

    name: str
    value: float
    low: float
    high: float
    lower_bound: float
    upper_bound: float
    at_bound: tuple[str, ...] = ()
    """``"low"`` and/or ``"high"`` when that end of the interval was clipped to a bound."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "low": _finite(self.low),
            "high": _finite(self.high),
            "bounds": [self.lower_bound, self.upper_bound],
            "interval_at_bound": list(self.at_bound),
        }


@dataclass
class Calibration:
    """The result of :func:`calibrate`."""

    fitted: dict[str, FittedParameter]
    objective: float
    evaluations: int
    seconds: float
    residuals: dict[str, dict[str, Any]]
    nan_candidates: int
    method: str
    interval_method: str | None
    weights: dict[str, float]
    sigma: float
    observations: int
    fit_evaluations: int = 0
    fit_seconds: float = 0.0
    scenario: str | None = None
    base_scenario: Scenario | None = field(default=None, repr=False)
    targets: dict[str, list[str]] = field(default_factory=dict, repr=False)
    model: Model | None = field(default=None, repr=False)

    @property
    def values(self) -> dict[str, float]:
        """Fitted name -> best value."""
        return {name: p.value for name, p in self.fitted.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: fitted values and intervals, objective, counts, residuals."""
        return {
            "fitted": {
                name: {k: _finite(getattr(p, k)) for k in ("value", "low", "high")} for name, p in self.fitted.items()
            },
            "bounds": {name: [p.lower_bound, p.upper_bound] for name, p in self.fitted.items()},
            "interval_at_bound": {name: list(p.at_bound) for name, p in self.fitted.items()},
            "objective": self.objective,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "fit_evaluations": self.fit_evaluations,
            "fit_seconds": self.fit_seconds,
            "nan_candidates": self.nan_candidates,
            "method": self.method,
            "interval": {
                "method": self.interval_method,
                "level": LEVEL,
                "sigma": self.sigma,
                "assumes": "independent Gaussian errors with variance sigma^2 / weight, sigma from the residuals",
            },
            "weights": dict(self.weights),
            "observations": self.observations,
            "scenario": self.scenario,
            "residuals": {name: dict(r) for name, r in self.residuals.items()},
        }

    def to_scenario(self, name: str = "fitted") -> dict[str, Any]:
        """The fitted values as a scenario body: ``{"description", "constants", "initial", "lookups"}``.

        It holds the starting scenario's changes too (constants, initial values, lookups), so running
        it alone reproduces the fitted run.
        """
        constants: dict[str, Any] = {}
        initial: dict[str, Any] = {}
        base = self.base_scenario
        settings: dict[str, tuple[str, float]] = {}
        if base is not None:
            settings.update({k: ("constant", float(v)) for k, v in base.constants.items()})
            settings.update({k: ("stock", float(v)) for k, v in base.initial.items()})
        for fit_name, scalars in self.targets.items():
            for scalar in scalars:
                kind = self.model.variables[scalar].kind if self.model is not None else "constant"
                settings[scalar] = (kind, float(self.fitted[fit_name].value))
        for scalar, (kind, value) in settings.items():
            table = initial if kind == "stock" else constants
            var = self.model.variables.get(scalar) if self.model is not None else None
            if var is not None and var.subscript:
                table.setdefault(var.base, {})[",".join(var.subscript)] = value
            else:
                table[scalar] = value
        body: dict[str, Any] = {
            "description": f"fitted by tenor calibrate ({self.method}); objective {self.objective:.6g}"
            + (f"; starting from scenario {self.scenario}" if self.scenario else "")
        }
        if constants:
            body["constants"] = constants
        if initial:
            body["initial"] = initial
        if base is not None and base.lookups:
            body["lookups"] = {
                k: {"points": [[x, y] for x, y in zip(lk.xs, lk.ys, strict=True)], "extrapolate": lk.extrapolate}
                for k, lk in base.lookups.items()
            }
        return body

    def write_scenario(self, path: str | Path, name: str = "fitted", *, inputs: Sequence[str | Path] = ()) -> None:
        """Write a scenario file atomically; ``tenor simulate MODEL --scenarios FILE --scenario NAME`` runs it."""
        from stocks_flows.scenario_file import scenario_yaml
        from tenor.core.output import write_text

        lines = [f"#   {k}: {p.value:.10g} (95% interval {p.low:.6g} to {p.high:.6g})" for k, p in self.fitted.items()]
        header = "# Fitted by tenor calibrate\n" + "\n".join(lines) + "\n"
        write_text(path, header + scenario_yaml({name: self.to_scenario(name)}), inputs=inputs)


def _finite(x: float) -> float | None:
    """A number for JSON: NaN (no interval asked) becomes None."""
    return None if math.isnan(x) else x


# --- the front door ------------------------------------------------------------------------


def _check_options(
    method: str, interval: str | None, fit: Mapping[str, Any], seed: int, max_evaluations: int | None
) -> None:
    """The checks both entry points make before any run."""
    if method not in METHODS:
        close = did_you_mean(method, METHODS)
        raise TenorError(
            f"unknown method {method!r}",
            hint=f"did you mean {close!r}?" if close else "use one of " + ", ".join(METHODS),
        )
    if interval is not None and interval not in INTERVALS:
        close = did_you_mean(interval, INTERVALS)
        raise TenorError(
            f"unknown interval method {interval!r}",
            hint=f"did you mean {close!r}?" if close else "use profile or bootstrap",
        )
    if not fit:
        raise TenorError("nothing to fit", hint="name at least one constant and its bounds, e.g. fit={'k': (0, 1)}")
    check_seed(seed)
    if max_evaluations is not None and max_evaluations < 1:
        raise TenorError("max_evaluations must be at least 1")
    if method == "de" and max_evaluations is not None and max_evaluations < _DE_POPSIZE * len(fit):
        raise TenorError(
            f"max_evaluations {max_evaluations} is below the first population of differential evolution "
            f"(at least {_DE_POPSIZE} runs per fitted parameter: {_DE_POPSIZE * len(fit)})",
            hint="raise it, or use --method least_squares or --method cmaes for a smaller budget",
        )


def _fit(
    problem: _Problem,
    method: str,
    seed: int,
    max_evaluations: int | None,
    interval: str | None,
    bootstrap_replicates: int,
    points: int,
    started: float,
) -> tuple[np.ndarray, float, float, dict[str, FittedParameter], int, float]:
    """Optimise, then the intervals: (best point, objective, error variance, fitted values,
    runs of the fit, seconds of the fit). ``points`` is the number of observations that carry noise."""
    if method == "de":
        _de(problem, seed, max_evaluations)
        _polish(problem, max_evaluations)
    elif method == "cmaes":
        _cmaes(problem, seed, max_evaluations)
        _polish(problem, max_evaluations)
    else:
        _lhs_start(problem, seed, _start_size(max(10, 5 * problem.p), max_evaluations))
        _polish(problem, max_evaluations)
    if problem.best_u is None:  # pragma: no cover - _note raises first
        raise SimulationError("no candidate gave a finite objective")
    u_hat = problem.best_u
    f_min = problem.best_f
    fit_evaluations = problem.evaluations
    fit_seconds = _time.perf_counter() - started
    sigma2 = f_min / max(points - problem.p, 1)
    x_hat = problem.natural(u_hat)
    if interval is None:
        ends = [(math.nan, math.nan, False, False)] * problem.p
    elif sigma2 <= 0:
        ends = [(float(u), float(u), False, False) for u in u_hat]
    elif interval == "profile":
        ends = _profile_intervals(problem, u_hat, f_min, sigma2)
    else:
        ends = _bootstrap_intervals(problem, u_hat, sigma2, seed, bootstrap_replicates)
    fitted = {}
    for i, name in enumerate(problem.names):
        low_u, high_u, low_clip, high_clip = ends[i]
        low = float(problem.natural(np.full(problem.p, low_u))[i]) if math.isfinite(low_u) else math.nan
        high = float(problem.natural(np.full(problem.p, high_u))[i]) if math.isfinite(high_u) else math.nan
        low = float(problem.lower[i]) if low_clip else low
        high = float(problem.upper[i]) if high_clip else high
        at = tuple(s for s, clipped in (("low", low_clip), ("high", high_clip)) if clipped)
        fitted[name] = FittedParameter(
            name, float(x_hat[i]), low, high, float(problem.lower[i]), float(problem.upper[i]), at
        )
    return u_hat, f_min, sigma2, fitted, fit_evaluations, fit_seconds


def calibrate(
    model: Model,
    data: Any,
    fit: Mapping[str, tuple[float, float]],
    scenario: str | None = None,
    weights: Mapping[str, float] | None = None,
    method: str = "de",
    seed: int = 0,
    max_evaluations: int | None = None,
    interval: str | None = "profile",
    *,
    bootstrap_replicates: int = 100,
    chunk_size: int = 4096,
) -> Calibration:
    """Fit the parameters named in ``fit`` (name -> (low, high)) to ``data``; see the module docs.

    ``data`` is a DataFrame (see :func:`read_data`) or a mapping of columns with a ``time``
    column. ``scenario`` is a named scenario of the model to start from. ``max_evaluations``
    caps the number of runs the optimiser makes (intervals are extra). ``interval`` is
    ``"profile"``, ``"bootstrap"`` or None (no intervals).
    ``data`` may also be an :class:`Experiment` or a list of them: one parameter set is then
    fitted to all at once (:func:`calibrate_experiments`).

    Raises
    ------
    TenorError
        Unknown parameter or variable (with a suggestion), bounds with low >= high, data times
        outside the run, a data column with no values, a non-numeric cell, an unknown method.
    SimulationError
        When every candidate of the first population makes the run NaN or infinite.
    """
    if _is_experiments(data):  # several experiments: one parameter set, the summed objective
        return calibrate_experiments(
            model,
            data,
            fit,
            scenario,
            weights,
            method,
            seed,
            max_evaluations,
            interval,
            bootstrap_replicates=bootstrap_replicates,
            chunk_size=chunk_size,
        )
    started = _time.perf_counter()
    _check_options(method, interval, fit, seed, max_evaluations)
    base_scenario = model.scenario(scenario) if scenario else None
    base = model.with_scenario(base_scenario)
    obs = _observations(base, data, weights)
    problem = _Problem(base, obs, fit, chunk_size=chunk_size)
    u_hat, f_min, sigma2, fitted, fit_evaluations, fit_seconds = _fit(
        problem, method, seed, max_evaluations, interval, bootstrap_replicates, problem.n, started
    )
    residuals = _residual_table(problem, u_hat)
    seconds = _time.perf_counter() - started
    return Calibration(
        fitted=fitted,
        objective=float(f_min),
        evaluations=problem.evaluations,
        seconds=seconds,
        residuals=residuals,
        nan_candidates=problem.nan_candidates,
        method=method,
        interval_method=interval,
        weights=dict(obs.weights),
        sigma=math.sqrt(sigma2),
        observations=problem.n,
        fit_evaluations=fit_evaluations,
        fit_seconds=fit_seconds,
        scenario=scenario,
        base_scenario=base_scenario,
        targets={k: list(v) for k, v in problem.targets.items()},
        model=model,
    )


def objective(
    model: Model,
    data: Any,
    parameters: Mapping[str, float | Sequence[float] | np.ndarray],
    scenario: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The calibration objective (weighted SSE) at given parameter values, one per scenario, in one batch.

    ``parameters`` maps a fitted name (as in ``fit``) to a value or to one value per scenario.
    A scenario whose run is NaN or infinite at a data time gives :data:`PENALTY`.
    """
    base = model.with_scenario(model.scenario(scenario) if scenario else None)
    obs = _observations(base, data, weights)
    values = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in parameters.items()}
    size = max((len(v) for v in values.values()), default=1)
    problem = _Problem(base, obs, {k: (0.0, 1.0) for k in values})
    X = np.column_stack([np.broadcast_to(values[k], (size,)) for k in problem.names]) if values else np.zeros((1, 0))
    r = obs.sqrt_w * (problem.predict_values(X) - obs.y)
    finite = np.isfinite(r).all(axis=1)
    with np.errstate(all="ignore"):
        return np.where(finite, np.sum(np.where(np.isfinite(r), r, 0.0) ** 2, axis=1), PENALTY)


def _residual_table(problem: _Problem, u_hat: np.ndarray) -> dict[str, dict[str, Any]]:
    evaluations = problem.evaluations
    pred = problem.predict(u_hat[None, :])[0]
    problem.evaluations = evaluations + 1
    obs = problem.obs
    out: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(obs.series):
        mask = obs.series_of == j
        resid = obs.y[mask] - pred[mask]
        out[name] = {
            "time": obs.times[mask].tolist(),
            "observed": obs.y[mask].tolist(),
            "simulated": pred[mask].tolist(),
            "residual": resid.tolist(),
            "rmse": float(np.sqrt(np.mean(resid**2))),
            "weight": obs.weights[name],
        }
    return out


# --- several experiments at once ------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """One data table observed under one scenario, with a weight in the summed objective.

    ``data`` is as for :func:`calibrate` (a DataFrame or a mapping of columns with ``time``); a
    column ``VAR:high`` holds upper bounds on ``VAR`` ("at most"), ``VAR:low`` lower bounds ("at
    least"). ``scenario`` is a scenario name of the model or a :class:`~stocks_flows.model.Scenario`
    (None: the base values). ``weight`` multiplies this experiment's weighted SSE; ``weights`` sets
    series weights for this experiment only (default: the ``weights`` given to the fit, else
    ``1 / variance`` of the series' observed values pooled over every experiment, so a series
    counts alike wherever it is observed). ``name`` labels its residuals
    (default: the scenario's name, else ``experiment N``).

    >>> Experiment(data={"time": [1.0], "s": [60.0]}, scenario="fast", weight=2.0).weight
    2.0
    """

    data: Any
    scenario: str | Scenario | None = None
    weight: float = 1.0
    weights: Mapping[str, float] | None = None
    name: str | None = None


BOUND_SUFFIXES = {":high": 1, ":low": -1}
"""Column suffixes of bounds: ``VAR:high`` penalises a simulated value above it, ``VAR:low`` below it."""


def _is_experiments(data: Any) -> bool:
    if isinstance(data, Experiment):
        return True
    return (
        isinstance(data, Sequence)
        and not isinstance(data, str | bytes)
        and len(data) > 0
        and all(isinstance(e, Experiment) for e in data)
    )


@dataclass
class _ExperimentData:
    """One experiment resolved against the model: its name, scenario, weight and observations."""

    name: str
    scenario: Scenario | None
    weight: float
    obs: _Observations  # points then bounds, series labelled by variable
    kind: np.ndarray  # (n,) 0 a point, +1 an upper bound, -1 a lower bound


def _split_bounds(model: Model, data: Any) -> tuple[Any, dict[int, Any]]:
    """The point columns and, per bound kind, a table of bound columns renamed to their variables."""
    import pandas as pd

    if isinstance(data, Mapping):
        data = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in data.items()})
    if not isinstance(data, pd.DataFrame):
        raise TenorError("the data must be a DataFrame (or a mapping of columns)", hint="use read_data(path)")
    if str(data.index.name).lower() == "time" and not any(str(c).strip().lower() == "time" for c in data.columns):
        data = data.reset_index()
    points: list[Any] = []
    bounds: dict[int, dict[Any, str]] = {1: {}, -1: {}}
    time_col = None
    for column in data.columns:
        label = str(column).strip()
        if label.lower() == "time":
            time_col = column
            continue
        for suffix, kind in BOUND_SUFFIXES.items():
            if label.endswith(suffix) and label not in model.variables:
                bounds[kind][column] = label[: -len(suffix)].strip()
                break
        else:
            points.append(column)
    keep = [time_col] if time_col is not None else []
    point_frame = data[keep + points].copy()
    point_frame.attrs.update(data.attrs)
    tables = {}
    for kind, columns in bounds.items():
        if columns:
            frame = data[keep + list(columns)].rename(columns=columns).copy()
            frame.attrs.update(data.attrs)
            tables[kind] = frame
    return point_frame, tables


def _experiment_data(
    model: Model, experiment: Experiment, index: int, weights: Mapping[str, float] | None
) -> _ExperimentData:
    if not isinstance(experiment, Experiment):
        raise TenorError(f"experiment {index + 1} is not an Experiment", hint="give Experiment(data=..., scenario=...)")
    w = experiment.weight
    if not (isinstance(w, int | float) and math.isfinite(w) and w >= 0):
        raise TenorError(f"experiment {index + 1}: weight {w!r}", hint="an experiment's weight is a finite number >= 0")
    sc = experiment.scenario
    scenario = model.scenario(sc) if isinstance(sc, str) else sc
    name = experiment.name or (scenario.name if scenario is not None else f"experiment {index + 1}")
    base = model.with_scenario(scenario)
    chosen = {**(weights or {}), **(experiment.weights or {})}
    points, tables = _split_bounds(model, experiment.data)
    point_names = {str(c).strip() for c in points.columns} - {"time", "Time", "TIME"}
    bound_names = {str(c).strip() for table in tables.values() for c in table.columns} - {"time", "Time", "TIME"}
    known = point_names | bound_names
    for key in experiment.weights or {}:
        if key not in known:
            close = did_you_mean(key, sorted(known))
            raise TenorError(
                f"experiment {name!r}: weights: {key!r} is not an observed series",
                hint=f"did you mean {close!r}?" if close else "observed: " + ", ".join(sorted(known)),
            )
    parts: list[tuple[_Observations, int]] = []
    point_weights: dict[str, float] = {}
    if point_names or not tables:
        obs = _observations(base, points, {k: v for k, v in chosen.items() if k in point_names})
        point_weights = obs.weights
        parts.append((obs, 0))
    for kind, table in tables.items():
        names = [str(c).strip() for c in table.columns if str(c).strip().lower() != "time"]
        table_weights = {k: float(chosen.get(k, point_weights.get(k, 1.0))) for k in names}
        parts.append((_observations(base, table, table_weights), kind))
    return _ExperimentData(name, scenario, float(w), *_join_observations(parts))


def _join_observations(parts: Sequence[tuple[_Observations, int]]) -> tuple[_Observations, np.ndarray]:
    """Several observation sets (on the same saved-time grid) as one, with each point's kind."""
    run_times = sorted({t for obs, _ in parts for t in obs.run_times})
    position = {t: i for i, t in enumerate(run_times)}
    series: list[str] = []
    series_of, lo, hi, kinds = [], [], [], []
    for obs, kind in parts:
        remap = np.array([position[t] for t in obs.run_times], dtype=int)
        for name in obs.series:
            if name not in series:
                series.append(name)
        series_of.append(np.array([series.index(obs.series[j]) for j in obs.series_of], dtype=int))
        lo.append(remap[obs.lo])
        hi.append(remap[obs.hi])
        kinds.append(np.full(len(obs.y), kind))
    weights: dict[str, float] = {}
    for obs, _ in parts:
        for k, v in obs.weights.items():
            weights.setdefault(k, v)
    joined = _Observations(
        series=series,
        series_of=np.concatenate(series_of),
        times=np.concatenate([obs.times for obs, _ in parts]),
        y=np.concatenate([obs.y for obs, _ in parts]),
        weights=weights,
        sqrt_w=np.concatenate([obs.sqrt_w for obs, _ in parts]),
        run_times=run_times,
        lo=np.concatenate(lo),
        hi=np.concatenate(hi),
        frac=np.concatenate([obs.frac for obs, _ in parts]),
    )
    return joined, np.concatenate(kinds)


class _ExperimentsProblem(_Problem):
    """Every experiment under every candidate in one engine batch; bounds penalised only when violated.

    The observations of all experiments are concatenated (experiment by experiment); a candidate's
    residual vector is the concatenation of each experiment's weighted residuals, scaled by the square
    root of the experiment's weight, so its squared norm is the summed objective.
    """

    def __init__(
        self,
        model: Model,
        experiments: Sequence[_ExperimentData],
        fit: Mapping[str, tuple[float, float]],
        chunk_size: int = 4096,
    ) -> None:
        run_times = sorted({t for e in experiments for t in e.obs.run_times})
        position = {t: i for i, t in enumerate(run_times)}
        offsets = np.cumsum([0] + [len(e.obs.y) for e in experiments])
        labels: list[str] = []
        series_of, lo, hi = [], [], []
        for e in experiments:
            remap = np.array([position[t] for t in e.obs.run_times], dtype=int)
            labels.extend(f"{e.name}/{s}" for s in e.obs.series)
            base = len(labels) - len(e.obs.series)
            series_of.append(e.obs.series_of + base)
            lo.append(remap[e.obs.lo])
            hi.append(remap[e.obs.hi])
        obs = _Observations(
            series=labels,
            series_of=np.concatenate(series_of),
            times=np.concatenate([e.obs.times for e in experiments]),
            y=np.concatenate([e.obs.y for e in experiments]),
            weights={f"{e.name}/{k}": v * e.weight for e in experiments for k, v in e.obs.weights.items()},
            sqrt_w=np.concatenate([e.obs.sqrt_w * math.sqrt(e.weight) for e in experiments]),
            run_times=run_times,
            lo=np.concatenate(lo),
            hi=np.concatenate(hi),
            frac=np.concatenate([e.obs.frac for e in experiments]),
        )
        super().__init__(model, obs, fit, chunk_size=chunk_size)
        self.experiments = list(experiments)
        self.offsets = offsets
        self.kind = np.concatenate([e.kind for e in experiments])
        self.points = int(np.sum(self.kind == 0))
        per_experiment = [e.obs.series for e in experiments]
        variable_of = [name for names in per_experiment for name in names]
        self.variables = list(dict.fromkeys(variable_of))
        self.var_index = np.array([self.variables.index(variable_of[j]) for j in obs.series_of], dtype=int)
        self._settings = self._scenario_settings()

    def _scenario_settings(self) -> list[tuple[Model, list[int], dict[str, np.ndarray]]]:
        """Groups of experiments that share lookups (one engine call each), with each one's set values."""
        groups: dict[tuple[tuple[str, int], ...], list[int]] = {}
        for i, e in enumerate(self.experiments):
            lookups = e.scenario.lookups if e.scenario is not None else {}
            key = tuple(sorted((k, id(v)) for k, v in lookups.items()))
            groups.setdefault(key, []).append(i)
        out = []
        for members in groups.values():
            first = self.experiments[members[0]].scenario
            lookups = dict(first.lookups) if first is not None else {}
            model = replace(self.model, lookups={**self.model.lookups, **lookups}) if lookups else self.model
            names = sorted({k for i in members if self.experiments[i].scenario is not None for k in self._set(i)})
            values: dict[str, np.ndarray] = {}
            for k in names:
                var = self.model.variables[k]
                default = math.nan if var.kind == "stock" else float(var.value if var.value is not None else math.nan)
                values[k] = np.array([self._set(i).get(k, default) for i in members], dtype=float)
            out.append((model, members, values))
        return out

    def _set(self, i: int) -> dict[str, float]:
        sc = self.experiments[i].scenario
        if sc is None:
            return {}
        return {**{k: float(v) for k, v in sc.constants.items()}, **{k: float(v) for k, v in sc.initial.items()}}

    def predict_values(self, X: np.ndarray) -> np.ndarray:
        """Simulated values at every experiment's data points for each row of ``X``: (G, n)."""
        X = np.atleast_2d(X)
        G = len(X)
        out = np.empty((G, self.n))
        for model, members, values in self._settings:
            params: dict[str, np.ndarray] = {k: np.repeat(v, G) for k, v in values.items()}
            for i, name in enumerate(self.names):
                for scalar in self.targets[name]:
                    params[scalar] = np.tile(X[:, i], len(members))
            run = simulate(
                model,
                params,
                variables=self.variables,
                times=self.obs.run_times,
                on_nonfinite="keep",
                chunk_size=self.chunk_size,
            )
            self.evaluations += G * len(members)
            values_run = run.values.reshape(len(members), G, *run.values.shape[1:])
            for m, e in enumerate(members):
                rows = slice(self.offsets[e], self.offsets[e + 1])
                v = values_run[m]
                lo = v[:, self.obs.lo[rows], self.var_index[rows]]
                hi = v[:, self.obs.hi[rows], self.var_index[rows]]
                with np.errstate(all="ignore"):
                    out[:, rows] = lo + (hi - lo) * self.obs.frac[rows]
        return out

    def _censor(self, diff: np.ndarray) -> np.ndarray:
        """``simulated - observed``, zero where a bound holds."""
        with np.errstate(invalid="ignore"):
            upper = np.where(diff > 0, diff, 0.0)
            lower = np.where(diff < 0, diff, 0.0)
        out = np.where(self.kind == 1, upper, np.where(self.kind == -1, lower, diff))
        return np.where(np.isnan(diff), np.nan, out)

    def _target(self, y: np.ndarray | None) -> np.ndarray:
        if y is None:
            return self.obs.y
        return np.where(self.kind == 0, y, self.obs.y)  # bounds are not redrawn by the bootstrap

    def residuals(self, U: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        pred = self.predict(U)
        r = self.obs.sqrt_w * self._censor(pred - self._target(y))
        return r, np.isfinite(r).all(axis=1)

    def residual_jacobian(
        self, U: np.ndarray, free: Sequence[int], y: np.ndarray | None = None, step: float = 1e-6
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        U = np.atleast_2d(U)
        G, k = len(U), len(free)
        batch = np.repeat(U[:, None, :], k + 1, axis=1)
        steps = np.zeros((G, k))
        for j, i in enumerate(free):
            h = np.where(U[:, i] + step <= 1.0, step, -step)
            steps[:, j] = h
            batch[:, j + 1, i] = U[:, i] + h
        pred = self.predict(batch.reshape(G * (k + 1), -1)).reshape(G, k + 1, -1)
        target = self._target(y)
        if target.ndim == 1:
            target = target[None, :]
        resid = self._censor(pred - target[:, None, :])  # (G, k+1, n)
        r = self.obs.sqrt_w * resid[:, 0, :]
        with np.errstate(all="ignore"):
            J = self.obs.sqrt_w[None, :, None] * (resid[:, 1:, :] - resid[:, :1, :]).transpose(0, 2, 1)
            J = J / steps[:, None, :]
        finite = np.isfinite(r).all(axis=1)
        self.nan_candidates += int((~np.isfinite(pred).all(axis=2)).sum())
        return r, np.where(np.isfinite(J), J, 0.0), finite

    def sse_by_experiment(self, U: np.ndarray) -> np.ndarray:
        """Each experiment's weighted SSE (its weight included) for each row of ``U``: (G, E)."""
        r, _ = self.residuals(np.atleast_2d(U))
        return np.stack(
            [np.sum(r[:, self.offsets[e] : self.offsets[e + 1]] ** 2, axis=1) for e in range(len(self.experiments))],
            axis=1,
        )


def _pooled_weights(model: Model, items: Sequence[Experiment]) -> dict[str, float]:
    """Default weight of each observed series: 1 / variance of its values over every experiment."""
    import pandas as pd

    values: dict[str, list[np.ndarray]] = {}
    for e in items:
        if not isinstance(e, Experiment):
            continue
        points, _ = _split_bounds(model, e.data)
        for column in points.columns:
            label = str(column).strip()
            if label.lower() != "time":
                v = pd.to_numeric(points[column], errors="coerce").to_numpy(float)
                values.setdefault(label, []).append(v[~np.isnan(v)])
    out = {}
    for label, parts in values.items():
        v = np.concatenate(parts)
        var = float(np.var(v, ddof=1)) if len(v) > 1 else 0.0
        out[label] = 1.0 / var if var > 0 else 1.0
    return out


def _resolve_experiments(model: Model, experiments: Any, weights: Mapping[str, float] | None) -> list[_ExperimentData]:
    items = [experiments] if isinstance(experiments, Experiment) else list(experiments or [])
    if not items:
        raise TenorError("no experiments", hint="give at least one Experiment(data=..., scenario=...)")
    pooled = {**_pooled_weights(model, items), **(weights or {})}
    resolved = []
    for i, e in enumerate(items):
        try:
            resolved.append(_experiment_data(model, e, i, pooled))
        except TenorError as err:
            if type(err) is not TenorError or not isinstance(e, Experiment) or err.message.startswith("experiment"):
                raise
            label = e.name or (e.scenario if isinstance(e.scenario, str) else f"{i + 1}")
            raise TenorError(f"experiment {i + 1} ({label}): {err.message}", hint=err.hint) from None
    observed = sorted({name for e in resolved for name in e.obs.series})
    for key in weights or {}:
        if key not in observed:
            close = did_you_mean(key, observed)
            raise TenorError(
                f"weights: {key!r} is not an observed series",
                hint=f"did you mean {close!r}?" if close else "observed series: " + ", ".join(observed),
            )
    seen: dict[str, int] = {}
    for i, e in enumerate(resolved):
        if e.name in seen:
            e.name = f"{e.name} ({i + 1})"
        seen[e.name] = i
    return resolved


@dataclass
class ExperimentsCalibration(Calibration):
    """The result of :func:`calibrate_experiments`: a :class:`Calibration` plus each experiment's fit.

    ``residuals`` is keyed ``EXPERIMENT/SERIES``; ``experiments[NAME]`` holds the experiment's
    ``scenario``, ``weight``, ``objective`` (its weighted SSE at the fit, weight included),
    ``residuals`` per series (points) and ``bounds`` (each bound, the simulated value, and by how
    much it is violated, 0 when it holds).
    """

    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["experiments"] = {name: dict(e) for name, e in self.experiments.items()}
        return out


def calibrate_experiments(
    model: Model,
    experiments: Experiment | Sequence[Experiment],
    fit: Mapping[str, tuple[float, float]],
    scenario: str | None = None,
    weights: Mapping[str, float] | None = None,
    method: str = "de",
    seed: int = 0,
    max_evaluations: int | None = None,
    interval: str | None = "profile",
    *,
    bootstrap_replicates: int = 100,
    chunk_size: int = 4096,
) -> ExperimentsCalibration:
    """Fit one parameter set to several experiments at once; see "Several experiments" in the docs.

    The objective is the sum over experiments of ``weight * weighted SSE``; each experiment runs
    under its own scenario (on top of ``scenario``, when given, for all) with the candidate
    values overriding. All experiments of all candidates of a population run in one engine batch
    (one per group of experiments that change lookups). ``calibrate(model, [Experiment(...), ...],
    fit=...)`` calls this. The other arguments are as for :func:`calibrate`.

    >>> from stocks_flows.load import parse_model
    >>> from stocks_flows.model import Scenario
    >>> model = parse_model('''
    ... time: {start: 0, stop: 4, dt: 0.25}
    ... constants: {k: 0.5, load: 0}
    ... stocks: {s: {initial: 100}}
    ... flows: {decay: {from: s, equation: k * s + load}}
    ... ''')
    >>> both = [Experiment({"time": [2.0], "s": [53.596183]}, Scenario("quiet")),
    ...         Experiment({"time": [2.0], "s:high": [46.0]}, Scenario("loaded", {"load": 5.0}))]
    >>> cal = calibrate_experiments(model, both, fit={"k": (0.05, 1.0)}, interval=None)
    >>> round(cal.fitted["k"].value, 3), cal.experiments["loaded"]["bounds"][0]["violated_by"]
    (0.3, 0.0)
    """
    started = _time.perf_counter()
    _check_options(method, interval, fit, seed, max_evaluations)
    base_scenario = model.scenario(scenario) if scenario else None
    base = replace(model.with_scenario(base_scenario), scenarios=model.scenarios)
    resolved = _resolve_experiments(base, experiments, weights)
    problem = _ExperimentsProblem(base, resolved, fit, chunk_size=chunk_size)
    # bounds carry no noise: only points count towards the error variance
    u_hat, f_min, sigma2, fitted, fit_evaluations, fit_seconds = _fit(
        problem, method, seed, max_evaluations, interval, bootstrap_replicates, problem.points, started
    )
    residuals, per_experiment = _experiment_tables(problem, u_hat)
    return ExperimentsCalibration(
        fitted=fitted,
        objective=float(f_min),
        evaluations=problem.evaluations,
        seconds=_time.perf_counter() - started,
        residuals=residuals,
        nan_candidates=problem.nan_candidates,
        method=method,
        interval_method=interval,
        weights=dict(problem.obs.weights),
        sigma=math.sqrt(sigma2),
        observations=problem.n,
        fit_evaluations=fit_evaluations,
        fit_seconds=fit_seconds,
        scenario=scenario,
        base_scenario=base_scenario,
        targets={k: list(v) for k, v in problem.targets.items()},
        model=model,
        experiments=per_experiment,
    )


def _experiment_tables(
    problem: _ExperimentsProblem, u_hat: np.ndarray
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    evaluations = problem.evaluations
    pred = problem.predict(u_hat[None, :])[0]
    sse = problem.sse_by_experiment(u_hat[None, :])[0]
    problem.evaluations = evaluations + len(problem.experiments)
    obs = problem.obs
    flat: dict[str, dict[str, Any]] = {}
    out: dict[str, dict[str, Any]] = {}
    for e, exp in enumerate(problem.experiments):
        rows = np.arange(problem.offsets[e], problem.offsets[e + 1])
        series: dict[str, dict[str, Any]] = {}
        bounds: list[dict[str, Any]] = []
        for name in exp.obs.series:
            label = f"{exp.name}/{name}"
            k = obs.series.index(label)
            mask = rows[(obs.series_of[rows] == k) & (problem.kind[rows] == 0)]
            if len(mask):
                resid = obs.y[mask] - pred[mask]
                series[name] = flat[label] = {
                    "time": obs.times[mask].tolist(),
                    "observed": obs.y[mask].tolist(),
                    "simulated": pred[mask].tolist(),
                    "residual": resid.tolist(),
                    "rmse": float(np.sqrt(np.mean(resid**2))),
                    "weight": exp.obs.weights[name],
                }
            for i in rows[(obs.series_of[rows] == k) & (problem.kind[rows] != 0)]:
                gap = float(pred[i] - obs.y[i]) * (1 if problem.kind[i] == 1 else -1)
                bounds.append(
                    {
                        "series": name,
                        "time": float(obs.times[i]),
                        "bound": "at most" if problem.kind[i] == 1 else "at least",
                        "value": float(obs.y[i]),
                        "simulated": float(pred[i]),
                        "violated_by": max(gap, 0.0),
                    }
                )
        out[exp.name] = {
            "scenario": exp.scenario.name if exp.scenario is not None else None,
            "weight": exp.weight,
            "objective": float(sse[e]),
            "observations": len(rows),
            "residuals": series,
            "bounds": bounds,
        }
    return flat, out


def experiments_objective(
    model: Model,
    experiments: Experiment | Sequence[Experiment],
    parameters: Mapping[str, float | Sequence[float] | np.ndarray],
    scenario: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The summed objective of :func:`calibrate_experiments` at given values, per experiment, in one batch.

    Returns an array (candidates, experiments) of each experiment's weighted SSE (its weight
    included); sum over axis 1 for the objective. A candidate whose run is NaN or infinite at a
    data time of an experiment gives :data:`PENALTY` there.
    """
    base_scenario = model.scenario(scenario) if scenario else None
    base = replace(model.with_scenario(base_scenario), scenarios=model.scenarios)
    resolved = _resolve_experiments(base, experiments, weights)
    values = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in parameters.items()}
    size = max((len(v) for v in values.values()), default=1)
    problem = _ExperimentsProblem(base, resolved, {k: (0.0, 1.0) for k in values})
    X = np.column_stack([np.broadcast_to(values[k], (size,)) for k in problem.names]) if values else np.zeros((1, 0))
    r = problem.obs.sqrt_w * problem._censor(problem.predict_values(X) - problem.obs.y)
    out = np.empty((size, len(resolved)))
    for e in range(len(resolved)):
        part = r[:, problem.offsets[e] : problem.offsets[e + 1]]
        finite = np.isfinite(part).all(axis=1)
        with np.errstate(all="ignore"):
            out[:, e] = np.where(finite, np.sum(np.where(np.isfinite(part), part, 0.0) ** 2, axis=1), PENALTY)
    return out
