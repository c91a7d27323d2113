"""Loops That Matter: known answers (logistic growth), Bass diffusion, partitions, and pysimlin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stocks_flows.dominance import (
    dominant_loops,
    link_scores,
    loop_dominance,
    loop_partitions,
    relative_loop_scores,
)
from stocks_flows.engine import simulate
from stocks_flows.load import parse_model
from stocks_flows.loops import find_loops

R, K, P0 = 1.0, 100.0, 1.0


def logistic(dt: float = 0.125, method: str = "euler", stop: float = 10) -> str:
    return f"""
name: logistic
time: {{stop: {stop}, dt: {dt}, method: {method}}}
constants: {{r: {R}, K: {K}}}
stocks: {{P: {{initial: {P0}}}}}
flows: {{births: {{to: P, equation: r * P * room}}}}
auxiliaries: {{room: {{equation: 1 - P / K}}}}
"""


BASS = """
name: bass_diffusion
time: {stop: 15, dt: 0.0625}
constants:
  total_population: 1000000
  advertising_effectiveness: 0.011
  contact_rate: 100
  adoption_fraction: 0.015
stocks:
  potential_adopters: {initial: 1000000}
  adopters: {initial: 0}
flows:
  adoption_rate:
    from: potential_adopters
    to: adopters
    equation: adoption_from_advertising + adoption_from_word_of_mouth
auxiliaries:
  adoption_from_advertising: {equation: advertising_effectiveness * potential_adopters}
  adoption_from_word_of_mouth:
    equation: contact_rate * adoption_fraction * potential_adopters * adopters / total_population
"""


def test_logistic_relative_score_of_the_reinforcing_loop_is_one_minus_p_over_k():
    """Exact discrete relation: over the step from t-dt to t, R's relative score is 1 - P(t-dt)/K.

    The continuous-time statement (Schoenberg et al. 2020) is 1 - P/K. With the
    ceteris-paribus partial changes the discrete version holds exactly with P
    at the start of the step: LS(P->births) = room(t-dt) ΔP/Δbirths and
    LS(room->births) = P(t-dt)/K ΔP/Δbirths, in the ratio (1 - P/K) : P/K.
    """
    model = parse_model(logistic())
    result = loop_dominance(model)
    run = simulate(model)
    p = run.values[0, :, run.variables.index("P")]
    expected = 1 - p[:-1] / K
    np.testing.assert_allclose(result.relative["R1"][1:], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.relative["B1"][1:], -(p[:-1] / K), rtol=1e-9, atol=1e-12)
    assert result.relative["R1"][0] == 0.0


def test_logistic_dominance_passes_to_the_balancing_loop_at_half_capacity():
    dt = 1 / 32
    model = parse_model(logistic(dt=dt, method="rk4"))
    result = loop_dominance(model)
    assert [p["loops"] for p in result.periods] == [("R1",), ("B1",)]
    # a score at t describes the step from t - dt to t: the first step that the
    # balancing loop dominates starts within one step after the analytic time
    step_start = result.periods[1]["start"] - dt
    analytic = math.log(K / P0 - 1) / R  # P(t) = K / 2
    assert 0 <= step_start - analytic <= dt
    run = simulate(model)
    p = run.values[0, :, run.variables.index("P")]
    assert step_start == pytest.approx(run.time[np.argmax(p > K / 2)])


def test_bass_diffusion_loops_and_dominance():
    """The three loops of the Bass model (Schoenberg et al. 2020, §"Bass diffusion").

    Advertising saturation (B) dominates at the start, word of mouth (R) in
    the take-off, word-of-mouth saturation (B) at the end.
    """
    model = parse_model(BASS)
    report = find_loops(model)
    by_vars = {frozenset(lp.variables): lp for lp in report.loops}
    advertising = by_vars[frozenset({"potential_adopters", "adoption_from_advertising", "adoption_rate"})]
    wom_saturation = by_vars[frozenset({"potential_adopters", "adoption_from_word_of_mouth", "adoption_rate"})]
    wom = by_vars[frozenset({"adopters", "adoption_from_word_of_mouth", "adoption_rate"})]
    assert (advertising.polarity, wom_saturation.polarity, wom.polarity) == ("B", "B", "R")
    result = loop_dominance(model, report=report)
    assert len(result.partitions) == 1  # both stocks are linked by loops
    order = [p["loops"] for p in result.periods]
    assert order[0] == (wom.id,)  # word of mouth drives the take-off
    assert order[-1] == (wom_saturation.id,)  # its saturation ends it
    total = sum(np.abs(v) for v in result.relative.values())
    active = total > 0
    np.testing.assert_allclose(total[active], 1.0)


def test_partitions_normalise_separately():
    model = parse_model("""
