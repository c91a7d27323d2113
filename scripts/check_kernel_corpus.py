"""The compiled kernel against the NumPy engine on every model the repository holds.

Run from the repository root:

    python scripts/check_kernel_corpus.py [--scenarios 5]

For each conformance model (XMILE and its Stella twin), each test model and the bundled example it
runs a batch of scenarios (every nonzero constant scaled by a seeded random factor in 0.8-1.2)
with both engines and prints the largest relative difference, the compile-and-run time and the
NumPy time. The test suite holds the two together on a covering subset; this is the whole list
(compiling every model takes a few minutes, too long for the suite).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stocks_flows.engine import simulate  # noqa: E402
from stocks_flows.load import load_model  # noqa: E402
from tenor.core.errors import TenorError  # noqa: E402


def _models() -> list[Path]:
    corpus = ROOT / "tests/data/conformance/xmile"
    found = sorted(corpus.glob("*/*.xmile")) + sorted(corpus.glob("*/*.stmx"))
    found += sorted((ROOT / "tests/data/stocks_flows").glob("*.*")) + sorted((ROOT / "tests/data/kernel").glob("*"))
    return [ROOT / "examples/duration_trade/stocks.yaml", *found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=5)
    args = parser.parse_args()
    worst, compared, differ = 0.0, 0, []
    for path in _models():
        try:
            model = load_model(path)
        except TenorError:
            print(f"skip  {path.relative_to(ROOT)} (not a model tenor reads)")
            continue
        rng = np.random.default_rng(len(path.name))
        params = {}
        for name in model.constants:
            value = getattr(model.variables[name].equation, "value", None)
            if isinstance(value, float) and value != 0.0 and np.isfinite(value):
                params[name] = value * rng.uniform(0.8, 1.2, args.scenarios)
        try:
            start = time.perf_counter()
            reference = simulate(model, params, kernel="numpy")
            numpy_s = time.perf_counter() - start
        except TenorError as exc:
            print(f"skip  {path.relative_to(ROOT)} (the NumPy engine refuses this batch: {exc.message})")
            continue
        start = time.perf_counter()
        try:
            compiled = simulate(model, params, kernel="compiled")
        except TenorError as exc:
            print(f"skip  {path.relative_to(ROOT)} (not compiled: {exc.message})")
            continue
        kernel_s = time.perf_counter() - start
        a, b = compiled.values, reference.values
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        with np.errstate(all="ignore"):
            rel = np.nanmax(np.abs(a - b) / np.maximum(1.0, np.abs(b))) if a.size else 0.0
        compared += 1
        worst = max(worst, float(rel))
        if rel > 1e-12 or not same_nan:
            differ.append(path)
        print(
            f"{'ok   ' if rel <= 1e-12 and same_nan else 'DIFF '}{path.relative_to(ROOT)}: largest relative "
            f"difference {rel:.1e}; compiled (first call) {kernel_s:.2f} s, NumPy {numpy_s:.3f} s"
        )
    print(f"\n{compared} models compared, {len(differ)} differ by more than 1e-12; largest difference {worst:.1e}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
