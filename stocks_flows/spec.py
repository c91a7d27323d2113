"""The stock-and-flow spec: a system-dynamics model as a modeller writes it, validated.

A *stock* accumulates: its value changes only through the *flows* into and out of
it (``d stock / dt = inflows - outflows``). *Auxiliaries* are computed from other
variables at every step, *constants* are parameters a scenario may change, and
*lookups* (graphical functions) are tables ``y = f(x)`` read by linear
interpolation. *Dimensions* (subscripts) let one variable hold one value per
element, e.g. Treasury holdings per tenor (bills, 2y, 5y, 10y, 30y). Named
*scenarios* override constants, initial values of stocks, or lookups.

The spec is written in YAML, read by :mod:`stocks_flows.load`, and published as
JSON Schema by :func:`json_schema`::

    time: {start: 0, stop: 30, dt: 0.125, unit: minute}
    constants:
      room_temperature: {value: 70, units: degF}
      characteristic_time: {value: 10, units: minute}
    stocks:
      teacup_temperature: {initial: 180, units: degF}
    flows:
      heat_loss:
        from: teacup_temperature
        equation: (teacup_temperature - room_temperature) / characteristic_time
        units: degF/minute
    scenarios:
      cold_room: {constants: {room_temperature: 40}}

A dimensioned variable lists its ``dimensions`` and gives either one equation
for every element (references to variables with the same dimension are read
element by element) or a mapping from element to equation or value.

Examples
--------
>>> spec = ModelSpec.model_validate({
...     "time": {"stop": 10},
...     "constants": {"k": 0.1},
...     "stocks": {"s": {"initial": 100}},
...     "flows": {"decay": {"from": "s", "equation": "k * s"}}})
>>> spec.constants["k"].value, spec.flows["decay"].source, spec.time.dt
(0.1, 's', 1.0)
"""

from __future__ import annotations

import datetime
import itertools
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from stocks_flows.limits import time_axis_problem
from tenor.core.fields import NAME_PATTERN, Sign, spec_value_error

__all__ = [
    "NAME_PATTERN",
    "AuxiliarySpec",
    "ConstantSpec",
    "FlowSpec",
    "LookupSpec",
    "ModelSpec",
    "ScenarioSpec",
    "StockSpec",
    "TimeSpec",
    "calendar_date",
    "json_schema",
]

_NAME_RE = re.compile(NAME_PATTERN)
_ELEMENT_RE = re.compile(r"^[A-Za-z0-9_]+$")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)


def _number_or_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise spec_value_error(f"expected a number or an equation, got {value!r}", "write a number such as 0.5")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            raise spec_value_error(
                f"the number {str(value)[:20]}... ({len(str(value))} digits) is too large for a float",
                "write a number below 1.8e308 in size",
            ) from None
    return value


Equation = Annotated[float | str, BeforeValidator(_number_or_text)]
"""A number, or equation text in the language of :mod:`stocks_flows.expr`."""

PerElement = Equation | dict[str, Equation]
"""One equation for all elements, or a mapping from element to equation."""


class TimeSpec(_Spec):
    """When the model runs, with which step, and which times are saved."""

    start: float = Field(0.0, description="Initial time.")
    stop: float = Field(description="Final time.")
    dt: float = Field(1.0, gt=0, description="Integration step.")
    save_step: float | None = Field(None, gt=0, description="Time between saved rows (default: dt).")
    unit: str = Field("day", description="Time unit, e.g. day, month, year.")
    method: Literal["euler", "rk4"] = Field("euler", description="Integration method.")
    start_date: datetime.date | None = Field(
        None,
        description="Calendar date (ISO, e.g. 2026-06-01) of the initial time, so that model times can be "
        "reported as dates; needs a unit of day.",
    )

    @model_validator(mode="after")
    def _check(self) -> TimeSpec:
        if self.start_date is not None and self.unit not in ("day", "days"):
            raise spec_value_error(
                f"start_date needs time in days, not {self.unit!r}", "set unit: day or drop start_date"
            )
        problem = time_axis_problem(self.start, self.stop, self.dt, self.save_step)
        if problem is not None:
            raise spec_value_error(problem[1].replace("the saving step", "save_step"), problem[2])
        return self


