"""Fan charts, runs coloured by a swept parameter, sensitivity bars: what is drawn is what was computed."""

from __future__ import annotations

import itertools
import re
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from svg_reading import SVG

from diagrams.plots import figure_bytes, plot_by_parameter, plot_fan, plot_sensitivity
from stocks_flows.summary import summarize_frame
from tenor.cli.main import main
from tenor.core.errors import GraphError

TEACUP = Path(__file__).resolve().parent.parent / "data" / "stocks_flows" / "teacup.yaml"


def _sweep(n: int = 40, swept: tuple[str, ...] = ("k",)) -> pd.DataFrame:
    """A tidy sweep: x(t) = x0 exp(-k t) for n scenarios."""
    rng = np.random.default_rng(3)
    t = np.linspace(0, 10, 21)
    rows = []
    for i in range(n):
        params = {name: float(rng.uniform(0.1, 0.5)) for name in swept}
        k = params.get("k", 0.3)
        x0 = params.get("x0", 100.0)
        rows += [{"scenario": f"s{i}", "time": tt, **params, "x": x0 * np.exp(-k * tt)} for tt in t]
    return pd.DataFrame(rows)


def _svg_groups(svg: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}


def _legend_entries(svg: bytes) -> list[str]:
    legends = [g for gid, g in _svg_groups(svg).items() if gid.startswith("legend_")]
    return [t.text or "" for legend in legends for t in legend.iter(f"{SVG}text")]


