"""The twelve claims of "The Duration Trade", each measured on the calibrated, dated model.

``reading.md`` states the research note's claims. Each ``claim_N`` below
measures an emergent property of the model's runs (or, for claim 1, of its
structure and the causal spec) in one *world*: one set of constants and the
scenarios and sweeps the claims need, all simulated in one engine pass. No
claim reads its answer off a constant: each names a perturbation that must flip
it (``FLIPS``) and one that must not (``HOLDS``), and the report checks both.

- :func:`evaluate` judges the claims on the calibrated model (the headline);
- :func:`assess` also runs a Monte Carlo sweep over every declared range
  (fitted constants over their fitted intervals) and the two perturbations of
  every claim, in the same engine pass, and returns each claim's verdict,
  probability and perturbation checks.

``PROGRAM`` is this file's claims program (:class:`tenor.app.claims_program.ClaimsProgram`):
what ``tenor run`` calls. Run ``python examples/duration_trade/claims.py`` to print the
verdicts, or ``tenor run examples/duration_trade --out out/`` for the full report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import history
import networkx as nx
import numpy as np

from stocks_flows.model import element_name
from tenor.app.claims_program import ClaimsProgram, ReportOutputs
from tenor.core.verdict import Verdict

HERE = Path(__file__).resolve().parent

__all__ = ["CLAIMS", "FLIPS", "HOLDS", "PROGRAM", "DurationTrade", "Evidence", "Verdict", "World", "assess", "evaluate"]

MEETING = 90.0  # the illegible meeting of the claim-9 scenarios (30 Aug 2026)
WINDOW = 30.0  # "within sessions" is judged over the month after the meeting
SAMPLES = 40  # Monte Carlo draws
SEED = 20260601


# --- the scenarios one world needs ----------------------------------------------------------------

OUTPUTS = [
    "usdjpy",
    "firepower",
    "market_firepower",
    "long_yield",
    "ust30y",
    "credibility",
    "credibility_target",
    "breach",
    "unwound",
    "carry_term",
    "carry_demand",
    "termed_out_share",
    "intervention_rate",
    "intervention_effect",
    "dollar",
    "accident_intensity",
    "expected_pivot",
    "pushing_out",
    "first_illegible_while_pushed_out",
    "funding_stress",
    "check_effect",
    element_name("holdings", ("bills",)),
]

DESK = ("intervention_rate", "sales", "sales_flow", "replay_rate")  # with every desk_* variable: the desk
EARLY = {"pivot_time": 149.0, "pivot_expected_start": 149.0}
RACE_PIVOTS = np.arange(90.0, 481.0, 30.0)
SIZES = (0.73, 5.92)
BUDGETS = (10.0, 35.0)
LONG_END = {"bill_preference": 0.0, "deposit_share": 0.0}


def _world_scenarios(model: Any) -> dict[str, dict[str, float]]:
    """Every run a world needs, as changes to its constants: named scenarios and the claims' sweeps."""
    runs = {"base": {}}
    for name, sc in model.scenarios.items():
        runs[name] = dict(sc.constants)
    shut = {"intervention_line": 1000.0, "warning_line": 1000.0}
    runs["accident_no_desk"] = {**runs["jgb_accident"], **shut}
    runs["base_no_desk"] = dict(shut)
    runs["pushed_out_unseen"] = {**runs["pivot_pushed_out"], "disclosure_first": history.OFF}
    for i, p in enumerate(RACE_PIVOTS):
        runs[f"race[{i}]"] = {"pivot_time": float(p)}
    for mix, changes in (("bills", {}), ("long", LONG_END)):
        for size in SIZES:
            for budget in BUDGETS:
                runs[f"size[{mix},{size},{budget}]"] = {
                    **EARLY,
                    **changes,
                    "operation_size": size,
                    "firepower_initial": budget,
                }
    return runs


def save_times(model: Any) -> np.ndarray:
    """Days kept: every day, and every step around the events the claims time in hours."""
    dt = model.time.dt
    fine = [np.arange(a, b, dt) for a, b in ((118.0, 126.0), (59.0, 70.0), (MEETING - 1, MEETING + 10))]
    return np.unique(np.concatenate([np.arange(0.0, model.time.stop + 0.5, 1.0), *fine]))


