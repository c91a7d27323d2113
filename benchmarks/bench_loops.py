"""Loop enumeration and loop dominance time: the largest model at hand, and a model with thousands of loops.

Run: ``python benchmarks/bench_loops.py`` (from the repository root).

The generated model couples n stocks all-to-all (each stock's flow reads every
stock), so its dependency graph has one loop per cycle of the complete
directed graph on n nodes plus n self-loops: 16 072 loops for n = 8.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stocks_flows.dominance import loop_dominance  # noqa: E402
from stocks_flows.load import load_model, parse_model  # noqa: E402
from stocks_flows.loops import find_loops  # noqa: E402


def coupled(n: int, stop: float = 5, dt: float = 0.125) -> str:
    lines = [f"name: coupled_{n}", f"time: {{stop: {stop}, dt: {dt}}}", "stocks:"]
    lines += [f"  s{i}: {{initial: {i + 1}}}" for i in range(n)]
    lines.append("flows:")
    for i in range(n):
        terms = " + ".join(f"{0.01 * (j + 1):g} * s{j}" for j in range(n) if j != i)
        lines.append(f"  f{i}: {{to: s{i}, equation: '{terms} - 0.5 * s{i}'}}")
    return "\n".join(lines)


def largest_model_at_hand():
    candidates = list((ROOT / "tests" / "data").rglob("*.yaml")) + list((ROOT / "tests" / "data").rglob("*.xmile"))
    best = None
    for path in candidates:
        try:
            model = load_model(path)
        except Exception:  # not a stock-and-flow model, or one PySD cannot read
            continue
        if best is None or len(model.variables) > len(best[1].variables):
            best = (path, model)
    return best


def bench(label: str, model, max_loops: int = 50_000) -> None:
    start = time.perf_counter()
    report = find_loops(model, max_loops=max_loops)
    enum = time.perf_counter() - start
    start = time.perf_counter()
    result = loop_dominance(model, report=report)
    dom = time.perf_counter() - start
    n_cycles = sum(len(lp.cycles) for lp in report.loops)
    print(
        f"{label}: {len(model.variables)} variables, {n_cycles} loops"
        f"{' (capped)' if report.capped else ''}; find_loops {enum:.2f} s;"
        f" loop_dominance {dom:.2f} s ({len(result.time)} times)"
    )


if __name__ == "__main__":
    found = largest_model_at_hand()
    if found is not None:
        path, model = found
        bench(f"largest model at hand ({path.relative_to(ROOT)})", model)
    for n in (6, 8):
        bench(f"generated all-to-all, {n} stocks", parse_model(coupled(n)))
