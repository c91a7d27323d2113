"""Drawing a diagram with matplotlib when Graphviz is not installed.

Graphviz's layouts are better, and :mod:`diagrams.render` uses them whenever
``dot`` is on the ``PATH``. Without it, this module still draws every
:class:`~diagrams.scene.Diagram` so that no command fails for lack of a system
package: the same nodes (boxes, circles, plain text), edges (colours, dashes,
labels, signs), clusters, loop markers and legend, placed by

* a *layered* layout for left-to-right diagrams (``engine="dot"``): each node
  one column right of its furthest cause (cycles are broken at back edges),
  rows ordered by the mean row of each node's causes;
* a *spring* layout (Kamada–Kawai when SciPy is installed, else
  Fruchterman–Reingold with a fixed seed) for causal-loop diagrams
  (``engine="neato"``), each loop marker at the centre of its loop.

Nodes already pinned (``pos="x,y!"``) keep their places. The output is
deterministic: fixed seeds, and no dates in the files.

Examples
--------
>>> from diagrams.scene import Diagram
>>> d = Diagram("chain")
>>> for n in "abc": d.add_node(n, n.upper())
>>> d.add_edge("a", "b"); d.add_edge("b", "c"); d.add_edge("a", "c")
>>> pos = layout(d)
>>> [round(pos[n][0], 1) for n in "abc"]
[0.0, 2.4, 4.8]
>>> draw_with_matplotlib(d, "svg")[:5]
b'<?xml'
"""

from __future__ import annotations

import math
import re
from typing import Any

import networkx as nx

from diagrams import style
from diagrams.plots import figure_bytes
from diagrams.scene import Diagram, DrawnEdge, DrawnNode, Html, LegendEntry

__all__ = ["draw_with_matplotlib", "layout"]

_COLUMN = 2.4
_ROW = 1.1


def _is_marker(node: DrawnNode) -> bool:
    return "loop-marker" in node.classes


def _structural_edges(diagram: Diagram) -> list[tuple[str, str, bool]]:
    """``(tail, head, constrains)`` of the edges that shape the layout."""
    out = []
    for e in diagram.edges:
        if "loop-anchor" in e.classes:
            continue
        out.append((e.tail, e.head, e.attrs.get("constraint", "true") != "false"))
    return out


def _layered(diagram: Diagram, names: list[str]) -> dict[str, tuple[float, float]]:
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((a, b) for a, b, constrains in _structural_edges(diagram) if constrains and a != b)
    # break each cycle at the edge that runs furthest back in insertion order
    order = {n: i for i, n in enumerate(names)}
    while not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        a, b = max(cycle, key=lambda e: (order[e[0]] - order[e[1]], order[e[0]]))[:2]
        g.remove_edge(a, b)
    layer: dict[str, int] = {}
    for n in nx.topological_sort(nx.DiGraph(g)):
        preds = list(g.predecessors(n))
        layer[n] = 1 + max(layer[p] for p in preds) if preds else 0
    columns: dict[int, list[str]] = {}
    for n in names:
        columns.setdefault(layer[n], []).append(n)
    row: dict[str, float] = {}
    for col in sorted(columns):
        members = columns[col]
        for n in members:
            preds = [row[p] for p in g.predecessors(n) if p in row]
            row[n] = sum(preds) / len(preds) if preds else float(order[n])
        members.sort(key=lambda n: (row[n], order[n]))
        for i, n in enumerate(members):
            row[n] = float(i)
    pos = {}
    for col, members in columns.items():
        offset = (len(members) - 1) / 2
        for i, n in enumerate(members):
            pos[n] = (col * _COLUMN, (offset - i) * _ROW)
    return pos


def _spring(diagram: Diagram, names: list[str]) -> dict[str, tuple[float, float]]:
    g = nx.Graph()
    g.add_nodes_from(names)
    g.add_edges_from((a, b) for a, b, _ in _structural_edges(diagram) if a != b)
    if g.number_of_nodes() == 1:
        return {names[0]: (0.0, 0.0)}
    try:
        raw = nx.kamada_kawai_layout(g, scale=1.0)
    except (ImportError, ModuleNotFoundError, nx.NetworkXException):
        raw = nx.spring_layout(g, seed=3)
    size = 1.2 * math.sqrt(len(names))
    return {n: (float(raw[n][0]) * size * 1.6, float(raw[n][1]) * size) for n in names}


