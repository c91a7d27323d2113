"""Scenarios, grid sweeps and Monte Carlo: many runs of one model, as one table of parameters.

A *scenario* is a set of parameter values: constants (``k=0.2``, or one element
``rate[10y]=0.01``; a dimensioned name without an element sets every element)
and initial values of stocks. Three ways to make many of them:

- a *grid sweep* crosses evenly spaced values: ``k=0.1:0.5:5`` is five values
  from 0.1 to 0.5 (both included); two such axes give every combination;
- *Monte Carlo* draws each parameter from a distribution: ``normal(mu, sd)``,
  ``uniform(low, high)``, ``lognormal(mu, sigma)`` (of the logarithm) or
  ``triangular(low, mode, high)``, with a seed so the draw is reproducible;
- a named scenario of the spec (``--scenario``) changes the base model first.

:func:`run_scenarios` runs the table with the vectorised engine (all scenarios
in lockstep) or with PySD (one at a time), and returns a
:class:`~stocks_flows.engine.Run`: a tidy DataFrame with one row per
(scenario, time) and the parameter values as columns (``Run.to_frame``), or an
xarray Dataset (``Run.to_xarray``). :func:`write_table` writes CSV or Parquet
atomically.

Examples
--------
>>> table = grid([parse_grid("k=1:2:3"), parse_grid("m=0:1:2")])
>>> table.columns["k"].tolist(), table.columns["m"].tolist()
([1.0, 1.0, 1.5, 1.5, 2.0, 2.0], [0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
>>> draws = monte_carlo([parse_sample("k=normal(0, 1)")], samples=3, seed=7)
>>> draws.columns["k"].round(3).tolist() == monte_carlo(
...     [parse_sample("k=normal(0, 1)")], samples=3, seed=7).columns["k"].round(3).tolist()
True
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from stocks_flows.engine import Run
from stocks_flows.expr import Number
from stocks_flows.limits import MAX_SCENARIOS
from stocks_flows.model import Model
from tenor.core.errors import SimulationError, TenorError
from tenor.core.specfile import did_you_mean

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "ParameterTable",
    "grid",
    "monte_carlo",
    "parse_assignment",
    "parse_grid",
    "parse_sample",
    "resolve_parameter",
    "resolve_parameters",
    "run_named_scenarios",
    "run_scenarios",
    "single",
    "write_table",
]

DISTRIBUTIONS = {"normal": 2, "uniform": 2, "lognormal": 2, "triangular": 3}
"""Distribution name -> number of parameters."""

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class Distribution:
    """A distribution to draw one parameter from."""

    kind: str
    args: tuple[float, ...]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        a = self.args
        if self.kind == "normal":
            return rng.normal(a[0], a[1], n)
        if self.kind == "uniform":
            return rng.uniform(a[0], a[1], n)
        if self.kind == "lognormal":
            return rng.lognormal(a[0], a[1], n)
        return rng.triangular(a[0], a[1], a[2], n)


@dataclass
class ParameterTable:
    """One row per scenario: its name and a value for each parameter."""

    names: list[str]
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)


def _split(text: str, what: str, example: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise TenorError(f"cannot read {what} {text!r}", hint=f"write it as {example}")
    return name.strip(), value.strip()


def parse_assignment(text: str) -> tuple[str, float]:
    """``"NAME=VALUE"`` -> (name, value).

    >>> parse_assignment("rate[10y]=0.25")
    ('rate[10y]', 0.25)
    """
    name, value = _split(text, "the setting", "NAME=VALUE, e.g. k=0.5")
    try:
        return name, float(value)
    except ValueError:
        raise TenorError(f"{value!r} is not a number (in {text!r})", hint="write NAME=VALUE, e.g. k=0.5") from None


def parse_grid(text: str) -> tuple[str, np.ndarray]:
    """``"NAME=start:stop:num"`` -> (name, ``num`` evenly spaced values from start to stop)."""
    name, value = _split(text, "the sweep", "NAME=start:stop:num, e.g. k=0.1:0.5:5")
    parts = value.split(":")
    try:
        if len(parts) == 1:
            return name, np.array([float(parts[0])])
        if len(parts) != 3:
            raise ValueError
        start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise TenorError(
            f"cannot read the sweep {text!r}", hint="write NAME=start:stop:num, e.g. k=0.1:0.5:5"
        ) from None
    if num < 1:
        raise TenorError(f"the sweep {text!r} has no values", hint="num must be at least 1")
    if num > MAX_SCENARIOS:
        raise TenorError(
            f"the sweep {text!r} has {num:,} values; a sweep runs at most {MAX_SCENARIOS:,} scenarios",
            hint="use fewer values",
        )
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise TenorError(f"the sweep {text!r} has a bound that is not a finite number", hint="e.g. k=0.1:0.5:5")
    return name, np.linspace(start, stop, num)


def parse_sample(text: str) -> tuple[str, Distribution]:
    """``"NAME=normal(mu, sd)"`` -> (name, distribution)."""
    name, value = _split(text, "the distribution", 'NAME=normal(mu,sd), e.g. "k=normal(0.2,0.05)"')
    m = re.fullmatch(rf"\s*([A-Za-z]+)\s*\(\s*({_NUMBER}(?:\s*,\s*{_NUMBER})*)\s*\)\s*", value)
    kinds = ", ".join(f"{k}({'a, b' if n == 2 else 'low, mode, high'})" for k, n in DISTRIBUTIONS.items())
    if not m:
        raise TenorError(f"cannot read the distribution {value!r}", hint=f"write one of {kinds}")
    kind = m.group(1).lower()
    if kind not in DISTRIBUTIONS:
        close = did_you_mean(kind, DISTRIBUTIONS)
        raise TenorError(
            f"unknown distribution {kind!r}",
            hint=f"did you mean {close!r}?" if close else f"write one of {kinds}",
        )
    args = tuple(float(x) for x in m.group(2).split(","))
    if len(args) != DISTRIBUTIONS[kind]:
        raise TenorError(f"{kind} takes {DISTRIBUTIONS[kind]} numbers, got {len(args)}", hint=f"write one of {kinds}")
    if not all(np.isfinite(args)) or not np.isfinite(max(args) - min(args)):
        raise TenorError(
            f"{kind}: the numbers must be finite and their spread below 1.8e308", hint=f"write one of {kinds}"
        )
    if kind in ("normal", "lognormal") and args[1] < 0:
        raise TenorError(f"{kind}: the spread must not be negative", hint=f"e.g. {kind}(0, 1)")
    if kind == "uniform" and args[1] < args[0]:
        raise TenorError("uniform(low, high) needs low <= high", hint="e.g. uniform(0, 1)")
    if kind == "triangular" and not (args[0] <= args[1] <= args[2] and args[0] < args[2]):
        raise TenorError(
            "triangular(low, mode, high) needs low <= mode <= high and low < high",
            hint="e.g. triangular(0, 1, 2)",
        )
    return name, Distribution(kind, args)


def grid(axes: Sequence[tuple[str, np.ndarray]]) -> ParameterTable:
    """Every combination of the axes' values (the last axis varies fastest)."""
    names = [n for n, _ in axes]
    if len(set(names)) != len(names):
        raise TenorError("a parameter is swept twice", hint="give each parameter one --set")
    total = int(np.prod([len(values) for _, values in axes], dtype=float)) if axes else 1
    if total > MAX_SCENARIOS:
        raise TenorError(
            f"the grid has {total:,} combinations; a sweep runs at most {MAX_SCENARIOS:,} scenarios",
            hint="use fewer values on some axes",
        )
    combos = list(itertools.product(*(values for _, values in axes)))
    columns = {name: np.array([c[i] for c in combos], dtype=float) for i, name in enumerate(names)}
    return ParameterTable([f"s{i}" for i in range(len(combos))], columns)