class _Variable(_Spec):
    units: str | None = Field(None, description="Units, e.g. 'people', 'dollar/day', '1'.")
    description: str | None = None
    dimensions: list[str] = Field(default_factory=list, description="Dimensions (subscripts), e.g. [tenor].")


def _constant_shorthand(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"value": value}
    return value


_SOURCE_DOC = "Where the value comes from: a citation, a table, a data series."
_ASSUMPTION_DOC = "Why the value is assumed, when no source gives it."


class ConstantSpec(_Variable):
    """A parameter: a number, or one number per element, with its source or the assumption behind it."""

    value: float | dict[str, float] = Field(description="The value, or element -> value.")
    source: str | None = Field(None, description=_SOURCE_DOC)
    assumption: str | None = Field(None, description=_ASSUMPTION_DOC)
    range: tuple[float, float] | dict[str, tuple[float, float]] | None = Field(
        None,
        description="Plausible [low, high] (or element -> [low, high]) that uncertainty analyses sweep; "
        "it must contain the value.",
    )

    @model_validator(mode="after")
    def _check_range(self) -> ConstantSpec:
        if self.range is None:
            return self
        values = self.value if isinstance(self.value, dict) else {"": self.value}
        ranges = self.range if isinstance(self.range, dict) else dict.fromkeys(values, self.range)
        for element, (low, high) in ranges.items():
            if element not in values:
                raise spec_value_error(f"range names element {element!r}, which has no value", "match value's elements")
            if not low <= values[element] <= high:
                where = f"[{element}]" if element else ""
                raise spec_value_error(
                    f"value{where} {values[element]:g} lies outside its range [{low:g}, {high:g}]",
                    "widen the range or correct the value",
                )
        return self


class StockSpec(_Variable):
    """A stock: its initial value and whether it may go below zero."""

    initial: PerElement = Field(description="Initial value: a number or an equation of constants.")
    non_negative: bool = Field(False, description="Clip the stock at zero after each step.")
    source: str | None = Field(None, description=_SOURCE_DOC)
    assumption: str | None = Field(None, description=_ASSUMPTION_DOC)


_SIGNS_DOC = (
    "Declared polarity of links into this variable: cause -> '+' (moves it the same way) or '-' "
    "(the opposite way). Loop analysis uses it before reading the sign off the equation."
)


class FlowSpec(_Variable):
    """A flow out of one stock (``from``) and/or into another (``to``), at a rate given by its equation."""

    equation: PerElement = Field(description="Rate, in stock units per time unit.")
    signs: dict[str, Sign] = Field(default_factory=dict, description=_SIGNS_DOC)
    source: str | None = Field(None, alias="from", description="The stock this flow drains.")
    target: str | None = Field(None, alias="to", description="The stock this flow fills.")
    non_negative: bool = Field(False, description="A uniflow: negative rates are set to zero.")

    @model_validator(mode="after")
    def _check(self) -> FlowSpec:
        if self.source is None and self.target is None:
            raise spec_value_error(
                "a flow needs 'from' (the stock it drains) or 'to' (the stock it fills)",
                "add from: STOCK or to: STOCK",
            )
        return self


class AuxiliarySpec(_Variable):
    """A variable computed from others at every step."""

    equation: PerElement = Field(description="The equation.")
    signs: dict[str, Sign] = Field(default_factory=dict, description=_SIGNS_DOC)


