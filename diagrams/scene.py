"""A drawn graph, before layout: nodes, edges, clusters and a legend, and its DOT and Mermaid sources.

Every drawing function of this package (:func:`diagrams.dag.draw_dag`,
:func:`diagrams.cld.draw_cld`, :func:`diagrams.stockflow.draw_stockflow`)
returns a :class:`Diagram`. It records *what* is drawn, with Graphviz
attributes for *how*, in insertion order, so that the same input always gives
the same text:

* :func:`generate_dot` writes it as Graphviz DOT, the source that ``dot`` lays
  out and renders (:mod:`diagrams.render`);
* :func:`generate_mermaid` writes it as a Mermaid flowchart, which GitHub,
  GitLab and many Markdown viewers draw without Graphviz;
* the fallback renderer of :mod:`diagrams.render` draws it with matplotlib and
  a networkx layout when ``dot`` is not installed.

Nodes and edges carry an ``id`` and a ``classes`` string that end up in the
SVG (``<g id="n_x" class="node exposure">``), so that a test, a stylesheet or
a script can find each element of the picture by meaning.

Examples
--------
>>> d = Diagram("demo", rankdir="LR")
>>> d.add_node("x", "Cause")
>>> d.add_node("y", "Effect\\nof x")
>>> d.add_edge("x", "y", label="+", color="#0072B2")
>>> print(generate_dot(d))  # doctest: +NORMALIZE_WHITESPACE
digraph "demo" {
  graph [rankdir="LR"];
  "x" [id="n_x", label="Cause"];
  "y" [id="n_y", label="Effect\\nof x"];
  "x" -> "y" [id="e_x__y", label="+", color="#0072B2"];
}
>>> print(generate_mermaid(d))
flowchart LR
  n_x["Cause"]
  n_y["Effect<br/>of x"]
  n_x -->|"+"| n_y
  linkStyle 0 stroke:#0072B2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from diagrams import style
from diagrams.display import svg_of

__all__ = [
    "Diagram",
    "DrawnEdge",
    "DrawnNode",
    "Html",
    "LegendEntry",
    "generate_dot",
    "generate_mermaid",
    "html_escape",
]


class Html(str):
    """A Graphviz HTML-like label (written between ``<`` and ``>``, not quoted)."""

    __slots__ = ()


@dataclass
class DrawnNode:
    """A node: its name, printed label, cluster, SVG classes and Graphviz attributes."""

    name: str
    label: str
    cluster: str | None = None
    classes: str = ""
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class DrawnEdge:
    """An edge from ``tail`` to ``head`` with its label, SVG classes and Graphviz attributes."""

    tail: str
    head: str
    label: str | None = None
    classes: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    key: str = ""

    @property
    def id(self) -> str:
        return f"e_{_safe(self.tail)}__{_safe(self.head)}" + (f"__{_safe(self.key)}" if self.key else "")


@dataclass(frozen=True)
class LegendEntry:
    """One legend entry: a swatch of ``colour`` and a label.

    ``mark`` is ``line``, ``thick`` or ``dashed`` (an edge), ``box``, ``box-thick``, ``box-double`` or
    ``box-dashed`` (a node), or ``text`` (the characters in ``text``, e.g. a loop marker).
    """

    label: str
    colour: str
    mark: str = "line"
    text: str = ""


@dataclass
class Diagram:
    """A graph to draw: nodes, edges, clusters (name → label), legend and Graphviz settings.

    ``engine`` is the Graphviz layout program (``dot`` for layered layouts,
    ``neato`` for spring layouts such as causal-loop diagrams).
    """

    name: str
    title: str | None = None
    engine: str = "dot"
    rankdir: str = "LR"
    kind: str = "graph"
    graph_attrs: dict[str, str] = field(default_factory=dict)
    node_defaults: dict[str, str] = field(default_factory=dict)
    edge_defaults: dict[str, str] = field(default_factory=dict)
    nodes: list[DrawnNode] = field(default_factory=list)
    edges: list[DrawnEdge] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)
    legend: list[LegendEntry] = field(default_factory=list)

    def add_node(self, name: str, label: str, *, cluster: str | None = None, classes: str = "", **attrs: str) -> None:
        if cluster is not None and cluster not in self.clusters:
            self.clusters[cluster] = cluster
        self.nodes.append(DrawnNode(name, label, cluster, classes, {k: str(v) for k, v in attrs.items()}))

    def add_edge(
        self,
        tail: str,
        head: str,
        *,
        label: str | None = None,
        classes: str = "",
        key: str = "",
        **attrs: str,
    ) -> None:
        self.edges.append(DrawnEdge(tail, head, label, classes, {k: str(v) for k, v in attrs.items()}, key))

    def node(self, name: str) -> DrawnNode:
        return next(n for n in self.nodes if n.name == name)

    def edges_between(self, tail: str, head: str) -> list[DrawnEdge]:
        return [e for e in self.edges if e.tail == tail and e.head == head]

    @property
    def source(self) -> str:
        """The DOT source."""
        return generate_dot(self)

    def _repr_svg_(self) -> str | None:
        """Show the diagram inline in Jupyter (rendered as :mod:`diagrams.render` registers)."""
        return svg_of(self)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _clean(text: str) -> str:
    """Control characters (other than newlines) cannot appear in SVG: drop them."""
    return _CONTROL.sub("", text)


def _quote(text: str) -> str:
    text = _clean(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _value(value: str) -> str:
    if isinstance(value, Html):
        return "<" + value + ">"
    return _quote(value)


def _attrs(items: dict[str, str]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in items.items())


def html_escape(text: str) -> str:
    """Escape text for a Graphviz HTML-like label (newlines become ``<BR/>``)."""
    out = _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return out.replace("\n", "<BR/>")


def _legend_html(diagram: Diagram) -> Html | None:
    if not diagram.title and not diagram.legend:
        return None
    rows = []
    if diagram.title:
        rows.append(
            f'<TR><TD COLSPAN="{max(1, 2 * len(diagram.legend))}"><FONT POINT-SIZE="{style.FONT_SIZE + 4}">'
            f"<B>{html_escape(diagram.title)}</B></FONT></TD></TR>"
        )
    if diagram.legend:
        cells = []
        for entry in diagram.legend:
            cells.append(_swatch(entry))
            cells.append(
                f'<TD ALIGN="LEFT"><FONT POINT-SIZE="{style.FONT_SIZE - 1}">{html_escape(entry.label)}</FONT></TD>'
            )
        rows.append("<TR>" + "".join(cells) + "</TR>")
    return Html('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="2">' + "".join(rows) + "</TABLE>")


def _swatch(entry: LegendEntry) -> str:
    if entry.mark.startswith("box"):
        border = {"box-thick": "2", "box-double": "3"}.get(entry.mark, "1")
        dashed = ' STYLE="dashed"' if entry.mark == "box-dashed" else ""
        size = 'WIDTH="22" HEIGHT="14" FIXEDSIZE="TRUE"'
        return f'<TD BGCOLOR="{entry.colour}" BORDER="{border}"{dashed} {size}></TD>'
    if entry.mark == "text":
        return f'<TD><FONT COLOR="{entry.colour}"><B>{html_escape(entry.text)}</B></FONT></TD>'
    glyph = {"line": "━━", "thick": "▬▬", "dashed": "╍╍"}.get(entry.mark, "━━")
    return f'<TD><FONT COLOR="{entry.colour}" POINT-SIZE="{style.FONT_SIZE + 2}">{glyph}</FONT></TD>'


def generate_dot(diagram: Diagram) -> str:
    """The DOT source of a diagram: same diagram, same text, byte for byte."""
    lines = [f"digraph {_quote(diagram.name)} {{"]
    graph_attrs = _dot_graph_attrs(diagram)
    if graph_attrs:
        lines.append(f"  graph [{_attrs(graph_attrs)}];")
    if diagram.node_defaults:
        lines.append(f"  node [{_attrs(diagram.node_defaults)}];")
    if diagram.edge_defaults:
        lines.append(f"  edge [{_attrs(diagram.edge_defaults)}];")
    for cluster, label in diagram.clusters.items():
        members = [n for n in diagram.nodes if n.cluster == cluster]
        if members:
            lines += _dot_cluster(cluster, label, members)
    lines += [_dot_node(n, "  ") for n in diagram.nodes if n.cluster is None]
    lines += [_dot_edge(edge) for edge in diagram.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_graph_attrs(diagram: Diagram) -> dict[str, str]:
    """The graph's attributes: its layout, its own settings, and the title and legend as its label."""
    # name the layout program, so that `dot -Tsvg file.dot` draws what tenor draws
    graph_attrs = {"rankdir": diagram.rankdir} if diagram.engine == "dot" else {"layout": diagram.engine}
    graph_attrs.update(diagram.graph_attrs)
    legend = _legend_html(diagram)
    if legend is not None:
        graph_attrs.setdefault("labelloc", "t")
        graph_attrs["label"] = legend
    return graph_attrs


