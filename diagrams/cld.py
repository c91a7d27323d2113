"""Causal-loop diagrams: signed links, delay marks, loop markers, and loops cut at a chosen element.

A causal-loop diagram (CLD) shows the feedback structure of a model: which
variable moves which, in which direction, and which chains of links close on
themselves. Conventions (Sterman 2000, ch. 5):

* each link carries its *polarity* near the arrow head: ``+`` when the effect
  moves in the same direction as the cause, ``−`` when it moves against it;
* a link with a material or information delay carries a delay mark ``||``
  across its middle;
* each feedback loop has a marker inside it: ``R`` for a reinforcing loop (an
  even number of ``−`` links), ``B`` for a balancing one (an odd number),
  with a circular arrow showing the loop's direction of travel;
* stocks are boxed; other variables are plain text.

A link of a dimensioned model can be *cut* at some elements: in the Duration
Trade, Treasury sales move the long-end yield when Japan sells 10y or 30y
paper but hardly at all when it sells bills. Drawn at one element
(``element="bills"``), a cut link is broken: dashed, grey and labelled
``cut at bills``, and every loop through it is marked *open* (its marker
dashed and grey). Drawn without an element, every link is whole.

The layout is Graphviz ``neato`` (a spring model), which draws loops as
rings; each loop marker is tied by invisible springs to the loop's variables
so that it settles inside the ring, then is pushed clear of the variables and
of the other markers, so that no two labels overlap. A marker names its loop
by its variables (in full in its tooltip). Every mark is explained in the
legend: ``+``, ``−`` and ``?`` (sign unknown), ``R``, ``B`` and ``U`` (a loop
of unknown polarity), ``||``, boxes for stocks, broken links.

A whole model can have dozens of loops; :func:`focus` keeps a readable part
of it: the named loops (``loops=["R3", "B9"]``), or what lies around one
variable (``around="usdjpy"``: the loops through it; with ``depth=N``, every
variable within ``N`` links of it and the loops among them). Without a
choice, a diagram with many loops marks only those of known polarity.

Examples
--------
>>> from diagrams.structures import CausalLoopStructure, Link, Loop, Variable
>>> s = CausalLoopStructure(
...     variables=[Variable("sales", "flow"), Variable("yield_", "auxiliary"),
...                Variable("yen", "auxiliary")],
...     links=[Link("sales", "yield_", "+", cut_at=("bills",)), Link("yield_", "yen", "-"),
...            Link("yen", "sales", "-", delay=True)],
...     loops=[Loop("R1", ("sales", "yield_", "yen"))], dimension="tenor")
>>> d = draw_cld(s, element="bills")
>>> [(e.tail, e.head, e.attrs.get("headlabel"), e.label) for e in d.edges if "link" in e.classes]
[('sales', 'yield_', '+', 'cut at bills'), ('yield_', 'yen', '−', None), ('yen', 'sales', '−', '||')]
>>> d.node("loop_R1").classes
'loop-marker R open'

References
----------
Sterman, J. D. (2000). *Business Dynamics: Systems Thinking and Modeling for a
Complex World*. Irwin/McGraw-Hill, ch. 5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from diagrams import style
from diagrams.display import svg_of
from diagrams.render import has_dot, layout_positions, repr_svg
from diagrams.scene import Diagram, Html, LegendEntry, generate_dot, generate_mermaid, html_escape
from diagrams.structures import CausalLoopStructure, Link, Loop
from tenor.core.errors import GraphError
from tenor.core.specfile import did_you_mean

__all__ = ["MAX_MARKED", "LoopMarkers", "cld_dot", "cld_mermaid", "draw_cld", "focus", "loop_name"]

_LOOP_GLYPH = "↻"

MAX_MARKED = 12
"""Above this many loops, a diagram drawn without a choice of loops marks only those of known polarity."""

_NAMED = 8
"""Up to this many markers, each names its loop by its variables under its id."""


def loop_name(structure: CausalLoopStructure, loop_id: str, *, limit: int = 3) -> str:
    """A loop named by its variables: ``long yield → dollar → usdjpy → … (8)``.

    >>> from diagrams.structures import CausalLoopStructure, Link, Loop, Variable
    >>> s = CausalLoopStructure([Variable("a"), Variable("b_c")], [Link("a", "b_c", "+"), Link("b_c", "a", "-")],
    ...                         [Loop("B1", ("a", "b_c"))])
    >>> loop_name(s, "B1")
    'a → b c'
    """
    loop = next(lp for lp in structure.loops if lp.id == loop_id)
    names = [structure.variable(v).text for v in loop.variables]
    if len(names) > limit:
        return " → ".join(names[:limit]) + f" → … ({len(names)})"
    return " → ".join(names)


def _known(what: str, names: Iterable[str], known: list[str]) -> None:
    for name in names:
        if name not in known:
            close = did_you_mean(name, known)
            raise GraphError(
                f"unknown {what} {name!r}",
                hint=(f"did you mean {close!r}? " if close else "") + f"{what}s: " + (", ".join(known) or "none"),
            )


def focus(
    structure: CausalLoopStructure,
    *,
    around: str | Iterable[str] | None = None,
    depth: int | None = None,
    loops: Iterable[str] | None = None,
) -> CausalLoopStructure:
    """The part of a causal-loop structure to draw: the named loops, or what lies around variables.

    ``loops`` keeps those loops, their variables and their links. ``around``
    keeps the loops through these variables (with ``loops``, only the named
    ones among them); with ``depth``, it keeps instead every variable within
    ``depth`` links of them (either way along a link), the links among those,
    and the loops that lie wholly inside.

    Raises
    ------
    GraphError
        On an unknown variable or loop id (with a did-you-mean), or a ``depth`` below 1.

    Examples
    --------
    >>> from diagrams.structures import CausalLoopStructure, Link, Loop, Variable
    >>> s = CausalLoopStructure(
    ...     [Variable(n) for n in "abcd"],
    ...     [Link("a", "b", "+"), Link("b", "a", "-"), Link("b", "c", "+"), Link("c", "d", "+"),
    ...      Link("d", "c", "+")],
    ...     [Loop("B1", ("a", "b")), Loop("R1", ("c", "d"))])
    >>> [lp.id for lp in focus(s, around="a").loops], [v.name for v in focus(s, loops=["R1"]).variables]
    (['B1'], ['c', 'd'])
    >>> sorted(v.name for v in focus(s, around="a", depth=2).variables)
    ['a', 'b', 'c']
    """
    chosen = list(structure.loops)
    if loops is not None:
        wanted = list(loops)
        _known("loop", wanted, [lp.id for lp in structure.loops])
        chosen = [lp for lp in chosen if lp.id in wanted]
    if around is not None:
        centre = [around] if isinstance(around, str) else list(around)
        _known("variable", centre, [v.name for v in structure.variables])
        if depth is not None:
            keep, chosen, links = _neighbourhood(structure, centre, depth, chosen)
        else:
            chosen = [lp for lp in chosen if set(centre) & set(lp.variables)]
            keep, links = set(centre) | _loop_variables(chosen), _loop_links(structure, chosen)
    elif loops is not None:
        keep, links = _loop_variables(chosen), _loop_links(structure, chosen)
    else:
        return structure
    return CausalLoopStructure(
        tuple(v for v in structure.variables if v.name in keep),
        tuple(links),
        tuple(chosen),
        dimension=structure.dimension,
        title=structure.title,
        elements=structure.elements,
    )


def _loop_variables(loops: list[Loop]) -> set[str]:
    return {v for lp in loops for v in lp.variables}


def _loop_links(structure: CausalLoopStructure, loops: list[Loop]) -> list[Link]:
    """The links that lie on the loops, in the structure's order."""
    on_loops = {pair for lp in loops for pair in lp.links()}
    return [lk for lk in structure.links if (lk.cause, lk.effect) in on_loops]


