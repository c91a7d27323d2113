"""Random draws that are a pure function of (seed, call site, time): reproducible, scenario by scenario.

Vensim's RANDOM UNIFORM, RANDOM NORMAL, RANDOM EXPONENTIAL and RANDOM 0 1 draw a
new number every time step. Here a draw is not taken from a generator that
carries state from step to step: it is computed from the seed the equation gives,
the place of the call in the model (its *site*: the variable and which random
call in its equation) and the time, by a counter-based hash (SplitMix64's
finaliser, Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014). So

- the same model, seed and time settings give the same numbers on every run,
  in a batch of 10,000 scenarios or alone, in any block size;
- each scenario gets its own stream when its seed differs (set the seed per
  scenario, e.g. ``--set seed=7`` or a sweep over the seed); scenarios that share
  a seed share their draws (common random numbers, which keep the differences
  between scenarios free of sampling noise);
- two random calls never share a stream, even with the same seed, because their
  sites differ;
- a draw does not depend on how often the engine evaluates the equation within a
  step.

The distributions follow PySD's reading of Vensim's functions: RANDOM NORMAL is
the normal distribution truncated to [min, max] (not clipped), RANDOM EXPONENTIAL
an exponential of scale ``stretch`` starting at ``max(min, shift)`` and truncated
at ``max`` (a shift above ``max`` gives ``max``). Truncated draws use the inverse of the distribution function, so one
uniform number gives one draw.

>>> import numpy as np
>>> a = uniform(np.float64(0.0), np.float64(1.0), np.float64(5.0), 17, np.float64(3.0))
>>> bool(a == uniform(np.float64(0.0), np.float64(1.0), np.float64(5.0), 17, np.float64(3.0)))
True
>>> bool(0.0 < a < 1.0)
True
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

__all__ = ["exponential", "normal", "site_key", "uniform", "unit"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def site_key(variable: str, index: int) -> int:
    """A stable number for the ``index``-th random call in the equation of ``variable`` (CRC-32 of both)."""
    return zlib.crc32(f"{variable}\x00{index}".encode())


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit words that spreads every input bit over the output."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _bits(value: Any) -> np.ndarray:
    """The 64 bits of each float (``-0.0`` read as ``0.0``), as unsigned words."""
    return np.ascontiguousarray(np.asarray(value, dtype=np.float64) + 0.0).view(np.uint64)


def unit(seed: Any, site: int, time: Any, stream: int = 0) -> np.ndarray:
    """Uniform numbers in the open interval (0, 1), one per element of ``seed`` (broadcast with ``time``)."""
    seed_bits, time_bits = np.broadcast_arrays(np.atleast_1d(_bits(seed)), np.atleast_1d(_bits(time)))
    with np.errstate(over="ignore"):
        word = _mix(seed_bits + _GAMMA)
        word = _mix(word ^ np.uint64(site) ^ (np.uint64(stream) << np.uint64(32)))
        word = _mix(word + time_bits * _GAMMA)
    return ((word >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _all_scalar(*inputs: Any) -> bool:
    return all(np.ndim(x) == 0 for x in inputs)


def _shaped(values: np.ndarray, scalar: bool) -> Any:
    """A scalar when every input was a scalar, else the broadcast array."""
    return np.float64(values.reshape(-1)[0]) if scalar else values


def uniform(low: Any, high: Any, seed: Any, site: int, time: Any) -> Any:
    """RANDOM UNIFORM(min, max, seed): uniform on [min, max]."""
    scalar = _all_scalar(low, high, seed, time)
    u = unit(seed, site, time)
    low_b, high_b, u_b = np.broadcast_arrays(np.asarray(low, float), np.asarray(high, float), u)
    return _shaped(low_b + (high_b - low_b) * u_b, scalar)


def normal(low: Any, high: Any, mean: Any, sd: Any, seed: Any, site: int, time: Any) -> Any:
    """RANDOM NORMAL(min, max, mean, sd, seed): normal of ``mean`` and ``sd`` truncated to [min, max].

    A standard deviation of 0 gives the mean, held inside [min, max].
    """
    from scipy.special import ndtr, ndtri

    scalar = _all_scalar(low, high, mean, sd, seed, time)
    u = unit(seed, site, time)
    low, high, mean, sd, u = np.broadcast_arrays(*(np.asarray(x, float) for x in (low, high, mean, sd)), u)
    spread = np.where(sd > 0, sd, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a, b = ndtr((low - mean) / spread), ndtr((high - mean) / spread)
        drawn = mean + spread * ndtri(a + u * (b - a))
    drawn = np.where((sd > 0) & np.isfinite(drawn), drawn, mean)
    return _shaped(np.clip(drawn, low, high), scalar)


def exponential(low: Any, high: Any, shift: Any, stretch: Any, seed: Any, site: int, time: Any) -> Any:
    """RANDOM EXPONENTIAL(min, max, shift, stretch, seed): ``start + stretch * E``, E ~ Exp(1), below ``max``.

    ``start`` is ``max(min, shift)``: an exponential truncated from below is the
    same exponential moved up (it has no memory).
    """
    scalar = _all_scalar(low, high, shift, stretch, seed, time)
    u = unit(seed, site, time)
    low, high, shift, stretch, u = np.broadcast_arrays(*(np.asarray(x, float) for x in (low, high, shift, stretch)), u)
    start = np.maximum(low, shift)
    scale = np.where(stretch > 0, stretch, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        reach = -np.expm1(-np.maximum(high - start, 0.0) / scale)  # P(E below the upper bound)
        drawn = start - scale * np.log1p(-u * reach)
    drawn = np.where((stretch > 0) & np.isfinite(drawn), drawn, start)
    return _shaped(np.clip(drawn, low, high), scalar)  # a shift above max gives max
