"""The episodes of ``data/`` replayed by the model, and the constants they inform fitted to them.

Each episode is a short run of the same model (``stocks.yaml``) set up as the
episode began: USDJPY where it stood, the operations of the day placed on the
days they happened (the ``replay_*`` slots), the desk and the rate checks
switched off unless the episode is a rate check. All episodes of one fit run
in one engine pass, every candidate parameter set as further scenarios.

Three groups of constants are fitted, each to the episodes that inform it, all with
the toolkit's calibration (:func:`stocks_flows.calibrate.calibrate`); the operation
days are four experiments fitted at once, one parameter set for all:

- ``drift_before_pivot`` (with the starting level): USDJPY from August 2025 to
  January 2026, with no operation (``data/usdjpy_levels.csv``);
- ``yen_per_jpy_tn`` and ``effect_decay_time``: the USDJPY moves of the 2022
  and 2024 operation days, and the level two days after 29 April 2024
  (``data/interventions.csv``), each episode an ``Experiment`` under its own
  scenario (:func:`episode_levels` turns its moves into levels);
- ``run_time`` and ``carry_yen_per_tn``: USDJPY and the share unwound in the
  first days of August 2024 (``data/carry_unwind_2024.csv``).

A move reported as "more than N yen" is a one-sided bound on the level (it counts
only when the model moves less); a share reported as a range counts only outside
it. Each interval is the toolkit's 95% profile-likelihood interval (the other
constants of the group re-optimised along the profile), the residual variance
estimated from the point observations.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

__all__ = ["EPISODES", "Episode", "FitResult", "calibrate_all", "read_csv", "replay"]

OFF = 1e5  # a day that never comes within a run


def read_csv(name: str) -> Any:
    """One file of ``data/`` as a DataFrame (empty cells are NaN)."""
    import pandas as pd

    return pd.read_csv(DATA / name)


@dataclass(frozen=True)
class Observation:
    """A number the model should reproduce: variable at a day of the episode (or its change)."""

    key: str
    variable: str
    day: float
    value: float | None = None
    low: float | None = None
    high: float | None = None
    change_from: float | None = None  # day the change is measured from


@dataclass(frozen=True)
class Episode:
    """One dated episode: how to set the model up, what was observed, where it comes from."""

    name: str
    date: str
    source: str
    settings: dict[str, float]
    observations: tuple[Observation, ...]
    stop: float = 4.0
    dt: float | None = None
    informs: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _days(a: str, b: str) -> float:
    return float((datetime.date.fromisoformat(b) - datetime.date.fromisoformat(a)).days)


# settings shared by every replay: no desk, no rate checks, no credibility offset, no pivot
_QUIET = {
    "intervention_line": 1000.0,
    "warning_line": 1000.0,
    "credibility_yen": 0.0,
    "pivot_time": OFF,
    "pivot_expected_start": OFF,
    "breach_threshold": -1.0,
    "carry_initial": 0.0,
}


def _operation_episodes() -> list[Episode]:
    ops = read_csv("interventions.csv")
    ops = ops[ops["kind"] == "operation"]
    episodes = []
    for label, days in ops.groupby("episode", sort=True):
        days = days.sort_values("date")
        first = days.iloc[0]
        start = str(first["date"])
        settings = dict(_QUIET)
        for slot, (_, row) in enumerate(days.head(2).iterrows(), start=1):
            settings[f"replay_day_{slot}"] = _days(start, str(row["date"]))
            settings[f"replay_size_{slot}"] = float(row["amount_jpy_tn"])
        observations = []
        for _, row in days.iterrows():
            if np.isnan(row["usdjpy_change"]):
                continue
            d0 = _days(start, str(row["date"]))
            # a move covering two days (2024-07-11/12) is measured to the end of the second operation
            end = d0 + 0.25 if label != "2024-07" else d0 + 1.25
            change = float(row["usdjpy_change"])
            bound = {"high": change} if row["move_precision"] == "at_least" else {"value": change}
            observations.append(
                Observation(f"usdjpy_change_{row['date']}", "usdjpy", end, change_from=d0 - 0.001, **bound)
            )
            if d0 > 0 and not np.isnan(row["usdjpy_before"]):
                observations.append(
                    Observation(f"usdjpy_before_{row['date']}", "usdjpy", d0 - 0.001, value=float(row["usdjpy_before"]))
                )
        settings["usdjpy_start"] = float(first["usdjpy_before"]) if not np.isnan(first["usdjpy_before"]) else 150.0
        total = float(days["amount_jpy_tn"].sum())
        observations.append(Observation("intervention_jpy_tn", "spent", 4.0, value=total))
        episodes.append(
            Episode(
                f"intervention {label}",
                start,
                "; ".join(sorted(set(days["source_section"]))) + ": " + "; ".join(sorted(set(days["source"]))),
                settings,
                tuple(observations),
                informs=("yen_per_jpy_tn", "effect_decay_time"),
                note="; ".join(str(n) for n in days["note"] if isinstance(n, str)),
            )
        )
    return episodes


def _rate_check_episode() -> Episode:
    row = read_csv("interventions.csv").query("kind == 'rate_check'").iloc[0]
    settings = {
        **_QUIET,
        "usdjpy_start": float(row["usdjpy_before"]),
        "warning_line": float(row["usdjpy_before"]) - 0.2,
    }
    return Episode(
        "rate checks 2026-01",
        str(row["date"]),
        f"{row['source_section']}: {row['source']}",
        settings,
        (
            Observation("usdjpy_change", "usdjpy", 0.5, value=float(row["usdjpy_change"]), change_from=0.0),
            Observation("intervention_jpy_tn", "spent", 0.5, value=0.0),
        ),
        stop=1.0,
        note=str(row["note"]),
    )


def _unwind_episode() -> Episode:
    data = read_csv("carry_unwind_2024.csv")
    usdjpy = data[data["series"] == "usdjpy"].set_index("date")["value"]
    share = data[data["series"] == "share_unwound"].set_index("date")
    start = "2024-08-02"
    observations = [
        Observation(
            "usdjpy_change",
            "usdjpy",
            _days(start, "2024-08-05"),
            value=float(usdjpy["2024-08-05"] - usdjpy[start]),
            change_from=0.0,
        ),
    ]
    for date, row in share.iterrows():
        if np.isnan(row["value"]):
            observations.append(
                Observation(
                    f"share_unwound_{date}",
                    "unwound_share",
                    _days(start, date),
                    low=float(row["low"]),
                    high=float(row["high"]),
                )
            )
        else:
            observations.append(
                Observation(f"share_unwound_{date}", "unwound_share", _days(start, date), value=float(row["value"]))
            )
    settings = {
        **_QUIET,
        "usdjpy_start": float(usdjpy[start]),
        "conviction_break_time": 0.0,
        "carry_initial": float(data.query("series == 'carry_book_size'")["value"].iloc[0]),
        "term_out_time": 1e9,
        "revert_time_slow": 1e9,
    }
    return Episode(
        "carry unwind 2024-08",
        start,
        "sources.md §7 (BIS Bulletin 90 and 95; JPM; Morgan Stanley; EFE): data/carry_unwind_2024.csv",
        settings,
        tuple(observations),
        stop=8.0,
        informs=("run_time", "carry_yen_per_tn"),
        note="day 0 is Friday 2 Aug 2024 (US jobs report), two days after the BOJ hike; the share unwound is "
        "counted from that day, while positions had been cut since July (an approximation); VIX not modelled",
    )


def _drift_episode() -> Episode:
    levels = read_csv("usdjpy_levels.csv").dropna(subset=["usdjpy"])
    levels = levels[levels["date"] <= "2026-01-12"]
    start = str(levels["date"].iloc[0])
    observations = tuple(
        Observation(f"usdjpy_{row['date']}", "usdjpy", _days(start, str(row["date"])), value=float(row["usdjpy"]))
        for _, row in levels.iterrows()
    )
    return Episode(
        "yen drift 2025-08 to 2026-01",
        start,
        "sources.md §4, §10: data/usdjpy_levels.csv",
        {**_QUIET, "usdjpy_start": float(levels["usdjpy"].iloc[0])},
        observations,
        stop=float(observations[-1].day) + 1,
        dt=1.0,
        informs=("drift_before_pivot", "usdjpy_start"),
        note="no operation in 2025 (sources.md §1); the Aug 14 level is after Bessent's remark",
    )


def _jgb_episodes() -> list[Episode]:
    stress = read_csv("jgb_stress.csv")
    auctions = read_csv("jgb_auctions.csv")
    episodes = []
    cases = [
        (
            "JGB 20y auction 2025-05-20",
            "2025-05-20",
            13.0,
            1.0,
            "sources.md §9: Reuters via Arab News Japan (30y +13bp to 3.10% after the auction)",
        ),
        (
            "JGB selloff 2026-01-20",
            "2026-01-20",
            float(stress.query("series == 'jgb30y_change_bp'")["value"].iloc[0]),
            1.0,
            "sources.md §9: CNBC via prchief (30y +25bp that day)",
        ),
        (
            "JGB 30y record, week of 2026-01-19",
            "2026-01-19",
            42.0,
            2.0,
            "sources.md §9: Wolf Street (30y +42bp in two days to 3.91%)",
        ),
    ]
    for name, date, bp, days, source in cases:
        became = (
            bool(auctions.query("date == @date")["became_accident"].any()) if date in set(auctions["date"]) else False
        )
        episodes.append(
            Episode(
                name,
                date,
                source,
                {**_QUIET, "jgb_shock_time": 0.0, "jgb_shock_bp": bp, "jgb_shock_days": days},
                (Observation("accident", "accident", 4.0, value=float(became)),),
                stop=4.0,
                note="did not become an accident",
            )
        )
    return episodes


def episodes() -> list[Episode]:
    """Every episode of ``data/``, in date order."""
    found = [*_operation_episodes(), _rate_check_episode(), _unwind_episode(), _drift_episode(), *_jgb_episodes()]
    return sorted(found, key=lambda e: e.date)


EPISODES = episodes


# --- running episodes --------------------------------------------------------------------------


def _short(model: Any, stop: float, dt: float | None) -> Any:
    time = replace(model.time, stop=stop, dt=dt or model.time.dt, save_step=dt or model.time.dt)
    return replace(model, time=time)


def _measure(episode: Episode, time: np.ndarray, runs: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Simulated value of each observation, one per run (one run per parameter set)."""
    t = time
    out: dict[str, np.ndarray] = {}
    for ob in episode.observations:
        if ob.variable == "spent":
            fp = np.array([r["firepower"] for r in runs])
            out[ob.key] = fp[:, 0] - fp[:, int(np.searchsorted(t, ob.day - 1e-9))]
            continue
        if ob.variable == "accident":
            ai = np.array([r["accident_intensity"] for r in runs])
            out[ob.key] = (ai.max(axis=1) > 0.5).astype(float)
            continue
        series = np.array([r[ob.variable] for r in runs])
        value = np.array([np.interp(ob.day, t, s) for s in series])
        if ob.change_from is not None:
            value = value - np.array([np.interp(max(ob.change_from, 0.0), t, s) for s in series])
        out[ob.key] = value
    return out


