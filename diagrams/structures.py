"""What a causal-loop or stock-and-flow diagram shows, as plain data.

A diagram of a stock-and-flow model does not need the model itself, only its
*structure*: which variables there are and of what kind, which links carry
which polarity, where the delays and the feedback loops are, and which flows
fill and drain which stocks. The two frozen dataclasses here hold exactly
that, so that any model (tenor's own, an XMILE or Vensim import, or a
hand-written teaching example) can be drawn once it can produce them.

:class:`CausalLoopStructure`
    *variables* (each a stock, flow, auxiliary or constant), signed *links*
    (``+`` when the effect moves with the cause, ``-`` against it, ``?``
    unknown), each possibly *delayed*, and possibly *cut* at some elements of
    a dimension (a link whose gain is about zero when, say, Treasuries are
    sold as bills), and the feedback *loops*: an id, the variables in order
    around the loop, and the polarity, ``R`` (reinforcing: an even number of
    negative links) or ``B`` (balancing: an odd number).

:class:`StockFlowStructure`
    *stocks* (accumulations), *flows* (rates that move material from a stock,
    or from a source cloud outside the model, into a stock or a sink cloud),
    *auxiliaries* (computed variables and constants) and *information links*
    (which variable a rate or an auxiliary reads).

Both validate their names when built and round-trip through plain dicts
(:meth:`to_dict` / :meth:`from_dict`), the form in which a model exports them
as JSON.

Examples
--------
>>> cld = CausalLoopStructure(
...     variables=[Variable("births", "flow"), Variable("population", "stock"),
...                Variable("deaths", "flow")],
...     links=[Link("births", "population", "+"), Link("population", "births", "+"),
...            Link("population", "deaths", "+"), Link("deaths", "population", "-", delay=True)],
...     loops=[Loop("R1", ("births", "population")), Loop("B1", ("population", "deaths"))])
>>> [(loop.id, loop.polarity) for loop in cld.loops]
[('R1', 'R'), ('B1', 'B')]
>>> CausalLoopStructure.from_dict(cld.to_dict()) == cld
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from diagrams.display import svg_of
from tenor.core.errors import GraphError

__all__ = [
    "Auxiliary",
    "CausalLoopStructure",
    "Flow",
    "InformationLink",
    "Link",
    "Loop",
    "Stock",
    "StockFlowStructure",
    "Variable",
    "loop_polarity",
]

VariableKind = Literal["stock", "flow", "auxiliary", "constant"]
Polarity = Literal["+", "-", "?"]
LoopPolarity = Literal["R", "B", "unknown"]

_KINDS = ("stock", "flow", "auxiliary", "constant")
_POLARITIES = ("+", "-", "?")


def _check_polarity(polarity: str, where: str) -> None:
    if polarity not in _POLARITIES:
        raise GraphError(f"bad polarity {polarity!r} on {where}", hint="use '+', '-' or '?' (unknown)")


@dataclass(frozen=True)
class Variable:
    """A variable of the loop structure; ``label`` is what the diagram prints (default: the name)."""

    name: str
    kind: VariableKind = "auxiliary"
    label: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise GraphError(f"variable {self.name!r} has kind {self.kind!r}", hint="kinds: " + ", ".join(_KINDS))

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class Link:
    """A causal link ``cause -> effect`` with its polarity.

    ``delay`` marks a material or information delay (drawn ``||``).
    ``cut_at`` names the elements of a dimension (for instance the tenors
    ``("bills",)``) at which the link's gain is about zero: drawn at one of
    them, the link is broken.
    """

    cause: str
    effect: str
    polarity: Polarity = "?"
    delay: bool = False
    cut_at: tuple[str, ...] = ()
    label: str | None = None

    def __post_init__(self) -> None:
        _check_polarity(self.polarity, f"link {self.cause} -> {self.effect}")
        object.__setattr__(self, "cut_at", tuple(self.cut_at))

    def is_cut(self, element: str | None) -> bool:
        """Whether the link is broken when drawn at ``element``."""
        return element is not None and element in self.cut_at


def loop_polarity(signs: Iterable[str]) -> LoopPolarity:
    """``R`` for an even number of negative links, ``B`` for odd, ``unknown`` if any sign is unknown.

    >>> loop_polarity("+-+-"), loop_polarity("+-"), loop_polarity("+?")
    ('R', 'B', 'unknown')
    """
    signs = list(signs)
    if any(s not in ("+", "-") for s in signs):
        return "unknown"
    return "B" if signs.count("-") % 2 else "R"


@dataclass(frozen=True)
class Loop:
    """A feedback loop: ``variables`` in order (the last links back to the first).

    ``polarity`` may be left as None: :class:`CausalLoopStructure` then
    computes it from the link signs.
    """

    id: str
    variables: tuple[str, ...]
    polarity: LoopPolarity | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", tuple(self.variables))
        if len(self.variables) < 1:
            raise GraphError(f"loop {self.id!r} has no variables")
        if self.polarity not in (None, "R", "B", "unknown"):
            raise GraphError(f"loop {self.id!r} has polarity {self.polarity!r}", hint="use 'R', 'B' or 'unknown'")

    def links(self) -> list[tuple[str, str]]:
        """The loop's links as ``(cause, effect)`` pairs, closing back to the first variable."""
        v = self.variables
        return [(v[i], v[(i + 1) % len(v)]) for i in range(len(v))]


