"""Subscript ranges, and which element a subscripted reference stands for.

Vensim arrays are *subscript ranges*: ``dim: a, b, c`` names three elements.
A range may list another range among its elements (``dim: a, sub, c``, the
elements of ``sub`` spliced in), copy one (``copy <-> dim``), and *map* to
other ranges (``dim2: x, y -> dim1`` pairs the elements of ``dim2`` with those
of ``dim1`` by position). A range whose elements all belong to another one is a
*subrange* of it; the largest range holding a range's elements is its *main
range* (between ranges with the same elements, the first by name, as Vensim
and PySD choose).

tenor expands every subscripted equation into one scalar equation per
element, so every reference is resolved at read time, in the *context* of the
element being built (a mapping from each range of the equation to the element
of it being built). A reference's subscript picks:

- an element: that element;
- a range of the equation: the element being built;
- a range ``m`` maps to (``dim2 -> dim1`` used in an equation over ``dim1``):
  the element of ``m`` at the same position;
- a subrange or superrange of a range of the equation (same main range): the
  element being built, which must belong to it;
- ``dim!`` inside ``SUM``, ``PROD``, ``VMIN`` or ``VMAX``: each element in turn.

A subscript range used as a *value* (``IF THEN ELSE(dim1 = dim2, 1, 0)``)
is the 1-based position of the current element in the main range; an element
name used as a value is its position likewise.

References
----------
Ventana Systems, *Vensim Reference Manual*, chapter "Subscripts" (subranges,
mapping, ``:EXCEPT:``, ``!`` in array functions).
PySD's ``SubscriptManager`` (``pysd/builders/python/subscripts.py``) makes the
same choice of main range between ranges with the same elements.

Examples
--------
>>> ranges = subscript_ranges([("dim", ["a", "b", "c"], []), ("sub", ["b", "c"], []),
...                            ("other", ["x", "y"], ["sub"])])
>>> ranges.main["sub"]
'dim'
>>> pick("sub", {"dim": "c"}, ranges)
'c'
>>> pick("other", {"sub": "c"}, ranges)
'y'
>>> position("sub", {"sub": "b"}, ranges)
2
>>> excluded(("b", "x"), [["sub", "x"]], ranges)
True
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tenor.core.errors import SpecError

__all__ = [
    "AGGREGATIONS",
    "Ranges",
    "aggregated",
    "declared_ranges",
    "elements_of",
    "equation_context",
    "excluded",
    "family",
    "is_value",
    "pick",
    "position",
    "subscript_ranges",
    "value_position",
]


@dataclass(frozen=True)
class Ranges:
    """The subscript ranges of a model.

    ``ranges`` maps each range to its elements (copies and spliced subranges
    expanded, in definition order); ``mappings`` each range to the ranges it
    maps to; ``main`` each range to its main range; ``copies`` the ranges
    defined as a copy of another.
    """

    ranges: dict[str, tuple[str, ...]]
    mappings: dict[str, tuple[str, ...]]
    main: dict[str, str]
    copies: frozenset[str]

    @cached_property
    def elements(self) -> frozenset[str]:
        """Every element of every range."""
        return frozenset(e for els in self.ranges.values() for e in els)


def _key(name: str) -> str:
    return "_".join(name.replace("_", " ").split()).lower()


def subscript_ranges(definitions: Sequence[tuple[str, Sequence[str] | str, Sequence[str]]]) -> Ranges:
    """The ranges of ``(name, elements or copied range, mapped ranges)`` definitions, expanded.

    A copy (``copy <-> dim``, given as the copied name) has the elements of
    ``dim`` and maps to it; a range named among another's elements is spliced
    in (at any depth). Raises :class:`SpecError` (keyed by the range) for a
    range defined through itself or copying an unknown range.

    >>> r = subscript_ranges([("d", ["a", "s", "c"], []), ("s", ["b1", "b2"], []), ("t", "s", [])])
    >>> r.ranges["d"], r.ranges["t"], r.mappings["t"], r.main["t"]
    (('a', 'b1', 'b2', 'c'), ('b1', 'b2'), ('s',), 'd')
    """
    raw: dict[str, list[str]] = {}
    mappings: dict[str, tuple[str, ...]] = {}
    copies: set[str] = set()
    for name, elements, mapped in definitions:
        mapped = tuple(mapped)
        if isinstance(elements, str):
            copies.add(name)
            raw[name] = [elements]
            mapped = (*mapped, elements) if elements not in mapped else mapped
        else:
            raw[name] = list(elements)
        mappings[name] = mapped
    expanded: dict[str, tuple[str, ...]] = {}

    def expand(name: str, trail: tuple[str, ...]) -> tuple[str, ...]:
        if name in expanded:
            return expanded[name]
        if name in trail:
            raise SpecError(
                f"subscript range {name!r} is defined through itself ({' -> '.join((*trail, name))})",
                key=name,
                hint="list the elements of one of these ranges",
            )
        out: list[str] = []
        for element in raw[name]:
            out.extend(expand(element, (*trail, name)) if element in raw else (element,))
        expanded[name] = tuple(dict.fromkeys(out))
        return expanded[name]

    for name, elements in raw.items():
        if name in copies and elements[0] not in raw:
            raise SpecError(
                f"subscript range {name!r} copies {elements[0]!r}, which is not defined",
                key=name,
                hint="define the copied range, or fix the name",
            )
        expand(name, ())
    return Ranges(expanded, mappings, _main_ranges(expanded, frozenset(copies)), frozenset(copies))


def _main_ranges(ranges: Mapping[str, tuple[str, ...]], copies: frozenset[str]) -> dict[str, str]:
    """Each range's main range: the largest range holding its elements.

    Between ranges with the same elements the main one is not a copy and comes
    first by name (spaces and case aside); a range inside several largest ranges
    gets the first defined.
    """
    sets = {name: frozenset(els) for name, els in ranges.items()}
    largest = [n for n, s in sets.items() if not any(s < other for other in sets.values())]
    main: dict[str, str] = {}
    for name, elements in sets.items():
        holders = [n for n in largest if elements <= sets[n]]
        if not holders:  # unreachable: a range always lies in a largest one
            holders = [name]
        first_set = sets[holders[0]]
        tied = [n for n in holders if sets[n] == first_set]
        main[name] = min(tied, key=lambda n: (n in copies, _key(n)))
    return main


def family(subscript: str, ranges: Ranges) -> str:
    """The main range of a range, or of the first range that holds an element.

    >>> r = subscript_ranges([("d", ["a", "b"], []), ("s", ["b"], [])])
    >>> family("s", r), family("b", r)
    ('d', 'd')
    """
    if subscript in ranges.ranges:
        return ranges.main[subscript]
    for name, elements in ranges.ranges.items():
        if subscript in elements:
            return ranges.main[name]
    raise SpecError(f"unknown subscript {subscript!r}", hint="declare the subscript range, or fix the name")


def declared_ranges(definitions: Sequence[Sequence[str]], ranges: Ranges) -> tuple[str | None, ...]:
    """Per dimension of a variable defined by ``definitions`` (the left-hand subscripts of each of its
    equations), the widest range any of them uses there (None where all give elements).

    >>> r = subscript_ranges([("d", ["a", "b", "c"], []), ("s", ["a", "b"], []), ("e", ["x"], [])])
    >>> declared_ranges([["s", "x"], ["c", "x"], ["d", "x"]], r)
    ('d', None)
    """
    found: list[str | None] = []
    for position_subs in itertools.zip_longest(*definitions):
        used = [s for s in position_subs if s is not None and s in ranges.ranges]
        found.append(max(used, key=lambda s: len(ranges.ranges[s])) if used else None)
    return tuple(found)


def equation_context(
    subscripts: Sequence[str], elements: Sequence[str], ranges: Ranges, declared: Sequence[str | None] = ()
) -> dict[str, str]:
    """The context of one element of an equation: each range of its left-hand side -> the element built.

    An element on the left-hand side (``x[a, dim] = ...``) stands for the range
    ``declared`` for its dimension (see :func:`declared_ranges`) when that holds
    it, else for its main range; unless a range of the left-hand side already
    covers that range, or another element does too (then neither is in the
    context, and a reference that needs it is refused rather than guessed).

    >>> r = subscript_ranges([("d", ["a", "b"], []), ("e", ["x", "y"], []), ("d2", "d", [])])
    >>> equation_context(["a", "e"], ["a", "y"], r)
    {'e': 'y', 'd': 'a'}
    >>> equation_context(["d", "b"], ["a", "b"], r), equation_context(["a", "b"], ["a", "b"], r)
    ({'d': 'a'}, {})
    >>> equation_context(["a", "b"], ["a", "b"], r, declared=("d", "d2"))
    {'d': 'a', 'd2': 'b'}
    """
    context = {s: e for s, e in zip(subscripts, elements, strict=True) if s in ranges.ranges}
    covered = set(context) | {ranges.main[s] for s in context}
    fixed: dict[str, str | None] = {}
    for i, s in enumerate(subscripts):
        if s in ranges.ranges:
            continue
        owner = declared[i] if i < len(declared) else None
        key = owner if owner is not None and s in ranges.ranges[owner] else family(s, ranges)
        if key not in covered:
            fixed[key] = s if key not in fixed else None
    context.update({key: e for key, e in fixed.items() if e is not None})
    return context


def elements_of(subscript: str, ranges: Ranges) -> tuple[str, ...]:
    """Every element a subscript spans: a range's (also written ``range!``) or the element itself."""
    name = subscript.removesuffix("!")
    if name in ranges.ranges:
        return ranges.ranges[name]
    if subscript in ranges.elements:
        return (subscript,)
    raise SpecError(f"unknown subscript {subscript!r}", hint="declare the subscript range, or fix the name")