_OUTPUTS = ["usdjpy", "firepower", "accident_intensity", "unwound_share"]


def simulate_episodes(
    model: Any, eps: Sequence[Episode], parameters: dict[str, np.ndarray] | None = None
) -> list[dict[str, np.ndarray]]:
    """Each episode under each parameter set (``parameters``: name -> values, one per set).

    Episodes of one length run as the named scenarios of one sweep of the toolkit
    (:func:`stocks_flows.batch.run_sweep`), a parameter set being a point whose
    values win over the episode's settings.
    """
    from stocks_flows.batch import run_sweep

    parameters = parameters or {}
    n = len(next(iter(parameters.values()))) if parameters else 1
    points = [{k: float(np.asarray(v, dtype=float)[j]) for k, v in parameters.items()} for j in range(n)]
    groups: dict[tuple[float, float | None], list[int]] = {}
    for i, ep in enumerate(eps):
        groups.setdefault((ep.stop, ep.dt), []).append(i)
    results: list[dict[str, np.ndarray]] = [{} for _ in eps]
    for (stop, dt), members in groups.items():
        scenarios = {eps[i].name: eps[i].settings for i in members}
        batches = run_sweep(_short(model, stop, dt), scenarios, points, outputs=_OUTPUTS, prefer="point")
        for i in members:
            results[i] = _measure(eps[i], batches[0].time, [batch[eps[i].name] for batch in batches])
    return results