def _neighbourhood(
    structure: CausalLoopStructure, centre: list[str], depth: int, loops: list[Loop]
) -> tuple[set[str], list[Loop], list[Link]]:
    """The variables within ``depth`` links of ``centre`` (either way), the loops wholly among them, their links."""
    import networkx as nx

    if depth < 1:
        raise GraphError(f"depth must be 1 or more, got {depth}", hint="e.g. --depth 2")
    graph = nx.Graph([(lk.cause, lk.effect) for lk in structure.links])
    graph.add_nodes_from(v.name for v in structure.variables)
    keep: set[str] = set()
    for c in centre:
        keep |= set(nx.single_source_shortest_path_length(graph, c, cutoff=depth))
    inside = [lp for lp in loops if set(lp.variables) <= keep]
    return keep, inside, [lk for lk in structure.links if lk.cause in keep and lk.effect in keep]


@dataclass(frozen=True)
class LoopMarkers:
    """The loop markers drawn: each marker's loop variables and label half-size, and whether any loop is open."""

    members: dict[str, tuple[str, ...]]
    sizes: dict[str, tuple[float, float]]
    any_open: bool


_CLD_GRAPH = {
    "fontname": style.FONT,
    "overlap": "false",
    "sep": "+14",
    "splines": "curved",
    "start": "3",
    "pad": "0.3",
    "bgcolor": "white",
    "outputorder": "edgesfirst",
}
_CLD_NODES = {"fontname": style.FONT, "fontsize": str(style.FONT_SIZE + 1), "margin": "0.08,0.04"}
_CLD_EDGES = {
    "fontname": style.FONT,
    "color": style.EDGE_COLOUR,
    "penwidth": "1.4",
    "arrowsize": "0.9",
    "len": "2.0",
}
_STOCK_BOX = {"shape": "box", "style": "filled", "fillcolor": "#FFFFFF", "color": "#333333", "penwidth": "1.4"}
_CUT_LOOK = {"style": "dashed", "color": style.CUT_COLOUR, "fontcolor": "#555555", "labelfontcolor": style.CUT_COLOUR}


