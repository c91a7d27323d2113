"""The report of ``tenor run``: a folder's specs checked, its model run, its claims judged, in one page.

A report folder holds a causal spec, a stock-and-flow model, and optionally a
``report.yaml`` that says what to show (the DAG's channels, the causal-loop
diagram to draw and at which element, the figures) and a ``claims.py`` that
checks the folder's dynamic claims. :func:`build_report` runs everything once
and writes, into the output folder:

- ``report.html`` (one file that opens offline: figures are embedded) and
  ``report.md`` (the same, with the figures as files);
- ``figures/``: every figure as SVG and PNG, diagram sources as DOT;
- ``claims.json``: one item per claim of the claims program (``id``, ``holds``,
  ``probability``, ``flips_when``, ``holds_when``, its detail); ``spec_claims.json``:
  the causal spec's claims; ``identification.json``, ``loops.json``,
  ``scenarios.csv`` (every scenario, tidy);
- when the claims program provides them (``report_outputs``): ``replay.json``
  (episodes, observed against simulated), ``calibration.json`` (fitted
  constants with intervals and their data), extra tables and figures.

Nothing is written until everything has been computed, and each file is
written atomically.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tenor.app.claims_program import ClaimsProgram, Evidence, ReportOutputs, call, load_claims_program
from tenor.core.errors import SpecError, TenorError
from tenor.core.output import write_bytes, write_text
from tenor.core.verdict import Verdict

if TYPE_CHECKING:
    import pandas as pd

    from causal.spec import CausalSpec
    from stocks_flows.loops import LoopReport
    from stocks_flows.model import Model

__all__ = [
    "CausalPart",
    "Dynamics",
    "FigureSpec",
    "Report",
    "ReportSpec",
    "build_report",
    "markdown_report",
    "read_report_spec",
    "verdict_record",
]

Progress = Callable[[str], None]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DagSpec(_Spec):
    title: str | None = None
    channels: list[str] | None = None


class CldSpec(_Spec):
    title: str | None = None
    around: list[str] | None = Field(None, description="Keep only the loops through these variables.")
    element: str | None = Field(None, description="Element at which cut links are drawn broken.")


class LoopTableSpec(_Spec):
    dimension: str | None = None


class FigureSpec(_Spec):
    """One figure: ``channels`` (speed against size), ``scenarios`` (time series), ``phase``, ``heatmap``."""

    id: str
    kind: Literal["channels", "scenarios", "phase", "heatmap"]
    title: str | None = None
    channels: list[str] | None = None
    variables: list[str] | None = None
    scenarios: list[str] | None = None
    events: dict[str, float] | None = None
    window: tuple[float, float] | None = None
    x: str | None = None
    y: str | None = None
    grid: dict[str, str] | None = Field(None, description="Parameter -> 'start:stop:num' for a heat map.")
    value: str | None = None
    reduce: Literal["max", "min", "final", "mean"] = "max"
    caption: str | None = Field(None, description="Two or three plain sentences shown under the figure.")


class ReportSpec(_Spec):
    """What a report shows (``report.yaml``); every key has a default."""

    title: str | None = None
    subtitle: str | None = None
    causal: str = "causal.yaml"
    model: str = "stocks.yaml"
    claims: str | None = "claims.py"
    dag: DagSpec = DagSpec()
    cld: CldSpec = CldSpec()
    loop_table: LoopTableSpec = LoopTableSpec()
    figures: list[FigureSpec] = Field(default_factory=list)


def read_report_spec(folder: Path) -> ReportSpec:
    """The folder's ``report.yaml``, or the defaults when it has none."""
    from tenor.core.specfile import read_yaml, validation_diagnostics

    path = folder / "report.yaml"
    if not path.exists():
        return ReportSpec()
    doc = read_yaml(path)
    try:
        return ReportSpec.model_validate(doc.data or {})
    except ValidationError as exc:
        raise SpecError(diagnostics=validation_diagnostics(exc, doc, ReportSpec)) from None


@dataclass
class Figure:
    id: str
    title: str
    svg: bytes
    png: bytes
    source: str | None = None  # DOT text for diagrams
    caption: str | None = None


