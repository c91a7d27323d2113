"""A causal spec written back as tenor YAML, in the compact edge syntax.

Used to turn a dagitty or node-link graph into a spec a strategist can edit.
Reading the text back gives the same spec.

Examples
--------
>>> from causal.formats.dagitty import parse_dagitty
>>> print(generate_yaml(parse_dagitty("dag { X [exposure] X -> Y [beta=0.5] }")))
nodes:
  X: {role: exposure}
  Y: {}
edges:
  X -> Y: {sign: +, gain: 0.5}
"""

from __future__ import annotations

import json
from pathlib import Path

from causal.spec import CausalSpec, Role
from tenor.core.output import write_text

__all__ = ["generate_yaml", "write_yaml"]


def _scalar(value: object) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return repr(value)
    text = str(value)
    if text in ("+",) or (text.replace("_", "").replace(" ", "").isalnum() and not text[0].isdigit()):
        if text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~"):
            return text
    return json.dumps(text, ensure_ascii=False)


def _flow(items: dict[str, object]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in items.items() if v is not None) + "}"


def generate_yaml(spec: CausalSpec) -> str:
    """tenor YAML text for ``spec`` (nodes, edges, channels; claims and queries as JSON-style flow)."""
    lines: list[str] = []
    for key in ("name", "title", "description"):
        value = getattr(spec, key)
        if value:
            lines.append(f"{key}: {_scalar(value)}")
    lines += _node_lines(spec)
    lines += _edge_lines(spec)
    lines += _channel_lines(spec)
    if spec.claims:
        lines.append("claims:")
        for claim in spec.claims:
            data = claim.model_dump(mode="json", by_alias=True, exclude_none=True)
            lines.append(f"  - {json.dumps(data)}")
    if spec.queries:
        lines.append("queries:")
        for name, query in spec.queries.items():
            data = query.model_dump(mode="json", exclude_none=True)
            lines.append(f"  {name}: {json.dumps(data)}")
    return "\n".join(lines)


def _node_lines(spec: CausalSpec) -> list[str]:
    lines = ["nodes:"]
    for name, node in spec.nodes.items():
        attrs = {
            "label": node.label,
            "role": None if node.role is Role.variable else node.role.value,
            "unit": node.unit,
            "group": node.group,
            "description": node.description,
        }
        lines.append(f"  {name}: {_flow(attrs)}")
    return lines


def _edge_lines(spec: CausalSpec) -> list[str]:
    lines = ["edges:"]
    for edge in spec.directed_edges():
        s = edge.spec
        attrs = {
            "sign": edge.sign if edge.sign == "+" else None,
            "gain": s.gain,
            "lag": None if s.lag is None else str(s.lag),
            "time_constant": None if s.time_constant is None else str(s.time_constant),
            "description": s.description,
            "source": s.source,
        }
        text = _flow(attrs)
        if edge.sign == "-":  # a flow mapping holds a bare minus safely
            text = "{sign: -" + (", " + text[1:] if text != "{}" else "}")
        lines.append(f"  {edge.cause} -> {edge.effect}: {text}")
    for a, b, key in spec.bidirected_edges():
        lines.append(f"  {a} <-> {b}: {_flow({'description': spec.edges[key].description})}")
    return lines


def _channel_lines(spec: CausalSpec) -> list[str]:
    if not spec.channels:
        return []
    lines = ["channels:"]
    for name, ch in spec.channels.items():
        lines.append(f"  {name}:")
        for field in ("label", "claim", "description"):
            if getattr(ch, field):
                lines.append(f"    {field}: {_scalar(getattr(ch, field))}")
        lines.append(f"    path: {' -> '.join(ch.path)}")
    return lines


def write_yaml(spec: CausalSpec, path: str | Path) -> None:
    write_text(path, generate_yaml(spec) + "\n")