def replay(model: Any, eps: Sequence[Episode] | None = None) -> list[dict[str, Any]]:
    """Each episode simulated against what was observed (the ``replay.json`` of the report)."""
    eps = list(eps) if eps is not None else episodes()
    sims = simulate_episodes(model, eps)
    out = []
    for ep, sim in zip(eps, sims, strict=True):
        observed, simulated, bounds, ranges = {}, {}, {}, {}
        for ob in ep.observations:
            got = round(float(sim[ob.key][0]), 4)
            if ob.low is not None and ob.high is not None:
                # a range has no single observed number: it is reported apart, never invented
                ranges[ob.key] = {"low": ob.low, "high": ob.high, "simulated": got}
                continue
            value = ob.value if ob.value is not None else ob.high
            if ob.value is None and ob.high is not None:
                bounds[ob.key] = ["at most", ob.high]
            observed[ob.key] = value
            simulated[ob.key] = got
        out.append(
            {
                "name": ep.name,
                "date": ep.date,
                "observed": observed,
                "simulated": simulated,
                "bounds": bounds,
                "ranges": ranges,
                "source": ep.source,
                "informs": list(ep.informs),
                "note": ep.note,
            }
        )
    return out


# --- fitting ------------------------------------------------------------------------------------


@dataclass
class Fitted:
    value: float
    low: float
    high: float