@dataclass
class Report:
    """Everything the report shows, computed; :meth:`write` puts it on disk."""

    title: str
    subtitle: str | None
    folder: Path
    check: dict
    identification: list[dict]
    loops: dict | None
    loop_table: list[dict]
    loop_elements: list[str]
    verdicts: list[dict]
    figures: list[Figure] = field(default_factory=list)
    scenarios: Any = None
    parameters: list[dict] = field(default_factory=list)
    scenario_notes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    replay: list[dict] | None = None
    calibration: dict | None = None
    tables: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        static = all(c["holds"] is not False for c in self.check["claims"])
        return static and all(v["holds"] for v in self.verdicts)

    @property
    def failures(self) -> list[str]:
        """Every claim that does not hold: the program's by number and title, the spec's by what it says."""
        out = [f"claim {v['number']} ({v['title']})" for v in self.verdicts if not v["holds"]]
        out += [f"causal spec: {c['says'] or c['statement']}" for c in self.check["claims"] if c["holds"] is False]
        return out

    @property
    def headline(self) -> str:
        """How many claims hold, counting the claims program's and the causal spec's, naming each failure."""
        total = len(self.verdicts) + len(self.check["claims"])
        failed = self.failures
        text = f"{total - len(failed)} of {total} claims hold ({len(self.verdicts)} of the claims program, "
        text += f"{len(self.check['claims'])} of the causal spec)"
        return text + (". Failing: " + "; ".join(failed) + "." if failed else ".")

    def write(self, out: Path) -> list[Path]:
        out = Path(out)
        written = []
        for fig in self.figures:
            for ext, data in (("svg", fig.svg), ("png", fig.png)):
                path = out / "figures" / f"{fig.id}.{ext}"
                write_bytes(path, data)
                written.append(path)
            if fig.source:
                path = out / "figures" / f"{fig.id}.dot"
                write_text(path, fig.source)
                written.append(path)
        claims = self.claims or [
            {
                "id": v["number"],
                "title": v["title"],
                "holds": v["holds"],
                "probability": None,
                "flips_when": None,
                "holds_when": None,
                "detail": v["detail"],
                "figures": v.get("figures", {}),
            }
            for v in self.verdicts
        ]
        outputs: list[tuple[str, Any]] = [
            ("claims.json", claims),
            ("spec_claims.json", self.check["claims"]),
            ("identification.json", self.identification),
            ("loops.json", self.loops),
        ]
        if self.replay is not None:
            outputs.append(("replay.json", self.replay))
        if self.calibration is not None:
            outputs.append(("calibration.json", self.calibration))
        for name, data in outputs:
            path = out / name
            write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")
            written.append(path)
        if self.scenarios is not None:
            path = out / "scenarios.csv"
            write_text(path, self.scenarios.to_csv(index=False))
            written.append(path)
        for name, text in (("report.md", markdown_report(self)), ("report.html", html_report(self))):
            path = out / name
            write_text(path, text)
            written.append(path)
        return written


