"""Global sensitivity: Sobol' indices of model outputs over ranges of parameters.

Which uncertain parameter drives an output? Sobol' variance-based indices
split the variance of an output ``Y`` over the independent parameters
``X_i``, each drawn uniformly from its range (or from a ``normal``,
``lognormal`` or ``triangular`` distribution):

- the *first-order* index ``S1_i = Var(E[Y | X_i]) / Var(Y)`` is the share of
  the variance ``X_i`` explains alone;
- the *total* index ``ST_i = E[Var(Y | X_~i)] / Var(Y)`` adds every
  interaction ``X_i`` takes part in (``ST_i - S1_i`` is its share through
  interactions; ``ST_i = 0`` means the output does not depend on it).

:func:`sobol_indices` draws Saltelli's extension of a scrambled Sobol'
sequence (``n (D + 2)`` scenarios for ``D`` parameters, SALib's
``sobol.sample``), runs them all in one batched run of the vectorised engine,
and estimates the indices with SALib's ``sobol.analyze`` (Saltelli et al.
2010 for ``S1``, Jansen 1999 for ``ST``), with bootstrap confidence intervals.

An *output* is ``variable`` (its final value), ``variable@time`` (its value at
a saved time) or ``variable@mean`` (the mean of its saved values over the run).

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {start: 0, stop: 1, dt: 1}
... constants: {a: 1, b: 1}
... auxiliaries: {y: {equation: "a + 3 * b"}}
... ''')
>>> result = sobol_indices(model, {"a": (0, 1), "b": (0, 1)}, ["y"], n=256, seed=1)
>>> [round(float(s), 2) for s in result.indices["y"].S1]   # analytic: 1/10 and 9/10
[0.1, 0.9]

References
----------
Sobol', I. M. (2001). Global sensitivity indices for nonlinear mathematical
models and their Monte Carlo estimates. *Mathematics and Computers in
Simulation* 55, 271-280.

Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. & Tarantola, S.
(2010). Variance based sensitivity analysis of model output. Design and
estimator for the total sensitivity index. *Computer Physics Communications*
181(2), 259-270.

Herman, J. & Usher, W. (2017). SALib: An open-source Python library for
sensitivity analysis. *Journal of Open Source Software* 2(9), 97.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stocks_flows.engine import save_times, simulate
from stocks_flows.model import Model
from stocks_flows.sampling import check_seed, inverse_cdf
from stocks_flows.scenarios import Distribution, parse_sample, resolve_parameters
from stocks_flows.time_axis import require_fixed
from tenor.core.errors import TenorError
from tenor.core.specfile import did_you_mean

__all__ = ["Output", "SensitivityResult", "SobolIndices", "parse_output", "parse_range", "sobol_indices"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class Output:
    """An output of a run: a variable's final value, its value at a time, or its mean over the run."""

    variable: str
    at: float | None = None
    mean: bool = False

    @property
    def label(self) -> str:
        if self.mean:
            return f"{self.variable}@mean"
        return self.variable if self.at is None else f"{self.variable}@{self.at:g}"


def parse_output(text: str) -> Output:
    """``"y"``, ``"y@12.5"`` or ``"y@mean"`` -> :class:`Output`.

    >>> parse_output("holdings[10y]@30"), parse_output("y@mean").label
    (Output(variable='holdings[10y]', at=30.0, mean=False), 'y@mean')
    """
    name, sep, when = text.strip().rpartition("@")
    if not sep:
        return Output(text.strip())
    name, when = name.strip(), when.strip()
    if not name:
        raise TenorError(f"cannot read the output {text!r}", hint="write VAR, VAR@TIME or VAR@mean")
    if when.lower() == "mean":
        return Output(name, mean=True)
    try:
        return Output(name, at=float(when))
    except ValueError:
        raise TenorError(
            f"cannot read the time {when!r} of the output {text!r}", hint="write VAR, VAR@TIME or VAR@mean"
        ) from None


