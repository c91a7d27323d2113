"""networkx node-link JSON for a causal spec, and back.

The JSON is what ``networkx.node_link_data`` produces for the directed graph
(``directed: true``, ``nodes``, ``edges``), with node attributes (label, role,
unit, group, description) and edge attributes (sign, gain, lag,
time_constant, description, and the edge's source as ``citation``, since
``source`` names the cause in node-link data). A latent confounding ``a <-> b`` is an
edge with ``"bidirected": true``.

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec("nodes: {x: {role: policy}, y: {}}\\nedges: {x -> y: {gain: 2}, x <-> y: {}}")
>>> back = parse_node_link(generate_node_link(spec))
>>> sorted(back.edges), back.nodes["x"].role.value
(['x -> y', 'x <-> y'], 'policy')
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, ValidationError

from causal.build import spec_from_data
from causal.spec import CausalSpec
from tenor.core.errors import Diagnostic, SpecError
from tenor.core.limits import MAX_BYTES, MAX_DEPTH, MAX_EDGES, MAX_NODES, check_graph_size
from tenor.core.output import write_text
from tenor.core.specfile import Document, Problem, positions, read_text, spec_error, validation_diagnostics

__all__ = [
    "generate_node_link",
    "json_pointer",
    "node_link_data",
    "parse_node_link",
    "read_node_link",
    "write_node_link",
]

_NODE_KEYS = ("label", "description", "role", "unit", "group")
_EDGE_KEYS = ("sign", "gain", "lag", "time_constant", "description", "source")
_JSON_KEY = {"source": "citation"}


def node_link_data(spec: CausalSpec) -> dict[str, Any]:
    """The node-link dictionary of ``spec``."""
    nodes = []
    for name, node in spec.nodes.items():
        entry: dict[str, Any] = {"id": name}
        for key in _NODE_KEYS:
            value = getattr(node, key)
            if value is not None:
                entry[key] = value.value if key == "role" else value
        nodes.append(entry)
    edges = []
    for edge in spec.directed_edges():
        entry = {"source": edge.cause, "target": edge.effect}
        for key in _EDGE_KEYS:
            value = getattr(edge.spec, key)
            if value is not None:
                entry[_JSON_KEY.get(key, key)] = str(value) if key in ("lag", "time_constant") else value
        edges.append(entry)
    for a, b, key in spec.bidirected_edges():
        entry = {"source": a, "target": b, "bidirected": True}
        if spec.edges[key].description:
            entry["description"] = spec.edges[key].description
        edges.append(entry)
    return {
        "directed": True,
        "multigraph": False,
        "graph": {"name": spec.name} if spec.name else {},
        "nodes": nodes,
        "edges": edges,
    }


def generate_node_link(spec: CausalSpec) -> str:
    """Node-link JSON text (indented, keys in a fixed order)."""
    return json.dumps(node_link_data(spec), indent=2)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Node(_Entry):
    id: StrictStr | StrictInt


class _Edge(_Entry):
    source: StrictStr | StrictInt
    target: StrictStr | StrictInt
    bidirected: StrictBool = False


class _Graph(_Entry):
    name: StrictStr | None = None


class _NodeLink(_Entry):
    """The shape of node-link JSON: what must be there, of which type (other keys are ignored)."""

    nodes: list[_Node]
    edges: list[_Edge] | None = None
    links: list[_Edge] | None = None
    graph: _Graph | None = None


def json_pointer(path: Sequence[str | int]) -> str:
    """The JSON pointer (RFC 6901) of a key path.

    >>> json_pointer(("edges", 3, "source")), json_pointer(("a/b", "c~d")), json_pointer(())
    ('/edges/3/source', '/a~1b/c~0d', '/')
    """
    if not path:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class _JsonDocument(Document):
    """A document read from JSON: keys are shown as JSON pointers, and lines are found when first asked for.

    ``to_json`` maps a key path of the data (for a spec: ``("nodes", "x", "role")``)
    to the key path in the JSON text (``("nodes", 3, "role")``).
    """

    def __init__(self, data: Any, file: str, text: str, to_json: Callable[[tuple], tuple] | None = None) -> None:
        super().__init__(data, file)
        self._text = text
        self._to_json = to_json or (lambda path: path)
        self._where: tuple[dict, dict] | None = None

    def _positions(self) -> tuple[dict, dict]:
        if self._where is None:
            self._where = positions(self._text)  # JSON is YAML's flow style
        return self._where

    def locate(self, path: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int] | None:
        marks, key_marks = self._positions()
        json_path = self._to_json(tuple(path))
        for end in range(len(json_path), -1, -1):
            prefix = json_path[:end]
            if at_key and prefix in key_marks:
                return key_marks[prefix]
            if prefix in marks:
                return marks[prefix]
        return (1, 1)

    def diagnostic(self, problem: Problem) -> Diagnostic:
        line, column = self.locate(problem.path, at_key=problem.at_key) or (1, 1)
        key = json_pointer(self._to_json(problem.path))
        return Diagnostic(problem.message, self.file, line, column, key, problem.hint)


def _load_json(text: str, file: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno, hint="check the JSON syntax"
        ) from None
    except RecursionError:
        line, column = _too_deep(text)
        raise SpecError(
            f"JSON nested deeper than MAX_DEPTH = {MAX_DEPTH} levels",
            file=file,
            line=line,
            column=column,
            hint="node-link JSON needs only a few levels; check for brackets that are never closed",
        ) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise SpecError(f"invalid JSON: {exc}", file=file, line=1, column=1, hint="check the numbers") from None


def _too_deep(text: str) -> tuple[int, int]:
    """Where JSON text first opens more than :data:`MAX_DEPTH` brackets (strings skipped)."""
    depth, line, line_start, in_string, escaped = 0, 1, 0, False, False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, i - line_start + 1
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line, line_start = line + 1, i + 1
    return 1, 1


def parse_node_link(text: str, file: str = "<input>") -> CausalSpec:
    """A spec from node-link JSON text (``links`` is accepted for ``edges``).

    Raises
    ------
    SpecError
        When the text is not JSON, does not have the node-link shape (each
        error names its JSON pointer, e.g. ``/edges/3/source``, and its line), or
        is not a valid causal graph.
    """
    shape, raw = _read_shape(text, file)
    edges_key = "edges" if shape.edges is not None or shape.links is None else "links"
    edge_list = (shape.edges if edges_key == "edges" else shape.links) or []
    if len(shape.nodes) > MAX_NODES or len(edge_list) > MAX_EDGES:
        where = raw.locate(("nodes",) if len(shape.nodes) > MAX_NODES else (edges_key,), at_key=True)
        check_graph_size(len(shape.nodes), len(edge_list), file=file, line=where[0] if where else None)
    nodes, node_at, problems = _spec_nodes(shape)
    edges, edge_at = _spec_edges(edge_list)
    if problems:
        raise spec_error(problems, raw)
    spec_data: dict[str, Any] = {"nodes": nodes, "edges": edges}
    if shape.graph is not None and shape.graph.name:
        spec_data["name"] = shape.graph.name
    return spec_from_data(_JsonDocument(spec_data, file, text, _pointers(node_at, edge_at, edges_key)))


def _read_shape(text: str, file: str) -> tuple[_NodeLink, _JsonDocument]:
    """The JSON text read and checked against the node-link shape, with the document that locates its errors."""
    if len(text) > MAX_BYTES:
        raise SpecError(
            f"input is {len(text):,} characters; the limit is MAX_BYTES = {MAX_BYTES:,}",
            file=file,
            hint="split the graph, or check that this is the input you meant",
        )
    data = _load_json(text, file)
    raw = _JsonDocument(data, file, text)
    if not isinstance(data, dict):
        raise spec_error(
            [Problem((), "node-link JSON is an object with a 'nodes' list", 'start with {"nodes": [')], raw
        )
    try:
        return _NodeLink.model_validate(data), raw
    except ValidationError as exc:
        raise SpecError(diagnostics=validation_diagnostics(exc, raw, _NodeLink)) from None


def _spec_nodes(shape: _NodeLink) -> tuple[dict[str, dict[str, Any]], dict[str, int], list[Problem]]:
    """The spec's nodes, each node's place in the JSON list, and the duplicate ids."""
    nodes: dict[str, dict[str, Any]] = {}
    node_at: dict[str, int] = {}
    problems: list[Problem] = []
    for i, n in enumerate(shape.nodes):
        name = str(n.id)
        if name in node_at:
            problems.append(
                Problem(("nodes", i, "id"), f"duplicate node id {name!r} (first at /nodes/{node_at[name]})")
            )
            continue
        node_at[name] = i
        extra = n.model_extra or {}
        nodes[name] = {k: extra[k] for k in _NODE_KEYS if k in extra}
    return nodes, node_at, problems


def _spec_edges(edge_list: Sequence[_Edge]) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The spec's edges by key, and each edge's place in the JSON list."""
    edges: dict[str, dict[str, Any]] = {}
    edge_at: dict[str, int] = {}
    for j, e in enumerate(edge_list):
        a, b = str(e.source), str(e.target)
        extra = e.model_extra or {}
        if e.bidirected:
            key = f"{a} <-> {b}"
            edges[key] = {k: extra[k] for k in ("description",) if k in extra}
        else:
            key = f"{a} -> {b}"
            edges[key] = {k: extra[_JSON_KEY.get(k, k)] for k in _EDGE_KEYS if _JSON_KEY.get(k, k) in extra}
        edge_at[key] = j
    return edges, edge_at


def _pointers(node_at: dict[str, int], edge_at: dict[str, int], edges_key: str) -> Callable[[tuple], tuple]:
    """The map from a key path of the spec to the JSON path it came from, for located errors."""

    def to_json(path: tuple) -> tuple:
        if len(path) >= 2 and path[0] == "nodes" and path[1] in node_at:
            return ("nodes", node_at[path[1]], *path[2:])
        if len(path) >= 2 and path[0] == "edges" and path[1] in edge_at:
            rest = tuple(_JSON_KEY.get(p, p) if isinstance(p, str) else p for p in path[2:])
            return (edges_key, edge_at[path[1]], *rest)
        if path[:1] == ("name",):
            return ("graph", "name")
        return path[:1] if path[:1] in (("nodes",), ("edges",)) else ()

    return to_json


def read_node_link(path: str | Path) -> CausalSpec:
    """Read a node-link JSON file."""
    return parse_node_link(read_text(path), file=str(path))


def write_node_link(spec: CausalSpec, path: str | Path) -> None:
    write_text(path, generate_node_link(spec) + "\n")
