"""Reading Vensim's functions of whole arrays into calls of tenor's scalar built-ins.

tenor's readers expand a subscripted variable into one scalar variable per
element. Vensim's INVERT MATRIX, VECTOR SELECT, ALLOCATE BY PRIORITY and ALLOCATE
AVAILABLE read whole arrays, so for each element being built the call becomes
one of the built-ins of :mod:`stocks_flows.vectors` with every element it reads
spread out as an argument, and the position of the element being built:

- INVERT MATRIX(m[..., r, c], N): the last two subscripts of ``m`` are the
  matrix; the element is placed by the last two subscripts of the variable.
- VECTOR SORT ORDER(v, direction) and VECTOR RANK(v, direction): over the last
  subscript of ``v``, the element placed by the last subscript of the variable;
  VECTOR REORDER(v, order): the element of ``v`` that ``order`` names here.
- VECTOR SELECT(s[...], e[...], missing, action, error): the subscripts marked
  ``!`` are gone over, every combination of them (an outer product, as PySD does),
  the others are those of the element being built.
- ALLOCATE BY PRIORITY(request, priority, size, width, supply) and ALLOCATE
  AVAILABLE(request, pp, avail): the allocation runs over the last subscript of
  the variable, of ``request`` and of ``priority`` (of ``pp``, the one before its
  last, which is the priority profile: ptype, ppriority, pwidth, pextra).

A subscript range written where a number is expected (``GET TIME VALUE(0, dim - 20, 0)``)
stands for the element being built: its position, counted from 1, in the first range that lists it.

The functions here take the reader of :mod:`stocks_flows.xmile` (``_ToAst``): its
converter (``conv``), the element being built (``context``), the variable, and
the reader itself for ordinary arguments.

References
----------
Vensim Help, "INVERT MATRIX", "VECTOR SELECT", "ALLOCATE BY PRIORITY" and "ALLOCATE
AVAILABLE" (https://www.vensim.com/documentation/).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from stocks_flows.expr import Call, Expr, Name, Number
from stocks_flows.model import element_name

__all__ = [
    "WHOLE_ARRAY_CALLS",
    "read_allocate_available",
    "read_allocate_by_priority",
    "read_whole_array_call",
]

WHOLE_ARRAY_CALLS = frozenset(
    {"invert_matrix", "vector_select", "get_time_value", "vector_sort_order", "vector_rank", "vector_reorder"}
)
"""PySD's names of the calls (CallStructure) read here: those that read whole arrays, and GET TIME VALUE
(whose arguments are checked)."""


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def read_whole_array_call(reader: Any, func: str, x: Any) -> Expr:
    """INVERT MATRIX, VECTOR SELECT or GET TIME VALUE, for the element being built."""
    if func == "invert_matrix":
        return _invert_matrix(reader, x)
    if func == "get_time_value":
        return _get_time_value(reader, x)
    if func in ("vector_sort_order", "vector_rank", "vector_reorder"):
        return _vector_order(reader, func, x)
    return _vector_select(reader, x)


def _get_time_value(reader: Any, x: Any) -> Expr:
    """GET TIME VALUE(relativeto, offset, measure): the model's own time plus offset (relativeto 0, measure 0)."""
    if len(x.arguments) != 3:
        raise reader.fail(f"GET TIME VALUE with {len(x.arguments)} arguments (it takes 3)")
    relative_to, offset, measure = (reader(a) for a in x.arguments)
    for name, arg in (("relativeto", relative_to), ("measure", measure)):
        if not isinstance(arg, Number) or arg.value != 0:
            given = f"{arg.value:g}" if isinstance(arg, Number) else "an expression"
            raise reader.fail(
                f"GET TIME VALUE with {name} {given}",
                "tenor computes GET TIME VALUE(0, offset, 0), the model's time plus offset; the start of the "
                "run (relativeto 1), the computer's clock (2) and calendar measures (1 to 10) it does not",
            )
    return Call("get_time_value", (relative_to, offset, measure))