class LookupSpec(_Spec):
    """A graphical function: points (x, y), read by linear interpolation.

    Outside the x range the value is held at the end points, unless
    ``extrapolate`` is true.
    """

    points: list[tuple[float, float]] | None = Field(None, description="[[x, y], ...] with x increasing.")
    x: list[float] | None = None
    y: list[float] | None = None
    extrapolate: bool = False
    units: str | None = None
    description: str | None = None
    source: str | None = Field(None, description=_SOURCE_DOC)
    assumption: str | None = Field(None, description=_ASSUMPTION_DOC)

    @model_validator(mode="after")
    def _check(self) -> LookupSpec:
        xs, ys = self.xs, self.ys
        if len(xs) < 2 or len(xs) != len(ys):
            raise spec_value_error(
                "a lookup needs at least two points, with as many x as y values",
                "write points: [[0, 0], [1, 1]] or x: [...] with y: [...] of the same length",
            )
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise spec_value_error("the x values of a lookup must increase", "sort the points by x")
        return self

    @property
    def xs(self) -> list[float]:
        if self.points is not None:
            return [p[0] for p in self.points]
        return list(self.x or [])

    @property
    def ys(self) -> list[float]:
        if self.points is not None:
            return [p[1] for p in self.points]
        return list(self.y or [])


class ScenarioSpec(_Spec):
    """Named changes to the base model."""

    description: str | None = None
    constants: dict[str, float | dict[str, float]] = Field(default_factory=dict)
    initial: dict[str, float | dict[str, float]] = Field(default_factory=dict, description="Stock -> initial.")
    lookups: dict[str, LookupSpec] = Field(default_factory=dict)
    # Declared loop cuts, read by stocks_flows.loops (the model builder ignores them).
    cuts: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Links cut in this scenario: 'cause -> effect' -> elements where the gain is zero "
        "(an empty list cuts every element).",
    )


def _check_names(value: dict[str, Any]) -> dict[str, Any]:
    for name in value:
        if not _NAME_RE.match(name):
            raise spec_value_error(
                f"{name!r} is not a valid name",
                "names start with a letter or _, then letters, digits or _ (no spaces)",
            )
    return value


class ModelSpec(_Spec):
    """A whole stock-and-flow model."""

    name: str | None = None
    description: str | None = None
    time: TimeSpec
    dimensions: dict[str, list[str]] = Field(default_factory=dict, description="Dimension -> its elements.")
    constants: dict[str, Annotated[ConstantSpec, BeforeValidator(_constant_shorthand)]] = Field(default_factory=dict)
    stocks: dict[str, StockSpec] = Field(default_factory=dict)
    flows: dict[str, FlowSpec] = Field(default_factory=dict)
    auxiliaries: dict[str, AuxiliarySpec] = Field(default_factory=dict)
    lookups: dict[str, LookupSpec] = Field(default_factory=dict)
    scenarios: dict[str, ScenarioSpec] = Field(default_factory=dict)

    _names = field_validator("constants", "stocks", "flows", "auxiliaries", "lookups", "dimensions")(
        classmethod(lambda cls, v: _check_names(v))
    )

    @field_validator("dimensions")
    @classmethod
    def _check_elements(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim, elements in value.items():
            if not elements:
                raise spec_value_error(f"dimension {dim!r} has no elements", "list its elements: [a, b]")
            for element in elements:
                if not _ELEMENT_RE.match(str(element)):
                    raise spec_value_error(
                        f"element {element!r} of {dim!r} is not a valid element name",
                        "use letters, digits and _ only, e.g. 10y",
                    )
            if len(set(elements)) != len(elements):
                raise spec_value_error(f"dimension {dim!r} lists an element twice", "remove the duplicate")
        return value


def calendar_date(time: TimeSpec, t: float) -> datetime.date | None:
    """The calendar date of model time ``t`` (days), or None when the spec gives no ``start_date``."""
    if time.start_date is None:
        return None
    return time.start_date + datetime.timedelta(days=round(t - time.start))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the stock-and-flow spec (for editors and ``tenor schema stocks_flows``)."""
    schema = ModelSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tenor stock-and-flow model"
    return schema
