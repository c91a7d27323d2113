"""Identification: can data answer a causal query, how, and why not when it cannot?

A *query* asks for the effect of intervening on treatments ``X`` on outcomes
``Y``, ``P(y | do(x))``. It is *identifiable* when that distribution is a
function of the distribution of the observed variables, for every model that
fits the graph. :func:`identify` reports, with latent confounders taken into
account:

- the **minimal adjustment sets** (:mod:`causal.adjustment`): all
  inclusion-minimal sets ``Z`` with ``P(y | do(x)) = Σ_z P(y | x, z) P(z)``
  (the generalised adjustment criterion; the back-door criterion for one
  treatment). ``[]`` means no set exists, ``[[]]`` that none is needed;
- every inclusion-minimal **front-door set** (Pearl 2009, Definition 3.3.3; listed
  as Jeong, Tian & Bareinboim 2022 list them): sets ``M`` that intercept every
  directed path from ``X`` to ``Y``, with no open back-door path from ``X`` to
  ``M`` and every back-door path from ``M`` to ``Y`` blocked by ``X``;
- every **instrument**: ``Z`` associated with ``X`` and d-separated from ``Y``
  once the causal paths out of ``X`` are cut (Pearl 2009, §7.4.5); and every
  *conditional instrument*, which does so given a set ``W`` with no descendant
  of the causal paths (Brito & Pearl 2002; van der Zander, Textor & Liśkiewicz
  2015), with one inclusion-minimal ``W``. Instruments identify effects only
  under extra assumptions (a linear model, for one);
- the verdict of the **ID algorithm** (:mod:`causal.id_algorithm`; Shpitser &
  Pearl 2006), which is complete: when it fails, a *hedge* proves that no
  formula exists, and the reason is given in words;
- the **estimand** as a formula (:mod:`causal.estimand`) for the route used.

The front door is :func:`identify`; with ``strict=True`` it raises
:class:`tenor.core.errors.NotIdentifiableError` rather than returning a negative
verdict. :func:`evaluate_expectations` checks the ``expect:`` of each query
of a spec, for ``tenor check``. :func:`dowhy_identify` runs DoWhy's own
identification under a time limit, for cross-checks and benchmarks.

Each route lives in its own module: :mod:`causal.adjustment`,
:mod:`causal.frontdoor`, :mod:`causal.instruments`, :mod:`causal.id_algorithm`,
and the DoWhy bridge :mod:`causal.dowhy_bridge`; the query itself is
:mod:`causal.query`. :func:`identify` runs them in phases — list the
adjustment sets, search the front door and instruments, run ID, choose the
route, ask DoWhy — each returning a typed value.

Examples
--------
>>> from causal.graph import from_edges
>>> g = from_edges([("smoking", "tar"), ("tar", "cancer")], bidirected=[("smoking", "cancer")])
>>> r = identify(g, ["smoking"], ["cancer"])
>>> r.identifiable, r.by, r.minimal_adjustment_sets, r.frontdoor_sets
(True, 'frontdoor', [], [['tar']])
>>> r.estimand
"Σ_{tar} P(tar | smoking) Σ_{smoking'} P(smoking') P(cancer | smoking', tar)"
>>> bow = from_edges([("x", "y")], bidirected=[("x", "y")])
>>> print(identify(bow, ["x"], ["y"]).reason)  # doctest: +NORMALIZE_WHITESPACE
x <-> y: the latent confounder opens x <- U -> y and no observed variable blocks it
(a hedge for P(y | do(x)): F = {x, y}, F' = {y}; Shpitser & Pearl 2006, Theorem 4)

References
----------
Pearl, J. (2009). *Causality*, 2nd ed., Cambridge University Press.
Shpitser, I. & Pearl, J. (2006). Identification of joint interventional
distributions in recursive semi-Markovian causal models. *AAAI 2006*.
Brito, C. & Pearl, J. (2002). Generalized instrumental variables. *UAI 2002*.
van der Zander, B., Textor, J. & Liśkiewicz, M. (2015). Efficiently finding
conditional instruments for causal inference. *IJCAI 2015*.
Jeong, H., Tian, J. & Bareinboim, E. (2022). Finding and listing front-door
adjustment sets. *NeurIPS 2022*.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from causal.adjustment import is_adjustment_set, is_minimal_adjustment_set, list_minimal_adjustment_sets
from causal.dowhy_bridge import DoWhyAnswer, dowhy_graph, dowhy_identify, run_with_time_limit
from causal.estimand import Estimand, Term, conditional, marginal, product, sum_over, to_latex, to_text
from causal.frontdoor import frontdoor_estimand, frontdoor_sets, is_frontdoor_set
from causal.graph import CausalGraph, build_graph, has_directed_path
from causal.id_algorithm import Unidentifiable, id_algorithm, latent_projection
from causal.instruments import (
    MAX_INSTRUMENT_CHECKS,
    MAX_INSTRUMENT_SEARCH,
    InstrumentListing,
    conditional_instruments,
    instruments,
    list_conditional_instruments,
)
from causal.query import check_query, node_set, query_text
from causal.spec import CausalSpec, Expectation, QuerySpec
from tenor.core.errors import GraphError, NotIdentifiableError
from tenor.core.verdict import Verdict

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "MAX_INSTRUMENT_CHECKS",
    "MAX_INSTRUMENT_SEARCH",
    "DoWhyAnswer",
    "Identification",
    "InstrumentListing",
    "check_query",
    "conditional_instruments",
    "dowhy_graph",
    "dowhy_identify",
    "evaluate_expectations",
    "frontdoor_sets",
    "identify",
    "instruments",
    "is_frontdoor_set",
    "list_conditional_instruments",
    "run_with_time_limit",
]

DEFAULT_TIME_LIMIT = 10.0
"""Seconds :func:`identify` may spend listing sets before it reports what it has."""

ID_MAX_OBSERVED = 60
"""Observed nodes beyond which ID runs only when no adjustment set exists (an adjustment set answers first)."""


@dataclass(frozen=True)
class Identification:
    """The answer to a causal query: whether, how, and why (not)."""

    treatments: list[str]
    outcomes: list[str]
    identifiable: bool
    by: str
    minimal_adjustment_sets: list[list[str]]
    frontdoor_sets: list[list[str]]
    instruments: list[str]
    conditional_instruments: list[dict[str, Any]]
    estimand: str
    reason: str
    routes: list[str] = field(default_factory=list)
    estimand_latex: str = ""
    id_estimand: str | None = None
    id_lines: list[str] = field(default_factory=list)
    hedge: dict[str, list[str]] | None = None
    effect_exists: bool = True
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dowhy: dict[str, Any] | None = None

    @property
    def query(self) -> str:
        return query_text(self.outcomes, self.treatments)

    @property
    def adjustment_needed(self) -> bool | None:
        """False when the empty set suffices, True when a non-empty set is needed, None when none exists."""
        if not self.minimal_adjustment_sets:
            return None
        return self.minimal_adjustment_sets != [[]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; ``seconds`` is left out, so the same graph always gives the same bytes."""
        return {
            "query": self.query,
            "treatments": list(self.treatments),
            "outcomes": list(self.outcomes),
            "identifiable": self.identifiable,
            "by": self.by,
            "routes": list(self.routes),
            "minimal_adjustment_sets": [list(s) for s in self.minimal_adjustment_sets],
            "frontdoor_sets": [list(s) for s in self.frontdoor_sets],
            "instruments": list(self.instruments),
            "conditional_instruments": [dict(c) for c in self.conditional_instruments],
            "estimand": self.estimand,
            "estimand_latex": self.estimand_latex,
            "id_estimand": self.id_estimand,
            "id_lines": list(self.id_lines),
            "hedge": self.hedge,
            "effect_exists": self.effect_exists,
            "reason": self.reason,
            "complete": self.complete,
            "notes": list(self.notes),
            "dowhy": self.dowhy,
        }

    def _repr_html_(self) -> str:
        rows = [
            ("query", self.query),
            ("identifiable", "yes" if self.identifiable else "no"),
            ("by", self.by),
            ("minimal adjustment sets", "; ".join(node_set(s) for s in self.minimal_adjustment_sets) or "none"),
            ("front-door sets", "; ".join(node_set(s) for s in self.frontdoor_sets) or "none"),
            ("instruments", ", ".join(self.instruments) or "none"),
            ("estimand", self.estimand or "—"),
            ("reason", self.reason),
        ]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"