@dataclass
class World:
    """One set of constants and every run the claims need: ``frame(name)[variable]`` is a series."""

    model: Any
    constants: dict[str, float]
    time: np.ndarray
    series: Mapping[str, dict[str, np.ndarray]]
    base: Mapping[str, float] = field(default_factory=dict)
    """The model's constants (:func:`stocks_flows.batch.constant_values`)."""

    def frame(self, name: str) -> dict[str, np.ndarray]:
        return self.series[name]

    def constant(self, name: str) -> float:
        if name in self.constants:
            return float(self.constants[name])
        return float(self.base[name])

    def setting(self, run: str, name: str) -> float:
        changes = _world_scenarios(self.model)[run]
        return float(changes.get(name, self.constant(name)))


def simulate_worlds(model: Any, worlds: Sequence[Mapping[str, float]]) -> list[World]:
    """All ``worlds`` (constants -> value; a stock name sets its initial value) in one engine pass.

    Each world is a point of one sweep of the toolkit (:func:`stocks_flows.batch.run_sweep`) over
    the world's scenarios; a scenario's own settings win over the world's.
    """
    from stocks_flows.batch import constant_values, run_sweep

    batches = run_sweep(model, _world_scenarios(model), worlds, outputs=OUTPUTS, times=save_times(model))
    base = constant_values(model)
    return [World(model, dict(world), batch.time, batch, base) for world, batch in zip(worlds, batches, strict=True)]


# --- measures ------------------------------------------------------------------------------------


def _first(time: np.ndarray, mask: np.ndarray) -> float:
    return float(time[np.argmax(mask)]) if mask.any() else math.inf