def draw_cld(
    structure: CausalLoopStructure,
    *,
    element: str | None = None,
    loops: Iterable[str] | None = None,
    title: str | None = None,
    pin: bool = True,
) -> Diagram:
    """A :class:`~diagrams.scene.Diagram` of a causal-loop structure, drawn at ``element`` (or whole).

    ``loops`` picks the loops that get a marker (default: all, or only those
    of known polarity when there are more than :data:`MAX_MARKED`; the legend
    says how many are left unmarked). With ``pin`` and Graphviz installed,
    the variables are laid out first, each loop marker is placed at the
    centre of its loop and pushed clear of the variables and of the other
    markers, and every node is pinned (``pos="x,y!"``), so the DOT source
    renders the same picture anywhere.

    Raises
    ------
    GraphError
        On an unknown loop id, or an ``element`` that is not one of the
        structure's declared ``elements``.
    """
    chosen = _marked_loops(structure, loops)
    _check_element(structure, element)
    d = _new_cld_diagram(_cld_title(structure, title, element))
    _add_variables(d, structure)
    _add_links(d, structure, element)
    markers = _add_loop_markers(d, structure, chosen, element)
    if pin and has_dot():
        _pin_nodes(d, structure, markers)
    unmarked = len(structure.loops) - len(set(chosen))
    d.legend += _cld_legend(structure, chosen, element, unmarked=unmarked, any_open=markers.any_open)
    return d


def _marked_loops(structure: CausalLoopStructure, loops: Iterable[str] | None) -> list[str]:
    """The ids of the loops to mark: those asked for, else all (only known polarities above MAX_MARKED)."""
    known_loops = [lp.id for lp in structure.loops]
    if loops is not None:
        chosen = list(loops)
        _known("loop", chosen, known_loops)
        return chosen
    if len(known_loops) > MAX_MARKED:
        return [lp.id for lp in structure.loops if lp.polarity in ("R", "B")]
    return known_loops


def _check_element(structure: CausalLoopStructure, element: str | None) -> None:
    if element is not None and structure.elements and element not in structure.elements:
        close = did_you_mean(element, structure.elements)
        raise GraphError(
            f"unknown {structure.dimension or 'element'} {element!r}",
            hint=(f"did you mean {close!r}? " if close else "") + "elements: " + ", ".join(structure.elements),
        )


def _cld_title(structure: CausalLoopStructure, title: str | None, element: str | None) -> str | None:
    """The title given, else the structure's, naming the element it is drawn at."""
    if title is not None:
        return title
    title = structure.title
    if title and element is not None:
        title += f" ({structure.dimension or 'element'}: {element})"
    return title


