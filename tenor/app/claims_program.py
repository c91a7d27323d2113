"""The claims program of a report folder: the interface ``tenor run`` calls, declared.

A report folder may hold a ``claims.py``: Python that measures the folder's
dynamic claims on its model (a program its author chose to write and run, not
a spec; spec files never run code). It declares ``PROGRAM``, an object with
three methods, :class:`ClaimsProgram`:

- ``evidence(folder)`` what the claims are measured on, an :class:`Evidence`:
  the model they run (calibrated, say), its named runs as DataFrames (the
  report's ``scenarios.csv`` and figures) and its feedback loops;
- ``evaluate(evidence)`` a :class:`~tenor.core.verdict.Verdict` per claim;
- ``report_outputs(evidence)`` everything else the report shows for it, a
  :class:`ReportOutputs` (the verdicts among them), or None to show only the
  verdicts of ``evaluate``.

:func:`load_claims_program` imports the file and checks ``PROGRAM``;
:func:`call` runs one of its methods. While it is imported and run, the
program's folder is first on the import path, so it may import the modules
beside it (``import history``). A program that does not import, has no
``PROGRAM``, lacks a method or fails while running is reported as a
:class:`~tenor.core.errors.SpecError` naming the file and line, never a
traceback.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "claims.py"
>>> _ = path.write_text("x = 1\\n")
>>> load_claims_program(path)
Traceback (most recent call last):
...
tenor.core.errors.SpecError: ...claims.py: PROGRAM: the claims program declares no PROGRAM
  hint: ...
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from tenor.core.errors import SpecError, TenorError
from tenor.core.verdict import Verdict

if TYPE_CHECKING:
    import pandas as pd

    from stocks_flows.loops import LoopReport
    from stocks_flows.model import Model

__all__ = ["METHODS", "ClaimsProgram", "Evidence", "ReportOutputs", "call", "load_claims_program"]

METHODS = ("evidence", "evaluate", "report_outputs")
"""The methods a claims program has."""

_HINT = (
    "end claims.py with PROGRAM = an object with evidence(folder), evaluate(evidence) and "
    "report_outputs(evidence) (see tenor.app.claims_program.ClaimsProgram)"
)

T = TypeVar("T")


class Evidence(Protocol):
    """What a claims program measures its claims on."""

    @property
    def model(self) -> Model:
        """The model the claims run (the report lists its constants)."""
        ...

    @property
    def runs(self) -> Mapping[str, pd.DataFrame]:
        """Named runs, each a wide DataFrame with a ``time`` column (the report's scenarios)."""
        ...

    @property
    def loops(self) -> LoopReport:
        """The feedback loops of the model (the report's loop table and causal-loop diagram)."""
        ...


@dataclass
class ReportOutputs:
    """What a claims program adds to its report.

    ``claims`` are the items of ``claims.json`` (empty: one per verdict);
    ``figures`` are (id, title, matplotlib figure), ``captions`` by figure id;
    ``tables`` are dicts with ``title``, ``header``, ``rows`` and ``caption``
    (or ``markdown``).
    """

    verdicts: list[Verdict]
    claims: list[dict[str, Any]] = field(default_factory=list)
    replay: list[dict[str, Any]] | None = None
    calibration: dict[str, Any] | None = None
    figures: list[tuple[str, str, Any]] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)
    tables: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class ClaimsProgram(Protocol):
    """The claims of a report folder: what they are measured on, their verdicts, the report's extras."""

    def evidence(self, folder: Path) -> Evidence:
        """What the claims are measured on, read from ``folder``."""
        ...

    def evaluate(self, evidence: Any) -> Sequence[Verdict]:
        """Each claim's verdict, in order."""
        ...

    def report_outputs(self, evidence: Any) -> ReportOutputs | None:
        """The verdicts and everything else the report shows, or None for the verdicts alone."""
        ...


def _assignment_line(path: Path, name: str) -> int | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        targets = [node.target] if isinstance(node, ast.AnnAssign) else targets
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node.lineno
    return None


def _failure(path: Path, doing: str, err: BaseException) -> SpecError:
    """A located error for an exception raised by the program's own code (its deepest line in its folder)."""
    folder = path.resolve().parent
    where, line = path, None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename).resolve().parent == folder:
            where, line = Path(frame.filename), frame.lineno
    return SpecError(
        f"the claims program failed while {doing}: {type(err).__name__}: {err}",
        file=str(where),
        line=line,
        hint=f"fix the claims program at that line; run it alone with: python {path}",
    )


@contextmanager
def _beside(path: Path) -> Iterator[None]:
    """The program's folder first on the import path while it runs, so it may import its sibling modules."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        if folder in sys.path:
            sys.path.remove(folder)


def load_claims_program(path: str | Path) -> ClaimsProgram:
    """Import ``path`` and return its ``PROGRAM``, checked to have every method of :class:`ClaimsProgram`.

    Raises
    ------
    SpecError
        When the file does not parse or fails on import (file and line named),
        declares no ``PROGRAM``, or its ``PROGRAM`` lacks a method.
    """
    path = Path(path)
    name = f"tenor_report_claims_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError("cannot load the claims program", file=str(path), hint="a claims program is a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _beside(path):
            spec.loader.exec_module(module)
    except SyntaxError as err:
        sys.modules.pop(name, None)
        raise SpecError(
            f"the claims program is not valid Python: {err.msg}",
            file=str(path),
            line=err.lineno,
            column=err.offset,
            hint="fix the syntax at that line",
        ) from None
    except TenorError:
        sys.modules.pop(name, None)
        raise
    except Exception as err:
        sys.modules.pop(name, None)
        raise _failure(path, "being imported", err) from None
    program = getattr(module, "PROGRAM", None)
    if program is None:
        raise SpecError("the claims program declares no PROGRAM", file=str(path), key="PROGRAM", hint=_HINT)
    missing = [m for m in METHODS if not callable(getattr(program, m, None))]
    if missing or not isinstance(program, ClaimsProgram):
        raise SpecError(
            f"PROGRAM has no method {', '.join(missing)}",
            file=str(path),
            line=_assignment_line(path, "PROGRAM"),
            key="PROGRAM",
            hint=_HINT,
        )
    return program


def call(path: str | Path, method: Callable[..., T], *args: Any) -> T:
    """``method(*args)`` of the program loaded from ``path``; its own failures become a located SpecError.

    A :class:`~tenor.core.errors.TenorError` (bad input the program read with
    tenor) passes through unchanged.
    """
    try:
        with _beside(Path(path)):
            return method(*args)
    except TenorError:
        raise
    except Exception as err:
        raise _failure(Path(path), f"running {getattr(method, '__name__', 'a method')}", err) from None