def pick(subscript: str, context: Mapping[str, str], ranges: Ranges) -> str | None:
    """The one element a reference's subscript picks in ``context``, or None when it is free there.

    ``context`` maps each range of the equation being built (and each ``range!``
    of an aggregation being expanded) to its current element. A free subscript
    is a range that nothing in the context fixes: inside an aggregation it
    spans all its elements; elsewhere it is an array where a number is needed.
    Raises :class:`SpecError` when the context's element is not in the range
    or two ranges of the context would give different elements.

    >>> r = subscript_ranges([("d1", ["a", "b"], []), ("d2", ["a", "b"], []), ("m", ["x", "y"], ["d1"])])
    >>> pick("d2", {"d1": "b"}, r), pick("m", {"d1": "b"}, r), pick("m", {}, r)
    ('b', 'y', None)
    """
    if subscript.endswith("!"):
        return context.get(subscript)
    if subscript not in ranges.ranges:
        elements_of(subscript, ranges)  # an element, or an unknown name (refused)
        return subscript
    if subscript in context:
        return context[subscript]
    mapped = _mapped(subscript, context, ranges)
    if mapped is not None:
        return mapped
    return _shared(subscript, context, ranges)


def _related(context: Mapping[str, str], ranges: Ranges, target: str) -> list[str]:
    """The ranges of ``context`` in the same main range as ``target``, the bang ranges aside."""
    return [d for d in context if not d.endswith("!") and d in ranges.ranges and ranges.main[d] == ranges.main[target]]


