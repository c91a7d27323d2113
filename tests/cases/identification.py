"""Identification answer keys, in the shape of DoWhy's ``TEST_GRAPH_SOLUTIONS``.

Each case names its source. ``minimal_sets`` are all inclusion-minimal
adjustment sets (``[]``: none exists; ``[[]]``: the empty set suffices);
``biased_sets`` are plausible wrong answers that must never be reported as
minimal adjustment sets. ``None`` means "not part of this answer key".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from causal.graph import CausalGraph, from_edges


@dataclass(frozen=True)
class Case:
    name: str
    reference: str
    edges: list[tuple[str, str]]
    treatment: list[str]
    outcome: list[str]
    identifiable: bool
    by: str
    bidirected: list[tuple[str, str]] = field(default_factory=list)
    latent: list[str] = field(default_factory=list)
    minimal_sets: list[list[str]] | None = None
    biased_sets: list[list[str]] = field(default_factory=list)
    frontdoor_sets: list[list[str]] | None = None
    instruments: list[str] | None = None
    conditional_instruments: list[dict[str, object]] | None = None
    estimand: str | None = None

    def graph(self) -> CausalGraph:
        return from_edges(self.edges, bidirected=self.bidirected, latent=self.latent)


SHRIER_PLATT_EDGES = [
    ("WarmUp", "IntraGameProprioception"),
    ("IntraGameProprioception", "Injury"),
    ("Coach", "TeamMotivation"),
    ("Coach", "FitnessLevel"),
    ("Genetics", "FitnessLevel"),
    ("Genetics", "NeuromuscularFatigue"),
    ("Genetics", "ConnectiveTissueDisorder"),
    ("TeamMotivation", "WarmUp"),
    ("TeamMotivation", "PreviousInjury"),
    ("FitnessLevel", "PreGameProprioception"),
    ("FitnessLevel", "NeuromuscularFatigue"),
    ("ConnectiveTissueDisorder", "NeuromuscularFatigue"),
    ("ConnectiveTissueDisorder", "TissueWeakness"),
    ("PreGameProprioception", "WarmUp"),
    ("NeuromuscularFatigue", "IntraGameProprioception"),
    ("NeuromuscularFatigue", "Injury"),
    ("ContactSport", "PreviousInjury"),
    ("ContactSport", "IntraGameProprioception"),
    ("TissueWeakness", "Injury"),
]

PEARL_FIG_3_4_EDGES = [
    ("x1", "x3"),
    ("x1", "x4"),
    ("x2", "x4"),
    ("x2", "x5"),
    ("x3", "x"),
    ("x4", "x"),
    ("x4", "y"),
    ("x5", "y"),
    ("x", "x6"),
    ("x6", "y"),
]

CASES: list[Case] = [
    Case(
        name="confounding triangle",
        reference="Pearl, J. (2009). Causality, 2nd ed., §3.3.1: a common cause z of x and y.",
        edges=[("z", "x"), ("z", "y"), ("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[["z"]],
        biased_sets=[[]],
        frontdoor_sets=[],
        instruments=[],
        estimand="Σ_{z} P(y | x, z) P(z)",
    ),
    Case(
        name="Pearl's back-door example",
        reference="Pearl, J. (2009). Causality, 2nd ed., §3.3.1, Fig. 3.4: {x3, x4} and {x4, x5} are "
        "sufficient, {x4} alone is not; DoWhy's TEST_GRAPH_SOLUTIONS has the same graph.",
        edges=PEARL_FIG_3_4_EDGES,
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[["x1", "x4"], ["x2", "x4"], ["x3", "x4"], ["x4", "x5"]],
        biased_sets=[[], ["x4"], ["x6"], ["x3"], ["x4", "x6"]],
    ),
    Case(
        name="Book of Why, game 2",
        reference="Pearl & Mackenzie (2018). The Book of Why, ch. 4, game 2; DoWhy's TEST_GRAPH_SOLUTIONS "
        "(book_of_why_game2): no adjustment needed, B and C are biased.",
        edges=[("A", "X"), ("A", "B"), ("B", "C"), ("D", "B"), ("D", "E"), ("X", "E"), ("E", "Y")],
        treatment=["X"],
        outcome=["Y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[[]],
        biased_sets=[["B"], ["C"], ["B", "C"]],
    ),
    Case(
        name="Book of Why, game 5",
        reference="Pearl & Mackenzie (2018). The Book of Why, ch. 4, game 5: adjust for C, or for A and B "
        "(B alone opens X <- A -> B <- C -> Y); DoWhy's TEST_GRAPH_SOLUTIONS lists the smallest, {C}.",
        edges=[("A", "X"), ("A", "B"), ("B", "X"), ("C", "B"), ("C", "Y"), ("X", "Y")],
        treatment=["X"],
        outcome=["Y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[["C"], ["A", "B"]],
        biased_sets=[["B"], ["A"]],
    ),
    Case(
        name="Book of Why, game 5 with C unobserved",
        reference="Pearl & Mackenzie (2018). The Book of Why, ch. 4, game 5; DoWhy's TEST_GRAPH_SOLUTIONS "
        "(book_of_why_game5_C_is_unobserved): only {A, B} is left.",
        edges=[("A", "X"), ("A", "B"), ("B", "X"), ("C", "B"), ("C", "Y"), ("X", "Y")],
        latent=["C"],
        treatment=["X"],
        outcome=["Y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[["A", "B"]],
        biased_sets=[["B"], ["A"], []],
    ),
    Case(
        name="front door: smoking, tar, cancer",
        reference="Pearl, J. (2009). Causality, 2nd ed., §3.3.2, Fig. 3.5: a latent genotype confounds "
        "smoking and cancer; tar satisfies the front-door criterion (eq. 3.42).",
        edges=[("smoking", "tar"), ("tar", "cancer")],
        bidirected=[("smoking", "cancer")],
        treatment=["smoking"],
        outcome=["cancer"],
        identifiable=True,
        by="frontdoor",
        minimal_sets=[],
        biased_sets=[[], ["tar"]],
        frontdoor_sets=[["tar"]],
        instruments=[],
        estimand="Σ_{tar} P(tar | smoking) Σ_{smoking'} P(smoking') P(cancer | smoking', tar)",
    ),
    Case(
        name="instrument with latent confounding",
        reference="Pearl, J. (2009). Causality, 2nd ed., §7.4.5 (Definition 7.4.1) and §8.2; Angrist, "
        "Imbens & Rubin (1996): z -> x -> y with x <-> y; not identifiable nonparametrically, z is an "
        "instrument.",
        edges=[("z", "x"), ("x", "y")],
        bidirected=[("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=False,
        by="iv",
        minimal_sets=[],
        biased_sets=[[], ["z"]],
        frontdoor_sets=[],
        instruments=["z"],
    ),
    Case(
        name="bow arc",
        reference="Pearl, J. (2009). Causality, 2nd ed., §3.5, Fig. 3.9(a) (the bow pattern); Shpitser & "
        "Pearl (2006), the smallest hedge.",
        edges=[("x", "y")],
        bidirected=[("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=False,
        by="none",
        minimal_sets=[],
        biased_sets=[[]],
        frontdoor_sets=[],
        instruments=[],
    ),
    Case(
        name="napkin",
        reference="Pearl, J. & Mackenzie, D. (2018). The Book of Why, ch. 7, p. 240, Fig. 7.5; the "
        "estimand is in Shpitser & Pearl (2006) and Bareinboim's notes: identifiable only by ID.",
        edges=[("w", "z"), ("z", "x"), ("x", "y")],
        bidirected=[("w", "x"), ("w", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="id",
        minimal_sets=[],
        biased_sets=[[], ["w"], ["z"], ["w", "z"]],
        frontdoor_sets=[],
        instruments=[],
        estimand="[Σ_{w} P(w) P(x | w, z) P(y | w, x, z)] / [Σ_{w} P(w) P(x | w, z)]",
    ),
    Case(
        name="M-bias",
        reference="Greenland, S., Pearl, J. & Robins, J. (1999). Causal diagrams for epidemiologic "
        "research. Epidemiology 10:37-48: adjusting for the collider m opens x <- a -> m <- b -> y.",
        edges=[("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[[]],
        biased_sets=[["m"]],
        frontdoor_sets=[],
        estimand="P(y | x)",
    ),
    Case(
        name="M-bias with latent causes",
        reference="Greenland, Pearl & Robins (1999), with a and b unobserved (as in dagitty's M-bias example).",
        edges=[("a", "x"), ("a", "m"), ("b", "m"), ("b", "y"), ("x", "y")],
        latent=["a", "b"],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[[]],
        biased_sets=[["m"], ["a"], ["b"]],
    ),
    Case(
        name="Shrier & Platt sports injury",
        reference="Shrier, I. & Platt, R. W. (2008). Reducing bias through directed acyclic graphs. BMC "
        "Medical Research Methodology 8:70, Fig. 1, as encoded in dagitty's getExample('Shrier') "
        "(whose documentation counts 9 open back-door paths; so does this encoding).",
        edges=SHRIER_PLATT_EDGES,
        treatment=["WarmUp"],
        outcome=["Injury"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[
            ["Coach", "FitnessLevel"],
            ["Coach", "PreGameProprioception"],
            ["ConnectiveTissueDisorder", "NeuromuscularFatigue"],
            ["FitnessLevel", "Genetics"],
            ["FitnessLevel", "TeamMotivation"],
            ["NeuromuscularFatigue", "TissueWeakness"],
            ["PreGameProprioception", "TeamMotivation"],
        ],
        biased_sets=[
            [],
            ["IntraGameProprioception"],
            ["NeuromuscularFatigue"],
            ["PreviousInjury"],
            ["TeamMotivation"],
            ["Coach", "Genetics"],
        ],
    ),
    Case(
        name="sequential treatment",
        reference="Pearl & Mackenzie (2018). The Book of Why, ch. 7, p. 241, Fig. 7.6 (Wermuth & Cox): "
        "the joint effect of two treatments is identifiable though no adjustment set exists.",
        edges=[("x", "w"), ("x", "y"), ("w", "z"), ("z", "y")],
        bidirected=[("w", "y")],
        treatment=["x", "z"],
        outcome=["y"],
        identifiable=True,
        by="id",
        minimal_sets=[],
        biased_sets=[[], ["w"]],
        estimand="Σ_{w} P(w | x) P(y | w, x, z)",
    ),
    Case(
        name="no causal path",
        reference="Pearl (2009), §3.2: with no directed path from x to y, P(y | do(x)) = P(y); adjusting "
        "for z is still needed to estimate that nil effect from P(y | x, z) (adjustment criterion, "
        "Shpitser et al. 2010).",
        edges=[("z", "x"), ("z", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[["z"]],
        biased_sets=[[]],
    ),
    Case(
        name="mediator confounded with outcome",
        reference="Pearl (2009), §3.3.2: front-door condition (iii) fails when tar and cancer share a "
        "latent cause; the effect is then not identifiable (a hedge).",
        edges=[("x", "m"), ("m", "y")],
        bidirected=[("x", "y"), ("m", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=False,
        by="none",
        minimal_sets=[],
        frontdoor_sets=[],
        instruments=[],
    ),
    Case(
        name="conditional instrument off the ancestors of x and y",
        reference="van der Zander, Textor & Liskiewicz (2015), Definition of a conditional instrument "
        "(Brito & Pearl 2002): z is not an ancestor of x or y, yet given {w} it is d-connected to x "
        "(z <- c -> x) and d-separated from y once x -> y is cut; c needs no conditioning. Derived by "
        "hand; a linear simulation recovers the effect (tests/causal/test_instruments.py).",
        edges=[("c", "x"), ("x", "y"), ("c", "z"), ("w", "z"), ("w", "y")],
        bidirected=[("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=False,
        by="iv",
        minimal_sets=[],
        frontdoor_sets=[],
        instruments=["c"],
        conditional_instruments=[{"instrument": "z", "given": ["w"]}],
    ),
    Case(
        name="conditional instrument through a collider",
        reference="Brito & Pearl (2002) conditional instrument, derived by hand: conditioning on b blocks "
        "j -> b -> y and opens j -> b <- l -> x, so j given {b} is an instrument; conditioning also on "
        "l would block it again. l given {b} is one too.",
        edges=[("j", "b"), ("b", "y"), ("l", "b"), ("l", "x"), ("x", "y")],
        bidirected=[("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=False,
        by="iv",
        minimal_sets=[],
        frontdoor_sets=[],
        instruments=[],
        conditional_instruments=[{"instrument": "j", "given": ["b"]}, {"instrument": "l", "given": ["b"]}],
    ),
    Case(
        name="front door with a node off the causal paths",
        reference="Pearl (2009), Definition 3.3.3 and Theorem 3.3.4, read for sets as in Jeong, Tian & "
        "Bareinboim (2022): {m} fails (iii) through m <- t -> p -> y; adding t (its edges out removed) "
        "or p blocks that path, so {m, t} and {m, p} are the minimal front-door sets. Derived by hand.",
        edges=[("x", "m"), ("m", "y"), ("t", "m"), ("t", "p"), ("p", "y")],
        bidirected=[("x", "y")],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="frontdoor",
        minimal_sets=[],
        biased_sets=[[], ["m"], ["t"], ["p"]],
        frontdoor_sets=[["m", "p"], ["m", "t"]],
        instruments=[],
    ),
    Case(
        name="no instrument behind a mediator",
        reference="Derived by hand from the conditional-instrument definition for total effects: z's only "
        "separation from y given {c} needs d, a descendant of the mediator m, which W may not contain "
        "(it would condition on the effect). DAGitty's library (December 2024) offers z given {c, d}; "
        "no valid set exists.",
        edges=[("c", "x"), ("x", "m"), ("m", "y"), ("c", "y"), ("m", "d"), ("d", "z"), ("x", "z")],
        treatment=["x"],
        outcome=["y"],
        identifiable=True,
        by="backdoor",
        minimal_sets=[["c"]],
        frontdoor_sets=[["m"]],
        instruments=[],
        conditional_instruments=[],
    ),
]


def case_ids() -> list[str]:
    return [c.name for c in CASES]
