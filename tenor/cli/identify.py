"""``tenor identify``, ``tenor test-data`` and ``tenor simulate-data``: identification and its checks.

- ``tenor identify GRAPH --treatment X [--treatment X2] --outcome Y [--json]``
  reports whether ``P(y | do(x))`` is identifiable, the minimal adjustment
  sets, front-door sets, instruments, the estimand and the reason (exit 0;
  with ``--strict``, exit 1 when not identifiable);
- ``tenor test-data SPEC DATA.csv [--alpha A] [--correction C] [--json]``
  tests the graph's implied conditional independences on data, the p-values
  adjusted for testing them together (Holm by default; exit 1 when one is
  rejected);
- ``tenor simulate-data SPEC --n N --seed S --out data.csv`` simulates the
  linear model of the spec's gains (``--check`` also estimates each query and
  compares it with the path-product truth; exit 1 when one misses).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from tenor.core.errors import SpecError

__all__ = ["identify_command", "register", "simulate_data_command", "test_data_command"]


def _load_graph(source: str, fmt: str | None, command: str):
    from causal.graph import build_graph
    from tenor.app.kinds import read_causal

    spec = read_causal(source, fmt, command=command)
    return spec, build_graph(spec)


def _sets(sets: list[list[str]]) -> str:
    if not sets:
        return "none"
    return "; ".join("{" + ", ".join(s) + "}" for s in sets)


def _dowhy_line(d: dict) -> str:
    if not d["finished"] or d["error"]:
        found = d["error"] or "gave up"
    else:
        instruments = ", ".join(d["instruments"] or []) or "none"
        frontdoor = _sets([d["frontdoor"]] if d["frontdoor"] else [])
        found = f"back-door {_sets(d['backdoor_sets'] or [])}; instruments {instruments}; front-door {frontdoor}"
    return f"DoWhy:                   {found}"


def identify_command(
    graph: str = typer.Argument(..., help="A tenor spec (.yaml) or a dagitty file; - reads standard input."),
    treatment: list[str] = typer.Option(..., "--treatment", "-t", help="Treatment node (repeat for several)."),
    outcome: list[str] = typer.Option(..., "--outcome", "-o", help="Outcome node (repeat for several)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    fmt: str | None = typer.Option(None, "--format", help="yaml, dagitty or json (default: from the content)."),
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.01, help="Seconds for listing sets."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when the effect is not identifiable."),
    dowhy: bool = typer.Option(False, "--dowhy", help="Also run DoWhy's identification (within the time limit)."),
) -> int:
    """Is the effect of TREATMENT on OUTCOME identifiable, how, and why (not)?"""
    from causal.identify import identify

    _, g = _load_graph(graph, fmt, "identify")
    r = identify(g, treatment, outcome, time_limit=time_limit, dowhy=dowhy)
    if as_json:
        print(json.dumps(r.to_dict(), indent=2, ensure_ascii=False))
    else:
        lines = [
            f"query:                   {r.query}",
            f"identifiable:            {f'yes (by {r.by})' if r.identifiable else 'no'}",
            f"minimal adjustment sets: {_sets(r.minimal_adjustment_sets)}"
            + (" (the empty set: no adjustment needed)" if r.minimal_adjustment_sets == [[]] else ""),
            f"front-door sets:         {_sets(r.frontdoor_sets)}",
            f"instruments:             {', '.join(r.instruments) or 'none'}",
        ]
        for c in r.conditional_instruments:
            lines.append(f"  conditional instrument: {c['instrument']} given {{{', '.join(c['given'])}}}")
        lines.append(f"estimand:                {r.estimand or '-'}")
        lines.append(f"reason:                  {r.reason}")
        if r.dowhy is not None:
            lines.append(_dowhy_line(r.dowhy))
        lines += [f"note:                    {n}" for n in r.notes]
        print("\n".join(lines))
    return 1 if strict and not r.identifiable else 0


def _read_csv(path: str):
    import pandas as pd

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise SpecError(f"no such file: {path}", file=path, hint="check the path of the data file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SpecError(
            f"cannot read CSV: {exc}", file=path, hint="give a comma-separated file with a header row"
        ) from None


class Correction(StrEnum):
    none = "none"
    bonferroni = "bonferroni"
    holm = "holm"
    fdr = "fdr"


_CORRECTION_NAMES = {
    "none": "no correction",
    "bonferroni": "Bonferroni's correction",
    "holm": "Holm's correction",
    "fdr": "Benjamini-Hochberg (false discovery rate)",
}


def test_data_command(
    spec_path: str = typer.Argument(..., metavar="SPEC", help="A tenor spec or a dagitty file."),
    data_path: str = typer.Argument(..., metavar="DATA.csv", help="One column per observed node."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of each test."),
    basis: str = typer.Option(
        "missing-edge", "--basis", help="missing-edge (one per non-adjacent pair) or local-markov."
    ),
    correction: Correction = typer.Option(
        Correction.holm,
        "--correction",
        help="Correction for testing many implications at once: holm (default; family-wise error rate), "
        "bonferroni, fdr (Benjamini-Hochberg false discovery rate) or none.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    fmt: str | None = typer.Option(None, "--format", help="yaml, dagitty or json (default: from the content)."),
) -> int:
    """Test the graph's implied conditional independences on data (Fisher z test, p-values adjusted)."""
    from causal.implications import TEST_NAME, test_implications

    _, g = _load_graph(spec_path, fmt, "test-data")
    data = _read_csv(data_path)
    try:
        results = test_implications(g, data, alpha, basis, correction.value)
    except SpecError as err:
        raise SpecError(err.message, file=data_path, hint=err.hint) from None
    failed = [r for r in results if r.rejected]
    raw = sum(1 for r in results if r.p_value < alpha)
    if as_json:
        print(
            json.dumps(
                {
                    "test": TEST_NAME,
                    "basis": basis,
                    "alpha": alpha,
                    "correction": correction.value,
                    "bonferroni_alpha": alpha / len(results) if results else alpha,
                    "implications": [r.to_dict() for r in results],
                    "rejected": len(failed),
                    "rejected_unadjusted": raw,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        name = _CORRECTION_NAMES[correction.value]
        print(
            f"{len(results)} implied independences ({basis} basis), {TEST_NAME}, alpha = {alpha:g}, "
            f"p-values adjusted by {name}"
        )
        for r in results:
            flag = "FAIL" if r.rejected else "ok  "
            print(
                f"  {flag} {r.implication!s:<40} r = {r.partial_correlation:+.3f}  z = {r.statistic:+.2f}  "
                f"p = {r.p_value:.3g}  adjusted p = {r.p_adjusted:.3g}"
            )
        print(
            f"{len(failed)} of {len(results)} rejected at alpha = {alpha:g} after {name} "
            f"({raw} with p < {alpha:g} before adjusting)"
        )
    return 1 if failed else 0


def simulate_data_command(
    spec_path: str = typer.Argument(..., metavar="SPEC", help="A tenor spec whose edges have gains or signs."),
    n: int = typer.Option(..., "--n", min=1, help="Number of rows."),
    seed: int = typer.Option(..., "--seed", help="Random seed."),
    out: Path = typer.Option(..., "--out", help="CSV file to write (atomically)."),
    noise: float = typer.Option(1.0, "--noise", min=0.0, help="Standard deviation of every error term."),
    check: bool = typer.Option(False, "--check", help="Estimate each query and compare with the truth."),
    tolerance: float = typer.Option(0.1, "--tolerance", help="Allowed |estimate - truth| / max(1, |truth|)."),
    as_json: bool = typer.Option(False, "--json", help="Print the check as JSON."),
    fmt: str | None = typer.Option(None, "--format", help="yaml, dagitty or json (default: from the content)."),
) -> int:
    """Simulate the spec's linear model; latent nodes are simulated and left out of the file."""
    from causal.scm import estimate_effect, simulate
    from tenor.core.limits import check_simulation_size
    from tenor.core.output import atomic_path

    spec, g = _load_graph(spec_path, fmt, "simulate-data")
    # every node and one hidden cause per latent confounding are drawn; the observed nodes are kept
    check_simulation_size(rows=n, nodes=len(g.directed) + g.bidirected.number_of_edges(), observed=len(g.observed))
    data = simulate(g, n, seed, noise=noise)
    with atomic_path(out, inputs=[spec_path]) as tmp:
        data.to_csv(tmp, index=False, lineterminator="\n")  # written in chunks, never one huge string
    if not check:
        if not as_json:
            print(f"wrote {n} rows x {data.shape[1]} columns to {out}")
        return 0
    estimates = []
    for name, query in spec.queries.items():
        for x in query.treatment:
            for y in query.outcome:
                estimates.append((name, estimate_effect(g, data, x, y)))
    missed = [e for _, e in estimates if e.estimate is not None and not e.within(tolerance)]
    if as_json:
        print(
            json.dumps(
                {
                    "rows": n,
                    "out": str(out),
                    "tolerance": tolerance,
                    "queries": [{"query": name, **e.to_dict()} for name, e in estimates],
                },
                indent=2,
            )
        )
    else:
        print(f"wrote {n} rows x {data.shape[1]} columns to {out}")
        for name, e in estimates:
            if e.estimate is None:
                print(f"  {name}: {e.treatment} -> {e.outcome}: no estimate ({e.note})")
                continue
            mark = "ok  " if e.within(tolerance) else "MISS"
            print(
                f"  {mark} {name}: {e.treatment} -> {e.outcome} by {e.route} {e.variables}: "
                f"estimate {e.estimate:+.4f}, truth {e.truth:+.4f}"
            )
    return 1 if missed else 0


def register(app: typer.Typer) -> None:
    app.command("identify")(identify_command)
    app.command("test-data")(test_data_command)
    app.command("simulate-data")(simulate_data_command)