def _mapped(subscript: str, context: Mapping[str, str], ranges: Ranges) -> str | None:
    """The element of ``subscript`` paired (by its mapping) with the context's element, if it maps there."""
    own = ranges.ranges[subscript]
    for target in ranges.mappings.get(subscript, ()):
        if target not in ranges.ranges:
            raise SpecError(
                f"subscript range {subscript!r} maps to {target!r}, which is not a subscript range",
                key=subscript,
                hint="map to a declared range, or fix the name",
            )
        if target not in context:
            continue
        theirs = ranges.ranges[target]
        if len(theirs) != len(own):
            raise SpecError(
                f"subscript range {subscript!r} ({len(own)} elements) maps to {target!r} ({len(theirs)} elements)",
                key=subscript,
                hint="a mapping pairs the elements one to one: give both ranges as many elements",
            )
        return own[theirs.index(context[target])]
    return None


def _shared(subscript: str, context: Mapping[str, str], ranges: Ranges) -> str | None:
    """The context's element for a subrange or superrange of one of its ranges (None if none is related)."""
    related = _related(context, ranges, subscript)
    if not related:
        return None
    own = ranges.ranges[subscript]
    found = {context[d] for d in related if context[d] in own}
    if len(found) > 1:
        names = ", ".join(related)
        raise SpecError(
            f"the subscript {subscript!r} could stand for any of the equation's ranges {names}",
            key=subscript,
            hint=f"write the range of the equation itself in place of {subscript!r}",
        )
    if not found:
        d = related[0]
        raise SpecError(
            f"the element {context[d]!r} of {d!r} is not in the subscript range {subscript!r}",
            key=subscript,
            hint=f"define this element of the equation separately, or refer to {d!r} in place of {subscript!r}",
        )
    return found.pop()


