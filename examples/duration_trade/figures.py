"""What the duration-trade report shows beyond the generic report: tables, dated figures, captions.

:func:`extras` turns the calibrated evidence and the Monte Carlo assessment of
``claims.py`` into the report's extra content: the scenario outcome table, the
replay of the episodes against the data, the fitted constants, the fan charts
(5-95% over the declared ranges), the indicator "first illegible meeting while
the pivot is pushed out", and a "what would change my mind" table in
observable terms. Each figure carries two or three plain sentences.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np

from stocks_flows.batch import constant_values

__all__ = ["extras"]

SCENARIO_LABELS = {
    "base": "Base: pivot 1 Jan 2027",
    "pivot_early": "Pivot 28 Oct 2026",
    "pivot_pushed_out": "Pivot pushed out to 1 Jul 2027",
    "illegible_meeting": "Illegible meeting 30 Aug 2026",
    "illegible_and_pushed_out": "Illegible meeting and pivot pushed out",
    "bills_only": "All from bills",
    "long_end": "All from notes and bonds",
    "jgb_accident": "JGB accident 28 Sep 2026",
    "on_demand_run": "Run, book on demand",
    "termed_out_run": "Run, book termed out",
}


def _date(model: Any, day: float) -> str:
    start = model.spec.time.start_date if model.spec is not None else None
    if start is None or not math.isfinite(day):
        return "never" if not math.isfinite(day) else f"day {day:.0f}"
    return (start + datetime.timedelta(days=round(day))).isoformat()


def _dates(model: Any, days: np.ndarray) -> list[Any]:
    start = model.spec.time.start_date
    return [np.datetime64(start) + np.timedelta64(round(float(d) * 24), "h") for d in days]


def _figure(size: tuple[float, float] = (8.0, 4.2)) -> tuple[Any, Any]:
    from diagrams.plots import _new_figure

    fig = _new_figure(size)
    return fig, fig.add_subplot(1, 1, 1)


def _date_axis(ax: Any, interval: int = 2, *, weeks: bool = False) -> None:
    """Month ticks every ``interval`` months (or week ticks over a short window), few enough not to touch."""
    import matplotlib.dates as mdates

    if weeks:
        ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=interval))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))
    else:
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=interval))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


# --- tables ----------------------------------------------------------------------------------------


def outcome_table(ev: Any, world: Any) -> dict[str, Any]:
    from claims import collapse_day, exhaustion_day

    rows = []
    model = ev.model
    for name in [
        "base",
        "pivot_early",
        "pivot_pushed_out",
        "illegible_meeting",
        "illegible_and_pushed_out",
        "bills_only",
        "long_end",
        "jgb_accident",
    ]:
        f = world.frame(name)
        spent = f["firepower"][0] - f["firepower"][-1]
        out = exhaustion_day(world, name)
        broken = collapse_day(world, name)
        rows.append(
            [
                SCENARIO_LABELS.get(name, name),
                f"{f['usdjpy'].max():.1f}",
                f"{spent:.1f}",
                _date(model, out),
                f"{f['long_yield'].max():.0f}",
                f"{f['unwound'][-1]:.1f}",
                _date(model, broken),
            ]
        )
    return {
        "title": "Scenario outcomes (calibrated model, 1 Jun 2026 to 23 Nov 2027)",
        "header": [
            "scenario",
            "peak USDJPY",
            "JPY tn spent",
            "firepower exhausted",
            "peak long-end rise (bp)",
            "carry unwound (JPY tn)",
            "schedule breaks",
        ],
        "rows": rows,
        "caption": "Each row is one scenario of stocks.yaml run with the fitted constants. 'Firepower exhausted' "
        "is the day the MOF's budget is spent; 'schedule breaks' is the day the carry "
        "book reads the BOJ path as broken and runs.",
    }


def replay_table(replay: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for ep in replay:
        for key, obs in ep["observed"].items():
            sim = ep["simulated"].get(key)
            bound = ep["bounds"].get(key)
            shown = "—" if obs is None else f"{obs:g}"
            if bound and bound[0] == "at most":
                shown = f"≤ {bound[1]:g}"
            rows.append([ep["date"], ep["name"], key, shown, "—" if sim is None else f"{sim:.2f}"])
        for key, r in ep.get("ranges", {}).items():
            rows.append([ep["date"], ep["name"], key, f"{r['low']:g}–{r['high']:g}", f"{r['simulated']:.2f}"])
    return {
        "title": "The episodes replayed: observed against simulated",
        "header": ["date", "episode", "quantity", "observed", "simulated"],
        "rows": rows,
        "caption": "Every observed number comes from data/ (each row cites sources.md). Moves reported as 'more "
        "than N yen' are shown as bounds. The JGB episodes check that moves of the size seen in 2025-26 stay "
        "below the accident threshold; the rate-check row checks the sourced size of a check (an input).",
    }


def calibration_table(calibration: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for name, entry in calibration.items():
        episodes = ", ".join(sorted({d["episode"] for d in entry["data"]}))
        rows.append(
            [name, f"{entry['value']:.3g}", f"{entry['low']:.3g}–{entry['high']:.3g}", episodes, entry["method"]]
        )
    return {
        "title": "Fitted constants",
        "header": ["constant", "value", "interval", "fitted to", "method"],
        "rows": rows,
        "caption": "The constants the episodes inform, fitted to data/; the Monte Carlo sweep draws them over "
        "these intervals. Every other constant is sourced or a declared assumption with a range "
        "(Parameters below).",
    }


def claims_table(assessment: Any) -> dict[str, Any]:
    rows = []
    for v in assessment.verdicts:
        n = v.number
        f, h = assessment.flips[n], assessment.holds[n]
        rows.append(
            [
                str(n),
                v.title,
                "holds" if v.holds else "FAILS",
                f"{assessment.probability[n]:.2f}",
                f"{f['parameter']} = {f['value']:g} ({'flips' if f['flips'] else 'does NOT flip'})",
                f"{h['parameter']} = {h['value']:g} ({'holds' if h['holds'] else 'does NOT hold'})",
            ]
        )
    return {
        "title": "Claims: probability over the declared ranges, and the perturbations that test them",
        "header": ["#", "claim", "calibrated", "probability", "flips when", "still holds when"],
        "rows": rows,
        "caption": f"Probability: share of {len(assessment.samples)} Latin-hypercube draws over every declared "
        "range (fitted constants over their intervals) in which the claim holds, all in one engine pass.",
    }


def _turning_point(ev: Any, name: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values at which the base defence holds, values at which it breaks before the pivot)."""
    from stocks_flows.batch import run_batch

    run = run_batch(ev.model, {f"s{i}": {name: float(v)} for i, v in enumerate(values)}, outputs=["breach"])
    pivot = constant_values(ev.model)["pivot_time"]
    t = run.time
    lost = np.array([bool((row[:, 0][t < pivot] > 0.5).any()) for row in run.values])
    return values[~lost], values[lost]


