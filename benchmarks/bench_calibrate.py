"""Calibration speed: tenor (each population one engine batch) against SciPy driving PySD one run at a time.

Run from the repository root:

    python benchmarks/bench_calibrate.py [--pysd-evaluations 1500] [--seed 0]
    python benchmarks/bench_calibrate.py --coverage 200

With ``--coverage N`` it instead measures how often the 95% intervals (profile and parametric
bootstrap) contain the true values: N synthetic data sets from the logistic growth model
(tests/data/calibrate/logistic.yaml, growth_rate 0.35, capacity 500, 31 yearly points with
Gaussian noise of sd 10), each fitted by least squares.

The model is the SIR model of the 1978 boarding-school influenza outbreak
(tests/data/calibrate/sir_boarding_school.yaml, switched to Euler because PySD integrates
with Euler only) fitted to the boys-in-bed counts, r in [1e-4, 1e-2] and a in [0.05, 2].
Both sides use SciPy's differential evolution with the same settings (popsize 15, seed,
Latin-hypercube start, no polish):

- tenor: ``calibrate(method="de")``, so each population of 30 candidates is one batch of the
  vectorised engine (``vectorized=True, updating="deferred"``);
- PySD: the same optimiser calling a function that runs the translated PySD model once per
  candidate (the model is loaded once and re-run with new parameters).

Both run the same budget of evaluations (``--pysd-evaluations``, small enough for PySD to
finish in well under a minute on one core) and the evaluations per second are printed side by side with
their ratio. Then tenor runs DE to convergence; the PySD time for that many evaluations is
EXTRAPOLATED from its measured rate (not run), and printed as such.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stocks_flows.calibrate import calibrate, read_data  # noqa: E402
from stocks_flows.load import load_model  # noqa: E402
from stocks_flows.pysd_runner import translated  # noqa: E402

DATA = ROOT / "tests" / "data" / "calibrate"
BOUNDS = {"r": (1e-4, 1e-2), "a": (0.05, 2.0)}
POPSIZE = 15


def _pysd_fit(model, data, budget: int, seed: int) -> tuple[int, float, np.ndarray, float]:
    """SciPy DE over PySD runs, one candidate at a time; returns (evaluations, seconds, best, objective)."""
    from scipy.optimize import differential_evolution

    times = data["time"].to_numpy(float)
    observed = data["infective"].to_numpy(float)
    weight = 1.0 / np.var(observed, ddof=1)  # the same default weight tenor uses
    lower = np.array([b[0] for b in BOUNDS.values()])
    upper = np.array([b[1] for b in BOUNDS.values()])
    count = 0
    with translated(model) as fresh:
        pysd_model = fresh()

        def objective(u: np.ndarray) -> float:
            nonlocal count
            count += 1
            x = lower + u * (upper - lower)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = pysd_model.run(
                    params={"r": x[0], "a": x[1]},
                    return_columns=["infective"],
                    return_timestamps=times,
                    progress=False,
                )
            sim = out["infective"].to_numpy(float)
            f = float(weight * np.sum((sim - observed) ** 2))
            return f if np.isfinite(f) else 1e30

        pop = POPSIZE * len(BOUNDS)
        start = time.perf_counter()
        result = differential_evolution(
            objective,
            bounds=[(0.0, 1.0)] * len(BOUNDS),
            seed=seed,
            popsize=POPSIZE,
            maxiter=max(1, budget // pop - 1),
            tol=0.01,
            polish=False,
            init="latinhypercube",
            updating="deferred",
        )
        seconds = time.perf_counter() - start
    return count, seconds, lower + result.x * (upper - lower), float(result.fun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pysd-evaluations", type=int, default=1500, help="the shared budget (PySD runs it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--coverage", type=int, default=0, help="run the coverage study on N data sets instead")
    args = parser.parse_args()
    if args.coverage:
        coverage(args.coverage, args.seed)
        return

    model = load_model(DATA / "sir_boarding_school.yaml")
    model = replace(model, time=replace(model.time, method="euler"))
    data = read_data(DATA / "boarding_school_influenza.csv")
    budget = args.pysd_evaluations

    calibrate(model, data, fit=BOUNDS, method="de", seed=args.seed, max_evaluations=60, interval=None)  # warm-up
    same = calibrate(model, data, fit=BOUNDS, method="de", seed=args.seed, max_evaluations=budget, interval=None)
    # the polish is not part of SciPy's DE: time the DE generations alone for a like-for-like rate
    de_only = _tenor_de_only(model, data, budget, args.seed)
    p_evals, p_seconds, p_best, p_f = _pysd_fit(model, data, budget, args.seed)
    full = calibrate(model, data, fit=BOUNDS, method="de", seed=args.seed, interval=None)

    t_rate = de_only[0] / de_only[1]
    p_rate = p_evals / p_seconds
    print("SIR model of the 1978 boarding-school influenza outbreak, fit r and a (Euler, dt 1/16 day, 14 days)")
    print(f"same budget, DE popsize {POPSIZE} (population {POPSIZE * len(BOUNDS)}), seed {args.seed}:")
    print(f"  {'':<28}{'evaluations':>12}{'seconds':>10}{'evals/s':>12}   best r, a (objective)")
    print(
        f"  {'tenor (batched), DE only':<28}{de_only[0]:>12}{de_only[1]:>10.2f}{t_rate:>12.0f}"
        f"   {de_only[2][0]:.5g}, {de_only[2][1]:.4g} ({de_only[3]:.4g})"
    )
    print(
        f"  {'PySD (one at a time)':<28}{p_evals:>12}{p_seconds:>10.2f}{p_rate:>12.1f}"
        f"   {p_best[0]:.5g}, {p_best[1]:.4g} ({p_f:.4g})"
    )
    print(f"  ratio tenor / PySD in evaluations per second: {t_rate / p_rate:.0f}x")
    print(
        f"  tenor with its least-squares polish in the same budget: {same.fit_evaluations} evaluations, "
        f"{same.fit_seconds:.2f} s, r = {same.fitted['r'].value:.5g}, a = {same.fitted['a'].value:.4g}"
    )
    print("time to a converged fit (DE to tolerance, then the polish):")
    print(
        f"  tenor: {full.fit_evaluations} evaluations in {full.fit_seconds:.2f} s "
        f"(r = {full.fitted['r'].value:.5g}, a = {full.fitted['a'].value:.4g}, objective {full.objective:.4g})"
    )
    pop = POPSIZE * len(BOUNDS)
    if p_evals < pop * (max(1, budget // pop - 1) + 1):
        print(f"  PySD: its DE converged within the budget: {p_evals} evaluations in {p_seconds:.1f} s (measured)")
    print(
        f"  PySD: {full.fit_evaluations} evaluations at {p_rate:.1f}/s would take about "
        f"{full.fit_evaluations / p_rate:.0f} s (EXTRAPOLATED from the measured rate, not run)"
    )


def coverage(n: int, seed: int) -> None:
    """Share of N synthetic data sets whose 95% interval holds the true value, per parameter and method."""
    import pandas as pd

    from stocks_flows.engine import simulate

    model = load_model(DATA / "logistic.yaml")
    truth = {"growth_rate": 0.35, "capacity": 500.0}
    bounds = {"growth_rate": (0.05, 1.0), "capacity": (100.0, 2000.0)}
    clean = simulate(model, {k: [v] for k, v in truth.items()}, variables=["population"])
    rng = np.random.default_rng(seed)
    hits = {(m, k): 0 for m in ("profile", "bootstrap") for k in truth}
    widths = {(m, k): [] for m in ("profile", "bootstrap") for k in truth}
    start = time.perf_counter()
    for _ in range(n):
        observed = clean.values[0, :, 0] + rng.normal(0.0, 10.0, len(clean.time))
        data = pd.DataFrame({"time": clean.time, "population": observed})
        for method in ("profile", "bootstrap"):
            cal = calibrate(model, data, fit=bounds, method="least_squares", interval=method, bootstrap_replicates=100)
            for k, true in truth.items():
                p = cal.fitted[k]
                hits[(method, k)] += p.low <= true <= p.high
                widths[(method, k)].append(p.high - p.low)
    seconds = time.perf_counter() - start
    print(f"coverage of 95% intervals over {n} synthetic logistic data sets (noise sd 10, 31 points), {seconds:.0f} s")
    for (method, k), h in hits.items():
        print(f"  {method:<10}{k:<12} {h / n:6.1%}   mean width {np.mean(widths[(method, k)]):.4g}")


def _tenor_de_only(model, data, budget: int, seed: int) -> tuple[int, float, np.ndarray, float]:
    """tenor's DE generations alone (no polish), through the same problem object calibrate uses."""
    from stocks_flows.calibrate import _de, _observations, _Problem

    problem = _Problem(model, _observations(model, data, None), BOUNDS)
    start = time.perf_counter()
    _de(problem, seed, budget)
    seconds = time.perf_counter() - start
    return problem.evaluations, seconds, problem.natural(problem.best_u), problem.best_f


if __name__ == "__main__":
    main()