def _json_default(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


_DIAGRAM_CAPTIONS = {
    "dag": "Each arrow is a direct causal effect declared in the causal spec; the channels in the table below "
    "are the paths it traces to the outcome.",
    "cld": "The feedback loops around the chosen variables: a + on an arrow means its cause and effect move "
    "together, a - that they move in opposite directions.",
}


def _diagram_figure(fig_id: str, title: str, diagram: Any) -> Figure:
    from diagrams.render import render

    return Figure(
        fig_id, title, render(diagram, "svg"), render(diagram, "png"), diagram.source, _DIAGRAM_CAPTIONS.get(fig_id)
    )


def _plot_figure(fig_id: str, title: str, figure: Any, caption: str | None = None) -> Figure:
    import matplotlib.pyplot as plt

    from diagrams.plots import figure_bytes

    made = Figure(fig_id, title, figure_bytes(figure, "svg"), figure_bytes(figure, "png"), caption=caption)
    plt.close(figure)
    return made


def _tidy(runs: dict[str, Any], names: list[str] | None) -> Any:
    import pandas as pd

    chosen = names or list(runs)
    missing = [n for n in chosen if n not in runs]
    if missing:
        raise TenorError(f"report.yaml names unknown scenario {missing[0]!r}", hint="scenarios: " + ", ".join(runs))
    return pd.concat([runs[n].assign(scenario=n) for n in chosen], ignore_index=True)


def _make_figure(spec: FigureSpec, ctx: dict[str, Any]) -> Figure:
    from diagrams import plots

    title = spec.title or spec.id
    if spec.kind == "channels":
        return _plot_figure(spec.id, title, plots.plot_channels(ctx["spec"], spec.channels, title=spec.title))
    if spec.kind in ("scenarios", "phase"):
        frame = _tidy(ctx["runs"], spec.scenarios)
        if spec.window is not None:
            frame = frame[(frame["time"] >= spec.window[0]) & (frame["time"] <= spec.window[1])]
        if spec.kind == "scenarios":
            fig = plots.plot_scenarios(
                frame, spec.variables, events=spec.events, title=spec.title, time_label=ctx["time_label"]
            )
        else:
            if not spec.x or not spec.y:
                raise TenorError(f"figure {spec.id!r}: a phase plot needs x and y")
            fig = plots.plot_phase(frame, spec.x, spec.y, scenario=spec.scenarios, events=spec.events, title=spec.title)
        return _plot_figure(spec.id, title, fig)
    # heat map over a grid of parameters
    import numpy as np
    import pandas as pd

    from stocks_flows.batch import run_batch
    from stocks_flows.scenarios import grid, parse_grid

    if not spec.grid or not spec.x or not spec.y or not spec.value:
        raise TenorError(f"figure {spec.id!r}: a heat map needs grid, x, y and value")
    table = grid([parse_grid(f"{k}={v}") for k, v in spec.grid.items()])
    points = {name: {k: float(v[i]) for k, v in table.columns.items()} for i, name in enumerate(table.names)}
    values = run_batch(ctx["model"], points, outputs=[spec.value]).values[:, :, 0]
    reduced = {
        "max": values.max(axis=1),
        "min": values.min(axis=1),
        "final": values[:, -1],
        "mean": values.mean(axis=1),
    }[spec.reduce]
    frame = pd.DataFrame({**{k: np.asarray(v) for k, v in table.columns.items()}, spec.value: reduced})
    fig = plots.plot_sweep_heatmap(frame, spec.x, spec.y, spec.value, title=spec.title)
    return _plot_figure(spec.id, title, fig)


def _parameters(model: Any) -> list[dict]:
    """Each constant with its value, units and where it comes from (a source, or the assumption made)."""
    declared = model.spec.constants if getattr(model, "spec", None) is not None else {}
    rows = []
    for name, var in model.variables.items():
        if var.kind != "constant":
            continue
        spec = declared.get(var.base or name)
        if spec is not None and spec.source:
            origin = spec.source
        elif spec is not None and spec.assumption:
            origin = f"Assumption: {spec.assumption}"
        else:
            origin = var.description or ""
        declared_range = getattr(spec, "range", None) if spec is not None else None
        if isinstance(declared_range, dict):
            declared_range = declared_range.get(",".join(var.subscript))
        shown = f"{declared_range[0]:g} to {declared_range[1]:g}" if declared_range else ""
        rows.append({"name": name, "value": var.value, "units": var.units, "source": origin, "range": shown})
    return rows


def verdict_record(verdict: Verdict) -> dict[str, Any]:
    """A verdict as the report writes it: ``number``, ``title``, ``holds``, ``detail``, ``figure``, ``figures``."""
    return {
        "number": verdict.number,
        "title": verdict.title,
        "holds": verdict.holds,
        "detail": verdict.detail,
        "figure": verdict.figure,
        "figures": verdict.figures,
    }


@dataclass
class CausalPart:
    """The causal spec checked: its claims and channels, the answers to its queries, its graph drawn."""

    spec: CausalSpec
    check: dict
    identification: list[dict]
    dag: Figure


@dataclass
class Dynamics:
    """The model's runs and loops, and what the claims program (if any) measured on them."""

    runs: dict[str, pd.DataFrame]
    loops: LoopReport
    model: Model
    """The model the claims ran on (the program's, calibrated say; else the folder's)."""
    program: ClaimsProgram | None = None
    evidence: Evidence | None = None
    outputs: ReportOutputs | None = None


def _report_folder(folder: str | Path) -> tuple[Path, ReportSpec]:
    """The folder and its ``report.yaml``, refused when it is no folder or has no causal spec."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SpecError("not a folder", file=str(folder), hint="pass an example folder, e.g. examples/duration_trade")
    rspec = read_report_spec(folder)
    if not (folder / rspec.causal).exists():
        raise SpecError(f"the folder has no {rspec.causal}", file=str(folder), hint="add a causal spec")
    return folder, rspec


def _causal_part(folder: Path, rspec: ReportSpec, say: Progress) -> CausalPart:
    """Check the causal spec, identify its queries, draw its graph."""
    from causal.claims import check_summary
    from causal.graph import build_graph
    from causal.identify import identify
    from causal.load import read_spec
    from diagrams.dag import draw_dag

    spec_path = folder / rspec.causal
    say("checking the causal spec")
    spec = read_spec(spec_path)
    graph = build_graph(spec)
    check = check_summary(spec, graph, file=str(spec_path))
    say("identifying the causal queries")
    identification = []
    for name, query in spec.queries.items():
        result = identify(graph, query.treatment, query.outcome).to_dict()
        identification.append({"name": name, "description": query.description, **result})
    say("drawing the causal graph")
    dag = _diagram_figure(
        "dag", rspec.dag.title or "Causal graph", draw_dag(spec, channels=rspec.dag.channels, title=rspec.dag.title)
    )
    return CausalPart(spec, check, identification, dag)


def _dynamics(folder: Path, rspec: ReportSpec, model: Model, say: Progress) -> Dynamics:
    """Run the claims program on the folder, or (without one) every named scenario, and find the loops."""
    claims_path = folder / rspec.claims if rspec.claims else None
    if claims_path is None or not claims_path.exists():
        from stocks_flows.loops import find_loops
        from stocks_flows.scenarios import run_named_scenarios

        say("simulating every scenario")
        run = run_named_scenarios(model)
        runs = {name: run.frame(i) for i, name in enumerate(run.scenarios)}
        say("finding the feedback loops")
        return Dynamics(runs, find_loops(model), model)
    program = load_claims_program(claims_path)
    evidence = call(claims_path, program.evidence, folder)
    say("calibrating, judging the claims and sweeping the declared ranges in one pass")
    outputs = call(claims_path, program.report_outputs, evidence)
    say("simulating every scenario and sweep the claims need")
    runs = call(claims_path, lambda: dict(evidence.runs))
    say("finding the feedback loops")
    loops = call(claims_path, lambda: evidence.loops)
    return Dynamics(runs, loops, call(claims_path, lambda: evidence.model), program, evidence, outputs)


def _loop_table(model: Model, loops: LoopReport, dimension: str | None) -> tuple[list[str], list[dict]]:
    """The elements of ``dimension`` and each loop's gain at each of them."""
    dimension = dimension or (next(iter(model.dimensions)) if model.dimensions else None)
    if not dimension:
        return [], []
    elements = list(model.dimensions[dimension])
    by_id = {lp.id: lp for lp in loops.loops}
    rows = []
    for loop_id, gains in loops.gain_table(elements):
        lp = by_id[loop_id]
        rows.append({"id": loop_id, "polarity": lp.polarity, "variables": list(lp.variables), "gains": gains})
    return elements, rows


def _model_figures(
    rspec: ReportSpec, spec: CausalSpec, model: Model, dynamics: Dynamics, say: Progress
) -> list[Figure]:
    """The causal-loop diagram, the figures ``report.yaml`` asks for, and the claims program's figures."""
    from diagrams.cld import draw_cld
    from diagrams.from_model import causal_loop_structure

    say("drawing the causal-loop diagram")
    structure = causal_loop_structure(model, dynamics.loops, around=rspec.cld.around, unknown_loops=False)
    figures = [
        _diagram_figure(
            "cld",
            rspec.cld.title or "Causal-loop diagram",
            draw_cld(structure, element=rspec.cld.element, title=rspec.cld.title),
        )
    ]
    ctx = {
        "spec": spec,
        "model": model,
        "runs": dynamics.runs,
        "time_label": f"time ({model.time.unit})"
        if hasattr(model, "time") and getattr(model.time, "unit", None)
        else None,
    }
    outputs = dynamics.outputs
    extra_ids = {fig_id for fig_id, _, _ in outputs.figures} if outputs else set()
    captions = dict(outputs.captions) if outputs else {}
    for fig_spec in rspec.figures:
        if fig_spec.id in extra_ids:
            continue
        say(f"plotting {fig_spec.id}")
        made = _make_figure(fig_spec, ctx)
        made.caption = fig_spec.caption or captions.get(fig_spec.id)
        figures.append(made)
    for fig_id, title, fig in outputs.figures if outputs else ():
        say(f"plotting {fig_id}")
        figures.append(_plot_figure(fig_id, title, fig, captions.get(fig_id)))
    return figures


def _judge(report: Report, dynamics: Dynamics, claims_path: Path | None, say: Progress) -> None:
    """The verdicts (and the program's claims, replay, calibration and tables) into the report."""
    outputs = dynamics.outputs
    if outputs is not None:
        verdicts: Sequence[Verdict] = outputs.verdicts
        report.claims = outputs.claims
        report.replay = outputs.replay
        report.calibration = outputs.calibration
        report.tables = outputs.tables
    elif dynamics.program is not None and claims_path is not None:
        say("judging the claims")
        verdicts = call(claims_path, dynamics.program.evaluate, dynamics.evidence)
    else:
        return
    for v in verdicts:
        if not isinstance(v, Verdict):
            raise SpecError(
                f"the claims program gave {type(v).__name__!r} where a Verdict belongs",
                file=str(claims_path),
                hint="return tenor.core.verdict.Verdict objects",
            )
    report.verdicts = [verdict_record(v) for v in verdicts]


def build_report(folder: str | Path, progress: Progress | None = None) -> Report:
    """Check, identify, simulate, analyse loops, judge claims and draw figures for ``folder``.

    In phases: the folder and its ``report.yaml``; the causal part (spec
    checked, queries identified, graph drawn); the dynamics (the claims
    program, or the named scenarios, and the loops); the loop table and
    parameters; the figures; the verdicts.
    """
    say = progress or (lambda message: None)
    folder, rspec = _report_folder(folder)
    causal = _causal_part(folder, rspec, say)
    spec = causal.spec
    title = rspec.title or spec.title or spec.name or folder.name
    report = Report(title, rspec.subtitle, folder, causal.check, causal.identification, None, [], [], [], [causal.dag])
    model_path = folder / rspec.model
    if not model_path.exists():
        report.notes.append(f"no stock-and-flow model ({rspec.model}) in the folder")
        return report

    from stocks_flows.load import load_model

    say("loading the stock-and-flow model")
    model = load_model(model_path)
    dynamics = _dynamics(folder, rspec, model, say)
    report.scenarios = _tidy(dynamics.runs, None)
    report.scenario_notes = {name: sc.description or "" for name, sc in model.scenarios.items()}
    report.loops = dynamics.loops.to_dict()
    report.loop_elements, report.loop_table = _loop_table(model, dynamics.loops, rspec.loop_table.dimension)
    # the claims program may calibrate the model: show the values it runs with
    report.parameters = _parameters(dynamics.model)
    report.figures += _model_figures(rspec, spec, model, dynamics, say)
    _judge(report, dynamics, folder / rspec.claims if rspec.claims else None, say)
    return report


# --- rendering --------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _sets(sets: list[list[str]]) -> str:
    if not sets:
        return "none"
    return "; ".join("{" + ", ".join(s) + "}" for s in sets)


def _markdown_table(table: dict) -> list[str]:
    if "markdown" in table:
        return [table["markdown"], ""]
    lines = [f"## {table['title']}", ""]
    if table.get("rows"):
        lines += ["| " + " | ".join(table["header"]) + " |", "|" + "---|" * len(table["header"])]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]]
        lines.append("")
    if table.get("caption"):
        lines += [table["caption"], ""]
    return lines


