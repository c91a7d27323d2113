"""``tenor sensitivity``: Sobol' indices of model outputs over ranges of parameters.

``tenor sensitivity MODEL --sample NAME=low:high [...] --output VAR[@TIME|@mean] [...]
[--n N] [--seed S] [--json] [--out chart.svg]`` draws ``N (D + 2)`` scenarios
(Saltelli's scheme over a scrambled Sobol' sequence), runs them in one batch
of the vectorised engine, and prints each parameter's first-order (S1) and
total (ST) index with its confidence interval; ``--out`` also draws them as a
bar chart. Exit code 2 for bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tenor.core.errors import TenorError

__all__ = ["format_indices", "register", "sensitivity"]


def format_indices(result) -> str:
    """The indices as a plain-text table per output."""
    level = f"{result.conf_level:.0%}"
    lines = [
        f"Sobol' indices from {result.runs} runs (n = {result.n}, seed = {result.seed}); "
        f"± is the {level} confidence half-width"
    ]
    width = max(len("parameter"), *(len(p) for p in result.parameters))
    for ix in result.indices.values():
        lines.append("")
        lines.append(f"{ix.output}  (mean {ix.mean:.6g}, variance {ix.variance:.6g})")
        if ix.variance == 0:
            lines.append("  the output does not vary over these ranges: no variance to share out")
            continue
        lines.append(f"  {'parameter':<{width}}  {'S1':>16}  {'ST':>16}")
        for i, p in enumerate(ix.parameters):
            s1 = f"{ix.S1[i]:.3f} ± {ix.S1_conf[i]:.3f}"
            st = f"{ix.ST[i]:.3f} ± {ix.ST_conf[i]:.3f}"
            lines.append(f"  {p:<{width}}  {s1:>16}  {st:>16}")
    return "\n".join(lines)


def sensitivity(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    ranges: list[str] = typer.Option(
        ...,
        "--sample",
        help="NAME=low:high: a parameter drawn uniformly from the range (repeat); "
        "or NAME=normal(mu,sd), lognormal(mu,sigma), triangular(low,mode,high).",
    ),
    outputs: list[str] = typer.Option(
        ..., "--output", help="VAR (final value), VAR@TIME or VAR@mean (mean over the run); repeat."
    ),
    n: int = typer.Option(1024, "--n", help="Base sample, a power of two: the model runs n (D + 2) times."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (same seed, same indices)."),
    conf_level: float = typer.Option(0.95, "--conf-level", help="Confidence level of the intervals."),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario to start from."),
    as_json: bool = typer.Option(False, "--json", help="Print the indices as JSON."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also draw a bar chart (.svg, .png or .pdf)."),
) -> None:
    """Which parameters drive an output: Sobol' first-order and total indices."""
    from stocks_flows.sensitivity import parse_output, parse_range, sobol_indices
    from tenor.app.kinds import read_model
    from tenor.cli.common import emit_json

    if out is not None and out.suffix.lower().lstrip(".") not in ("png", "svg", "pdf"):
        raise TenorError(f"cannot tell the chart format of {out.name!r}", hint="end it with .svg, .png or .pdf")
    parsed = [parse_range(r) for r in ranges]
    names = [name for name, _ in parsed]
    if len(set(names)) != len(names):
        dup = next(x for x in names if names.count(x) > 1)
        raise TenorError(f"{dup!r} is given two ranges", hint="give each parameter one --sample")
    wanted = [parse_output(o) for o in outputs]
    loaded = read_model(model, command="sensitivity")
    if scenario:
        loaded = loaded.with_scenario(scenario)
    result = sobol_indices(loaded, dict(parsed), wanted, n=n, seed=seed, conf_level=conf_level)
    if out is not None:
        from diagrams.plots import plot_sensitivity, save_figure

        figure = plot_sensitivity(
            {label: ix.to_dict() for label, ix in result.indices.items()}, conf_level=result.conf_level
        )
        save_figure(figure, out, inputs=[model])
    if as_json:
        emit_json({"model": str(model), **result.to_dict()})
    else:
        print(format_indices(result))
    if out is not None:
        print(f"wrote {out}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("sensitivity")(sensitivity)
