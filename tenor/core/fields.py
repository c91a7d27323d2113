"""Field types shared by the causal spec and the stock-and-flow spec.

Both specs name things the same way, write signs the same way (``+``, ``-``,
``positive``, ``negative``) and count time in the same units; those pieces
live here so neither spec imports the other.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Sign).validate_python("negative")
'-'
>>> format_days(0.25), format_days(9)
('6 hours', '1.29 weeks')
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = ["NAME_PATTERN", "TIME_UNITS", "UNIT_ALIASES", "Sign", "format_days", "spec_value_error"]

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""What a node or variable name may be: a letter or underscore, then letters, digits, underscores."""

TIME_UNITS: dict[str, float] = {
    "hour": 1 / 24,
    "day": 1.0,
    "session": 1.0,
    "week": 7.0,
    "month": 365.25 / 12,
    "quarter": 365.25 / 4,
    "year": 365.25,
}
"""Length of each time unit in days. A trading session counts as one day."""

UNIT_ALIASES: dict[str, str] = {
    **{u: u for u in TIME_UNITS},
    **{u + "s": u for u in TIME_UNITS},
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "d": "day",
    "w": "week",
    "wk": "week",
    "wks": "week",
    "mo": "month",
    "q": "quarter",
    "y": "year",
    "yr": "year",
    "yrs": "year",
}
"""Every spelling of a time unit tenor accepts, mapped to its name in :data:`TIME_UNITS`."""

_SIGN_WORDS = {"+": "+", "-": "-", "positive": "+", "negative": "-", "pos": "+", "neg": "-", "+1": "+", "-1": "-"}


def spec_value_error(message: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error whose message and hint reach the user unchanged."""
    return PydanticCustomError("tenor_spec", "{message}", {"message": message, "hint": hint})


def _parse_sign(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        raise spec_value_error(f"bad sign {value!r}", 'write sign: + or sign: "-" (or positive / negative)')
    if isinstance(value, int | float) and value in (1, -1):
        return "+" if value > 0 else "-"
    if isinstance(value, str) and value.strip().lower() in _SIGN_WORDS:
        return _SIGN_WORDS[value.strip().lower()]
    raise spec_value_error(f"bad sign {value!r}", 'write sign: + or sign: "-" (or positive / negative)')


Sign = Annotated[
    Literal["+", "-"],
    BeforeValidator(_parse_sign),
    WithJsonSchema({"enum": ["+", "-", "positive", "negative"], "description": "+ or - (quote a lone minus)."}),
]
"""A link's polarity: ``+`` or ``-`` (also ``positive``/``negative``, ``1``/``-1``)."""


def format_days(days: float, unit: str | None = None) -> str:
    """A length in days, written in ``unit``, or else in the largest unit that keeps it at one or more.

    >>> format_days(0.25), format_days(9), format_days(182.625), format_days(0.25, "day")
    ('6 hours', '1.29 weeks', '2 quarters', '0.25 days')
    """
    if unit is not None:
        value = days / TIME_UNITS[unit]
    else:
        for unit in ("quarter", "month", "week", "day"):
            value = days / TIME_UNITS[unit]
            if value >= 1:
                break
        else:
            unit, value = "hour", days / TIME_UNITS["hour"]
    text = f"{value:.3g}"
    return f"{text} {unit}" + ("" if text == "1" else "s")
