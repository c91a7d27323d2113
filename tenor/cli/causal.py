"""Causal-graph commands: ``check``, ``paths``, ``dsep``, ``convert``."""

from __future__ import annotations

from enum import StrEnum

import typer

from tenor.cli.common import GRAPH_HELP, emit_json, out_console

__all__ = ["check_spec_file", "register"]


class InputFormat(StrEnum):
    yaml = "yaml"
    dagitty = "dagitty"
    json = "json"


class OutputFormat(StrEnum):
    dagitty = "dagitty"
    dot = "dot"
    mermaid = "mermaid"
    json = "json"
    yaml = "yaml"


def _nodes(values: list[str] | None) -> list[str]:
    """Options may repeat (--given a --given b) or hold a comma list (--given a,b)."""
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def check_spec_file(source: str, fmt: str | None = None) -> dict:
    """Validate a spec and evaluate its claims (and query expectations); a JSON-ready summary."""
    from causal.claims import check_summary
    from causal.load import read_graph_source

    return check_summary(read_graph_source(source, fmt), file=source)


def print_check(summary: dict) -> None:
    from causal.spec import format_days

    console = out_console()
    console.print(
        f"[bold]{summary['file']}[/]: {summary['nodes']} nodes, {summary['edges']} edges, "
        f"{len(summary['channels'])} channels, {len(summary['claims'])} claims"
    )
    if summary["channels"]:
        console.print("\n[bold]channels[/]")
        for ch in summary["channels"]:
            mag = "?" if ch["magnitude"] is None else f"{ch['magnitude']:.3g}"
            console.print(
                f"  {ch['name']}: {ch['label']}\n    {' -> '.join(ch['path'])}\n"
                f"    sign {ch['sign'] or '?'}, magnitude {mag}, total lag "
                f"{'?' if ch['lag_days'] is None else format_days(ch['lag_days'], summary['lag_unit'])}",
                highlight=False,
            )
            if ch.get("claim"):
                console.print(f"    claim: {ch['claim']}", highlight=False)
    if summary["claims"]:
        console.print("\n[bold]claims[/]")
        marks = {True: "[green]holds[/]", False: "[red]FAILS[/]", None: "[yellow]undecided[/]"}
        for c in summary["claims"]:
            where = f"{c['where']}: " if c.get("where") else ""
            console.print(f"  {marks[c['holds']]}  {where}{c['statement']} ({c['detail']})", highlight=False)
            if c.get("says"):
                console.print(f"         [dim]{c['says']}[/]", highlight=False)
    failed = sum(1 for c in summary["claims"] if c["holds"] is False)
    console.print(
        f"\n{len(summary['claims']) - failed} of {len(summary['claims'])} claims hold"
        if summary["claims"]
        else "\nthe spec is valid; it states no claims"
    )


def check(
    spec: str = typer.Argument(..., help=GRAPH_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    fmt: InputFormat | None = typer.Option(None, "--format", help="Input format when the extension does not say."),
) -> int:
    """Validate a spec and evaluate its claims: exit 0 all hold, 1 a claim fails, 2 invalid input."""
    summary = check_spec_file(spec, fmt.value if fmt else None)
    if as_json:
        emit_json(summary)
    else:
        print_check(summary)
    raise typer.Exit(0 if summary["ok"] else 1)


def paths(
    graph: str = typer.Argument(..., help=GRAPH_HELP),
    source: str = typer.Option(..., "--from", help="Start node."),
    target: str = typer.Option(..., "--to", help="End node."),
    given: list[str] | None = typer.Option(None, "--given", help="Conditioning node(s); repeat or comma-separate."),
    max_paths: int = typer.Option(10_000, "--max-paths", help="Stop after this many paths."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    fmt: InputFormat | None = typer.Option(None, "--format", help="Input format when the extension does not say."),
) -> None:
    """Every path between two nodes, marked causal or back-door, open or blocked given a set."""
    from causal.graph import build_graph
    from causal.load import read_graph_source
    from causal.paths import find_paths

    spec = read_graph_source(graph, fmt.value if fmt else None)
    result = find_paths(build_graph(spec), source, target, _nodes(given), max_paths=max_paths)
    if as_json:
        emit_json(result.to_dict())
        return
    console = out_console()
    cond = f" given {{{', '.join(result.given)}}}" if result.given else ""
    console.print(f"{len(result)} path(s) between {source} and {target}{cond}", highlight=False)
    for p in result:
        state = "[green]open[/]   " if p.open else "[red]blocked[/]"
        extra = f"  (blocked at {', '.join(p.blocked_by)})" if p.blocked_by else ""
        console.print(f"  {state} {p.kind:<10} {p}{extra}", highlight=False)
    if result.truncated:
        console.print(f"  ... stopped after {max_paths} paths (raise --max-paths to see more)")


def dsep(
    graph: str = typer.Argument(..., help=GRAPH_HELP),
    x: list[str] = typer.Option(..., "--x", help="First node set; repeat or comma-separate."),
    y: list[str] = typer.Option(..., "--y", help="Second node set."),
    given: list[str] | None = typer.Option(None, "--given", help="Conditioning set."),
    as_json: bool = typer.Option(False, "--json", help='Print {"separated": true|false}.'),
    fmt: InputFormat | None = typer.Option(None, "--format", help="Input format when the extension does not say."),
) -> None:
    """Whether X and Y are d-separated given a set (latent confounders included)."""
    from causal.graph import build_graph
    from causal.load import read_graph_source
    from causal.paths import is_d_separated

    spec = read_graph_source(graph, fmt.value if fmt else None)
    xs, ys, zs = _nodes(x), _nodes(y), _nodes(given)
    separated = is_d_separated(build_graph(spec), xs, ys, zs)
    if as_json:
        emit_json({"separated": separated, "x": xs, "y": ys, "given": zs})
        return
    cond = f" given {{{', '.join(zs)}}}" if zs else ""
    verdict = "d-separated from" if separated else "d-connected to"
    out_console().print(f"{{{', '.join(xs)}}} is {verdict} {{{', '.join(ys)}}}{cond}", highlight=False)


def convert(
    graph: str = typer.Argument(..., help=GRAPH_HELP),
    to: OutputFormat = typer.Option(..., "--to", help="dagitty, dot, mermaid, json (node-link) or yaml."),
    out: str | None = typer.Option(None, "--out", help="Output file (default: standard output)."),
    fmt: InputFormat | None = typer.Option(None, "--format", help="Input format when the extension does not say."),
) -> None:
    """Convert a graph to dagitty, DOT, Mermaid, node-link JSON or tenor YAML."""
    from causal.formats.dagitty import generate_dagitty
    from causal.formats.dot import generate_dot
    from causal.formats.mermaid import generate_mermaid
    from causal.formats.node_link import generate_node_link
    from causal.formats.spec_yaml import generate_yaml
    from causal.load import read_graph_source
    from tenor.output import check_not_input, write_text

    if out is not None:
        check_not_input(out, [graph])
    spec = read_graph_source(graph, fmt.value if fmt else None)
    writer = {
        OutputFormat.dagitty: generate_dagitty,
        OutputFormat.dot: generate_dot,
        OutputFormat.mermaid: generate_mermaid,
        OutputFormat.json: generate_node_link,
        OutputFormat.yaml: generate_yaml,
    }[to]
    text = writer(spec) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text(out, text, inputs=[graph])


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("paths")(paths)
    app.command("dsep")(dsep)
    app.command("convert")(convert)
