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
from pathlib import Path
from typing import Any

from causal.spec import CausalSpec
from tenor.errors import SpecError

__all__ = ["generate_node_link", "node_link_data", "parse_node_link", "read_node_link", "write_node_link"]

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


def parse_node_link(text: str, file: str = "<input>") -> CausalSpec:
    """A spec from node-link JSON text (``links`` is accepted for ``edges``)."""
    from causal.load import spec_from_data
    from tenor.specfile import Document

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno) from None
    if not isinstance(data, dict) or "nodes" not in data:
        raise SpecError("node-link JSON needs a 'nodes' list", file=file)
    nodes = {}
    for n in data["nodes"]:
        nodes[str(n["id"])] = {k: n[k] for k in _NODE_KEYS if k in n}
    edges = {}
    for e in data.get("edges", data.get("links", [])):
        a, b = str(e["source"]), str(e["target"])
        if e.get("bidirected"):
            edges[f"{a} <-> {b}"] = {k: e[k] for k in ("description",) if k in e}
        else:
            edges[f"{a} -> {b}"] = {k: e[_JSON_KEY.get(k, k)] for k in _EDGE_KEYS if _JSON_KEY.get(k, k) in e}
    spec_data: dict[str, Any] = {"nodes": nodes, "edges": edges}
    if data.get("graph", {}).get("name"):
        spec_data["name"] = data["graph"]["name"]
    return spec_from_data(Document(spec_data, file))


def read_node_link(path: str | Path) -> CausalSpec:
    from tenor.specfile import read_text

    return parse_node_link(read_text(path), file=str(path))


def write_node_link(spec: CausalSpec, path: str | Path) -> None:
    from tenor.output import write_text

    write_text(path, generate_node_link(spec) + "\n")
