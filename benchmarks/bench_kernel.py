"""The compiled kernel against the NumPy engine, PySD and pysimlin, from one run to many.

Run from the repository root:

    python benchmarks/bench_kernel.py [--max-n 100000] [--pysd-runs 20] [--clock wall|cpu]

For the teacup (the XMILE conformance model) and the bundled example it prints, side by side:

- the first-run compile time of the kernel (with an empty cache) and its load time from the disk
  cache in a new process;
- seconds for one run and for batches of N scenarios (one constant varied), for the compiled
  kernel and the NumPy engine (warm: the second of two calls), and scenarios per second;
- PySD, warm, one scenario at a time (the model translated once; the mean of ``--pysd-runs``
  runs), and pysimlin one at a time where it reads the model;
- for the teacup at the largest N, a hand-written NumPy loop doing the same arithmetic over all
  scenarios at once (the floor for any vectorised engine), beside the kernel and the NumPy engine.

The bundled example runs N = 1 to 10,000. ``--clock cpu`` times the CPU this process uses rather
than the wall clock: on a machine shared with other work it is the steadier figure (every engine
here runs on one thread, so the two agree on an idle machine).

Every figure compares the same saved rows; the batches keep one variable (the quantity a sweep
keeps), so memory does not decide the timing. Results agree to 1e-12 (asserted here too).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stocks_flows.engine import simulate  # noqa: E402
from stocks_flows.load import load_model  # noqa: E402

TEACUP = ROOT / "tests/data/conformance/xmile/teacup/teacup.xmile"
EXAMPLE = ROOT / "examples/duration_trade/stocks.yaml"


_CLOCK = time.perf_counter


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = _CLOCK()
        fn()
        best = min(best, _CLOCK() - start)
    return best


def _compile_times(path: Path) -> tuple[float, float]:
    """Seconds to compile with an empty cache, and to load from the cache, each in a new process."""
    code = (
        "import sys, time; from stocks_flows.load import load_model; from stocks_flows.engine import simulate\n"
        f"m = load_model({str(path)!r}); t = time.{_CLOCK.__name__}(); simulate(m, kernel='compiled')\n"
        f"print(time.{_CLOCK.__name__}() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "TENOR_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(first.stdout.split()[-1]), float(second.stdout.split()[-1])


def _pysd_seconds(path: Path, runs: int) -> float | None:
    try:
        from stocks_flows.pysd_runner import _run_one, translated
    except ImportError:
        return None
    model = load_model(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with translated(model) as pysd_model:
            outputs = list(model.variables)[:1]
            _run_one(pysd_model, model, outputs, {})
            start = _CLOCK()
            for _ in range(runs):
                _run_one(pysd_model, model, outputs, {})
            return (_CLOCK() - start) / runs


def _pysimlin_seconds(path: Path, runs: int) -> tuple[float | None, str]:
    try:
        import simlin
    except ImportError:
        return None, "not installed"
    try:
        model = simlin.load(str(path))
        with model.simulate() as sim:
            sim.run_to_end()
        start = _CLOCK()
        for _ in range(runs):
            with model.simulate() as sim:
                sim.run_to_end()
                sim.get_run()
        return (_CLOCK() - start) / runs, ""
    except Exception as exc:  # a reference, not a requirement
        return None, f"{type(exc).__name__}"


def _numpy_floor(n: int) -> float:
    """The teacup's arithmetic written by hand over n scenarios (what a vectorised engine cannot beat)."""
    rng = np.linspace(50, 90, n)

    def run() -> None:
        temp = np.full(n, 180.0)
        out = np.empty((241, n))
        for step in range(241):
            out[step] = temp
            temp = temp - (temp - rng) / 10.0 * 0.125

    return _best(run)


def bench(label: str, path: Path, sizes: list[int], pysd_runs: int) -> None:
    model = load_model(path)
    param = model.constants[0]
    keep = [model.stocks[0]]
    first, cached = _compile_times(path)
    print(
        f"\n{label}: {len(model.variables)} variables, {model.time.stop - model.time.start:g} {model.time.unit}s "
        f"at dt={model.time.dt:g}"
    )
    print(f"  kernel compile, first run: {first:.1f} s; from the disk cache in a new process: {cached:.2f} s")
    print(f"  {'N':>8} {'compiled s':>12} {'NumPy s':>10} {'speed-up':>9} {'compiled scen/s':>16} {'NumPy scen/s':>13}")
    base = float(getattr(model.variables[param].equation, "value", 1.0) or 1.0)
    single = None
    for n in sizes:
        values = np.linspace(0.5 * base, 1.5 * base, n)
        simulate(model, {param: values}, variables=keep, kernel="compiled")
        compiled = _best(lambda values=values: simulate(model, {param: values}, variables=keep, kernel="compiled"))
        numpy_s = _best(lambda values=values: simulate(model, {param: values}, variables=keep, kernel="numpy"), 1)
        a = simulate(model, {param: values[:50]}, variables=keep, kernel="compiled").values
        b = simulate(model, {param: values[:50]}, variables=keep, kernel="numpy").values
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        single = compiled if n == 1 else single
        print(
            f"  {n:>8,} {compiled:>12.5f} {numpy_s:>10.4f} {numpy_s / compiled:>8.0f}x {n / compiled:>16,.0f} "
            f"{n / numpy_s:>13,.0f}"
        )
    pysd = _pysd_seconds(path, pysd_runs)
    simlin, why = _pysimlin_seconds(path, pysd_runs)
    print("  one scenario:")
    print(f"    compiled kernel   {single:.5f} s")
    if pysd is not None:
        print(f"    PySD (warm)       {pysd:.5f} s   kernel is {pysd / single:,.0f}x faster")
    if simlin is not None:
        print(f"    pysimlin          {simlin:.5f} s   kernel is {simlin / single:,.1f}x faster")
    else:
        print(f"    pysimlin          {why}")
    if path == TEACUP:
        n = sizes[-1]
        floor = _numpy_floor(n)
        values = np.linspace(35, 105, n)
        compiled = _best(lambda: simulate(model, {param: values}, variables=keep, kernel="compiled"))
        numpy_s = _best(lambda: simulate(model, {param: values}, variables=keep, kernel="numpy"), 2)
        print(
            f"  at N={n:,}: compiled kernel {compiled:.4f} s | NumPy engine {numpy_s:.4f} s "
            f"({numpy_s / compiled:.1f}x the kernel's time) | hand-written NumPy loop {floor:.4f} s "
            f"(the kernel takes {compiled / floor:.2f}x the loop's time)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=100_000)
    parser.add_argument("--pysd-runs", type=int, default=20)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="wall-clock or process CPU time")
    args = parser.parse_args()
    global _CLOCK
    _CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"seconds of {'CPU time of this process' if args.clock == 'cpu' else 'wall-clock time'}, best of 3")
    sizes = [n for n in (1, 100, 10_000, 100_000, 1_000_000) if n <= args.max_n]
    bench("teacup (XMILE)", TEACUP, sizes, args.pysd_runs)
    example = [n for n in (1, 100, 1_000, 10_000) if n <= args.max_n]
    bench("the bundled example", EXAMPLE, example, max(2, args.pysd_runs // 10))


if __name__ == "__main__":
    main()