time: {stop: 5, dt: 0.125}
constants: {a: 0.1, b: 0.3}
stocks: {x: {initial: 1}, y: {initial: 5}}
flows:
  gx: {to: x, equation: a * x}
  dy: {from: y, equation: b * y}
""")
    result = loop_dominance(model)
    assert sorted(result.partitions) == [("B1",), ("R1",)]
    np.testing.assert_allclose(result.relative["R1"][1:], 1.0)
    np.testing.assert_allclose(result.relative["B1"][1:], -1.0)
    assert result.periods[0]["loops"] == ("B1", "R1")


def test_flow_to_stock_score_is_change_of_flow_over_change_of_net_flow():
    model = parse_model("""
time: {stop: 2, dt: 0.25}
constants: {a: 0.5}
stocks: {s: {initial: 2}}
flows:
  inflow: {to: s, equation: a * s}
  outflow: {from: s, equation: 0.1 * s * s}
""")
    run = simulate(model)
    scores = link_scores(model, run)
    col = {n: run.values[0, :, run.variables.index(n)] for n in ("inflow", "outflow")}
    d_in, d_out = np.diff(col["inflow"]), np.diff(col["outflow"])
    d_net = d_in - d_out
    np.testing.assert_allclose(scores[("inflow", "s")][1:], np.abs(d_in / d_net))
    np.testing.assert_allclose(scores[("outflow", "s")][1:], -np.abs(d_out / d_net))


def test_dominant_loops_takes_the_fewest_loops_that_explain_half():
    time = np.array([0.0, 1.0, 2.0])
    relative = {
        "a": np.array([0.6, 0.3, 0.3]),
        "b": np.array([-0.4, -0.3, 0.0]),
        "c": np.array([0, 0.4, 0.7]),
    }
    periods = dominant_loops(time, relative, [("a", "b", "c")])
    assert [(p["start"], p["end"], p["loops"]) for p in periods] == [
        (0.0, 0.0, ("a",)),
        (1.0, 1.0, ("a", "c")),
        (2.0, 2.0, ("c",)),
    ]
    import networkx as nx

    graph = nx.DiGraph([("S", "f"), ("f", "S"), ("T", "g"), ("g", "T")])
    assert loop_partitions({"a": ["S", "f"], "b": ["T", "g"]}, graph) == [("a",), ("b",)]
    rel = relative_loop_scores({"a": np.array([2.0]), "b": np.array([-2.0])}, [("a", "b")])
    assert rel["a"][0] == 0.5 and rel["b"][0] == -0.5


def test_intervention_scores_per_tenor_are_zero_at_bills(tmp_path):
    from pathlib import Path

    from stocks_flows.load import load_model

    path = Path(__file__).resolve().parent.parent / "data" / "loops" / "intervention.yaml"
    result = loop_dominance(load_model(path))
    assert np.all(result.relative["R1[bills]"] == 0)
    assert np.any(result.relative["R1[30y]"] > 0)
    assert set(result.to_dict()["scores"]) >= {"R1", "R1[bills]", "B1"}


@pytest.mark.parametrize("case", ["logistic", "bass"])
def test_relative_loop_scores_agree_with_pysimlin(case, tmp_path):
    simlin = pytest.importorskip("simlin", reason="pysimlin (the simlin engine's Python bindings) not installed")
    from stocks_flows.xmile import write_xmile

    model = parse_model(logistic() if case == "logistic" else BASS)
    path = tmp_path / f"{case}.xmile"
    write_xmile(model, path)
    theirs = simlin.load(str(path)).run(analyze_loops=True)
    ours = loop_dominance(model)
    report = find_loops(model)

    def key(names):
        return frozenset(n.lower() for n in names)

    ids = {key(lp.variables): lp.id for lp in report.loops}
    assert len(theirs.loops) == len(report.loops)
    for lp in theirs.loops:
        mine = ours.relative[ids[key(lp.variables)]]
        np.testing.assert_allclose(mine, np.asarray(lp.behavior_time_series), rtol=1e-6, atol=1e-9)
    their_periods = [(p.start_time, tuple(p.dominant_loops)) for p in theirs.dominant_periods]
    names = {lp.id: ids[key(lp.variables)] for lp in theirs.loops}
    mapped = [(s, tuple(sorted(names[x] for x in loops))) for s, loops in their_periods]
    assert [(p["start"], p["loops"]) for p in ours.periods] == mapped


def test_a_declared_cut_scores_zero():
    from pathlib import Path

    from stocks_flows.load import load_model
    from stocks_flows.loops import Cut

    path = Path(__file__).resolve().parent.parent / "data" / "loops" / "intervention.yaml"
    model = load_model(path)
    report = find_loops(model, cuts=[Cut("yield_push", "long_yield", ("30y",))])
    result = loop_dominance(model, report=report)
    assert np.all(result.relative["R1[30y]"] == 0)
    assert np.any(result.relative["R1[10y]"] > 0)
