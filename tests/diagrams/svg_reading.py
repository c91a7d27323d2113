"""Reading Graphviz SVG and DOT back for the diagram tests, and a small confounded spec."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import diagrams.render as render_module

DATA = Path(__file__).parent / "data"
SVG = "{http://www.w3.org/2000/svg}"

CONFOUNDED = """
name: confounded
nodes:
  z: {label: Confounder, group: background}
  x: {label: Treatment}
  m: {label: Mediator}
  y: {label: Outcome}
  w: {label: Collider}
  u: {label: Hidden, role: latent}
edges:
  z -> x: {sign: +, lag: 1 day}
  z -> y: {sign: +}
  x -> m: {gain: 0.5, lag: 2 days}
  m -> y: {gain: -0.4, lag: 6 hours}
  x -> w: {sign: +}
  y -> w: {sign: +}
  u -> m: {sign: +}
  x <-> z: {description: shared history}
channels:
  direct: {label: Through the mediator, path: x -> m -> y}
queries:
  effect:
    treatment: x
    outcome: y
    expect: {adjust: [z]}
"""


@dataclass
class Element:
    """One node or edge group of a Graphviz SVG."""

    id: str
    classes: set[str]
    texts: list[str]
    strokes: list[str] = field(default_factory=list)
    widths: list[str] = field(default_factory=list)
    dashed: bool = False
    shapes: list[str] = field(default_factory=list)
    fills: list[str] = field(default_factory=list)
    tooltip: str | None = None


def parse_svg(data: bytes | str) -> dict[str, Element]:
    """Node and edge groups of a Graphviz SVG, by id."""
    root = ET.fromstring(data.encode() if isinstance(data, str) else data)
    out = {}
    for g in root.iter(f"{SVG}g"):
        classes = set((g.get("class") or "").split())
        if not classes & {"node", "edge"}:
            continue
        el = Element(g.get("id", ""), classes, [t.text or "" for t in g.iter(f"{SVG}text")])
        links = [a.get("{http://www.w3.org/1999/xlink}title") for a in g.iter(f"{SVG}a")]
        el.tooltip = next((t for t in links if t), None)
        for child in g.iter():
            tag = child.tag.replace(SVG, "")
            if tag in ("path", "polygon", "ellipse", "polyline"):
                el.shapes.append(tag)
                if child.get("stroke"):
                    el.strokes.append(child.get("stroke").lower())
                if child.get("stroke-width"):
                    el.widths.append(child.get("stroke-width"))
                if child.get("fill"):
                    el.fills.append(child.get("fill").lower())
                if child.get("stroke-dasharray"):
                    el.dashed = True
        out[el.id] = el
    return out


def legend_texts(data: bytes) -> list[str]:
    """Texts of the graph label (title and legend), outside every node and edge."""
    root = ET.fromstring(data)
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    return [t.text or "" for t in graph.findall(f"{SVG}text")]


def dot_positions(dot: str) -> dict[str, tuple[float, float]]:
    """``pos="x,y!"`` of each node in DOT text."""
    out = {}
    for name, x, y in re.findall(r'^\s*"([^"]+)" \[.*?pos="([-0-9.]+),([-0-9.]+)!"', dot, flags=re.M):
        out[name] = (float(x), float(y))
    return out


needs_dot = pytest.mark.skipif(not render_module.has_dot(), reason="Graphviz's dot is not installed")
