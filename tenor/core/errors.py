"""The one exception hierarchy of tenor.

Every error a user can cause is a :class:`TenorError`. The command line prints
these as text (or JSON) and never shows a traceback for them. Errors in a spec
file are :class:`SpecError`, which carries one or more :class:`Diagnostic`
records, each naming the file, line, column and key, what is wrong, and a hint
on how to fix it.

Examples
--------
>>> err = SpecError("expected a number, got 'high'", file="causal.yaml", line=42,
...                 column=11, key="edges.a -> b.gain",
...                 hint="write the gain as a signed number, e.g. gain: -0.4")
>>> print(err)
causal.yaml:42:11: edges.a -> b.gain: expected a number, got 'high'
  hint: write the gain as a signed number, e.g. gain: -0.4
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = [
    "Diagnostic",
    "ExportError",
    "ExpressionError",
    "GraphError",
    "NotIdentifiableError",
    "SimulationError",
    "SpecError",
    "TenorError",
]


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input: where it is, what is wrong, how to fix it."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = None
    hint: str | None = None

    def location(self) -> str:
        """``file:line:column`` (the parts that are known)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: "
        if self.key:
            text += f"{self.key}: "
        text += self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class TenorError(Exception):
    """Base of every error tenor raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, object]:
        return {"type": type(self).__name__, "message": self.message, "hint": self.hint}


class SpecError(TenorError):
    """A spec or model file is invalid; holds every problem found in it."""

    def __init__(
        self,
        message: str | None = None,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        hint: str | None = None,
        diagnostics: Iterable[Diagnostic] = (),
    ) -> None:
        found = list(diagnostics)
        if message is not None:
            found.insert(0, Diagnostic(message, file, line, column, key, hint))
        if not found:
            raise ValueError("SpecError needs a message or diagnostics")
        self.diagnostics: list[Diagnostic] = found
        first = found[0]
        super().__init__(first.message, hint=first.hint)
        self.file, self.line, self.column, self.key = first.file, first.line, first.column, first.key

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)

    def to_dict(self) -> dict[str, object]:
        return {"type": type(self).__name__, "errors": [d.to_dict() for d in self.diagnostics]}


class ExpressionError(SpecError):
    """An equation does not parse or refers to something unknown."""


class GraphError(TenorError):
    """A graph cannot answer the question: a cycle, an unknown node, overlapping sets."""


class NotIdentifiableError(TenorError):
    """A causal effect is not identifiable (raised only when asked to be strict)."""


class SimulationError(TenorError):
    """A run produced a non-finite value or could not proceed."""


class ExportError(TenorError):
    """An output could not be written or rendered."""