@dataclass
class FitResult:
    """Fitted constants with intervals, the objective, and the data each was fitted to."""

    fitted: dict[str, Fitted]
    objective: float
    evaluations: int
    data: dict[str, list[dict[str, Any]]]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            name: {
                "value": f.value,
                "low": f.low,
                "high": f.high,
                "objective": self.objective,
                "evaluations": self.evaluations,
                "method": self.method,
                "data": self.data[name],
            }
            for name, f in self.fitted.items()
        }


def episode_levels(episode: Episode) -> tuple[Any, list[Observation]]:
    """The episode's USDJPY observations as a data table of levels, with the observations it used.

    A move is turned into a level from where it started: the starting level of the episode for a
    move from day 0, else the level observed just before that day's operation. A move "of at least
    N yen" down becomes ``usdjpy:high`` (the level was at most there), the toolkit's one-sided bound;
    other observations become ``usdjpy`` points. The amounts spent are not fitted (they are set).
    """
    import pandas as pd

    before = {ob.day: ob.value for ob in episode.observations if ob.key.startswith("usdjpy_before")}
    rows: dict[float, dict[str, float]] = {}
    used = []
    for ob in episode.observations:
        if ob.variable != "usdjpy":
            continue
        shift = 0.0
        if ob.change_from is not None:
            anchor = episode.settings["usdjpy_start"] if ob.change_from <= 0 else before.get(ob.change_from)
            if anchor is None:
                continue
            shift = float(anchor)
        for column, number in (("usdjpy", ob.value), ("usdjpy:high", ob.high), ("usdjpy:low", ob.low)):
            if number is not None:
                rows.setdefault(float(ob.day), {})[column] = shift + float(number)
        used.append(ob)
    frame = pd.DataFrame([{"time": t, **v} for t, v in sorted(rows.items())])
    return frame, used


