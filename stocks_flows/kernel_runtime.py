"""Scalar building blocks of the compiled kernel, each matching its NumPy counterpart in the engine.

The engine (:mod:`stocks_flows.engine`) computes with NumPy arrays: ``np.minimum``
propagates NaN, ``np.interp`` returns the end values outside the table, ``np.mod``
takes the sign of the divisor. The compiled kernel works on one scenario at a time
with scalars, so each function here restates one of those rules for a scalar,
compiled with numba. Every function is also plain Python (numba's ``njit`` keeps
the original as ``.py_func``), which the tests use to check the rules one by one.

>>> _min2.py_func(1.0, float("nan"))
nan
>>> float(_pymod.py_func(-1.0, 3.0))
2.0
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "SMALL",
    "_and",
    "_eq",
    "_ge",
    "_gt",
    "_interp",
    "_interp_ext",
    "_le",
    "_lt",
    "_max2",
    "_min2",
    "_mod",
    "_ne",
    "_not",
    "_or",
    "_pymod",
    "_where",
    "_xidz",
]

SMALL = 1e-6

_jit = numba.njit(cache=True, error_model="numpy")


@_jit
def _where(cond: float, a: float, b: float) -> float:
    return a if cond != 0.0 else b


@_jit
def _lt(a: float, b: float) -> float:
    return 1.0 if a < b else 0.0


@_jit
def _le(a: float, b: float) -> float:
    return 1.0 if a <= b else 0.0


@_jit
def _gt(a: float, b: float) -> float:
    return 1.0 if a > b else 0.0


@_jit
def _ge(a: float, b: float) -> float:
    return 1.0 if a >= b else 0.0


@_jit
def _eq(a: float, b: float) -> float:
    return 1.0 if a == b else 0.0


@_jit
def _ne(a: float, b: float) -> float:
    return 1.0 if a != b else 0.0


@_jit
def _and(a: float, b: float) -> float:
    return 1.0 if (a != 0.0 and b != 0.0) else 0.0


@_jit
def _or(a: float, b: float) -> float:
    return 1.0 if (a != 0.0 or b != 0.0) else 0.0


@_jit
def _not(a: float) -> float:
    return 1.0 if a == 0.0 else 0.0


@_jit
def _min2(a: float, b: float) -> float:
    if a != a or b != b:
        return math.nan
    return a if a <= b else b


@_jit
def _max2(a: float, b: float) -> float:
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


@_jit
def _xidz(a: float, b: float, x: float) -> float:
    if abs(b) < SMALL:
        return x
    return a / b


@_jit
def _mod(x: float, m: float) -> float:
    """PySD's MODULO as the engine computes it: 0 for a divisor below SMALL."""
    if m < SMALL:
        return 0.0
    return x - m * np.trunc(x / m)


@_jit
def _pymod(a: float, b: float) -> float:
    """``np.mod`` for scalars: the remainder takes the sign of the divisor."""
    r = np.fmod(a, b)
    if r != 0.0:
        if (b < 0.0) != (r < 0.0):
            r += b
    else:
        r = math.copysign(0.0, b)
    return r


@_jit
def _bracket(x: float, xs: np.ndarray, off: int, last: int) -> int:
    """The largest j in [off, last) with ``xs[j] <= x``, for ``xs[off] <= x < xs[last]`` (bisection)."""
    lo, hi = off, last
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo


@_jit
def _interp(x: float, xs: np.ndarray, ys: np.ndarray, off: int, length: int) -> float:
    """``np.interp(x, xs, ys)`` for the table ``xs[off:off+length]``."""
    if x != x:
        return math.nan
    last = off + length - 1
    if x < xs[off]:
        return ys[off]
    if x > xs[last]:
        return ys[last]
    if x == xs[last]:
        return ys[last]
    j = _bracket(x, xs, off, last)
    if x == xs[j]:
        return ys[j]
    slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
    y = slope * (x - xs[j]) + ys[j]
    if y != y:
        y = slope * (x - xs[j + 1]) + ys[j + 1]
        if y != y and ys[j] == ys[j + 1]:
            y = ys[j]
    return y


@_jit
def _step(x: float, xs: np.ndarray, ys: np.ndarray, off: int, length: int, forward: bool) -> float:
    """A DATA table read HOLD BACKWARD (the last point at or before x) or LOOK FORWARD (the first at or
    after x), ends held; a time within 1e-12 (relative) of a point is that point, as in the engine."""
    if x != x:
        return math.nan
    last = off + length - 1
    if x <= xs[off]:
        return ys[off]
    if x >= xs[last]:
        return ys[last]
    j = _bracket(x, xs, off, last)
    near = j + 1 if xs[j + 1] - x <= x - xs[j] else j
    if abs(xs[near] - x) <= 1e-12 + 1e-12 * abs(x):
        return ys[near]
    return ys[j + 1] if forward else ys[j]


@_jit
def _interp_ext(x: float, xs: np.ndarray, ys: np.ndarray, off: int, length: int) -> float:
    """Linear extrapolation beyond both ends of the table, as the engine's extrapolating lookups."""
    last = off + length - 1
    if x < xs[off]:
        k = (ys[off + 1] - ys[off]) / (xs[off + 1] - xs[off])
        return ys[off] + k * (x - xs[off])
    if x > xs[last]:
        k = (ys[last] - ys[last - 1]) / (xs[last] - xs[last - 1])
        return ys[last] + k * (x - xs[last])
    return _interp(x, xs, ys, off, length)