def monte_carlo(draws: Sequence[tuple[str, Distribution]], samples: int, seed: int | None) -> ParameterTable:
    """``samples`` scenarios, each parameter drawn from its distribution (reproducible for a seed)."""
    if samples < 1:
        raise TenorError("--samples must be at least 1")
    if samples > MAX_SCENARIOS:
        raise TenorError(
            f"--samples {samples:,} is more than a sweep runs ({MAX_SCENARIOS:,} scenarios)",
            hint="draw fewer samples",
        )
    rng = np.random.default_rng(seed)
    columns = {name: dist.sample(rng, samples) for name, dist in draws}
    return ParameterTable([f"s{i}" for i in range(samples)], columns)


def single(settings: Sequence[tuple[str, float]] = (), name: str = "base") -> ParameterTable:
    """A table of one scenario."""
    return ParameterTable([name], {k: np.array([v]) for k, v in settings})


def resolve_parameter(model: Model, name: str) -> list[str]:
    """Scalar names a parameter sets: a constant, one or every element, or a stock's initial value."""
    if name in model.variables:
        kind = model.variables[name].kind
        if kind in ("constant", "stock"):
            return [name]
        raise TenorError(
            f"{name!r} is a {kind}, computed by its equation; only constants and stocks' initial values can be set",
            hint="make it a constant, or set one of the constants it uses",
        )
    members = [n for n, v in model.variables.items() if v.base == name and v.kind in ("constant", "stock")]
    if members:
        return members
    pool = sorted({v.base or n for n, v in model.variables.items() if v.kind in ("constant", "stock")})
    close = did_you_mean(name, pool)
    raise TenorError(
        f"unknown parameter {name!r}",
        hint=f"did you mean {close!r}?" if close else "constants and stocks: " + ", ".join(pool),
    )