def _text_boxes(fig) -> list[tuple[str, object]]:
    """Window extents of every visible, non-empty text of the figure (titles, ticks, labels, legend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    out = []
    for artist in fig.findobj(Text):
        if artist.get_visible() and artist.get_text().strip() and artist.figure is not None:
            out.append((artist.get_text(), artist.get_window_extent(renderer)))
    return out


def _assert_no_text_overlaps(fig) -> None:
    boxes = _text_boxes(fig)
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert not (overlap_w > 0.5 and overlap_h > 0.5), f"{ta!r} overlaps {tb!r}"


def test_fan_chart_draws_nested_bands_and_the_median():
    sweep = _sweep()
    summary = summarize_frame(sweep, ["x"], [5, 25, 50, 75, 95])
    fig = plot_fan(summary, "x", [5, 25, 50, 75, 95], units="kg")
    ax = fig.axes[0]
    bands = [c for c in ax.collections if c.get_gid() and c.get_gid().startswith("band-")]
    assert [b.get_gid() for b in bands] == ["band-5-95", "band-25-75"]
    assert bands[0].get_alpha() < bands[1].get_alpha()  # the inner band is darker
    (median,) = [line for line in ax.get_lines() if line.get_gid() == "median"]
    wide = sweep.pivot(index="scenario", columns="time", values="x").to_numpy()
    np.testing.assert_allclose(median.get_ydata(), np.percentile(wide, 50, axis=0))
    # Each band's outline passes through its two percentiles at every time (not only at the extremes).
    times = np.sort(sweep["time"].unique())
    for band, (q_lo, q_hi) in zip(bands, [(5, 95), (25, 75)], strict=True):
        vertices = band.get_paths()[0].vertices
        lo, hi = np.percentile(wide, [q_lo, q_hi], axis=0)
        for t, low, high in zip(times, lo, hi, strict=True):
            ys = vertices[np.isclose(vertices[:, 0], t), 1]
            assert np.isclose(ys, low).any() and np.isclose(ys, high).any(), (q_lo, q_hi, t)
    assert ax.get_ylabel() == "kg"
    _assert_no_text_overlaps(fig)
    svg = figure_bytes(fig, "svg")
    groups = _svg_groups(svg)
    assert {"band-5-95", "band-25-75", "median"} <= set(groups)
    assert sum(gid.startswith("band-") for gid in groups) == 2
    assert _legend_entries(svg) == ["5–95 %", "25–75 %", "median"]


def test_unpaired_percentiles_are_dashed_lines_and_missing_ones_are_named():
    summary = summarize_frame(_sweep(), ["x"], [10, 50, 80])
    fig = plot_fan(summary, "x", [10, 50, 80])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "10th percentile",
        "median",
        "80th percentile",
    ]
    assert not [c for c in fig.axes[0].collections if (c.get_gid() or "").startswith("band-")]
    with pytest.raises(GraphError, match="no percentile column"):
        plot_fan(summary, "x", [5, 95])
    with pytest.raises(GraphError, match="no variable 'y'"):
        plot_fan(summary, "y", [10, 80])


def test_same_summary_same_bytes():
    summary = summarize_frame(_sweep(), ["x"], [5, 25, 50, 75, 95])
    for fmt in ("svg", "png", "pdf"):
        assert figure_bytes(plot_fan(summary, "x"), fmt) == figure_bytes(plot_fan(summary, "x"), fmt)
    a = figure_bytes(plot_by_parameter(_sweep(), "x", "k"), "svg")
    assert a == figure_bytes(plot_by_parameter(_sweep(), "x", "k"), "svg")


def test_many_runs_coloured_by_the_parameter_have_a_colour_bar_not_a_legend():
    sweep = _sweep(n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_by_parameter(sweep, "x", "k")
        svg = figure_bytes(fig, "svg")
    ax, bar = fig.axes
    assert ax.get_legend() is None and bar.get_ylabel() == "k"
    (runs,) = [c for c in ax.collections if c.get_gid() == "runs"]
    assert len(runs.get_segments()) == 60
    k = sweep.groupby("scenario", sort=False)["k"].first().to_numpy()
    np.testing.assert_allclose(runs.get_array(), k)
    assert _legend_entries(svg) == []
    _assert_no_text_overlaps(fig)


def test_sensitivity_bars_hold_the_indices():
    params = {
        "intervention_intensity": {"S1": 0.3, "S1_conf": 0.05, "ST": 0.5, "ST_conf": 0.04},
        "passthrough[10y]": {"S1": 0.4, "S1_conf": 0.02, "ST": 0.4, "ST_conf": 0.03},
        "effect_decay_time": {"S1": 0.0, "S1_conf": 0.01, "ST": 0.2, "ST_conf": 0.3},
    }
    fig = plot_sensitivity({"long_yield@mean": {"parameters": params}, "firepower": {"parameters": params}})
    widths = {p.get_gid(): p.get_width() for p in fig.axes[0].patches if p.get_gid()}
    assert widths == {"S1-0": 0.3, "S1-1": 0.4, "S1-2": 0.0, "ST-0": 0.5, "ST-1": 0.4, "ST-2": 0.2}
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(params)
    assert fig.axes[0].get_xlim()[1] >= 1.0  # room for ST + its interval
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["first order (S1)", "total (ST)"]
    _assert_no_text_overlaps(fig)


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def teacup(tmp_path):
    path = tmp_path / "teacup.yaml"
    shutil.copy(TEACUP, path)
    return path


def _run(args: list[str], capfd) -> tuple[int, str]:
    code = main(args)
    return code, capfd.readouterr().err


def test_plot_bands_from_a_full_sweep_and_from_its_summary_agree(teacup, tmp_path, capfd):
    full, summary = tmp_path / "full.parquet", tmp_path / "summary.csv"
    base = ["sweep", str(teacup), "--sample", "room_temperature=normal(70,5)", "--samples", "64", "--seed", "1"]
    base += ["--variables", "teacup_temperature", "--times", "0,5,10,15,20,25,30"]
    assert main([*base, "--out", str(full)]) == 0
    assert main([*base, "--summary", "--out", str(summary)]) == 0
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    plot = ["plot", "--var", "teacup_temperature", "--bands", "5,25,50,75,95"]
    code, err = _run([plot[0], str(full), *plot[1:], "--out", str(a)], capfd)
    assert code == 0 and "warning" not in err.lower()
    code, err = _run([plot[0], str(summary), *plot[1:], "--out", str(b)], capfd)
    assert code == 0 and "warning" not in err.lower()
    sa, sb = a.read_bytes(), b.read_bytes()
    assert _legend_entries(sa) == _legend_entries(sb) == ["5–95 %", "25–75 %", "median"]
    # The bands and the median drawn from the full sweep are those of the summary, point for point (the
    # y coordinates; the summary's units label moves the axes sideways).
    for gid in ("band-5-95", "band-25-75", "median"):
        ys = [
            [re.findall(r"-?\d+\.?\d*", p.get("d"))[1::2] for p in _svg_groups(svg)[gid].iter(f"{SVG}path")]
            for svg in (sa, sb)
        ]
        assert ys[0] and ys[0][0] and ys[0] == ys[1], gid
    assert sum(gid.startswith("band-") for gid in _svg_groups(sb)) == 2
    assert b"degF" in sb  # the summary carries the units to the y axis
    # Same input, same bytes.
    c = tmp_path / "c.svg"
    assert main([plot[0], str(summary), *plot[1:], "--out", str(c)]) == 0
    assert c.read_bytes() == sb
    # A summary without the asked percentiles: exit 2, naming those it has.
    code, err = _run([plot[0], str(summary), "--var", "teacup_temperature", "--bands", "10,90", "--out", str(c)], capfd)
    assert code == 2 and "p10" in err and "5, 25, 50, 75, 95" in err


def test_a_big_sweep_without_bands_gets_a_colour_bar_or_bands_never_a_tall_legend(teacup, tmp_path, capfd):
    grid, mc = tmp_path / "grid.parquet", tmp_path / "mc.parquet"
    assert main(["sweep", str(teacup), "--set", "room_temperature=50:90:30", "--out", str(grid)]) == 0
    mc_args = ["sweep", str(teacup), "--sample", "room_temperature=normal(70,5)"]
    mc_args += ["--sample", "characteristic_time=uniform(5,15)", "--samples", "40", "--seed", "2"]
    assert main([*mc_args, "--out", str(mc)]) == 0
    capfd.readouterr()
    one, two = tmp_path / "one.svg", tmp_path / "two.svg"
    code, err = _run(["plot", str(grid), "--var", "teacup_temperature", "--out", str(one)], capfd)
    assert code == 0 and err == ""
    svg = one.read_bytes()
    assert _legend_entries(svg) == []  # one swept parameter: a colour bar instead
    assert b"room_temperature" in svg
    code, err = _run(["plot", str(mc), "--var", "teacup_temperature", "--out", str(two)], capfd)
    assert code == 0 and "percentile bands" in err and "warning" not in err.lower()
    assert _legend_entries(two.read_bytes()) == ["5–95 %", "25–75 %", "median"]
    # A few scenarios still get a line each and a legend naming them.
    few = tmp_path / "few.parquet"
    assert main(["sweep", str(teacup), "--set", "room_temperature=50:90:3", "--out", str(few)]) == 0
    three = tmp_path / "three.svg"
    assert main(["plot", str(few), "--var", "teacup_temperature", "--out", str(three)]) == 0
    assert _legend_entries(three.read_bytes()) == ["s0", "s1", "s2"]


def test_the_overlap_check_sees_crowded_labels():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.bar(range(4), [1, 2, 3, 4])
    ax.set_xticks(range(4), ["intervention_intensity"] * 4)
    with pytest.raises(AssertionError, match="overlaps"):
        _assert_no_text_overlaps(fig)


@pytest.mark.parametrize(
    ("text", "args", "needle"),
    [
        # a summary with a cell that is not a number
        ("time,variable,p5,p95\n0,x,1,2\n1,x,abc,3\n", ["--var", "x"], "'p5'"),
        # a full sweep with a time that is not a number, then a value that is not one
        ("scenario,time,x\na,0,1\na,later,2\n", ["--var", "x", "--bands", "5,95"], "'time'"),
        ("scenario,time,x\na,0,1\na,1,zz\n", ["--var", "x", "--bands", "5,95"], "line 3, column 'x'"),
        # a blank line among the rows: the line named is the file's own
        ("scenario,time,x\na,0,1\n\na,1,zz\n", ["--var", "x", "--bands", "5,95"], "line 4, column 'x'"),
        # bands of a column of names
        ("scenario,time,x\na,0,1\na,1,2\n", ["--var", "scenario", "--bands", "5,95"], "'scenario'"),
    ],
)
def test_plot_of_a_column_that_is_not_numbers_exits_2(tmp_path, capsys, text, args, needle):
    table, out = tmp_path / "r.csv", tmp_path / "p.svg"
    table.write_text(text)
    assert main(["plot", str(table), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a number" in err and needle in err and str(table) in err
    assert not out.exists()
