"""Plots: the data drawn is the data given; same data, same bytes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from causal.channels import channel_summary
from diagrams import style
from diagrams.plots import (
    figure_bytes,
    plot_channels,
    plot_loop_dominance,
    plot_phase,
    plot_scenarios,
    plot_sweep_heatmap,
    save_figure,
)
from tenor.core.errors import ExportError, GraphError


def _monte_carlo() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for scenario, rate in (("on_demand", 0.5), ("termed_out", 0.05)):
        for run in range(20):
            k = rate * rng.lognormal(0, 0.2)
            for t in range(40):
                rows.append({"scenario": scenario, "run": run, "time": t,
                             "unwind": 1 / (1 + math.exp(-k * (t - 15)))})  # fmt: skip
    return pd.DataFrame(rows)


def test_scenarios_with_quantile_bands():
    df = _monte_carlo()
    fig = plot_scenarios(df, "unwind", quantiles=(0.1, 0.9), events={"conviction breaks": 15})
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert sorted(lines) == ["on_demand", "termed_out"]
    median = df[df.scenario == "on_demand"].groupby("time")["unwind"].median()
    assert np.allclose(lines["on_demand"].get_ydata(), median.values)
    bands = [c for c in ax.collections if c.get_paths()]
    assert len(bands) == 2
    assert ax.get_legend().get_title().get_text() == "median, 10%–90% band"
    assert any(t.get_text() == "conviction breaks" for t in ax.texts)


def test_single_runs_are_lines_and_a_missing_column_is_an_error():
    df = pd.DataFrame({"time": [0, 1, 2], "x": [1.0, 2.0, 4.0]})
    fig = plot_scenarios(df)
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [1.0, 2.0, 4.0]
    with pytest.raises(GraphError, match="no column"):
        plot_scenarios(df, ["y"])


def test_same_data_same_bytes():
    df = _monte_carlo()
    for fmt in ("png", "svg", "pdf"):
        a = figure_bytes(plot_scenarios(df, "unwind"), fmt)
        b = figure_bytes(plot_scenarios(df, "unwind"), fmt)
        assert a == b, fmt
    svg = figure_bytes(plot_scenarios(df, "unwind"), "svg")
    assert b"<dc:date>" not in svg


def test_channel_chart_from_the_spec(duration_spec):
    fig = plot_channels(duration_spec)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert ax.xaxis_inverted()  # faster to the right
    colours = style.channel_colours(duration_spec.channels)
    points = {}
    for collection in ax.collections:
        ((x, y),) = collection.get_offsets()
        points[to_hex(collection.get_facecolor()[0]).upper()] = (x, y)
    for name in duration_spec.channels:
        s = channel_summary(duration_spec, name)
        x, y = points[colours[name].upper()]
        assert x == pytest.approx(s.lag_days * 24)  # hours: the accident is faster than a day
        assert y == pytest.approx(abs(s.magnitude))
    fx, jgb = points[colours["fx_intervention"]], points[colours["jgb_accident"]]
    assert jgb[0] < fx[0] and jgb[1] > fx[1]  # the accident: faster and larger
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "FX-intervention channel" in texts and "JGB-accident channel" in texts


def test_channel_chart_needs_gains_and_lags(confounded_spec):
    from causal.load import parse_spec

    spec = parse_spec("nodes: {a: {}, b: {}}\nedges:\n  a -> b: {sign: +}\nchannels:\n  c: {path: a -> b}\n")
    with pytest.raises(GraphError, match="no channel has a gain and a lag"):
        plot_channels(spec)


def test_loop_dominance_stacks_reinforcing_up_and_balancing_down():
    t = np.linspace(0, 10, 11)
    r = 1 / (1 + np.exp(t - 5))
    fig = plot_loop_dominance(t, {"R1": r, "B1": -(1 - r)})
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["R1 (R)", "B1 (B)"]
    assert ax.get_ylim() == (-1.05, 1.05)
    with pytest.raises(GraphError, match="scores for"):
        plot_loop_dominance([0, 1], {"R1": [1.0]})


def test_sweep_heat_map_holds_the_grid():
    df = pd.DataFrame([{"share": s, "size": z, "bp": s * z} for s in (0.0, 0.5, 1.0) for z in (10, 20)])
    fig = plot_sweep_heatmap(df, "share", "size", "bp")
    image = fig.axes[0].get_images()[0]
    assert image.get_array().tolist() == [[0.0, 5.0, 10.0], [0.0, 10.0, 20.0]]


def test_phase_portrait_follows_time():
    df = pd.DataFrame({"time": range(4), "a": [0, 1, 2, 0], "b": [0, 2, 1, 0]})
    fig = plot_phase(df, "a", "b", events={"meeting": 2})
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [0, 1, 2, 0]


def test_save_figure_refuses_inputs_and_unknown_formats(tmp_path):
    fig = plot_scenarios(pd.DataFrame({"time": [0, 1], "x": [0.0, 1.0]}))
    out = tmp_path / "results.csv"
    out.write_text("time,x\n")
    with pytest.raises(ExportError, match="cannot tell the plot format"):
        save_figure(fig, out)
    png = tmp_path / "p.png"
    with pytest.raises(ExportError, match="it is an input"):
        save_figure(fig, png, inputs=[png])
    save_figure(fig, png)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_loop_dominance_marks_dominant_periods():
    t = [0, 1, 2, 3, 4]
    periods = [{"start": 0, "end": 2, "loops": ["R1"]}, {"start": 2, "end": 4, "loops": ["B1"]}]
    scores = {"R1": [1, 0.7, 0.5, 0.2, 0], "B1": [0, -0.3, -0.5, -0.8, -1]}
    fig = plot_loop_dominance(t, scores, periods=periods)
    assert [a.get_text() for a in fig.axes[0].texts if a.get_text() in ("R1", "B1")] == ["R1", "B1"]


def test_cumulative_integrates_each_run():
    df = pd.DataFrame(
        {"scenario": ["a"] * 3 + ["b"] * 3, "time": [0, 1, 2] * 2, "rate": [1.0, 1.0, 1.0, 2.0, 0.0, 2.0]}
    )
    fig = plot_scenarios(df, "rate", cumulative=True)
    lines = {line.get_label(): list(line.get_ydata()) for line in fig.axes[0].get_lines()}
    assert lines == {"a": [0.0, 1.0, 2.0], "b": [0.0, 1.0, 2.0]}
    assert fig.axes[0].get_title() == "cumulative rate"
    with pytest.raises(GraphError, match="without a run column"):
        plot_scenarios(pd.concat([df, df]), "rate", cumulative=["rate"])


def test_inline_figure_svg():
    from diagrams.plots import inline_figure_svg

    text = inline_figure_svg(plot_scenarios(pd.DataFrame({"time": [0, 1], "x": [0.0, 1.0]})))
    assert text.startswith("<svg") and text.rstrip().endswith("</svg>")