def change_my_mind(ev: Any, assessment: Any) -> dict[str, Any]:
    """Observable thresholds at which a conclusion turns, on the calibrated model."""
    from claims import RACE_PIVOTS, claim_3, claim_10

    rows = []
    world = assessment.central
    held, lost = _turning_point(ev, "drift_before_pivot", np.linspace(0.02, 0.13, 12))
    drift_held = float(held.max()) if held.size else None
    drift_lost = float(lost.min()) if lost.size else None
    held, lost = _turning_point(ev, "firepower_initial", np.linspace(10.0, 60.0, 11))
    budget_held = float(held.min()) if held.size else None
    budget_lost = float(lost.max()) if lost.size else None
    fitted = constant_values(ev.model)["drift_before_pivot"]

    def fmt(x: float | None, unit: str) -> str:
        return "none in the range" if x is None else f"{x:.3g} {unit}"

    rows.append(
        [
            f"the yen's drift while the Fed holds (fitted {fitted:.3f} yen/day, Aug 2025-Jan 2026)",
            "the race is lost before a 1 Jan 2027 pivot",
            f"held up to {fmt(drift_held, 'yen/day')}; lost from {fmt(drift_lost, 'yen/day')}",
            "USDJPY against its trend between operations",
        ]
    )
    rows.append(
        [
            "the MOF budget still to spend (JPY tn)",
            "enough to wait for a 1 Jan 2027 pivot",
            f"lost with up to {fmt(budget_lost, 'tn')}; held from {fmt(budget_held, 'tn')}",
            "monthly MOF release; reserve deposits",
        ]
    )
    race = claim_10(ev, world).figures
    rows.append(
        [
            "the date of the first Fed cut",
            "the defence holds (the race is won)",
            f"by {_date(ev.model, race['last_safe_pivot_day'])}; "
            f"lost from {_date(ev.model, race['first_lost_pivot_day'])} "
            f"(pivots tried every {RACE_PIVOTS[1] - RACE_PIVOTS[0]:.0f} days)",
            "FOMC; the 30y Treasury (5.16% on 20 May 2026)",
        ]
    )
    give = claim_3(ev, world).figures
    rows.append(
        [
            "yen given back through the long end per yen bought",
            "Japan is selling notes and bonds, not bills (claim 3)",
            f"above {give['give_back_bills'] * 10:.2g} (bills: {give['give_back_bills']:.2g}; coupons: "
            f"{give['give_back_coupons']:.2g})",
            "30y Treasury and the dollar on operation days",
        ]
    )
    rows.append(
        [
            "a disorderly JGB session (30y JGB move in a day)",
            "the accident channel fires (claims 2, 12)",
            "above about 40 bp (the `disorder` threshold); +25 bp (20 Jan 2026) and +42 bp in two days did not",
            "JGB auctions: tail and bid-to-cover",
        ]
    )
    rows.append(
        [
            "an illegible BOJ meeting while the expected pivot date moves out",
            "term deposit becomes demand deposit within sessions (claims 8, 9)",
            f"credibility below {constant_values(ev.model)['breach_threshold']:g} after the meeting",
            "the indicator series (figure below)",
        ]
    )
    return {
        "title": "What would change my mind",
        "header": ["observable", "would mean", "threshold (calibrated model)", "where to watch"],
        "rows": rows,
        "caption": "Each threshold is where the calibrated model's conclusion turns, found by running the base "
        "scenario over the range shown (one batched pass per row).",
    }


