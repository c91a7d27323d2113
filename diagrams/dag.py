"""Drawing a causal graph: channels in colour, signs and lags on the edges, roles as dagitty shows them.

:func:`draw_dag` turns a :class:`~causal.spec.CausalSpec` (or a
:class:`~causal.graph.CausalGraph`) into a :class:`~diagrams.scene.Diagram`,
laid out left to right, causes before effects:

* each edge is labelled with its sign (``+`` or ``−``) and, when the spec
  gives one, its lag or time constant (``+ 1 day``);
* each named *channel* (a directed path that carries an argument) is drawn in
  its own colour from :data:`diagrams.style.CHANNEL_COLOURS`, in the spec's
  channel order, and named in the legend; an edge on two channels shows both
  colours side by side;
* a latent common cause ``a <-> b`` is a dashed, double-headed grey edge;
  latent nodes are grey with a dashed outline;
* roles are marked as dagitty users expect: the *exposure* green, the
  *outcome* blue, *adjusted* variables as double-bordered grey boxes;
* nodes that share a ``group`` are drawn inside one labelled cluster;
* descriptions, units, gains and sources become tooltips in the SVG.

Given a *query* (the name of one of the spec's queries, or a pair
``(treatment, outcome)``) and an *adjustment set*, the edges of the causal
paths from treatment to outcome are drawn thick, and the edges of the
back-door paths that the adjustment set leaves *open* (the ones that bias a
naive estimate) are drawn in reddish purple. An empty adjustment set shows
every open back-door path; a valid one leaves none highlighted.

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec('''
... nodes:
...   z: {label: Confounder}
...   x: {label: Treatment}
...   m: {label: Mediator}
...   y: {label: Outcome}
... edges:
...   z -> x: {sign: +}
...   z -> y: {sign: +}
...   x -> m: {sign: +, lag: 2 days}
...   m -> y: {sign: "-"}
... channels:
...   via_m: {path: x -> m -> y}
... ''')
>>> d = draw_dag(spec, query=("x", "y"), adjust=[])
>>> [e.label for e in d.edges]
['+', '+', '+ 2 days', '−']
>>> sorted(e.tail + e.head for e in d.edges if "backdoor" in e.classes)
['zx', 'zy']
>>> sorted(e.tail + e.head for e in d.edges if "causal" in e.classes)
['my', 'xm']
>>> [e.tail + e.head for e in draw_dag(spec, query=("x", "y"), adjust=["z"]).edges if "backdoor" in e.classes]
[]

References
----------
Shachter, R. D. (1998). Bayes-Ball: the rational pastime (for determining
irrelevance and requisite information in belief networks and influence
diagrams). *Proceedings of UAI 1998*, 480–487.
Textor, J. et al. (2016). Robust causal inference using directed acyclic
graphs: the R package 'dagitty'. *International Journal of Epidemiology* 45(6).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from causal.graph import CausalGraph, build_graph, closure, open_trail_edges
from causal.paths import find_paths
from causal.spec import CausalSpec
from diagrams import style
from diagrams.render import repr_svg
from diagrams.scene import Diagram, LegendEntry, generate_dot, generate_mermaid
from tenor.core.errors import GraphError

__all__ = ["PathHighlights", "dag_dot", "dag_mermaid", "dag_svg", "draw_dag", "query_highlights"]

Query = str | tuple[str | Iterable[str], str | Iterable[str]]


@dataclass(frozen=True)
class PathHighlights:
    """Edges to highlight for a query: on causal paths, and on open back-door paths.

    Directed edges are ``(cause, effect)`` pairs; latent confounding edges on an
    open back-door path are sorted pairs in ``backdoor_bidirected``.
    ``open_backdoor_paths`` lists the paths when they were enumerated
    (``method == "paths"``).
    """

    treatments: tuple[str, ...]
    outcomes: tuple[str, ...]
    adjust: tuple[str, ...]
    causal: frozenset[tuple[str, str]]
    backdoor: frozenset[tuple[str, str]]
    backdoor_bidirected: frozenset[tuple[str, str]]
    open_backdoor_paths: tuple[str, ...]
    method: str = "paths"


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _resolve_query(
    spec: CausalSpec | None, query: Query, adjust: Iterable[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    if isinstance(query, str):
        if spec is None or query not in spec.queries:
            known = ", ".join(spec.queries) if spec is not None and spec.queries else "none"
            raise GraphError(f"unknown query {query!r}", hint=f"queries in the spec: {known}")
        q = spec.queries[query]
        treatments, outcomes = tuple(q.treatment), tuple(q.outcome)
        if adjust is None and q.expect is not None and q.expect.adjust is not None:
            adjust = q.expect.adjust
    else:
        treatments, outcomes = _names(query[0]), _names(query[1])
    return treatments, outcomes, tuple(adjust or ())


def query_highlights(
    graph: CausalGraph,
    treatments: Iterable[str],
    outcomes: Iterable[str],
    adjust: Iterable[str] = (),
    *,
    max_paths: int = 2000,
    exact_limit: int = 40,
) -> PathHighlights:
    """The edges on causal paths and on open back-door paths from treatments to outcomes, given ``adjust``.

    On graphs of at most ``exact_limit`` nodes every path is enumerated
    (:func:`causal.paths.find_paths`, at most ``max_paths`` per pair) and the
    open back-door paths are listed. Path enumeration grows exponentially
    with the graph, so on larger graphs the edges are found in linear time
    instead: causal edges from descendants and ancestors, back-door edges by
    reachability over active trails ("Bayes-ball", Shachter 1998), which can
    also mark an edge that lies only on an active trail that revisits a node;
    ``method`` says which was used.

    >>> from causal.graph import from_edges
    >>> g = from_edges([("x", "y")], bidirected=[("x", "y")])
    >>> h = query_highlights(g, ["x"], ["y"])
    >>> sorted(h.causal), sorted(h.backdoor_bidirected), h.open_backdoor_paths
    ([('x', 'y')], [('x', 'y')], ('x <-> y',))
    >>> query_highlights(g, ["x"], ["y"], exact_limit=0).backdoor_bidirected == h.backdoor_bidirected
    True
    """
    treatments, outcomes, adjust = tuple(treatments), tuple(outcomes), tuple(adjust)
    if graph.directed.number_of_nodes() > exact_limit:
        causal, backdoor, bidirected = _reachable_highlights(graph, treatments, outcomes, adjust)
        return PathHighlights(
            treatments, outcomes, adjust, frozenset(causal), frozenset(backdoor), frozenset(bidirected), (),
            "reachability",
        )  # fmt: skip
    causal = set()
    backdoor = set()
    bidirected = set()
    open_paths: list[str] = []
    for t in treatments:
        for y in outcomes:
            for path in find_paths(graph, t, y, given=adjust, max_paths=max_paths):
                steps = list(zip(path.nodes, path.arrows, path.nodes[1:], strict=False))
                if path.causal:
                    causal.update((a, b) for a, _, b in steps)
                elif path.backdoor and path.open:
                    open_paths.append(str(path))
                    for a, arrow, b in steps:
                        if arrow == "->":
                            backdoor.add((a, b))
                        elif arrow == "<-":
                            backdoor.add((b, a))
                        else:
                            bidirected.add(tuple(sorted((a, b))))  # type: ignore[arg-type]
    return PathHighlights(
        treatments, outcomes, adjust, frozenset(causal), frozenset(backdoor), frozenset(bidirected),
        tuple(open_paths), "paths",
    )  # fmt: skip


def _reachable_highlights(
    graph: CausalGraph, treatments: tuple[str, ...], outcomes: tuple[str, ...], adjust: tuple[str, ...]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """Causal and open back-door edges in linear time (see :func:`query_highlights`)."""
    graph.check_nodes([*treatments, *outcomes, *adjust])
    index = graph.index
    causal: set[tuple[str, str]] = set()
    backdoor: set[tuple[str, str]] = set()
    bidirected: set[tuple[str, str]] = set()
    for t in treatments:
        for y in outcomes:
            down = closure(index.children, [t])
            up = closure(index.parents, [y])
            causal |= {(u, v) for u, v in graph.directed.edges if u in down and v in up and v != t and u != y}
            for a, b in open_trail_edges(index, t, y, set(adjust)):
                if a in index.named:
                    backdoor.add((a, b))
                else:  # out of the latent node of a <-> b
                    bidirected.add(tuple(sorted(index.children[a])))  # type: ignore[arg-type]
    return causal, backdoor, bidirected


def _edge_label(sign: str | None, lag: str | None, gain: float | None, show_gains: bool) -> str:
    text = style.sign_glyph(sign) if sign is not None or gain is None else style.sign_glyph(None)
    if show_gains and gain is not None:
        text = f"{gain:+g}".replace("-", "−")
    if lag:
        text += f" {lag}"
    return text


@dataclass(frozen=True)
class ChannelColours:
    """The channels drawn in colour: their names in spec order, each one's colour, and the edges on each."""

    chosen: tuple[str, ...]
    colours: dict[str, str]
    on_edge: dict[tuple[str, str], list[str]]