def _html_table(table: dict) -> str:
    e = html.escape
    parts = [f"<h2>{e(table['title'])}</h2>"]
    if table.get("rows"):
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in table["header"]) + "</tr>")
        for row in table["rows"]:
            parts.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    if table.get("caption"):
        parts.append(f"<p class=sub>{e(table['caption'])}</p>")
    return "".join(parts)


def _md_claims(report: Report) -> list[str]:
    if not report.verdicts:
        return []
    lines = ["## Claims", "", "| # | claim | verdict | evidence | figure |", "|---|---|---|---|---|"]
    for v in report.verdicts:
        verdict = "holds" if v["holds"] else "**fails**"
        fig = f"[{v['figure']}](figures/{v['figure']}.svg)" if v.get("figure") else ""
        lines.append(f"| {v['number']} | {v['title']} | {verdict} | {v['detail']} | {fig} |")
    return [*lines, ""]


def _md_causal_graph(report: Report, figs: dict[str, Figure]) -> list[str]:
    from tenor.core.fields import format_days

    lines = ["## The causal graph", "", "![Causal graph](figures/dag.svg)", ""]
    if "dag" in figs and figs["dag"].caption:
        lines += [figs["dag"].caption, ""]
    if report.check["channels"]:
        lines += ["| channel | path | sign | magnitude | total lag |", "|---|---|---|---|---|"]
        for ch in report.check["channels"]:
            lag = "—" if ch["lag_days"] is None else format_days(ch["lag_days"], report.check["lag_unit"])
            lines.append(
                f"| {ch['label']} | {' → '.join(ch['path'])} | {ch['sign'] or '—'} | {_fmt(ch['magnitude'])} | {lag} |"
            )
        lines.append("")
    lines += ["### Claims of the causal spec", "", "| claim | verdict | why |", "|---|---|---|"]
    for c in report.check["claims"]:
        verdict = {True: "holds", False: "**fails**", None: "undecided"}[c["holds"]]
        lines.append(f"| {c['says'] or c['statement']} | {verdict} | {c['detail']} |")
    return [*lines, ""]


