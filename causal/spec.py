"""The causal spec: a causal graph as a strategist writes it, validated.

A spec names its *nodes* (variables), its *edges* (direct causal links, each
with a sign, a gain and a lag), latent confounders (``a <-> b``, or nodes with
``role: latent``), named *channels* (directed paths that carry an argument),
*claims* that ``tenor check`` evaluates, and causal *queries*. It is written in
YAML (see ``examples/duration_trade/causal.yaml`` and the README), read by
:mod:`causal.load`, and published as JSON Schema by :func:`json_schema`.

Edges are keyed by a compact arrow::

    edges:
      mof_intervention -> bill_sales: {sign: +, gain: 0.8, lag: 1 day}
      global_risk <-> usdjpy: {description: risk appetite moves both}

The *gain* is the effect of a unit change of the cause on the effect (a linear
elasticity); its sign, when both are given, must agree with ``sign``. Lags and
time constants take a number and a unit: hours, days, sessions (one trading
session, counted as one day), weeks, months or quarters.

Examples
--------
>>> spec = CausalSpec.model_validate({
...     "nodes": {"x": {}, "y": {}},
...     "edges": {"x -> y": {"gain": -0.5, "lag": "2 days"}}})
>>> edge = spec.directed_edges()[0]
>>> edge.cause, edge.effect, edge.sign, edge.delay.days
('x', 'y', '-', 2.0)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tenor.core.fields import NAME_PATTERN, TIME_UNITS, UNIT_ALIASES, Sign, format_days, spec_value_error
from tenor.core.specfile import did_you_mean

__all__ = [
    "NAME_PATTERN",
    "TIME_UNITS",
    "CausalSpec",
    "ChannelSpec",
    "Claim",
    "Duration",
    "Edge",
    "EdgeSpec",
    "Expectation",
    "NodeSpec",
    "OrderClaim",
    "QuerySpec",
    "Role",
    "Separation",
    "SignClaim",
    "format_days",
    "json_schema",
    "parse_edge_key",
    "spec_value_error",
]

_NAME_RE = re.compile(NAME_PATTERN)


def _as_list(value: Any) -> Any:
    """Accept one name or a list of names."""
    if isinstance(value, str):
        return [value]
    return value


NameList = Annotated[
    list[str],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Duration(_Spec):
    """A length of time: ``value`` in ``unit`` (written ``"1 day"``, ``"6 hours"``).

    >>> Duration.model_validate("3 sessions").days
    3.0
    >>> str(Duration.model_validate({"value": 2, "unit": "quarters"}))
    '2 quarters'
    """

    value: float = Field(ge=0, description="How many units (zero or more).")
    unit: Literal["hour", "day", "session", "week", "month", "quarter", "year"] = Field(
        description="hour, day, session (a trading session, one day), week, month, quarter or year."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise spec_value_error(f"bad duration {value!r}", "write a number and a unit, e.g. lag: 2 days")
        if isinstance(value, int | float):
            raise spec_value_error(
                f"duration {value!r} has no unit", f"write a number and a unit, e.g. lag: {value} days"
            )
        if isinstance(value, str):
            match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]+)\s*", value)
            if not match:
                raise spec_value_error(
                    f"bad duration {value!r}", "write a number and a unit, e.g. lag: 6 hours or lag: 1 quarter"
                )
            number, unit = match.groups()
            canon = UNIT_ALIASES.get(unit.lower())
            if canon is None:
                close = did_you_mean(unit.lower(), list(UNIT_ALIASES))
                raise spec_value_error(
                    f"unknown time unit {unit!r}",
                    (f"did you mean {close!r}? " if close else "")
                    + "units: hours, days, sessions, weeks, months, quarters, years",
                )
            return {"value": float(number), "unit": canon}
        if isinstance(value, dict) and isinstance(value.get("unit"), str):
            unit = value["unit"].lower()
            return {**value, "unit": UNIT_ALIASES.get(unit, unit)}
        return value

    @property
    def days(self) -> float:
        """The duration in days."""
        return self.value * TIME_UNITS[self.unit]

    def in_unit(self, unit: str) -> float:
        """The duration in another unit."""
        return self.days / TIME_UNITS[UNIT_ALIASES[unit]]

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{number} {self.unit}" + ("" if self.value == 1 else "s")


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*[A-Za-z]+\s*$", "examples": ["1 day", "6 hours"]},
        {
            "type": "object",
            "properties": {"value": {"type": "number", "minimum": 0}, "unit": {"type": "string"}},
            "required": ["value", "unit"],
            "additionalProperties": False,
        },
    ],
    "description": "A number and a unit: hours, days, sessions, weeks, months, quarters or years.",
}
DurationValue = Annotated[Duration, WithJsonSchema(_DURATION_SCHEMA)]


class Role(StrEnum):
    """What a node stands for. ``latent`` nodes are unobserved."""

    variable = "variable"
    policy = "policy"
    market = "market"
    macro = "macro"
    funding = "funding"
    institution = "institution"
    state = "state"
    exogenous = "exogenous"
    exposure = "exposure"
    outcome = "outcome"
    adjusted = "adjusted"
    selected = "selected"
    latent = "latent"


class NodeSpec(_Spec):
    """A variable of the causal graph."""

    label: str | None = Field(None, description="Name shown in diagrams and reports.")
    description: str | None = Field(None, description="What the variable measures.")
    role: Role = Field(Role.variable, description="policy, market, macro, funding, latent, ...")
    unit: str | None = Field(None, description="Unit of measurement, e.g. 'JPY tn' or 'bp'.")
    group: str | None = Field(None, description="A group name, used to cluster nodes in diagrams.")

    @property
    def observed(self) -> bool:
        return self.role is not Role.latent


class EdgeSpec(_Spec):
    """Attributes of a direct causal link (``a -> b``) or a latent confounding (``a <-> b``)."""

    sign: Sign | None = Field(None, description='+ or - (quote the minus in block style: sign: "-").')
    gain: float | None = Field(
        None, description="Effect of a unit change of the cause on the effect (a linear elasticity)."
    )
    lag: DurationValue | None = Field(None, description="Delay before the effect shows, e.g. '1 day', '6 hours'.")
    time_constant: DurationValue | None = Field(None, description="Time constant of a gradual response.")
    description: str | None = None
    source: str | None = Field(None, description="Citation for the link or its numbers.")

    @field_validator("gain")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise spec_value_error(f"gain must be a finite number, got {value}", "write a number such as 0.8")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EdgeSpec:
        if self.sign is not None and self.gain is not None and self.gain != 0:
            if (self.gain > 0) != (self.sign == "+"):
                raise spec_value_error(
                    f"sign {self.sign} disagrees with gain {self.gain:g}",
                    "make the gain's sign match, or drop one of the two",
                )
        if self.lag is not None and self.time_constant is not None:
            raise spec_value_error(
                "give a lag or a time constant, not both", "keep the one that describes the response"
            )
        return self


@dataclass(frozen=True)
class Edge:
    """A directed edge of a spec with its attributes resolved."""

    cause: str
    effect: str
    key: str
    spec: EdgeSpec

    @property
    def sign(self) -> str | None:
        """``+``, ``-``, or None when neither sign nor gain is given (a zero gain has sign +)."""
        if self.spec.sign is not None:
            return self.spec.sign
        if self.spec.gain is not None:
            return "-" if self.spec.gain < 0 else "+"
        return None

    @property
    def gain(self) -> float | None:
        return self.spec.gain

    @property
    def delay(self) -> Duration | None:
        """The lag, or else the time constant."""
        return self.spec.lag if self.spec.lag is not None else self.spec.time_constant


_EDGE_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(->|<->|<-)\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
EDGE_KEY_PATTERN = r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*(->|<->)\s*[A-Za-z_][A-Za-z0-9_]*\s*$"


def parse_edge_key(key: str) -> tuple[str, str, str] | None:
    """Split ``"a -> b"`` into ``("a", "->", "b")``; ``a <- b`` is turned around.

    >>> parse_edge_key("x->y"), parse_edge_key("y <- x"), parse_edge_key("u <-> v")
    (('x', '->', 'y'), ('x', '->', 'y'), ('u', '<->', 'v'))
    """
    match = _EDGE_KEY.match(key)
    if not match:
        return None
    a, arrow, b = match.groups()
    if arrow == "<-":
        return b, "->", a
    return a, arrow, b


def _split_path(value: Any) -> Any:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("->")]
        return parts
    return value


class ChannelSpec(_Spec):
    """A named directed path that carries part of the argument."""

    label: str | None = Field(None, description="Name shown in diagrams and reports.")
    path: Annotated[
        list[str],
        BeforeValidator(_split_path),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "examples": ["a -> b -> c"]}, {"type": "array", "items": {"type": "string"}}]}
        ),
    ] = Field(description="The path, as 'a -> b -> c' or a list of nodes.", min_length=2)
    claim: str | None = Field(None, description="The claim this channel carries, in words.")
    description: str | None = None


class Separation(_Spec):
    """``x`` and ``y`` (node names or lists) given the conditioning set ``given``."""

    x: NameList
    y: NameList
    given: NameList = Field(default_factory=list)


class SignClaim(_Spec):
    """The sign of a channel (the product of its edge signs)."""

    channel: str
    expected: Sign = Field(alias="is")


class OrderClaim(_Spec):
    """``channel`` is faster (smaller total lag) or larger (bigger |magnitude|) than ``than``."""

    channel: str
    than: str


_CLAIM_KINDS = ("distinct", "separated", "connected", "sign", "faster", "larger")


class Claim(_Spec):
    """One checkable statement. Give exactly one of the claim kinds, and optionally ``says``."""

    says: str | None = Field(None, description="The claim in words, as the argument states it.")
    distinct: list[str] | None = Field(
        None, description="Channels that share no intermediate node and no edge.", min_length=2
    )
    separated: Separation | None = Field(None, description="x is d-separated from y given the set.")
    connected: Separation | None = Field(None, description="x is d-connected to y given the set.")
    sign: SignClaim | None = Field(None, description="A channel's sign: {channel: name, is: +}.")
    faster: OrderClaim | None = Field(None, description="Total lag of channel is below that of 'than'.")
    larger: OrderClaim | None = Field(None, description="|magnitude| of channel exceeds that of 'than'.")

    @model_validator(mode="after")
    def _one_kind(self) -> Claim:
        given = [k for k in _CLAIM_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise spec_value_error(
                "a claim needs exactly one of "
                + ", ".join(_CLAIM_KINDS)
                + (f" (found {', '.join(given)})" if given else ""),
                "split it into one claim per list item",
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _CLAIM_KINDS if getattr(self, k) is not None)


class Expectation(_Spec):
    """What the author expects identification to find for a query."""

    identifiable: bool | None = None
    by: Literal["backdoor", "frontdoor", "iv", "id", "none"] | None = Field(
        None, description="The route expected to identify the effect."
    )
    adjust: list[str] | None = Field(None, description="An adjustment set expected to be valid (and minimal).")


class QuerySpec(_Spec):
    """A causal query: the effect of ``treatment`` on ``outcome``."""

    treatment: NameList = Field(min_length=1)
    outcome: NameList = Field(min_length=1)
    description: str | None = None
    expect: Expectation | None = None


def _none_to_empty(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {k: ({} if v is None else v) for k, v in value.items()}
    return value


def _none_to_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


class CausalSpec(_Spec):
    """A causal graph spec: nodes, edges, channels, claims and queries."""

    name: str | None = Field(None, description="Short name of the model.")
    title: str | None = None
    description: str | None = None
    lag_unit: Literal["hour", "day", "session", "week", "month", "quarter", "year"] | None = Field(
        None, description="Unit in which total lags are reported (default: the largest that fits each lag)."
    )
    nodes: Annotated[dict[str, NodeSpec], BeforeValidator(_none_to_empty)] = Field(
        default_factory=dict, description="Variables, by name (letters, digits, _)."
    )
    edges: Annotated[dict[str, EdgeSpec], BeforeValidator(_none_to_empty)] = Field(
        default_factory=dict,
        description="Links keyed 'cause -> effect' (or 'a <-> b' for a latent confounder).",
        json_schema_extra={"propertyNames": {"pattern": EDGE_KEY_PATTERN}},
    )
    channels: Annotated[dict[str, ChannelSpec], BeforeValidator(_none_to_dict)] = Field(
        default_factory=dict, description="Named directed paths."
    )
    claims: Annotated[list[Claim], BeforeValidator(_none_to_list)] = Field(
        default_factory=list, description="Statements that tenor check evaluates."
    )
    queries: Annotated[dict[str, QuerySpec], BeforeValidator(_none_to_dict)] = Field(
        default_factory=dict, description="Causal queries, by name."
    )

    _source: Any = PrivateAttr(default=None)

    def directed_edges(self) -> list[Edge]:
        """The ``a -> b`` edges, in file order (malformed keys are skipped; see causal.validate)."""
        out = []
        for key, attrs in self.edges.items():
            parsed = parse_edge_key(key)
            if parsed and parsed[1] == "->":
                out.append(Edge(parsed[0], parsed[2], key, attrs))
        return out

    def bidirected_edges(self) -> list[tuple[str, str, str]]:
        """The ``a <-> b`` pairs as ``(a, b, key)``."""
        out = []
        for key in self.edges:
            parsed = parse_edge_key(key)
            if parsed and parsed[1] == "<->":
                out.append((parsed[0], parsed[2], key))
        return out

    def latent_nodes(self) -> list[str]:
        return [n for n, node in self.nodes.items() if not node.observed]

    @property
    def source(self) -> Any:
        """The :class:`tenor.core.specfile.Document` the spec was read from, if any."""
        return self._source

    def where(self, *path: str | int) -> str | None:
        """``file:line`` of a key path, when the spec was read from a file."""
        if self._source is None:
            return None
        mark = self._source.locate(path)
        return f"{self._source.file}:{mark[0]}" if mark else self._source.file


def json_schema() -> dict[str, Any]:
    """JSON Schema of the causal spec, for editors (YAML language servers) to autocomplete.

    >>> sorted(json_schema()["properties"])[:3]
    ['channels', 'claims', 'description']
    """
    schema = CausalSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tenor causal spec"
    return json.loads(json.dumps(schema))
