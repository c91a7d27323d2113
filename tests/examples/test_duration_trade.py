"""The research note's twelve claims (reading.md), each a test of the bundled example.

Each test runs the example through tenor's public API (``examples/duration_trade/claims.py``
measures the property) and asserts it holds. The figures behind each verdict are in its detail.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "duration_trade"


def _claims_module():
    spec = importlib.util.spec_from_file_location("duration_trade_claims", EXAMPLE / "claims.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CLAIMS = _claims_module()


@pytest.fixture(scope="module")
def evidence():
    return CLAIMS.Evidence(EXAMPLE)


@pytest.mark.parametrize("number", range(1, 13))
def test_claim_holds(evidence, number):
    verdict = CLAIMS.CLAIMS[number - 1](evidence)
    assert verdict.number == number
    assert verdict.holds, f"claim {number} ({verdict.title}) fails: {verdict.detail}"


def test_a_claim_can_fail(evidence):
    """The verdicts are measured, not fixed: breaking the conjunction's premise flips claim 9."""
    import dataclasses

    runs = dict(evidence.runs)
    runs["illegible_meeting"] = runs["illegible_and_pushed_out"]
    broken = dataclasses.replace(evidence)
    broken.__dict__["runs"] = runs
    assert not CLAIMS.claim_9(broken).holds


def test_every_parameter_is_sourced_or_an_assumption(evidence):
    spec = evidence.model.spec
    for name, constant in spec.constants.items():
        assert constant.source or constant.assumption, f"{name}: give its source or the assumption behind it"
        if constant.source:
            assert any(cite in constant.source for cite in ("sources.md", "NBER", "BIS")), name
    for name, lookup in spec.lookups.items():
        assert lookup.source or lookup.assumption, name
