"""``tenor draw`` and ``tenor plot``: diagrams of specs and models, plots of results.

``tenor draw SPEC|MODEL --kind dag|cld|stockflow [--format F] --out FILE``
draws a causal spec as a DAG, or a model as a causal-loop or stock-and-flow
diagram; the format (svg, png, pdf, dot, mermaid) follows the suffix of
``--out`` unless ``--format`` is given.

``tenor plot RESULTS --var NAME [--var ...] --out FILE.png`` plots a results
table (CSV or Parquet with a ``time`` column, an optional ``scenario`` column
and one column per variable), one panel per variable; repeated times within a
scenario are Monte Carlo runs, drawn as a median and a quantile band. With
``--bands 5,25,50,75,95``, or for a summary written by ``tenor sweep
--summary``, it draws a fan chart of percentile bands; a sweep of more than
twelve scenarios is drawn as lines coloured by its one swept parameter (with a
colour bar), or else as percentile bands.

Both write atomically and refuse to write over an input (exit code 2).
"""

from __future__ import annotations

import re
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tenor.errors import SpecError, TenorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DiagramFormat", "DiagramKind", "draw", "plot", "read_results", "register"]


class DiagramKind(StrEnum):
    dag = "dag"
    cld = "cld"
    stockflow = "stockflow"


class DiagramFormat(StrEnum):
    svg = "svg"
    png = "png"
    pdf = "pdf"
    dot = "dot"
    mermaid = "mermaid"


def draw(
    source: Path = typer.Argument(..., help="A causal spec (.yaml) or a stock-and-flow model."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.svg, .png, .pdf, .dot or .mmd)."),
    kind: DiagramKind = typer.Option(DiagramKind.dag, "--kind", "-k", help="What to draw."),
    format: DiagramFormat | None = typer.Option(
        None, "--format", "-f", help="Output format (default: from the suffix of --out)."
    ),
    query: str | None = typer.Option(None, "--query", help="Highlight the paths of this query (DAG)."),
    adjust: list[str] | None = typer.Option(
        None, "--adjust", help="Adjustment set for --query; repeat or separate by commas."
    ),
    channel: list[str] | None = typer.Option(None, "--channel", help="Colour only these channels (DAG)."),
    element: str | None = typer.Option(
        None, "--element", "--tenor", help="Draw links cut at this element (e.g. bills) broken (CLD)."
    ),
    title: str | None = typer.Option(None, "--title", help="Title printed above the diagram."),
    dpi: int | None = typer.Option(None, "--dpi", min=30, max=1200, help="Resolution of PNG output."),
) -> None:
    """Draw a causal spec or a model as a diagram."""
    from diagrams.render import GraphvizMissingWarning, format_for, write_diagram
    from diagrams.sources import diagram_from_file
    from tenor.output import check_not_input

    check_not_input(out, [source])
    fmt = format_for(out, format.value if format is not None else None)
    adjust_set = None
    if adjust is not None:
        adjust_set = [a.strip() for item in adjust for a in item.split(",") if a.strip()]
    diagram = diagram_from_file(
        source,
        kind.value,
        element=element,
        query=query,
        adjust=adjust_set,
        channels=channel or None,
        title=title,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizMissingWarning)
        write_diagram(diagram, out, fmt, inputs=[source], dpi=dpi)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)