def _hedge_reason(exc: Unidentifiable, graph: CausalGraph, x: list[str], y: list[str]) -> str:
    """Words for a hedge: the bidirected path that no observed variable can block."""
    bi = exc.graph.bidirected.subgraph(exc.hedge_f)
    starts = sorted(set(exc.x) & set(exc.hedge_f))
    targets = set(exc.hedge_f_prime)
    best: list[str] | None = None
    for s in starts:
        for t in sorted(targets):
            try:
                p = nx.shortest_path(bi, s, t)
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
            if best is None or (len(p), p[-1] not in y) < (len(best), best[-1] not in y):
                best = p
    tail = (
        f"(a hedge for {query_text(y, x)}: F = {node_set(exc.hedge_f)}, F' = {node_set(exc.hedge_f_prime)}; "
        "Shpitser & Pearl 2006, Theorem 4)"
    )
    if best is None:
        return f"no formula over the observed variables gives {query_text(y, x)} {tail}"
    arcs = " <-> ".join(best)
    if len(best) == 2:
        a, b = best
        target = node_set(y) if len(y) > 1 else y[0]
        if b in y:
            where = ""
        elif b in nx.descendants(graph.directed, a):
            where = f", and {b} lies on the way from {a} to {target}"
        else:
            where = f", and {b} affects {target}"
        return f"{arcs}: the latent confounder opens {a} <- U -> {b}{where} and no observed variable blocks it {tail}"
    return (
        f"{arcs}: latent confounders tie {best[0]} to {best[-1]} through "
        f"{', '.join(best[1:-1])}, which {x[0] if len(x) == 1 else 'the treatment'} also affects, "
        f"and no observed variable blocks them {tail}"
    )


