"""Many named runs of one model in one engine pass: scenarios, and the same scenarios at sweep points.

A *batch* is a set of named scenarios, each a mapping from parameter to value:
a constant (``k``), one element of a dimensioned constant (``rate[10y]``), a
dimensioned constant by its name alone (every element), or a stock (its
initial value). What a scenario does not set keeps the model's value.
:func:`run_batch` runs them together with the vectorised engine and returns a
:class:`Batch`, the results by scenario name.

A *sweep* runs the same scenarios at several points of parameter space (each
point a mapping like a scenario): :func:`run_sweep` returns one :class:`Batch`
per point, all from one engine pass. Where a scenario and its point set the
same parameter, the scenario wins (``prefer="scenario"``, e.g. a scenario that
moves an event date keeps its date at every point) or the point does
(``prefer="point"``, e.g. candidate values of a fit).

:func:`constant_values` and :func:`element_names` read a model's constants and
the scalar names of a dimensioned variable without spelling them by hand.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model(
...     "time: {stop: 4}\\nconstants: {k: 0.5}\\nstocks: {s: {initial: 8}}\\n"
...     "flows: {f: {from: s, equation: k * s}}\\n")
>>> batch = run_batch(model, {"base": {}, "slow": {"k": 0.25}, "big": {"s": 16}}, outputs=["s"])
>>> [float(batch[name]["s"][-1]) for name in batch]
[0.5, 2.53125, 1.0]
>>> [float(b["slow"]["s"][-1]) for b in run_sweep(model, {"slow": {"k": 0.25}}, [{}, {"s": 16}])]
[2.53125, 5.0625]
>>> constant_values(model)
{'k': 0.5}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from stocks_flows.model import Model, element_name
from stocks_flows.scenarios import resolve_parameter
from tenor.core.errors import TenorError
from tenor.core.specfile import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Batch", "constant_values", "element_names", "run_batch", "run_sweep"]


def constant_values(model: Model) -> dict[str, float]:
    """Every constant's value by scalar name (each element of a dimensioned constant by its own name)."""
    return {name: float(var.value) for name, var in model.variables.items() if var.value is not None}


def element_names(model: Model, name: str) -> list[str]:
    """The scalar names of a variable: itself when scalar, else one per element in dimension order.

    >>> from stocks_flows.load import parse_model
    >>> model = parse_model("time: {stop: 1}\\ndimensions: {tenor: [bills, 10y]}\\n"
    ...     "constants: {rate: {dimensions: [tenor], value: 0.1}}\\n")
    >>> element_names(model, "rate")
    ['rate[bills]', 'rate[10y]']
    """
    if name in model.variables:
        return [name]
    members = [n for n, v in model.variables.items() if v.base == name]
    if not members:
        close = did_you_mean(name, sorted({v.base or n for n, v in model.variables.items()}))
        raise TenorError(f"unknown variable {name!r}", hint=f"did you mean {close!r}?" if close else None)
    return [element_name(name, model.variables[n].subscript) for n in members]


@dataclass(frozen=True)
class Batch(Mapping[str, dict[str, np.ndarray]]):
    """The runs of a batch by scenario name: ``batch[name][variable]`` is a series over ``time``.

    ``values`` holds every run as ``values[scenario, time, variable]`` in the
    order of ``names``.
    """

    time: np.ndarray
    names: tuple[str, ...]
    variables: tuple[str, ...]
    values: np.ndarray

    def __getitem__(self, name: str) -> dict[str, np.ndarray]:
        row = self.values[self._index(name)]
        return {v: row[:, j] for j, v in enumerate(self.variables)}

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            close = did_you_mean(name, self.names)
            raise TenorError(
                f"no scenario {name!r} in the batch", hint=f"did you mean {close!r}?" if close else None
            ) from None

    def frame(self, name: str) -> pd.DataFrame:
        """One scenario as a wide DataFrame: column ``time``, then one column per variable."""
        import pandas as pd

        frame = pd.DataFrame(self[name])
        frame.insert(0, "time", self.time)
        return frame


def _scalar_settings(model: Model, settings: Mapping[str, float], where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in settings.items():
        try:
            targets = resolve_parameter(model, name)
        except TenorError as err:
            raise TenorError(f"{where}: {err.message}", hint=err.hint) from None
        for target in targets:
            out[target] = float(value)
    return out


def _defaults(model: Model, names: Sequence[str]) -> dict[str, float]:
    """The model's value of each parameter: a constant's number; NaN (the model's own) for a stock."""
    constants = constant_values(model)
    return {k: constants.get(k, np.nan) for k in names}


def run_sweep(
    model: Model,
    scenarios: Mapping[str, Mapping[str, float]],
    points: Sequence[Mapping[str, float]],
    *,
    outputs: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    prefer: Literal["scenario", "point"] = "scenario",
) -> list[Batch]:
    """Every scenario at every point, in one engine pass; one :class:`Batch` per point, in order.

    Raises
    ------
    TenorError
        When a setting names no constant or stock (naming the scenario or point).
    """
    if prefer not in ("scenario", "point"):
        raise TenorError(f"prefer must be 'scenario' or 'point', not {prefer!r}")
    runs = {name: _scalar_settings(model, s, f"scenario {name!r}") for name, s in scenarios.items()}
    at = [_scalar_settings(model, p, f"sweep point {i}") for i, p in enumerate(points)]
    names = list(runs)
    keys = sorted({k for p in at for k in p} | {k for r in runs.values() for k in r})
    defaults = _defaults(model, keys)
    columns: dict[str, list[float]] = {k: [] for k in keys}
    for point in at:
        for name in names:
            first, second = (runs[name], point) if prefer == "scenario" else (point, runs[name])
            for k in keys:
                columns[k].append(first[k] if k in first else second.get(k, defaults[k]))
    from stocks_flows.engine import simulate

    if outputs is not None:
        unknown = [v for v in outputs if v not in model.variables]
        if unknown:
            close = did_you_mean(unknown[0], model.variables)
            raise TenorError(f"unknown variable {unknown[0]!r}", hint=f"did you mean {close!r}?" if close else None)
    result = simulate(model, {k: np.asarray(v) for k, v in columns.items()}, variables=outputs, times=times)
    n = len(names)
    values = result.values
    if not keys:  # nothing set anywhere: every run is the model as it is
        values = np.repeat(values, n * len(at), axis=0)
    return [
        Batch(result.time, tuple(names), tuple(result.variables), values[i * n : (i + 1) * n]) for i in range(len(at))
    ]


def run_batch(
    model: Model,
    scenarios: Mapping[str, Mapping[str, float]],
    *,
    outputs: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
) -> Batch:
    """Every named scenario in one engine pass (``{}`` is the model as it is).

    Raises
    ------
    TenorError
        When a setting names no constant or stock, or an output no variable.
    """
    return run_sweep(model, scenarios, [{}], outputs=outputs, times=times)[0]