def read_results(path: Path) -> pd.DataFrame:
    """A results table from CSV or Parquet."""
    import pandas as pd

    if not path.exists():
        raise SpecError("file not found", file=str(path), hint="check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path)
    except ImportError as exc:
        raise TenorError(f"cannot read {path.name}: {exc}", hint="pip install pyarrow for Parquet") from None
    except (ValueError, OSError) as exc:
        raise SpecError(f"cannot read results: {exc}", file=str(path)) from None
    raise SpecError(
        f"cannot tell the format of {path.name!r}", file=str(path), hint="use a .csv or .parquet file"
    )


def plot(
    results: Path = typer.Argument(..., help="Results table: CSV or Parquet with time, scenario, variables."),
    var: list[str] = typer.Option(..., "--var", "-v", help="Variable to plot; repeat for more panels."),
    out: Path = typer.Option(..., "--out", "-o", help="Output picture (.png, .svg or .pdf)."),
    scenario: list[str] | None = typer.Option(None, "--scenario", help="Only these scenarios."),
    event: list[str] | None = typer.Option(None, "--event", help="Mark an event: LABEL=TIME (repeatable)."),
    title: str | None = typer.Option(None, "--title", help="Title above the panels."),
    dpi: int | None = typer.Option(None, "--dpi", min=30, max=1200, help="Resolution of PNG output."),
    bands: str | None = typer.Option(
        None, "--bands", help="Percentile bands over the scenarios, e.g. 5,25,50,75,95 (a fan chart)."
    ),
) -> None:
    """Plot variables of a results table over time, one panel per variable.

    A sweep summary (tenor sweep --summary), --bands, or a sweep of many scenarios draws percentile bands;
    a sweep of many scenarios over one parameter draws a line per scenario coloured by that parameter.
    """
    from diagrams.plots import save_figure
    from tenor.output import check_not_input

    check_not_input(out, [results])
    if out.suffix.lower().lstrip(".") not in ("png", "svg", "pdf"):
        raise TenorError(
            f"cannot tell the plot format of {out.name!r}", hint="end it with .png, .svg or .pdf"
        )
    table = read_results(results)
    if scenario:
        if "scenario" not in table.columns:
            raise TenorError("the results have no scenario column", hint="drop --scenario")
        table = table[table["scenario"].astype(str).isin(scenario)]
        if table.empty:
            raise TenorError("no rows for the scenario(s) " + ", ".join(scenario))
    events = []
    for item in event or []:
        label, _, at = item.rpartition("=")
        try:
            events.append((label or at, float(at)))
        except ValueError:
            raise TenorError(f"bad --event {item!r}", hint="write --event 'label=12.5'") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = _results_figure(table, var, bands, events, title)
        save_figure(figure, out, inputs=[results], dpi=dpi)
    for warning in caught:
        if not issubclass(warning.category, DeprecationWarning):
            print(f"warning: {warning.message}", file=sys.stderr)


_MANY_SCENARIOS = 12
"""Above this many scenarios a legend naming each one would crowd the plot."""


def _percentile_columns(table: pd.DataFrame) -> list[float]:
    return [float(c[1:]) for c in table.columns if re.fullmatch(r"p\d+(\.\d+)?", str(c))]


def _results_figure(table: pd.DataFrame, var: list[str], bands: str | None, events: list, title: str | None):
    """A fan chart, lines coloured by the swept parameter, or a line per scenario, as the table calls for."""
    from diagrams.plots import plot_by_parameter, plot_fan, plot_scenarios
    from stocks_flows.summary import DEFAULT_PERCENTILES, parse_percentiles, summarize_frame, swept_parameters

    wanted = parse_percentiles(bands, "--bands") if bands is not None else None
    if "variable" in table.columns and _percentile_columns(table):  # a sweep summary
        return plot_fan(table, var, wanted or _percentile_columns(table), events=events, title=title)
    if wanted is not None:
        return plot_fan(summarize_frame(table, var, wanted), var, wanted, events=events, title=title)
    many = "scenario" in table.columns and table["scenario"].nunique() > _MANY_SCENARIOS
    if many and not table.duplicated(["scenario", "time"]).any():
        swept = swept_parameters(table)
        if len(swept) == 1:
            return plot_by_parameter(table, var, swept[0], events=events, title=title)
        print(
            f"note: {table['scenario'].nunique()} scenarios: drawing percentile bands over them "
            "(choose them with --bands)",
            file=sys.stderr,
        )
        qs = list(DEFAULT_PERCENTILES)
        return plot_fan(summarize_frame(table, var, qs), var, qs, events=events, title=title)
    return plot_scenarios(table, var, events=events, title=title)


def register(app: typer.Typer) -> None:
    app.command("draw")(draw)
    app.command("plot")(plot)