def sensitivity_table(folder: Any) -> dict[str, Any] | None:
    path = folder / "sensitivity.md"
    if not path.exists():
        return None
    return {"markdown": path.read_text()}


# --- figures ---------------------------------------------------------------------------------------


def fig_channels(ev: Any, world: Any) -> Any:
    from claims import _accident, _campaign

    fig, ax = _figure((7.5, 4.2))
    peak, days, _, _ = _accident(world)
    _, fx_peak, fx_days = _campaign(world, "pivot_early")
    points = [
        ("Intervention campaign\n(bill-tilted, all firepower)", fx_days, fx_peak, "#1f77b4"),
        ("JGB liquidity accident", days, peak, "#d62728"),
    ]
    for label, d, p, colour in points:
        ax.scatter([d], [p], s=120, color=colour, zorder=3)
        ax.annotate(
            f"{label}\n{p:.1f} bp in {d:.0f} days", (d, p), xytext=(10, 8), textcoords="offset points", fontsize=9
        )
    ax.set_xscale("log")
    ax.set_xlim(0.5, 400)
    ax.set_xticks([1, 3, 10, 30, 100, 300], ["1", "3", "10", "30", "100", "300"])
    ax.xaxis.set_minor_formatter("")
    ax.set_ylim(0, max(peak, fx_peak) * 1.5)
    ax.set_xlabel("time from trigger to peak long-end rise (days, log scale)")
    ax.set_ylabel("peak rise of the US long end (bp)")
    ax.set_title("Fig. 1: two failure modes, by speed and size")
    return fig


def fig_unwind(ev: Any, world: Any) -> Any:
    fig, ax = _figure()
    t = np.asarray(world.time)
    keep = (t >= 40) & (t <= 240)
    for name, colour in (("on_demand_run", "#d62728"), ("termed_out_run", "#1f77b4")):
        ax.plot(
            _dates(ev.model, t[keep]), world.frame(name)["unwound"][keep], color=colour, label=SCENARIO_LABELS[name]
        )
    ax.axvline(_dates(ev.model, np.array([60.0]))[0], color="grey", linestyle=":", linewidth=1)
    book = float(world.frame("on_demand_run")["unwound"].max())
    ax.set_ylim(0, book * 1.15)
    ax.text(
        _dates(ev.model, np.array([62.0]))[0], book * 1.07, "conviction breaks (31 Jul 2026)", fontsize=8, color="grey"
    )
    ax.set_ylabel("cumulative carry unwound (JPY tn)")
    ax.set_xlabel("date")
    ax.legend(loc="lower right", frameon=False)
    ax.set_title("Fig. 2: the same JPY 40tn book, on demand or termed out")
    _date_axis(ax)
    return fig