def fit(
    model: Any,
    eps: Sequence[Episode],
    bounds: dict[str, tuple[float, float]],
    *,
    seed: int = 0,
    max_evaluations: int | None = 6000,
) -> FitResult:
    """Fit ``bounds`` to several episodes at once with the toolkit's multi-experiment calibration.

    Each episode is an :class:`~stocks_flows.calibrate.Experiment`: its settings a scenario of a short
    copy of the model, its observations the table of :func:`episode_levels` (in yen, weight 1). All
    episodes of every candidate run in one engine batch.
    """
    from stocks_flows.calibrate import Experiment, calibrate
    from stocks_flows.model import Scenario

    grids = {(ep.stop, ep.dt) for ep in eps}
    if len(grids) != 1:
        raise ValueError(f"the episodes fitted together must share stop and dt, got {sorted(grids, key=str)}")
    stop, dt = grids.pop()
    short = _short(model, stop, dt)
    scenarios, experiments, used = {}, [], {}
    for ep in eps:
        constants = {k: v for k, v in ep.settings.items() if short.variables[k].kind == "constant"}
        initial = {k: v for k, v in ep.settings.items() if short.variables[k].kind == "stock"}
        scenarios[ep.name] = Scenario(ep.name, constants=constants, initial=initial)
        frame, used[ep.name] = episode_levels(ep)
        experiments.append(Experiment(frame, ep.name, weights={"usdjpy": 1.0}))
    short = replace(short, scenarios={**short.scenarios, **scenarios})
    cal = calibrate(short, experiments, fit=bounds, seed=seed, max_evaluations=max_evaluations)
    fitted = {n: Fitted(f.value, f.low, f.high) for n, f in cal.fitted.items()}
    data = {
        name: [
            {
                "episode": ep.name,
                "date": ep.date,
                "source": ep.source,
                "observations": [{k: v for k, v in vars(ob).items() if v is not None} for ob in used[ep.name]],
                "levels": [
                    {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
                    for row in exp.data.to_dict("records")
                ],
                "weights": {"usdjpy": 1.0},
                "residual_sse": cal.experiments[ep.name]["objective"],
                "bounds": cal.experiments[ep.name]["bounds"],
            }
            for ep, exp in zip(eps, experiments, strict=True)
        ]
        for name in bounds
    }
    method = (
        f"stocks_flows.calibrate with {len(eps)} experiments at once (differential evolution, seed {seed}; "
        f"{cal.interval_method} 95% intervals); a move of 'at least' N yen is a one-sided bound on the level"
    )
    return FitResult(fitted, float(cal.objective), int(cal.evaluations), data, method)


def fit_series(
    model: Any,
    episode: Episode,
    bounds: dict[str, tuple[float, float]],
    weights: dict[str, float],
    *,
    seed: int = 0,
    max_evaluations: int = 400,
    ranges: bool = False,
) -> FitResult:
    """Fit one episode's observed series with the toolkit's :func:`stocks_flows.calibrate.calibrate`.

    The episode's settings become a scenario of a short copy of the model; its point observations
    become the data frame, one column per variable. With ``ranges``, an observation given as a
    range becomes the bounds ``VAR:low`` and ``VAR:high`` (penalised only outside the range).
    """
    import pandas as pd

    from stocks_flows.calibrate import Experiment, calibrate
    from stocks_flows.model import Scenario

    short = _short(model, episode.stop, episode.dt)
    short = replace(
        short, scenarios={**short.scenarios, "episode": Scenario("episode", constants=dict(episode.settings))}
    )
    rows: dict[float, dict[str, float]] = {}
    used = []
    for ob in episode.observations:
        if ranges and ob.value is None and ob.change_from is None and ob.variable in short.variables:
            for column, number in ((f"{ob.variable}:low", ob.low), (f"{ob.variable}:high", ob.high)):
                if number is not None:
                    rows.setdefault(float(ob.day), {})[column] = float(number)
            used.append(ob)
            continue
        if ob.value is None or ob.variable not in short.variables:
            continue
        level = ob.value
        if ob.change_from is not None:
            level = episode.settings["usdjpy_start"] + ob.value if ob.change_from == 0.0 else None
        if level is None:
            continue
        rows.setdefault(float(ob.day), {})[ob.variable] = float(level)
        used.append(ob)
    frame = pd.DataFrame([{"time": t, **v} for t, v in sorted(rows.items())])
    cal = calibrate(
        short,
        [Experiment(frame, "episode")] if ranges else frame,
        fit=bounds,
        scenario=None if ranges else "episode",
        weights=weights,
        method="de",
        seed=seed,
        max_evaluations=max_evaluations,
    )
    fitted = {n: Fitted(f.value, f.low, f.high) for n, f in cal.fitted.items()}
    data = {
        name: [
            {
                "episode": episode.name,
                "date": episode.date,
                "source": episode.source,
                "observations": [{k: v for k, v in vars(ob).items() if v is not None} for ob in used],
                "weights": weights,
            }
        ]
        for name in bounds
    }
    method = f"stocks_flows.calibrate (differential evolution, seed {seed}; {cal.interval_method} 95% intervals)"
    if ranges:
        method += "; a share given as a range is a pair of one-sided bounds"
    return FitResult(fitted, float(cal.objective), int(cal.evaluations), data, method)


GROUPS: dict[str, dict[str, tuple[float, float]]] = {
    "drift": {"drift_before_pivot": (0.0, 0.2), "usdjpy_start": (140.0, 155.0)},
    "impact": {"yen_per_jpy_tn": (0.3, 2.0), "effect_decay_time": (0.5, 60.0)},
    "unwind": {"run_time": (0.25, 10.0), "carry_yen_per_tn": (0.0, 1.5)},
}


def calibrate_all(model: Any, seed: int = 0) -> dict[str, Any]:
    """Fit each group of constants to its episodes; returns ``{"constants": {...}, "fits": {...}}``.

    ``usdjpy_start`` is fitted with the drift as the level of August 2025 only; it is not a constant of
    the forward run (which starts from the close of 29 May 2026).
    """
    eps = episodes()
    chosen = {
        "drift": [e for e in eps if "drift_before_pivot" in e.informs],
        "impact": [e for e in eps if "yen_per_jpy_tn" in e.informs],
        "unwind": [e for e in eps if "run_time" in e.informs],
    }
    fits: dict[str, FitResult] = {}
    constants: dict[str, float] = {}
    current = model
    for group in ("drift", "impact", "unwind"):
        if group == "drift":
            result = fit_series(current, chosen[group][0], GROUPS[group], {"usdjpy": 1.0}, seed=seed)
        elif group == "unwind":
            result = fit_series(
                current,
                chosen[group][0],
                GROUPS[group],
                {"usdjpy": 1.0, "unwound_share": 100.0},
                seed=seed,
                ranges=True,
            )
        else:
            result = fit(current, chosen[group], GROUPS[group], seed=seed)
        fits[group] = result
        for name, f in result.fitted.items():
            if name != "usdjpy_start":
                constants[name] = f.value
        from stocks_flows.model import Scenario

        current = model.with_scenario(Scenario("calibrated", constants=dict(constants)))
    return {"constants": constants, "fits": fits, "model": current}
