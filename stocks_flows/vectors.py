"""Vensim's functions of whole arrays: INVERT MATRIX, VECTOR SELECT and the allocations.

tenor expands a subscripted variable into one scalar variable per element, so a
function of a whole array is called once per element of the result, with every
element of the array it reads spread out as arguments and, where the result has
one value per element, the position of the element being computed (counted
from 1). The forms here are the NumPy engine's closures for those calls (the
compiled kernel leaves them to the NumPy engine); each takes the arguments'
closures and returns a closure of the environment, one value per scenario.

- ``invert_matrix(position, m11, m12, ..., mNN)``: element ``position`` (row by
  row) of the inverse of the N x N matrix (Vensim's INVERT MATRIX).
- ``vector_select(missing, action, error, s1..sK, e1..eK)``: Vensim's VECTOR
  SELECT over the K selected pairs (selection, expression).
- ``allocate_by_priority(position, width, supply, r1..rK, p1..pK)``: Vensim's
  ALLOCATE BY PRIORITY.
- ``allocate_available(position, avail, r1..rK, pp1..ppK)``: Vensim's ALLOCATE
  AVAILABLE, each ``pp`` four values (ptype, ppriority, pwidth, pextra).

Both allocations follow the algorithm of Vensim's Allocation section: each
request has a curve of how much of it is filled at a market priority ``x``
(all of it well below its priority, none well above), and ``x`` is the one
priority at which the curves together take exactly the supply. ALLOCATE BY
PRIORITY is ALLOCATE AVAILABLE with rectangular curves of the given width. The
total is monotone in ``x``, so bisection finds ``x`` to the precision of a float.

References
----------
Vensim Help, "INVERT MATRIX", "VECTOR SELECT", "ALLOCATE BY PRIORITY", "ALLOCATE
AVAILABLE" and "Allocation Functions" (https://www.vensim.com/documentation/).

Examples
--------
>>> import numpy as np
>>> one = lambda v: (lambda env: np.float64(v))
>>> inverse = np_invert_matrix([one(2), one(4), one(7), one(2), one(6)])
>>> round(float(inverse({})[0]), 6)  # the inverse of [[4, 7], [2, 6]] is [[0.6, -0.7], [-0.2, 0.4]]
-0.7
>>> requests, priorities, widths = np.array([[10.0], [6.0]]), np.array([[4.0], [2.0]]), np.full((2, 1), 3.0)
>>> shares = allocate_curves(requests, np.ones((2, 1)), priorities, widths, np.array([12.0]))
>>> [round(float(v), 9) for v in shares.ravel()]
[10.0, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tenor.core.errors import SimulationError

__all__ = [
    "PROFILES",
    "VectorFunctionError",
    "allocate_curves",
    "np_allocate_available",
    "np_allocate_by_priority",
    "np_invert_matrix",
    "np_vector_rank",
    "np_vector_reorder",
    "np_vector_select",
    "np_vector_sort_order",
]

Fn = Callable[[dict], Any]

PROFILES = {1: "rectangular", 2: "triangular", 3: "normal", 4: "exponential"}
"""The priority profiles (ptype) of ALLOCATE AVAILABLE that tenor computes."""

_UNSUPPORTED_PROFILES = {0: "fixed quantity", 5: "constant elasticity"}


class VectorFunctionError(SimulationError):
    """A whole-array function met values it cannot compute (a singular matrix, a negative request...)."""


def _stack(fns: Sequence[Fn], env: dict) -> np.ndarray:
    """The values of ``fns`` as one array (one row per closure, one column per scenario)."""
    values = [np.asarray(f(env), dtype=float) for f in fns]
    return np.atleast_2d(np.array(np.broadcast_arrays(*values), dtype=float).reshape(len(fns), -1))


def _position(fn: Fn, env: dict, count: int, label: str) -> int:
    value = float(np.asarray(fn(env), dtype=float).reshape(-1)[0])
    if not (value == int(value) and 1 <= value <= count):
        raise VectorFunctionError(f"{label}: the position {value:g} is not one of 1 to {count}")
    return int(value) - 1


# --- INVERT MATRIX -----------------------------------------------------------------------------


def np_invert_matrix(args: Sequence[Fn]) -> Fn:
    """``invert_matrix(position, cells...)``: one element of the inverse of a square matrix."""
    position, cells = args[0], tuple(args[1:])
    size = math.isqrt(len(cells))
    if size * size != len(cells) or size == 0:
        raise VectorFunctionError(f"INVERT MATRIX: {len(cells)} elements do not make a square matrix")

    def invert(env: dict) -> Any:
        values = _stack(cells, env)  # (size * size, n)
        matrices = np.moveaxis(values.reshape(size, size, -1), -1, 0)
        try:
            inverse = np.linalg.inv(matrices)
        except np.linalg.LinAlgError:
            raise VectorFunctionError(
                "INVERT MATRIX: the matrix is singular (it has no inverse)",
                hint="check the matrix's values: its rows must be independent",
            ) from None
        i = _position(position, env, size * size, "INVERT MATRIX")
        return inverse.reshape(len(inverse), -1)[:, i]

    return invert


# --- VECTOR SORT ORDER, VECTOR RANK, VECTOR REORDER ---------------------------------------------


def sort_order(values: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Vensim's VECTOR SORT ORDER over axis 0: the 0-based index of the element in each sorted place,
    smallest first when ``direction`` > 0, else largest first (the ascending order reversed, as PySD).

    >>> sort_order(np.array([[3.0], [1.0], [2.0]]), np.array([1.0])).ravel().tolist()
    [1, 2, 0]
    >>> sort_order(np.array([[3.0], [1.0], [2.0]]), np.array([0.0])).ravel().tolist()
    [0, 2, 1]
    """
    ascending = np.argsort(values, axis=0, kind="stable")
    return np.where(np.asarray(direction) > 0, ascending, ascending[::-1])


