"""``tenor simulate``, ``tenor sweep`` and ``tenor export``: stock-and-flow models on the command line.

MODEL is a tenor stock-and-flow spec (``.yaml``), an XMILE file (``.xmile``,
``.stmx``) or a Vensim ``.mdl`` file. Outputs are written atomically; bad input
exits with code 2 and one message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tenor.errors import TenorError

__all__ = ["export", "register", "simulate", "sweep"]

_ENGINES = ("vector", "pysd")


def _engine(value: str) -> str:
    if value not in _ENGINES:
        raise TenorError(f"unknown engine {value!r}", hint="use --engine vector or --engine pysd")
    return value


def _numbers(text: str, option: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise TenorError(
            f"{option} takes numbers separated by commas, got {text!r}", hint="e.g. 0,10,20"
        ) from None


def _progress_bar(total: int, label: str):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        transient=True,
        console=None,
    )
    task = progress.add_task(label, total=total)
    return progress, lambda n: progress.advance(task, n)


def simulate(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .csv or .parquet."),
    engine: str = typer.Option("vector", "--engine", help="vector (default) or pysd (the reference)."),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario of the spec."),
    sets: list[str] = typer.Option(
        [], "--set", help="NAME=VALUE: set a constant or a stock's initial value."
    ),
) -> None:
    """Run one scenario; write time and every variable (name[element] for subscripted ones)."""
    from stocks_flows.load import load_model
    from stocks_flows.scenarios import parse_assignment, run_scenarios, single, write_table

    _engine(engine)
    settings = [parse_assignment(s) for s in sets]
    loaded = load_model(model)
    run = run_scenarios(loaded, single(settings, scenario or "base"), engine=engine, scenario=scenario)
    write_table(run.frame(0), out, inputs=[model])
    print(f"wrote {out} ({len(run.time)} rows, {len(run.variables)} variables)", file=sys.stderr)


def sweep(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .parquet (or .csv)."),
    sets: list[str] = typer.Option([], "--set", help="NAME=start:stop:num: a grid axis (repeat for more)."),
    samples_from: list[str] = typer.Option([], "--sample", help="NAME=normal(mu,sd), uniform(a,b), ..."),
    samples: int | None = typer.Option(None, "--samples", help="Number of Monte Carlo scenarios."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (same seed, same draws)."),
    engine: str = typer.Option("vector", "--engine", help="vector (default) or pysd."),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario to start from."),
    variables: str | None = typer.Option(None, "--variables", help="Comma-separated variables to keep."),
    times: str | None = typer.Option(None, "--times", help="Comma-separated times to keep (default: all)."),
    chunk_size: int = typer.Option(4096, "--chunk-size", help="Scenarios per batch (bounds memory)."),
) -> None:
    """Run many scenarios: one row per (scenario, time), the scenario's parameter values as columns."""
    from stocks_flows.load import load_model
    from stocks_flows.scenarios import grid, monte_carlo, parse_grid, parse_sample, run_scenarios, write_table

    _engine(engine)
    if bool(sets) == bool(samples_from):
        raise TenorError(
            "give either --set NAME=start:stop:num (a grid) or --sample with --samples (Monte Carlo)",
            hint='e.g. --set k=0.1:0.5:5, or --sample "k=normal(0.2,0.05)" --samples 1000 --seed 1',
        )
    if samples_from:
        if samples is None:
            raise TenorError("--sample needs --samples N", hint="e.g. --samples 1000 --seed 1")
        table = monte_carlo([parse_sample(s) for s in samples_from], samples, seed)
    else:
        if samples is not None:
            raise TenorError("--samples goes with --sample, not with a grid", hint="remove --samples")
        table = grid([parse_grid(s) for s in sets])
    loaded = load_model(model)
    keep = [v.strip() for v in variables.split(",")] if variables else None
    at = _numbers(times, "--times") if times else None
    if engine == "vector":
        from stocks_flows.engine import check_memory, memory_estimate

        kept = [v for v in keep if v in loaded.variables] if keep is not None else None
        check_memory(  # the results, then the table written from them (about twice more)
            memory_estimate(loaded, len(table), variables=kept, times=at, chunk_size=chunk_size, copies=3),
            "keep fewer variables (--variables) or times (--times), run fewer scenarios (--samples, "
            "fewer grid points), or save less often (a larger save step in the model)",
        )
    if len(table) >= 200 or engine == "pysd":
        bar, advance = _progress_bar(len(table), "simulating")
        with bar:
            run = run_scenarios(
                loaded,
                table,
                engine=engine,
                scenario=scenario,
                variables=keep,
                times=at,
                chunk_size=chunk_size,
                progress=advance,
            )
    else:
        run = run_scenarios(
            loaded, table, engine=engine, scenario=scenario, variables=keep, times=at, chunk_size=chunk_size
        )
    write_table(run.to_frame(), out, inputs=[model])
    print(f"wrote {out} ({len(table)} scenarios x {len(run.time)} times)", file=sys.stderr)


def export(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    to: str = typer.Option(..., "--to", help="Format: xmile."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default: standard output)."),
) -> None:
    """Write a model in another format (XMILE 1.0, which PySD reads and runs)."""
    from stocks_flows.load import load_model
    from stocks_flows.xmile import generate_xmile, write_xmile

    if to.lower() != "xmile":
        raise TenorError(f"cannot export to {to!r}", hint="use --to xmile")
    loaded = load_model(model)
    if out is None:
        sys.stdout.write(generate_xmile(loaded))
        return
    write_xmile(loaded, out, inputs=(model,))
    print(f"wrote {out}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("sweep")(sweep)
    app.command("export")(export)
