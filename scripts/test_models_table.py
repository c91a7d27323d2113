"""Run every model of the SDXorg test-models suite with each engine; write the results and the docs table.

    python scripts/test_models_table.py                 # all models, all engines (~15 min on 2 cores)
    python scripts/test_models_table.py --only delay    # models whose id contains 'delay'
    python scripts/test_models_table.py --table-only    # rewrite the docs table from the saved results

Engines: ``tenor`` (tenor's reader and vectorised engine), ``tenor-pysd`` (``--engine pysd``: the
file handed to PySD through tenor's sanitiser), ``pysd`` (PySD on its own) and ``simlin``
(pysimlin). Each result is ``pass``, ``differs: ...`` (it ran; the first differences from the
canonical output) or ``error: ...`` (it was refused or failed). The results go to
``tests/conformance/results.json`` (merged with what is there, so ``--only`` updates a slice), and
the per-model table between the markers in ``docs/stocks_flows.md``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "conformance"))

import suite  # noqa: E402

RESULTS = ROOT / "tests" / "conformance" / "results.json"
DOCS = ROOT / "docs" / "stocks_flows.md"
BEGIN = "<!-- test-models table: begin (scripts/test_models_table.py writes it) -->"
END = "<!-- test-models table: end -->"
ENGINES = {
    "tenor": suite.run_tenor,
    "tenor-pysd": suite.run_tenor_pysd,
    "pysd": suite.run_pysd,
    "simlin": suite.run_simlin,
}
TIMEOUT = 120
DISAGREE_BEGIN = "<!-- pysd-simlin disagreements: begin (scripts/test_models_table.py writes it) -->"
DISAGREE_END = "<!-- pysd-simlin disagreements: end -->"

WHY = {
    "allocate_by_priority": "Simlin's ALLOCATE BY PRIORITY shares the supply out differently from Vensim's",
    "control_vars": "the time settings change during the run; Simlin keeps their first values",
    "dynamic_final_time": "FINAL TIME changes during the run; Simlin keeps its first value",
    "delay_fixed": "delay times that are not whole TIME STEPs: Vensim rounds them to whole steps "
    "(0.5 and 1.5 up, 1.2 down), Simlin does not",
    "delay_xmile": "Stella's fixed DELAY of a flow: Simlin's values drift from Stella's (2.008 against 2); "
    "cause not yet found",
    "fully_invalid_names": 'names only: Simlin does not keep the quoted name `"$ euro"` as a column',
    "get_data_args_3d_xls": "GET DATA ... with 'backward' interpolation: Simlin gives 0 before the first data point",
    "non_negative_all": "non-negative stocks and flows: Simlin lets the flow go negative",
    "non_negative_stocks": "non-negative stocks: Simlin lets the stock go below zero",
    "rounding": "INTEGER and MODULO of a negative number: Vensim truncates toward zero and keeps the "
    "dividend's sign; Simlin floors",
    "subscripted_round": "INTEGER of negative numbers: Vensim truncates toward zero; Simlin floors",
    "zeroled_decimals": "a stock that lists an inflow between its outflows: Simlin's net flow is off by 0.5, "
    "the value of one outflow (flow5)",
    "subscript_logicals": "`dim1 = dim3` across two dimensions: Vensim compares the elements' positions, "
    "Simlin does not",
    "subscripted_logicals": ":NOT:, :OR: and :AND: in one condition: Simlin groups the operators otherwise",
    "subscripted_lookups": "a lookup defined per element: Simlin uses another element's table",
    "subscript_transposition": "a SUM over a matrix's second dimension: Simlin sums along the other one",
    "vector_select": "Simlin's VECTOR SELECT gives other values",
}
"""Why Simlin differs from the canonical output where PySD matches it, found by reading each model."""
WHY_DEFAULT = "elements defined one by one, subranges or mappings: Simlin's Vensim import leaves some elements at 0"


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _short(text: str) -> str:
    text = text.replace(str(suite.SUITE) + "/", "").replace(str(ROOT) + "/", "")
    first = " ".join(text.split())
    return first[:220]


def outcome(case: suite.Case, engine: str) -> str:
    """One model with one engine: ``pass``, ``differs: ...`` or ``error: ...``."""
    if case.canonical is None:
        return "error: the suite has no canonical output for this model"
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        frame = ENGINES[engine](case.path)
        problem = suite.compare(frame, suite.read_canonical(case.canonical))
    except _Timeout:
        return f"error: no result within {TIMEOUT} s"
    except Exception as exc:  # every failure is recorded, never hidden
        return f"error: {type(exc).__name__}: {_short(str(exc))}"
    finally:
        signal.alarm(0)
    return "pass" if problem is None else f"differs: {_short(problem)}"


def _cell(result: str | None) -> str:
    if result is None:
        return "—"
    if result == "pass":
        return "pass"
    return result.replace("|", "/")[:140]


def table(results: dict[str, dict[str, str]]) -> str:
    """The markdown table: counts per part of the suite, then one row per model."""
    lines = [BEGIN, "", "| part of the suite | models | " + " | ".join(f"{e} pass" for e in ENGINES) + " |"]
    lines.append("|---|---|" + "---|" * len(ENGINES))
    for part in ("Vensim", "XMILE"):
        ids = [c.id for c in suite.CASES if c.part == part]
        counts = [sum(results.get(i, {}).get(e) == "pass" for i in ids) for e in ENGINES]
        lines.append(f"| tests/, {part} | {len(ids)} | " + " | ".join(str(n) for n in counts) + " |")
    lines += ["", "| model | " + " | ".join(ENGINES) + " |", "|---|" + "---|" * len(ENGINES)]
    for case in suite.CASES:
        row = results.get(case.id, {})
        lines.append(f"| `{case.id}` | " + " | ".join(_cell(row.get(e)) for e in ENGINES) + " |")
    lines += ["", END]
    return "\n".join(lines)


def disagreements(results: dict[str, dict[str, str]]) -> str:
    """Models PySD and Simlin both run where exactly one matches the canonical output: who, why, and tenor."""
    lines = [
        DISAGREE_BEGIN,
        "",
        "| model | matches the canonical output | the other differs | why | tenor |",
        "|---|---|---|---|---|",
    ]
    for case in suite.CASES:
        row = results.get(case.id, {})
        pysd, simlin = row.get("pysd", "error"), row.get("simlin", "error")
        if pysd.startswith("error") or simlin.startswith("error") or (pysd == "pass") == (simlin == "pass"):
            continue
        right, wrong, detail = ("PySD", "Simlin", simlin) if pysd == "pass" else ("Simlin", "PySD", pysd)
        folder = case.id.split("/")[0]
        why = WHY.get(folder, WHY_DEFAULT if right == "PySD" else "")
        ours = row.get("tenor", "—")
        follows = "pass" if ours == "pass" else _cell(ours)[:60]
        lines.append(f"| `{case.id}` | {right} | {wrong}: {_cell(detail)[:90]} | {why} | {follows} |")
    lines += ["", DISAGREE_END]
    return "\n".join(lines)


def _replace(text: str, begin: str, end: str, block: str) -> str:
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        return head + block + tail
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_docs(results: dict[str, dict[str, str]]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    text = _replace(text, DISAGREE_BEGIN, DISAGREE_END, disagreements(results))
    text = _replace(text, BEGIN, END, table(results))
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only models whose id contains this text")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines to run")
    parser.add_argument("--table-only", action="store_true", help="only rewrite the docs table")
    args = parser.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.table_only:
        engines = [e.strip() for e in args.engines.split(",")]
        for case in suite.CASES:
            if args.only and args.only not in case.id:
                continue
            row = results.setdefault(case.id, {})
            for engine in engines:
                start = time.perf_counter()
                row[engine] = outcome(case, engine)
                print(f"{case.id:70s} {engine:10s} {time.perf_counter() - start:6.1f}s {row[engine][:90]}", flush=True)
            RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    write_docs(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