def np_vector_sort_order(args: Sequence[Fn]) -> Fn:
    """``vector_sort_order(position, direction, values...)``: the index (from 0) of the element in that place."""
    position, direction, cells = args[0], args[1], tuple(args[2:])

    def order(env: dict) -> Any:
        i = _position(position, env, len(cells), "VECTOR SORT ORDER")
        return sort_order(_stack(cells, env), _stack((direction,), env)[0])[i].astype(float)

    return order


def np_vector_rank(args: Sequence[Fn]) -> Fn:
    """``vector_rank(position, direction, values...)``: the rank (from 1) of the element at ``position``."""
    position, direction, cells = args[0], args[1], tuple(args[2:])

    def rank(env: dict) -> Any:
        i = _position(position, env, len(cells), "VECTOR RANK")
        order = sort_order(_stack(cells, env), _stack((direction,), env)[0])
        return (np.argsort(order, axis=0, kind="stable")[i] + 1).astype(float)

    return rank


def np_vector_reorder(args: Sequence[Fn]) -> Fn:
    """``vector_reorder(index, values...)``: the element whose 0-based index is ``index`` (VECTOR REORDER)."""
    index, cells = args[0], tuple(args[1:])

    def reorder(env: dict) -> Any:
        values = _stack(cells, env)
        at = np.broadcast_to(_stack((index,), env)[0], values.shape[1:])
        if np.any((at != np.round(at)) | (at < 0) | (at >= len(cells))):
            bad = at[(at != np.round(at)) | (at < 0) | (at >= len(cells))][0]
            raise VectorFunctionError(f"VECTOR REORDER: the index {bad:g} is not one of 0 to {len(cells) - 1}")
        return np.take_along_axis(values, at.astype(int)[None, :], axis=0)[0]

    return reorder


# --- VECTOR SELECT ----------------------------------------------------------------------------


