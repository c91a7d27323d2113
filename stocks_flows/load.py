"""Reading stock-and-flow specs from YAML, with every error located in the file.

:func:`parse_spec` and :func:`read_spec` turn YAML into a validated
:class:`~stocks_flows.spec.ModelSpec`; :func:`parse_model` and :func:`read_model`
go one step further, to the internal :class:`~stocks_flows.model.Model`, which
also checks every equation (syntax, names, units). Errors are
:class:`~tenor.core.errors.SpecError` (or its subclass
:class:`~tenor.core.errors.ExpressionError` for equations), holding *all* problems
found, each at ``file:line:column`` with its key path and a hint, as the causal
spec does (:mod:`tenor.core.specfile`).

:func:`load_model` is the front door for any model file: a ``.yaml`` spec, an
XMILE file (``.xmile``, ``.stmx``, ``.xml``) or a Vensim ``.mdl`` file.

Examples
--------
>>> text = '''
... time: {stop: 10}
... stocks:
...   s: {initial: 100}
... flows:
...   decay: {from: s, equation: k * ss}
... constants:
...   k: 0.1
... '''
>>> parse_model(text, file="decay.yaml")
Traceback (most recent call last):
...
tenor.core.errors.ExpressionError: decay.yaml:6:34: flows.decay.equation: unknown variable 'ss'
  hint: did you mean 's'?
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tenor.core.errors import Diagnostic, SpecError
from tenor.core.specfile import Document, parse_yaml, read_text, validation_diagnostics

if TYPE_CHECKING:
    from stocks_flows.model import Model
    from stocks_flows.spec import ModelSpec

__all__ = ["MODEL_SUFFIXES", "load_model", "parse_model", "parse_spec", "read_model", "read_spec"]

MODEL_SUFFIXES = {
    ".yaml": "spec",
    ".yml": "spec",
    ".xmile": "xmile",
    ".stmx": "xmile",
    ".xml": "xmile",
    ".mdl": "vensim",
}
"""File suffixes tenor reads as models, and what it reads them as."""


def _validate(doc: Document) -> ModelSpec:
    from pydantic import ValidationError

    from stocks_flows.spec import ModelSpec

    if not isinstance(doc.data, dict):
        raise SpecError(
            "a stock-and-flow spec is a mapping with time:, stocks:, flows: ...",
            file=doc.file,
            line=1,
            hint="start the file with 'time: {start: 0, stop: 100, dt: 1}'",
        )
    if "time" not in doc.data and ({"nodes", "edges"} & set(doc.data)):
        raise SpecError(
            "this is a causal spec; a stock-and-flow model is needed here",
            file=doc.file,
            line=1,
            hint="pass the stock-and-flow model (with time:, stocks:, flows:), or use a causal command "
            "(tenor check, tenor draw --kind dag)",
        )
    try:
        return ModelSpec.model_validate(doc.data)
    except ValidationError as exc:
        found = validation_diagnostics(exc, doc, ModelSpec)
        raise SpecError(diagnostics=[_comma_hint(d) for d in found]) from None


def _comma_hint(diagnostic: Diagnostic) -> Diagnostic:
    """An 'unknown key' that is a piece of an equation: a comma split an unquoted {...} value."""
    key = (diagnostic.key or "").rsplit(".", 1)[-1]
    if (diagnostic.message.startswith("unknown key") and any(c in key for c in "()[]*/+ ")) or key[:1].isdigit():
        return replace(
            diagnostic,
            hint='inside { }, a comma ends the value: quote an equation that has commas, e.g. {equation: "min(a, b)"}',
        )
    return diagnostic


def parse_spec(text: str, file: str = "<input>") -> ModelSpec:
    """Validate YAML text as a stock-and-flow spec."""
    return _validate(parse_yaml(text, file=file))


def read_spec(path: str | Path) -> ModelSpec:
    """Read and validate a stock-and-flow spec file."""
    return parse_spec(read_text(path), file=str(path))


def parse_model(text: str, file: str = "<input>") -> Model:
    """YAML text -> validated spec -> internal model (every equation checked)."""
    from stocks_flows.model import build_model

    doc = parse_yaml(text, file=file)
    spec = _validate(doc)
    return build_model(spec, doc, text)


def read_model(path: str | Path) -> Model:
    """Read a stock-and-flow spec file into the internal model."""
    return parse_model(read_text(path), file=str(path))


def load_model(path: str | Path, data_files: tuple[str | Path, ...] | list[str | Path] = ()) -> Model:
    """Any model file (spec YAML, XMILE, Vensim) -> the internal model.

    ``data_files`` give the values of a Vensim model's DATA variables that have no equation
    (see :func:`stocks_flows.xmile.read_vensim`).

    Raises
    ------
    SpecError
        When the file is missing, of an unknown kind, or invalid.
    """
    p = Path(path)
    kind = MODEL_SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise SpecError(
            f"unknown model file type {p.suffix or '(no suffix)'!r}",
            file=str(path),
            hint="give a .yaml spec, an XMILE file (.xmile, .stmx) or a Vensim .mdl file",
        )
    if not p.exists():
        raise SpecError("file not found", file=str(path), hint="check the path and the current directory")
    if kind == "spec":
        return replace(read_model(p), path=str(p))
    from stocks_flows.xmile import read_vensim, read_xmile

    return read_xmile(p) if kind == "xmile" else read_vensim(p, data_files)
