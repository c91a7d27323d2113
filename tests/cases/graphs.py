"""Canonical small causal graphs with published d-separation facts.

Each case gives the edges (``->``), bidirected edges (``<->``), and statements
``(x, y, given, separated)`` checked against the source cited.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GraphCase:
    name: str
    reference: str
    edges: tuple[tuple[str, str], ...]
    bidirected: tuple[tuple[str, str], ...] = ()
    facts: tuple[tuple[str, str, tuple[str, ...], bool], ...] = field(default=())


CASES = [
    GraphCase(
        "chain",
        "Pearl, Glymour & Jewell (2016), Causal Inference in Statistics: A Primer, §2.2 (Rule 1)",
        (("X", "Y"), ("Y", "Z")),
        facts=(("X", "Z", (), False), ("X", "Z", ("Y",), True)),
    ),
    GraphCase(
        "fork",
        "Pearl, Glymour & Jewell (2016), Primer, §2.3 (Rule 2)",
        (("Y", "X"), ("Y", "Z")),
        facts=(("X", "Z", (), False), ("X", "Z", ("Y",), True)),
    ),
    GraphCase(
        "collider",
        "Pearl, Glymour & Jewell (2016), Primer, §2.4 (Rule 3): conditioning on a collider or its descendant opens it",
        (("X", "Z"), ("Y", "Z"), ("Z", "W")),
        facts=(("X", "Y", (), True), ("X", "Y", ("Z",), False), ("X", "Y", ("W",), False)),
    ),
    GraphCase(
        "m_bias",
        "Greenland, Pearl & Robins (1999), Epidemiology 10(1); M-bias: adjusting for M opens X <- U1 -> M <- U2 -> Y",
        (("U1", "X"), ("U1", "M"), ("U2", "M"), ("U2", "Y"), ("X", "Y")),
        facts=(("U1", "U2", (), True), ("U1", "U2", ("M",), False), ("X", "U2", (), True), ("X", "U2", ("M",), False)),
    ),
    GraphCase(
        "front_door",
        "Pearl (2009), Causality, §3.3.2, Fig. 3.5: smoking -> tar -> cancer, smoking <-> cancer",
        (("smoking", "tar"), ("tar", "cancer")),
        bidirected=(("smoking", "cancer"),),
        facts=(
            ("smoking", "cancer", ("tar",), False),
            ("tar", "cancer", ("smoking",), False),
            ("smoking", "cancer", (), False),
        ),
    ),
    GraphCase(
        "napkin",
        "Pearl & Mackenzie (2018), The Book of Why, ch. 7 (napkin problem); Shpitser & Pearl (2006)",
        (("W", "R"), ("R", "X"), ("X", "Y")),
        bidirected=(("W", "X"), ("W", "Y")),
        # no conditional independence at all: R -> X <-> W <-> Y stays open given {X, W}
        # (the napkin's restriction is a Verma constraint, not an independence)
        facts=(
            ("R", "Y", ("X", "W"), False),
            ("R", "Y", ("W",), False),
            ("W", "Y", (), False),
            ("R", "Y", (), False),
        ),
    ),
]