def _md_identification(report: Report) -> list[str]:
    if not report.identification:
        return []
    lines = [
        "## Identification",
        "",
        "| query | identifiable | by | adjustment sets | front-door | estimand |",
        "|---|---|---|---|---|---|",
    ]
    for q in report.identification:
        lines.append(
            f"| {q['name']}: {q['query']} | {'yes' if q['identifiable'] else 'no'} | {q['by'] or '—'} | "
            f"{_sets(q['minimal_adjustment_sets'])} | {_sets(q['frontdoor_sets'])} | `{q['estimand']}` |"
        )
    return [*lines, ""]


def _md_loops(report: Report, figs: dict[str, Figure]) -> list[str]:
    if report.loops is None:
        return []
    lines = ["## Feedback loops", "", "![Causal-loop diagram](figures/cld.svg)", ""]
    if "cld" in figs and figs["cld"].caption:
        lines += [figs["cld"].caption, ""]
    if report.loop_table:
        lines += [
            "| loop | polarity | " + " | ".join(report.loop_elements) + " |",
            "|---|---|" + "---|" * len(report.loop_elements),
        ]
        for row in report.loop_table:
            lines.append(
                f"| {row['id']} ({' → '.join(row['variables'])}) | {row['polarity']} | "
                + " | ".join(_fmt(g) for g in row["gains"])
                + " |"
            )
        lines.append("")
    return lines


