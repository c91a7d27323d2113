"""``tenor calibrate MODEL DATA --fit NAME=low:high ...``: fit a stock-and-flow model to observed data.

Prints the fitted values with 95% intervals, the residual RMSE of each series, the
objective, the number of runs and the time (or, with ``--json``, one JSON object).
``--out FILE`` writes the fitted values as a scenario file that
``tenor simulate MODEL --scenarios FILE --scenario fitted`` runs. Bad input exits 2.
``--experiment SCENARIO=DATA`` (repeatable, instead of DATA) fits one parameter set to
several data files at once, each observed under its scenario.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import typer

from tenor.core.errors import TenorError

__all__ = ["calibrate", "register"]


def _weights(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for text in items:
        name, sep, value = text.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise TenorError(f"--weight: cannot read {text!r}", hint="write VAR=W, e.g. --weight infective=1") from None
    return out


def _experiments(items: list[str], data: Path | None) -> list[tuple[str, Path]]:
    """``--experiment SCENARIO=DATA`` -> [(scenario, path)]; DATA and --experiment exclude each other."""
    if not items:
        if data is None:
            raise TenorError("no data", hint="give a DATA file, or --experiment SCENARIO=DATA (repeatable)")
        return []
    if data is not None:
        raise TenorError(
            f"both DATA ({data}) and --experiment given",
            hint="give the data as one more --experiment SCENARIO=DATA (an empty SCENARIO: the base values)",
        )
    out = []
    for text in items:
        scenario, sep, path = text.partition("=")
        if not sep or not path.strip():
            raise TenorError(
                f"--experiment: cannot read {text!r}", hint="write SCENARIO=DATA, e.g. --experiment fast=fast.csv"
            )
        out.append((scenario.strip(), Path(path.strip())))
    return out


def calibrate(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    data: Path | None = typer.Argument(
        None, help="Observed data, .csv or .parquet: a time column, one column per variable."
    ),
    fit: list[str] = typer.Option([], "--fit", help="NAME=low:high: a constant (or c[a]) to fit, in bounds."),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario of the spec to start from."),
    weight: list[str] = typer.Option([], "--weight", help="VAR=W: weight of a series (default 1/variance)."),
    method: str = typer.Option("de", "--method", help="de (default), cmaes or least_squares."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same fit)."),
    max_evaluations: int | None = typer.Option(None, "--max-evaluations", help="Cap on the optimiser's runs."),
    interval: str = typer.Option("profile", "--interval", help="profile (default), bootstrap or none."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the fitted values as a scenario file (.yaml)."),
    name: str = typer.Option("fitted", "--name", help="Name of the scenario written by --out."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    experiment: list[str] = typer.Option(
        [],
        "--experiment",
        help="SCENARIO=DATA: data observed under a named scenario; repeat to fit all at once (no DATA then).",
    ),
) -> None:
    """Fit constants of a model to data: best values, 95% intervals, residuals."""
    from stocks_flows.calibrate import Experiment, parse_bounds, read_data
    from stocks_flows.calibrate import calibrate as fit_model
    from tenor.app.kinds import read_model
    from tenor.core.output import check_not_input

    if not fit:
        raise TenorError("nothing to fit", hint="name a constant and its bounds, e.g. --fit k=0.01:1")
    bounds = dict(parse_bounds(text) for text in fit)
    if len(bounds) != len(fit):
        raise TenorError("--fit names a parameter twice", hint="give each parameter one --fit")
    if out is not None:
        if out.suffix.lower() not in (".yaml", ".yml"):
            raise TenorError(f"--out {out}: a scenario file is YAML", hint="name it .yaml, e.g. fitted.yaml")
    experiments = _experiments(experiment, data)
    inputs = [model, *(p for _, p in experiments)] if experiments else [model, data]
    if out is not None:
        check_not_input(out, inputs)
    loaded = read_model(model, command="calibrate")
    observed = [Experiment(read_data(p), s or None) for s, p in experiments] if experiments else read_data(data)
    result = fit_model(
        loaded,
        observed,
        fit=bounds,
        scenario=scenario,
        weights=_weights(weight) or None,
        method=method,
        seed=seed,
        max_evaluations=max_evaluations,
        interval=None if interval.lower() == "none" else interval,
    )
    if out is not None:
        result.write_scenario(out, name, inputs=inputs)
    if as_json:
        _print_json(result, out)
    else:
        _print_table(result, model, data, experiments)
    if out is not None and not as_json:
        print(f"wrote {out} (scenario {name!r})", file=sys.stderr)


def _print_json(result: Any, out: Path | None) -> None:
    from tenor.cli.common import emit_json

    payload = result.to_dict()
    payload["residuals"] = {
        k: {"rmse": r["rmse"], "observations": len(r["time"]), "weight": r["weight"]}
        for k, r in result.residuals.items()
    }
    if out is not None:
        payload["scenario_file"] = str(out)
    emit_json(payload)


def _print_table(result: Any, model: Path, data: Path | None, experiments: list[tuple[str, Path]]) -> None:
    from tenor.cli.common import out_console

    show = out_console()
    fitted_to = ", ".join(f"{p.name} ({s or 'base'})" for s, p in experiments) if experiments else data.name
    show.print(f"[bold]{model.name}[/] fitted to {fitted_to} ({result.observations} observations)", highlight=False)
    spans = {}
    for key, p in result.fitted.items():
        spans[key] = "-" if math.isnan(p.low) else f"{p.low:.6g} to {p.high:.6g}"
        if p.at_bound:
            spans[key] += " (clipped at " + " and ".join(p.at_bound) + " bound)"
    width = max(9, *(len(k) for k in result.fitted))
    span_width = max(12, *(len(v) for v in spans.values()))
    show.print(f"  {'parameter':<{width}}  {'value':>12}  {'95% interval':<{span_width}}  bounds", highlight=False)
    for key, p in result.fitted.items():
        show.print(
            f"  {key:<{width}}  {p.value:>12.6g}  {spans[key]:<{span_width}}  [{p.lower_bound:g}, {p.upper_bound:g}]",
            highlight=False,
        )
    for key, r in result.residuals.items():
        show.print(f"  residual RMSE of {key}: {r['rmse']:.6g} (weight {r['weight']:.4g})", highlight=False)
    show.print(
        f"  objective {result.objective:.6g}; {result.evaluations} runs ({result.fit_evaluations} for the fit, "
        f"{result.nan_candidates} NaN candidates); {result.seconds:.2f} s; method {result.method}, "
        f"interval {result.interval_method or 'none'}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