def _subscripts(reader: Any, ref: Any) -> tuple[str, list[str]]:
    target = reader.conv.name(ref.reference, reader.variable)
    subs = list(ref.subscripts.subscripts) if ref.subscripts is not None else []
    return target, subs or list(reader.conv.var_dims.get(target, ()))


def _dimension_of(reader: Any, s: str) -> str | None:
    conv = reader.conv
    s = s.removesuffix("!")
    return s if s in conv.dimensions else None


def _one(reader: Any, s: str, what: str) -> str:
    """The element a subscript stands for in the element being built (through subranges and mappings)."""
    conv = reader.conv
    picked = reader.pick(s)
    if picked is not None:
        return picked
    if s in conv.element_of:
        return s
    if s in conv.dimensions and s in reader.context:
        return reader.context[s]
    raise reader.fail(f"{what} with the subscript {s!r}, which is not one of the variable's,")


def _every(reader: Any, s: str, what: str) -> list[str]:
    """Every element of the range a subscript names."""
    dim = _dimension_of(reader, s)
    if dim is None:
        dim = reader.conv.element_of.get(s)
    if dim is None:
        raise reader.fail(f"{what} with the subscript {s!r}")
    return list(reader.conv.dimensions[dim])


def _reference(reader: Any, arg: Any, what: str) -> Any:
    if not isinstance(arg, reader.ae.ReferenceStructure):
        raise reader.fail(f"{what} of an expression (it takes a subscripted variable)")
    return arg


def _last_of_variable(reader: Any, what: str) -> tuple[str, int]:
    """The last dimension of the variable being built and the position in it of the element being built."""
    dims = reader.conv.var_dims.get(reader.variable, ())
    if not dims or dims[-1] not in reader.context:
        raise reader.fail(f"{what} in a variable without subscripts", "subscript the variable by the allocation range")
    dim = dims[-1]
    return dim, reader.conv.dimensions[dim].index(reader.context[dim])


def _check_size(reader: Any, given: Any, size: int, what: str) -> None:
    found = reader(given)
    if isinstance(found, Number) and found.value != size:
        raise reader.fail(f"{what} with a size of {found.value:g} over {size} elements")


def _invert_matrix(reader: Any, x: Any) -> Expr:
    what = "INVERT MATRIX"
    ref = _reference(reader, x.arguments[0], what)
    target, subs = _subscripts(reader, ref)
    if len(subs) < 2:
        raise reader.fail(f"{what} of an array with fewer than two subscripts")
    rows, cols = _every(reader, subs[-2], what), _every(reader, subs[-1], what)
    if len(rows) != len(cols):
        raise reader.fail(f"{what} of a {len(rows)} x {len(cols)} matrix (it must be square)")
    if len(x.arguments) > 1:
        _check_size(reader, x.arguments[1], len(rows), what)
    dims = reader.conv.var_dims.get(reader.variable, ())
    if len(dims) < 2 or dims[-2] not in reader.context or dims[-1] not in reader.context:
        raise reader.fail(f"{what} in a variable without two subscripts", "subscript it like the matrix")
    row = reader.conv.dimensions[dims[-2]].index(reader.context[dims[-2]])
    col = reader.conv.dimensions[dims[-1]].index(reader.context[dims[-1]])
    fixed = tuple(_one(reader, s, what) for s in subs[:-2])
    cells = [Name(element_name(target, (*fixed, r, c))) for r in rows for c in cols]
    return Call("invert_matrix", (Number(float(row * len(cols) + col + 1)), *cells))


def _vector_select(reader: Any, x: Any) -> Expr:
    what = "VECTOR SELECT"
    arrays = [_reference(reader, a, what) for a in x.arguments[:2]]
    spans: dict[str, list[str]] = {}  # every subscript marked "!", in order, with its elements
    parts = []
    for ref in arrays:
        target, subs = _subscripts(reader, ref)
        parts.append((target, subs))
        for s in subs:
            if s.endswith("!"):
                spans.setdefault(s, _every(reader, s, what))
    fixed = {s: _one(reader, s, what) for _, subs in parts for s in subs if not s.endswith("!")}
    picked: list[list[Expr]] = [[], []]
    for combo in itertools.product(*spans.values()):
        chosen = dict(zip(spans, combo, strict=True))
        for i, (target, subs) in enumerate(parts):
            elements = tuple(chosen[s] if s.endswith("!") else fixed[s] for s in subs)
            picked[i].append(Name(element_name(target, elements)))
    rest = tuple(reader(a) for a in x.arguments[2:5])
    return Call("vector_select", (*rest, *picked[0], *picked[1]))


