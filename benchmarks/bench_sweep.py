"""Throughput of sweeps: PySD one scenario at a time vs tenor's vectorised engine (and pysimlin if installed).

Run from the repository root:

    python benchmarks/bench_sweep.py [--scenarios 10000] [--pysd-seconds 10]

For each model (the teacup, the largest conformance model by variable count, and the largest by
variables x time points) it varies the model's first constant over a range and prints scenarios per
second for each engine, the ratio to PySD, the peak memory of the run (Python allocations, from
tracemalloc) and the largest relative difference between the engines on the scenarios PySD ran.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stocks_flows.engine import simulate  # noqa: E402
from stocks_flows.load import load_model  # noqa: E402
from stocks_flows.pysd_runner import _run_one, translated  # noqa: E402

CONFORMANCE = ROOT / "tests" / "data" / "conformance"


def _models() -> list[tuple[str, Path]]:
    entries = json.loads((CONFORMANCE / "manifest.json").read_text())["models"]
    by_vars = max(entries, key=lambda e: (e["n_vars"], e["canonical_rows"]))
    by_work = max(entries, key=lambda e: e["n_vars"] * e["canonical_rows"])
    chosen = [
        ("teacup", CONFORMANCE / "xmile/teacup/teacup.xmile"),
        (f"largest by variables: {Path(by_vars['model']).name}", CONFORMANCE / by_vars["model"]),
    ]
    if by_work["model"] != by_vars["model"]:
        chosen.append((f"largest by variables x times: {Path(by_work['model']).name}", CONFORMANCE / by_work["model"]))
    return chosen


def _peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _pysimlin(path: Path, param_key: str, values: np.ndarray, budget: float):
    try:
        import simlin
    except ImportError:
        return None, "not installed"
    try:
        model = simlin.load(str(path))
        ident = param_key.lower().replace(" ", "_")
        count, start = 0, time.perf_counter()
        while count < len(values) and (count < 20 or time.perf_counter() - start < budget):
            with model.simulate(overrides={ident: float(values[count])}) as sim:
                sim.run_to_end()
                sim.get_run()
            count += 1
        return count / (time.perf_counter() - start), ""
    except Exception as exc:  # an optional reference: report, do not fail
        return None, f"failed: {type(exc).__name__}: {str(exc)[:80]}"


def bench(label: str, path: Path, n: int, pysd_seconds: float) -> None:
    model = load_model(path)
    if model.constants:
        param = model.constants[0]
        base = model.variables[param].value or 1.0
    else:  # no constant: vary the first stock's initial value
        param = model.stocks[0]
        initial = model.variables[param].initial
        base = getattr(initial, "value", 1.0) or 1.0
    values = np.linspace(0.5 * base, 1.5 * base, n)
    outputs = [v for v in model.variables]

    run = simulate(model, {param: values})  # warm-up at full size (imports, first use of memory)
    vector_time = float("inf")
    for _ in range(3):  # best of three
        start = time.perf_counter()
        run = simulate(model, {param: values})
        vector_time = min(vector_time, time.perf_counter() - start)
    _, vector_peak = _peak(lambda: simulate(model, {param: values}))

    pysd_runs, pysd_values = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with translated(model) as fresh:
            _run_one(fresh, model, outputs, {param: float(values[0])})  # warm-up
            start = time.perf_counter()
            while pysd_runs < n and (pysd_runs < 5 or time.perf_counter() - start < pysd_seconds):
                frame = _run_one(fresh, model, outputs, {param: float(values[pysd_runs])})
                pysd_values.append(frame[outputs].to_numpy(float))
                pysd_runs += 1
            pysd_time = time.perf_counter() - start
            _, pysd_peak = _peak(lambda: _run_one(fresh, model, outputs, {param: float(values[0])}))
    reference = np.stack(pysd_values)
    mine = run.values[:pysd_runs]
    rel = np.max(np.abs(mine - reference) / np.maximum(np.abs(reference), 1e-12))

    pysd_rate = pysd_runs / pysd_time
    vector_rate = n / vector_time
    simlin_rate, simlin_note = _pysimlin(path, param, values, pysd_seconds)

    steps = len(run.time)
    print(f"\n{label}  ({len(model.variables)} variables, {steps} saved times, varying {param!r})")
    print(f"  {'engine':<28}{'scenarios/s':>14}{'vs PySD':>10}{'peak memory':>14}")
    print(
        f"  {'PySD, one at a time':<28}{pysd_rate:>14,.1f}{1.0:>9.1f}x{pysd_peak / 1e6:>11.1f} MB   ({pysd_runs} runs)"
    )
    print(
        f"  {f'tenor vector, {n:,} at once':<28}{vector_rate:>14,.0f}{vector_rate / pysd_rate:>9,.0f}x"
        f"{vector_peak / 1e6:>11.1f} MB"
    )
    if simlin_rate is not None:
        print(f"  {'pysimlin, one at a time':<28}{simlin_rate:>14,.1f}{simlin_rate / pysd_rate:>9,.1f}x{'':>14}")
    else:
        print(f"  {'pysimlin':<28}{simlin_note:>14}")
    print(f"  largest relative difference tenor vs PySD on {pysd_runs} scenarios: {rel:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--pysd-seconds", type=float, default=10.0, help="time budget for the PySD loop")
    args = parser.parse_args()
    for label, path in _models():
        bench(label, path, args.scenarios, args.pysd_seconds)


if __name__ == "__main__":
    main()
