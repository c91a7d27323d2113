"""Time settings computed during the run: Vensim's and Stella's changing FINAL TIME, TIME STEP, SAVEPER.

A Vensim model may give its time settings as equations of ``Time`` or of model
variables (``TIME STEP = IF THEN ELSE(Time < 4, 1, 0.5)``); Vensim re-evaluates
them as the run goes. :class:`TimeEquations` keeps those equations on the model;
the engine evaluates them at every step (see :func:`stocks_flows.engine.simulate`)
with the rules below, which are Vensim's (and PySD's):

- the run starts at the value INITIAL TIME has at the start, and later values of
  INITIAL TIME change nothing (saved times count from that start);
- at time ``t`` a row is saved when ``t - start`` is a multiple of the current
  SAVEPER (within ``TIME STEP x 1e-5``);
- the run stops at the first ``t`` not below the current FINAL TIME (within the
  same precision); otherwise it steps by the current TIME STEP.

>>> [t for t in (0.0, 1.0, 1.5) if is_saved(t - 0.0, 0.5, 0.5 * RPREC)]
[0.0, 1.0, 1.5]
>>> goes_on(28.0, 28.0, 1.0)
False
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from stocks_flows.expr import Expr, Name, Time, Transform, walk
from tenor.core.errors import SimulationError

__all__ = [
    "KEYS",
    "LABELS",
    "RPREC",
    "TimeEquations",
    "changes_during_run",
    "goes_on",
    "inline_settings",
    "is_saved",
    "one_value",
    "require_fixed",
    "saved_time",
]

RPREC = 1e-5
"""Relative precision (of TIME STEP) for the stop and save tests, as PySD's ``Time.rprec``."""

KEYS = ("initial_time", "final_time", "time_step", "saveper")
"""The four time settings, in the order they are computed."""

LABELS = {"initial_time": "INITIAL TIME", "final_time": "FINAL TIME", "time_step": "TIME STEP", "saveper": "SAVEPER"}


@dataclass(frozen=True)
class TimeEquations:
    """The equations of the four time settings, each in terms of ``Time`` and model variables only
    (a setting that names another has that one's equation in its place)."""

    initial_time: Expr
    final_time: Expr
    time_step: Expr
    saveper: Expr


class _Inline(Transform):
    def __init__(self, trees: Mapping[str, Expr], key: Callable[[str], str]) -> None:
        self.trees, self.key = trees, key

    def name(self, node: Name) -> Expr:
        return self.trees.get(self.key(node.name), node)


def inline_settings(trees: Mapping[str, Expr], key: Callable[[str], str]) -> dict[str, Expr]:
    """Each setting's equation with the settings it names replaced by their equations.

    ``key`` turns a name into a setting key (``"TIME STEP"`` -> ``"time_step"``).

    >>> from stocks_flows.expr import Number, to_text
    >>> out = inline_settings({"time_step": Number(0.5), "saveper": Name("time_step")}, str)
    >>> to_text(out["saveper"])
    '0.5'
    """
    out = dict(trees)
    for _ in KEYS:  # settings name each other at most len(KEYS) deep
        out = {k: _Inline(out, key)(tree) for k, tree in out.items()}
    return out


def changes_during_run(tree: Expr) -> bool:
    """Whether a (settings-inlined) equation uses ``Time`` or a model variable."""
    return any(isinstance(node, (Time, Name)) for node in walk(tree))


def is_saved(delay: float, saveper: float, prec: float) -> bool:
    """Whether the row ``delay`` after the start is saved: a multiple of SAVEPER within ``prec``."""
    return delay % saveper < prec or -delay % saveper < prec


def goes_on(t: float, final_time: float, time_step: float) -> bool:
    """Whether the run steps on from ``t`` (else it stops at ``t``)."""
    return t + time_step * RPREC < final_time


def saved_time(t: float, time_step: float) -> float:
    """``t`` rounded to the precision of the current TIME STEP, as saved times are written."""
    digits = -int(np.log10(time_step * RPREC))
    return float(np.round(t, digits)) if abs(digits) < 300 else float(t)


def one_value(key: str, value: object, n: int, t: float) -> float:
    """The value of a time setting shared by ``n`` scenarios; refuse when they differ or it is unusable.

    Raises
    ------
    SimulationError
        When the scenarios give different values (one run has one time axis), or the value is not a
        finite number (TIME STEP and SAVEPER must also be positive).

    >>> one_value("time_step", np.array([0.5, 0.5]), 2, 4.0)
    0.5
    """
    label = LABELS[key]
    values = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    first = float(values[0])
    if n > 1 and not np.array_equal(values, np.full(n, first), equal_nan=True):
        raise SimulationError(
            f"{label} differs between scenarios at time {t:g} (from {np.nanmin(values):g} to "
            f"{np.nanmax(values):g}); the scenarios of one run share one time axis",
            hint=f"run the scenarios that give different values of {label} in separate runs",
        )
    if not np.isfinite(first) or (key != "final_time" and first <= 0):
        need = "a finite number" if key == "final_time" else "a positive number"
        raise SimulationError(
            f"{label} is {first:g} at time {t:g}; it must be {need}",
            hint=f"check the equation of {label} and the values it uses at that time",
        )
    return first


def require_fixed(equations: TimeEquations | None, what: str) -> None:
    """Refuse ``what`` (an analysis that needs the saved times before the run) on a model whose time
    settings change during the run (``equations`` is ``model.time_equations``).

    >>> require_fixed(None, "calibration")
    """
    if equations is None:
        return
    changing = " and ".join(LABELS[k] for k in KEYS if changes_during_run(getattr(equations, k)))
    raise SimulationError(
        f"{what} needs the saved times before the run, and this model's {changing} change during the run",
        hint="give the time settings numbers for this analysis, or run the model with tenor simulate",
    )
