"""Spec errors name file:line:column, the key, what is wrong and how to fix it."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causal.load import parse_spec
from tenor.core.errors import SpecError

BASE = """\
nodes:
  mof_intervention: {{label: MOF}}
  bill_sales: {{}}
  ust_yield: {{}}
edges:
{edges}
{rest}
"""


def _spec(edges: str, rest: str = "") -> str:
    return BASE.format(edges=textwrap.indent(textwrap.dedent(edges).strip("\n"), "  "), rest=textwrap.dedent(rest))


CASES = [
    # (name, text, line, key, message part, hint part)
    (
        "unknown node with suggestion",
        _spec("mof_intervension -> bill_sales: {}"),
        6,
        "edges.mof_intervension -> bill_sales",
        "unknown node 'mof_intervension'",
        "did you mean 'mof_intervention'",
    ),
    (
        "bad sign",
        _spec("mof_intervention -> bill_sales: {sign: up}"),
        6,
        "edges.mof_intervention -> bill_sales.sign",
        "bad sign 'up'",
        'sign: "-"',
    ),
    (
        "lone minus in block style",
        _spec("mof_intervention -> bill_sales:\n  sign: -"),
        7,
        None,
        "YAML syntax",
        'sign: "-"',
    ),
    (
        "bad number",
        _spec("mof_intervention -> bill_sales: {gain: high}"),
        6,
        "edges.mof_intervention -> bill_sales.gain",
        "expected a number, got 'high'",
        "plain number",
    ),
    (
        "bad unit",
        _spec("mof_intervention -> bill_sales: {lag: 2 dayz}"),
        6,
        "edges.mof_intervention -> bill_sales.lag",
        "unknown time unit 'dayz'",
        "did you mean 'day",
    ),
    (
        "lag without unit",
        _spec("mof_intervention -> bill_sales: {lag: 2}"),
        6,
        "edges.mof_intervention -> bill_sales.lag",
        "has no unit",
        "lag: 2 days",
    ),
    (
        "sign disagrees with gain",
        _spec("mof_intervention -> bill_sales: {sign: +, gain: -0.4}"),
        6,
        "edges.mof_intervention -> bill_sales",
        "disagrees with gain",
        "match",
    ),
    (
        "unknown key",
        _spec("mof_intervention -> bill_sales: {gian: 0.4}"),
        6,
        "edges.mof_intervention -> bill_sales.gian",
        "unknown key 'gian'",
        "did you mean 'gain'",
    ),
    (
        "wrong type",
        _spec("mof_intervention -> bill_sales: {}", "channels: [a, b]\n"),
        7,
        "channels",
        "expected a mapping",
        None,
    ),
    (
        "duplicate node",
        "nodes:\n  a: {}\n  b: {}\n  a: {label: again}\n",
        4,
        "nodes.a",
        "duplicate key 'a' (first at line 2)",
        "remove one",
    ),
    (
        "directed cycle named",
        "nodes: {a: {}, b: {}, c: {}}\nedges:\n  a -> b: {}\n  b -> c: {}\n  c -> a: {}\n",
        3,
        "edges.a -> b",
        "directed cycle: a -> b -> c -> a",
        "acyclic",
    ),
    (
        "channel not a path",
        _spec(
            "mof_intervention -> bill_sales: {}",
            "channels:\n  fx:\n    path: mof_intervention -> ust_yield\n",
        ),
        9,
        "channels.fx.path",
        "no edge mof_intervention -> ust_yield",
        "add an edge",
    ),
    (
        "channel against the arrows",
        _spec("mof_intervention -> bill_sales: {}", "channels:\n  fx: {path: bill_sales -> mof_intervention}\n"),
        8,
        "channels.fx.path",
        "is not a path",
        "reverse the channel",
    ),
    (
        "unknown role",
        "nodes:\n  a: {role: polcy}\n",
        2,
        "nodes.a.role",
        "'polcy' is not one of",
        "did you mean 'policy'",
    ),
    (
        "claim with two kinds",
        _spec(
            "mof_intervention -> bill_sales: {}",
            "channels:\n  fx: {path: mof_intervention -> bill_sales}\n"
            "claims:\n  - {sign: {channel: fx, is: +}, faster: {channel: fx, than: fx}}\n",
        ),
        10,
        "claims[0]",
        "exactly one of",
        "one claim per list item",
    ),
    (
        "unknown channel in claim",
        _spec(
            "mof_intervention -> bill_sales: {}",
            "channels:\n  fx: {path: mof_intervention -> bill_sales}\nclaims:\n  - sign: {channel: fxx, is: +}\n",
        ),
        10,
        "claims[0].sign.channel",
        "unknown channel 'fxx'",
        "did you mean 'fx'",
    ),
    (
        "query treatment equals outcome",
        _spec("mof_intervention -> bill_sales: {}", "queries:\n  q: {treatment: bill_sales, outcome: bill_sales}\n"),
        8,
        "queries.q",
        "both treatment and outcome",
        None,
    ),
    (
        "python tag refused",
        "nodes: !!python/object:os.system {}\n",
        1,
        "nodes",
        "is not allowed",
        "remove the tag",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "key", "message", "hint"), CASES, ids=[c[0] for c in CASES])
def test_error_is_located_and_explained(name, text, line, key, message, hint):
    with pytest.raises(SpecError) as caught:
        parse_spec(text, file="spec.yaml")
    diag = caught.value.diagnostics[0]
    assert diag.file == "spec.yaml"
    assert diag.line == line, str(caught.value)
    assert diag.column is not None
    if key is not None:
        assert diag.key == key, str(caught.value)
    assert message in diag.message, str(caught.value)
    if hint is not None:
        assert hint in (diag.hint or ""), str(caught.value)
    assert str(caught.value).startswith(f"spec.yaml:{line}:")


def test_all_errors_reported_at_once():
    text = _spec(
        """
        mof_intervention -> bill_sales: {gain: high}
        bill_sales -> ust_yeild: {}
        mof_intervention -> ust_yield: {sign: sideways}
        """,
        "channels:\n  fx: {path: mof_intervention -> nowhere}\n",
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(text, file="spec.yaml")
    lines = sorted(d.line for d in caught.value.diagnostics)
    assert lines == [6, 7, 8, 10], str(caught.value)


def test_example_spec_loads_and_claims_hold():
    from causal.claims import evaluate_claims
    from causal.load import read_spec

    spec = read_spec("examples/duration_trade/causal.yaml")
    results = evaluate_claims(spec)
    assert results and all(r.holds for r in results), [r for r in results if not r.holds]
    assert all(r.where and r.where.startswith("examples/duration_trade/causal.yaml:") for r in results)


_yaml_text = st.text(alphabet=st.sampled_from(list("ab:-> {}[],\n #&*!\"'+0.9xyz")), max_size=120)


@settings(max_examples=300, deadline=None)
@given(_yaml_text)
def test_any_text_loads_or_gives_a_located_spec_error(text):
    """The front door never raises anything but SpecError, and every error is inside the file."""
    n_lines = max(1, text.count("\n") + 1)
    try:
        parse_spec(text, file="fuzz.yaml")
    except SpecError as err:
        for diag in err.diagnostics:
            assert diag.line is not None and 1 <= diag.line <= n_lines + 1, str(err)
