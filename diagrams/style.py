"""One palette and one typography for every tenor diagram and plot.

Colours come from the Okabe–Ito palette (Okabe & Ito 2008), chosen so that
readers with the common forms of colour blindness can still tell them apart;
no meaning rests on colour alone: channels are also named in a legend, signs
are written on the edges, cut links are dashed and labelled, latent
confounding is dashed and double-headed.

The roles follow the conventions dagitty users know: the *exposure* is green
(here a pale green box with a thick border), the *outcome* blue, *adjusted*
variables are drawn as double-bordered grey boxes, and *latent* variables are
grey with a dashed outline. Causal paths of a query are drawn thick; open
back-door paths (the biasing ones) in reddish purple, a colour no channel
takes.

Examples
--------
>>> channel_colours(["fx", "jgb"])
{'fx': '#0072B2', 'jgb': '#D55E00'}
>>> sign_glyph("-"), sign_glyph("+"), sign_glyph(None)
('−', '+', '?')

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures
and presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BACKDOOR_COLOUR",
    "CAUSAL_PENWIDTH",
    "CHANNEL_COLOURS",
    "CLUSTER_FILL",
    "CLUSTER_LINE",
    "CUT_COLOUR",
    "EDGE_COLOUR",
    "FONT",
    "FONT_SIZE",
    "INFO_COLOUR",
    "LATENT_COLOUR",
    "LOOP_COLOURS",
    "MUTED_COLOUR",
    "POLARITY_COLOURS",
    "ROLE_STYLES",
    "SCENARIO_COLOURS",
    "channel_colours",
    "loop_colour",
    "matplotlib_style",
    "sign_glyph",
    "wrap_label",
]

FONT = "DejaVu Sans"
"""One sans-serif font with wide Unicode coverage (⋈, ☁, −, ↻), shipped by most Linux systems."""
FONT_SIZE = 12
"""Node labels; edge labels use ``FONT_SIZE - 2``."""

# Okabe–Ito: blue, vermillion, bluish green, orange, sky blue, yellow; reddish purple is kept back.
CHANNEL_COLOURS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#F0E442")
"""Channel colours, assigned in the spec's channel order."""
BACKDOOR_COLOUR = "#CC79A7"
"""Open back-door (biasing) paths of a query: reddish purple, never a channel colour."""
CAUSAL_PENWIDTH = 3.5
"""Pen width of edges on a causal path of a query (other edges: 1.2)."""
EDGE_COLOUR = "#333333"
MUTED_COLOUR = "#7A7A7A"
LATENT_COLOUR = "#8C8C8C"
CUT_COLOUR = "#9A9A9A"
INFO_COLOUR = "#4D6A8A"
CLUSTER_FILL = "#F5F5F5"
CLUSTER_LINE = "#C8C8C8"

POLARITY_COLOURS: dict[str, str] = {"+": "#0072B2", "-": "#D55E00", "?": "#7A7A7A"}
"""Link polarity in plots; diagrams write the sign instead of colouring it."""
LOOP_COLOURS: dict[str, str] = {"R": "#D55E00", "B": "#0072B2", "unknown": "#7A7A7A"}
"""Reinforcing loops warm, balancing loops cool."""
SCENARIO_COLOURS: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)

ROLE_STYLES: dict[str, dict[str, str]] = {
    "variable": {"shape": "box", "style": "rounded,filled", "fillcolor": "#FFFFFF", "color": "#555555"},
    "exposure": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#CDEBC0",
        "color": "#3A7D22",
        "penwidth": "2.5",
    },
    "outcome": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#C6E2F5",
        "color": "#1F5F8B",
        "penwidth": "2.5",
    },
    "adjusted": {
        "shape": "box",
        "style": "filled",
        "fillcolor": "#E6E6E6",
        "color": "#333333",
        "peripheries": "2",
    },
    "latent": {
        "shape": "box",
        "style": "rounded,dashed,filled",
        "fillcolor": "#F0F0F0",
        "color": LATENT_COLOUR,
        "fontcolor": "#555555",
    },
    "selected": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#FFF3C4", "color": "#8A6D00"},
}
"""Graphviz node attributes per drawn role (any other spec role is drawn as ``variable``)."""

_GLYPHS = {"+": "+", "-": "−", None: "?", "?": "?", "unknown": "?"}


def sign_glyph(sign: str | None) -> str:
    """The printed sign: ``+``, ``−`` (a true minus) or ``?`` when unknown."""
    return _GLYPHS.get(sign, "?")


def channel_colours(names: Iterable[str]) -> dict[str, str]:
    """A colour per channel name, in order; the palette repeats after six channels."""
    return {name: CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)] for i, name in enumerate(names)}


def loop_colour(polarity: str) -> str:
    """Colour of a loop marker: R warm, B cool, unknown grey."""
    return LOOP_COLOURS.get(polarity, LOOP_COLOURS["unknown"])


def wrap_label(text: str, width: int = 18) -> str:
    """Break a label into lines of at most ``width`` characters, at spaces.

    >>> wrap_label("Treasury long-end yield (10y/30y)", 16)
    'Treasury\\nlong-end yield\\n(10y/30y)'
    """
    words = text.split()
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines) if lines else text


def matplotlib_style() -> dict[str, object]:
    """``rcParams`` for tenor's plots (use with ``matplotlib.rc_context``)."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FONT, "Arial", "Helvetica"],
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": _cycler(),
        "legend.frameon": False,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "svg.hashsalt": "tenor",
        "svg.fonttype": "none",
        "path.simplify": True,
    }


def _cycler() -> object:
    from cycler import cycler

    return cycler(color=list(SCENARIO_COLOURS))
