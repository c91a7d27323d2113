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
- the **front-door sets** (Pearl 2009, §3.3.2): sets ``M`` that intercept every
  directed path from ``X`` to ``Y``, with no open back-door path from ``X`` to
  ``M`` and every back-door path from ``M`` to ``Y`` blocked by ``X``;
- **instruments**: ``Z`` associated with ``X`` and d-separated from ``Y`` once
  the causal paths out of ``X`` are cut (Pearl 2009, §7.4.5); *conditional
  instruments* do so given a set ``W`` with no descendant of the causal paths
  (Brito & Pearl 2002; van der Zander, Textor & Liśkiewicz 2015). Instruments
  identify effects only under extra assumptions (a linear model, for one);
- the verdict of the **ID algorithm** (:mod:`causal.id_algorithm`; Shpitser &
  Pearl 2006), which is complete: when it fails, a *hedge* proves that no
  formula exists, and the reason is given in words;
- the **estimand** as a formula (:mod:`causal.estimand`) for the route used.

The front door is :func:`identify`; with ``strict=True`` it raises
:class:`tenor.errors.NotIdentifiableError` rather than returning a negative
verdict. :func:`evaluate_expectations` checks the ``expect:`` of each query
of a spec, for ``tenor check``. :func:`dowhy_identify` runs DoWhy's own
identification under a time limit, for cross-checks and benchmarks.

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
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, TypeVar

import networkx as nx

from causal.adjustment import (
    forbidden_nodes,
    is_adjustment_set,
    is_minimal_adjustment_set,
    list_minimal_adjustment_sets,
    proper_backdoor_graph,
    proper_causal_nodes,
)
from causal.claims import ClaimResult
from causal.estimand import Estimand, Sum, Term, conditional, marginal, product, sum_over, to_latex, to_text
from causal.graph import CausalGraph, build_graph
from causal.id_algorithm import Unidentifiable, id_algorithm, latent_projection
from causal.spec import CausalSpec
from tenor.errors import GraphError, NotIdentifiableError

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "DoWhyAnswer",
    "Identification",
    "check_query",
    "conditional_instruments",
    "dowhy_graph",
    "dowhy_identify",
    "evaluate_expectations",
    "frontdoor_sets",
    "identify",
    "instruments",
    "is_frontdoor_set",
    "run_with_time_limit",
]

DEFAULT_TIME_LIMIT = 10.0
"""Seconds :func:`identify` may spend listing sets before it reports what it has."""

_MAX_FRONTDOOR_CANDIDATES = 16

T = TypeVar("T")


def _fmt(nodes: Iterable[str]) -> str:
    return "{" + ", ".join(sorted(nodes)) + "}"


def _query(y: Iterable[str], x: Iterable[str]) -> str:
    return f"P({', '.join(sorted(y))} | do({', '.join(sorted(x))}))"