@dataclass(frozen=True)
class QueryMarks:
    """What a query adds to the picture: the paths to highlight (None without a query) and node roles."""

    highlights: PathHighlights | None
    roles: dict[str, str]


_DAG_GRAPH = {
    "fontname": style.FONT,
    "nodesep": "0.35",
    "ranksep": "0.7",
    "pad": "0.25",
    "bgcolor": "white",
    "splines": "true",
    "outputorder": "edgesfirst",
}
_DAG_NODES = {"fontname": style.FONT, "fontsize": str(style.FONT_SIZE), "margin": "0.12,0.06"}
_DAG_EDGES = {
    "fontname": style.FONT,
    "fontsize": str(style.FONT_SIZE - 2),
    "color": style.EDGE_COLOUR,
    "fontcolor": "#333333",
    "arrowsize": "0.8",
    "penwidth": "1.2",
}
_PLAIN_WIDTH = 1.2
_ROLE_MARKS = {"latent": "box-dashed", "adjusted": "box-double", "exposure": "box-thick", "outcome": "box-thick"}


def draw_dag(
    source: CausalSpec | CausalGraph,
    *,
    channels: Iterable[str] | None = None,
    query: Query | None = None,
    adjust: Iterable[str] | None = None,
    title: str | None = None,
    show_gains: bool = False,
    clusters: bool = True,
    max_paths: int = 2000,
    exact_limit: int = 40,
) -> Diagram:
    """A :class:`~diagrams.scene.Diagram` of a causal graph, its channels and optionally a query.

    ``channels`` picks the channels to colour (default: all of the spec's);
    each keeps the colour of its position in the spec, so a channel looks the
    same in every figure. ``query`` and ``adjust`` select the paths to
    highlight (for a named query without ``adjust``, the adjustment set the
    spec expects). ``show_gains`` writes signed gains instead of signs.

    Raises
    ------
    GraphError
        On an unknown channel, query or node.
    """
    graph = source if isinstance(source, CausalGraph) else build_graph(source)
    colouring = _channel_colours(graph, channels)
    marks = _query_marks(graph, query, adjust, max_paths=max_paths, exact_limit=exact_limit)
    diagram = _new_dag_diagram(graph, title)
    used_roles = _add_nodes(diagram, graph, marks.roles, clusters=clusters)
    _add_directed_edges(diagram, graph, colouring, marks.highlights, show_gains=show_gains)
    latent = _add_bidirected_edges(diagram, graph, marks.highlights)
    diagram.legend += _dag_legend(graph, colouring, marks.highlights, latent=latent, roles=used_roles)
    return diagram