def layout(diagram: Diagram) -> dict[str, tuple[float, float]]:
    """Node positions in inches (y upwards): pinned ones as given, the others laid out."""
    pinned = {}
    for node in diagram.nodes:
        pos = node.attrs.get("pos")
        if pos:
            x, y = pos.rstrip("!").split(",")[:2]
            pinned[node.name] = (float(x), float(y))
    markers = [n for n in diagram.nodes if _is_marker(n)]
    names = [n.name for n in diagram.nodes if not _is_marker(n)]
    if all(n in pinned for n in names) and names:
        pos = {n: pinned[n] for n in names}
    elif diagram.engine == "dot":
        pos = _layered(diagram, names)
    else:
        pos = _spring(diagram, names)
    for marker in markers:
        if marker.name in pinned:
            pos[marker.name] = pinned[marker.name]
            continue
        members = [e.head for e in diagram.edges if e.tail == marker.name and "loop-anchor" in e.classes]
        pts = [pos[m] for m in members if m in pos] or [(0.0, 0.0)]
        pos[marker.name] = (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
    return pos


def _plain(label: str) -> str:
    if isinstance(label, Html):
        text = re.sub(r"<BR\s*/>", "\n", label)
        text = re.sub(r"</TR>", "\n", text)
        text = re.sub(r"<[^>]+>", "", text)
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return label


def _box(node: DrawnNode) -> dict[str, object] | None:
    shape = node.attrs.get("shape", "box")
    if shape in ("plaintext", "none", "plain"):
        return None
    st = node.attrs.get("style", "")
    boxstyle = {"circle": "circle,pad=0.3", "diamond": "round4,pad=0.3", "ellipse": "round,pad=0.4"}.get(
        shape, "round,pad=0.35" if "rounded" in st else "square,pad=0.35"
    )
    return {
        "boxstyle": boxstyle,
        "facecolor": node.attrs.get("fillcolor", "#FFFFFF") if "filled" in st else "#FFFFFF",
        "edgecolor": node.attrs.get("color", "#333333"),
        "linewidth": float(node.attrs.get("penwidth", "1")) * (2 if node.attrs.get("peripheries") == "2" else 1),
        "linestyle": "--" if "dashed" in st else "-",
    }


def _cluster_boxes(
    diagram: Diagram, pos: dict[str, tuple[float, float]]
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Boxes around each cluster's nodes; clusters whose boxes would overlap another's are left out."""
    boxes = []
    for cluster, label in diagram.clusters.items():
        members = [pos[n.name] for n in diagram.nodes if n.cluster == cluster]
        if members:
            x0, x1 = min(p[0] for p in members) - 0.9, max(p[0] for p in members) + 0.9
            y0, y1 = min(p[1] for p in members) - 0.45, max(p[1] for p in members) + 0.55
            boxes.append((label, (x0, y0, x1, y1)))

    def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    return [
        (lab, box)
        for i, (lab, box) in enumerate(boxes)
        if not any(overlap(box, other) for j, (_, other) in enumerate(boxes) if j != i)
    ]


def _half_size(node: DrawnNode) -> tuple[float, float]:
    """Approximate half width and height (inches) of a node's drawn box."""
    lines = _plain(node.label).splitlines() or [""]
    scale = min(float(node.attrs.get("fontsize", style.FONT_SIZE)), 18.0) / 12.0
    width = max(len(line) for line in lines) * 0.075 * scale + 0.2
    height = len(lines) * 0.17 * scale + 0.18
    if node.attrs.get("shape") == "circle":
        width = height = max(width, height)
    return width / 2, height / 2


def _exit_point(
    centre: tuple[float, float], towards: tuple[float, float], half: tuple[float, float]
) -> tuple[float, float]:
    """Where the segment from ``centre`` to ``towards`` leaves the box of half-size ``half``."""
    dx, dy = towards[0] - centre[0], towards[1] - centre[1]
    if dx == 0 and dy == 0:
        return centre
    t = min(half[0] / abs(dx) if dx else math.inf, half[1] / abs(dy) if dy else math.inf)
    t = min(t, 1.0)
    return centre[0] + dx * t, centre[1] + dy * t


def _blocked(
    a: tuple[float, float], b: tuple[float, float], pos: dict[str, tuple[float, float]], ends: set[str]
) -> bool:
    """Whether a node other than the ends lies within 0.35 inch of the segment a–b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy or 1.0
    for name, (x, y) in pos.items():
        if name in ends:
            continue
        t = max(0.0, min(1.0, ((x - a[0]) * dx + (y - a[1]) * dy) / length2))
        if math.hypot(a[0] + t * dx - x, a[1] + t * dy - y) < 0.35:
            return True
    return False


def draw_with_matplotlib(diagram: Diagram, format: str = "svg", *, dpi: int | None = None) -> bytes:
    """Render a diagram to ``svg``, ``png`` or ``pdf`` bytes with matplotlib (``dpi`` for PNG)."""
    import matplotlib

    pos = layout(diagram)
    with matplotlib.rc_context(style.matplotlib_style()):
        fig, ax = _canvas(diagram, pos)
        _draw_clusters(ax, diagram, pos)
        _draw_nodes(ax, diagram, pos)
        sizes = {n.name: _half_size(n) for n in diagram.nodes}
        for edge in diagram.edges:
            if "invis" not in edge.attrs.get("style", "") and edge.tail in pos and edge.head in pos:
                _draw_edge(ax, edge, pos, sizes, spring=diagram.engine != "dot")
        handles = [_legend_handle(entry) for entry in diagram.legend]
        if handles:
            fig.legend(
                handles=handles,
                loc="upper center",
                ncol=min(len(handles), 5),
                fontsize=8,
                bbox_to_anchor=(0.5, 0.95),
            )
        if diagram.title:
            fig.suptitle(diagram.title, fontsize=12, fontweight="bold", y=0.995)
        return figure_bytes(fig, format, dpi=dpi)


def _canvas(diagram: Diagram, pos: dict[str, tuple[float, float]]) -> tuple[Any, Any]:
    """A figure sized to the layout (in inches) and its bare, equal-aspect axes, room left for the legend."""
    from matplotlib.figure import Figure

    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    width = max(4.0, max(xs) - min(xs) + 3.0)
    height = max(3.0, max(ys) - min(ys) + 2.2)
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 0.9 if diagram.title or diagram.legend else 1))
    ax.set_xlim(min(xs) - 1.5, max(xs) + 1.5)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _draw_clusters(ax: Any, diagram: Diagram, pos: dict[str, tuple[float, float]]) -> None:
    """A shaded, labelled box behind each cluster that does not overlap another."""
    from matplotlib.patches import FancyBboxPatch

    for label, (x0, y0, x1, y1) in _cluster_boxes(diagram, pos):
        box = FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0.05",
            facecolor=style.CLUSTER_FILL,
            edgecolor=style.CLUSTER_LINE,
            zorder=0,
        )
        ax.add_patch(box)
        ax.text(x0 + 0.08, y1 - 0.08, label, ha="left", va="top", fontsize=8, color="#555555", zorder=1)


def _draw_nodes(ax: Any, diagram: Diagram, pos: dict[str, tuple[float, float]]) -> None:
    """Each node's label at its place, in its box (none for plain text)."""
    for node in diagram.nodes:
        x, y = pos[node.name]
        fontsize = float(node.attrs.get("fontsize", style.FONT_SIZE)) * 0.75
        ax.text(
            x,
            y,
            _plain(node.label),
            ha="center",
            va="center",
            fontsize=min(fontsize, 14),
            zorder=3,
            color=node.attrs.get("fontcolor", "#111111"),
            bbox=_box(node),
            gid=f"n_{node.name}",
        )


def _arrow(edge: DrawnEdge) -> str:
    """matplotlib's arrow style for an edge: both heads, none, or one at the head."""
    if edge.attrs.get("dir") == "both":
        return "<|-|>"
    if edge.attrs.get("arrowhead") == "none":
        return "-"
    return "-|>"


def _draw_edge(
    ax: Any,
    edge: DrawnEdge,
    pos: dict[str, tuple[float, float]],
    sizes: dict[str, tuple[float, float]],
    *,
    spring: bool,
) -> None:
    """An edge from box edge to box edge (curved in a spring layout or around a node in the way), and its labels."""
    from matplotlib.patches import FancyArrowPatch

    start = _exit_point(pos[edge.tail], pos[edge.head], sizes[edge.tail])
    end = _exit_point(pos[edge.head], pos[edge.tail], sizes[edge.head])
    rad = 0.0
    if spring:
        rad = 0.15
    elif _blocked(start, end, pos, {edge.tail, edge.head}):
        rad = 0.3
    patch = FancyArrowPatch(
        start,
        end,
        arrowstyle=_arrow(edge),
        mutation_scale=14,
        color=edge.attrs.get("color", style.EDGE_COLOUR).split(":")[0],
        linewidth=min(float(edge.attrs.get("penwidth", "1.2")), 4.0),
        linestyle="--" if "dashed" in edge.attrs.get("style", "") else "-",
        connectionstyle=f"arc3,rad={rad}",
        shrinkA=0,
        shrinkB=0,
        zorder=2,
        gid=edge.id,
    )
    ax.add_patch(patch)
    _draw_edge_labels(ax, edge, pos[edge.tail], pos[edge.head])


def _draw_edge_labels(ax: Any, edge: DrawnEdge, tail: tuple[float, float], head: tuple[float, float]) -> None:
    """The edge's label above its middle, and its head label (a sign) near the head."""
    (x0, y0), (x1, y1) = tail, head
    if edge.label:
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 + 0.12,
            edge.label,
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=edge.attrs.get("fontcolor", "#333333"),
            zorder=4,
        )
    sign = edge.attrs.get("headlabel")
    if sign:
        ax.text(
            x0 + (x1 - x0) * 0.78 + 0.12,
            y0 + (y1 - y0) * 0.78 + 0.12,
            sign,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color=edge.attrs.get("labelfontcolor", "#333333"),
            zorder=4,
        )


def _legend_handle(entry: LegendEntry) -> Any:
    """The matplotlib legend handle for a legend entry: a patch (box), bare text, or a line."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if entry.mark.startswith("box"):
        return Patch(
            facecolor=entry.colour,
            edgecolor="#333333",
            label=entry.label,
            linestyle="--" if entry.mark == "box-dashed" else "-",
            linewidth=2.0 if entry.mark in ("box-thick", "box-double") else 1.0,
        )
    if entry.mark == "text":
        return Line2D([], [], color=entry.colour, lw=0, label=f"{entry.text}  {entry.label}")
    return Line2D(
        [],
        [],
        color=entry.colour,
        lw=3 if entry.mark == "thick" else 1.5,
        linestyle="--" if entry.mark == "dashed" else "-",
        label=entry.label,
    )