def _md_figures(report: Report) -> list[str]:
    lines: list[str] = []
    for fig in report.figures:
        if fig.id in ("dag", "cld"):
            continue
        lines += [f"## {fig.title}", "", f"![{fig.title}](figures/{fig.id}.svg)", ""]
        if fig.caption:
            lines += [fig.caption, ""]
    return lines


def _md_scenarios_and_parameters(report: Report) -> list[str]:
    lines: list[str] = []
    if report.scenario_notes:
        lines += ["## Scenarios", "", "| scenario | what changes |", "|---|---|"]
        lines += [f"| {name} | {text} |" for name, text in report.scenario_notes.items()]
        lines.append("")
    if report.parameters:
        lines += [
            "## Parameters and their sources",
            "",
            "| parameter | value | range | units | source |",
            "|---|---|---|---|---|",
        ]
        for p in report.parameters:
            lines.append(
                f"| {p['name']} | {_fmt(p['value'])} | {p.get('range', '')} | {p['units'] or ''} "
                f"| {p['source'] or ''} |"
            )
        lines.append("")
    return lines


def markdown_report(report: Report) -> str:
    """The report as Markdown (figures as files under ``figures/``)."""
    lines = [f"# {report.title}", ""]
    if report.subtitle:
        lines += [f"*{report.subtitle}*", ""]
    lines += [f"**{report.headline}**", ""]
    lines += _md_claims(report)
    for table in report.tables:
        lines += _markdown_table(table)
    figs = {f.id: f for f in report.figures}
    lines += _md_causal_graph(report, figs)
    lines += _md_identification(report)
    lines += _md_loops(report, figs)
    lines += _md_figures(report)
    lines += _md_scenarios_and_parameters(report)
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#1d2329;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #d8dee4;padding-bottom:.3rem;margin-top:2.2rem}
.sub{color:#57606a;margin-top:0}table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.92rem}
th,td{border:1px solid #d8dee4;padding:.35rem .5rem;vertical-align:top;text-align:left;overflow-wrap:break-word}
td code{white-space:pre-wrap;overflow-wrap:anywhere}td:has(code){min-width:12rem}
.table-wrap{max-width:100%;overflow-x:auto}.ident td{overflow-wrap:anywhere}
th{background:#f6f8fa}.holds{color:#1a7f37;font-weight:600}.fails{color:#cf222e;font-weight:700}
figure{margin:1.2rem 0;text-align:center}figure img{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption{color:#57606a;font-size:.9rem}code{font-size:.85rem}nav a{margin-right:1rem}
.num{text-align:right;font-variant-numeric:tabular-nums}
"""


def _img(fig: Figure) -> str:
    data = base64.b64encode(fig.svg).decode("ascii")
    title = html.escape(fig.title)
    caption = f"<br>{html.escape(fig.caption)}" if fig.caption else ""
    return (
        f'<figure id="{fig.id}"><img alt="{title}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption><b>{title}</b>{caption}</figcaption></figure>"
    )


def _html_claims(report: Report, figs: dict[str, Figure]) -> list[str]:
    e = html.escape
    if not report.verdicts:
        return []
    parts = [
        '<h2 id="claims">Claims</h2>'
        "<table><tr><th>#</th><th>claim</th><th>verdict</th><th>evidence</th><th>figure</th></tr>"
    ]
    for v in report.verdicts:
        cls, word = ("holds", "holds") if v["holds"] else ("fails", "fails")
        fig = f'<a href="#{e(v["figure"])}">{e(v["figure"])}</a>' if v.get("figure") in figs else ""
        parts.append(
            f"<tr><td>{v['number']}</td><td>{e(v['title'])}</td><td class={cls}>{word}</td>"
            f"<td>{e(v['detail'])}</td><td>{fig}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _html_causal_graph(report: Report, figs: dict[str, Figure]) -> list[str]:
    from tenor.core.fields import format_days

    e = html.escape
    parts = ['<h2 id="graph">The causal graph</h2>']
    if "dag" in figs:
        parts.append(_img(figs["dag"]))
    if report.check["channels"]:
        parts.append("<table><tr><th>channel</th><th>path</th><th>sign</th><th>magnitude</th><th>total lag</th></tr>")
        for ch in report.check["channels"]:
            lag = "—" if ch["lag_days"] is None else format_days(ch["lag_days"], report.check["lag_unit"])
            parts.append(
                f"<tr><td>{e(ch['label'])}</td><td>{e(' → '.join(ch['path']))}</td><td>{e(ch['sign'] or '—')}"
                f"</td><td class=num>{_fmt(ch['magnitude'])}</td><td>{e(lag)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h3>Claims of the causal spec</h3><table><tr><th>claim</th><th>verdict</th><th>why</th></tr>")
    for c in report.check["claims"]:
        cls = {True: "holds", False: "fails", None: ""}[c["holds"]]
        word = {True: "holds", False: "fails", None: "undecided"}[c["holds"]]
        parts.append(
            f"<tr><td>{e(c['says'] or c['statement'])}</td><td class={cls}>{word}</td>"
            f"<td>{e(c['statement'])}: {e(c['detail'])}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _html_identification(report: Report) -> list[str]:
    e = html.escape
    if not report.identification:
        return []
    parts = [
        '<h2 id="identification">Identification</h2><table class=ident><tr><th>query</th><th>identifiable</th>'
        "<th>by</th><th>minimal adjustment sets</th><th>front-door sets</th><th>estimand</th>"
        "<th>reason</th></tr>"
    ]
    for q in report.identification:
        parts.append(
            f"<tr><td><b>{e(q['name'])}</b><br>{e(q['query'])}</td><td>{'yes' if q['identifiable'] else 'no'}"
            f"</td><td>{e(q['by'] or '—')}</td><td>{e(_sets(q['minimal_adjustment_sets']))}</td>"
            f"<td>{e(_sets(q['frontdoor_sets']))}</td><td><code>{e(q['estimand'] or '')}</code></td>"
            f"<td>{e(q['reason'] or '')}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _html_loops(report: Report, figs: dict[str, Figure]) -> list[str]:
    e = html.escape
    if report.loops is None:
        return []
    parts = ['<h2 id="loops">Feedback loops</h2>']
    if "cld" in figs:
        parts.append(_img(figs["cld"]))
    if report.loop_table:
        parts.append(
            "<table><tr><th>loop</th><th>polarity</th>"
            + "".join(f"<th>{e(x)}</th>" for x in report.loop_elements)
            + "</tr>"
        )
        for row in report.loop_table:
            parts.append(
                f"<tr><td><b>{e(row['id'])}</b> {e(' → '.join(row['variables']))}</td>"
                f"<td>{e(row['polarity'])}</td>"
                + "".join(f"<td class=num>{_fmt(g)}</td>" for g in row["gains"])
                + "</tr>"
            )
        parts.append(
            "</table><p>Loop gain: the product of the link gains around the loop through each "
            "element, mean over the base run (flow-to-stock links count as ±1).</p>"
        )
    return parts


def _html_scenarios_and_parameters(report: Report) -> list[str]:
    e = html.escape
    parts: list[str] = []
    if report.scenario_notes:
        parts.append("<h2>Scenarios</h2><table><tr><th>scenario</th><th>what changes</th></tr>")
        parts += [f"<tr><td>{e(n)}</td><td>{e(t)}</td></tr>" for n, t in report.scenario_notes.items()]
        parts.append("</table>")
    if report.parameters:
        parts.append(
            '<h2 id="parameters">Parameters and their sources</h2><table><tr><th>parameter</th>'
            "<th>value</th><th>range</th><th>units</th><th>source</th></tr>"
        )
        for p in report.parameters:
            parts.append(
                f"<tr><td>{e(p['name'])}</td><td class=num>{_fmt(p['value'])}</td><td>{e(p.get('range', ''))}</td>"
                f"<td>{e(p['units'] or '')}</td><td>{e(p['source'] or '')}</td></tr>"
            )
        parts.append("</table>")
    return parts


def html_report(report: Report) -> str:
    """The report as one HTML page that opens offline (figures embedded as SVG)."""
    e = html.escape
    figs = {f.id: f for f in report.figures}
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(report.title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{e(report.title)}</h1>"
    ]
    if report.subtitle:
        parts.append(f'<p class="sub">{e(report.subtitle)}</p>')
    parts.append(
        '<nav><a href="#claims">Claims</a><a href="#graph">Causal graph</a>'
        '<a href="#identification">Identification</a><a href="#loops">Loops</a>'
        '<a href="#figures">Figures</a><a href="#parameters">Parameters</a></nav>'
    )
    cls = "holds" if report.ok else "fails"
    parts.append(f'<p class="{cls}">{e(report.headline)}</p>')
    parts += _html_claims(report, figs)
    parts += [_html_table(table) for table in report.tables if "markdown" not in table]
    parts += _html_causal_graph(report, figs)
    parts += _html_identification(report)
    parts += _html_loops(report, figs)
    parts.append('<h2 id="figures">Figures</h2>')
    parts += [_img(fig) for fig in report.figures if fig.id not in ("dag", "cld")]
    parts += _html_scenarios_and_parameters(report)
    parts += [f"<p><i>{e(note)}</i></p>" for note in report.notes]
    parts.append("</body></html>")
    # every table scrolls inside its own box rather than widening the page
    page = "\n".join(parts).replace("</table>", "</table></div>")
    return page.replace("<table>", '<div class="table-wrap"><table>').replace(
        "<table class=ident>", '<div class="table-wrap"><table class=ident>'
    )
