"""Uncertainty tools measured: Sobol' indices against the Ishigami answer, designs, summary memory.

Run from the repository root:

    python benchmarks/bench_uncertainty.py [--seeds 5] [--scenarios 5000]

1. Sobol' indices of the Ishigami function (a = 7, b = 0.1) written as a tenor model, for growing
   n: the largest error against the analytic S1 and ST (mean over seeds), runs and seconds.
2. Sampling designs: the root-mean-square error, over seeds, of the mean final teacup temperature
   estimated from n scenarios (room temperature ~ normal(70, 5), characteristic time ~
   uniform(5, 15)), against a reference from 2^16 Sobol' points.
3. Summary sweeps: peak Python memory (tracemalloc) of the per-time summary of a sweep against the
   table of every trajectory that a full sweep writes.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stocks_flows.engine import simulate  # noqa: E402
from stocks_flows.load import load_model, parse_model  # noqa: E402
from stocks_flows.sampling import sample  # noqa: E402
from stocks_flows.scenarios import parse_sample  # noqa: E402
from stocks_flows.sensitivity import sobol_indices  # noqa: E402
from stocks_flows.summary import summarize  # noqa: E402

ISHIGAMI = """
time: {start: 0, stop: 1, dt: 1}
constants: {x1: 0, x2: 0, x3: 0, a: 7, b: 0.1}
auxiliaries:
  y: {equation: "sin(x1) + a * sin(x2)^2 + b * x3^4 * sin(x1)"}
"""
TEACUP = ROOT / "tests" / "data" / "stocks_flows" / "teacup.yaml"


def ishigami_answer(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    v = a * a / 8 + b * math.pi**4 / 5 + b * b * math.pi**8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + b * math.pi**4 / 5) ** 2, a * a / 8, 8 * b * b * math.pi**8 / 225
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def bench_ishigami(seeds: int) -> None:
    model = parse_model(ISHIGAMI)
    s1, st = ishigami_answer()
    ranges = {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)}
    print("1. Ishigami (a=7, b=0.1): largest |error| over the three inputs, mean over seeds")
    print(f"{'n':>6} {'runs':>7} {'S1 error':>9} {'ST error':>9} {'S1 ±':>7} {'seconds':>8}")
    for n in (256, 1024, 4096, 16384):
        e1, et, conf, secs = [], [], [], []
        for seed in range(seeds):
            start = time.perf_counter()
            ix = sobol_indices(model, ranges, ["y"], n=n, seed=seed).indices["y"]
            secs.append(time.perf_counter() - start)
            e1.append(np.abs(ix.S1 - s1).max())
            et.append(np.abs(ix.ST - st).max())
            conf.append(ix.S1_conf.max())
        print(f"{n:>6} {n * 5:>7} {np.mean(e1):>9.4f} {np.mean(et):>9.4f} {np.mean(conf):>7.3f} {np.mean(secs):>8.2f}")


def bench_designs(seeds: int) -> None:
    model = load_model(TEACUP)
    draws = [parse_sample("room_temperature=normal(70, 5)"), parse_sample("characteristic_time=uniform(5, 15)")]

    def mean_final(n: int, seed: int, design: str) -> float:
        table = sample(draws, n, seed, design=design)
        run = simulate(model, table.columns, variables=["teacup_temperature"], times=[30])
        return float(run.values[:, -1, 0].mean())

    reference = mean_final(2**16, 0, "sobol")
    print(f"\n2. Designs: RMSE of the mean final teacup temperature (reference {reference:.4f}), {seeds} seeds")
    print(f"{'n':>6} {'random':>9} {'lhs':>9} {'sobol':>9}")
    for n in (64, 256, 1024):
        row = [np.sqrt(np.mean([(mean_final(n, s, d) - reference) ** 2 for s in range(seeds)])) for d in
               ("random", "lhs", "sobol")]  # fmt: skip
        print(f"{n:>6} " + " ".join(f"{x:>9.4f}" for x in row))


def bench_summary(scenarios: int) -> None:
    model = load_model(TEACUP)
    draws = [parse_sample("room_temperature=normal(70, 5)"), parse_sample("characteristic_time=uniform(5, 15)")]
    table = sample(draws, scenarios, 1, design="lhs")
    run = simulate(model, table.columns, scenario_names=table.names)
    held = run.values.nbytes

    def peak(fn):
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    full = peak(lambda: run.to_frame())
    summary = peak(lambda: summarize(run))
    print(f"\n3. Summary of {scenarios} scenarios x {len(run.time)} times x {len(run.variables)} variables")
    print(f"   the run's array (held by both): {held / 1e6:.1f} MB")
    print(f"   table of every trajectory:      peak {full / 1e6:.1f} MB more")
    print(f"   per-time summary:               peak {summary / 1e6:.1f} MB more")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--scenarios", type=int, default=5000)
    args = parser.parse_args()
    bench_ishigami(args.seeds)
    bench_designs(args.seeds)
    bench_summary(args.scenarios)


if __name__ == "__main__":
    main()