def _unique(names: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise GraphError(f"{what} {name!r} is declared twice")
        seen.add(name)


def _checked_loop(loop: Loop, by_pair: Mapping[tuple[str, str], Link]) -> Loop:
    """The loop with its polarity computed from its link signs (or checked against them when declared)."""
    signs = []
    for a, b in loop.links():
        if (a, b) not in by_pair:
            raise GraphError(
                f"loop {loop.id!r} steps {a} -> {b}, which is not a link",
                hint="list the loop's variables in the order the links run",
            )
        signs.append(by_pair[(a, b)].polarity)
    computed = loop_polarity(signs)
    if loop.polarity is None:
        return Loop(loop.id, loop.variables, computed, loop.label)
    if computed != "unknown" and loop.polarity != "unknown" and loop.polarity != computed:
        raise GraphError(
            f"loop {loop.id!r} is declared {loop.polarity} but its link signs make it {computed}",
            hint="a loop is R with an even number of negative links, B with an odd number",
        )
    return loop


@dataclass(frozen=True)
class CausalLoopStructure:
    """Variables, signed links and feedback loops of a model, ready to draw.

    ``dimension`` names what ``Link.cut_at`` elements are (e.g. ``"tenor"``),
    and ``elements`` may list all of its elements (e.g. ``("bills", "2y",
    "5y", "10y", "30y")``), so that drawing at an unknown element is caught.

    Raises
    ------
    GraphError
        On a duplicate variable, a link or loop naming an unknown variable, a
        loop step with no link, or a declared loop polarity that contradicts
        its link signs.
    """

    variables: tuple[Variable, ...]
    links: tuple[Link, ...]
    loops: tuple[Loop, ...] = ()
    dimension: str | None = None
    title: str | None = None
    elements: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", tuple(self.variables))
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "elements", tuple(self.elements))
        self._check_cut_elements()
        _unique((v.name for v in self.variables), "variable")
        by_pair = self._links_by_pair()
        _unique((loop.id for loop in self.loops), "loop")
        object.__setattr__(self, "loops", tuple(_checked_loop(loop, by_pair) for loop in self.loops))

    def _check_cut_elements(self) -> None:
        """Every element a link is cut at is a declared element (when elements are declared)."""
        if not self.elements:
            return
        for link in self.links:
            unknown = [e for e in link.cut_at if e not in self.elements]
            if unknown:
                raise GraphError(
                    f"link {link.cause} -> {link.effect} is cut at unknown element(s) " + ", ".join(unknown),
                    hint="elements: " + ", ".join(self.elements),
                )

    def _links_by_pair(self) -> dict[tuple[str, str], Link]:
        """Each link by its ``(cause, effect)``, checking that it names known variables and is declared once."""
        names = {v.name for v in self.variables}
        by_pair: dict[tuple[str, str], Link] = {}
        for link in self.links:
            for n in (link.cause, link.effect):
                if n not in names:
                    raise GraphError(f"link {link.cause} -> {link.effect} names unknown variable {n!r}")
            if (link.cause, link.effect) in by_pair:
                raise GraphError(f"link {link.cause} -> {link.effect} is declared twice")
            by_pair[(link.cause, link.effect)] = link
        return by_pair

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    def link(self, cause: str, effect: str) -> Link:
        return next(lk for lk in self.links if lk.cause == cause and lk.effect == effect)

    def cut_elements(self) -> list[str]:
        """Every element at which some link is cut, in first-seen order."""
        out: list[str] = []
        for link in self.links:
            out += [e for e in link.cut_at if e not in out]
        return out

    def is_loop_cut(self, loop: Loop, element: str | None) -> bool:
        """Whether a link of ``loop`` is cut at ``element`` (the loop is then open there)."""
        return any(self.link(a, b).is_cut(element) for a, b in loop.links())

    def _repr_svg_(self) -> str | None:
        """Show the causal-loop diagram inline in Jupyter (drawn as :mod:`diagrams.cld` registers)."""
        return svg_of(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "dimension": self.dimension,
            "elements": list(self.elements),
            "variables": [{"name": v.name, "kind": v.kind, "label": v.label} for v in self.variables],
            "links": [
                {
                    "cause": lk.cause,
                    "effect": lk.effect,
                    "polarity": lk.polarity,
                    "delay": lk.delay,
                    "cut_at": list(lk.cut_at),
                    "label": lk.label,
                }
                for lk in self.links
            ],
            "loops": [
                {"id": lp.id, "variables": list(lp.variables), "polarity": lp.polarity, "label": lp.label}
                for lp in self.loops
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CausalLoopStructure:
        """Build from :meth:`to_dict` output (missing optional keys take their defaults)."""
        try:
            return cls(
                variables=tuple(Variable(**v) for v in data.get("variables", ())),
                links=tuple(Link(**{**lk, "cut_at": tuple(lk.get("cut_at", ()))}) for lk in data.get("links", ())),
                loops=tuple(
                    Loop(lp["id"], tuple(lp["variables"]), lp.get("polarity"), lp.get("label"))
                    for lp in data.get("loops", ())
                ),
                dimension=data.get("dimension"),
                elements=tuple(data.get("elements", ())),
                title=data.get("title"),
            )
        except (TypeError, KeyError) as exc:
            raise GraphError(f"not a causal-loop structure: {exc}") from None


@dataclass(frozen=True)
class Stock:
    """An accumulation (drawn as a box)."""

    name: str
    label: str | None = None

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class Flow:
    """A rate moving material from ``source`` to ``target``.

    Either end is a stock name, or None for a cloud: a source or sink outside
    the model's boundary.
    """

    name: str
    source: str | None = None
    target: str | None = None
    label: str | None = None

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class Auxiliary:
    """A computed variable (drawn as a circle), or a ``constant`` (drawn as a diamond)."""

    name: str
    label: str | None = None
    constant: bool = False

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class InformationLink:
    """``effect`` reads ``cause`` (a thin arrow), with an optional polarity."""

    cause: str
    effect: str
    polarity: Polarity = "?"

    def __post_init__(self) -> None:
        _check_polarity(self.polarity, f"information link {self.cause} -> {self.effect}")


@dataclass(frozen=True)
class StockFlowStructure:
    """Stocks, flows, auxiliaries and information links of a model, ready to draw.

    Raises
    ------
    GraphError
        On a duplicate name, a flow whose end is not a stock, a flow from a
        stock to itself, or an information link naming an unknown variable.

    Examples
    --------
    >>> sf = StockFlowStructure(
    ...     stocks=[Stock("tub")], flows=[Flow("inflow", None, "tub"), Flow("outflow", "tub", None)],
    ...     auxiliaries=[Auxiliary("drain_time", constant=True)],
    ...     links=[InformationLink("tub", "outflow", "+"), InformationLink("drain_time", "outflow", "-")])
    >>> sf.clouds()
    [('inflow', 'source'), ('outflow', 'sink')]
    """

    stocks: tuple[Stock, ...]
    flows: tuple[Flow, ...] = ()
    auxiliaries: tuple[Auxiliary, ...] = ()
    links: tuple[InformationLink, ...] = ()
    title: str | None = None
    _names: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("stocks", "flows", "auxiliaries", "links"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        names = [s.name for s in self.stocks] + [f.name for f in self.flows] + [a.name for a in self.auxiliaries]
        _unique(names, "variable")
        stocks = {s.name for s in self.stocks}
        for flow in self.flows:
            for end in (flow.source, flow.target):
                if end is not None and end not in stocks:
                    raise GraphError(
                        f"flow {flow.name!r} connects {end!r}, which is not a stock",
                        hint="a flow runs between stocks, or None for a cloud",
                    )
            if flow.source is not None and flow.source == flow.target:
                raise GraphError(f"flow {flow.name!r} runs from stock {flow.source!r} to itself")
        known = set(names)
        for link in self.links:
            for n in (link.cause, link.effect):
                if n not in known:
                    raise GraphError(f"information link {link.cause} -> {link.effect} names unknown {n!r}")
        object.__setattr__(self, "_names", frozenset(names))

    def clouds(self) -> list[tuple[str, str]]:
        """``(flow, "source" | "sink")`` for every flow end outside the model."""
        out = []
        for flow in self.flows:
            if flow.source is None:
                out.append((flow.name, "source"))
            if flow.target is None:
                out.append((flow.name, "sink"))
        return out

    def _repr_svg_(self) -> str | None:
        """Show the stock-and-flow diagram inline in Jupyter (drawn as :mod:`diagrams.stockflow` registers)."""
        return svg_of(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "stocks": [{"name": s.name, "label": s.label} for s in self.stocks],
            "flows": [{"name": f.name, "source": f.source, "target": f.target, "label": f.label} for f in self.flows],
            "auxiliaries": [{"name": a.name, "label": a.label, "constant": a.constant} for a in self.auxiliaries],
            "links": [{"cause": lk.cause, "effect": lk.effect, "polarity": lk.polarity} for lk in self.links],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StockFlowStructure:
        """Build from :meth:`to_dict` output."""
        try:
            return cls(
                stocks=tuple(Stock(**s) for s in data.get("stocks", ())),
                flows=tuple(Flow(**f) for f in data.get("flows", ())),
                auxiliaries=tuple(Auxiliary(**a) for a in data.get("auxiliaries", ())),
                links=tuple(InformationLink(**lk) for lk in data.get("links", ())),
                title=data.get("title"),
            )
        except (TypeError, KeyError) as exc:
            raise GraphError(f"not a stock-and-flow structure: {exc}") from None
