"""``tenor draw`` and ``tenor plot``: diagrams of specs and models, plots of results.

``tenor draw SPEC|MODEL --kind dag|cld|stockflow [--format F] --out FILE``
draws a causal spec as a DAG, or a model as a causal-loop or stock-and-flow
diagram; the format (svg, png, pdf, dot, mermaid) follows the suffix of
``--out`` unless ``--format`` is given.

``tenor plot RESULTS --var NAME [--var ...] --out FILE.png`` plots a results
table (CSV or Parquet with a ``time`` column, an optional ``scenario`` column
and one column per variable), one panel per variable; repeated times within a
scenario are Monte Carlo runs, drawn as a median and a quantile band.

Both write atomically and refuse to write over an input (exit code 2).
"""

from __future__ import annotations

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
    from tenor.limits import check_draw_size
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
    if fmt in ("svg", "png", "pdf"):  # a layout is computed; DOT and Mermaid text are written as they are
        check_draw_size(len(diagram.nodes), len(diagram.edges), file=str(source))
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
) -> None:
    """Plot variables of a results table over time, one panel per variable."""
    from diagrams.plots import plot_scenarios, save_figure
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
    figure = plot_scenarios(table, var, events=events, title=title)
    save_figure(figure, out, inputs=[results], dpi=dpi)


def register(app: typer.Typer) -> None:
    app.command("draw")(draw)
    app.command("plot")(plot)