def _channel_colours(graph: CausalGraph, channels: Iterable[str] | None) -> ChannelColours:
    """The chosen channels (default: all), each in the colour of its place in the spec, and their edges."""
    spec = graph.spec
    all_channels = list(spec.channels) if spec is not None else []
    colours = style.channel_colours(all_channels)
    chosen = all_channels if channels is None else list(channels)
    for name in chosen:
        if name not in colours:
            raise GraphError(
                f"unknown channel {name!r}",
                hint="channels in the spec: " + (", ".join(all_channels) or "none"),
            )
    on_edge: dict[tuple[str, str], list[str]] = {}
    for name in chosen:
        path = spec.channels[name].path  # type: ignore[union-attr]
        for a, b in itertools.pairwise(path):
            if not graph.directed.has_edge(a, b):
                raise GraphError(f"channel {name!r} is not a path of the graph: no edge {a} -> {b}")
            on_edge.setdefault((a, b), []).append(name)
    return ChannelColours(tuple(chosen), colours, on_edge)


def _query_marks(
    graph: CausalGraph, query: Query | None, adjust: Iterable[str] | None, *, max_paths: int, exact_limit: int
) -> QueryMarks:
    """The paths a query highlights and the roles it gives (exposure, outcome, adjusted)."""
    roles: dict[str, str] = {}
    if query is None:
        if adjust is not None:
            graph.check_nodes(list(adjust))
            roles.update({n: "adjusted" for n in adjust})
        return QueryMarks(None, roles)
    treatments, outcomes, adj = _resolve_query(graph.spec, query, adjust)
    graph.check_nodes([*treatments, *outcomes, *adj])
    highlights = query_highlights(graph, treatments, outcomes, adj, max_paths=max_paths, exact_limit=exact_limit)
    roles.update({n: "adjusted" for n in adj})
    roles.update({n: "exposure" for n in treatments})
    roles.update({n: "outcome" for n in outcomes})
    return QueryMarks(highlights, roles)


