"""Inline display in Jupyter: the SVG that a drawable object shows as, found by its type.

Jupyter shows an object as a picture when it has a ``_repr_svg_`` method.
The objects that know how to show themselves (a :class:`~diagrams.scene.Diagram`,
a :class:`~diagrams.structures.CausalLoopStructure`, a
:class:`~diagrams.structures.StockFlowStructure`) are plain data and sit
*below* the modules that draw and render them, so their ``_repr_svg_`` asks
:func:`svg_of` instead of importing a drawer. Each drawer registers, for
the type it draws, how to turn it into SVG text (``@svg_of.register``):
:mod:`diagrams.render` for a diagram, :mod:`diagrams.cld` and
:mod:`diagrams.stockflow` for the structures. Importing :mod:`diagrams`
imports them all, so the registrations are in place whenever one of these
objects exists.

An object no drawer has registered gives None, which Jupyter takes as "no
picture" (it shows the text ``repr`` instead).

Examples
--------
>>> svg_of(42) is None
True
"""

from __future__ import annotations

from functools import singledispatch

__all__ = ["svg_of"]


@singledispatch
def svg_of(obj: object) -> str | None:
    """SVG text of ``obj``'s picture, or None when no drawer has registered its type."""
    return None