def check_query(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Validate a query; return its treatments and outcomes as lists.

    Raises
    ------
    GraphError
        On an unknown node (with a suggestion), a latent treatment or outcome, a
        node that is both treatment and outcome, or a directed cycle (named).
    """
    xs = list(dict.fromkeys([treatments] if isinstance(treatments, str) else treatments))
    ys = list(dict.fromkeys([outcomes] if isinstance(outcomes, str) else outcomes))
    if not xs:
        raise GraphError("a query needs at least one treatment", hint="pass --treatment NAME")
    if not ys:
        raise GraphError("a query needs at least one outcome", hint="pass --outcome NAME")
    graph.check_nodes(xs, "treatment")
    graph.check_nodes(ys, "outcome")
    both = [v for v in xs if v in ys]
    if both:
        raise GraphError(
            f"{both[0]!r} is both a treatment and an outcome",
            hint="the effect of a variable on itself is not a query; choose a different outcome",
        )
    for v in [*xs, *ys]:
        if v in graph.latent:
            raise GraphError(
                f"{v!r} is latent (unobserved)", hint="treatments and outcomes must be observed nodes"
            )
    if not graph.is_acyclic():
        cycle = [u for u, _ in nx.find_cycle(graph.directed)]
        raise GraphError(
            "the graph has a directed cycle: " + " -> ".join([*cycle, cycle[0]]),
            hint="identification needs an acyclic graph; break the loop "
            "(a feedback loop belongs in a stock-and-flow model)",
        )
    return xs, ys


def _latent(dag: nx.DiGraph) -> set[str]:
    return {n for n, obs in dag.nodes(data="observed", default=True) if not obs}


def _has_directed_path(dag: nx.DiGraph, x: set[str], y: set[str], removed: set[str] = frozenset()) -> bool:
    seen = set(x)
    stack = list(x)
    while stack:
        v = stack.pop()
        for c in dag.successors(v):
            if c in removed or c in seen:
                continue
            if c in y:
                return True
            seen.add(c)
            stack.append(c)
    return False


def _cut_out(dag: nx.DiGraph, nodes: set[str]) -> nx.DiGraph:
    g = dag.copy()
    g.remove_edges_from([(v, c) for v in nodes for c in dag.successors(v)])
    return g


def is_frontdoor_set(
    graph: CausalGraph, treatments: Iterable[str], outcomes: Iterable[str], mediators: Iterable[str]
) -> bool:
    """Pearl's front-door criterion for the set ``mediators``.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "y")])
    >>> is_frontdoor_set(g, ["x"], ["y"], ["m"]), is_frontdoor_set(g, ["x"], ["y"], [])
    (True, False)
    """
    dag = graph.to_dag()
    x, y, m = set(treatments), set(outcomes), set(mediators)
    if not m or m & (x | y | _latent(dag)):
        return False
    return _is_frontdoor(dag, x, y, m, _cut_out(dag, x))


def _is_frontdoor(dag: nx.DiGraph, x: set[str], y: set[str], m: set[str], cut_x: nx.DiGraph) -> bool:
    # (i) m intercepts every directed path from x to y
    if _has_directed_path(dag, x, y, removed=m):
        return False
    # (ii) no open back-door path from x to m
    if not nx.is_d_separator(cut_x, x, m, set()):
        return False
    # (iii) x blocks every back-door path from m to y
    return bool(nx.is_d_separator(_cut_out(dag, m), m, y, x))


def frontdoor_sets(
    graph: CausalGraph,
    treatments: Iterable[str],
    outcomes: Iterable[str],
    *,
    deadline: float | None = None,
) -> tuple[list[list[str]], bool]:
    """The inclusion-minimal front-door sets, and whether the search was complete.

    Candidates are the observed nodes on proper causal paths from ``X`` to
    ``Y``; subsets are tried smallest first (at most 16 candidates, and until
    ``deadline``, a :func:`time.perf_counter` value).
    """
    dag = graph.to_dag()
    x, y = set(treatments), set(outcomes)
    candidates = sorted(proper_causal_nodes(dag, x, y) - y - _latent(dag))
    if not candidates:
        return [], True
    complete = len(candidates) <= _MAX_FRONTDOOR_CANDIDATES
    if not complete:
        candidates = candidates[:_MAX_FRONTDOOR_CANDIDATES]
    cut_x = _cut_out(dag, x)
    found: list[set[str]] = []
    for k in range(1, len(candidates) + 1):
        for combo in combinations(candidates, k):
            if deadline is not None and time.perf_counter() > deadline:
                return [sorted(s) for s in found], False
            m = set(combo)
            if any(f <= m for f in found):
                continue
            if _is_frontdoor(dag, x, y, m, cut_x):
                found.append(m)
    return [sorted(s) for s in found], complete


def _reachable(dag: nx.DiGraph, sources: Iterable[str], given: set[str]) -> set[str]:
    """Nodes d-connected to ``sources`` given ``given``.

    The Bayes-ball search (Koller & Friedman 2009, Algorithm 3.1), in one pass.
    """
    anc: set[str] = set()
    stack = list(given)
    while stack:
        v = stack.pop()
        if v not in anc:
            anc.add(v)
            stack.extend(dag.predecessors(v))
    seen: set[tuple[str, bool]] = set()
    reach: set[str] = set()
    todo = [(s, True) for s in sources]  # True: the trail arrives from a child (going up)
    while todo:
        v, up = todo.pop()
        if (v, up) in seen:
            continue
        seen.add((v, up))
        if v not in given:
            reach.add(v)
        if up and v not in given:
            todo.extend((p, True) for p in dag.predecessors(v))
            todo.extend((c, False) for c in dag.successors(v))
        elif not up:
            if v not in given:
                todo.extend((c, False) for c in dag.successors(v))
            if v in anc:
                todo.extend((p, True) for p in dag.predecessors(v))
    return reach


def _instrument_setup(
    graph: CausalGraph, treatment: str, outcome: str
) -> tuple[nx.DiGraph, nx.DiGraph, set[str]]:
    dag = graph.to_dag()
    x, y = {treatment}, {outcome}
    pbd = proper_backdoor_graph(dag, x, y)
    allowed = set(dag.nodes) - forbidden_nodes(dag, x, y) - y - _latent(dag)
    return dag, pbd, allowed


def instruments(graph: CausalGraph, treatment: str, outcome: str) -> list[str]:
    """Instruments: observed ``Z`` d-connected to ``treatment``, and d-separated from ``outcome``
    once the causal paths are cut (the first edge of each removed).

    >>> from causal.graph import from_edges
    >>> g = from_edges([("z", "x"), ("x", "y")], bidirected=[("x", "y")])
    >>> instruments(g, "x", "y")
    ['z']
    """
    dag, pbd, allowed = _instrument_setup(graph, treatment, outcome)
    near_x = _reachable(dag, [treatment], set())
    near_y = _reachable(pbd, [outcome], set())
    return sorted((allowed & near_x) - near_y)


def conditional_instruments(
    graph: CausalGraph, treatment: str, outcome: str, *, deadline: float | None = None
) -> list[tuple[str, list[str]]]:
    """Instruments that need a conditioning set, each with one such set ``W``.

    ``W`` has no descendant of the causal paths from ``treatment`` to
    ``outcome``, d-separates ``Z`` from ``outcome`` with those paths cut, and
    leaves ``Z`` d-connected to ``treatment``. Candidates are the ancestors of
    ``treatment`` and ``outcome``; ``W`` starts as the allowed ancestors of ``Z``
    and ``outcome`` (which separate them whenever any allowed set does; van der
    Zander et al. 2015) and is then made minimal. What is reported is always
    valid; the search stops at ``deadline`` (a :func:`time.perf_counter` value).

    >>> from causal.graph import from_edges
    >>> g = from_edges([("w", "z"), ("w", "y"), ("z", "x"), ("x", "y")], bidirected=[("x", "y")])
    >>> conditional_instruments(g, "x", "y")
    [('z', ['w'])]
    """
    dag, pbd, allowed = _instrument_setup(graph, treatment, outcome)
    plain = set(instruments(graph, treatment, outcome))
    anc_xy = nx.ancestors(dag, treatment) | nx.ancestors(dag, outcome)
    anc_y = nx.ancestors(pbd, outcome)
    out = []
    for z in sorted((allowed & anc_xy) - plain):
        if deadline is not None and time.perf_counter() > deadline:
            break
        w0 = (allowed & (anc_y | nx.ancestors(pbd, z))) - {z}
        if z in _reachable(pbd, [outcome], w0) or treatment not in _reachable(dag, [z], w0):
            continue
        w = nx.find_minimal_d_separator(pbd, {z}, {outcome}, restricted=w0)
        if w is None or treatment not in _reachable(dag, [z], set(w)):
            w = w0
        out.append((z, sorted(w)))
    return out


def _adjustment_estimand(x: list[str], y: list[str], z: list[str]) -> str:
    joint = Term(frozenset([*x, *y, *z]))
    dom = set(joint.variables)
    e = sum_over(z, product([conditional(joint, dom, y, [*x, *z]), marginal(joint, dom, z)]))
    return to_text(e)


def _frontdoor_estimand(x: str, y: str, m: list[str]) -> Estimand:
    """Pearl's front-door formula (2009, eq. 3.29): ``Σ_m P(m | x) Σ_{x'} P(y | x', m) P(x')``."""
    ms, xs = frozenset(m), frozenset([x])
    inner = Sum(xs, product([Term(xs), Term(frozenset([y]), xs | ms)]))
    return Sum(ms, product([Term(ms, xs), inner]))


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
        return _query(self.outcomes, self.treatments)

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
            ("minimal adjustment sets", "; ".join(_fmt(s) for s in self.minimal_adjustment_sets) or "none"),
            ("front-door sets", "; ".join(_fmt(s) for s in self.frontdoor_sets) or "none"),
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
        f"(a hedge for {_query(y, x)}: F = {_fmt(exc.hedge_f)}, F' = {_fmt(exc.hedge_f_prime)}; "
        "Shpitser & Pearl 2006, Theorem 4)"
    )
    if best is None:
        return f"no formula over the observed variables gives {_query(y, x)} {tail}"
    arcs = " <-> ".join(best)
    if len(best) == 2:
        a, b = best
        target = _fmt(y) if len(y) > 1 else y[0]
        if b in y:
            where = ""
        elif b in nx.descendants(graph.directed, a):
            where = f", and {b} lies on the way from {a} to {target}"
        else:
            where = f", and {b} affects {target}"
        return (
            f"{arcs}: the latent confounder opens {a} <- U -> {b}{where} "
            f"and no observed variable blocks it {tail}"
        )
    return (
        f"{arcs}: latent confounders tie {best[0]} to {best[-1]} through "
        f"{', '.join(best[1:-1])}, which {x[0] if len(x) == 1 else 'the treatment'} also affects, "
        f"and no observed variable blocks them {tail}"
    )


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

    Lists every minimal adjustment set, the minimal front-door sets and the
    instruments (for one treatment and one outcome), runs the ID algorithm,
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
    dag = graph.to_dag()
    notes: list[str] = []
    complete = True
    effect_exists = _has_directed_path(dag, set(x), set(y))

    # the listing of adjustment sets gets most of the time; the front door and instruments the rest
    listing = list_minimal_adjustment_sets(
        graph, x, y, max_sets=max_sets, time_limit=None if time_limit is None else 0.7 * time_limit
    )
    adjust = listing.lists()
    if not listing.complete:
        complete = False
        notes.append(
            f"listing of minimal adjustment sets stopped at {listing.stopped_by} after {len(adjust)} set(s); "
            "each listed set is valid and minimal"
        )

    single = len(x) == 1 and len(y) == 1
    fd: list[list[str]] = []
    iv: list[str] = []
    civ: list[dict[str, Any]] = []
    if single and effect_exists:
        fd, fd_complete = frontdoor_sets(graph, x, y, deadline=deadline)
        if not fd_complete:
            complete = False
            notes.append(
                f"front-door search incomplete (time limit or more than {_MAX_FRONTDOOR_CANDIDATES} "
                f"candidates); found {len(fd)} set(s)"
            )
        if deadline is None or time.perf_counter() < deadline:
            iv = instruments(graph, x[0], y[0])
            civ = [
                {"instrument": z, "given": w}
                for z, w in conditional_instruments(graph, x[0], y[0], deadline=deadline)
            ]
        else:
            complete = False
            notes.append("instrument search skipped: time limit reached")
    elif not single:
        notes.append("front-door and instrument searches cover one treatment and one outcome")

    id_text: str | None = None
    id_latex = ""
    id_lines: list[str] = []
    hedge = None
    id_reason = ""
    run_id = not adjust or _observed_count(dag) <= 60
    id_ok: bool | None = None
    if run_id:
        try:
            result = id_algorithm(latent_projection(graph), y, x)
            id_ok = True
            id_text = to_text(result.estimand)
            id_latex = to_latex(result.estimand)
            id_lines = list(result.lines)
        except Unidentifiable as exc:
            id_ok = False
            hedge = {"F": sorted(exc.hedge_f), "F_prime": sorted(exc.hedge_f_prime)}
            id_reason = _hedge_reason(exc, graph, x, y)

    routes = []
    if adjust:
        routes.append("backdoor")
    if fd:
        routes.append("frontdoor")
    if iv or civ:
        routes.append("iv")
    if id_ok or (id_ok is None and adjust):
        routes.append("id")

    q = _query(y, x)
    identifiable = bool(adjust) or bool(fd) or bool(id_ok)
    estimand = ""
    latex = ""
    if adjust:
        by = "backdoor"
        z = adjust[0]
        estimand = _adjustment_estimand(x, y, z)
        if z:
            reason = (
                f"adjusting for {_fmt(z)} blocks every back-door path from {_fmt(x)} to {_fmt(y)} "
                "(generalised adjustment criterion)"
            )
        else:
            reason = f"no adjustment needed: no open back-door path from {_fmt(x)} to {_fmt(y)}"
        if not effect_exists:
            nil = f"{q} = P({', '.join(y)})"
            reason += f"; no directed path from {_fmt(x)} to {_fmt(y)}, so the effect is nil ({nil})"
        joint = Term(frozenset([*x, *y, *z]))
        dom = set(joint.variables)
        latex = to_latex(
            sum_over(z, product([conditional(joint, dom, y, [*x, *z]), marginal(joint, dom, z)]))
        )
    elif fd:
        by = "frontdoor"
        front = _frontdoor_estimand(x[0], y[0], fd[0])
        estimand, latex = to_text(front), to_latex(front)
        reason = (
            f"no adjustment set exists, but {_fmt(fd[0])} satisfies the front-door criterion: it "
            f"intercepts every directed path from {x[0]} to {y[0]}, and its confounding with "
            f"{y[0]} is blocked by {x[0]}"
        )
    elif id_ok and not effect_exists:
        by = "id"
        estimand, latex = id_text or "", id_latex
        reason = (
            f"no directed path from {_fmt(x)} to {_fmt(y)}: intervening does not change {_fmt(y)}, "
            f"{q} = P({', '.join(y)})"
        )
    elif id_ok:
        by = "id"
        estimand, latex = id_text or "", id_latex
        reason = (
            "no adjustment or front-door set exists; the ID algorithm identifies the effect "
            f"({', '.join(line.split(':')[0] for line in id_lines)})"
        )
    else:
        by = "iv" if (iv or civ) else "none"
        reason = id_reason or f"{q} is not identifiable"
        if iv or civ:
            names = iv or [c["instrument"] for c in civ]
            reason += (
                f"; the instrument(s) {', '.join(names)} identify it only under further assumptions "
                "(a linear model, for example)"
            )
    dowhy_report = None
    if dowhy:
        answer = dowhy_identify(graph, x, y, time_limit=time_limit or DEFAULT_TIME_LIMIT)
        dowhy_report = answer.to_dict()
        if not answer.finished:
            notes.append(f"DoWhy {answer.error}")
        for s in answer.backdoor_sets or []:
            if not is_adjustment_set(graph, x, y, s):
                notes.append(f"DoWhy's back-door set {_fmt(s)} fails the adjustment criterion")
    if strict and not identifiable:
        raise NotIdentifiableError(
            f"{q} is not identifiable: {reason}",
            hint="measure a confounder, or look for a front-door set or an instrument",
        )
    return Identification(
        treatments=x,
        outcomes=y,
        identifiable=identifiable,
        by=by,
        minimal_adjustment_sets=adjust,
        frontdoor_sets=fd,
        instruments=iv,
        conditional_instruments=civ,
        estimand=estimand,
        reason=reason,
        routes=routes,
        estimand_latex=latex,
        id_estimand=id_text,
        id_lines=id_lines,
        hedge=hedge,
        effect_exists=effect_exists,
        complete=complete,
        notes=notes,
        seconds=time.perf_counter() - started,
        dowhy=dowhy_report,
    )


def _observed_count(dag: nx.DiGraph) -> int:
    """Number of observed nodes (the size of the graph ID works on)."""
    return dag.number_of_nodes() - len(_latent(dag))


def evaluate_expectations(
    spec: CausalSpec, graph: CausalGraph | None = None, *, time_limit: float | None = DEFAULT_TIME_LIMIT
) -> list[ClaimResult]:
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
    out: list[ClaimResult] = []
    for index, (name, query) in enumerate(spec.queries.items()):
        expect = query.expect
        if expect is None:
            continue
        where = spec.where("queries", name)
        q = _query(query.outcome, query.treatment)
        parts = []
        if expect.identifiable is not None:
            parts.append("is identifiable" if expect.identifiable else "is not identifiable")
        if expect.by is not None:
            parts.append(f"by {expect.by}")
        if expect.adjust is not None:
            parts.append(f"adjusting for {_fmt(expect.adjust)}")
        statement = f"{name}: {q} " + ", ".join(parts)
        try:
            r = identify(graph, query.treatment, query.outcome, time_limit=time_limit)
        except GraphError as err:
            out.append(
                ClaimResult(
                    index,
                    "query",
                    statement,
                    None,
                    f"cannot evaluate: {err.message}",
                    query.description,
                    where,
                )
            )
            continue
        verdicts: list[bool | None] = []
        details = []
        if expect.identifiable is not None:
            verdicts.append(r.identifiable == expect.identifiable)
            details.append(("identifiable" if r.identifiable else "not identifiable") + f": {r.reason}")
        if expect.by is not None:
            if expect.by == "none":
                ok: bool | None = not r.identifiable
            elif expect.by in r.routes:
                ok = True
            else:
                ok = None if (not r.complete and expect.by in ("frontdoor", "iv")) else False
            verdicts.append(ok)
            details.append(f"routes that identify it: {', '.join(r.routes) or 'none'}")
        if expect.adjust is not None:
            z = sorted(expect.adjust)
            valid = is_adjustment_set(graph, query.treatment, query.outcome, z)
            verdicts.append(valid)
            listed = "; ".join(_fmt(s) for s in r.minimal_adjustment_sets)
            if not valid:
                details.append(
                    f"{_fmt(z)} is not a valid adjustment set; minimal sets: {listed or 'none exists'}"
                )
            elif is_minimal_adjustment_set(graph, query.treatment, query.outcome, z):
                details.append(f"{_fmt(z)} is a valid adjustment set and minimal")
            else:
                details.append(f"{_fmt(z)} is a valid adjustment set, not minimal (minimal sets: {listed})")
        holds = False if False in verdicts else None if None in verdicts else True
        out.append(
            ClaimResult(index, "query", statement, holds, "; ".join(details), query.description, where)
        )
    return out


def run_with_time_limit(fn: Callable[[], T], seconds: float) -> tuple[bool, T | None, BaseException | None]:
    """Run ``fn`` in a worker thread; ``(finished, result, error)`` after at most ``seconds``.

    A call that does not finish keeps running in a daemon thread, its result dropped.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # reported to the caller
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True, name="tenor-time-limited")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return False, None, None
    return True, box.get("result"), box.get("error")