def fig_cliff(ev: Any, world: Any) -> Any:
    fig, ax = _figure((7.0, 4.6))
    for name, colour in (("pivot_early", "#1f77b4"), ("illegible_and_pushed_out", "#d62728")):
        f = world.frame(name)
        ax.plot(f["termed_out_share"], f["credibility"], color=colour, label=SCENARIO_LABELS[name])
        # a dot every 30 days: far apart where the state moves in quarters, piled up where it moves in sessions
        monthly = np.searchsorted(world.time, np.arange(0.0, float(world.time[-1]) + 1.0, 30.0))
        monthly = monthly[monthly < len(world.time)]
        ax.plot(f["termed_out_share"][monthly], f["credibility"][monthly], "o", color=colour, markersize=3)
    ax.plot([], [], "o", color="grey", markersize=3, label="Dots 30 days apart")
    f = world.frame("illegible_and_pushed_out")
    i = int(np.searchsorted(world.time, 90.0))
    ax.scatter([f["termed_out_share"][i]], [f["credibility"][i]], color="#d62728", marker="v", zorder=3)
    ax.annotate(
        "illegible meeting\n(30 Aug 2026)",
        (f["termed_out_share"][i], f["credibility"][i]),
        xytext=(12, -28),
        textcoords="offset points",
        fontsize=8,
        color="#d62728",
    )
    ax.set_xlabel("liability state: share of the carry book termed out (0-1)")
    ax.set_ylabel("BOJ rate-path credibility (0-1)")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_title("Fig. 3: built over quarters, lost within sessions")
    return fig


def fig_fans(ev: Any, assessment: Any) -> Any:
    from diagrams.plots import _new_figure

    worlds = assessment.sample_worlds
    central = assessment.central
    t = np.asarray(central.time)
    panels = [
        ("usdjpy", "USDJPY (yen per dollar)"),
        ("firepower", "MOF firepower left (JPY tn)"),
        ("ust30y", "30y Treasury (%)"),
        ("unwound", "carry unwound (JPY tn)"),
    ]
    fig = _new_figure((10.0, 7.0))
    dates = _dates(ev.model, t)
    for k, (var, label) in enumerate(panels, start=1):
        ax = fig.add_subplot(2, 2, k)
        if worlds:
            stack = np.array([w.frame("base")[var] for w in worlds])
            lo, mid, hi = np.percentile(stack, [5, 50, 95], axis=0)
            ax.fill_between(dates, lo, hi, color="#9ecae1", alpha=0.6, label="5-95% of draws")
            ax.plot(dates, mid, color="#3182bd", linewidth=1, label="Median of draws")
        ax.plot(dates, central.frame("base")[var], color="black", linewidth=1.2, label="Calibrated run")
        ax.set_ylabel(label)
        _date_axis(ax, interval=4)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=8)
    fig.suptitle("Base scenario (pivot 1 Jan 2027): fan charts over the declared ranges")
    fig.tight_layout(rect=(0.0, 0.05, 1.0, 1.0))
    return fig


def fig_indicator(ev: Any, world: Any) -> Any:
    from diagrams.plots import _new_figure

    fig = _new_figure((9.0, 5.0))
    top = fig.add_subplot(2, 1, 1)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    t = np.asarray(world.time)
    dates = _dates(ev.model, t)
    for name, colour, style in (
        ("illegible_meeting", "#1f77b4", "-"),
        ("illegible_and_pushed_out", "#d62728", "--"),
        ("pivot_pushed_out", "#ff7f0e", ":"),
    ):
        f = world.frame(name)
        top.plot(dates, np.maximum(f["expected_pivot"] - t, 0.0), style, color=colour, label=SCENARIO_LABELS[name])
        bottom.plot(dates, f["credibility"], color=colour)
        hits = t[f["first_illegible_while_pushed_out"] > 0.5]
        for h in hits[:1]:
            bottom.axvline(_dates(ev.model, np.array([h]))[0], color=colour, linestyle=":", linewidth=1)
            bottom.text(
                _dates(ev.model, np.array([h + 3]))[0], 0.6, "illegible while pushed out", color=colour, fontsize=8
            )
    bottom.axhline(constant_values(ev.model)["breach_threshold"], color="grey", linewidth=0.8, linestyle="--")
    top.set_ylabel("expected wait for\nthe pivot (days)")
    bottom.set_ylabel("credibility (0-1)")
    top.legend(frameon=False, fontsize=8)
    _date_axis(bottom)
    top.tick_params(labelbottom=False)
    fig.suptitle("The indicator: the first illegible meeting while the pivot is pushed out")
    return fig


