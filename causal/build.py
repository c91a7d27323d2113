"""Building a validated :class:`~causal.spec.CausalSpec` from the data of a parsed document.

Every reader of a graph format (YAML, dagitty, node-link JSON) ends here:
:func:`spec_from_data` checks the size limits, the field types and the
references and structure (:func:`causal.validate.check_spec`), and reports
every problem at once as one located :class:`tenor.core.errors.SpecError`.

Examples
--------
>>> from tenor.core.specfile import parse_yaml
>>> spec = spec_from_data(parse_yaml("nodes: {x: {}, y: {}}\\nedges: {x -> y: {}}\\n"))
>>> [(e.cause, e.effect) for e in spec.directed_edges()]
[('x', 'y')]
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from causal.spec import CausalSpec
from causal.validate import check_spec
from tenor.core.errors import Diagnostic, SpecError
from tenor.core.limits import MAX_EDGES, MAX_NODES, check_graph_size
from tenor.core.specfile import Document, validation_diagnostics

__all__ = ["spec_from_data"]


def spec_from_data(doc: Document) -> CausalSpec:
    """Validate the data of a YAML document as a causal spec."""
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(
            "a causal spec is a mapping with nodes:, edges:, channels:, claims:, queries:",
            file=doc.file,
            line=1,
            column=1,
            hint="start the file with 'nodes:'",
        )
    _check_size(doc, data)
    try:
        spec = CausalSpec.model_validate(data)
    except ValidationError as exc:
        diagnostics = validation_diagnostics(exc, doc, CausalSpec)
        diagnostics += _lenient_reference_check(doc, exc, diagnostics)
        raise SpecError(diagnostics=_sorted(diagnostics)) from None
    problems = check_spec(spec)
    if problems:
        raise SpecError(diagnostics=_sorted([doc.diagnostic(p) for p in problems]))
    spec._source = doc
    return spec


def _check_size(doc: Document, data: dict[str, Any]) -> None:
    """Refuse a graph over :data:`~tenor.core.limits.MAX_NODES` nodes or :data:`~tenor.core.limits.MAX_EDGES` edges."""
    nodes, edges = data.get("nodes"), data.get("edges")
    n_nodes = len(nodes) if isinstance(nodes, dict | list) else 0
    n_edges = len(edges) if isinstance(edges, dict | list) else 0
    if n_nodes > MAX_NODES or n_edges > MAX_EDGES:
        where = doc.locate(("nodes",) if n_nodes > MAX_NODES else ("edges",), at_key=True)
        check_graph_size(n_nodes, n_edges, file=doc.file, line=where[0] if where else None)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.line or 0, d.column or 0))


def _lenient_reference_check(doc: Document, exc: ValidationError, found: list[Diagnostic]) -> list[Diagnostic]:
    """Also report reference problems when some entries have type errors.

    Entries of ``nodes``/``edges``/``channels``/``claims``/``queries`` that fail
    validation are replaced by empty ones (their names are kept), so that an
    unknown node elsewhere in the file is reported in the same run.
    """
    data: dict[str, Any] = dict(doc.data)
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        if len(loc) < 2 or loc[0] not in data:
            if len(loc) == 1 and loc[0] in data:
                data.pop(loc[0])
            continue
        section, entry = loc[0], loc[1]
        value = data[section]
        if isinstance(value, dict) and entry in value:
            value = dict(value)
            value[entry] = {} if section in ("nodes", "edges") else None
            data[section] = {k: v for k, v in value.items() if v is not None}
        elif isinstance(value, list) and isinstance(entry, int):
            data[section] = [v for i, v in enumerate(value) if i != entry]
        else:
            data.pop(section, None)
    try:
        spec = CausalSpec.model_validate(data)
    except ValidationError:
        return []
    seen = {(d.line, d.key) for d in found}
    out = []
    for problem in check_spec(spec):
        diag = doc.diagnostic(problem)
        if (diag.line, diag.key) not in seen:
            out.append(diag)
    return out