def dowhy_graph(graph: CausalGraph) -> tuple[nx.DiGraph, list[str]]:
    """DoWhy's view of the graph, and its observed nodes.

    A plain DAG in which each latent confounder is an unobserved node.
    """
    dag = graph.to_dag()
    plain = nx.DiGraph()
    plain.add_nodes_from(dag.nodes)
    plain.add_edges_from(dag.edges)
    return plain, sorted(set(dag.nodes) - _latent(dag))


@dataclass(frozen=True)
class DoWhyAnswer:
    """DoWhy's identification of a query, or how it gave up."""

    finished: bool
    seconds: float
    backdoor_sets: list[list[str]] | None = None
    instruments: list[str] | None = None
    frontdoor: list[str] | None = None
    error: str | None = None
    estimand: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, without the timing (``seconds``)."""
        return {
            "finished": self.finished,
            "backdoor_sets": self.backdoor_sets,
            "instruments": self.instruments,
            "frontdoor": self.frontdoor,
            "error": self.error,
        }


def dowhy_identify(
    graph: CausalGraph,
    treatments: Iterable[str],
    outcomes: Iterable[str],
    *,
    time_limit: float = 30.0,
    method: str = "default",
) -> DoWhyAnswer:
    """DoWhy's non-parametric identification (back-door, IV, front-door) under a time limit.

    ``method`` is DoWhy's back-door method (``"default"``, ``"minimal-adjustment"``,
    ``"exhaustive-search"``, ...).
    """
    x, y = check_query(graph, treatments, outcomes)
    dag, observed = dowhy_graph(graph)

    def call() -> Any:
        import logging

        from dowhy.causal_identifier.auto_identifier import (
            BackdoorAdjustment,
            EstimandType,
            identify_effect_auto,
        )

        logging.getLogger("dowhy").setLevel(logging.ERROR)
        return identify_effect_auto(
            dag,
            x,
            y,
            observed,
            EstimandType.NONPARAMETRIC_ATE,
            backdoor_adjustment=BackdoorAdjustment(method),
        )

    started = time.perf_counter()
    finished, est, error = run_with_time_limit(call, time_limit)
    seconds = time.perf_counter() - started
    if not finished:
        return DoWhyAnswer(False, seconds, error=f"gave up after {time_limit:g}s")
    if error is not None:
        return DoWhyAnswer(True, seconds, error=f"{type(error).__name__}: {error}")
    sets = None
    if est.backdoor_variables is not None:
        sets = sorted(
            {tuple(sorted(v)) for k, v in est.backdoor_variables.items() if k != "backdoor" and v is not None}
        )
        sets = [list(s) for s in sets]
    return DoWhyAnswer(
        True,
        seconds,
        backdoor_sets=sets,
        instruments=sorted(est.instrumental_variables or []),
        frontdoor=sorted(est.frontdoor_variables or []),
        estimand=est,
    )