def _new_cld_diagram(title: str | None) -> Diagram:
    """An empty spring-layout (``neato``) diagram with curved links."""
    d = Diagram("causal_loop_diagram", title=title, engine="neato", kind="cld")
    d.graph_attrs.update(_CLD_GRAPH)
    d.node_defaults.update(_CLD_NODES)
    d.edge_defaults.update(_CLD_EDGES)
    return d


def _add_variables(d: Diagram, structure: CausalLoopStructure) -> None:
    """Each variable as plain text, a stock in a box."""
    for var in structure.variables:
        attrs = dict(_STOCK_BOX) if var.kind == "stock" else {"shape": "plaintext"}
        d.add_node(var.name, style.wrap_label(var.text, 16), classes=f"variable {var.kind}", **attrs)


def _link_look(link: Link, element: str | None) -> tuple[str | None, list[str], dict[str, str]]:
    """A link's label (delay mark, cut), SVG classes and Graphviz attributes, drawn at ``element``."""
    attrs = {
        "headlabel": style.sign_glyph(link.polarity),
        "labelfontsize": str(style.FONT_SIZE + 3),
        "labeldistance": "1.7",
        "labelangle": "-35",
        "labelfontcolor": style.EDGE_COLOUR,
    }
    classes = ["link", {"+": "sign-pos", "-": "sign-neg"}.get(link.polarity, "sign-unknown")]
    labels = []
    if link.delay:
        labels.append("||")
        classes.append("delay")
    cut = link.is_cut(element)
    if cut:
        labels.append(f"cut at {element}")
        classes.append("cut")
        attrs.update(_CUT_LOOK)
    if link.delay and not cut:
        attrs.update({"fontsize": str(style.FONT_SIZE + 4), "fontcolor": style.EDGE_COLOUR})
    elif labels:
        attrs["fontsize"] = str(style.FONT_SIZE - 1)
    return ("  ".join(labels) if labels else None), classes, attrs


def _add_links(d: Diagram, structure: CausalLoopStructure, element: str | None) -> None:
    """Each link with its sign at the head, a delay mark, and broken where it is cut at ``element``."""
    for link in structure.links:
        label, classes, attrs = _link_look(link, element)
        d.add_edge(link.cause, link.effect, label=label, classes=" ".join(classes), **attrs)


def _marker_label(loop: Loop, colour: str, caption: str | None, open_at: str | None) -> tuple[Html, list[str]]:
    """A marker's HTML label (``↻ R1``, its caption, ``open at ...``) and its lines as plain text."""
    text = f'<FONT POINT-SIZE="{style.FONT_SIZE + 5}" COLOR="{colour}"><B>{_LOOP_GLYPH} {loop.id}</B></FONT>'
    small = f'<BR/><FONT POINT-SIZE="{style.FONT_SIZE - 2}" COLOR="{colour}">'
    lines = [f"{_LOOP_GLYPH} {loop.id}"]
    if caption:
        for line in style.wrap_label(caption, 26).split("\n"):
            text += f"{small}{html_escape(line)}</FONT>"
            lines.append(line)
    if open_at is not None:
        text += f"{small}open at {html_escape(open_at)}</FONT>"
        lines.append(f"open at {open_at}")
    return Html(text), lines


def _add_loop_markers(
    d: Diagram, structure: CausalLoopStructure, chosen: list[str], element: str | None
) -> LoopMarkers:
    """A marker for each chosen loop, tied by invisible springs to the loop's variables."""
    named = len(chosen) <= _NAMED
    members: dict[str, tuple[str, ...]] = {}
    sizes: dict[str, tuple[float, float]] = {}
    any_open = False
    for loop in structure.loops:
        if loop.id not in chosen:
            continue
        polarity = loop.polarity or "unknown"
        open_here = structure.is_loop_cut(loop, element)
        any_open |= open_here
        colour = style.CUT_COLOUR if open_here else style.loop_colour(polarity)
        marker = f"loop_{loop.id}"
        members[marker] = loop.variables
        caption = loop.label or (loop_name(structure, loop.id, limit=8 if len(chosen) <= 3 else 3) if named else None)
        label, lines = _marker_label(loop, colour, caption, (element or "") if open_here else None)
        sizes[marker] = _text_size(lines, style.FONT_SIZE + 5, style.FONT_SIZE - 2)
        d.add_node(
            marker,
            label,
            classes=f"loop-marker {polarity}" + (" open" if open_here else ""),
            shape="plaintext",
            margin="0.02",
            fontcolor=colour,
            tooltip=f"{loop.id}: " + " → ".join(structure.variable(v).text for v in loop.variables),
        )
        n = len(loop.variables)
        for var in loop.variables:
            d.add_edge(marker, var, classes="loop-anchor", style="invis", len=f"{1.0 + 0.25 * n:g}", weight="2")
    return LoopMarkers(members, sizes, any_open)


