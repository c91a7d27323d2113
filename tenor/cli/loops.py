"""``tenor loops`` and ``tenor unroll``: feedback loops, their gain by element, dominance, unrolling.

``tenor loops MODEL [--scenario NAME] [--by DIMENSION] [--dominance] [--json]``
lists the feedback loops of a model (a tenor spec, XMILE or Vensim file) with
their polarity and loop gain (per element for loops through subscripted
variables). ``--by tenor`` prints the loop-gain table by element of that
dimension; ``--dominance`` adds Loops That Matter scores and the dominant
loops per period. A scenario's declared ``cuts`` are applied.

``tenor unroll MODEL --steps K --out SPEC.yaml`` writes the model unrolled
over K steps as a causal spec.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import typer

from tenor.core.errors import TenorError

__all__ = ["loops", "register", "unroll"]


def _load(model: Path, scenario: str | None, command: str) -> tuple[Any, list[Any]]:
    from stocks_flows.load import read_spec
    from stocks_flows.loops import cuts_from_spec
    from tenor.app.kinds import read_model

    loaded = read_model(model, command=command)
    cuts: list[Any] = []
    if scenario is not None:
        loaded = loaded.with_scenario(scenario)
        if loaded.origin == "spec" and model.suffix.lower() in (".yaml", ".yml"):
            cuts = cuts_from_spec(read_spec(model), scenario)
    return loaded, cuts


@contextmanager
def _named_scenario(scenario: str | None) -> Iterator[None]:
    """A run that turns NaN or infinite is refused, naming the scenario it was run for."""
    from stocks_flows.engine import NonFiniteError

    try:
        yield
    except NonFiniteError as err:
        raise NonFiniteError(err.variable, err.what, err.time, scenario or err.scenario, hint=err.hint) from None


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def loops(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario of the spec."),
    by: str | None = typer.Option(None, "--by", help="Print the loop-gain table by element of a dimension."),
    dominance: bool = typer.Option(False, "--dominance", help="Add loop dominance (Loops That Matter)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    max_loops: int = typer.Option(10_000, "--max-loops", help="Stop enumerating after this many loops."),
    length_bound: int | None = typer.Option(None, "--max-length", help="Longest loop, in links."),
    at: float | None = typer.Option(
        None, "--at", help="Operating point (a time) for gains and polarity; default: mean over the run."
    ),
) -> None:
    """List the feedback loops of a model: polarity (R/B) and loop gain, per element where subscripted."""
    from stocks_flows.loops import find_loops

    loaded, cuts = _load(model, scenario, "loops")
    if by is not None and by not in loaded.dimensions:
        known = ", ".join(loaded.dimensions) or "none"
        raise TenorError(f"unknown dimension {by!r}", hint=f"dimensions of this model: {known}")
    with _named_scenario(scenario), np.errstate(all="ignore"):
        report = find_loops(loaded, cuts=cuts, max_loops=max_loops, length_bound=length_bound, at=at)
        result = report.to_dict()
        dom = None
        if dominance:
            from stocks_flows.dominance import loop_dominance

            dom = loop_dominance(loaded, report=report)
            result["dominance"] = dom.to_dict()
    if as_json:
        print(json.dumps(result, indent=2))
        return
    from rich.console import Console

    console = Console()
    if by is not None:
        _print_gain_by(console, report, by, list(loaded.dimensions[by]))
    else:
        _print_loops(console, report, loaded.name or model.name)
    for cut, ids in report.opened.items():
        console.print(f"cut {cut} opens: {', '.join(ids) or 'no loop'}")
    for note in report.notes:
        console.print(f"note: {note}")
    if dom is not None:
        _print_dominance(console, dom)


def _print_gain_by(console: Any, report: Any, by: str, elements: list[str]) -> None:
    """The loop-gain table by element of dimension ``by``."""
    from rich.table import Table

    table = Table(title=f"Loop gain by {by}")
    table.add_column("loop")
    table.add_column("polarity")
    table.add_column("variables")
    for e in elements:
        table.add_column(e, justify="right")
    rows = report.gain_table(elements)
    for loop_id, values in rows:
        lp = report.loop(loop_id)
        table.add_row(loop_id, lp.polarity, " -> ".join(lp.variables), *(_fmt(v) for v in values))
    if rows:
        console.print(table)
    else:
        console.print(f"no loop runs through a variable with dimension {by}")


def _print_loops(console: Any, report: Any, name: str) -> None:
    """Every loop: polarity, variables and gain (by element for a subscripted loop)."""
    from rich.table import Table

    table = Table(title=f"Feedback loops of {name}")
    table.add_column("loop")
    table.add_column("polarity")
    table.add_column("variables")
    table.add_column("gain", justify="right")
    for lp in report.loops:
        if lp.is_subscripted:
            gain = ", ".join(f"{k}: {_fmt(v)}" for k, v in lp.gain.items())
        else:
            gain = _fmt(lp.gain[""])
        flag = " (changes)" if lp.polarity_changes else ""
        table.add_row(lp.id, lp.polarity + flag, " -> ".join(lp.variables), gain)
    console.print(table)


def _print_dominance(console: Any, dom: Any) -> None:
    """The dominant loops, period by period."""
    from rich.table import Table

    dtable = Table(title="Dominant loops (Loops That Matter)")
    dtable.add_column("from", justify="right")
    dtable.add_column("to", justify="right")
    dtable.add_column("loops")
    for p in dom.periods:
        dtable.add_row(_fmt(p["start"]), _fmt(p["end"]), ", ".join(p["loops"]))
    console.print(dtable)


def unroll(
    model: Path = typer.Argument(..., help="Model file: .yaml spec, .xmile/.stmx, or Vensim .mdl."),
    steps: int = typer.Option(..., "--steps", help="Number of time steps."),
    out: Path = typer.Option(..., "--out", "-o", help="Output causal spec (.yaml)."),
    scenario: str | None = typer.Option(None, "--scenario", help="A named scenario of the spec."),
) -> None:
    """Write the model unrolled over STEPS time steps as a causal spec (a DAG)."""
    import io

    from ruamel.yaml import YAML

    from stocks_flows.loops import find_loops
    from stocks_flows.unroll import check_steps
    from stocks_flows.unroll import unroll as unroll_model
    from tenor.core.output import write_text

    loaded, cuts = _load(model, scenario, "unroll")
    check_steps(loaded, steps)
    with _named_scenario(scenario), np.errstate(all="ignore"):
        spec = unroll_model(loaded, steps, report=find_loops(loaded, cuts=cuts))
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, buffer)
    write_text(out, buffer.getvalue(), inputs=[model])
    print(f"wrote {out} ({len(spec.nodes)} nodes, {len(spec.edges)} edges)", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("loops")(loops)
    app.command("unroll")(unroll)
