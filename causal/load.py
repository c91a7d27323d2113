"""Reading causal specs: YAML text or file → validated :class:`~causal.spec.CausalSpec`.

:func:`read_spec` reports *all* problems of a file at once, each at its
``file:line:column`` with the key path and a hint, as one
:class:`tenor.core.errors.SpecError`. :func:`read_graph_source` also accepts dagitty
text and standard input, for commands that take any graph.

Examples
--------
>>> spec = parse_spec("nodes: {x: {}, y: {}}\\nedges:\\n  x -> y: {sign: +}\\n")
>>> [(e.cause, e.effect, e.sign) for e in spec.directed_edges()]
[('x', 'y', '+')]
>>> parse_spec("nodes: {x: {}}\\nedges:\\n  x -> z: {}\\n", file="g.yaml")
Traceback (most recent call last):
...
tenor.core.errors.SpecError: g.yaml:3:3: edges.x -> z: unknown node 'z' in edge 'x -> z'
  hint: declare it under nodes:, or fix the spelling
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from causal.spec import CausalSpec
from causal.validate import check_spec
from tenor.core.errors import Diagnostic, SpecError
from tenor.core.limits import MAX_EDGES, MAX_NODES, check_graph_size
from tenor.core.specfile import Document, parse_yaml, read_stdin, read_text, validation_diagnostics

__all__ = ["parse_spec", "read_graph_source", "read_spec", "spec_from_data"]


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


def parse_spec(text: str, file: str = "<input>") -> CausalSpec:
    """Parse and validate causal-spec YAML text."""
    return spec_from_data(parse_yaml(text, file=file))


def read_spec(path: str | Path) -> CausalSpec:
    """Read and validate a causal spec file."""
    return parse_spec(read_text(path), file=str(path))


def read_graph_source(source: str, format: str | None = None) -> CausalSpec:
    """Read a graph from a tenor spec (.yaml/.yml), a dagitty file, node-link JSON, or ``-`` (standard input).

    ``format`` is ``"yaml"``, ``"dagitty"`` or ``"json"``; by default it follows
    the file extension, and for standard input the text itself (dagitty text
    starts with ``dag``, node-link JSON with ``{``). Standard input is held to
    the same size limit as a file.
    """
    if format not in (None, "yaml", "dagitty", "json"):
        raise SpecError(
            f"unknown graph format {format!r}", file=source, hint="use --format yaml, --format dagitty or --format json"
        )
    if source == "-":
        name = "<stdin>"
        text = read_stdin(name)
        if format is None:
            head = text.lstrip()
            format = "dagitty" if head.startswith(("dag", "pdag", "graph")) else "json" if head[:1] == "{" else "yaml"
    else:
        name = source
        suffix = Path(source).suffix.lower()
        if format is None:
            if suffix in (".yaml", ".yml"):
                format = "yaml"
            elif suffix in (".dagitty", ".dag", ".txt"):
                format = "dagitty"
            elif suffix == ".json":
                format = "json"
            else:
                raise SpecError(
                    f"cannot tell the format of {Path(source).name!r}",
                    file=source,
                    hint="name the file .yaml/.yml (tenor spec), .dagitty or .json (node-link), or pass --format",
                )
        text = read_text(source)
    if format == "dagitty":
        from causal.formats.dagitty import parse_dagitty

        return parse_dagitty(text, file=name)
    if format == "json":
        from causal.formats.node_link import parse_node_link

        return parse_node_link(text, file=name)
    return parse_spec(text, file=name)
