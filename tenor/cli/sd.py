"""``tenor simulate``, ``tenor sweep`` and ``tenor export``: stock-and-flow models on the command line.

MODEL is a tenor stock-and-flow spec (``.yaml``), an XMILE file (``.xmile``,
``.stmx``) or a Vensim ``.mdl`` file. Outputs are written atomically; bad input
exits with code 2 and one message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tenor.core.errors import SpecError, TenorError

__all__ = ["export", "register", "simulate", "sweep"]

_ENGINES = ("vector", "pysd")


def _engine(value: str) -> str:
    if value not in _ENGINES:
        raise TenorError(f"unknown engine {value!r}", hint="use --engine vector or --engine pysd")
    return value


_KERNELS = ("auto", "compiled", "numpy")
_KERNEL_HELP = (
    "Who computes the vector engine's runs: auto (the default, or $TENOR_KERNEL) the compiled kernel when it is "
    "already compiled or the run is long enough to repay compiling it, else NumPy; compiled: the numba kernel "
    "(an error if it cannot run the model); numpy: the NumPy engine. All three give the same numbers."
)


def _kernel(value: str | None) -> str | None:
    if value is not None and value not in _KERNELS:
        raise TenorError(f"unknown kernel {value!r}", hint="use --kernel auto, compiled or numpy")
    return value


def _numbers(text: str, option: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise TenorError(f"{option} takes numbers separated by commas, got {text!r}", hint="e.g. 0,10,20") from None


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


def _show_progress(option: bool | None) -> bool:
    """``--progress``/``--no-progress``, else only when standard error is a terminal."""
    if option is not None:
        return option
    return sys.stderr.isatty()


def simulate(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .csv or .parquet."),
    engine: str = typer.Option("vector", "--engine", help="vector (default) or pysd (the reference)."),
    kernel: str | None = typer.Option(None, "--kernel", help=_KERNEL_HELP, show_default=False),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario of the spec."),
    sets: list[str] = typer.Option([], "--set", help="NAME=VALUE: set a constant or a stock's initial value."),
    scenarios_file: Path | None = typer.Option(
        None, "--scenarios", help="A scenario file (e.g. from tenor calibrate --out) adding named scenarios."
    ),
    progress: bool | None = typer.Option(
        None,
        "--progress/--no-progress",
        help="Say on standard error what is running and for how long (default: when it is a terminal).",
    ),
    data: list[Path] = typer.Option(
        [], "--data", help="A .tab/.csv data file for a Vensim model's DATA variables that have no equation."
    ),
) -> None:
    """Run one scenario; write time and every variable (name[element] for subscripted ones)."""
    import time

    from stocks_flows.scenarios import parse_assignment, run_scenarios, single, write_table
    from tenor.app.kinds import read_model

    _engine(engine)
    _kernel(kernel)
    settings = [parse_assignment(s) for s in sets]
    try:
        loaded = read_model(model, command="simulate", data_files=data)
    except SpecError as refused:
        if engine != "pysd" or scenario or scenarios_file or not _pysd_can_take(model, refused):
            raise
        _simulate_file_in_pysd(model, out, dict(settings), refused)
        return
    if scenarios_file is not None:
        from dataclasses import replace

        from stocks_flows.scenario_file import read_scenarios

        loaded = replace(loaded, scenarios={**loaded.scenarios, **read_scenarios(scenarios_file, loaded)})
    table = single(settings, scenario or "base")
    started = time.monotonic()
    if _show_progress(progress):
        from rich.console import Console

        steps = round((loaded.time.stop - loaded.time.start) / loaded.time.dt)
        what = f"simulating {model.name}: {steps:,} steps of {loaded.time.dt:g} {loaded.time.unit}, {engine} engine"
        console = Console(stderr=True)
        if console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            columns = (SpinnerColumn(), TextColumn(what.replace("[", "\\[")), TimeElapsedColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                bar.add_task("simulate", total=None)
                run = run_scenarios(loaded, table, engine=engine, scenario=scenario, kernel=kernel)
        else:
            print(what + " ...", file=sys.stderr, flush=True)
            run = run_scenarios(loaded, table, engine=engine, scenario=scenario, kernel=kernel)
        took = f" in {time.monotonic() - started:.1f} s"
    else:
        run = run_scenarios(loaded, table, engine=engine, scenario=scenario, kernel=kernel)
        took = ""
    write_table(run.frame(0), out, inputs=[model])
    print(f"wrote {out} ({len(run.time)} rows, {len(run.variables)} variables){took}", file=sys.stderr)


_VENDOR_SUFFIXES = (".mdl", ".xmile", ".stmx", ".xml")


def _pysd_can_take(model: Path, refused: SpecError) -> bool:
    """A Vensim or XMILE file tenor's reader refused (not for safety): PySD may still run it."""
    from stocks_flows.pysd_safety import UnsafeModelError

    return model.suffix.lower() in _VENDOR_SUFFIXES and model.is_file() and not isinstance(refused, UnsafeModelError)


