"""The bundled example's report figures read at a glance.

The report is built once in-process; every matplotlib figure it draws is kept
and checked: no two pieces of text overlap and no curve strikes through a label,
every axes with data has a y label with a unit and a dated or labelled x axis,
legends show scenario names rather than ids, and every figure has a caption.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.text import Text

import tenor.app.report as report_module
from stocks_flows.load import read_model
from tenor.app.report import build_report, html_report, markdown_report

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "duration_trade"

# "(JPY tn)", "(bp)", "(0-1)", "(days, log scale)" or "change, bp"
UNIT = re.compile(r"\([^()]*[^\s()][^()]*\)|,\s*\S+\s*$")
SCENARIO_ID = re.compile(r"^[a-z0-9_\[\],.]+$")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report built once; the matplotlib figures it drew, by id."""
    drawn: dict[str, MplFigure] = {}
    original = report_module._plot_figure

    def keep(fig_id: str, title: str, figure: Any, caption: str | None = None) -> Any:
        drawn[fig_id] = figure
        return original(fig_id, title, figure, caption)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_module, "_plot_figure", keep)
        report = build_report(EXAMPLE)
    out = tmp_path_factory.mktemp("report")
    report.write(out)
    return {"figures": drawn, "report": report, "out": out}


# --- what a reader sees ---------------------------------------------------------------------------


def _shown(text: Text | None) -> bool:
    return text is not None and text.get_visible() and bool(text.get_text().strip())


def _tick_labels(axis: Any) -> list[Text]:
    """The tick labels actually drawn (ticks outside the view are not)."""
    labels: list[Text] = []
    for tick in axis._update_ticks():
        for label, on in ((tick.label1, tick.label1.get_visible()), (tick.label2, tick.label2.get_visible())):
            if on:
                labels.append(label)
    return labels


def texts(fig: MplFigure) -> list[tuple[str, Text]]:
    """Every piece of text drawn on ``fig`` with where it belongs."""
    found: list[tuple[str, Text]] = []
    for k, ax in enumerate(fig.axes):
        where = f"axes {k}"
        for t in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
            found.append((f"{where} label", t))
        found += [(f"{where} x tick", t) for t in _tick_labels(ax.xaxis)]
        found += [(f"{where} y tick", t) for t in _tick_labels(ax.yaxis)]
        found += [(f"{where} offset", t) for t in (ax.xaxis.offsetText, ax.yaxis.offsetText)]
        found += [(f"{where} text", t) for t in ax.texts]
        if ax.get_legend() is not None:
            found += [(f"{where} legend", t) for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        found += [("figure legend", t) for t in legend.get_texts()]
    found += [("figure text", t) for t in fig.texts]
    if fig._suptitle is not None:
        found.append(("suptitle", fig._suptitle))
    seen: set[int] = set()
    return [(w, t) for w, t in found if _shown(t) and not (id(t) in seen or seen.add(id(t)))]


def overlaps(fig: MplFigure) -> list[str]:
    """Pairs of text whose boxes on the canvas intersect, and labels a data curve runs through."""
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(w, t.get_text(), t.get_window_extent(renderer)) for w, t in texts(fig)]
    problems = []
    for i, (wa, ta, a) in enumerate(boxes):
        for wb, tb, b in boxes[i + 1 :]:
            if a.width and b.width and a.overlaps(b):
                problems.append(f"{wa} {ta!r} overlaps {wb} {tb!r}")
    for ax in fig.axes:
        labels = list(ax.texts) + (list(ax.get_legend().get_texts()) if ax.get_legend() else [])
        for t in labels:
            if not _shown(t):
                continue
            box = t.get_window_extent(renderer)
            for line in ax.get_lines():
                if not line.get_visible() or len(line.get_xdata()) < 2:
                    continue
                if line.get_linestyle() in ("None", "", " "):
                    continue
                path = line.get_transform().transform_path(line.get_path())
                if path.intersects_bbox(box, filled=False):
                    problems.append(f"curve {line.get_label()!r} runs through {t.get_text()!r}")
            for patch in ax.patches:
                if patch.get_visible() and patch.get_window_extent(renderer).overlaps(box):
                    problems.append(f"a bar covers {t.get_text()!r}")
    return problems


def _has_data(ax: Any) -> bool:
    return bool(ax.get_lines() or ax.collections or ax.patches)


def _dated(ax: Any) -> bool:
    return isinstance(
        ax.xaxis.get_major_formatter(), matplotlib.dates.DateFormatter | matplotlib.dates.AutoDateFormatter
    )