def position(subscript: str, context: Mapping[str, str], ranges: Ranges) -> int:
    """The value of a subscript range or element used in an expression: its 1-based position.

    A range stands for its current element (see :func:`pick`); the position
    is counted in the main range, as Vensim counts it.

    >>> r = subscript_ranges([("d", ["a", "b", "c"], []), ("s", ["c", "b"], [])])
    >>> position("s", {"s": "c"}, r), position("b", {}, r)
    (3, 2)
    """
    element = pick(subscript, context, ranges)
    if element is None:
        raise SpecError(
            f"the subscript range {subscript!r} is used as a value outside an equation over it",
            key=subscript,
            hint=f"use {subscript!r} as a value only in an equation subscripted by it (or a range it maps to)",
        )
    return value_position(element, subscript if subscript in ranges.ranges else None, ranges)


def value_position(element: str, within: str | None, ranges: Ranges) -> int:
    """The 1-based position of ``element`` in the main range of ``within`` (or of every range holding it)."""
    if within is not None:
        return ranges.ranges[ranges.main[within]].index(element) + 1
    found = {ranges.ranges[m].index(element) + 1 for m in set(ranges.main.values()) if element in ranges.ranges[m]}
    if len(found) != 1:
        raise SpecError(
            f"the element {element!r} has different positions in the ranges that hold it",
            key=element,
            hint="use a subscript range as the value, not an element name",
        )
    return found.pop()


def is_value(reference: str, ranges: Ranges) -> str | None:
    """The range or element a reference names (spaces, underscores and case aside), or None."""
    key = _key(reference)
    for name in ranges.ranges:
        if _key(name) == key:
            return name
    for element in ranges.elements:
        if _key(element) == key:
            return element
    return None


def excluded(elements: Sequence[str], excepts: Sequence[Sequence[str]], ranges: Ranges) -> bool:
    """True when ``:EXCEPT:`` leaves out this combination of elements.

    ``excepts`` holds the EXCEPT lists (one subscript per dimension, an
    element or a range); a combination is left out when some list covers it
    in every dimension.

    >>> r = subscript_ranges([("d", ["a", "b"], []), ("e", ["x", "y"], [])])
    >>> excluded(("a", "y"), [["a", "e"]], r), excluded(("b", "y"), [["a", "e"]], r)
    (True, False)
    """
    for listed in excepts:
        if len(listed) != len(elements):
            raise SpecError(
                f"an EXCEPT list [{', '.join(listed)}] has {len(listed)} subscript(s) for {len(elements)} dimension(s)",
                hint="give one subscript per dimension in each :EXCEPT: list",
            )
        if all(e in elements_of(s, ranges) for e, s in zip(elements, listed, strict=True)):
            return True
    return False


AGGREGATIONS = frozenset({"sum", "prod", "vmin", "vmax", "vmin_xmile", "vmax_xmile"})
"""The translator's names of the functions that run over a ``range!``."""


def aggregated(node: Any) -> list[str]:
    """The ``range!`` subscripts in a translator's expression structure, in order of appearance.

    These are the ranges an aggregation (``SUM``, ``PROD``, ``VMIN``, ``VMAX``)
    runs over; the node is any tree of dataclasses, tuples and lists whose
    references carry ``.subscripts.subscripts``. An aggregation nested inside
    keeps its own ranges (``SUM(a[d!] + SUM(b[e!]))`` runs over ``d`` only).
    """
    return list(dict.fromkeys(s for s in _subscripts_in(node) if s.endswith("!")))


def _is_aggregation(node: Any) -> bool:
    function = getattr(node, "function", None)
    name = getattr(function, "reference", function)
    return isinstance(name, str) and name in AGGREGATIONS and len(getattr(node, "arguments", ())) == 1


def _subscripts_in(node: Any) -> Iterator[str]:
    if isinstance(node, list | tuple):
        for item in node:
            yield from _subscripts_in(item)
        return
    if not dataclasses.is_dataclass(node) or isinstance(node, type) or _is_aggregation(node):
        return
    subs = getattr(node, "subscripts", None)
    inner = getattr(subs, "subscripts", None)
    if isinstance(inner, list | tuple):
        yield from (s for s in inner if isinstance(s, str))
    for f in dataclasses.fields(node):
        if f.name != "subscripts":
            yield from _subscripts_in(getattr(node, f.name))
