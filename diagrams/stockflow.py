"""Stock-and-flow diagrams: stocks as boxes, flows as pipes with valves, clouds, auxiliaries, links.

A stock-and-flow diagram shows how material accumulates (Forrester 1961;
Sterman 2000, ch. 6). Its vocabulary:

* a **stock** is a box: an accumulation such as the carry book or the
  remaining intervention firepower;
* a **flow** is a pipe (a double line) with a **valve** (``⋈``) that sets the
  rate, running from one stock to another, or from a **cloud** (``☁``), a
  source outside the model's boundary, or into a cloud, a sink;
* an **auxiliary** is a circle: a variable computed from others; a
  **constant** is a diamond;
* an **information link** is a thin arrow: the variable at its head reads the
  one at its tail (a flow reading its stock, an auxiliary reading a
  constant), with its polarity when known.

The layout is Graphviz ``dot``, left to right, so that material flows from
left to right wherever the structure allows.

Examples
--------
>>> from diagrams.structures import Flow, InformationLink, Stock, StockFlowStructure
>>> sf = StockFlowStructure(
...     stocks=[Stock("water", "Water in tub")],
...     flows=[Flow("inflow", None, "water"), Flow("drain", "water", None)],
...     links=[InformationLink("water", "drain", "+")])
>>> d = draw_stockflow(sf)
>>> [(n.name, n.classes) for n in d.nodes]  # doctest: +NORMALIZE_WHITESPACE
[('water', 'stock'), ('inflow', 'flow valve'), ('drain', 'flow valve'),
 ('cloud_inflow_source', 'cloud source'), ('cloud_drain_sink', 'cloud sink')]
>>> [(e.tail, e.head, e.classes) for e in d.edges]  # doctest: +NORMALIZE_WHITESPACE
[('cloud_inflow_source', 'inflow', 'pipe'), ('inflow', 'water', 'pipe'),
 ('water', 'drain', 'pipe'), ('drain', 'cloud_drain_sink', 'pipe'),
 ('water', 'drain', 'information sign-pos')]

References
----------
Forrester, J. W. (1961). *Industrial Dynamics*. MIT Press.
Sterman, J. D. (2000). *Business Dynamics*. Irwin/McGraw-Hill, ch. 6.
"""

from __future__ import annotations

from diagrams import style
from diagrams.display import svg_of
from diagrams.render import repr_svg
from diagrams.scene import Diagram, Html, LegendEntry, generate_dot, generate_mermaid, html_escape
from diagrams.structures import Flow, StockFlowStructure

__all__ = ["draw_stockflow", "stockflow_dot", "stockflow_mermaid"]

VALVE = "⋈"
CLOUD = "☁"
_PIPE_COLOUR = "#444444:#FFFFFF:#444444"


_SF_GRAPH = {
    "fontname": style.FONT,
    "nodesep": "0.45",
    "ranksep": "0.55",
    "pad": "0.3",
    "bgcolor": "white",
    "splines": "true",
    "outputorder": "edgesfirst",
}
_STOCK = {
    "shape": "box",
    "style": "filled",
    "fillcolor": "#FFFFFF",
    "color": "#222222",
    "penwidth": "1.8",
    "width": "1.5",
    "height": "0.75",
}
_AUXILIARY = {"shape": "circle", "style": "filled", "fillcolor": "#FFFFFF", "color": "#444444"}
_CONSTANT = {"shape": "diamond", "style": "filled", "fillcolor": "#FFFFFF", "color": "#666666"}
_CLOUD = {"shape": "plaintext", "fontsize": str(style.FONT_SIZE + 22), "fontcolor": "#8A8A8A", "margin": "0"}
_PIPE = {"color": _PIPE_COLOUR, "penwidth": "2", "arrowsize": "1.1", "weight": "4"}
_LEGEND = (
    LegendEntry("stock", "#FFFFFF", "box"),
    LegendEntry("flow (valve)", "#444444", "text", VALVE),
    LegendEntry("source / sink", "#8A8A8A", "text", CLOUD),
    LegendEntry("information link", style.INFO_COLOUR, "line"),
)


