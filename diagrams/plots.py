"""Plots of runs and analyses: scenarios with Monte Carlo bands, sweeps, loop dominance, channels.

Every function takes plain data, returns a matplotlib ``Figure`` (made
without pyplot and rendered by Agg, so no display is needed and no global
figure list grows; Jupyter shows it inline) and leaves saving to
:func:`save_figure`, which writes PNG, SVG or PDF atomically and without
dates or version strings, so that the same data gives the same file.

:func:`plot_scenarios`
    A tidy results table (columns ``scenario``, ``time``, one column per
    variable, optionally a ``run`` column or simply repeated times for Monte
    Carlo runs) as one panel per variable: a line per scenario, or, where a
    scenario has several runs, the median and a quantile band (5–95 % by
    default). Events such as "conviction breaks" are vertical marks.
:func:`plot_sweep_heatmap`
    One outcome over a grid of two swept parameters.
:func:`plot_loop_dominance`
    Relative loop scores over time, stacked: reinforcing loops above zero,
    balancing loops below, as in the Loops That Matter papers (Schoenberg,
    Davidsen & Eberlein 2020).
:func:`plot_channels`
    One point per channel of a causal spec: its total time constant (log
    axis, shorter to the right) against its magnitude, the seed note's Fig. 1.
:func:`plot_phase`
    One variable against another along a run, arrows showing the direction of
    travel: hysteresis (a state built slowly and lost fast) shows as a loop.
:func:`plot_fan`
    Percentile bands over time (a fan chart) from a sweep summary.
:func:`plot_by_parameter`
    Many runs as lines coloured by a swept parameter, with a colour bar.
:func:`plot_sensitivity`
    Sobol' first-order and total indices as bars with confidence intervals.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "time": [0, 1, 2] * 2,
...                    "stock": [1.0, 2.0, 3.0, 1.0, 1.5, 1.8]})
>>> fig = plot_scenarios(df, ["stock"], events={"break": 1})
>>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
['a', 'b']
>>> figure_bytes(fig, "svg") == figure_bytes(fig, "svg")
True

References
----------
Schoenberg, W., Davidsen, P. & Eberlein, R. (2020). Understanding model
behavior using the Loops that Matter method. *System Dynamics Review* 36(2).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from causal.channels import ChannelSummary, channel_summary
from diagrams import style
from tenor.core.errors import ExportError, GraphError
from tenor.core.fields import TIME_UNITS
from tenor.core.output import check_not_input, write_bytes

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from causal.spec import CausalSpec

__all__ = [
    "PLOT_FORMATS",
    "figure_bytes",
    "inline_figure_svg",
    "plot_by_parameter",
    "plot_channels",
    "plot_fan",
    "plot_loop_dominance",
    "plot_phase",
    "plot_scenarios",
    "plot_sensitivity",
    "plot_sweep_heatmap",
    "save_figure",
]

PLOT_FORMATS = ("png", "svg", "pdf")

_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


def _matplotlib():
    """matplotlib itself; figures are made without pyplot, so no display backend is touched."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover
        raise ExportError("plots need matplotlib", hint="pip install 'tenor[diagrams]'") from None
    return matplotlib


def _new_figure(size: tuple[float, float]) -> Figure:
    """A figure not tracked by pyplot: it is freed when no longer referenced."""
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def figure_bytes(fig: Figure, format: str = "png", *, dpi: int | None = None) -> bytes:
    """The figure as PNG, SVG or PDF bytes, with no date or version in the file (``dpi`` for PNG)."""
    mpl = _matplotlib()
    fmt = format.lower()
    if fmt not in PLOT_FORMATS:
        raise ExportError(f"cannot save a plot as {format!r}", hint="formats: png, svg, pdf")
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": "tenor", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt], bbox_inches="tight", **({"dpi": dpi} if dpi else {}))
    return buffer.getvalue()


def inline_figure_svg(fig: Figure) -> str:
    """The figure as a bare ``<svg>`` element, to place in an HTML page that opens offline."""
    text = figure_bytes(fig, "svg").decode("utf-8")
    return text[text.index("<svg") :]


def save_figure(
    fig: Figure,
    out: str | os.PathLike[str],
    format: str | None = None,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    dpi: int | None = None,
) -> Path:
    """Write a figure atomically; the format comes from ``format`` or the file suffix.

    Raises
    ------
    ExportError
        For an unknown format, an output that is an input, or a failed write.
    """
    fmt = format or Path(out).suffix.lstrip(".").lower()
    if fmt not in PLOT_FORMATS:
        raise ExportError(
            f"cannot tell the plot format of {Path(out).name!r}",
            hint="end the file name with .png, .svg or .pdf",
        )
    inputs = list(inputs)
    check_not_input(out, inputs)
    write_bytes(out, figure_bytes(fig, fmt, dpi=dpi), inputs=inputs)
    return Path(out)


