"""Channels: named directed paths that carry a causal argument.

A channel such as ``mof_intervention -> bill_sales -> ust_front_end`` is a
directed path of the graph. Read linearly, its *sign* is the product of its
edge signs, its *magnitude* the product of its gains (the effect, along this
path only, of a unit change at its start on its end), and its *total lag* the
sum of its edges' lags or time constants. Two channels are *distinct* when they
share no intermediate node and no edge: then the one cannot work through the
other (they may share their start or end).

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec('''
... nodes: {a: {}, b: {}, c: {}, d: {}}
... edges:
...   a -> b: {gain: 0.5, lag: 2 days}
...   b -> d: {gain: -2, lag: 1 week}
...   a -> c: {gain: 3, lag: 6 hours}
...   c -> d: {gain: 1, lag: 6 hours}
... channels:
...   slow: {path: a -> b -> d}
...   fast: {path: a -> c -> d}
... ''')
>>> slow = channel_summary(spec, "slow")
>>> slow.sign, slow.magnitude, slow.lag_days
('-', -1.0, 9.0)
>>> compare_channels(spec, "slow", "fast").distinct
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from causal.spec import TIME_UNITS, CausalSpec, Edge
from tenor.core.errors import GraphError
from tenor.core.specfile import did_you_mean

__all__ = ["ChannelSummary", "Distinctness", "channel_edges", "channel_summary", "compare_channels"]


@dataclass(frozen=True)
class ChannelSummary:
    """Sign, magnitude and total lag of a channel (None where an edge lacks the figure)."""

    name: str
    label: str
    path: tuple[str, ...]
    sign: str | None
    magnitude: float | None
    lag_days: float | None
    claim: str | None = None
    missing: tuple[str, ...] = ()

    def lag_in(self, unit: str) -> float | None:
        return None if self.lag_days is None else self.lag_days / TIME_UNITS[unit]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "path": list(self.path),
            "sign": self.sign,
            "magnitude": self.magnitude,
            "lag_days": self.lag_days,
            "claim": self.claim,
        }


@dataclass(frozen=True)
class Distinctness:
    """What two channels share: intermediate nodes and edges."""

    first: str
    second: str
    shared_nodes: tuple[str, ...]
    shared_edges: tuple[tuple[str, str], ...]

    @property
    def distinct(self) -> bool:
        return not self.shared_nodes and not self.shared_edges


def _channel(spec: CausalSpec, name: str):
    try:
        return spec.channels[name]
    except KeyError:
        close = did_you_mean(name, spec.channels)
        raise GraphError(
            f"unknown channel {name!r}", hint=f"did you mean {close!r}?" if close else "declare it under channels:"
        ) from None


def channel_edges(spec: CausalSpec, name: str) -> list[Edge]:
    """The edges of a channel, in order."""
    channel = _channel(spec, name)
    edges = {(e.cause, e.effect): e for e in spec.directed_edges()}
    out = []
    for a, b in zip(channel.path, channel.path[1:], strict=False):
        if (a, b) not in edges:
            raise GraphError(f"channel {name!r} is not a path of the graph: no edge {a} -> {b}")
        out.append(edges[(a, b)])
    return out


def channel_summary(spec: CausalSpec, name: str) -> ChannelSummary:
    """Sign (product of signs), magnitude (product of gains), total lag (sum, in days)."""
    channel = _channel(spec, name)
    edges = channel_edges(spec, name)
    missing: list[str] = []
    signs = [e.sign for e in edges]
    sign = None
    if all(s is not None for s in signs):
        sign = "-" if signs.count("-") % 2 else "+"
    else:
        missing.append("sign")
    gains = [e.gain for e in edges]
    magnitude = math.prod(gains) if all(g is not None for g in gains) else None  # type: ignore[arg-type]
    if magnitude is None:
        missing.append("gain")
    delays = [e.delay for e in edges]
    lag = sum(d.days for d in delays) if all(d is not None for d in delays) else None  # type: ignore[union-attr]
    if lag is None:
        missing.append("lag")
    return ChannelSummary(
        name, channel.label or name, tuple(channel.path), sign, magnitude, lag, channel.claim, tuple(missing)
    )


def compare_channels(spec: CausalSpec, first: str, second: str) -> Distinctness:
    """Intermediate nodes and edges that two channels share."""
    a, b = _channel(spec, first), _channel(spec, second)
    inner_a, inner_b = set(a.path[1:-1]), set(b.path[1:-1])
    edges_a = set(zip(a.path, a.path[1:], strict=False))
    edges_b = set(zip(b.path, b.path[1:], strict=False))
    return Distinctness(first, second, tuple(sorted(inner_a & inner_b)), tuple(sorted(edges_a & edges_b)))