def unlabelled(fig: MplFigure) -> list[str]:
    problems = []
    for k, ax in enumerate(fig.axes):
        if not _has_data(ax):
            continue
        ylabel = ax.get_ylabel().strip()
        if not UNIT.search(ylabel):
            problems.append(f"axes {k}: y label {ylabel!r} has no unit")
        if not ax.get_xlabel().strip() and not _dated(ax):
            problems.append(f"axes {k}: the x axis has neither a label nor dates")
    return problems


def scenario_ids() -> set[str]:
    return set(read_model(EXAMPLE / "stocks.yaml").scenarios)


def legend_ids(fig: MplFigure, ids: set[str]) -> list[str]:
    entries = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    entries += [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    return [e for e in entries if e in ids or SCENARIO_ID.match(e)]


# --- the checks catch what they should ------------------------------------------------------------


def test_the_checks_catch_overlap_a_struck_label_no_unit_and_ids() -> None:
    fig = MplFigure(figsize=(4, 3))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], label="base")
    ax.text(0.5, 0.5, "a label on the curve")
    ax.text(0.5, 0.5, "another label")
    ax.bar([0.9], [0.2])
    ax.text(0.9, 0.05, "a label on a bar")
    ax.set_ylabel("credibility")
    ax.legend()
    found = overlaps(fig)
    assert any("overlaps" in p for p in found)
    assert any("runs through 'a label on the curve'" in p for p in found)
    assert "a bar covers 'a label on a bar'" in found
    assert unlabelled(fig) == [
        "axes 0: y label 'credibility' has no unit",
        "axes 0: the x axis has neither a label nor dates",
    ]
    assert legend_ids(fig, {"base"}) == ["base"]

    clean = MplFigure(figsize=(6, 3))
    ax = clean.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], label="Base: pivot 1 Jan 2027")
    ax.set_ylabel("credibility (0-1)")
    ax.set_xlabel("time (days)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    assert overlaps(clean) == [] and unlabelled(clean) == [] and legend_ids(clean, {"base"}) == []


# --- the report's figures -------------------------------------------------------------------------


def test_every_report_figure_was_seen(built: dict[str, Any]) -> None:
    plotted = {f.id for f in built["report"].figures} - {"dag", "cld"}
    assert plotted and plotted == set(built["figures"])


def test_no_text_overlaps_and_no_curve_strikes_a_label(built: dict[str, Any]) -> None:
    problems = {fid: overlaps(fig) for fid, fig in built["figures"].items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_axes_have_units_and_a_labelled_or_dated_x(built: dict[str, Any]) -> None:
    problems = {fid: unlabelled(fig) for fid, fig in built["figures"].items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_legends_name_scenarios_not_ids(built: dict[str, Any]) -> None:
    ids = scenario_ids()
    assert "illegible_meeting" in ids
    ids.add("base")  # the run with no scenario
    problems = {fid: legend_ids(fig, ids) for fid, fig in built["figures"].items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_no_figure_shows_an_event_on_a_run_without_it(built: dict[str, Any]) -> None:
    """Fig. 3 marks the illegible meeting once, on the run that has one."""
    fig = built["figures"]["fig3_cliff"]
    marks = [t.get_text() for ax in fig.axes for t in ax.texts if "illegible meeting" in t.get_text()]
    assert len(marks) == 1


SENTENCE = re.compile(r"[A-Z][^.]*\S[.!?](\s|$)")


def test_every_figure_has_a_caption_sentence(built: dict[str, Any]) -> None:
    report = built["report"]
    md = (built["out"] / "report.md").read_text()
    page = (built["out"] / "report.html").read_text()
    assert md == markdown_report(report) and page == html_report(report)
    for fig in report.figures:
        assert fig.caption and SENTENCE.search(fig.caption), fig.id
        shown = re.search(rf"!\[[^\]]*\]\(figures/{re.escape(fig.id)}\.svg\)\n\n(.+)", md)
        assert shown is not None and SENTENCE.search(shown.group(1)), fig.id
        assert shown.group(1) == fig.caption, fig.id
        block = re.search(rf'<figure id="{re.escape(fig.id)}">.*?</figure>', page, re.S)
        assert block is not None, fig.id
        caption = re.search(r"<figcaption>(.*?)</figcaption>", block.group(0), re.S).group(1)
        assert SENTENCE.search(re.sub(r"<[^>]+>", " ", caption)), fig.id


def test_figures_are_not_empty(built: dict[str, Any]) -> None:
    for fid, fig in built["figures"].items():
        assert any(_has_data(ax) for ax in fig.axes), fid
        assert np.prod(fig.get_size_inches()) > 0
