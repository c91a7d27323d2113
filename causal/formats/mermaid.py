"""Mermaid flowchart text for a causal spec (renders in GitHub and GitLab Markdown).

Latent confounders are dotted two-headed links; latent nodes are drawn with
dashed borders; each link is labelled with its sign and gain.

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec("nodes: {x: {}, y: {}}\\nedges: {x -> y: {sign: +}, x <-> y: {}}")
>>> print(generate_mermaid(spec))
flowchart LR
  x["x"]
  y["y"]
  x -- "+" --> y
  x <-.-> y
"""

from __future__ import annotations

from pathlib import Path

from causal.spec import CausalSpec
from tenor.core.output import write_text

__all__ = ["generate_mermaid", "write_mermaid"]


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def generate_mermaid(spec: CausalSpec) -> str:
    """Mermaid ``flowchart LR`` text for ``spec``."""
    lines = ["flowchart LR"]
    latent = []
    for name, node in spec.nodes.items():
        lines.append(f"  {name}[{_label(node.label or name)}]")
        if not node.observed:
            latent.append(name)
    for edge in spec.directed_edges():
        parts = [edge.sign or "", "" if edge.gain is None else f"{abs(edge.gain):g}"]
        label = " ".join(p for p in parts if p)
        if label:
            lines.append(f"  {edge.cause} -- {_label(label)} --> {edge.effect}")
        else:
            lines.append(f"  {edge.cause} --> {edge.effect}")
    for a, b, _ in spec.bidirected_edges():
        lines.append(f"  {a} <-.-> {b}")
    if latent:
        lines.append("  classDef latent stroke-dasharray: 5 5")
        lines.append(f"  class {','.join(latent)} latent")
    return "\n".join(lines)


def write_mermaid(spec: CausalSpec, path: str | Path) -> None:
    """Write Mermaid text atomically."""
    write_text(path, generate_mermaid(spec) + "\n")
