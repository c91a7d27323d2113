"""Claims: the statements of a causal spec that ``tenor check`` evaluates.

Each claim kind is a property of the graph and its channels:

- ``distinct: [c1, c2, ...]``: no two of the channels share an intermediate
  node or an edge;
- ``separated: {x, y, given}``: ``x`` is d-separated from ``y`` given the set;
- ``connected: {x, y, given}``: they are d-connected (not separated);
- ``sign: {channel, is}``: the product of the channel's edge signs;
- ``faster: {channel, than}``: the channel's total lag is smaller;
- ``larger: {channel, than}``: the channel's |magnitude| is larger.

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec('''
... nodes: {x: {}, m: {}, y: {}}
... edges: {x -> m: {sign: +}, m -> y: {sign: "-"}}
... channels: {main: {path: x -> m -> y}}
... claims:
...   - sign: {channel: main, is: "-"}
...   - separated: {x: x, y: y, given: m}
... ''')
>>> [(r.kind, r.holds) for r in evaluate_claims(spec)]
[('sign', True), ('separated', True)]
"""

from __future__ import annotations

from itertools import combinations

from causal.channels import channel_summary, compare_channels
from causal.graph import CausalGraph, build_graph
from causal.identify import evaluate_expectations
from causal.paths import find_paths, is_d_separated
from causal.spec import CausalSpec, Claim, OrderClaim, Separation, SignClaim, format_days
from tenor.core.verdict import Verdict

__all__ = ["check_summary", "claim_record", "evaluate_claim", "evaluate_claims"]


def claim_record(verdict: Verdict) -> dict[str, object]:
    """One spec claim's verdict as ``tenor check --json``, the report and ``tenor serve`` write it.

    >>> record = claim_record(Verdict(0, "sign", True, "product of signs is +", kind="sign", statement="s"))
    >>> list(record), record["index"], record["holds"]
    (['index', 'kind', 'statement', 'holds', 'detail', 'says', 'where'], 0, True)
    """
    return {
        "index": verdict.number,
        "kind": verdict.kind,
        "statement": verdict.statement,
        "holds": verdict.holds,
        "detail": verdict.detail,
        "says": verdict.says,
        "where": verdict.where,
    }


Judgement = tuple[str, bool | None, str]
"""A claim's statement as tenor read it, whether it holds (None: undecided), and why."""


def evaluate_claim(spec: CausalSpec, graph: CausalGraph, index: int, claim: Claim) -> Verdict:
    """Evaluate one claim of ``spec``."""
    kind = claim.kind
    if kind == "distinct":
        statement, holds, detail = _distinct(spec, claim.distinct or [])
    elif kind in ("separated", "connected"):
        statement, holds, detail = _separation(graph, kind, getattr(claim, kind))
    elif kind == "sign":
        assert claim.sign is not None
        statement, holds, detail = _sign(spec, claim.sign)
    else:
        statement, holds, detail = _order(spec, kind, getattr(claim, kind))
    return Verdict(
        index, kind, holds, detail, kind=kind, statement=statement, says=claim.says, where=spec.where("claims", index)
    )


def _distinct(spec: CausalSpec, names: list[str]) -> Judgement:
    """No two of the channels share an intermediate node or an edge."""
    shared = []
    for a, b in combinations(names, 2):
        d = compare_channels(spec, a, b)
        if d.shared_nodes:
            shared.append(f"{a} and {b} share node(s) {', '.join(d.shared_nodes)}")
        if d.shared_edges:
            shared.append(f"{a} and {b} share edge(s) " + ", ".join(f"{u} -> {v}" for u, v in d.shared_edges))
    detail = "; ".join(shared) if shared else "no shared intermediate node or edge"
    return "channels " + ", ".join(names) + " are distinct", not shared, detail


def _separation(graph: CausalGraph, kind: str, sep: Separation) -> Judgement:
    """``x`` is d-separated from (or d-connected to) ``y`` given the set; an open path when there is one."""
    given = f" given {{{', '.join(sep.given)}}}" if sep.given else ""
    verb = "is d-separated from" if kind == "separated" else "is d-connected to"
    statement = f"{', '.join(sep.x)} {verb} {', '.join(sep.y)}{given}"
    separated = is_d_separated(graph, sep.x, sep.y, sep.given)
    detail = "d-separated" if separated else "d-connected (an open path remains)"
    if not separated and len(sep.x) == 1 and len(sep.y) == 1:
        open_paths = [p for p in find_paths(graph, sep.x[0], sep.y[0], sep.given, max_paths=200) if p.open]
        if open_paths:
            detail += f": {open_paths[0]}"
    return statement, separated if kind == "separated" else not separated, detail


def _sign(spec: CausalSpec, claim: SignClaim) -> Judgement:
    """The product of the channel's edge signs."""
    summary = channel_summary(spec, claim.channel)
    statement = f"channel {claim.channel} has sign {claim.expected}"
    if summary.sign is None:
        return statement, None, "an edge on the channel has no sign"
    return statement, summary.sign == claim.expected, f"product of edge signs is {summary.sign}"


def _order(spec: CausalSpec, kind: str, order: OrderClaim) -> Judgement:
    """One channel is faster (smaller total lag) or larger (larger |magnitude|) than another."""
    first, second = channel_summary(spec, order.channel), channel_summary(spec, order.than)
    if kind == "faster":
        statement = f"channel {order.channel} is faster than {order.than}"
        if first.lag_days is None or second.lag_days is None:
            return statement, None, "an edge on a channel has no lag"
        unit = spec.lag_unit
        detail = f"total lag {format_days(first.lag_days, unit)} vs {format_days(second.lag_days, unit)}"
        return statement, first.lag_days < second.lag_days, detail
    statement = f"channel {order.channel} is larger than {order.than}"
    if first.magnitude is None or second.magnitude is None:
        return statement, None, "an edge on a channel has no gain"
    detail = f"|magnitude| {abs(first.magnitude):.3g} vs {abs(second.magnitude):.3g}"
    return statement, abs(first.magnitude) > abs(second.magnitude), detail


def evaluate_claims(spec: CausalSpec, graph: CausalGraph | None = None) -> list[Verdict]:
    """Evaluate every claim of ``spec``, in order."""
    graph = graph or build_graph(spec)
    return [evaluate_claim(spec, graph, i, claim) for i, claim in enumerate(spec.claims)]


def check_summary(spec: CausalSpec, graph: CausalGraph | None = None, file: str | None = None) -> dict:
    """What ``tenor check`` reports, as JSON-ready data: channels, every claim and query expectation.

    Query expectations (``expect:``) are evaluated by identification
    (:func:`causal.identify.evaluate_expectations`).
    """
    graph = graph or build_graph(spec)
    results = evaluate_claims(spec, graph)
    if any(q.expect for q in spec.queries.values()):
        results += evaluate_expectations(spec, graph)
    return {
        "file": file or (spec.source.file if spec.source is not None else "<spec>"),
        "valid": True,
        "nodes": len(spec.nodes),
        "edges": len(spec.edges),
        "channels": [channel_summary(spec, name).to_dict() for name in spec.channels],
        "claims": [claim_record(r) for r in results],
        "ok": all(r.holds is not False for r in results),
        "lag_unit": spec.lag_unit,
    }