_CLUSTER_LOOK = {
    "style": "rounded,filled",
    "fillcolor": style.CLUSTER_FILL,
    "color": style.CLUSTER_LINE,
    "fontcolor": "#555555",
    "labeljust": "l",
}


def _dot_cluster(cluster: str, label: str, members: list[DrawnNode]) -> list[str]:
    """A labelled, shaded subgraph holding the cluster's nodes."""
    look = {"id": f"c_{_safe(cluster)}", "label": label, **_CLUSTER_LOOK}
    return [
        f"  subgraph {_quote('cluster_' + cluster)} {{",
        f"    graph [{_attrs(look)}];",
        *(_dot_node(n, "    ") for n in members),
        "  }",
    ]


def _dot_node(node: DrawnNode, indent: str) -> str:
    """A node statement: its SVG id and classes, label, then its own attributes."""
    attrs = {"id": f"n_{_safe(node.name)}"}
    if node.classes:
        attrs["class"] = node.classes
    attrs["label"] = node.label
    attrs.update(node.attrs)
    return f"{indent}{_quote(node.name)} [{_attrs(attrs)}];"


def _dot_edge(edge: DrawnEdge) -> str:
    """An edge statement: its SVG id and classes, label, then its own attributes."""
    attrs = {"id": edge.id}
    if edge.classes:
        attrs["class"] = edge.classes
    if edge.label is not None:
        attrs["label"] = edge.label
    attrs.update(edge.attrs)
    return f"  {_quote(edge.tail)} -> {_quote(edge.head)} [{_attrs(attrs)}];"


