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
    """Check a file of any kind: a spec's claims and expectations, a model's names, units, equations,
    loops and scenarios; a JSON-ready summary (``kind`` says what the file is)."""
    from tenor.app.kinds import check_source, read_source

    return check_source(read_source(source, fmt))


def _read_graph(source: str, fmt: InputFormat | None, command: str):
    from tenor.app.kinds import read_causal

    return read_causal(source, fmt.value if fmt else None, command=command)


def print_model_check(summary: dict) -> None:
    """The text form of a model's check: one line per aspect, loops and scenarios in short."""
    from tenor.app.kinds import FileKind

    console = out_console()
    kind = FileKind(summary["kind"]).description
    name = f" {summary['name']!r}" if summary.get("name") else ""
    console.print(f"[bold]{summary['file']}[/]: {kind}{name}", highlight=False)
    t = summary["time"]
    console.print(
        f"  time:       {t['start']:g} to {t['stop']:g} {t['unit']}, step {t['dt']:g} ({t['method']})",
        highlight=False,
    )
    v = summary["variables"]
    dims = "; ".join(f"{d} ({', '.join(e)})" for d, e in summary["dimensions"].items())
    console.print(
        f"  variables:  {v['stock']} stocks, {v['flow']} flows, {v['auxiliary']} auxiliaries, "
        f"{v['constant']} constants, {summary['lookups']} lookups" + (f"; dimensions {dims}" if dims else ""),
        highlight=False,
    )
    console.print(f"  references: ok ({summary['references']})", highlight=False)
    u = summary["units"]
    agree = "every equation agrees with them" if u["checked"] else "not checked for this format"
    console.print(
        f"  units:      {u['declared']} of {u['variables']} variables declare units; {agree}", highlight=False
    )
    console.print(f"  equations:  {summary['equations']} parse, with known functions only", highlight=False)
    lp = summary["loops"]
    console.print(
        f"  loops:      {lp['count']} feedback loops: {lp['reinforcing']} reinforcing (R), "
        f"{lp['balancing']} balancing (B), {lp['unknown']} of unknown polarity (U)"
        + (" (enumeration capped)" if lp["capped"] else ""),
        highlight=False,
    )
    shown = [item for item in lp["items"] if item["polarity"] in ("R", "B")][:12]
    for item in shown:
        console.print(f"    {item['id']:<4} {' -> '.join(item['variables'])}", highlight=False)
    if lp["count"] > len(shown):
        console.print(f"    ... {lp['count'] - len(shown)} more: tenor loops FILE lists them all", highlight=False)
    console.print(f"  scenarios:  {len(summary['scenarios'])}", highlight=False)
    for sc in summary["scenarios"]:
        sets = [f"{k}={val:g}" for k, val in {**sc["constants"], **sc["initial"]}.items()]
        sets += [f"lookup {k}" for k in sc["lookups"]] + [f"cut {c}" for c in sc["cuts"]]
        desc = f" {sc['description']}" if sc.get("description") else ""
        console.print(f"    {sc['name']}:{desc} ({', '.join(sets) or 'no changes'})", highlight=False)
    for problem in summary["problems"]:
        console.print(f"  [red]FAILS[/]  {problem}", highlight=False)
    console.print("\nthe model is valid" + ("" if summary["ok"] else ", but its base run fails"), highlight=False)


def print_check(summary: dict) -> None:
    from tenor.core.fields import format_days

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
    spec: str = typer.Argument(
        ...,
        metavar="FILE",
        help="Any file tenor reads: a causal spec, dagitty, node-link JSON, a stock-and-flow spec, XMILE "
        "or Vensim (what it is is read from its content); - reads standard input.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    fmt: InputFormat | None = typer.Option(None, "--format", help="Read a causal graph as yaml or dagitty."),
) -> int:
    """Check any file: a spec's claims and expectations, a model's names, units, equations, loops and
    scenarios. Exit 0 valid, 1 a claim or expectation fails, 2 invalid input."""
    summary = check_spec_file(spec, fmt.value if fmt else None)
    if as_json:
        emit_json(summary)
    elif summary["kind"] in ("stock_flow_spec", "xmile", "vensim"):
        print_model_check(summary)
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
    fmt: InputFormat | None = typer.Option(None, "--format", help="yaml or dagitty (default: from the content)."),
) -> None:
    """Every path between two nodes, marked causal or back-door, open or blocked given a set."""
    from causal.graph import build_graph
    from causal.paths import find_paths

    spec = _read_graph(graph, fmt, "paths")
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
    fmt: InputFormat | None = typer.Option(None, "--format", help="yaml or dagitty (default: from the content)."),
) -> None:
    """Whether X and Y are d-separated given a set (latent confounders included)."""
    from causal.graph import build_graph
    from causal.paths import is_d_separated

    spec = _read_graph(graph, fmt, "dsep")
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
    fmt: InputFormat | None = typer.Option(None, "--format", help="yaml or dagitty (default: from the content)."),
) -> None:
    """Convert a graph to dagitty, DOT, Mermaid, node-link JSON or tenor YAML."""
    from causal.formats.dagitty import generate_dagitty
    from causal.formats.dot import generate_dot
    from causal.formats.mermaid import generate_mermaid
    from causal.formats.node_link import generate_node_link
    from causal.formats.spec_yaml import generate_yaml
    from tenor.core.output import check_not_input, write_text

    if out is not None:
        check_not_input(out, [graph])
    spec = _read_graph(graph, fmt, "convert")
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