@dataclass(frozen=True)
class _Adjustment:
    """Phase 1: the minimal adjustment sets listed, whether the listing is complete, and what it noted."""

    sets: list[list[str]]
    complete: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Alternatives:
    """Phase 2: the front-door sets, instruments and conditional instruments, for one treatment and outcome."""

    frontdoor: list[list[str]] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _IDVerdict:
    """Phase 3: what the ID algorithm said (``ok`` None when it was not run)."""

    ok: bool | None = None
    estimand: str | None = None
    latex: str = ""
    lines: list[str] = field(default_factory=list)
    hedge: dict[str, list[str]] | None = None
    reason: str = ""


@dataclass(frozen=True)
class _Route:
    """Phase 4: the route chosen, its estimand (text and LaTeX), and the reason in words."""

    by: str
    estimand: str
    latex: str
    reason: str


def _list_adjustment(
    graph: CausalGraph, x: list[str], y: list[str], max_sets: int | None, time_limit: float | None
) -> _Adjustment:
    # the listing of adjustment sets gets most of the time; the front door and instruments the rest
    listing = list_minimal_adjustment_sets(
        graph, x, y, max_sets=max_sets, time_limit=None if time_limit is None else 0.7 * time_limit
    )
    sets = listing.lists()
    if listing.complete:
        return _Adjustment(sets, True)
    note = (
        f"listing of minimal adjustment sets stopped at {listing.stopped_by} after {len(sets)} set(s); "
        "each listed set is valid and minimal"
    )
    return _Adjustment(sets, False, (note,))


def _search_alternatives(
    graph: CausalGraph, x: list[str], y: list[str], effect_exists: bool, deadline: float | None
) -> _Alternatives:
    if len(x) != 1 or len(y) != 1:
        return _Alternatives(notes=("front-door and instrument searches cover one treatment and one outcome",))
    if not effect_exists:
        return _Alternatives()
    fd, complete = frontdoor_sets(graph, x, y, deadline=deadline)
    notes = []
    if not complete:
        notes.append(f"front-door listing stopped at the time limit after {len(fd)} set(s); each is minimal")
    if deadline is not None and time.perf_counter() >= deadline:
        notes.append("instrument search skipped: time limit reached")
        return _Alternatives(fd, complete=False, notes=tuple(notes))
    iv = instruments(graph, x[0], y[0])
    listing = list_conditional_instruments(graph, x[0], y[0], deadline=deadline)
    civ = [{"instrument": z, "given": w} for z, w in listing.lists()]
    if not listing.complete:
        notes.append(
            "conditional-instrument search left undecided: "
            + ", ".join(listing.undecided)
            + " (deciding one is NP-hard; each listed instrument is valid)"
        )
    return _Alternatives(fd, iv, civ, complete and listing.complete, tuple(notes))