def _both(refused: SpecError, err: SpecError) -> SpecError:
    """tenor's reason and PySD's, each once (the same check may refuse the file on both routes)."""
    seen = list(refused.diagnostics)
    return SpecError(diagnostics=[*seen, *(d for d in err.diagnostics if d not in seen)])


def _simulate_file_in_pysd(model: Path, out: Path, settings: dict[str, float], refused: SpecError) -> None:
    """``--engine pysd`` on a file tenor's reader cannot hold: PySD reads the file itself."""
    from stocks_flows.pysd_runner import run_pysd_file
    from stocks_flows.scenarios import write_table

    try:
        frame = run_pysd_file(model, settings)
    except SpecError as err:  # both reasons: tenor's reader's, and why PySD cannot be given the file
        raise _both(refused, err) from None
    except TenorError:
        raise refused from None  # PySD cannot run it either: tenor's reason is the clearer one
    print(f"note: tenor's reader cannot hold this model ({refused.message}); PySD ran the file itself", file=sys.stderr)
    write_table(frame, out, inputs=[model])
    print(f"wrote {out} ({len(frame)} rows, {len(frame.columns) - 1} variables)", file=sys.stderr)


def _sweep_file_in_pysd(model: Path, out: Path, table, keep, at, qs, refused: SpecError) -> None:
    """``tenor sweep --engine pysd`` on a file tenor's reader cannot hold: PySD reads the file itself."""
    import numpy as np

    from stocks_flows.engine import Run
    from stocks_flows.pysd_runner import run_pysd_file_scenarios
    from stocks_flows.sweep_io import SummaryStream, check_suffix, write_runs

    check_suffix(out)
    bar, advance = _progress_bar(len(table), "simulating")
    with bar:
        try:
            run = run_pysd_file_scenarios(
                model, table.columns, variables=keep, scenario_names=table.names, progress=advance
            )
        except SpecError as err:  # both reasons: tenor's reader's, and why PySD cannot be given the file
            raise _both(refused, err) from None
        except TenorError:
            raise refused from None  # PySD cannot run it either: tenor's reason is the clearer one
    if at is not None:
        kept = np.isin(np.round(run.time, 9), np.round(np.asarray(at, dtype=float), 9))
        run = Run(run.time[kept], run.variables, run.values[:, kept], run.scenarios, run.parameters)
    print(f"note: tenor's reader cannot hold this model ({refused.message}); PySD ran the file itself", file=sys.stderr)
    if qs is not None:
        stream = SummaryStream(len(table), qs, units={}, spill_dir=out.parent)
        stream.add(0, run)
        _write_summary_frame(stream.summary(), out, model, len(table))
        return
    count, n_time = write_runs([run], out, inputs=[model])
    print(f"wrote {out} ({count} scenarios x {n_time} times)", file=sys.stderr)


