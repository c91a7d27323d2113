"""Graphviz DOT text for a causal spec: the plain structure, with signs, gains and lags.

Styled diagrams (channel colours, legends) are drawn by ``diagrams.dag``; this
writer keeps every attribute as data so the DOT file is also an exchange
format. Output is deterministic: the same spec gives the same text.

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec("nodes: {x: {label: Cause}, y: {}}\\nedges: {x -> y: {gain: -0.5, lag: 2 days}}")
>>> print(generate_dot(spec))
digraph causal {
  rankdir=LR;
  "x" [label="Cause", role="variable"];
  "y" [label="y", role="variable"];
  "x" -> "y" [label="- 0.5, 2 days", sign="-", gain="-0.5", lag="2 days"];
}
"""

from __future__ import annotations

from pathlib import Path

from causal.spec import CausalSpec
from tenor.core.output import write_text

__all__ = ["generate_dot", "write_dot"]


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def generate_dot(spec: CausalSpec) -> str:
    """DOT text for ``spec``."""
    lines = [f"digraph {_q(spec.name) if spec.name else 'causal'} {{", "  rankdir=LR;"]
    for name, node in spec.nodes.items():
        attrs = [f"label={_q(node.label or name)}", f"role={_q(node.role.value)}"]
        if not node.observed:
            attrs.append("style=dashed")
        if node.unit:
            attrs.append(f"unit={_q(node.unit)}")
        if node.group:
            attrs.append(f"group={_q(node.group)}")
        lines.append(f"  {_q(name)} [{', '.join(attrs)}];")
    for edge in spec.directed_edges():
        label = " ".join(p for p in (edge.sign or "", "" if edge.gain is None else f"{abs(edge.gain):g}") if p)
        delay = edge.delay
        if delay is not None:
            label = f"{label}, {delay}" if label else str(delay)
        attrs = [f"label={_q(label)}"] if label else []
        if edge.sign:
            attrs.append(f"sign={_q(edge.sign)}")
        if edge.gain is not None:
            attrs.append(f"gain={_q(repr(edge.gain))}")
        if delay is not None:
            attrs.append(f"lag={_q(str(delay))}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_q(edge.cause)} -> {_q(edge.effect)}{suffix};")
    for a, b, _ in spec.bidirected_edges():
        lines.append(f"  {_q(a)} -> {_q(b)} [dir=both, style=dashed, bidirected=true];")
    lines.append("}")
    return "\n".join(lines)


def write_dot(spec: CausalSpec, path: str | Path) -> None:
    """Write DOT text atomically."""
    write_text(path, generate_dot(spec) + "\n")