def fig_replay(ev: Any, replay: list[dict[str, Any]]) -> Any:
    fig, ax = _figure((8.0, 4.5))
    labels, observed, simulated = [], [], []
    for ep in replay:
        for key, obs in ep["observed"].items():
            if "usdjpy_change" not in key:
                continue
            bound = ep["bounds"].get(key)
            day = key.rsplit("_", 1)[-1] if key.count("-") == 2 else ep["date"]
            labels.append(f"{day}\n{ep['name'].split(' ')[0]}")
            observed.append(obs if obs is not None else (bound[1] if bound else np.nan))
            simulated.append(ep["simulated"][key])
    x = np.arange(len(labels))
    ax.bar(x - 0.2, observed, width=0.4, label="Observed (bars at a bound are 'at least')", color="#bdbdbd")
    ax.bar(x + 0.2, simulated, width=0.4, label="Simulated", color="#3182bd")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=7)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("USDJPY change (yen; negative = yen stronger)")
    ax.set_xlabel("day and episode")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("USDJPY moves on operation, rate-check and unwind days")
    return fig


def fig_segment(ev: Any, world: Any) -> Any:
    from claims import BUDGETS, SIZES, _campaign

    fig, ax = _figure((7.5, 4.2))
    for mix, colour, label in (("bills", "#1f77b4", "bill-tilted (base mix)"), ("long", "#d62728", "notes and bonds")):
        for budget, style in zip(BUDGETS, ("-", "--"), strict=True):
            peaks = [_campaign(world, f"size[{mix},{s},{budget}]")[1] for s in SIZES]
            ax.plot(SIZES, peaks, style, color=colour, marker="o", label=f"{label}, budget JPY {budget:.0f}tn")
    ax.set_xlabel("size of one operation (JPY tn)")
    ax.set_ylabel("peak long-end rise (bp)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Which segment, not how much")
    return fig


UNITS = {
    "usdjpy": "USDJPY (yen per dollar)",
    "firepower": "MOF firepower left (JPY tn)",
    "market_firepower": "firepower the market sees (JPY tn)",
    "long_yield": "US long end, change (bp)",
    "credibility": "BOJ path credibility (0-1)",
    "carry_demand": "carry on demand (JPY tn)",
    "funding_stress": "dollar funding stress (bp)",
}


def fig_panels(
    ev: Any, world: Any, title: str, variables: list[str], runs: list[str], window: tuple[float, float] | None = None
) -> Any:
    from diagrams.plots import _new_figure

    t = np.asarray(world.time)
    keep = np.ones_like(t, dtype=bool) if window is None else (t >= window[0]) & (t <= window[1])
    dates = _dates(ev.model, t[keep])
    rows = (len(variables) + 1) // 2
    fig = _new_figure((10.0, 3.2 * rows + 1.0))
    colours = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"]
    for k, var in enumerate(variables, start=1):
        ax = fig.add_subplot(rows, 2, k)
        for run, colour in zip(runs, colours, strict=False):
            ax.plot(
                dates, world.frame(run)[var][keep], color=colour, linewidth=1.2, label=SCENARIO_LABELS.get(run, run)
            )
        ax.set_ylabel(UNITS.get(var, var))
        if window is None:
            _date_axis(ax, interval=4)
        else:
            _date_axis(ax, interval=max(1, round((window[1] - window[0]) / 35)), weeks=True)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False, fontsize=8)
    legend_rows = math.ceil(len(labels) / 3)
    fig.suptitle(title)
    fig.tight_layout(rect=(0.0, (0.25 * legend_rows + 0.1) / fig.get_size_inches()[1], 1.0, 1.0))
    return fig


