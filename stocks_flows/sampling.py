"""Sampling designs: where the scenarios of a Monte Carlo sweep fall in parameter space.

A Monte Carlo sweep draws each parameter from a distribution
(:class:`~stocks_flows.scenarios.Distribution`). How the draws are spread is
the *design*:

``random``
    Independent draws from NumPy's generator, parameter by parameter (what
    ``tenor sweep --sample`` has always done: the same seed gives the same
    scenarios as before).
``lhs``
    A Latin hypercube (McKay, Beckman & Conover 1979): each parameter's range
    is cut into ``n`` strata of equal probability and every stratum holds
    exactly one scenario, so every margin is evenly covered even for small
    ``n``. Scrambled: the point's place inside its stratum is random.
``sobol``
    A scrambled Sobol' sequence (Sobol' 1967; Owen scrambling), a
    low-discrepancy design that fills the whole cube evenly. Its balance
    holds for ``n`` a power of two: then each of the ``n`` equal strata of
    every margin holds exactly one point.

Designs ``lhs`` and ``sobol`` make points in the unit cube and map each
coordinate through the inverse distribution function of its parameter
(``normal``, ``uniform``, ``lognormal``, ``triangular``), so the strata are
strata of probability.

*Correlated normals*: parameters drawn from ``normal(mu, sd)`` may be given a
correlation matrix (with their ``sd`` they make the covariance) or a
covariance matrix. The independent standard normals of the design are
multiplied by a square root ``L`` of the covariance (``L @ L.T == C``; the
Cholesky factor, or the symmetric square root of a positive semi-definite
matrix of less than full rank). A matrix that is not symmetric positive
semi-definite is refused with its smallest eigenvalue.

Every design is reproducible: the same seed gives byte-identical draws.

Examples
--------
>>> from stocks_flows.scenarios import parse_sample
>>> draws = [parse_sample("k=uniform(0, 1)"), parse_sample("m=normal(10, 2)")]
>>> table = sample(draws, 8, seed=3, design="lhs")
>>> sorted((table.columns["k"] * 8).astype(int).tolist())
[0, 1, 2, 3, 4, 5, 6, 7]
>>> bool((sample(draws, 8, seed=3, design="sobol").columns["m"]
...       == sample(draws, 8, seed=3, design="sobol").columns["m"]).all())
True

References
----------
McKay, M. D., Beckman, R. J. & Conover, W. J. (1979). A comparison of three
methods for selecting values of input variables in the analysis of output from
a computer code. *Technometrics* 21(2), 239-245.

Sobol', I. M. (1967). On the distribution of points in a cube and the
approximate evaluation of integrals. *USSR Computational Mathematics and
Mathematical Physics* 7(4), 86-112.

Owen, A. B. (1998). Scrambling Sobol' and Niederreiter-Xing points.
*Journal of Complexity* 14(4), 466-489.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from stocks_flows.scenarios import Distribution, ParameterTable, monte_carlo
from tenor.core.errors import TenorError
from tenor.core.specfile import did_you_mean

__all__ = [
    "DESIGNS",
    "MAX_SEED",
    "check_seed",
    "correlated_normals",
    "covariance_root",
    "inverse_cdf",
    "parse_correlation",
    "sample",
    "unit_design",
]

DESIGNS = ("random", "lhs", "sobol")
"""The sampling designs, by name."""

_TINY = 2.0**-53
"""Unit-cube coordinates are kept inside [_TINY, 1 - _TINY], so no inverse CDF gives an infinity."""


MAX_SEED = 2**32 - 1
"""The largest seed: the generators tenor seeds (NumPy's, SciPy's legacy ones, pycma's) take 0 to this one."""


def check_seed(seed: int | None, option: str = "--seed") -> int | None:
    """``seed`` unchanged when it is None or a whole number from 0 to :data:`MAX_SEED`.

    >>> check_seed(7)
    7
    """
    if seed is not None and not (isinstance(seed, int | np.integer) and 0 <= seed <= MAX_SEED):
        raise TenorError(f"{option} must be a whole number from 0 to {MAX_SEED}, got {seed!r}", hint=f"e.g. {option} 1")
    return seed


def _check_design(design: str) -> str:
    if design not in DESIGNS:
        close = did_you_mean(design, DESIGNS)
        raise TenorError(
            f"unknown sampling design {design!r}",
            hint=f"did you mean {close!r}?" if close else "use " + ", ".join(DESIGNS),
        )
    return design


def unit_design(design: str, n: int, d: int, seed: int | None = None) -> np.ndarray:
    """``n`` points of the unit cube ``[0, 1)^d`` laid out by ``design`` (an ``(n, d)`` array).

    >>> u = unit_design("lhs", 4, 2, seed=1)
    >>> sorted(np.floor(u[:, 0] * 4).astype(int).tolist())
    [0, 1, 2, 3]
    """
    from scipy.stats import qmc

    _check_design(design)
    check_seed(seed)
    if n < 1:
        raise TenorError("the number of samples must be at least 1", hint="e.g. --samples 1000")
    if d < 1:
        return np.empty((n, 0))
    rng = np.random.default_rng(seed)
    if design == "random":
        return rng.random((n, d))
    if design == "lhs":
        return qmc.LatinHypercube(d, scramble=True, rng=rng).random(n)
    # Sobol': take the first n points of the next power of two (no warning when n is not one).
    m = int(np.ceil(np.log2(n)))
    return qmc.Sobol(d, scramble=True, rng=rng).random_base2(m)[:n]


def inverse_cdf(dist: Distribution, u: np.ndarray) -> np.ndarray:
    """Values of ``dist`` at probabilities ``u`` (its quantile function).

    >>> inverse_cdf(Distribution("triangular", (0.0, 0.0, 1.0)), np.array([0.0, 0.75, 1.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    from scipy import stats

    a = dist.args
    u = np.asarray(u, dtype=float)
    if dist.kind == "uniform":
        return a[0] + (a[1] - a[0]) * u
    if dist.kind == "triangular":
        low, mode, high = a
        if high == low:
            return np.full(u.shape, low)
        return stats.triang.ppf(u, (mode - low) / (high - low), loc=low, scale=high - low)
    inner = np.clip(u, _TINY, 1 - _TINY)
    if dist.kind == "normal":
        return a[0] + a[1] * stats.norm.ppf(inner)
    if dist.kind == "lognormal":
        return np.exp(a[0] + a[1] * stats.norm.ppf(inner))
    raise TenorError(f"no quantile function for the distribution {dist.kind!r}")  # pragma: no cover


def covariance_root(cov: np.ndarray, *, what: str = "the covariance matrix") -> np.ndarray:
    """A lower-triangular ``L`` with ``L @ L.T == cov`` (Cholesky), or a square root of a singular PSD matrix.

    Raises
    ------
    TenorError
        When ``cov`` is not square, not symmetric, or not positive semi-definite.

    >>> covariance_root(np.array([[4.0, 2.0], [2.0, 2.0]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    c = np.asarray(cov, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise TenorError(f"{what} must be square, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise TenorError(f"{what} holds a NaN or an infinity")
    scale = max(float(np.abs(c).max()), 1e-300)
    if not np.allclose(c, c.T, rtol=0, atol=1e-12 * scale):
        i, j = np.unravel_index(int(np.argmax(np.abs(c - c.T))), c.shape)
        raise TenorError(
            f"{what} is not symmetric: entry ({i}, {j}) is {c[i, j]:g} but ({j}, {i}) is {c[j, i]:g}",
            hint="give each pair of parameters one correlation",
        )
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        pass
    values, vectors = np.linalg.eigh(c)
    tolerance = 1e-10 * max(float(values.max()), 0.0) + 1e-300
    if values.min() < -tolerance:
        raise TenorError(
            f"{what} is not positive semi-definite (smallest eigenvalue {values.min():.4g}), "
            "so no set of variables can have it",
            hint="correlations must be consistent: e.g. if a and b are strongly correlated, "
            "and b and c too, then a and c cannot be strongly anti-correlated",
        )
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def correlated_normals(
    mean: Sequence[float],
    cov: np.ndarray | None = None,
    *,
    corr: np.ndarray | None = None,
    sds: Sequence[float] | None = None,
    n: int,
    seed: int | None = None,
    design: str = "random",
) -> np.ndarray:
    """``n`` draws (an ``(n, d)`` array) of a multivariate normal with ``mean`` and covariance.

    Give ``cov``, or ``corr`` with ``sds`` (then ``cov = diag(sds) @ corr @ diag(sds)``).
    The design lays out the independent standard normals before they are mixed.

    >>> x = correlated_normals([0, 0], corr=np.array([[1, 0.8], [0.8, 1]]), sds=[1, 2], n=20000, seed=1)
    >>> np.round(np.cov(x.T), 1).tolist()
    [[1.0, 1.6], [1.6, 4.0]]
    """
    from scipy import stats

    mu = np.asarray(mean, dtype=float)
    if (cov is None) == (corr is None):
        raise TenorError("give either a covariance matrix or a correlation matrix with standard deviations")
    if cov is None:
        if sds is None:
            raise TenorError("a correlation matrix needs the standard deviations too")
        r = np.asarray(corr, dtype=float)
        s = np.asarray(sds, dtype=float)
        if r.shape != (len(s), len(s)):
            raise TenorError(f"the correlation matrix is {r.shape} for {len(s)} standard deviations")
        if np.any(s < 0):
            raise TenorError("standard deviations must not be negative")
        if not np.allclose(np.diag(r), 1.0):
            raise TenorError("a correlation matrix has ones on its diagonal")
        if np.any(np.abs(r) > 1 + 1e-12):
            raise TenorError("correlations lie between -1 and 1")
        root = s[:, None] * covariance_root(r, what="the correlation matrix")
    else:
        root = covariance_root(np.asarray(cov, dtype=float))
    if root.shape[0] != len(mu):
        raise TenorError(f"{len(mu)} means for a {root.shape[0]} x {root.shape[0]} matrix")
    u = unit_design(design, n, len(mu), seed)
    z = stats.norm.ppf(np.clip(u, _TINY, 1 - _TINY))
    return mu + z @ root.T


def parse_correlation(text: str) -> tuple[str, str, float]:
    """``"a,b=0.6"`` -> ``("a", "b", 0.6)``: the correlation of two sampled parameters.

    >>> parse_correlation("k, m = -0.3")
    ('k', 'm', -0.3)
    """
    pair, sep, value = text.partition("=")
    names = [p.strip() for p in pair.split(",")]
    hint = 'write --correlate "a,b=0.6" (two parameters drawn from normal(mu, sd), and a number in [-1, 1])'
    if not sep or len(names) != 2 or not all(names):
        raise TenorError(f"cannot read the correlation {text!r}", hint=hint)
    try:
        rho = float(value)
    except ValueError:
        raise TenorError(f"{value.strip()!r} is not a number (in {text!r})", hint=hint) from None
    if not -1 <= rho <= 1:
        raise TenorError(f"the correlation {rho:g} of {names[0]} and {names[1]} is outside [-1, 1]", hint=hint)
    if names[0] == names[1]:
        raise TenorError(f"a parameter cannot be correlated with itself ({names[0]})", hint=hint)
    return names[0], names[1], rho


def _correlation_matrix(
    draws: Sequence[tuple[str, Distribution]], correlations: Sequence[tuple[str, str, float]]
) -> tuple[list[int], np.ndarray]:
    """Indices of the correlated parameters (in ``draws``) and their correlation matrix."""
    index = {name: i for i, (name, _) in enumerate(draws)}
    involved: list[str] = []
    for a, b, _ in correlations:
        for name in (a, b):
            if name not in index:
                raise TenorError(
                    f"--correlate names {name!r}, which is not drawn with --sample",
                    hint="sampled: " + ", ".join(index) if index else "add --sample NAME=normal(mu,sd)",
                )
            kind = draws[index[name]][1].kind
            if kind != "normal":
                raise TenorError(
                    f"{name} is drawn from {kind}(...); correlations are for normal(mu, sd) parameters",
                    hint=f"draw {name} from normal(mu, sd), or drop its --correlate",
                )
            if name not in involved:
                involved.append(name)
    involved.sort(key=index.__getitem__)
    pos = {name: i for i, name in enumerate(involved)}
    r = np.eye(len(involved))
    seen: dict[frozenset[str], float] = {}
    for a, b, rho in correlations:
        key = frozenset((a, b))
        if key in seen and seen[key] != rho:
            raise TenorError(f"{a} and {b} are given two correlations ({seen[key]:g} and {rho:g})")
        seen[key] = rho
        r[pos[a], pos[b]] = r[pos[b], pos[a]] = rho
    return [index[name] for name in involved], r


def sample(
    draws: Sequence[tuple[str, Distribution]],
    n: int,
    seed: int | None = None,
    *,
    design: str = "random",
    correlations: Sequence[tuple[str, str, float]] | Mapping[tuple[str, str], float] = (),
) -> ParameterTable:
    """``n`` scenarios drawn from ``draws`` with the given design, normals correlated as asked.

    ``correlations`` lists ``(a, b, rho)`` (or maps ``(a, b)`` to ``rho``);
    ``a`` and ``b`` must be drawn from ``normal(mu, sd)``. Without
    correlations the ``random`` design is exactly
    :func:`~stocks_flows.scenarios.monte_carlo`.

    Raises
    ------
    TenorError
        For an unknown design, a correlation of a parameter that is not a
        sampled normal, or correlations that no variables can have.
    """
    _check_design(design)
    check_seed(seed)
    if n < 1:
        raise TenorError("--samples must be at least 1")
    names = [name for name, _ in draws]
    if len(set(names)) != len(names):
        dup = next(x for x in names if names.count(x) > 1)
        raise TenorError(f"{dup!r} is sampled twice", hint="give each parameter one --sample")
    pairs = (
        [(a, b, float(r)) for (a, b), r in correlations.items()]
        if isinstance(correlations, Mapping)
        else [(a, b, float(r)) for a, b, r in correlations]
    )
    if design == "random" and not pairs:
        return monte_carlo(draws, n, seed)
    u = unit_design(design, n, len(draws), seed)
    columns = {name: inverse_cdf(dist, u[:, i]) for i, (name, dist) in enumerate(draws)}
    if pairs:
        from scipy import stats

        idx, r = _correlation_matrix(draws, pairs)
        root = covariance_root(r, what="the correlation matrix")
        z = stats.norm.ppf(np.clip(u[:, idx], _TINY, 1 - _TINY)) @ root.T
        for k, i in enumerate(idx):
            name, dist = draws[i]
            columns[name] = dist.args[0] + dist.args[1] * z[:, k]
    return ParameterTable([f"s{i}" for i in range(n)], columns)