def parse_range(text: str) -> tuple[str, tuple[float, float] | Distribution]:
    """``"k=0.1:0.5"`` -> ``("k", (0.1, 0.5))``: a parameter and the range it is drawn uniformly from.

    A distribution of ``tenor sweep --sample`` (``k=normal(0.2, 0.05)``) is read as such.

    >>> parse_range("rate[10y] = -1:2.5")
    ('rate[10y]', (-1.0, 2.5))
    >>> parse_range("k=triangular(0, 1, 3)")
    ('k', Distribution(kind='triangular', args=(0.0, 1.0, 3.0)))
    """
    hint = "write NAME=low:high, e.g. k=0.1:0.5 (or a distribution, e.g. k=normal(0.2,0.05))"
    name, sep, value = text.partition("=")
    if sep and "(" in value:
        return parse_sample(text)
    m = re.fullmatch(rf"\s*({_NUMBER})\s*:\s*({_NUMBER})\s*", value)
    if not sep or not name.strip() or not m:
        raise TenorError(f"cannot read the range {text!r}", hint=hint)
    low, high = float(m.group(1)), float(m.group(2))
    if not low < high:
        raise TenorError(f"the range of {name.strip()} needs low < high, got {low:g}:{high:g}", hint=hint)
    return name.strip(), (low, high)


def _distribution(name: str, spec: tuple[float, float] | Distribution) -> Distribution:
    """A range ``(low, high)`` as a uniform distribution; a distribution as it is (checked)."""
    if isinstance(spec, Distribution):
        dist = spec
    else:
        low, high = (float(x) for x in spec)
        dist = Distribution("uniform", (low, high))
    if not all(math.isfinite(a) for a in dist.args):
        raise TenorError(f"the distribution of {name} has a NaN or infinite argument")
    a = dist.args
    if dist.kind == "uniform" and not a[0] < a[1]:
        raise TenorError(f"the range of {name} needs low < high, got {a[0]:g}:{a[1]:g}")
    if dist.kind in ("normal", "lognormal") and not a[1] > 0:
        raise TenorError(f"{name}: {dist.kind}(mu, sd) needs sd > 0 to vary", hint="or leave the parameter out")
    if dist.kind == "triangular" and not a[0] < a[2]:
        raise TenorError(f"{name}: triangular(low, mode, high) needs low < high to vary")
    return dist


@dataclass
class SobolIndices:
    """First-order and total indices of one output, with their confidence half-widths, per parameter."""

    output: str
    parameters: list[str]
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray
    mean: float
    variance: float

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        return {
            "output": self.output,
            "mean": num(self.mean),
            "variance": num(self.variance),
            "parameters": {
                p: {
                    "S1": num(self.S1[i]),
                    "S1_conf": num(self.S1_conf[i]),
                    "ST": num(self.ST[i]),
                    "ST_conf": num(self.ST_conf[i]),
                }
                for i, p in enumerate(self.parameters)
            },
        }


@dataclass
class SensitivityResult:
    """Sobol' indices of every output, and how they were estimated."""

    parameters: list[str]
    distributions: dict[str, Distribution]
    n: int
    seed: int | None
    runs: int
    conf_level: float
    indices: dict[str, SobolIndices] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "sobol",
            "parameters": {p: _describe(d) for p, d in self.distributions.items()},
            "n": self.n,
            "seed": self.seed,
            "runs": self.runs,
            "conf_level": self.conf_level,
            "outputs": [ix.to_dict() for ix in self.indices.values()],
        }


def _describe(dist: Distribution) -> dict[str, Any]:
    out: dict[str, Any] = {"distribution": dist.kind, "args": list(dist.args)}
    if dist.kind == "uniform":
        out.update(low=dist.args[0], high=dist.args[1])
    return out


def _check_outputs(model: Model, outputs: Sequence[Output]) -> None:
    require_fixed(model.time_equations, "a sensitivity analysis")
    ts = model.time
    saved = np.array([t for _, t in save_times(ts.start, ts.stop, ts.dt, ts.save_step)])
    for out in outputs:
        if out.variable not in model.variables:
            close = did_you_mean(out.variable, model.variables)
            raise TenorError(
                f"unknown output variable {out.variable!r}",
                hint=f"did you mean {close!r}?" if close else "write VAR, VAR@TIME or VAR@mean",
            )
        if out.at is not None and not np.any(np.abs(saved - out.at) <= ts.dt * 1e-5):
            raise TenorError(
                f"{out.label}: {out.at:g} is not a saved time of the model",
                hint=f"saved times run from {ts.start:g} to {ts.stop:g} every {ts.save_step:g}",
            )