CAPTIONS = {
    "fig1_channels": "Each point is one failure mode in the calibrated model: the JGB accident reaches its peak on "
    "the US long end within days, the whole bill-tilted intervention campaign only after weeks of operations, "
    "and lower. The two are an order of magnitude apart in speed.",
    "fig2_unwind": "The same JPY 40tn book after conviction breaks: held on demand it runs within about a week "
    "(the run time is fitted to August 2024); termed out it matures over months. The total is the same.",
    "fig3_cliff": "Credibility and the share of carry termed out rise together over quarters of legible "
    "meetings (blue). An illegible meeting while the pivot is pushed out (red) sends both back within sessions.",
    "fans": "Shaded: 5-95% of the Monte Carlo draws over every declared range; black: the calibrated run. With the "
    "fitted drift the yen reaches the line within weeks, operations spend the budget in lumps, and the long end "
    "barely moves until the carry book runs.",
    "indicator": "Top: how long the market expects to wait for the Fed pivot. Bottom: credibility; the dashed "
    "line is the tipping point. Only the illegible meeting that comes while the wait is growing (red) breaks it.",
    "replay": "Simulated against observed USDJPY moves on the days of the 2022 and 2024 operations, the January 2026 "
    "rate checks and the August 2024 unwind. The impact per JPY tn and the decay are fitted to these days.",
    "segment": "Peak long-end rise before any break, by operation size and budget: the largest bill-tilted campaign "
    "stays below the smallest one executed in notes and bonds, until bills run out.",
    "scenarios": "USDJPY, firepower, the long end and credibility in four scenarios: only an early pivot keeps the "
    "schedule; otherwise the firepower runs out and, weeks after the release shows it, the schedule breaks.",
    "race": "Firepower and carry held on demand: when the pivot comes after the firepower is seen to be gone, "
    "the book goes back on demand and runs.",
    "accident": "A disorderly JGB session mid-campaign: funding stress and forced Treasury selling lift the long "
    "end within days, with no intervention involved.",
}


def extras(ev: Any, assessment: Any, replay: list[dict[str, Any]], calibration: dict[str, Any]) -> dict[str, Any]:
    """Tables, figures (id, title, matplotlib figure) and captions for the report."""
    world = assessment.central
    figures = [
        ("fig1_channels", "Fig. 1: two failure modes, by speed and size", fig_channels(ev, world)),
        ("fig2_unwind", "Fig. 2: the same carry book, on demand or termed out", fig_unwind(ev, world)),
        ("fig3_cliff", "Fig. 3: credibility against the liability state", fig_cliff(ev, world)),
        ("replay", "The episodes replayed", fig_replay(ev, replay)),
        ("fans", "Fan charts: USDJPY, firepower, the long end, carry unwound", fig_fans(ev, assessment)),
        ("indicator", "The indicator: first illegible meeting while the pivot is pushed out", fig_indicator(ev, world)),
        ("segment", "Which segment, not how much", fig_segment(ev, world)),
        (
            "scenarios",
            "The yen defence under each scenario",
            fig_panels(
                ev,
                world,
                "The yen defence under each scenario",
                ["usdjpy", "firepower", "long_yield", "credibility"],
                ["base", "pivot_early", "pivot_pushed_out", "illegible_and_pushed_out"],
            ),
        ),
        (
            "race",
            "The race: the pivot before or after the firepower runs out",
            fig_panels(
                ev,
                world,
                "The race: the pivot before or after the firepower runs out",
                ["firepower", "market_firepower", "carry_demand", "credibility"],
                ["base", "pivot_early", "pivot_pushed_out"],
            ),
        ),
        (
            "accident",
            "A JGB liquidity accident mid-campaign against the base run",
            fig_panels(
                ev,
                world,
                "A JGB liquidity accident on 28 Sep 2026 against the base run",
                ["long_yield", "funding_stress", "carry_demand", "usdjpy"],
                ["base", "jgb_accident"],
                (110.0, 140.0),
            ),
        ),
    ]
    tables = [
        claims_table(assessment),
        outcome_table(ev, world),
        replay_table(replay),
        calibration_table(calibration),
        change_my_mind(ev, assessment),
    ]
    return {"figures": figures, "tables": tables, "captions": CAPTIONS}