def sweep(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .parquet (or .csv)."),
    sets: list[str] = typer.Option([], "--set", help="NAME=start:stop:num: a grid axis (repeat for more)."),
    samples_from: list[str] = typer.Option(
        [],
        "--sample",
        help="NAME=normal(mu,sd), uniform(low,high), lognormal(mu,sigma) or triangular(low,mode,high).",
    ),
    samples: int | None = typer.Option(None, "--samples", help="Number of Monte Carlo scenarios."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (same seed, same draws)."),
    engine: str = typer.Option("vector", "--engine", help="vector (default) or pysd."),
    kernel: str | None = typer.Option(None, "--kernel", help=_KERNEL_HELP, show_default=False),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario to start from."),
    variables: str | None = typer.Option(None, "--variables", help="Comma-separated variables to keep."),
    times: str | None = typer.Option(None, "--times", help="Comma-separated times to keep (default: all)."),
    chunk_size: int = typer.Option(4096, "--chunk-size", help="Scenarios per batch (bounds memory)."),
    design: str | None = typer.Option(
        None, "--design", help="How --sample draws are spread: random (default), lhs or sobol."
    ),
    correlate: list[str] = typer.Option(
        [], "--correlate", help='"a,b=RHO": correlate two normal(mu,sd) parameters (repeatable).'
    ),
    summary: bool = typer.Option(
        False, "--summary", help="Write per-time mean and percentiles per variable, not every run."
    ),
    percentiles: str | None = typer.Option(
        None, "--percentiles", help="Percentiles for --summary (default 5,25,50,75,95)."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Run on a Dask cluster: tcp://HOST:PORT, or local:N for N local worker processes. "
        "--out is then a folder of Parquet files, one per chunk (unless --summary).",
    ),
) -> None:
    """Run many scenarios: one row per (scenario, time), the scenario's parameter values as columns.

    With --summary: one row per (time, variable) with the mean and percentiles over the scenarios.
    """
    from stocks_flows.scenarios import grid, parse_grid
    from tenor.app.kinds import read_model

    _engine(engine)
    _kernel(kernel)
    if percentiles is not None and not summary:
        raise TenorError("--percentiles goes with --summary", hint="add --summary")
    qs = _summary_percentiles(percentiles) if summary else None
    if bool(sets) == bool(samples_from):
        raise TenorError(
            "give either --set NAME=start:stop:num (a grid) or --sample with --samples (Monte Carlo)",
            hint='e.g. --set k=0.1:0.5:5, or --sample "k=normal(0.2,0.05)" --samples 1000 --seed 1',
        )
    if samples_from:
        if samples is None:
            raise TenorError("--sample needs --samples N", hint="e.g. --samples 1000 --seed 1")
        table = _sample_table(samples_from, samples, seed, design, correlate)
    else:
        if samples is not None:
            raise TenorError("--samples goes with --sample, not with a grid", hint="remove --samples")
        if design is not None or correlate:
            raise TenorError("--design and --correlate go with --sample, not with a grid", hint="remove them")
        table = grid([parse_grid(s) for s in sets])
    keep = [v.strip() for v in variables.split(",")] if variables else None
    at = _numbers(times, "--times") if times else None
    try:
        loaded = read_model(model, command="sweep")
    except SpecError as refused:
        if engine != "pysd" or scenario or scheduler or not _pysd_can_take(model, refused):
            raise
        _sweep_file_in_pysd(model, out, table, keep, at, qs, refused)
        return
    if engine == "vector":
        from stocks_flows.engine import check_memory, memory_estimate

        kept = [v for v in keep if v in loaded.variables] if keep is not None else None
        check_memory(  # one chunk's results, then the table streamed from them (about twice more)
            memory_estimate(
                loaded, min(len(table), chunk_size), variables=kept, times=at, chunk_size=chunk_size, copies=3
            ),
            "keep fewer variables (--variables) or times (--times), use a smaller --chunk-size, "
            "or save less often (a larger save step in the model)",
        )
    options = {"engine": engine, "scenario": scenario, "variables": keep, "times": at, "kernel": kernel}
    _write_sweep(loaded, table, out, model, qs, scheduler, chunk_size, **options)


def _write_sweep(loaded, table, out: Path, model: Path, qs, scheduler, chunk_size: int, **options) -> None:
    """Run the sweep chunk by chunk (here or on a Dask cluster) and stream it to ``out``."""
    import contextlib

    from stocks_flows.sweep_io import SummaryStream, check_suffix, scenario_chunks, write_runs

    if qs is not None or scheduler is None:
        check_suffix(out)
    elif out.suffix.lower() == ".csv":
        raise TenorError(
            "a sweep on a cluster writes a Parquet dataset (a folder), not CSV",
            hint="name --out e.g. runs.parquet, or add --summary for one file",
        )
    show = len(table) >= 200 or options["engine"] == "pysd"
    bar, advance = _progress_bar(len(table), "simulating") if show else (contextlib.nullcontext(), None)
    with contextlib.ExitStack() as stack:
        client = None
        if scheduler is not None:
            from stocks_flows.distributed import connect

            client = stack.enter_context(connect(scheduler))
        stack.enter_context(bar)
        if qs is not None:
            units = {name: getattr(v, "units", None) for name, v in loaded.variables.items()}
            if client is not None:
                from stocks_flows.distributed import summary

                frame = summary(
                    loaded,
                    table,
                    client=client,
                    percentiles=qs,
                    units=units,
                    chunk_size=chunk_size,
                    progress=advance,
                    spill_dir=out.parent,
                    **options,
                )
            else:
                stream = SummaryStream(len(table), qs, units=units, spill_dir=out.parent)
                done = 0
                for run in scenario_chunks(loaded, table, chunk_size=chunk_size, progress=advance, **options):
                    stream.add(done, run)
                    done += len(run.scenarios)
                frame = stream.summary()
            _write_summary_frame(frame, out, model, len(table))
            return
        if client is not None:
            from stocks_flows.distributed import sweep as cluster_sweep

            count, n_time = cluster_sweep(
                loaded,
                table,
                client=client,
                path=out,
                chunk_size=chunk_size,
                progress=advance,
                inputs=[model],
                **options,
            )
        else:
            chunks = scenario_chunks(loaded, table, chunk_size=chunk_size, progress=advance, **options)
            count, n_time = write_runs(chunks, out, inputs=[model])
    print(f"wrote {out} ({count} scenarios x {n_time} times)", file=sys.stderr)


def _write_summary_frame(frame, out: Path, model: Path, scenarios: int) -> None:
    """Write a summary table (from a streamed sweep)."""
    from stocks_flows.scenarios import write_table

    write_table(frame, out, inputs=[model])
    print(
        f"wrote {out} (summary of {scenarios} scenarios: {frame['variable'].nunique()} variables x "
        f"{frame['time'].nunique()} times)",
        file=sys.stderr,
    )


def _sample_table(samples_from: list[str], samples: int, seed: int | None, design: str | None, correlate: list[str]):
    """The Monte Carlo scenarios of ``--sample``, spread by ``--design``, normals correlated by ``--correlate``."""
    from stocks_flows.sampling import parse_correlation, sample
    from stocks_flows.scenarios import parse_sample

    chosen = design or "random"
    if chosen == "sobol" and samples & (samples - 1):
        above = 1 << (samples - 1).bit_length()
        print(
            f"note: Sobol' points are balanced for a power of two; {samples} is not (try {above // 2} or {above})",
            file=sys.stderr,
        )
    draws = [parse_sample(s) for s in samples_from]
    return sample(draws, samples, seed, design=chosen, correlations=[parse_correlation(c) for c in correlate])


def _summary_percentiles(percentiles: str | None) -> list[float]:
    """The percentiles of ``--percentiles`` (checked before any run), or the default ones."""
    from stocks_flows.summary import DEFAULT_PERCENTILES, parse_percentiles

    return parse_percentiles(percentiles) if percentiles is not None else list(DEFAULT_PERCENTILES)


def export(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    to: str = typer.Option(..., "--to", help="Format: xmile."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default: standard output)."),
) -> None:
    """Write a model in another format (XMILE 1.0, which PySD reads and runs)."""
    from stocks_flows.xmile import generate_xmile, write_xmile
    from tenor.app.kinds import read_model

    if to.lower() != "xmile":
        raise TenorError(f"cannot export to {to!r}", hint="use --to xmile")
    loaded = read_model(model, command="export")
    if out is None:
        sys.stdout.write(generate_xmile(loaded))
        return
    write_xmile(loaded, out, inputs=(model,))
    print(f"wrote {out}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("sweep")(sweep)
    app.command("export")(export)
