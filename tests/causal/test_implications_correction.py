"""Multiple testing: adjusted p-values by hand, and the family-wise error rate of test-data over many seeds."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal.graph import build_graph
from causal.implications import adjust_p_values, implied_independences, test_implications
from causal.load import read_spec
from causal.scm import simulate
from tenor.cli.main import main
from tenor.core.errors import SpecError

EXAMPLE = "examples/duration_trade/causal.yaml"

# Four p-values worked by hand (m = 4; sorted: 0.005, 0.01, 0.03, 0.04).
P = [0.01, 0.04, 0.03, 0.005]


def test_bonferroni_by_hand():
    # each p times m, capped at 1
    assert adjust_p_values(P, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert adjust_p_values([0.3, 0.6], "bonferroni") == [0.6, 1.0]


def test_holm_by_hand():
    # Holm (1979): the i-th smallest times (m - i + 1), then a running maximum
    # 0.005*4 = 0.02; 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 -> max(0.06, 0.04) = 0.06
    assert adjust_p_values(P, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_by_hand():
    # Benjamini & Hochberg (1995): m*p/i from the largest down, then a running minimum
    # i=4: 0.04*4/4 = 0.04; i=3: 0.03*4/3 = 0.04; i=2: 0.01*4/2 = 0.02; i=1: 0.005*4 = 0.02
    assert adjust_p_values(P, "fdr") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # the running minimum matters: 0.02*3/2 = 0.03 > 0.021*3/3 = 0.021
    assert adjust_p_values([0.001, 0.02, 0.021], "fdr") == pytest.approx([0.003, 0.021, 0.021])


def test_none_is_the_raw_p_and_nan_is_left_out():
    assert adjust_p_values(P, "none") == P
    adjusted = adjust_p_values([0.01, math.nan, 0.02], "holm")
    assert math.isnan(adjusted[1])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.02)  # m = 2, not 3


@settings(max_examples=12, derandomize=True, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from(["bonferroni", "holm", "fdr"]))
def test_agrees_with_statsmodels(p_values, correction):
    multitest = pytest.importorskip("statsmodels.stats.multitest", reason="statsmodels (comes with DoWhy) is missing")
    method = {"bonferroni": "bonferroni", "holm": "holm", "fdr": "fdr_bh"}[correction]
    expected = multitest.multipletests(p_values, method=method)[1]
    assert adjust_p_values(p_values, correction) == pytest.approx(list(expected), abs=1e-12)


def test_the_verdict_uses_the_adjusted_p():
    with pytest.raises(SpecError, match="unknown correction"):
        adjust_p_values(P, "sidak")
    # Holm is uniformly more powerful than Bonferroni: it never rejects less
    for correction in ("bonferroni", "holm", "fdr"):
        adjusted = adjust_p_values(P, correction)
        assert all(q >= p for p, q in zip(P, adjusted, strict=True))
    assert sum(q < 0.05 for q in adjust_p_values(P, "holm")) == 2
    assert sum(q < 0.05 for q in adjust_p_values(P, "bonferroni")) == 2
    assert sum(q < 0.05 for q in adjust_p_values(P, "fdr")) == 4
    assert sum(p < 0.05 for p in P) == 4


def test_family_wise_rejection_rate_on_data_from_the_spec():
    """Data simulated from the example's own graph should pass ``test-data`` at about the stated rate.

    The example implies 158 independences. Each test at alpha = 0.05 without a
    correction rejects a true implication with probability 0.05, so a dataset
    has at least one rejection with probability close to 1 - 0.95**158 ≈ 1
    (the tests are correlated, which lowers this only a little): today's
    uncorrected verdict fails nearly every one of 40 datasets (the raw count
    below shows it, 39 of 40 when this was written). Holm's procedure keeps the
    family-wise error rate at most alpha, so about 2 of 40 datasets may fail;
    6 or more would happen with probability 1.4% if the rate were 0.05
    (binomial, n = 40), so the bound of 6 leaves room for chance and none for
    a missing correction.
    """
    graph = build_graph(read_spec(EXAMPLE))
    basis = implied_independences(graph)
    holm = raw = 0
    for seed in range(40):
        results = test_implications(graph, simulate(graph, 500, seed), alpha=0.05, implications=basis)
        assert len(results) == 158
        holm += any(r.rejected for r in results)
        raw += any(r.p_value < 0.05 for r in results)
    assert holm <= 5
    assert raw >= 30  # the uncorrected verdict would have failed these datasets


def test_cli_reports_raw_and_adjusted_p(tmp_path, capsys):
    data = tmp_path / "data.csv"
    graph = build_graph(read_spec(EXAMPLE))
    simulate(graph, 500, 3).to_csv(data, index=False)
    code = main(["test-data", EXAMPLE, str(data), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["correction"] == "holm"
    first = result["implications"][0]
    assert {"p", "p_adjusted"} <= set(first)
    for item in result["implications"]:
        assert item["p_adjusted"] >= item["p"]
        assert item["rejected"] == (item["p_adjusted"] < 0.05)
    assert code == (1 if result["rejected"] else 0)
    code = main(["test-data", EXAMPLE, str(data), "--json", "--correction", "none"])
    result = json.loads(capsys.readouterr().out)
    assert result["correction"] == "none"
    assert all(item["p_adjusted"] == item["p"] for item in result["implications"])
    main(["test-data", EXAMPLE, str(data), "--correction", "fdr"])
    assert "Benjamini-Hochberg" in capsys.readouterr().out
    assert main(["test-data", EXAMPLE, str(data), "--correction", "sidak"]) == 2


def _holm_rejects(p: list[float], alpha: float) -> set[int]:
    """Holm's procedure itself: step down the sorted p-values while p_(i) <= alpha / (m - i + 1)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out: set[int] = set()
    for rank, i in enumerate(order, start=1):
        if p[i] > alpha / (len(p) - rank + 1):
            break
        out.add(i)
    return out


def _bh_rejects(p: list[float], alpha: float) -> set[int]:
    """Benjamini-Hochberg itself: reject the k smallest, k the largest rank with p_(k) <= k alpha / m."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    k = max((rank for rank, i in enumerate(order, start=1) if p[i] <= rank * alpha / len(p)), default=0)
    return set(order[:k])


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=25),
    st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.25]),
)
def test_adjusted_p_values_reject_exactly_what_the_procedures_reject(p_values, alpha):
    """Needs no optional package: an adjusted p <= alpha is a rejection of the step-down (Holm) or
    step-up (Benjamini-Hochberg) procedure at alpha, and Bonferroni >= Holm >= BH, p-value by p-value."""
    holm = adjust_p_values(p_values, "holm")
    fdr = adjust_p_values(p_values, "fdr")
    bonferroni = adjust_p_values(p_values, "bonferroni")
    # p-values that sit exactly on a threshold differ from it only by rounding: leave those out
    m = len(p_values)
    edge = {
        i
        for i, p in enumerate(p_values)
        for k in range(1, m + 1)
        if math.isclose(p * k, alpha, rel_tol=1e-9) or math.isclose(p * m / k, alpha, rel_tol=1e-9)
    }
    assert {i for i, q in enumerate(holm) if q <= alpha} - edge == _holm_rejects(p_values, alpha) - edge
    assert {i for i, q in enumerate(fdr) if q <= alpha} - edge == _bh_rejects(p_values, alpha) - edge
    for b, h, f, p in zip(bonferroni, holm, fdr, p_values, strict=True):
        assert p <= f <= h <= b <= 1.0