_ORDER_NAMES = {
    "vector_sort_order": "VECTOR SORT ORDER",
    "vector_rank": "VECTOR RANK",
    "vector_reorder": "VECTOR REORDER",
}


def _vector_order(reader: Any, func: str, x: Any) -> Expr:
    """VECTOR SORT ORDER(v, direction), VECTOR RANK(v, direction) or VECTOR REORDER(v, order): over the last
    subscript of ``v``; the element being built is placed by the variable's last subscript."""
    what = _ORDER_NAMES[func]
    ref = _reference(reader, x.arguments[0], what)
    target, subs = _subscripts(reader, ref)
    if not subs:
        raise reader.fail(f"{what} of a variable without subscripts")
    over = _every(reader, subs[-1], what)
    fixed = tuple(_one(reader, s, what) for s in subs[:-1])
    cells = [Name(element_name(target, (*fixed, e))) for e in over]
    if func == "vector_reorder":  # the order vector at this place names the element to take
        return Call(func, (reader(x.arguments[1]), *cells))
    dim, index = _last_of_variable(reader, what)
    if len(reader.conv.dimensions[dim]) != len(over):
        raise reader.fail(f"{what} over {len(over)} elements into a variable over {len(reader.conv.dimensions[dim])}")
    return Call(func, (Number(float(index + 1)), reader(x.arguments[1]), *cells))


def _vector(reader: Any, arg: Any, size: int, what: str, name: str, before_last: bool = False) -> list[list[Name]]:
    """The elements of ``arg`` along the allocation range (each a list: one, or a whole priority profile)."""
    ref = _reference(reader, arg, what)
    target, subs = _subscripts(reader, ref)
    span = 2 if before_last else 1
    if len(subs) < span:
        raise reader.fail(f"{what} with {name} {target} not subscripted by the allocation range")
    over = _every(reader, subs[-span], what)
    if len(over) != size:
        raise reader.fail(f"{what} with {name} {target} over {len(over)} elements, the variable over {size}")
    profile = _every(reader, subs[-1], what) if before_last else [None]
    if before_last and len(profile) != 4:
        raise reader.fail(
            f"{what} with a priority profile of {len(profile)} values",
            "give each profile 4 values: ptype, ppriority, pwidth, pextra",
        )
    fixed = tuple(_one(reader, s, what) for s in subs[:-span])
    return [[Name(element_name(target, (*fixed, e, *([p] if p is not None else [])))) for p in profile] for e in over]


def read_allocate_by_priority(reader: Any, x: Any) -> Expr:
    """ALLOCATE BY PRIORITY(request, priority, size, width, supply) for the element being built."""
    what = "ALLOCATE BY PRIORITY"
    dim, position = _last_of_variable(reader, what)
    size = len(reader.conv.dimensions[dim])
    _check_size(reader, x.size, size, what)
    requests = [n for row in _vector(reader, x.request, size, what, "the request") for n in row]
    priorities = [n for row in _vector(reader, x.priority, size, what, "the priority") for n in row]
    head = (Number(float(position + 1)), reader(x.width), reader(x.supply))
    return Call("allocate_by_priority", (*head, *requests, *priorities))


def read_allocate_available(reader: Any, x: Any) -> Expr:
    """ALLOCATE AVAILABLE(request, pp, avail) for the element being built."""
    what = "ALLOCATE AVAILABLE"
    dim, position = _last_of_variable(reader, what)
    size = len(reader.conv.dimensions[dim])
    requests = [n for row in _vector(reader, x.request, size, what, "the request") for n in row]
    profiles = [n for row in _vector(reader, x.pp, size, what, "the priority profile", True) for n in row]
    return Call("allocate_available", (Number(float(position + 1)), reader(x.avail), *requests, *profiles))