def _run_id(graph: CausalGraph, x: list[str], y: list[str], adjust: list[list[str]]) -> _IDVerdict:
    if adjust and len(graph.index.observed) > ID_MAX_OBSERVED:
        return _IDVerdict()
    try:
        result = id_algorithm(latent_projection(graph), y, x)
    except Unidentifiable as exc:
        hedge = {"F": sorted(exc.hedge_f), "F_prime": sorted(exc.hedge_f_prime)}
        return _IDVerdict(False, hedge=hedge, reason=_hedge_reason(exc, graph, x, y))
    return _IDVerdict(True, to_text(result.estimand), to_latex(result.estimand), list(result.lines))


def _routes(adjust: list[list[str]], alt: _Alternatives, idv: _IDVerdict) -> list[str]:
    """Every route that identifies the effect, in the order they are tried."""
    routes = []
    if adjust:
        routes.append("backdoor")
    if alt.frontdoor:
        routes.append("frontdoor")
    if alt.instruments or alt.conditional:
        routes.append("iv")
    if idv.ok or (idv.ok is None and adjust):
        routes.append("id")
    return routes


def _adjustment_formula(x: list[str], y: list[str], z: list[str]) -> Estimand:
    """The adjustment formula ``Σ_z P(y | x, z) P(z)``."""
    joint = Term(frozenset([*x, *y, *z]))
    dom = set(joint.variables)
    return sum_over(z, product([conditional(joint, dom, y, [*x, *z]), marginal(joint, dom, z)]))


def _backdoor_route(x: list[str], y: list[str], z: list[str], effect_exists: bool) -> _Route:
    formula = _adjustment_formula(x, y, z)
    if z:
        reason = (
            f"adjusting for {node_set(z)} blocks every back-door path from {node_set(x)} to {node_set(y)} "
            "(generalised adjustment criterion)"
        )
    else:
        reason = f"no adjustment needed: no open back-door path from {node_set(x)} to {node_set(y)}"
    if not effect_exists:
        nil = f"{query_text(y, x)} = P({', '.join(y)})"
        reason += f"; no directed path from {node_set(x)} to {node_set(y)}, so the effect is nil ({nil})"
    return _Route("backdoor", to_text(formula), to_latex(formula), reason)


def _frontdoor_route(x: str, y: str, m: list[str]) -> _Route:
    front = frontdoor_estimand(x, y, m)
    reason = (
        f"no adjustment set exists, but {node_set(m)} satisfies the front-door criterion: it "
        f"intercepts every directed path from {x} to {y}, and its confounding with "
        f"{y} is blocked by {x}"
    )
    return _Route("frontdoor", to_text(front), to_latex(front), reason)


def _id_route(x: list[str], y: list[str], idv: _IDVerdict, effect_exists: bool) -> _Route:
    if not effect_exists:
        reason = (
            f"no directed path from {node_set(x)} to {node_set(y)}: intervening does not change {node_set(y)}, "
            f"{query_text(y, x)} = P({', '.join(y)})"
        )
    else:
        reason = (
            "no adjustment or front-door set exists; the ID algorithm identifies the effect "
            f"({', '.join(line.split(':')[0] for line in idv.lines)})"
        )
    return _Route("id", idv.estimand or "", idv.latex, reason)


def _no_route(x: list[str], y: list[str], alt: _Alternatives, idv: _IDVerdict) -> _Route:
    reason = idv.reason or f"{query_text(y, x)} is not identifiable"
    if not (alt.instruments or alt.conditional):
        return _Route("none", "", "", reason)
    names = alt.instruments or [c["instrument"] for c in alt.conditional]
    reason += (
        f"; the instrument(s) {', '.join(names)} identify it only under further assumptions "
        "(a linear model, for example)"
    )
    return _Route("iv", "", "", reason)