def resolve_parameters(model: Model, names: Sequence[str], what: str = "") -> dict[str, list[str]]:
    """:func:`resolve_parameter` of each name; two names setting one scalar (``c`` and ``c[a]``) are refused.

    ``what`` prefixes the messages (``"fit: "``).
    """
    targets: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for name in names:
        try:
            targets[name] = resolve_parameter(model, name)
        except TenorError as err:
            raise TenorError(f"{what}{err.message}", hint=err.hint) from None
        for scalar in targets[name]:
            if scalar in seen:
                raise TenorError(
                    f"{what}{scalar!r} is set by both {seen[scalar]!r} and {name!r}", hint="set each parameter once"
                )
            seen[scalar] = name
    return targets


def run_scenarios(
    model: Model,
    table: ParameterTable,
    *,
    engine: str = "vector",
    scenario: str | None = None,
    variables: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    chunk_size: int = 4096,
    progress: Callable[[int], None] | None = None,
    kernel: str | None = None,
) -> Run:
    """Run every scenario of ``table`` and return the results with the parameters as columns.

    ``kernel`` picks who computes the vector engine's runs (see :func:`stocks_flows.engine.simulate`).
    """
    base = model.with_scenario(scenario) if scenario else model
    params: dict[str, np.ndarray] = {}
    for name, values in table.columns.items():
        for target in resolve_parameter(base, name):
            params[target] = np.asarray(values, dtype=float)
    if variables is not None:
        unknown = [v for v in variables if v not in base.variables]
        if unknown:
            close = did_you_mean(unknown[0], base.variables)
            raise TenorError(f"unknown variable {unknown[0]!r}", hint=f"did you mean {close!r}?" if close else None)
    if engine == "vector":
        from stocks_flows.engine import simulate

        run = simulate(
            base,
            params,
            variables=variables,
            times=times,
            scenario_names=table.names,
            chunk_size=chunk_size,
            progress=progress,
            kernel=kernel,
        )
    elif engine == "pysd":
        from stocks_flows.pysd_runner import run_pysd_scenarios

        run = run_pysd_scenarios(
            base, params or None, variables=variables, scenario_names=table.names, progress=progress
        )
        if times is not None:
            keep = np.isin(np.round(run.time, 9), np.round(np.asarray(times, dtype=float), 9))
            run = Run(run.time[keep], run.variables, run.values[:, keep], run.scenarios, run.parameters)
    else:
        raise SimulationError(f"unknown engine {engine!r}", hint="use vector or pysd")
    run.parameters = {k: np.asarray(v, dtype=float) for k, v in table.columns.items()}
    return run