def _mermaid_text(text: str) -> str:
    return _clean(text).replace('"', "#quot;").replace("|", "#124;").replace("\n", "<br/>")


_MERMAID_SHAPES = {
    "box": ('["', '"]'),
    "rounded": ('("', '")'),
    "circle": ('(("', '"))'),
    "doublecircle": ('((("', '")))'),
    "diamond": ('{"', '"}'),
    "plaintext": ('["', '"]'),
    "none": ('["', '"]'),
    "ellipse": ('(["', '"])'),
}


def generate_mermaid(diagram: Diagram) -> str:
    """The diagram as a Mermaid flowchart (``flowchart LR``), for Markdown viewers.

    Shapes, dashed and thick edges, edge labels, clusters (subgraphs), edge
    colours (``linkStyle``) and node fills (``style``) carry over; the
    legend becomes a comment, and Graphviz-only details (pipes, label
    positions) are simplified.
    """
    direction = diagram.rankdir if diagram.engine == "dot" else "LR"
    lines = [f"flowchart {direction}"]
    if diagram.title:
        lines.insert(0, f"%% {diagram.title}")
    for entry in diagram.legend:
        lines.append(f"  %% legend: {entry.label} = {entry.colour} {entry.mark}")
    for cluster, label in diagram.clusters.items():
        members = [n for n in diagram.nodes if n.cluster == cluster]
        if not members:
            continue
        lines.append(f'  subgraph c_{_safe(cluster)}["{_mermaid_text(label)}"]')
        lines += [_mermaid_node(n, "    ") for n in members]
        lines.append("  end")
    lines += [_mermaid_node(n, "  ") for n in diagram.nodes if n.cluster is None]
    lines += [_mermaid_edge(edge) for edge in diagram.edges]
    link_styles = [_mermaid_link_style(i, edge) for i, edge in enumerate(diagram.edges)]
    lines += [line for line in link_styles if line is not None]
    node_styles = [_mermaid_node_style(node) for node in diagram.nodes]
    lines += [line for line in node_styles if line is not None]
    return "\n".join(lines) + "\n"


