"""Diagrams inline in Jupyter: ``%load_ext tenor.app.notebook``.

Loading the extension teaches IPython to show, as SVG, a causal spec or graph
(its DAG with channels), a stock-and-flow model (its causal-loop diagram), and
a loop report (the causal-loop diagram of its model's loops). The packages
that define those objects know nothing of diagrams; this module registers
the drawings with IPython's display formatters, so imports still follow the
arrows causal ← stocks_flows ← diagrams.

Examples
--------
>>> from causal.load import parse_spec
>>> spec = parse_spec("nodes: {x: {}, y: {}}\\nedges: {x -> y: {sign: +}}")
>>> svg_for(spec).lstrip().startswith("<?xml") or "<svg" in svg_for(spec)
True
>>> svg_for(42) is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from causal.graph import CausalGraph
from causal.spec import CausalSpec
from diagrams.cld import draw_cld
from diagrams.dag import dag_svg
from diagrams.from_model import causal_loop_structure
from diagrams.render import repr_svg
from stocks_flows.model import Model

__all__ = ["load_ipython_extension", "svg_for"]


def _model_svg(model: Model) -> str:
    """A model shows as the causal-loop diagram of its loops of known polarity."""
    return repr_svg(draw_cld(causal_loop_structure(model, unknown_loops=False)))


_DRAWERS: dict[type, Callable[[Any], str]] = {CausalSpec: dag_svg, CausalGraph: dag_svg, Model: _model_svg}
"""What each kind of object shows as: a spec or graph as its DAG, a model as its causal-loop diagram."""


def svg_for(obj: Any) -> str | None:
    """SVG of ``obj``'s diagram, or None when tenor draws nothing for it."""
    for kind, draw in _DRAWERS.items():
        if isinstance(obj, kind):
            return draw(obj)
    return None


def load_ipython_extension(ipython: Any) -> None:
    """Register the drawings with IPython (called by ``%load_ext tenor.app.notebook``)."""
    formatter = ipython.display_formatter.formatters["image/svg+xml"]
    for kind, draw in _DRAWERS.items():
        formatter.for_type(kind, draw)
