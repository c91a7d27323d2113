"""Which claims depend on which assumption: every assumed constant halved and doubled.

Each constant of ``stocks.yaml`` that carries an ``assumption`` is set to
half and to twice its value, one at a time; the twelve claims are judged again
and every verdict that changes is listed. The table is written to
``sensitivity.md`` beside this file.

Run: ``python examples/duration_trade/sensitivity.py`` (about half a minute per
changed value; a few dozen minutes in all).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import claims  # noqa: E402

from stocks_flows.model import Scenario  # noqa: E402

FACTORS = (0.5, 2.0)


def assumed_constants(model) -> list[str]:
    return [
        name
        for name, constant in model.spec.constants.items()
        if constant.assumption and isinstance(constant.value, float) and constant.value
    ]


def main() -> None:
    base = claims.Evidence(HERE)
    reference = {v.number: v.holds for v in claims.evaluate(base)}
    rows = []
    start = time.perf_counter()
    names = assumed_constants(base.model)
    for name in names:
        value = base.model.variables[name].value
        for factor in FACTORS:
            evidence = claims.Evidence(HERE)
            changed = Scenario(f"{name}x{factor}", constants={name: value * factor})
            evidence.__dict__["model"] = base.model.with_scenario(changed)
            verdicts = {v.number: v.holds for v in claims.evaluate(evidence)}
            flipped = [n for n in verdicts if verdicts[n] != reference[n]]
            rows.append((name, value, factor, flipped))
            change = "claims " + ", ".join(map(str, flipped)) + " change" if flipped else "no change"
            print(f"{name} x{factor:g}: {change}",
                  flush=True)
    lines = [
        "# Which claims depend on which assumption",
        "",
        "Each assumed constant of `stocks.yaml` halved and doubled, one at a time; the claims whose verdict",
        "changes are listed (every claim holds at the assumed values). Made by",
        "`python examples/duration_trade/sensitivity.py`"
        f" in {time.perf_counter() - start:.0f} s.",
        "",
        "| constant | assumed value | x0.5 | x2 |",
        "|---|---|---|---|",
    ]
    for name in names:
        cells = []
        for factor in FACTORS:
            flipped = next(r[3] for r in rows if r[0] == name and r[2] == factor)
            cells.append(", ".join(f"claim {n} fails" for n in flipped) if flipped else "all hold")
        value = base.model.variables[name].value
        lines.append(f"| {name} | {value:g} | {cells[0]} | {cells[1]} |")
    (HERE / "sensitivity.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