def _new_dag_diagram(graph: CausalGraph, title: str | None) -> Diagram:
    """An empty left-to-right diagram named and titled after the spec."""
    spec = graph.spec
    name = (spec.name if spec is not None and spec.name else None) or graph.directed.graph.get("name")
    if title is None and spec is not None:
        title = spec.title or spec.name
    diagram = Diagram(name or "causal_graph", title=title, engine="dot", rankdir="LR", kind="dag")
    diagram.graph_attrs.update(_DAG_GRAPH)
    diagram.node_defaults.update(_DAG_NODES)
    diagram.edge_defaults.update(_DAG_EDGES)
    return diagram


def _node_role(data: dict, given: str | None) -> str:
    """A node's role: the query's, else latent when unobserved, else the spec's (or plain ``variable``)."""
    if given is not None:
        return given
    if not data.get("observed", True):
        return "latent"
    spec_role = data.get("role", "variable")
    return spec_role if spec_role in ("exposure", "outcome", "adjusted", "selected") else "variable"


def _node_tooltip(graph: CausalGraph, node: str, data: dict) -> str | None:
    """A node's description and unit, one per line (None when it has neither)."""
    spec = graph.spec
    tip = [str(t) for t in (spec.nodes[node].description if spec and node in spec.nodes else None,) if t]
    if data.get("unit"):
        tip.append(f"unit: {data['unit']}")
    return "\n".join(tip) if tip else None


def _add_nodes(diagram: Diagram, graph: CausalGraph, roles: dict[str, str], *, clusters: bool) -> list[str]:
    """Draw every node in the style of its role, inside its group's cluster; the roles used, in order."""
    used_roles: list[str] = []
    for node, data in graph.directed.nodes(data=True):
        role = _node_role(data, roles.get(node))
        if role != "variable" and role not in used_roles:
            used_roles.append(role)
        hidden = not data.get("observed", True) and role != "latent"
        attrs = dict(style.ROLE_STYLES.get(role, style.ROLE_STYLES["variable"]))
        if hidden:
            attrs["style"] += ",dashed"
        group = data.get("group") if clusters else None
        if group is not None:
            diagram.clusters.setdefault(group, str(group).replace("_", " "))
        classes = " ".join(c for c in (role, "latent" if hidden else "") if c)
        tip = _node_tooltip(graph, node, data)
        if tip:
            attrs["tooltip"] = tip
        diagram.add_node(
            node, style.wrap_label(str(data.get("label") or node)), cluster=group, classes=classes, **attrs
        )
    return used_roles


def _directed_edge_look(
    edge: tuple[str, str], colouring: ChannelColours, highlights: PathHighlights | None
) -> tuple[list[str], dict[str, str]]:
    """The SVG classes and Graphviz attributes an edge gets from its channels and the query's paths."""
    names = colouring.on_edge.get(edge, [])
    colours = [colouring.colours[c] for c in names]
    classes = [f"channel-{c}" for c in names]
    width = 2.4 if colours else _PLAIN_WIDTH
    if highlights is not None and edge in highlights.backdoor:
        colours.append(style.BACKDOOR_COLOUR)
        classes.append("backdoor")
        width = max(width, 2.4)
    if highlights is not None and edge in highlights.causal:
        classes.append("causal")
        width = style.CAUSAL_PENWIDTH
    attrs: dict[str, str] = {}
    if colours:
        attrs["color"] = ":".join(colours)
        attrs["fontcolor"] = colours[0]
    if width != _PLAIN_WIDTH:
        attrs["penwidth"] = f"{width:g}"
    return classes, attrs


