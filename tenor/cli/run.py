"""``tenor run EXAMPLE --out DIR``: the main job on an example folder.

It checks the example's causal spec, prints its channels and claims, and
writes ``claims.json`` and ``report.md`` into the output folder.
"""

from __future__ import annotations

from pathlib import Path

import typer

from tenor.errors import SpecError

__all__ = ["register", "run"]


def run(
    example: Path = typer.Argument(..., help="An example folder holding causal.yaml."),
    out: Path = typer.Option(Path("out"), "--out", help="Folder for the report and figures."),
) -> None:
    """Check an example end to end and write its report."""
    from tenor.cli.causal import check_spec_file, print_check
    from tenor.report import write_report

    if not example.is_dir():
        raise SpecError("not a folder", file=str(example), hint="pass an example folder, e.g. examples/duration_trade")
    spec_path = example / "causal.yaml"
    if not spec_path.exists():
        raise SpecError("the example has no causal.yaml", file=str(example), hint="add a causal spec named causal.yaml")
    summary = check_spec_file(str(spec_path))
    print_check(summary)
    written = write_report(summary, out)
    for path in written:
        typer.echo(f"wrote {path}")
    raise typer.Exit(0 if summary["ok"] else 1)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