def _rate(time: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.gradient(values, time)


def _transition(time: np.ndarray, values: np.ndarray, start: float, rising: bool) -> float:
    """10%-to-90% time of the move of ``values`` after ``start`` to its extreme."""
    keep = time >= start
    t, v = time[keep], values[keep]
    last = v.max() if rising else v.min()
    move = last - v[0]
    if abs(move) < 1e-9:
        return math.inf
    share = (v - v[0]) / move
    return _first(t, share >= 0.9) - _first(t, share >= 0.1)


def when(world: World, day: float) -> str:
    """A model day as a calendar date (``time.start_date`` of the model), or 'never'."""
    from stocks_flows.spec import calendar_date

    if not math.isfinite(day):
        return "never"
    date = calendar_date(world.model.spec.time, day) if world.model.spec is not None else None
    return date.isoformat() if date is not None else f"day {day:.0f}"


def collapse_day(world: World, run: str) -> float:
    """Day the schedule breaks (breach above one half), or inf."""
    f = world.frame(run)
    return _first(world.time, f["breach"] > 0.5)


def exhaustion_day(world: World, run: str) -> float:
    f = world.frame(run)
    return _first(world.time, f["firepower"] < 1e-3)


# --- the claims -----------------------------------------------------------------------------------


@dataclass
class Evidence:
    """The causal spec and the calibrated model; its worlds are simulated on demand."""

    folder: Path = HERE
    calibrate: bool = True
    _world: World | None = field(default=None, init=False, repr=False)

    @cached_property
    def spec(self) -> Any:
        from causal.load import read_spec

        return read_spec(self.folder / "causal.yaml")

    @cached_property
    def raw_model(self) -> Any:
        from stocks_flows.load import read_model

        return read_model(self.folder / "stocks.yaml")

    @cached_property
    def calibration(self) -> dict[str, Any] | None:
        return history.calibrate_all(self.raw_model) if self.calibrate else None

    @cached_property
    def model(self) -> Any:
        from stocks_flows.model import Scenario

        if self.calibration is None:
            return self.raw_model
        return self.raw_model.with_scenario(Scenario("calibrated", constants=self.calibration["constants"]))

    @cached_property
    def spec_claims(self) -> list[Any]:
        from causal.claims import evaluate_claims

        return evaluate_claims(self.spec)

    @property
    def world(self) -> World:
        """The calibrated world: simulated on first use, unless :meth:`use_world` gave it."""
        if self._world is None:
            self._world = simulate_worlds(self.model, [{}])[0]
        return self._world

    def use_world(self, world: World) -> None:
        """Take ``world`` (the calibrated world of a joint pass, e.g. :func:`assess`) as the calibrated world."""
        self._world = world

    @cached_property
    def runs(self) -> dict[str, Any]:
        """The named scenarios of the central world as wide DataFrames (for the figures)."""
        import pandas as pd

        out = {}
        for name in ["base", *self.model.scenarios]:
            frame = pd.DataFrame(self.world.frame(name))
            frame.insert(0, "time", self.world.time)
            out[name] = frame
        return out

    @cached_property
    def loops(self) -> Any:
        from stocks_flows.loops import find_loops

        return find_loops(self.model)


def claim_1(ev: Evidence, w: World) -> Verdict:
    """Two failure modes, two paths: the accident reaches the long end with the desk shut."""
    spec = [r for r in ev.spec_claims if r.kind in ("distinct", "separated", "connected")]
    graph = ev.model.dependency_graph()
    desk = {n for n, base in graph.nodes(data="base") if base in DESK or base.startswith("desk_")}
    structural = nx.has_path(graph.subgraph(n for n in graph if n not in desk), "jgb_stress", "long_yield")
    shock = w.setting("jgb_accident", "jgb_shock_time")
    after = (w.time >= shock) & (w.time <= shock + 10)

    def extra(acc: str, base: str) -> float:
        return float((w.frame(acc)["long_yield"] - w.frame(base)["long_yield"])[after].max())

    with_desk, without = extra("jgb_accident", "base"), extra("accident_no_desk", "base_no_desk")
    same = abs(with_desk - without) <= 0.1 * max(abs(with_desk), 1e-9)
    holds = bool(structural and all(r.holds for r in spec) and without > 1.0 and same)
    detail = (
        f"{sum(bool(r.holds) for r in spec)}/{len(spec)} causal-spec claims hold; the accident adds "
        f"{with_desk:.1f} bp to the long end mid-campaign, and {without:.1f} bp with the desk and the rate checks shut"
    )
    return Verdict(
        1,
        "Two failure modes, two paths",
        holds,
        detail,
        figure="dag",
        figures={"accident_bp": with_desk, "accident_bp_no_desk": without},
    )


def _campaign(w: World, run: str) -> tuple[float, float, float]:
    """(start day, peak long-end rise, days from start to that peak) of an intervention campaign before any break."""
    f = w.frame(run)
    start = _first(w.time, f["intervention_rate"] > 1e-3)
    broken = collapse_day(w, run)
    window = (w.time >= start) & (w.time < broken)
    if not np.isfinite(start) or not window.any():
        return start, 0.0, math.inf
    k = int(np.argmax(f["long_yield"][window]))
    return start, float(f["long_yield"][window][k]), float(w.time[window][k] - start)


def _accident(w: World) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(peak extra long-end rise, days from the shock to it, time, extra rise) of the JGB accident."""
    shock = w.setting("jgb_accident", "jgb_shock_time")
    extra = w.frame("jgb_accident")["long_yield"] - w.frame("base")["long_yield"]
    keep = (w.time >= shock) & (w.time <= shock + 30)
    k = int(np.argmax(extra[keep]))
    return float(extra[keep][k]), float(w.time[keep][k] - shock), w.time[keep] - shock, extra[keep]


def _early_rise(w: World) -> tuple[float, float]:
    """(long-end rise in the accident's first week, in the bill-tilted campaign's first month)."""
    shock = w.setting("jgb_accident", "jgb_shock_time")
    extra = w.frame("jgb_accident")["long_yield"] - w.frame("base")["long_yield"]
    week = (w.time >= shock) & (w.time <= shock + 7)
    f = w.frame("pivot_early")
    start = _first(w.time, f["intervention_rate"] > 1e-3)
    month = (w.time >= start) & (w.time <= start + 30)
    campaign = float(f["long_yield"][month].max()) if month.any() else 0.0
    return float(extra[week].max()), campaign


def claim_2(ev: Evidence, w: World) -> Verdict:
    """Fig. 1: the accident is faster and larger than the intervention channel."""
    week, month = _early_rise(w)
    peak, days, _, _ = _accident(w)
    _, fx_peak, fx_days = _campaign(w, "pivot_early")
    holds = week > 2 * month and peak > fx_peak
    detail = (
        f"in its first week the accident lifts the long end by {week:.1f} bp, the bill-tilted campaign by "
        f"{month:.1f} bp in its first month; peaks {peak:.1f} bp ({days:.0f} days after the shock) against "
        f"{fx_peak:.1f} bp ({fx_days:.0f} days after the first operation)"
    )
    return Verdict(
        2,
        "Fig. 1: speed and magnitude",
        holds,
        detail,
        figure="fig1_channels",
        figures={
            "accident_week_bp": week,
            "campaign_month_bp": month,
            "accident_peak_bp": peak,
            "accident_days": days,
            "fx_peak_bp": fx_peak,
            "fx_days": fx_days,
        },
    )


def _give_back(w: World, run: str) -> float:
    """Yen the long end gives back (dollar channel) per yen the operations bought, at their peaks."""
    f = w.frame(run)
    bought = float(f["intervention_effect"].max())
    back = float((w.constant("yen_per_dollar_pct") * f["dollar"]).max())
    return back / bought if bought > 1e-9 else math.inf


def claim_3(ev: Evidence, w: World) -> Verdict:
    """The loop is cut at the tenor: bill execution leaves the long-end loop dominated by the balancing one."""
    bills, coupons = _give_back(w, "bills_only"), _give_back(w, "long_end")
    holds = bills < 0.05 and coupons > 3 * bills
    detail = (
        f"yen given back through long-end yields and the dollar per yen bought: {bills:.3f} when bills are "
        f"sold (the balancing loop dominates), {coupons:.3f} when notes and bonds are "
        f"({coupons / max(bills, 1e-12):.0f}x)"
    )
    return Verdict(
        3,
        "The loop is cut at the tenor",
        holds,
        detail,
        figure="cld",
        figures={"give_back_bills": bills, "give_back_coupons": coupons},
    )


def claim_4(ev: Evidence, w: World) -> Verdict:
    """Which segment, not how much: the tenor mix moves the long end more than the amount sold."""
    peak = {}
    for mix in ("bills", "long"):
        for size in SIZES:
            for budget in BUDGETS:
                peak[mix, size, budget] = _campaign(w, f"size[{mix},{size},{budget}]")[1]
    bills_worst = max(peak["bills", s, b] for s in SIZES for b in BUDGETS)
    long_least = min(peak["long", s, b] for s in SIZES for b in BUDGETS)
    holds = bills_worst < long_least
    detail = (
        f"across operation sizes JPY {SIZES[0]}-{SIZES[1]}tn and budgets JPY {BUDGETS[0]:.0f}-{BUDGETS[1]:.0f}tn, the "
        f"largest bill-tilted campaign lifts the long end by {bills_worst:.1f} bp, the smallest one in notes and "
        f"bonds by {long_least:.1f} bp"
    )
    return Verdict(
        4,
        "Which segment, not how much",
        holds,
        detail,
        figure="segment",
        figures={"largest_bills_bp": bills_worst, "smallest_coupons_bp": long_least},
    )


def claim_5(ev: Evidence, w: World) -> Verdict:
    """Bounded tool: operations stop when the firepower runs out, and the market sees it within a month."""
    budget = w.constant("firepower_initial")
    runs = ["base", "pivot_pushed_out", *(f"race[{i}]" for i in range(len(RACE_PIVOTS)))]
    spent = max(float(w.frame(r)["firepower"][0] - w.frame(r)["firepower"][-1]) for r in runs)
    exhausted = [r for r in runs if np.isfinite(exhaustion_day(w, r))]
    lags, after = [], 0.0
    for r in exhausted:
        f, out = w.frame(r), exhaustion_day(w, r)
        lags.append(_first(w.time, f["market_firepower"] < 1e-3) - out)
        later = w.time > out + 1
        if later.any():
            after = max(after, float(f["intervention_rate"][later].max()))
    first = min((exhaustion_day(w, r) for r in exhausted), default=math.inf)
    holds = bool(exhausted and spent <= budget + 1e-6 and after < 0.01 and max(lags) <= 31.5)
    detail = (
        f"at most JPY {spent:.1f}tn spent of {budget:.1f}tn in any run; the budget runs out in {len(exhausted)} of "
        f"{len(runs)} runs (first on {when(w, first)}), the largest operation after it JPY {after:.3f}tn a day; "
        f"the monthly release shows it within {max(lags, default=math.inf):.0f} days"
    )
    return Verdict(5, "Bounded tool", holds, detail, figure="fans", figures={"spent_tn": spent, "exhausted_day": first})


def claim_6(ev: Evidence, w: World) -> Verdict:
    """Fig. 2: carry on demand unwinds all at once; termed out, on schedule."""
    start = w.setting("on_demand_run", "conviction_break_time")
    d, t = w.frame("on_demand_run"), w.frame("termed_out_run")
    peak_d, peak_t = float(_rate(w.time, d["unwound"]).max()), float(_rate(w.time, t["unwound"]).max())
    spread_d = _transition(w.time, d["unwound"], start, True)
    spread_t = _transition(w.time, t["unwound"], start, True)
    holds = peak_d > 5 * peak_t and spread_d * 5 < spread_t
    detail = (
        f"peak unwind JPY {peak_d:.1f}tn/day on demand vs {peak_t:.2f}tn/day termed out; 10%-90% of the "
        f"unwind in {spread_d:.1f} days vs {spread_t:.0f} days"
    )
    return Verdict(
        6,
        "Fig. 2: demand vs term",
        holds,
        detail,
        figure="fig2_unwind",
        figures={"peak_ratio": peak_d / max(peak_t, 1e-12), "days_on_demand": spread_d, "days_termed": spread_t},
    )


def claim_7(ev: Evidence, w: World) -> Verdict:
    """Termed out, not retired: the same total leaves, at a different peak rate."""
    d, t = w.frame("on_demand_run"), w.frame("termed_out_run")
    total_d, total_t = float(d["unwound"][-1]), float(t["unwound"][-1])
    book = w.constant("carry_initial")
    ratio = float(_rate(w.time, d["unwound"]).max() / max(_rate(w.time, t["unwound"]).max(), 1e-12))
    holds = abs(total_d - total_t) <= 0.02 * book and ratio > 2
    detail = (
        f"by the end JPY {total_d:.1f}tn unwound on demand vs {total_t:.1f}tn termed out (book JPY {book:.0f}tn); "
        f"peak rates {ratio:.0f}x apart"
    )
    return Verdict(
        7,
        "Termed out, not retired",
        holds,
        detail,
        figure="fig2_unwind",
        figures={"total_on_demand_tn": total_d, "total_termed_tn": total_t},
    )


def claim_8(ev: Evidence, w: World) -> Verdict:
    """Fig. 3: the liability state is built over quarters and lost within sessions."""
    base = w.frame("pivot_early")
    rise = _transition(w.time, base["termed_out_share"], 0.0, True)
    lost = w.frame("illegible_and_pushed_out")
    broken = collapse_day(w, "illegible_and_pushed_out")
    fall = _transition(w.time, lost["termed_out_share"], broken - 0.5, False) if np.isfinite(broken) else math.inf
    holds = rise >= 90 and fall <= 5 and rise >= 10 * fall
    detail = (
        f"the termed-out share of the carry book rises (10%-90%) over {rise:.0f} days of legible meetings and "
        f"falls (90%-10%) in {fall:.1f} days once the schedule breaks"
    )
    return Verdict(
        8,
        "Fig. 3: the legibility cliff",
        holds,
        detail,
        figure="fig3_cliff",
        figures={"rise_days": rise, "fall_days": fall},
    )


def claim_9(ev: Evidence, w: World) -> Verdict:
    """The trigger is a conjunction: an illegible meeting and a pushed-out pivot, the meeting before the pivot."""
    cases = {
        "neither": "base",
        "illegible meeting only": "illegible_meeting",
        "pivot pushed out only": "pivot_pushed_out",
        "both": "illegible_and_pushed_out",
    }
    meeting = w.setting("illegible_meeting", "illegible_meeting_time")
    outcome = {label: bool(meeting <= collapse_day(w, run) <= meeting + WINDOW) for label, run in cases.items()}
    before = meeting < w.setting("illegible_meeting", "pivot_time")
    holds = before and outcome == {
        "neither": False,
        "illegible meeting only": False,
        "pivot pushed out only": False,
        "both": True,
    }
    detail = f"collapse within {WINDOW:.0f} days of the meeting ({when(w, meeting)}, before the pivot): " + "; ".join(
        f"{label}: {'yes' if c else 'no'}" for label, c in outcome.items()
    )
    return Verdict(9, "The trigger is a conjunction", holds, detail, figure="indicator")


def claim_10(ev: Evidence, w: World) -> Verdict:
    """The race: a pivot before the firepower is seen to run out holds the defence; a later one does not."""
    collapsed = np.array(
        [
            np.isfinite(collapse_day(w, f"race[{i}]")) and collapse_day(w, f"race[{i}]") < p
            for i, p in enumerate(RACE_PIVOTS)
        ]
    )
    out = exhaustion_day(w, "pivot_pushed_out")
    switch = int(np.argmax(collapsed)) if collapsed.any() else len(collapsed)
    monotone = bool(collapsed.any() and not collapsed[0] and collapsed[switch:].all() and not collapsed[:switch].any())
    last_safe = float(RACE_PIVOTS[switch - 1]) if switch > 0 else -math.inf
    first_lost = float(RACE_PIVOTS[switch]) if switch < len(RACE_PIVOTS) else math.inf
    holds = monotone and first_lost > out
    detail = (
        f"the firepower runs out on {when(w, out)}; pivots up to {when(w, last_safe)} hold the defence, from "
        f"{when(w, first_lost)} on the schedule breaks before the pivot and the carry book runs"
    )
    return Verdict(
        10,
        "The race",
        holds,
        detail,
        figure="race",
        figures={"exhaustion_day": out, "last_safe_pivot_day": last_safe, "first_lost_pivot_day": first_lost},
    )


def claim_11(ev: Evidence, w: World) -> Verdict:
    """Pricing the ceiling: the credibility lent falls once the market can see the firepower shrink."""
    seen, unseen = w.frame("pivot_pushed_out"), w.frame("pushed_out_unseen")
    out = exhaustion_day(w, "pivot_pushed_out")
    day = min(out + 45, w.time[-1]) if np.isfinite(out) else w.time[-1]
    i = int(np.searchsorted(w.time, day))
    gap = float(unseen["credibility"][i] - seen["credibility"][i])
    holds = gap > 0.1
    detail = (
        f"45 days after the firepower runs out ({when(w, day)}) credibility is {seen['credibility'][i]:.2f} when the "
        f"monthly release shows it, {unseen['credibility'][i]:.2f} when the market cannot see it"
    )
    return Verdict(11, "Pricing the ceiling", holds, detail, figure="fans", figures={"credibility_gap": gap})


def claim_12(ev: Evidence, w: World) -> Verdict:
    """The consensus collapses both: a fitted one-channel model misstates each; intervention alone cannot ignite."""
    acc_peak, _, _, _ = _accident(w)
    _, fx_peak, _ = _campaign(w, "pivot_early")
    week, month = _early_rise(w)
    # one channel: one size and one speed for both failure modes, least squares in logs (geometric means)
    one_size = math.sqrt(max(acc_peak, 1e-9) * max(fx_peak, 1e-9))
    size_error = min(acc_peak / one_size, one_size / max(fx_peak, 1e-9))
    acc_speed, fx_speed = max(week, 1e-9) / 7, max(month, 1e-9) / 30
    one_speed = math.sqrt(acc_speed * fx_speed)
    speed_error = min(acc_speed / one_speed, one_speed / fx_speed)
    holds = size_error > 1.5 and speed_error > 1.5 and fx_peak < acc_peak / 2
    detail = (
        f"one channel fitted to both ({one_size:.1f} bp, {one_speed:.2f} bp a day) is {size_error:.1f}x off in size "
        f"and {speed_error:.1f}x in speed for each; spending the whole budget in the bill-tilted mix lifts the "
        f"long end by {fx_peak:.1f} bp against {acc_peak:.1f} bp for one accident"
    )
    return Verdict(
        12,
        "The consensus collapses both",
        holds,
        detail,
        figure="fig1_channels",
        figures={
            "one_channel_bp": one_size,
            "one_channel_bp_per_day": one_speed,
            "fx_peak_bp": fx_peak,
            "accident_peak_bp": acc_peak,
        },
    )


CLAIMS: list[Callable[[Evidence, World], Verdict]] = [
    claim_1,
    claim_2,
    claim_3,
    claim_4,
    claim_5,
    claim_6,
    claim_7,
    claim_8,
    claim_9,
    claim_10,
    claim_11,
    claim_12,
]

# A perturbation (parameter, value) that must flip each claim, and one that must not.
FLIPS: dict[int, tuple[str, float]] = {
    1: ("basis_per_jpy_tn", 0.0),
    2: ("run_time", 20.0),
    3: (element_name("passthrough", ("bills",)), 0.5),
    4: (element_name("holdings", ("bills",)), 30.0),
    5: ("firepower_initial", 200.0),
    6: ("term_maturity", 2.0),
    7: ("term_maturity", 1000.0),
    8: ("revert_time_fast", 60.0),
    9: ("illegible_hit", 0.8),
    10: ("credibility_doubt_time", 2000.0),
    11: ("disclosure_interval", 1000.0),
    12: ("bill_preference", 0.0),
}
HOLDS: dict[int, tuple[str, float]] = {
    1: ("firepower_initial", 35.0),
    2: ("jgb_shock_bp", 150.0),
    3: ("dollar_per_bp", 0.04),
    4: ("yen_per_dollar_pct", 2.0),
    5: ("operation_size", 5.92),
    6: ("carry_initial", 30.0),
    7: ("run_time", 1.0),
    8: ("credibility_build_time", 90.0),
    9: ("credibility_yen", 8.0),
    10: ("drift_before_pivot", 0.1),
    11: ("disclosure_interval", 15.0),
    12: ("carry_yen_per_tn", 1.0),
}


def judge(ev: Evidence, world: World) -> list[Verdict]:
    return [claim(ev, world) for claim in CLAIMS]


def evaluate(evidence: Evidence | None = None) -> list[Verdict]:
    """Every claim's verdict on the calibrated model, in order."""
    evidence = evidence or Evidence()
    return judge(evidence, evidence.world)


# --- uncertainty ---------------------------------------------------------------------------------


def ranges(ev: Evidence) -> dict[str, tuple[float, float]]:
    """Each uncertain constant's range, by scalar name: fitted constants over their fitted interval."""
    out: dict[str, tuple[float, float]] = {}
    for name, spec in ev.raw_model.spec.constants.items():
        if spec.range is None:
            continue
        if isinstance(spec.range, dict):
            for element, r in spec.range.items():
                out[element_name(name, tuple(str(element).split(",")))] = (float(r[0]), float(r[1]))
        else:
            out[name] = (float(spec.range[0]), float(spec.range[1]))
    if ev.calibration is not None:
        for fit in ev.calibration["fits"].values():
            for name, f in fit.fitted.items():
                if name in out:
                    out[name] = (f.low, f.high)
    return out


def draws(ev: Evidence, n: int = SAMPLES, seed: int = SEED) -> list[dict[str, float]]:
    """``n`` Latin-hypercube draws, uniform over every declared range."""
    from scipy.stats import qmc

    bounds = ranges(ev)
    names = sorted(bounds)
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
    lo = np.array([bounds[k][0] for k in names])
    hi = np.array([bounds[k][1] for k in names])
    values = lo + unit * (hi - lo)
    return [dict(zip(names, map(float, row), strict=True)) for row in values]


@dataclass
class Assessment:
    """The calibrated verdicts, each claim's probability over the ranges, and its perturbation checks."""

    verdicts: list[Verdict]
    probability: dict[int, float]
    flips: dict[int, dict[str, Any]]
    holds: dict[int, dict[str, Any]]
    samples: list[dict[str, float]]
    sample_worlds: list[World]
    central: World
    failures: dict[int, int] = field(default_factory=dict)


def _perturbed(ev: Evidence, name: str, value: float) -> dict[str, float]:
    return {name: value}


def assess(ev: Evidence, samples: int = SAMPLES, seed: int = SEED) -> Assessment:
    """Verdicts on the calibrated model, Monte Carlo probabilities and perturbation checks, in one pass."""
    mc = draws(ev, samples, seed) if samples else []
    perturb = [_perturbed(ev, *FLIPS[n]) for n in range(1, 13)] + [_perturbed(ev, *HOLDS[n]) for n in range(1, 13)]
    worlds = simulate_worlds(ev.model, [{}, *perturb, *mc])
    central, flipped, kept, sampled = worlds[0], worlds[1:13], worlds[13:25], worlds[25:]
    ev.use_world(central)
    verdicts = judge(ev, central)
    flips, holds = {}, {}
    for i, claim in enumerate(CLAIMS):
        n = i + 1
        v_flip, v_hold = claim(ev, flipped[i]), claim(ev, kept[i])
        flips[n] = {
            "parameter": FLIPS[n][0],
            "value": FLIPS[n][1],
            "flips": v_flip.holds != verdicts[i].holds,
            "detail": v_flip.detail,
        }
        holds[n] = {
            "parameter": HOLDS[n][0],
            "value": HOLDS[n][1],
            "holds": v_hold.holds == verdicts[i].holds,
            "detail": v_hold.detail,
        }
    probability, failures = {}, {}
    for i, claim in enumerate(CLAIMS):
        results = []
        for world in sampled:
            try:
                results.append(bool(claim(ev, world).holds))
            except (ValueError, IndexError, ZeroDivisionError):
                results.append(False)
        failures[i + 1] = len(results) - sum(results)
        probability[i + 1] = float(np.mean(results)) if results else math.nan
    return Assessment(verdicts, probability, flips, holds, mc, sampled, central, failures)


def report_outputs(ev: Evidence) -> ReportOutputs:
    """Everything ``tenor run`` adds for this example: verdicts, the claims contract, replay, calibration, extras."""
    import figures

    found = assess(ev)
    replayed = history.replay(ev.model)
    calibration: dict[str, Any] = {}
    for fit in (ev.calibration or {"fits": {}})["fits"].values():
        entries = fit.to_dict()
        nuisance = {k: v for k, v in entries.items() if k == "usdjpy_start"}
        for name, entry in entries.items():
            if name in nuisance:
                continue
            if nuisance:
                entry["also_fitted"] = {
                    k: {
                        "value": v["value"],
                        "low": v["low"],
                        "high": v["high"],
                        "note": "USDJPY level of 14 Aug 2025, fitted with the drift",
                    }
                    for k, v in nuisance.items()
                }
            calibration[name] = entry
    claims = []
    for v in found.verdicts:
        n = v.number
        claims.append(
            {
                "id": n,
                "title": v.title,
                "holds": v.holds,
                "probability": found.probability[n],
                "flips_when": found.flips[n],
                "holds_when": found.holds[n],
                "detail": v.detail,
                "figures": v.figures,
            }
        )
    extra = figures.extras(ev, found, replayed, calibration)
    return ReportOutputs(found.verdicts, claims, replayed, calibration, **extra)


class DurationTrade(ClaimsProgram):
    """The note's twelve claims as the claims program ``tenor run`` calls (:data:`PROGRAM`)."""

    def evidence(self, folder: Path) -> Evidence:
        return Evidence(folder)

    def evaluate(self, evidence: Evidence) -> list[Verdict]:
        return evaluate(evidence)

    def report_outputs(self, evidence: Evidence) -> ReportOutputs:
        return report_outputs(evidence)


PROGRAM = DurationTrade()


if __name__ == "__main__":
    found = assess(Evidence(), samples=0)
    for verdict in found.verdicts:
        mark = "holds" if verdict.holds else "FAILS"
        n = verdict.number
        print(f"{n:>2}. {mark:<6} {verdict.title}: {verdict.detail}")
        print(
            f"    flips when {found.flips[n]['parameter']}={found.flips[n]['value']}: {found.flips[n]['flips']}; "
            f"holds when {found.holds[n]['parameter']}={found.holds[n]['value']}: {found.holds[n]['holds']}"
        )