def draw_stockflow(structure: StockFlowStructure, *, title: str | None = None) -> Diagram:
    """A :class:`~diagrams.scene.Diagram` of a stock-and-flow structure."""
    d = Diagram("stock_and_flow", title=title if title is not None else structure.title, kind="stockflow")
    d.graph_attrs.update(_SF_GRAPH)
    d.node_defaults.update({"fontname": style.FONT, "fontsize": str(style.FONT_SIZE)})
    d.edge_defaults.update({"fontname": style.FONT, "fontsize": str(style.FONT_SIZE - 2)})
    _add_nodes(d, structure)
    _add_pipes(d, structure)
    _add_information_links(d, structure)
    d.legend += _LEGEND
    return d


def _valve(flow: Flow) -> Html:
    """A flow's label: the valve over its name."""
    return Html(
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
        f'<TR><TD PORT="v"><FONT POINT-SIZE="{style.FONT_SIZE + 10}">{VALVE}</FONT></TD></TR>'
        f'<TR><TD><FONT POINT-SIZE="{style.FONT_SIZE - 1}">'
        f"{html_escape(style.wrap_label(flow.text, 14))}</FONT></TD></TR></TABLE>"
    )


def _add_nodes(d: Diagram, structure: StockFlowStructure) -> None:
    """Stocks as boxes, flows as valves, auxiliaries as circles, constants as diamonds, then the clouds."""
    for stock in structure.stocks:
        d.add_node(stock.name, style.wrap_label(stock.text, 16), classes="stock", **_STOCK)
    for flow in structure.flows:
        d.add_node(flow.name, _valve(flow), classes="flow valve", shape="plaintext", margin="0")
    small = {"fontsize": str(style.FONT_SIZE - 2), "margin": "0.02"}
    for aux in structure.auxiliaries:
        text = style.wrap_label(aux.text, 11)
        if aux.constant:
            d.add_node(aux.name, text, classes="auxiliary constant", **_CONSTANT, **small)
        else:
            d.add_node(aux.name, text, classes="auxiliary", **_AUXILIARY, **small)
    for flow_name, end in structure.clouds():
        d.add_node(f"cloud_{flow_name}_{end}", CLOUD, classes=f"cloud {end}", **_CLOUD)


def _add_pipes(d: Diagram, structure: StockFlowStructure) -> None:
    """Each flow as a pipe into its valve and on out of it, from and to a stock or a cloud."""
    for flow in structure.flows:
        source = flow.source if flow.source is not None else f"cloud_{flow.name}_source"
        target = flow.target if flow.target is not None else f"cloud_{flow.name}_sink"
        d.add_edge(source, flow.name, classes="pipe", arrowhead="none", headport="v", **_PIPE)
        d.add_edge(flow.name, target, classes="pipe", tailport="v", arrowhead="normal", **_PIPE)


def _add_information_links(d: Diagram, structure: StockFlowStructure) -> None:
    """Each information link as a thin arrow with its sign when known; one read by a flow does not rank."""
    flows = {f.name for f in structure.flows}
    for link in structure.links:
        sign = {"+": "sign-pos", "-": "sign-neg"}.get(link.polarity, "sign-unknown")
        attrs = {
            "color": style.INFO_COLOUR,
            "penwidth": "0.9",
            "arrowsize": "0.6",
            "constraint": "false" if link.cause in flows else "true",
            "fontcolor": style.INFO_COLOUR,
        }
        if link.polarity != "?":
            attrs["headlabel"] = style.sign_glyph(link.polarity)
            attrs["labelfontsize"] = str(style.FONT_SIZE)
            attrs["labelfontcolor"] = style.INFO_COLOUR
            attrs["labeldistance"] = "1.4"
        d.add_edge(link.cause, link.effect, classes=f"information {sign}", key="info", **attrs)


@svg_of.register
def _stockflow_svg(structure: StockFlowStructure) -> str:
    """SVG text of :func:`draw_stockflow`: what a stock-and-flow structure shows inline in Jupyter."""
    return repr_svg(draw_stockflow(structure))


def stockflow_dot(structure: StockFlowStructure, **options: object) -> str:
    """DOT source of :func:`draw_stockflow`."""
    return generate_dot(draw_stockflow(structure, **options))  # type: ignore[arg-type]


def stockflow_mermaid(structure: StockFlowStructure, **options: object) -> str:
    """Mermaid source of :func:`draw_stockflow` (pipes become plain arrows)."""
    return generate_mermaid(draw_stockflow(structure, **options))  # type: ignore[arg-type]