def sobol_indices(
    model: Model,
    ranges: Mapping[str, tuple[float, float] | Distribution],
    outputs: Sequence[str | Output],
    *,
    n: int = 1024,
    seed: int | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    chunk_size: int = 4096,
) -> SensitivityResult:
    """Sobol' first-order and total indices of ``outputs`` for parameters drawn uniformly from ``ranges``.

    ``ranges`` maps a constant (one element ``rate[10y]``, or a dimensioned
    name for all its elements at once) or a stock's initial value to
    ``(low, high)``, drawn uniformly, or to a
    :class:`~stocks_flows.scenarios.Distribution` (``normal``, ``lognormal``,
    ``triangular``; the Sobol' points are mapped through its quantile
    function). ``n`` (a power of two) is the base sample: the model runs
    ``n * (D + 2)`` scenarios, in one batch of the engine (``chunk_size`` at a
    time). The same seed gives the same indices.

    Raises
    ------
    TenorError
        For an unknown parameter or output, a bad range, ``n`` not a power of
        two, or a time that is not saved.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if not ranges:
        raise TenorError("no parameter to vary", hint="give at least one range, e.g. k=0.1:0.5")
    if n < 2 or n & (n - 1):
        below = 1 << max(1, n.bit_length() - 1)
        raise TenorError(
            f"n must be a power of two (Sobol' points are balanced only then), got {n}",
            hint=f"e.g. {below} or {below * 2}",
        )
    check_seed(seed)
    if not 0 < conf_level < 1:
        raise TenorError(f"the confidence level must lie between 0 and 1, got {conf_level:g}")
    names = list(ranges)
    dists = {name: _distribution(name, ranges[name]) for name in names}
    targets = resolve_parameters(model, names)
    parsed = [o if isinstance(o, Output) else parse_output(o) for o in outputs]
    if not parsed:
        raise TenorError("no output to analyse", hint="name one, e.g. --output y@10")
    _check_outputs(model, parsed)
    # Saltelli's scheme over the unit cube; each column is then mapped through its quantile function.
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    u = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    x = np.column_stack([inverse_cdf(dists[name], u[:, i]) for i, name in enumerate(names)])
    params = {t: x[:, i] for i, name in enumerate(names) for t in targets[name]}
    variables = list(dict.fromkeys(o.variable for o in parsed))
    ts = model.time
    final = save_times(ts.start, ts.stop, ts.dt, ts.save_step)[-1][1]
    times = None if any(o.mean for o in parsed) else sorted({final if o.at is None else o.at for o in parsed})
    run = simulate(model, params, variables=variables, times=times, chunk_size=chunk_size)
    result = SensitivityResult(names, dists, n, seed, len(x), conf_level)
    for out in parsed:
        j = run.variables.index(out.variable)
        if out.mean:
            y = run.values[:, :, j].mean(axis=1)
        else:
            k = int(np.argmin(np.abs(run.time - (final if out.at is None else out.at))))
            y = run.values[:, k, j]
        result.indices[out.label] = _analyze(
            sobol_analyze.analyze, problem, y, out.label, conf_level, num_resamples, seed
        )
    return result


def _analyze(
    analyze: Any, problem: dict, y: np.ndarray, label: str, conf_level: float, num_resamples: int, seed: int | None
) -> SobolIndices:
    names = problem["names"]
    d = len(names)
    mean, variance = float(np.mean(y)), float(np.var(y))
    if not variance > 1e-24 * max(1.0, mean * mean):  # the output does not vary: no share of variance to split
        nan = np.full(d, np.nan)
        return SobolIndices(label, names, nan, nan.copy(), nan.copy(), nan.copy(), mean, 0.0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = analyze(
            problem,
            np.asarray(y, dtype=float),
            calc_second_order=False,
            num_resamples=num_resamples,
            conf_level=conf_level,
            print_to_console=False,
            seed=seed,
        )
    return SobolIndices(
        label,
        names,
        np.asarray(res["S1"], dtype=float),
        np.asarray(res["S1_conf"], dtype=float),
        np.asarray(res["ST"], dtype=float),
        np.asarray(res["ST_conf"], dtype=float),
        mean,
        variance,
    )