def _pin_nodes(d: Diagram, structure: CausalLoopStructure, markers: LoopMarkers) -> None:
    """Pin every node where Graphviz put it, each loop marker inside its loop and clear of other labels."""
    positions = layout_positions(d)
    fixed = {k: v for k, v in positions.items() if k not in markers.members}
    links = [(lk.cause, lk.effect) for lk in structure.links]
    placed: list[tuple[float, float]] = []
    boxes = [(*fixed[v.name], *_variable_size(v.text, v.kind == "stock")) for v in structure.variables]
    for node in d.nodes:
        if node.name in markers.members:
            x, y = _marker_position(markers.members[node.name], fixed, links, placed)
            x, y = _clear_of((x, y), markers.sizes[node.name], boxes)
            boxes.append((x, y, *markers.sizes[node.name]))
            placed.append((x, y))
        else:
            x, y = positions[node.name]
        node.attrs["pos"] = f"{x:.3f},{y:.3f}!"
    d.graph_attrs.pop("overlap", None)


def _cld_legend(
    structure: CausalLoopStructure, chosen: list[str], element: str | None, *, unmarked: int, any_open: bool
) -> list[LegendEntry]:
    """The legend entries for the marks this diagram uses, in a fixed order."""
    signs = {lk.polarity for lk in structure.links}
    polarities = {lp.polarity for lp in structure.loops if lp.id in chosen}
    more = f"{unmarked} more loop{'s' if unmarked > 1 else ''} not marked (tenor loops lists them)"
    cut = f"link cut at {element}" + (" (loop open)" if any_open else "")
    any_cut = element is not None and any(lk.is_cut(element) for lk in structure.links)
    edge, loop = style.EDGE_COLOUR, style.LOOP_COLOURS
    entries = [
        ("+" in signs, LegendEntry("same direction", edge, "text", "+")),
        ("-" in signs, LegendEntry("opposite direction", edge, "text", style.sign_glyph("-"))),
        ("?" in signs, LegendEntry("sign unknown (not established, or it changes)", edge, "text", "?")),
        (any(v.kind == "stock" for v in structure.variables), LegendEntry("stock", "#FFFFFF", "box")),
        (bool(polarities), LegendEntry("loop marker, inside its loop", edge, "text", _LOOP_GLYPH)),
        ("R" in polarities, LegendEntry("reinforcing loop", loop["R"], "text", "R")),
        ("B" in polarities, LegendEntry("balancing loop", loop["B"], "text", "B")),
        ("unknown" in polarities, LegendEntry("loop of unknown polarity", loop["unknown"], "text", "U")),
        (bool(unmarked), LegendEntry(more, loop["unknown"], "text", "…")),
        (any(lk.delay for lk in structure.links), LegendEntry("delay", edge, "text", "||")),
        (any_cut, LegendEntry(cut, style.CUT_COLOUR, "dashed")),
    ]
    return [entry for shown, entry in entries if shown]


@svg_of.register
def _cld_svg(structure: CausalLoopStructure) -> str:
    """SVG text of :func:`draw_cld`: what a causal-loop structure shows inline in Jupyter."""
    return repr_svg(draw_cld(structure))


def cld_dot(structure: CausalLoopStructure, **options: object) -> str:
    """DOT source of :func:`draw_cld` (same options)."""
    return generate_dot(draw_cld(structure, **options))  # type: ignore[arg-type]


def cld_mermaid(structure: CausalLoopStructure, **options: object) -> str:
    """Mermaid source of :func:`draw_cld` (same options; loop markers become nodes)."""
    return generate_mermaid(draw_cld(structure, **options))  # type: ignore[arg-type]


