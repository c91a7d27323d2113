"""``tenor run FOLDER --out DIR``: the main job, a folder's specs, model and claims in one report."""

from __future__ import annotations

import time
from pathlib import Path

import typer

__all__ = ["register", "run"]


def run(
    example: Path = typer.Argument(..., help="A folder with causal.yaml, stocks.yaml and optionally report.yaml."),
    out: Path = typer.Option(Path("out"), "--out", help="Folder for the report and its figures."),
) -> None:
    """Check the specs, answer the queries, run the scenarios, analyse the loops, judge the claims, write a report.

    Exit 0 when every claim holds, 1 when one fails, 2 on invalid input.
    """
    from rich.console import Console

    from tenor.app.report import build_report
    from tenor.cli.common import out_console
    from tenor.core.output import check_not_input

    check_not_input(out, [example])
    console = Console(stderr=True, log_path=False)
    start = time.perf_counter()
    with console.status("starting") as status:

        def progress(message: str) -> None:
            console.log(message)
            status.update(message)

        report = build_report(example, progress)
        status.update("writing the report")
        written = report.write(out)
    show = out_console()
    static = report.check["claims"]
    show.print(f"[bold]{report.title}[/]", highlight=False)
    show.print(("[green]" if report.ok else "[red]") + report.headline + "[/]", highlight=False, markup=True)
    show.print(
        f"causal spec: {sum(c['holds'] is True for c in static)} of {len(static)} claims and query expectations hold",
        highlight=False,
    )
    probability = {c["id"]: c.get("probability") for c in report.claims}
    for v in report.verdicts:
        mark = "[green]holds[/]" if v["holds"] else "[red]FAILS[/]"
        p = probability.get(v["number"])
        odds = f"  (p = {p:.2f} over the declared ranges)" if p is not None else ""
        show.print(f"  {mark}  {v['number']:>2}. {v['title']}{odds}", highlight=False)
    show.print(
        f"report: {out / 'report.html'} (and report.md, {len(written)} files) in {time.perf_counter() - start:.0f} s",
        highlight=False,
    )
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