def _scenario_colours(names: Sequence[str]) -> dict[str, str]:
    return {n: style.SCENARIO_COLOURS[i % len(style.SCENARIO_COLOURS)] for i, n in enumerate(names)}


def _events(events: Mapping[str, float] | Iterable[tuple[str, float]] | None) -> list[tuple[str, float]]:
    if not events:
        return []
    items = events.items() if isinstance(events, Mapping) else events
    return [(str(k), float(v)) for k, v in items]


def plot_scenarios(
    results: pd.DataFrame,
    variables: str | Sequence[str] | None = None,
    *,
    time: str = "time",
    scenario: str = "scenario",
    quantiles: tuple[float, float] = (0.05, 0.95),
    events: Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
    title: str | None = None,
    time_label: str | None = None,
    ncols: int = 2,
    cumulative: bool | Sequence[str] = False,
) -> Figure:
    """Time series per scenario, one panel per variable; Monte Carlo runs as median and quantile band.

    ``results`` is tidy: a ``time`` column, an optional ``scenario`` column,
    and one column per variable (other columns, such as ``run``, are
    ignored). Several rows at the same time in one scenario are runs of a
    Monte Carlo set, told apart by a ``run`` column when there is one.
    ``cumulative`` (True, or a list of variables) plots the running integral
    over time (trapezoid rule) instead of the rate itself: an unwind *rate*
    becomes the cumulative unwind of the seed note's Fig. 2.

    Raises
    ------
    GraphError
        When a column is missing, or when a cumulative variable has repeated
        times but no ``run`` column to tell the runs apart.
    """
    mpl = _matplotlib()
    variables = _scenario_variables(results, variables, time, scenario)
    keep = [c for c in dict.fromkeys([time, scenario, *variables]) if c in results.columns]
    data = results[keep] if scenario in results.columns else results[keep].assign(**{scenario: "run"})
    summed = list(variables) if cumulative is True else list(cumulative or [])
    if summed:
        data = _cumulative(data, summed, time, scenario)
    names = list(dict.fromkeys(data[scenario].astype(str)))
    colours = _scenario_colours(names)
    ncols = max(1, min(ncols, len(variables)))
    nrows = math.ceil(len(variables) / ncols)
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((5.2 * ncols, 3.4 * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, var in zip(axes.flat, variables, strict=False):
            for name in names:
                part = data[data[scenario].astype(str) == name]
                _plot_scenario_line(ax, part, var, time, quantiles, colour=colours[name], label=name)
            _mark_events(ax, events)
            ax.set_title(("cumulative " if var in summed else "") + var.replace("_", " "))
            ax.set_xlabel(time_label or time)
        for ax in list(axes.flat)[len(variables) :]:
            ax.set_visible(False)
        runs = data.groupby([scenario, time]).size()
        if len(names) > 1 or any(runs > 1):
            band = f"median, {quantiles[0]:.0%}–{quantiles[1]:.0%} band" if runs.max() > 1 else None
            axes.flat[0].legend(title=band, fontsize=8, title_fontsize=8)
        if title:
            fig.suptitle(title, fontweight="bold")
        fig.tight_layout()
    return fig


def _scenario_variables(
    results: pd.DataFrame, variables: str | Sequence[str] | None, time: str, scenario: str
) -> list[str]:
    """The variables to plot (default: every numeric column but time, scenario and run ids), checked."""
    if isinstance(variables, str):
        variables = [variables]
    skip = {time, scenario, "run", "seed", "sample"}
    if variables is None:
        variables = [c for c in results.columns if c not in skip and results[c].dtype.kind in "fiu"]
    variables = list(variables)
    missing = [c for c in [time, *variables] if c not in results.columns]
    if missing:
        raise GraphError(
            f"results have no column(s) {', '.join(map(repr, missing))}",
            hint="columns: " + ", ".join(map(str, results.columns)),
        )
    if not variables:
        raise GraphError("no variable to plot", hint="name one with --var")
    text = [v for v in variables if results[v].dtype.kind not in "fiub"]
    if text:
        raise GraphError(f"column(s) {', '.join(map(repr, text))} hold no numbers", hint="plot numeric columns only")
    return variables


def _plot_scenario_line(
    ax: Any, part: pd.DataFrame, var: str, time: str, quantiles: tuple[float, float], *, colour: str, label: str
) -> None:
    """One scenario's line; for several runs, their median and a quantile band."""
    grouped = part.groupby(time)[var]
    if grouped.size().max() > 1:
        lo = grouped.quantile(quantiles[0])
        hi = grouped.quantile(quantiles[1])
        mid = grouped.median()
        ax.fill_between(lo.index, lo.values, hi.values, color=colour, alpha=0.18, linewidth=0)
        ax.plot(mid.index, mid.values, color=colour, label=label, linewidth=1.8)
    else:
        ordered = part.sort_values(time)
        ax.plot(ordered[time], ordered[var], color=colour, label=label, linewidth=1.8)


def _cumulative(data: pd.DataFrame, variables: list[str], time: str, scenario: str) -> pd.DataFrame:
    import numpy as np

    keys = [scenario, "run"] if "run" in data.columns else [scenario]
    if "run" not in data.columns and data.groupby([scenario, time]).size().max() > 1:
        raise GraphError("cannot integrate Monte Carlo runs without a run column", hint="add a 'run' column")
    parts = []
    for _, part in data.groupby(keys, sort=False):
        part = part.sort_values(time).copy()
        t = part[time].to_numpy(dtype=float)
        for var in variables:
            v = part[var].to_numpy(dtype=float)
            steps = (v[1:] + v[:-1]) / 2 * np.diff(t)
            part[var] = np.concatenate([[0.0], np.cumsum(steps)])
        parts.append(part)
    import pandas as pd

    return pd.concat(parts)


def plot_sweep_heatmap(
    results: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    *,
    agg: str = "mean",
    annotate: bool = True,
    title: str | None = None,
    cmap: str = "viridis",
) -> Figure:
    """``value`` over a grid of two swept parameters ``x`` and ``y`` (aggregated by ``agg``).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"share": [0, 0, 1, 1], "size": [10, 20, 10, 20], "yield_bp": [0, 0, 8, 15]})
    >>> fig = plot_sweep_heatmap(df, "share", "size", "yield_bp")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('share', 'size')
    """
    mpl = _matplotlib()
    for column in (x, y, value):
        if column not in results.columns:
            raise GraphError(f"results have no column {column!r}", hint="columns: " + ", ".join(results.columns))
    grid = results.pivot_table(index=y, columns=x, values=value, aggfunc=agg).sort_index().sort_index(axis=1)
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((1.2 + 0.9 * grid.shape[1], 1.2 + 0.6 * grid.shape[0]))
        ax = fig.subplots()
        image = ax.imshow(grid.values, origin="lower", aspect="auto", cmap=cmap)
        ax.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        cbar = fig.colorbar(image, ax=ax)
        cbar.set_label(value)
        if annotate and grid.size <= 400:
            lo, hi = float(grid.min().min()), float(grid.max().max())
            for (i, j), v in ((ij, grid.values[ij]) for ij in _cells(grid.shape)):
                if v == v:  # not NaN
                    light = hi > lo and (v - lo) / (hi - lo) < 0.5
                    ax.text(
                        j,
                        i,
                        f"{v:.3g}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if light else "black",
                    )
        ax.set_title(title or f"{value} by {x} and {y}")
        fig.tight_layout()
    return fig


def _cells(shape: tuple[int, int]) -> Iterable[tuple[int, int]]:
    for i in range(shape[0]):
        for j in range(shape[1]):
            yield (i, j)


def plot_loop_dominance(
    time: Sequence[float],
    scores: Mapping[str, Sequence[float]],
    *,
    polarity: Mapping[str, str] | None = None,
    periods: Iterable[Mapping[str, Any]] | None = None,
    title: str | None = None,
    time_label: str = "time",
) -> Figure:
    """Relative loop scores over time, stacked: positive (reinforcing) up, negative (balancing) down.

    ``scores`` maps a loop id to one relative score per time (in [-1, 1], the
    absolute values summing to 1 at each time). ``polarity`` (loop id to
    ``R``/``B``) labels the legend; by default the sign of the scores does.
    ``periods`` (each ``{"start", "end", "loops"}``, as ``tenor loops
    --dominance --json`` reports them) are marked above the bands with the
    ids of their dominant loops.

    >>> fig = plot_loop_dominance([0, 1, 2], {"R1": [0.8, 0.5, 0.2], "B1": [-0.2, -0.5, -0.8]})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['R1 (R)', 'B1 (B)']
    """
    import numpy as np

    mpl = _matplotlib()
    t = np.asarray(time, dtype=float)
    ids = list(scores)
    for loop_id in ids:
        if len(scores[loop_id]) != len(t):
            raise GraphError(f"loop {loop_id!r} has {len(scores[loop_id])} scores for {len(t)} times")
    colours = _scenario_colours(ids)
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((7.5, 3.8))
        ax = fig.subplots()
        up = np.zeros_like(t)
        down = np.zeros_like(t)
        for loop_id in ids:
            values = np.asarray(scores[loop_id], dtype=float)
            pol = (polarity or {}).get(loop_id) or ("R" if np.nansum(values) >= 0 else "B")
            label, hatch = f"{loop_id} ({pol})", None if pol == "R" else "//"
            up, down = _stack_loop(ax, t, (up, down), values, colour=colours[loop_id], label=label, hatch=hatch)
        _mark_periods(ax, periods)
        ax.axhline(0, color="#333333", linewidth=0.8)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("relative loop score")
        ax.set_xlabel(time_label)
        ax.text(0.005, 0.98, "reinforcing ↑", transform=ax.transAxes, va="top", fontsize=8, color="#555555")
        ax.text(0.005, 0.02, "balancing ↓", transform=ax.transAxes, va="bottom", fontsize=8, color="#555555")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        ax.set_title(title or "Loop dominance")
        fig.tight_layout()
    return fig


def _stack_loop(
    ax: Any, t: Any, base: tuple[Any, Any], values: Any, *, colour: str, label: str, hatch: str | None
) -> tuple[Any, Any]:
    """One loop's scores stacked on ``base`` (the tops above zero, the bottoms below); the new tops and bottoms."""
    import numpy as np

    up, down = base
    pos, neg = np.clip(values, 0, None), np.clip(values, None, 0)
    ax.fill_between(t, up, up + pos, color=colour, alpha=0.75, linewidth=0, label=label, hatch=hatch, edgecolor="white")
    ax.fill_between(t, down + neg, down, color=colour, alpha=0.75, linewidth=0, hatch=hatch, edgecolor="white")
    return up + pos, down + neg


def _mark_periods(ax: Any, periods: Iterable[Mapping[str, Any]] | None) -> None:
    """A dotted line where each dominance period starts, and its dominant loops above it."""
    for period in periods or ():
        start, end = float(period["start"]), float(period["end"])
        ax.axvline(start, color="#999999", linewidth=0.6, linestyle=":")
        ax.annotate(
            ", ".join(map(str, period.get("loops", ()))),
            ((start + end) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="#333333",
        )


def _unit_for(days: list[float]) -> str:
    smallest = min(days)
    if smallest < 1:
        return "hour"
    if smallest < 30:
        return "day"
    return "month"


def plot_channels(
    spec: CausalSpec,
    channels: Iterable[str] | None = None,
    *,
    unit: str | None = None,
    faster_right: bool = True,
    log_magnitude: bool | None = None,
    title: str | None = None,
) -> Figure:
    """Each channel's total time constant (log axis) against its magnitude: the seed's Fig. 1.

    Speed is the sum of the lags (or time constants) along the channel;
    magnitude is the absolute product of its gains (see
    :func:`causal.channels.channel_summary`). Colours match the DAG's channel
    colours. With ``faster_right`` the time axis runs from slow (left) to
    fast (right), as in the note. The magnitude axis is logarithmic when
    ``log_magnitude`` is True, or, by default, when the magnitudes span two
    orders of magnitude or more.

    Raises
    ------
    GraphError
        When no chosen channel has both gains and lags on every edge.
    """
    mpl = _matplotlib()
    names = list(spec.channels) if channels is None else list(channels)
    colours = style.channel_colours(spec.channels)
    usable, skipped = _drawable_channels(spec, names)
    unit = unit or _unit_for([s.lag_days for s in usable])  # type: ignore[misc]
    scale = TIME_UNITS[unit]
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((6.8, 4.6))
        ax = fig.subplots()
        xs = [s.lag_days / scale for s in usable]  # type: ignore[operator]
        ys = [abs(s.magnitude) for s in usable]  # type: ignore[arg-type]
        for s, x, y in zip(usable, xs, ys, strict=True):
            _plot_channel_point(ax, s, (x, y), unit, colours.get(s.name, style.EDGE_COLOUR))
        ax.set_xscale("log")
        lo, hi = min(xs), max(xs)
        ax.set_xlim(lo / 4, hi * 4)
        log_magnitude = _magnitude_axis(ax, ys, log_magnitude)
        if faster_right:
            ax.invert_xaxis()
        ax.set_xlabel(f"time constant ({unit}s, log scale)" + ("  → faster" if faster_right else ""))
        ax.set_ylabel("magnitude |product of gains|" + (" (log scale)" if log_magnitude else ""))
        ax.grid(True, which="major", color="#E5E5E5", linewidth=0.8)
        ax.set_title(title or "Channels by speed and size")
        if skipped:
            ax.text(
                0.01,
                0.01,
                "not shown (missing gain or lag): " + ", ".join(s.label for s in skipped),
                transform=ax.transAxes,
                fontsize=7,
                color="#777777",
            )
        fig.tight_layout()
    return fig


def _drawable_channels(spec: CausalSpec, names: list[str]) -> tuple[list[ChannelSummary], list[ChannelSummary]]:
    """The channels with a gain and a lag on every edge, and the others (at least one must be drawable)."""
    summaries = [channel_summary(spec, n) for n in names]
    usable = [s for s in summaries if s.lag_days is not None and s.magnitude is not None and s.lag_days > 0]
    skipped = [s for s in summaries if s not in usable]
    if not usable:
        raise GraphError(
            "no channel has a gain and a lag on every edge",
            hint="give each edge of the channels a gain and a lag (or time constant)",
        )
    return usable, skipped


def _plot_channel_point(ax: Any, s: ChannelSummary, at: tuple[float, float], unit: str, colour: str) -> None:
    """A channel's dot, labelled with its name, signed magnitude and time constant."""
    x, y = at
    ax.scatter([x], [y], s=160, color=colour, zorder=3, edgecolor="white", linewidth=1.5)
    sign = style.sign_glyph(s.sign)
    ax.annotate(
        f"{s.label}\n{sign}{abs(s.magnitude):.3g} in {x:.3g} {unit}{'s' if x != 1 else ''}",  # type: ignore[arg-type]
        (x, y),
        xytext=(10, 8),
        textcoords="offset points",
        fontsize=9,
        color=colour,
    )


def _magnitude_axis(ax: Any, ys: list[float], log_magnitude: bool | None) -> bool:
    """Scale the magnitude axis (log when asked, or by default when it spans 100x); whether it is log."""
    positive = [y for y in ys if y > 0]
    if log_magnitude is None:
        log_magnitude = len(positive) == len(ys) and max(ys) / min(ys) >= 100
    if log_magnitude:
        ax.set_yscale("log")
        ax.set_ylim(min(positive) / 4, max(positive) * 6)
    else:
        ax.set_ylim(0, max(ys) * 1.35)
    return log_magnitude


def plot_phase(
    results: pd.DataFrame,
    x: str,
    y: str,
    *,
    scenario: str | Sequence[str] | None = None,
    time: str = "time",
    events: Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
    title: str | None = None,
    arrows: int = 6,
) -> Figure:
    """``y`` against ``x`` along a run, with arrows in the direction of time (one line per scenario).

    Events are marked as dots at their time on each trajectory.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"time": range(5), "credibility": [0, .2, .4, .1, 0],
    ...                    "termed_out": [0, .3, .6, .2, 0]})
    >>> fig = plot_phase(df, "termed_out", "credibility")
    >>> fig.axes[0].get_xlabel()
    'termed out'
    """
    mpl = _matplotlib()
    for column in (x, y, time):
        if column not in results.columns:
            raise GraphError(f"results have no column {column!r}", hint="columns: " + ", ".join(results.columns))
    parts = _phase_parts(results, scenario)
    colours = _scenario_colours([n for n, _ in parts])
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((5.8, 4.6))
        ax = fig.subplots()
        for name, part in parts:
            path = part.groupby(time)[[x, y]].median().sort_index()
            _plot_trajectory(ax, path[x], path[y], colour=colours[name], label=name, arrows=arrows)
            _mark_trajectory_events(ax, path[x], path[y], events, colour=colours[name])
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel(y.replace("_", " "))
        if len(parts) > 1:
            ax.legend(fontsize=8)
        ax.set_title(title or f"{y.replace('_', ' ')} against {x.replace('_', ' ')}")
        fig.tight_layout()
    return fig


def _phase_parts(results: pd.DataFrame, scenario: str | Sequence[str] | None) -> list[tuple[str, pd.DataFrame]]:
    """``(name, rows)`` per scenario (only those asked for), or one ``run`` without a scenario column."""
    if "scenario" not in results.columns:
        return [("run", results)]
    names = list(dict.fromkeys(results["scenario"].astype(str)))
    if scenario is not None:
        wanted = [scenario] if isinstance(scenario, str) else list(scenario)
        names = [n for n in names if n in wanted]
    return [(n, results[results["scenario"].astype(str) == n]) for n in names]


def _plot_trajectory(ax: Any, xs: pd.Series, ys: pd.Series, *, colour: str, label: str, arrows: int) -> None:
    """The trajectory as a line, with ``arrows`` arrow heads spread along it in the direction of time."""
    ax.plot(xs, ys, color=colour, label=label, linewidth=1.8)
    n = len(xs)
    for k in range(1, arrows + 1):
        i = int(k * (n - 1) / (arrows + 1))
        if i + 1 < n:
            ax.annotate(
                "",
                xy=(xs.iloc[i + 1], ys.iloc[i + 1]),
                xytext=(xs.iloc[i], ys.iloc[i]),
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.5},
            )


def _mark_trajectory_events(
    ax: Any,
    xs: pd.Series,
    ys: pd.Series,
    events: Mapping[str, float] | Iterable[tuple[str, float]] | None,
    *,
    colour: str,
) -> None:
    """A labelled dot on the trajectory at the time nearest each event."""
    for label, at in _events(events):
        idx = xs.index.get_indexer([at], method="nearest")[0]
        ax.plot(xs.iloc[idx], ys.iloc[idx], "o", color=colour, markersize=6)
        ax.annotate(
            label,
            (xs.iloc[idx], ys.iloc[idx]),
            xytext=(6, -10),
            textcoords="offset points",
            fontsize=8,
            color="#444444",
        )


# --- uncertainty: fan charts, runs coloured by a parameter, sensitivity indices ---------------------


def _band_pairs(percentiles: Sequence[float]) -> tuple[list[tuple[float, float]], list[float]]:
    """Percentiles paired symmetrically around the median (widest first), and those left single."""
    qs = sorted({float(q) for q in percentiles})
    pairs = [(q, 100 - q) for q in qs if q < 50 and (100 - q) in qs]
    paired = {q for pair in pairs for q in pair}
    return pairs, [q for q in qs if q not in paired]


def _mark_events(ax: Any, events: Mapping[str, float] | Iterable[tuple[str, float]] | None) -> None:
    for label, at in _events(events):
        ax.axvline(at, color=style.MUTED_COLOUR, linestyle="--", linewidth=1)
        ax.annotate(
            label,
            (at, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color="#555555",
        )


def _percentile_label(q: float) -> str:
    return "median" if q == 50 else f"{q:g}th percentile"


def plot_fan(
    summary: pd.DataFrame,
    variables: str | Sequence[str],
    bands: Sequence[float] = (5, 25, 50, 75, 95),
    *,
    units: Mapping[str, str] | str | None = None,
    events: Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
    title: str | None = None,
    time_label: str | None = None,
    ncols: int = 2,
) -> Figure:
    """Percentile bands over time (a fan chart), one panel per variable.

    ``summary`` is long, as ``tenor sweep --summary`` writes it: columns
    ``time``, ``variable`` and ``p5``, ``p25``, ... (``p`` and the percentile).
    Percentiles are paired around the median (5 with 95, 25 with 75) into
    nested shaded bands, darker inside; the median is a line; a percentile
    without a partner is a dashed line. The y axis shows the units, from
    ``units`` (one string, or variable -> units) or the summary's ``units``
    column.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"time": [0, 1], "variable": "x", "p5": [0, 1], "p50": [1, 2], "p95": [2, 3]})
    >>> fig = plot_fan(s, "x", [5, 50, 95])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['5–95 %', 'median']
    """
    import numpy as np

    mpl = _matplotlib()
    variables = _fan_variables(summary, variables, bands)
    pairs, singles = _band_pairs(bands)
    colour = style.SCENARIO_COLOURS[0]
    ncols = max(1, min(ncols, len(variables)))
    nrows = math.ceil(len(variables) / ncols)
    alphas = np.linspace(0.18, 0.45, len(pairs)) if len(pairs) > 1 else np.full(len(pairs), 0.3)
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((5.2 * ncols, 3.4 * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, var in zip(axes.flat, variables, strict=False):
            part = summary[summary["variable"].astype(str) == var].sort_values("time")
            _plot_fan_bands(ax, part, zip(alphas, pairs, strict=True), singles, colour)
            unit = _fan_unit(part, var, units)
            _mark_events(ax, events)
            ax.set_title(var.replace("_", " "))
            ax.set_xlabel(time_label or "time")
            if unit:
                ax.set_ylabel(unit)
            ax.legend(fontsize=8, loc="best")
        for ax in list(axes.flat)[len(variables) :]:
            ax.set_visible(False)
        if title:
            fig.suptitle(title, fontweight="bold")
        fig.tight_layout()
    return fig


def _fan_variables(summary: pd.DataFrame, variables: str | Sequence[str], bands: Sequence[float]) -> list[str]:
    """The variables to plot, checked against the summary's columns, percentiles and variables."""
    if isinstance(variables, str):
        variables = [variables]
    variables = list(variables)
    if not variables:
        raise GraphError("no variable to plot", hint="name one with --var")
    for column in ("time", "variable"):
        if column not in summary.columns:
            raise GraphError(
                f"the summary has no {column!r} column",
                hint="make it with tenor sweep --summary, or plot a full sweep",
            )
    wanted = [f"p{q:g}" for q in sorted({float(b) for b in bands})]
    missing = [c for c in wanted if c not in summary.columns]
    if missing:
        have = [c for c in summary.columns if c.startswith("p") and c[1:].replace(".", "", 1).isdigit()]
        raise GraphError(
            f"the summary has no percentile column(s) {', '.join(missing)}",
            hint="its percentiles: " + (", ".join(c[1:] for c in have) or "none") + "; choose --bands among them",
        )
    known = set(summary["variable"].astype(str))
    absent = [v for v in variables if v not in known]
    if absent:
        raise GraphError(f"the summary has no variable {absent[0]!r}", hint="variables: " + ", ".join(sorted(known)))
    return variables


def _plot_fan_bands(
    ax: Any,
    part: pd.DataFrame,
    bands: Iterable[tuple[float, tuple[float, float]]],
    singles: list[float],
    colour: str,
) -> None:
    """Nested shaded bands for the paired percentiles (``(alpha, (lo, hi))``), a line for each single one."""
    t = part["time"].to_numpy(dtype=float)
    for alpha, (lo, hi) in bands:
        band = ax.fill_between(
            t,
            part[f"p{lo:g}"].to_numpy(dtype=float),
            part[f"p{hi:g}"].to_numpy(dtype=float),
            color=colour,
            alpha=float(alpha),
            linewidth=0,
            label=f"{lo:g}–{hi:g} %",
        )
        band.set_gid(f"band-{lo:g}-{hi:g}")
    for q in singles:
        (line,) = ax.plot(
            t,
            part[f"p{q:g}"].to_numpy(dtype=float),
            color=colour,
            linewidth=1.8 if q == 50 else 1.2,
            linestyle="-" if q == 50 else "--",
            label=_percentile_label(q),
        )
        line.set_gid("median" if q == 50 else f"percentile-{q:g}")


def _fan_unit(part: pd.DataFrame, var: str, units: Mapping[str, str] | str | None) -> str | None:
    """The y-axis units: given (one string, or per variable), else the summary's one ``units`` value."""
    unit = units.get(var) if isinstance(units, Mapping) else units
    if unit is None and "units" in part.columns:
        found = [str(u) for u in part["units"].dropna().unique() if str(u)]
        unit = found[0] if len(found) == 1 else None
    return unit


def plot_by_parameter(
    results: pd.DataFrame,
    variables: str | Sequence[str],
    parameter: str,
    *,
    time: str = "time",
    scenario: str = "scenario",
    cmap: str = "viridis",
    events: Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
    title: str | None = None,
    ncols: int = 2,
) -> Figure:
    """One line per scenario, coloured by the value of the swept ``parameter``, with a colour bar.

    For sweeps of many scenarios, where a legend naming each would be taller
    than the plot.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"scenario": ["a", "a", "b", "b"], "time": [0, 1] * 2,
    ...                    "k": [1.0, 1.0, 2.0, 2.0], "x": [0.0, 1.0, 0.0, 2.0]})
    >>> fig = plot_by_parameter(df, "x", "k")
    >>> fig.axes[-1].get_ylabel()
    'k'
    """
    import numpy as np
    from matplotlib.colors import Normalize

    mpl = _matplotlib()
    if isinstance(variables, str):
        variables = [variables]
    variables = list(variables)
    missing = [c for c in [time, scenario, parameter, *variables] if c not in results.columns]
    if missing:
        raise GraphError(
            f"results have no column(s) {', '.join(map(repr, missing))}",
            hint="columns: " + ", ".join(map(str, results.columns)),
        )
    data = results.sort_values([scenario, time], kind="stable")
    names = list(dict.fromkeys(results[scenario].astype(str)))
    groups = {str(k): part for k, part in data.groupby(data[scenario].astype(str), sort=False)}
    runs = [groups[n] for n in names]
    values = np.array([float(run[parameter].iloc[0]) for run in runs])
    lo, hi = float(values.min()), float(values.max())
    norm = Normalize(lo, hi if hi > lo else lo + 1)
    ncols = max(1, min(ncols, len(variables)))
    nrows = math.ceil(len(variables) / ncols)
    with mpl.rc_context(style.matplotlib_style()):
        fig = _new_figure((5.6 * ncols, 3.4 * nrows))
        fig.set_layout_engine("constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, var in zip(axes.flat, variables, strict=False):
            _plot_runs(ax, runs, time, var, values, cmap=cmap, norm=norm)
            _mark_events(ax, events)
            ax.set_title(var.replace("_", " "))
            ax.set_xlabel(time)
        for ax in list(axes.flat)[len(variables) :]:
            ax.set_visible(False)
        mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        bar = fig.colorbar(mappable, ax=list(axes.flat[: len(variables)]))
        bar.set_label(parameter)
        if title:
            fig.suptitle(title, fontweight="bold")
    return fig


def _plot_runs(ax: Any, runs: list[pd.DataFrame], time: str, var: str, values: Any, *, cmap: str, norm: Any) -> None:
    """One line per run of ``var`` over time, coloured by its parameter value in ``values``."""
    import numpy as np
    from matplotlib.collections import LineCollection

    segments = [np.column_stack([run[time].to_numpy(dtype=float), run[var].to_numpy(dtype=float)]) for run in runs]
    lines = LineCollection(segments, cmap=cmap, norm=norm, linewidths=1.2, alpha=0.85)
    lines.set_array(values)
    lines.set_gid("runs")
    ax.add_collection(lines)
    ax.autoscale_view()


def plot_sensitivity(
    indices: Mapping[str, Mapping[str, Any]],
    *,
    conf_level: float = 0.95,
    title: str | None = None,
    ncols: int = 2,
) -> Figure:
    """Sobol' first-order (S1) and total (ST) indices per parameter, as bars with confidence intervals.

    ``indices`` maps an output's label to ``{"parameters": {name: {"S1", "S1_conf", "ST", "ST_conf"}}}``
    (as :meth:`stocks_flows.sensitivity.SobolIndices.to_dict` gives); one panel per output.

    >>> fig = plot_sensitivity({"y": {"parameters": {"a": {"S1": 0.2, "S1_conf": 0.01, "ST": 0.3,
    ...                                                  "ST_conf": 0.02}}}})
    >>> [t.get_text() for t in fig.legends[0].get_texts()]
    ['first order (S1)', 'total (ST)']
    """
    mpl = _matplotlib()
    outputs = list(indices)
    if not outputs:
        raise GraphError("no sensitivity indices to draw")
    ncols = max(1, min(ncols, len(outputs)))
    nrows = math.ceil(len(outputs) / ncols)
    with mpl.rc_context(style.matplotlib_style()):
        most = max(len(indices[o]["parameters"]) for o in outputs)
        fig = _new_figure((5.6 * ncols, (1.6 + 0.55 * most) * nrows))
        fig.set_layout_engine("constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, output in zip(axes.flat, outputs, strict=False):
            _plot_indices(ax, indices[output]["parameters"])
            ax.set_title(output.replace("_", " "))
        for ax in list(axes.flat)[len(outputs) :]:
            ax.set_visible(False)
        fig.legend(
            *axes.flat[0].get_legend_handles_labels(),
            loc="outside lower center",
            ncols=2,
            fontsize=8,
            title=f"bars: {conf_level:.0%} confidence interval",
            title_fontsize=8,
        )
        fig.suptitle(title or "Sobol' sensitivity indices", fontweight="bold")
    return fig


_SOBOL_BARS = (
    (-0.2, "S1", "first order (S1)", style.SCENARIO_COLOURS[0]),
    (0.2, "ST", "total (ST)", style.SCENARIO_COLOURS[1]),
)


def _index_values(params: Mapping[str, Mapping[str, Any]], key: str) -> Any:
    """One index (or its confidence half-width) per parameter, NaN where it is missing."""
    import numpy as np

    return np.array([np.nan if params[p].get(key) is None else float(params[p][key]) for p in params])


def _plot_indices(ax: Any, params: Mapping[str, Mapping[str, Any]]) -> None:
    """One output's S1 and ST bars per parameter (the first on top), with error bars, the x axis fitted."""
    import numpy as np

    y = np.arange(len(params))
    ends = [np.array([1.0])]
    for offset, key, label, colour in _SOBOL_BARS:
        values, conf = _index_values(params, key), _index_values(params, f"{key}_conf")
        bars = ax.barh(
            y + offset,
            np.nan_to_num(values),
            height=0.4,
            xerr=np.nan_to_num(conf),
            color=colour,
            label=label,
            capsize=3,
            error_kw={"elinewidth": 1, "ecolor": "#333333"},
        )
        for i, patch in enumerate(bars.patches):
            patch.set_gid(f"{key}-{i}")
        ends.append(np.nan_to_num(values) + np.nan_to_num(conf))
        ends.append(np.nan_to_num(values) - np.nan_to_num(conf))
    ax.set_yticks(y, [str(p) for p in params])
    ax.invert_yaxis()  # the first parameter on top
    ax.axvline(0, color="#333333", linewidth=0.8)
    every = np.concatenate(ends)
    ax.set_xlim(min(0.0, float(every.min())) - 0.02, float(every.max()) * 1.05)
    ax.set_xlabel("share of output variance")