def _text_size(lines: list[str], first: int, rest: int) -> tuple[float, float]:
    """Half width and half height (inches) of a marker: its first line at ``first`` points, then ``rest``."""
    width = max(0.62 * (first if i == 0 else rest) * len(line) for i, line in enumerate(lines)) / 72
    height = 1.25 * (first + rest * (len(lines) - 1)) / 72
    return width / 2 + 0.04, height / 2 + 0.03


def _variable_size(text: str, stock: bool) -> tuple[float, float]:
    """Half width and half height (inches) of a variable's label as drawn (wrapped at 16 characters)."""
    lines = style.wrap_label(text, 16).split("\n")
    half_w, half_h = _text_size(lines, style.FONT_SIZE + 1, style.FONT_SIZE + 1)
    margin = 0.1 if stock else 0.06
    return half_w + margin, half_h + margin


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> tuple[float, float]:
    """How far two boxes ``(x, y, half width, half height)`` overlap along x and y (both > 0: they do)."""
    return a[2] + b[2] - abs(a[0] - b[0]), a[3] + b[3] - abs(a[1] - b[1])


def _clear_of(
    centre: tuple[float, float], size: tuple[float, float], boxes: list[tuple[float, float, float, float]]
) -> tuple[float, float]:
    """The free spot nearest ``centre`` for a label of half size ``size``: rings of candidates around it,
    step 0.08 inch, until one overlaps none of ``boxes`` (so a free spot is always found)."""
    x0, y0 = centre

    def free(x: float, y: float) -> bool:
        return all(min(_overlap((x, y, *size), b)) <= 0 for b in boxes)

    if free(x0, y0):
        return round(x0, 3), round(y0, 3)
    for ring in range(1, 400):
        radius = 0.08 * ring
        steps = max(8, int(2 * math.pi * radius / 0.08))
        for k in range(steps):
            angle = 2 * math.pi * k / steps
            x, y = x0 + radius * math.cos(angle), y0 + radius * math.sin(angle)
            if free(x, y):
                return round(x, 3), round(y, 3)
    return round(x0, 3), round(y0, 3)  # pragma: no cover - 32 inches around are full


def _marker_position(
    members: tuple[str, ...],
    positions: dict[str, tuple[float, float]],
    links: list[tuple[str, str]],
    placed: list[tuple[float, float]],
) -> tuple[float, float]:
    """Inside the loop: its centroid, pushed off the line for two-variable loops, then away from
    nodes, links (as straight segments) and markers already placed."""
    pts = [positions[v] for v in members]
    cx = sum(p[0] for p in pts) / len(pts)
    cy = sum(p[1] for p in pts) / len(pts)
    if len(pts) <= 2:
        gx = sum(p[0] for p in positions.values()) / len(positions)
        gy = sum(p[1] for p in positions.values()) / len(positions)
        if len(pts) == 2:
            nx_, ny_ = -(pts[1][1] - pts[0][1]), pts[1][0] - pts[0][0]
        else:
            nx_, ny_ = cx - gx, cy - gy
        norm = math.hypot(nx_, ny_) or 1.0
        nx_, ny_ = nx_ / norm, ny_ / norm
        if (cx - gx) * nx_ + (cy - gy) * ny_ < 0:
            nx_, ny_ = -nx_, -ny_
        cx, cy = cx + 0.7 * nx_, cy + 0.7 * ny_
    obstacles = [(p, 0.75) for p in positions.values()] + [(p, 0.8) for p in placed]
    for a, b in links:
        (x0, y0), (x1, y1) = positions[a], positions[b]
        steps = max(2, int(math.hypot(x1 - x0, y1 - y0) / 0.2))
        obstacles += [((x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps), 0.4) for i in range(1, steps)]
    for _ in range(60):
        worst = None
        for (ox, oy), radius in obstacles:
            dist = math.hypot(ox - cx, oy - cy)
            if dist < radius and (worst is None or radius - dist > worst[0]):
                worst = (radius - dist, ox, oy, dist)
        if worst is None:
            break
        push, ox, oy, dist = worst
        if dist < 1e-6:
            cx += push + 0.05
            continue
        cx += (cx - ox) / dist * (push + 0.05)
        cy += (cy - oy) / dist * (push + 0.05)
    return round(cx, 3), round(cy, 3)