def run_named_scenarios(
    model: Model,
    names: Sequence[str] | None = None,
    *,
    variables: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
) -> Run:
    """Run named scenarios of the spec together (``"base"`` is the model as it is).

    Scenarios that change only constants and initial values run in one batch
    of the vectorised engine; those that change a lookup run in a batch per
    set of lookups. The result lists the scenarios in the order asked, with the
    values they set as parameter columns (a scenario that does not set one
    shows the model's value, or NaN for an initial value given by an equation).

    Examples
    --------
    >>> from stocks_flows.load import parse_model
    >>> model = parse_model(
    ...     "time: {stop: 4}\\nconstants: {k: 0.5}\\nstocks: {s: {initial: 8}}\\n"
    ...     "flows: {f: {from: s, equation: k * s}}\\n"
    ...     "scenarios: {slow: {constants: {k: 0.25}}, big: {initial: {s: 16}}}\\n")
    >>> run = run_named_scenarios(model)
    >>> run.scenarios, run.values[:, -1, run.variables.index("s")].tolist()
    (['base', 'slow', 'big'], [0.5, 2.53125, 1.0])
    """
    from stocks_flows.engine import simulate

    chosen = ["base", *model.scenarios] if names is None else list(names)
    for name in chosen:
        if name != "base":
            model.scenario(name)
    scenarios = {name: model.scenarios.get(name) for name in chosen}
    constants = sorted({k for sc in scenarios.values() if sc for k in sc.constants})
    initials = sorted({k for sc in scenarios.values() if sc for k in sc.initial})

    def base_initial(stock: str) -> float:
        initial = model.variables[stock].initial
        return float(initial.value) if isinstance(initial, Number) else float("nan")

    columns: dict[str, list[float]] = {k: [] for k in (*constants, *initials)}
    for name in chosen:
        sc = scenarios[name]
        for k in constants:
            base_value = model.variables[k].value
            columns[k].append(sc.constants.get(k, base_value) if sc else base_value)
        for k in initials:
            columns[k].append(sc.initial.get(k, base_initial(k)) if sc else base_initial(k))
    groups: dict[tuple, list[int]] = {}
    for i, name in enumerate(chosen):
        sc = scenarios[name]
        key = tuple(sorted((sc.lookups if sc else {}).items()))
        groups.setdefault(key, []).append(i)
    placed: dict[int, tuple[Run, int]] = {}
    for key, members in groups.items():
        lookups = dict(key)
        base = replace(model, lookups={**model.lookups, **lookups}) if lookups else model
        params = {k: np.asarray([v[i] for i in members], dtype=float) for k, v in columns.items()}
        run = simulate(base, params, variables=variables, times=times, scenario_names=[chosen[i] for i in members])
        for j, i in enumerate(members):
            placed[i] = (run, j)
    first = placed[0][0]
    values = np.stack([placed[i][0].values[placed[i][1]] for i in range(len(chosen))])
    parameters = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    return Run(first.time, first.variables, values, chosen, parameters)


def write_table(frame: Any, path: str | Path, *, inputs: Sequence[str | Path] = ()) -> None:
    """Write a DataFrame as CSV or Parquet (by the suffix), atomically."""
    from tenor.core.output import atomic_path

    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise TenorError(f"cannot write {suffix or 'a file without suffix'!r}", hint="name the output .csv or .parquet")
    with atomic_path(path, inputs=inputs) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