def _edge_tooltip(data: dict) -> str | None:
    """An edge's gain, description and source, one per line (None when it has none)."""
    tip = [str(t) for t in (data.get("description"), data.get("source")) if t]
    if data.get("gain") is not None:
        tip.insert(0, f"gain {data['gain']:g}")
    return "\n".join(tip) if tip else None


def _add_directed_edges(
    diagram: Diagram,
    graph: CausalGraph,
    colouring: ChannelColours,
    highlights: PathHighlights | None,
    *,
    show_gains: bool,
) -> None:
    """Draw every directed edge with its sign (or gain) and lag, coloured by channel and query."""
    g = graph.directed
    for a, b, data in g.edges(data=True):
        sign = "pos" if data.get("sign") == "+" else "neg" if data.get("sign") == "-" else "unknown"
        look, attrs = _directed_edge_look((a, b), colouring, highlights)
        if not g.nodes[a].get("observed", True):  # out of a latent node
            attrs["style"] = "dashed"
        label = _edge_label(data.get("sign"), data.get("lag"), data.get("gain"), show_gains)
        tip = _edge_tooltip(data)
        if tip:
            attrs["tooltip"] = tip
        classes = " ".join(["directed", f"sign-{sign}", *look])
        diagram.add_edge(a, b, label=label, classes=classes, **attrs)


def _add_bidirected_edges(diagram: Diagram, graph: CausalGraph, highlights: PathHighlights | None) -> bool:
    """Draw each latent common cause ``a <-> b`` dashed and double-headed; whether there was any."""
    bidirected = sorted(tuple(sorted(e)) for e in graph.bidirected.edges())
    for a, b in bidirected:
        attrs = {
            "dir": "both",
            "style": "dashed",
            "color": style.LATENT_COLOUR,
            "constraint": "false",
            "arrowsize": "0.7",
        }
        classes = "bidirected latent"
        description = graph.bidirected.edges[a, b].get("description")
        if description:
            attrs["tooltip"] = str(description)
        if highlights is not None and (a, b) in highlights.backdoor_bidirected:
            attrs["color"] = style.BACKDOOR_COLOUR
            attrs["penwidth"] = "2.4"
            classes += " backdoor"
        diagram.add_edge(a, b, classes=classes, key="latent", **attrs)
    return bool(bidirected)


def _dag_legend(
    graph: CausalGraph,
    colouring: ChannelColours,
    highlights: PathHighlights | None,
    *,
    latent: bool,
    roles: list[str],
) -> list[LegendEntry]:
    """Legend entries: the channels, the query's paths, latent causes, then the roles drawn."""
    entries = []
    for name in colouring.chosen:
        label = graph.spec.channels[name].label or name.replace("_", " ")  # type: ignore[union-attr]
        entries.append(LegendEntry(label, colouring.colours[name], "thick"))
    if highlights is not None:
        entries.append(LegendEntry("causal path", style.EDGE_COLOUR, "thick"))
        entries.append(LegendEntry("open back-door path", style.BACKDOOR_COLOUR, "thick"))
    if latent:
        entries.append(LegendEntry("latent common cause", style.LATENT_COLOUR, "dashed"))
    for role in roles:
        entries.append(LegendEntry(role, style.ROLE_STYLES[role]["fillcolor"], _ROLE_MARKS.get(role, "box")))
    return entries


def dag_dot(source: CausalSpec | CausalGraph, **options: object) -> str:
    """DOT source of :func:`draw_dag` (same options)."""
    return generate_dot(draw_dag(source, **options))  # type: ignore[arg-type]


def dag_mermaid(source: CausalSpec | CausalGraph, **options: object) -> str:
    """Mermaid source of :func:`draw_dag` (same options)."""
    return generate_mermaid(draw_dag(source, **options))  # type: ignore[arg-type]


def dag_svg(source: CausalSpec | CausalGraph, **options: object) -> str:
    """SVG text of :func:`draw_dag`: what a spec or graph returns from ``_repr_svg_`` in Jupyter."""
    return repr_svg(draw_dag(source, **options))  # type: ignore[arg-type]