def _mermaid_node(node: DrawnNode, indent: str) -> str:
    """A node in the Mermaid shape closest to its Graphviz one; an HTML label as plain text."""
    shape = node.attrs.get("shape", "box")
    if shape == "box" and "rounded" in node.attrs.get("style", ""):
        shape = "rounded"
    left, right = _MERMAID_SHAPES.get(shape, ('["', '"]'))
    label = node.label
    if isinstance(label, Html):
        label = re.sub(r"<[^>]+>", " ", label.replace("<BR/>", "\n")).strip()
        label = re.sub(r"[ ]+", " ", label)
    return f"{indent}n_{_safe(node.name)}{left}{_mermaid_text(label)}{right}"


def _mermaid_arrow(edge: DrawnEdge) -> str:
    """The Mermaid link for an edge: invisible, dashed, thick or plain, with heads at none, one or both ends."""
    st = edge.attrs.get("style", "")
    both = edge.attrs.get("dir") == "both"
    plain = edge.attrs.get("dir") == "none" or edge.attrs.get("arrowhead") == "none"
    if "invis" in st:
        return "~~~"
    if "dashed" in st or "dotted" in st:
        return "<-.->" if both else ("-.-" if plain else "-.->")
    if float(edge.attrs.get("penwidth", "1")) >= style.CAUSAL_PENWIDTH:
        return "<==>" if both else ("===" if plain else "==>")
    return "<-->" if both else ("---" if plain else "-->")


def _mermaid_edge(edge: DrawnEdge) -> str:
    """An edge's Mermaid line, its labels (head label, label, external label) joined on the link."""
    a, b = f"n_{_safe(edge.tail)}", f"n_{_safe(edge.head)}"
    arrow = _mermaid_arrow(edge)
    label = " ".join(t for t in (edge.attrs.get("headlabel"), edge.label, edge.attrs.get("xlabel")) if t)
    if label and arrow != "~~~":
        return f'  {a} {arrow}|"{_mermaid_text(label)}"| {b}'
    return f"  {a} {arrow} {b}"


def _mermaid_link_style(index: int, edge: DrawnEdge) -> str | None:
    """``linkStyle`` for the ``index``-th edge's colour (its first, for a multi-colour edge) and width."""
    colour = edge.attrs.get("color", "")
    if not colour or "invis" in edge.attrs.get("style", ""):
        return None
    width = edge.attrs.get("penwidth")
    css = f"stroke:{colour.split(':')[0]}" + (f",stroke-width:{width}px" if width else "")
    return f"  linkStyle {index} {css}"


def _mermaid_node_style(node: DrawnNode) -> str | None:
    """``style`` for a node's fill, outline colour and dashes (None when it has none of them)."""
    fill = node.attrs.get("fillcolor")
    line = node.attrs.get("color")
    css = []
    if fill:
        css.append(f"fill:{fill}")
    if line:
        css.append(f"stroke:{line}")
    if "dashed" in node.attrs.get("style", ""):
        css.append("stroke-dasharray:4 3")
    return f"  style n_{_safe(node.name)} {','.join(css)}" if css else None
