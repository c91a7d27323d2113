"""Which claims depend on which constant: every constant with a declared range set to each end of it.

Every constant of ``stocks.yaml`` that declares a ``range`` (sourced ones too; fitted
ones over their fitted interval) is set to the low and to the high end of it, one
at a time, on the calibrated model; the twelve claims are judged again and every
verdict that changes is listed. Ranges are the bounds, so nothing is pushed past
them; a constant whose value is zero moves by its range, i.e. additively; scenario
settings (event days) declare no range and are not perturbed. All the perturbed
worlds run in a few batched engine passes. The table is written to
``sensitivity.md`` beside this file.

Run: ``python examples/duration_trade/sensitivity.py`` (Python puts this folder on the path, so
``claims`` is found beside it).
"""

from __future__ import annotations

import time
from pathlib import Path

import claims

from stocks_flows.batch import constant_values
from tenor.core.output import write_text

HERE = Path(__file__).resolve().parent
BATCH = 30


def main() -> None:
    start = time.perf_counter()
    evidence = claims.Evidence(HERE)
    reference = {v.number: v.holds for v in claims.evaluate(evidence)}
    bounds = claims.ranges(evidence)
    names = sorted(bounds)
    worlds = [{name: bounds[name][end]} for name in names for end in (0, 1)]
    verdicts: list[dict[int, bool]] = []
    for lo in range(0, len(worlds), BATCH):
        for world in claims.simulate_worlds(evidence.model, worlds[lo : lo + BATCH]):
            verdicts.append({v.number: v.holds for v in claims.judge(evidence, world)})
        print(f"{min(lo + BATCH, len(worlds))}/{len(worlds)} perturbed worlds", flush=True)
    rows = []
    calibrated = constant_values(evidence.model)
    for i, name in enumerate(names):
        cells = []
        for end in (0, 1):
            got = verdicts[2 * i + end]
            changed = [n for n in got if got[n] != reference[n]]
            cells.append(", ".join(f"claim {n} {'fails' if not got[n] else 'holds'}" for n in changed) or "no change")
        value = calibrated[name]
        rows.append(f"| {name} | {value:g} | {bounds[name][0]:g}: {cells[0]} | {bounds[name][1]:g}: {cells[1]} |")
    held = ", ".join(str(n) for n, h in reference.items() if h)
    lines = [
        "# Which claims depend on which constant",
        "",
        "Each constant of `stocks.yaml` with a declared range (fitted constants over their fitted interval) set to",
        "the low and to the high end of it, one at a time, on the calibrated model; the claims whose verdict",
        f"changes are listed (claims holding on the calibrated model: {held}). Ranges are respected; zero-valued",
        "constants move additively (to the ends of their range); scenario dates are not perturbed.",
        f"Made by `python examples/duration_trade/sensitivity.py` in {time.perf_counter() - start:.0f} s.",
        "",
        "| constant | calibrated value | low end | high end |",
        "|---|---|---|---|",
        *rows,
    ]
    write_text(HERE / "sensitivity.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