def _choose_route(
    x: list[str], y: list[str], adjust: list[list[str]], alt: _Alternatives, idv: _IDVerdict, effect_exists: bool
) -> _Route:
    """Back-door first, then front-door, then ID; ``iv`` or ``none`` when none identifies the effect."""
    if adjust:
        return _backdoor_route(x, y, adjust[0], effect_exists)
    if alt.frontdoor:
        return _frontdoor_route(x[0], y[0], alt.frontdoor[0])
    if idv.ok:
        return _id_route(x, y, idv, effect_exists)
    return _no_route(x, y, alt, idv)


def _ask_dowhy(
    graph: CausalGraph, x: list[str], y: list[str], time_limit: float | None
) -> tuple[dict[str, Any], list[str]]:
    """Phase 5: DoWhy's answer as JSON-ready data, and notes on where it falls short."""
    answer = dowhy_identify(graph, x, y, time_limit=time_limit or DEFAULT_TIME_LIMIT)
    notes = [] if answer.finished else [f"DoWhy {answer.error}"]
    for s in answer.backdoor_sets or []:
        if not is_adjustment_set(graph, x, y, s):
            notes.append(f"DoWhy's back-door set {node_set(s)} fails the adjustment criterion")
    return answer.to_dict(), notes


def identify(
    graph: CausalGraph,
    treatments: str | Iterable[str],
    outcomes: str | Iterable[str],
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
    max_sets: int | None = 10_000,
    dowhy: bool = False,
) -> Identification:
    """Identify ``P(outcomes | do(treatments))`` in ``graph``.

    Lists every minimal adjustment set, every minimal front-door set and every
    instrument (for one treatment and one outcome), runs the ID algorithm,
    and picks the route: back-door, then front-door, then ID; ``iv`` when
    only an instrument is left (identification then needs linearity).

    ``time_limit`` bounds the listing of sets (in seconds): when reached, the
    result has ``complete=False`` and says in ``notes`` what was established.
    With ``dowhy=True``, DoWhy's own identification (back-door, IV, front-door)
    runs too, within the same time limit (default 10 s), and is reported under
    ``dowhy``; a DoWhy back-door set that fails the adjustment criterion is noted.

    Raises
    ------
    GraphError
        On a bad query (see :func:`check_query`).
    NotIdentifiableError
        With ``strict=True``, when the effect is not identifiable.
    """
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    x, y = check_query(graph, treatments, outcomes)
    effect_exists = has_directed_path(graph.index.children, x, set(y))
    adjustment = _list_adjustment(graph, x, y, max_sets, time_limit)
    alt = _search_alternatives(graph, x, y, effect_exists, deadline)
    idv = _run_id(graph, x, y, adjustment.sets)
    route = _choose_route(x, y, adjustment.sets, alt, idv, effect_exists)
    identifiable = bool(adjustment.sets) or bool(alt.frontdoor) or bool(idv.ok)
    notes = [*adjustment.notes, *alt.notes]
    dowhy_report = None
    if dowhy:
        dowhy_report, dowhy_notes = _ask_dowhy(graph, x, y, time_limit)
        notes += dowhy_notes
    if strict and not identifiable:
        raise NotIdentifiableError(
            f"{query_text(y, x)} is not identifiable: {route.reason}",
            hint="measure a confounder, or look for a front-door set or an instrument",
        )
    return Identification(
        treatments=x,
        outcomes=y,
        identifiable=identifiable,
        by=route.by,
        minimal_adjustment_sets=adjustment.sets,
        frontdoor_sets=alt.frontdoor,
        instruments=alt.instruments,
        conditional_instruments=alt.conditional,
        estimand=route.estimand,
        reason=route.reason,
        routes=_routes(adjustment.sets, alt, idv),
        estimand_latex=route.latex,
        id_estimand=idv.estimand,
        id_lines=idv.lines,
        hedge=idv.hedge,
        effect_exists=effect_exists,
        complete=adjustment.complete and alt.complete,
        notes=notes,
        seconds=time.perf_counter() - started,
        dowhy=dowhy_report,
    )


