"""A verdict: whether one claim holds, and why.

One type for every claim tenor judges: the claims of a causal spec (a path
is open, a sign is positive, one channel is faster than another) and the
claims an example's program measures on simulated or historical runs.

``holds`` is ``True``, ``False``, or ``None`` when the claim could not be
decided (for example, its channel has no lag). ``number`` is the claim's
place in its list, starting at 1; ``title`` a short name for it; ``detail``
the reason in words. A spec claim also carries its ``kind`` (``separation``,
``sign``, ...), the ``statement`` tenor read, what the author ``says`` it
means and ``where`` it is written; an example claim may name the ``figure``
that shows it and the ``figures`` (numbers) it was judged on.

>>> v = Verdict(1, "bounded tool", True, "the desk stops at its budget")
>>> v.word, v.to_dict()["holds"]
('holds', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Verdict"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim."""

    number: int
    title: str
    holds: bool | None
    detail: str
    kind: str | None = None
    statement: str | None = None
    says: str | None = None
    where: str | None = None
    figure: str | None = None
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def word(self) -> str:
        """``holds``, ``fails`` or ``undecided``."""
        return {True: "holds", False: "fails", None: "undecided"}[self.holds]

    def to_dict(self) -> dict[str, Any]:
        """Every field, as plain JSON-ready values."""
        return {
            "number": self.number,
            "title": self.title,
            "holds": self.holds,
            "detail": self.detail,
            "kind": self.kind,
            "statement": self.statement,
            "says": self.says,
            "where": self.where,
            "figure": self.figure,
            "figures": dict(self.figures),
        }
