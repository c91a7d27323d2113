"""Spec claims as Verdicts, and the record ``tenor check --json`` writes for each."""

from __future__ import annotations

from pathlib import Path

from causal.claims import check_summary, claim_record, evaluate_claims
from causal.load import parse_spec, read_spec
from tenor.core.verdict import Verdict

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "duration_trade" / "causal.yaml"

SPEC = """
nodes: {x: {}, m: {}, y: {}, u: {role: latent}}
edges: {x -> m: {sign: +}, m -> y: {sign: "-"}, u -> x: {}, u -> y: {}}
channels: {main: {path: x -> m -> y}}
claims:
  - sign: {channel: main, is: +}
  - separated: {x: x, y: y, given: m}
  - connected: {x: m, y: y}
queries:
  effect: {treatment: x, outcome: y, expect: {identifiable: true, by: frontdoor}}
"""


def test_claims_are_verdicts_numbered_from_zero():
    results = evaluate_claims(parse_spec(SPEC))
    assert all(isinstance(v, Verdict) for v in results)
    assert [(v.number, v.title, v.kind, v.holds) for v in results] == [
        (0, "sign", "sign", False),
        (1, "separated", "separated", False),  # x <- u -> y stays open
        (2, "connected", "connected", True),
    ]
    assert results[0].detail == "product of edge signs is -"
    assert results[1].detail == "d-connected (an open path remains): x <- u -> y"


def test_check_summary_writes_the_claim_records():
    summary = check_summary(parse_spec(SPEC), file="spec.yaml")
    keys = ["index", "kind", "statement", "holds", "detail", "says", "where"]
    assert all(list(c) == keys for c in summary["claims"])
    assert [(c["index"], c["kind"], c["holds"]) for c in summary["claims"]] == [
        (0, "sign", False),
        (1, "separated", False),
        (2, "connected", True),
        (0, "query", True),
    ]
    assert summary["claims"][3]["statement"] == "effect: P(y | do(x)) is identifiable, by frontdoor"
    assert summary["ok"] is False


def test_the_example_claims_round_trip_through_claim_record():
    spec = read_spec(EXAMPLE)
    records = [claim_record(v) for v in evaluate_claims(spec)]
    assert records == check_summary(spec)["claims"][: len(records)]
    assert [r["index"] for r in records] == list(range(len(records)))