def evaluate_expectations(
    spec: CausalSpec, graph: CausalGraph | None = None, *, time_limit: float | None = DEFAULT_TIME_LIMIT
) -> list[Verdict]:
    """Check the ``expect:`` of every query of ``spec`` (kind ``"query"``, in file order).

    ``identifiable`` holds when the verdict matches; ``by`` when that route
    identifies the effect (``backdoor``: an adjustment set exists;
    ``frontdoor``: a front-door set; ``iv``: an instrument; ``id``: the ID
    algorithm; ``none``: nothing identifies it); ``adjust`` when the set is a
    valid adjustment set (the detail says whether it is minimal).

    >>> from causal.load import parse_spec
    >>> spec = parse_spec('''
    ... nodes: {z: {}, x: {}, y: {}}
    ... edges: {z -> x: {}, z -> y: {}, x -> y: {}}
    ... queries:
    ...   effect: {treatment: x, outcome: y, expect: {identifiable: true, by: backdoor, adjust: [z]}}
    ... ''')
    >>> [(r.statement, r.holds) for r in evaluate_expectations(spec)]
    [('effect: P(y | do(x)) is identifiable, by backdoor, adjusting for {z}', True)]
    """
    graph = graph or build_graph(spec)
    out: list[Verdict] = []
    for index, (name, query) in enumerate(spec.queries.items()):
        if query.expect is None:
            continue
        statement = f"{name}: {_expectation_text(query, query.expect)}"
        try:
            r = identify(graph, query.treatment, query.outcome, time_limit=time_limit)
        except GraphError as err:
            holds, detail = None, f"cannot evaluate: {err.message}"
        else:
            holds, detail = _judge_expectation(graph, query, query.expect, r)
        where = spec.where("queries", name)
        out.append(
            Verdict(
                index, "query", holds, detail, kind="query", statement=statement, says=query.description, where=where
            )
        )
    return out


def _expectation_text(query: QuerySpec, expect: Expectation) -> str:
    """What a query's ``expect:`` says, in words: ``P(y | do(x)) is identifiable, by backdoor``."""
    parts = []
    if expect.identifiable is not None:
        parts.append("is identifiable" if expect.identifiable else "is not identifiable")
    if expect.by is not None:
        parts.append(f"by {expect.by}")
    if expect.adjust is not None:
        parts.append(f"adjusting for {node_set(expect.adjust)}")
    return f"{query_text(query.outcome, query.treatment)} " + ", ".join(parts)


def _judge_expectation(
    graph: CausalGraph, query: QuerySpec, expect: Expectation, r: Identification
) -> tuple[bool | None, str]:
    """Whether each part of ``expect`` holds given the identification ``r``, and why, in words."""
    verdicts: list[bool | None] = []
    details = []
    if expect.identifiable is not None:
        verdicts.append(r.identifiable == expect.identifiable)
        details.append(("identifiable" if r.identifiable else "not identifiable") + f": {r.reason}")
    if expect.by is not None:
        verdicts.append(_route_holds(expect.by, r))
        details.append(f"routes that identify it: {', '.join(r.routes) or 'none'}")
    if expect.adjust is not None:
        valid, detail = _judge_adjustment(graph, query, sorted(expect.adjust), r)
        verdicts.append(valid)
        details.append(detail)
    holds = False if False in verdicts else None if None in verdicts else True
    return holds, "; ".join(details)


def _route_holds(by: str, r: Identification) -> bool | None:
    """Whether route ``by`` identifies the effect; None when an incomplete search may have missed it."""
    if by == "none":
        return not r.identifiable
    if by in r.routes:
        return True
    return None if (not r.complete and by in ("frontdoor", "iv")) else False


def _judge_adjustment(graph: CausalGraph, query: QuerySpec, z: list[str], r: Identification) -> tuple[bool, str]:
    """Whether ``z`` is a valid adjustment set, and whether it is minimal, in words."""
    listed = "; ".join(node_set(s) for s in r.minimal_adjustment_sets)
    if not is_adjustment_set(graph, query.treatment, query.outcome, z):
        return False, f"{node_set(z)} is not a valid adjustment set; minimal sets: {listed or 'none exists'}"
    if is_minimal_adjustment_set(graph, query.treatment, query.outcome, z):
        return True, f"{node_set(z)} is a valid adjustment set and minimal"
    return True, f"{node_set(z)} is a valid adjustment set, not minimal (minimal sets: {listed})"
