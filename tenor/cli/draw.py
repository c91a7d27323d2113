"""``tenor draw`` and ``tenor plot``: diagrams of specs and models, plots of results.

``tenor draw FILE [--kind dag|cld|stockflow] [--format F] --out FILE``
draws a causal graph as a DAG, or a model as a stock-and-flow (the default)
or causal-loop diagram; what the file is is read from its content. A
causal-loop diagram can be cut down to ``--loops R3,B9`` or to what lies
``--around VAR`` (``--depth N``). The format (svg, png, pdf, dot, mermaid)
follows the suffix of ``--out``; a ``--format`` the suffix contradicts is
refused.

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

from tenor.core.errors import SpecError, TenorError
from tenor.core.tables import check_numbers, read_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from diagrams.scene import Diagram
    from tenor.app.kinds import Source
    from tenor.app.sources import ModelStructures

__all__ = ["DiagramFormat", "DiagramKind", "draw", "output_format", "plot", "read_results", "register"]


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


_KIND_NAMES = {"dag": "a DAG", "cld": "a causal-loop diagram", "stockflow": "a stock-and-flow diagram"}
_NEEDS = {"dag": "a causal graph", "cld": "a stock-and-flow model", "stockflow": "a stock-and-flow model"}


def _names(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def draw(
    source: Path = typer.Argument(
        ..., help="A causal spec, dagitty or node-link file, or a stock-and-flow model (what it is is read from it)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.svg, .png, .pdf, .dot or .mmd)."),
    kind: DiagramKind | None = typer.Option(
        None, "--kind", "-k", help="What to draw (default: dag for a causal graph, stockflow for a model)."
    ),
    format: DiagramFormat | None = typer.Option(
        None, "--format", "-f", help="Output format (default: from the suffix of --out, which must agree)."
    ),
    query: str | None = typer.Option(None, "--query", help="Highlight the paths of this query (DAG)."),
    adjust: list[str] | None = typer.Option(
        None, "--adjust", help="Adjustment set for --query; repeat or separate by commas."
    ),
    channel: list[str] | None = typer.Option(None, "--channel", help="Colour only these channels (DAG)."),
    element: str | None = typer.Option(
        None, "--element", "--tenor", help="Draw links cut at this element (e.g. bills) broken (CLD)."
    ),
    around: str | None = typer.Option(
        None, "--around", help="Only the loops through this variable (CLD); with --depth, its neighbourhood."
    ),
    depth: int | None = typer.Option(
        None, "--depth", min=1, help="With --around: every variable within this many links, and their loops."
    ),
    loops: list[str] | None = typer.Option(
        None, "--loops", help="Only these loops, e.g. R3,B9 (CLD; ids as tenor loops lists them)."
    ),
    title: str | None = typer.Option(None, "--title", help="Title printed above the diagram."),
    dpi: int | None = typer.Option(None, "--dpi", min=30, max=1200, help="Resolution of PNG output."),
) -> None:
    """Draw a causal graph as a DAG, or a model as a stock-and-flow or causal-loop diagram."""
    from diagrams.render import GraphvizMissingWarning, write_diagram
    from tenor.app.kinds import read_source
    from tenor.core.output import check_not_input

    check_not_input(out, [source])
    fmt = output_format(out, format.value if format is not None else None)
    src = read_source(source)
    chosen = _chosen_kind(source, src, kind, around=around, depth=depth, loops=loops)
    if chosen == "dag":
        from diagrams.dag import draw_dag
        from tenor.app.kinds import load_causal

        diagram = draw_dag(
            load_causal(src, "draw"), query=query, adjust=_names(adjust), channels=channel or None, title=title
        )
    else:
        structures = _structures(source, src, chosen)
        if kind is None and structures.stock_flow is None:
            chosen = "cld"  # the default follows what the structure file holds
        diagram = _draw_structure(
            source, structures, chosen, element=element, around=around, depth=depth, loops=loops, title=title
        )
    if fmt in ("svg", "png", "pdf"):  # a layout is computed; DOT and Mermaid text are written as they are
        from tenor.core.limits import check_draw_size

        check_draw_size(len(diagram.nodes), len(diagram.edges), file=str(source))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizMissingWarning)
        write_diagram(diagram, out, fmt, inputs=[source], dpi=dpi)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)


def _chosen_kind(
    source: Path,
    src: Source,
    kind: DiagramKind | None,
    *,
    around: str | None,
    depth: int | None,
    loops: list[str] | None,
) -> str:
    """The kind of diagram to draw (``--kind``, else the first that fits the file), with its options checked."""
    from tenor.app.kinds import diagram_kinds

    fits = diagram_kinds(src.kind)
    chosen = kind.value if kind is not None else fits[0]
    if chosen not in fits:
        raise SpecError(
            f"for {_KIND_NAMES[chosen]} (--kind {chosen}) {_NEEDS[chosen]} is needed; this is {src.kind.description}",
            file=str(source),
            hint="kinds that fit: "
            + ", ".join(f"--kind {k}" for k in fits)
            + ("; tenor unroll writes a causal spec of a model" if src.kind.is_model else ""),
        )
    if chosen != "cld" and (around or depth or loops):
        raise TenorError("--around, --depth and --loops choose part of a causal-loop diagram", hint="add --kind cld")
    if depth is not None and around is None:
        raise TenorError("--depth goes with --around", hint="e.g. --around usdjpy --depth 2")
    if loops is not None and not _names(loops):
        raise TenorError("--loops names no loop", hint="e.g. --loops R3,B9 (tenor loops MODEL lists them)")
    return chosen


def _structures(source: Path, src: Source, chosen: str) -> ModelStructures:
    """What a structure file holds, or the structure of a model that the ``chosen`` diagram needs."""
    from tenor.app.kinds import FileKind

    if src.kind == FileKind.DIAGRAM_STRUCTURE:
        from tenor.app.sources import load_structures

        return load_structures(source)
    from diagrams.from_model import causal_loop_structure, stock_flow_structure
    from tenor.app.kinds import load_model
    from tenor.app.sources import ModelStructures

    model = load_model(src, "draw")
    return ModelStructures(
        causal_loop_structure(model) if chosen == "cld" else None,
        stock_flow_structure(model) if chosen == "stockflow" else None,
    )


def _draw_structure(
    source: Path,
    structures: ModelStructures,
    chosen: str,
    *,
    element: str | None,
    around: str | None,
    depth: int | None,
    loops: list[str] | None,
    title: str | None,
) -> Diagram:
    """The causal-loop diagram (or the part of it asked for) or the stock-and-flow diagram of a model."""
    if chosen == "cld":
        from diagrams.cld import draw_cld, focus

        if structures.causal_loops is None:
            raise TenorError(f"{source} has no causal-loop structure", hint="draw it with --kind stockflow")
        part = focus(structures.causal_loops, around=around, depth=depth, loops=_names(loops))
        return draw_cld(part, element=element, title=title)
    from diagrams.stockflow import draw_stockflow

    if structures.stock_flow is None:
        raise TenorError(f"{source} has no stock-and-flow structure", hint="draw it with --kind cld")
    return draw_stockflow(structures.stock_flow, title=title)


_SUFFIX_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}


def output_format(out: Path, format: str | None) -> str:
    """The format to write: ``--format``, or the suffix of ``--out``; a format the suffix contradicts is refused.

    >>> output_format(Path("a.svg"), None), output_format(Path("a.svg"), "svg")
    ('svg', 'svg')
    >>> output_format(Path("a.svg"), "png")
    Traceback (most recent call last):
    ...
    tenor.core.errors.TenorError: --format png does not match the file name a.svg (an SVG name)
      hint: name the file a.png, or drop --format (the format follows the suffix)
    """
    from diagrams.render import format_for

    implied = _SUFFIX_FORMATS.get(out.suffix.lower())
    if format is not None and implied is not None and implied != format:
        wanted = {"mermaid": ".mmd"}.get(format, "." + format)
        raise TenorError(
            f"--format {format} does not match the file name {out.name} (an {implied.upper()} name)",
            hint=f"name the file {out.stem}{wanted}, or drop --format (the format follows the suffix)",
        )
    return format_for(out, format)


def read_results(path: Path) -> pd.DataFrame:
    """A results table from CSV (.csv, .txt) or Parquet."""
    return read_table(path, csv_suffixes=(".csv", ".txt"))


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
    from tenor.core.output import check_not_input

    check_not_input(out, [results])
    if out.suffix.lower().lstrip(".") not in ("png", "svg", "pdf"):
        raise TenorError(f"cannot tell the plot format of {out.name!r}", hint="end it with .png, .svg or .pdf")
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
    _check_columns(table, var)
    if "variable" in table.columns and _percentile_columns(table):  # a sweep summary: its p columns are drawn
        check_numbers(table, ["time", *(c for c in table.columns if re.fullmatch(_P_COLUMN, str(c)))], results)
    else:
        check_numbers(table, ["time", *var], results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = _results_figure(table, var, bands, events, title)
        save_figure(figure, out, inputs=[results], dpi=dpi)
    for warning in caught:
        if not issubclass(warning.category, DeprecationWarning):
            print(f"warning: {warning.message}", file=sys.stderr)


_MANY_SCENARIOS = 12
"""Above this many scenarios a legend naming each one would crowd the plot."""


_P_COLUMN = r"p\d+(\.\d+)?"
"""A percentile column of a sweep summary: p5, p50, p2.5."""


def _percentile_columns(table: pd.DataFrame) -> list[float]:
    return [float(c[1:]) for c in table.columns if re.fullmatch(_P_COLUMN, str(c))]


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


def _check_columns(table: pd.DataFrame, names: list[str]) -> None:
    """Every --var names a column of the results, or one error with a did-you-mean (not the whole list)."""
    from tenor.core.specfile import did_you_mean

    columns = [str(c) for c in table.columns]
    if "variable" in table.columns and _percentile_columns(table):  # a sweep summary: one row per variable
        columns = [str(v) for v in table["variable"].unique()]
    for name in names:
        if name in columns:
            continue
        close = did_you_mean(name, columns)
        if close is not None:
            hint = f"did you mean {close!r}?"
        elif len(columns) <= 12:
            hint = "columns: " + ", ".join(columns)
        else:
            hint = f"the results have {len(columns)} columns, e.g. " + ", ".join(columns[:8]) + ", ..."
        raise TenorError(f"the results have no column {name!r}", hint=hint)


def register(app: typer.Typer) -> None:
    app.command("draw")(draw)
    app.command("plot")(plot)