def _select(action: int, s: np.ndarray, e: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The numerical action of VECTOR SELECT over the chosen pairs (columns: scenarios)."""
    if action <= 4:
        values = s * e
    elif action == 5:  # Vensim computes expression ^ selection (its help says the reverse)
        values = np.power(e, s)
    else:
        values = e
    count = chosen.sum(axis=0)
    with np.errstate(all="ignore"):
        if action in (0, 6):
            return np.where(chosen, values, 0.0).sum(axis=0)
        if action in (1, 5, 7):
            return np.where(chosen, values, 1.0).prod(axis=0)
        if action in (2, 8):
            return np.where(chosen, values, np.inf).min(axis=0)
        if action in (3, 9):
            return np.where(chosen, values, -np.inf).max(axis=0)
        return np.where(chosen, values, 0.0).sum(axis=0) / np.maximum(count, 1)


def np_vector_select(args: Sequence[Fn]) -> Fn:
    """``vector_select(missing, action, error, selections..., expressions...)``: Vensim's VECTOR SELECT."""
    missing, action, error = args[:3]
    pairs = tuple(args[3:])
    if len(pairs) % 2 or not pairs:
        raise VectorFunctionError("VECTOR SELECT: the selection and expression arrays differ in size")
    half = len(pairs) // 2

    def vector_select(env: dict) -> Any:
        s, e = _stack(pairs[:half], env), _stack(pairs[half:], env)
        s, e = np.broadcast_arrays(s, e)
        n = s.shape[1]
        chosen = s != 0
        count = chosen.sum(axis=0)
        check = np.broadcast_to(np.asarray(error(env), dtype=float), (n,))
        if np.any(np.isin(check, (1, 3)) & (count == 0)):
            raise VectorFunctionError("VECTOR SELECT: every element of the selection array is 0 (error action 1)")
        if np.any(np.isin(check, (2, 3)) & (count > 1)):
            raise VectorFunctionError("VECTOR SELECT: more than one element of the selection array is not 0")
        actions = np.broadcast_to(np.asarray(action(env), dtype=float), (n,))
        out = np.empty(n)
        for a in np.unique(actions):
            if not (a == int(a) and 0 <= a <= 10):
                raise VectorFunctionError(
                    f"VECTOR SELECT: the numerical action is {a:g}, not a whole number from 0 to 10",
                    hint="see Vensim's help on VECTOR SELECT for the actions 0 to 10",
                )
            cols = actions == a
            out[cols] = _select(int(a), s[:, cols], e[:, cols], chosen[:, cols])
        return np.where(count == 0, np.broadcast_to(np.asarray(missing(env), dtype=float), (n,)), out)

    return vector_select


# --- the allocations --------------------------------------------------------------------------

_erfc = np.vectorize(math.erfc, otypes=[float])


def _curve(kind: int, q: np.ndarray, p: np.ndarray, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """How much of requests ``q`` curves of one kind fill at market priority ``x``."""
    if kind in (1, 2):
        u = (x - (p - w / 2)) / w  # 0 where the curve starts to fall, 1 where it reaches 0
        if kind == 1:
            return q * np.clip(1 - u, 0.0, 1.0)
        return np.where(u <= 0, q, np.where(u < 0.5, q * (1 - 2 * u**2), np.where(u < 1, 2 * q * (1 - u) ** 2, 0)))
    z = (x - p) / w
    if kind == 3:
        return q * 0.5 * _erfc(z / math.sqrt(2))
    return np.where(z < 0, q * (1 - 0.5 * np.exp(np.minimum(z, 0))), q * 0.5 * np.exp(-np.maximum(z, 0)))


def _filled(
    q: np.ndarray, ptype: np.ndarray, p: np.ndarray, w: np.ndarray, x: np.ndarray, kinds: np.ndarray
) -> np.ndarray:
    """How much of each request ``q`` its curve fills at market priority ``x`` (rows: requests)."""
    if len(kinds) == 1:
        return _curve(int(kinds[0]), q, p, w, x)
    out = np.zeros(np.broadcast_shapes(q.shape, np.shape(x)))
    for kind in kinds:
        out = np.where(ptype == kind, _curve(int(kind), q, p, w, x), out)
    return out


def allocate_curves(q: np.ndarray, ptype: np.ndarray, p: np.ndarray, w: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """How much of ``supply`` each request gets: the market priority where the curves take it all.

    ``q``, ``ptype``, ``p`` and ``w`` have one row per request and one column per scenario;
    ``supply`` one value per scenario. A supply of at least the sum of the requests fills them all;
    none is ever given more than it requests, and together they never get more than the supply.
    """
    q = np.maximum(q, 0.0)
    supply = np.asarray(supply, dtype=float)
    total = q.sum(axis=0)
    reach = np.where(ptype == 4, 40.0, np.where(ptype == 3, 10.0, 1.0)) * w
    lo = np.min(p - reach, axis=0) - 1.0
    hi = np.max(p + reach, axis=0) + 1.0
    short = (supply < total) & (supply > 0)
    kinds = np.unique(ptype[q > 0]) if np.any(q > 0) else np.array([1.0])
    if len(kinds) == 1 and kinds[0] == 1:
        x = _rectangular_priority(q, p, w, supply)
        return np.where(supply >= total, q, np.where(supply <= 0, 0.0, _curve(1, q, p, w, x)))
    for _ in range(2200):  # bisection: the total filled falls as the market priority rises
        mid = (lo + hi) / 2
        done = (mid <= lo) | (mid >= hi)
        if np.all(done | ~short):
            break
        above = _filled(q, ptype, p, w, mid, kinds).sum(axis=0) > supply
        lo = np.where(above & ~done, mid, lo)
        hi = np.where(~above & ~done, mid, hi)
    filled = np.where(q > 0, _filled(q, ptype, p, w, (lo + hi) / 2, kinds), 0.0)
    return np.where(supply >= total, q, np.where(supply <= 0, 0.0, filled))


def _rectangular_priority(q: np.ndarray, p: np.ndarray, w: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """The market priority where rectangular curves take ``supply``: exact, as their total is piecewise
    linear between the points where one curve starts or stops falling."""
    points = np.sort(np.concatenate([p - w / 2, p + w / 2]), axis=0)  # (2k, n), ascending
    totals = _curve(1, q[None], p[None], w[None], points[:, None]).sum(axis=1)  # falling along the points
    n = points.shape[1]
    j = np.clip((totals >= supply).sum(axis=0) - 1, 0, len(points) - 2)  # last point still taking at least supply
    cols = np.arange(n)
    x0, x1 = points[j, cols], points[j + 1, cols]
    f0, f1 = totals[j, cols], totals[j + 1, cols]
    drop = f0 - f1
    return np.where(drop > 0, x0 + (f0 - supply) * (x1 - x0) / np.where(drop > 0, drop, 1.0), x0)


def _check_requests(q: np.ndarray, label: str) -> None:
    if np.any(q < 0) or not np.all(np.isfinite(q)):
        bad = q[(q < 0) | ~np.isfinite(q)][0]
        raise VectorFunctionError(
            f"{label}: a request is {bad:g}; requests must be finite and not negative",
            hint="keep the requests at 0 or more, e.g. with MAX(0, request)",
        )


_SOLVED: dict[bytes, np.ndarray] = {}
"""Allocations lately computed, by their inputs: the other elements of a call read the same one."""


def _solved(key: bytes, solve: Callable[[], np.ndarray]) -> np.ndarray:
    found = _SOLVED.get(key)
    if found is None:
        if len(_SOLVED) >= 256:
            _SOLVED.clear()
        found = _SOLVED[key] = solve()
    return found


def np_allocate_by_priority(args: Sequence[Fn]) -> Fn:
    """``allocate_by_priority(position, width, supply, requests..., priorities...)``."""
    position, width, supply = args[:3]
    vectors = tuple(args[3:])
    if len(vectors) % 2 or not vectors:
        raise VectorFunctionError("ALLOCATE BY PRIORITY: the request and priority arrays differ in size")
    k = len(vectors) // 2

    def allocate(env: dict) -> Any:
        q, p = _stack(vectors[:k], env), _stack(vectors[k:], env)
        w = np.asarray(width(env), dtype=float)
        s = np.asarray(supply(env), dtype=float)
        q, p, w_rows = np.broadcast_arrays(q, p, np.broadcast_to(w, (1, *np.shape(w))) if np.ndim(w) else w)
        s = np.broadcast_to(s, (q.shape[1],))
        _check_requests(q, "ALLOCATE BY PRIORITY")
        if np.any(w_rows <= 0):
            raise VectorFunctionError("ALLOCATE BY PRIORITY: the width is not positive", hint="give a width above 0")
        key = b"priority" + b"".join(np.ascontiguousarray(a).tobytes() for a in (q, p, w_rows, s))
        out = _solved(key, lambda: allocate_curves(q, np.ones_like(q), p, np.asarray(w_rows, dtype=float), s))
        return out[_position(position, env, k, "ALLOCATE BY PRIORITY")]

    return allocate


def np_allocate_available(args: Sequence[Fn]) -> Fn:
    """``allocate_available(position, avail, requests..., profiles...)``, four values per profile."""
    position, avail = args[:2]
    vectors = tuple(args[2:])
    if len(vectors) % 5 or not vectors:
        raise VectorFunctionError("ALLOCATE AVAILABLE: each request needs a priority profile of four values")
    k = len(vectors) // 5

    def allocate(env: dict) -> Any:
        q = _stack(vectors[:k], env)
        pp = _stack(vectors[k:], env)
        n = max(q.shape[1], pp.shape[1])
        q = np.broadcast_to(q, (k, n))
        pp = np.broadcast_to(pp, (4 * k, n)).reshape(k, 4, n)
        s = np.broadcast_to(np.asarray(avail(env), dtype=float), (n,))
        _check_requests(q, "ALLOCATE AVAILABLE")
        ptype, p, w = pp[:, 0], pp[:, 1], pp[:, 2]
        for kind in np.unique(ptype[q > 0]):
            if kind not in PROFILES:
                name = _UNSUPPORTED_PROFILES.get(int(kind)) if kind == int(kind) else None
                what = f"the {name} profile ({kind:g})" if name else f"the profile type {kind:g}"
                raise VectorFunctionError(
                    f"ALLOCATE AVAILABLE: {what} is not supported",
                    hint="use a rectangular (1), triangular (2), normal (3) or exponential (4) priority profile",
                )
        if np.any((w <= 0) & (q > 0)):
            raise VectorFunctionError("ALLOCATE AVAILABLE: a priority width (pwidth) is not positive")
        key = b"available" + b"".join(np.ascontiguousarray(a).tobytes() for a in (q, pp, s))
        out = _solved(key, lambda: allocate_curves(q, ptype, p, np.where(w > 0, w, 1.0), s))
        return out[_position(position, env, k, "ALLOCATE AVAILABLE")]

    return allocate
