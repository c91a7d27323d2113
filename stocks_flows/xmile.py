"""XMILE in and out: the OASIS exchange format for system-dynamics models.

XMILE 1.0 (OASIS, 2015) is an XML file with ``<sim_specs>`` (start, stop, dt,
method), optional ``<dimensions>`` (arrays), and under ``<model><variables>``
one element per variable: ``<stock>`` (initial value in ``<eqn>``, with
``<inflow>``/``<outflow>`` names), ``<flow>``, ``<aux>`` and ``<gf>``
(graphical functions, i.e. lookups). Equations use the XMILE expression
language: ``IF c THEN a ELSE b``, ``AND``/``OR``/``NOT``, ``MIN``, ``SMTH1``,
``DELAY3``, ``STEP``, ``SAFEDIV`` and so on.

*Out*: :func:`generate_xmile` writes a :class:`~stocks_flows.model.Model` as
XMILE that PySD reads and runs; :func:`write_xmile` writes it to a file
atomically. Every element of a dimensioned variable gets its own equation,
with explicit element references, and ``sum`` over a dimension is written out
as a sum of elements, so nothing depends on a reader's array semantics.

*In*: :func:`read_xmile` (``.xmile``, ``.stmx``) and :func:`read_vensim`
(``.mdl``) use PySD's translators to build PySD's abstract model, then turn its
expression structures into tenor's AST. A construct tenor does not support is
reported with the construct, the variable and the file. PySD's translators
work on a copy of the file in a temporary folder that tenor owns, so nothing
is ever written beside the user's model.

References
----------
OASIS XMILE Version 1.0, Committee Specification 01, 2015.
https://docs.oasis-open.org/xmile/xmile/v1.0/xmile-v1.0.html

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model('''
... time: {stop: 5}
... stocks: {s: {initial: 10}}
... flows: {f: {from: s, equation: s / 2}}
... ''')
>>> text = generate_xmile(model)
>>> '<stock name="s">' in text and '<outflow>f</outflow>' in text
True
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from stocks_flows import external
from stocks_flows.engine import _Compiler, start_time_settings
from stocks_flows.expr import Binary, Call, Expr, Fold, If, Name, Number, Time, Transform, Unary, depth, walk
from stocks_flows.functions import BUILTINS, NA, PYSD_NAMES
from stocks_flows.limits import MAX_EQUATION_DEPTH, MAX_VARIABLES, format_bytes, max_model_bytes, time_axis_problem
from stocks_flows.macros import SEPARATOR, expand_macros, rewrite_copy, variable_line
from stocks_flows.model import (
    Lookup,
    Model,
    TimeSettings,
    Variable,
    element_name,
    equation_problems,
    evaluation_order,
)
from stocks_flows.subscripts import (
    Ranges,
    aggregated,
    declared_ranges,
    elements_of,
    equation_context,
    excluded,
    family,
    is_value,
    pick,
    position,
    subscript_ranges,
)
from stocks_flows.time_axis import TimeEquations, changes_during_run, inline_settings
from stocks_flows.whole_arrays import (
    WHOLE_ARRAY_CALLS,
    read_allocate_available,
    read_allocate_by_priority,
    read_whole_array_call,
)
from tenor.core.errors import Diagnostic, SpecError
from tenor.core.output import write_text

__all__ = [
    "check_model_size",
    "definition_line",
    "generate_xmile",
    "modern_layout",
    "private_copy",
    "quote_flow_names",
    "read_vensim",
    "read_xmile",
    "refuse_stock_kinds",
    "translation_error",
    "write_xmile",
]

_XMILE_NS = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- writing -------------------------------------------------------------------------------


def _quote(name: str) -> str:
    base, bracket, rest = name.partition("[")
    text = base if _IDENT.match(base) else '"' + base.replace('"', '\\"') + '"'
    if not bracket:
        return text
    # an element name with spaces is written with underscores, which XMILE reads as spaces
    elements = ",".join(e.strip().replace(" ", "_") for e in rest.removesuffix("]").split(","))
    return f"{text}[{elements}]"


class _XmileText(Fold[str]):
    """An AST as XMILE equation text (fully parenthesised); built-ins write their registry form."""

    def number(self, node: Number) -> str:
        return repr(float(node.value)) if node.value != int(node.value) else str(int(node.value))

    def time(self, node: Time) -> str:
        return "TIME"

    def name(self, node: Name) -> str:
        return _quote(node.name)

    def unary(self, node: Unary, operand: str) -> str:
        return f"(NOT ({operand}))" if node.op == "not" else f"({node.op}({operand}))"

    def binary(self, node: Binary, left: str, right: str) -> str:
        op = node.op.upper() if node.op in ("and", "or") else node.op
        return f"({left} {op} {right})"

    def if_(self, node: If, cond: str, then: str, other: str) -> str:
        return f"(IF {cond} THEN {then} ELSE {other})"

    def call(self, node: Call, args: list[str]) -> str:
        if node.lookup:
            return f"{_quote(_table_name(node.func))}({args[0]})"
        form = BUILTINS[node.func].xmile
        if form is None:
            raise SpecError(
                f"{node.func}() has no XMILE form: XMILE (and PySD's reader of it) has no such function",
                hint="keep the model in tenor's format or Vensim's, or write the equation without it",
            )
        return form(args)


def _table_name(name: str) -> str:
    """A lookup table's name in XMILE: one element's table of a subscripted lookup (``f[A,B]``) is a
    graphical function of its own, ``f A B`` (XMILE would read ``f[A,B]`` as an array element)."""
    base, bracket, rest = name.partition("[")
    return f"{base} {' '.join(e.strip() for e in rest.removesuffix(']').split(','))}" if bracket else name


def _equation(tree: Expr) -> str:
    """An AST as XMILE equation text (fully parenthesised)."""
    return _XmileText()(tree)


def _number(value: float) -> str:
    return repr(float(value))


def generate_xmile(model: Model) -> str:
    """The model as XMILE 1.0 text."""
    if model.time_equations is not None:  # XMILE's <sim_specs> hold numbers: writing the start values would lie
        raise SpecError(
            "the time settings change during the run (their equations depend on Time or on the model); "
            "XMILE's <sim_specs> hold numbers only",
            file=model.path,
            hint="keep the model in Vensim's format, or give FINAL TIME, TIME STEP and SAVEPER constant values",
        )
    ts = model.time
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<xmile version="1.0" xmlns="{_XMILE_NS}">',
        "  <header>",
        "    <vendor>tenor</vendor>",
        '    <product version="0.1.0">tenor</product>',
        f"    <name>{escape(model.name or 'model')}</name>",
        "  </header>",
        f'  <sim_specs method="{"RK4" if ts.method == "rk4" else "Euler"}" time_units={quoteattr(ts.unit)}>',
        f"    <start>{_number(ts.start)}</start>",
        f"    <stop>{_number(ts.stop)}</stop>",
        f"    <dt>{_number(ts.dt)}</dt>",
        "  </sim_specs>",
    ]
    used_dims = {d for dims in model.base_dimensions.values() for d in dims}
    if used_dims:
        lines.append("  <dimensions>")
        for dim, elements in model.dimensions.items():
            if dim in used_dims:
                lines.append(f"    <dim name={quoteattr(dim)}>")
                lines.extend(f"      <elem name={quoteattr(e)}/>" for e in elements)
                lines.append("    </dim>")
        lines.append("  </dimensions>")
    lines += ["  <model>", "    <variables>"]
    groups: dict[str, list[Variable]] = {}
    for var in model.variables.values():
        groups.setdefault(var.base or var.name, []).append(var)
    for base, members in groups.items():
        if model.base_dimensions.get(base) and members[0].kind == "stock":
            _check_arrayed_stock(model, base, members)
        lines.extend(_element(model, base, members))
    for name, table in model.lookups.items():
        kind = ' type="extrapolate"' if table.extrapolate else ""
        if table.mode != "interpolate":
            kind = external.xmile_lookup_type(name, table.mode)
        lines.append(f"      <gf name={quoteattr(_table_name(name))}{kind}>")
        # one encoding of x: a reader spaces evenly points given by <xscale>, so uneven x go as <xpts> only
        if _evenly_spaced(table.xs):
            lines.append(f'        <xscale min="{_number(table.xs[0])}" max="{_number(table.xs[-1])}"/>')
        lines.append(f'        <yscale min="{_number(min(table.ys))}" max="{_number(max(table.ys))}"/>')
        if not _evenly_spaced(table.xs):
            lines.append(f"        <xpts>{','.join(_number(x) for x in table.xs)}</xpts>")
        lines.append(f"        <ypts>{','.join(_number(y) for y in table.ys)}</ypts>")
        lines.append("      </gf>")
    lines += ["    </variables>", "  </model>", "</xmile>", ""]
    return "\n".join(lines)


def _evenly_spaced(xs: tuple[float, ...]) -> bool:
    """True when ``xs`` are exactly the points a reader spreads evenly over ``<xscale>``."""
    import numpy as np

    return len(xs) > 1 and bool(np.array_equal(np.linspace(xs[0], xs[-1], len(xs)), np.asarray(xs, dtype=float)))


def _element(model: Model, base: str, members: list[Variable]) -> Iterator[str]:
    """The XMILE element of one variable (all its elements when it has dimensions), and the
    auxiliary and flow it may need beside it."""
    first = members[0]
    dims = model.base_dimensions.get(base, ())
    tag = {"stock": "stock", "flow": "flow"}.get(first.kind, "aux")
    synthetic_flow: list[str] = []
    if first.kind == "stock" and not first.inflows and not first.outflows and not _is_zero(first.equation):
        synthetic_flow = [f"{base} net flow"]
    yield f"      <{tag} name={quoteattr(base)}>"
    yield from _dimensions(dims, "        ")
    initial_array: list[str] = []
    if dims and first.kind == "stock":
        # PySD reads one initial value equation per stock: per-element values go through an auxiliary array
        texts = {_equation(v.initial or Number(0.0)) for v in members}
        if len(texts) == 1 and "[" not in next(iter(texts)):
            yield f"        <eqn>{escape(texts.pop())}</eqn>"
        else:
            initial_array = [f"{base} initial"]
            yield f"        <eqn>{escape(_quote(initial_array[0]))}</eqn>"
    elif dims:
        for var in members:
            yield from _per_element(var, var.equation)
    else:
        tree = first.initial if first.kind == "stock" else first.equation
        yield f"        <eqn>{escape(_equation(tree if tree is not None else Number(0.0)))}</eqn>"
    if first.kind == "stock":
        yield from _stock_links(model, first, synthetic_flow)
    if first.units:
        yield f"        <units>{escape(first.units)}</units>"
    if first.description:
        yield f"        <doc>{escape(first.description)}</doc>"
    yield f"      </{tag}>"
    if initial_array:
        yield f"      <aux name={quoteattr(initial_array[0])}>"
        yield from _dimensions(dims, "        ")
        for var in members:
            yield from _per_element(var, var.initial)
        yield "      </aux>"
    if synthetic_flow:
        yield from _net_flow(synthetic_flow[0], dims, members)


def _net_flow(name: str, dims: tuple[str, ...], members: list[Variable]) -> Iterator[str]:
    """The flow that carries a stock's net flow when it is not a sum of flows (one equation per element)."""
    yield f"      <flow name={quoteattr(name)}>"
    yield from _dimensions(dims, "        ")
    if dims:
        for var in members:
            yield from _per_element(var, var.equation)
    else:
        yield f"        <eqn>{escape(_equation(members[0].equation))}</eqn>"
    yield "      </flow>"


def _check_arrayed_stock(model: Model, base: str, members: list[Variable]) -> None:
    """Refuse a stock XMILE cannot hold as one arrayed stock: XMILE gives it one list of flows, each
    taken element by element, so every element must have the same flows, over its own element."""

    def links(var: Variable) -> tuple[frozenset[str], frozenset[str]]:
        return (
            frozenset(model.variables[f].base or f for f in var.inflows),
            frozenset(model.variables[f].base or f for f in var.outflows),
        )

    first = members[0]
    for var in members:
        other = [
            f
            for f in (*var.inflows, *var.outflows)
            if model.variables[f].subscript and model.variables[f].subscript != var.subscript
        ]
        if other or links(var) != links(first):
            problem = f"{var.name} flows from {other[0]}" if other else f"{var.name} has other flows than {first.name}"
            raise SpecError(
                f"stock {base!r} cannot be written as one XMILE arrayed stock: {problem}",
                key=base,
                hint="XMILE takes an arrayed stock's flows element by element; keep the model in Vensim's or "
                "tenor's format, or give every element of the stock the same flows",
            )


def _dimensions(dims: tuple[str, ...], indent: str) -> Iterator[str]:
    if dims:
        yield f"{indent}<dimensions>"
        for d in dims:
            yield f"{indent}  <dim name={quoteattr(d)}/>"
        yield f"{indent}</dimensions>"


def _per_element(var: Variable, tree: Expr | None) -> Iterator[str]:
    yield f"        <element subscript={quoteattr(','.join(var.subscript))}>"
    yield f"          <eqn>{escape(_equation(tree if tree is not None else Number(0.0)))}</eqn>"
    yield "        </element>"


def _stock_links(model: Model, stock: Variable, synthetic_flow: list[str]) -> Iterator[str]:
    """A stock's inflows and outflows (by base name) and whether it stays non-negative."""
    for flow in sorted({model.variables[f].base or f for f in stock.inflows}) + synthetic_flow:
        yield f"        <inflow>{escape(_quote(flow))}</inflow>"
    for flow in sorted({model.variables[f].base or f for f in stock.outflows}):
        yield f"        <outflow>{escape(_quote(flow))}</outflow>"
    if stock.non_negative:
        yield "        <non_negative/>"


def _is_zero(tree: Expr) -> bool:
    return isinstance(tree, Number) and tree.value == 0


def write_xmile(model: Model, path: str | Path, *, inputs: tuple[str | Path, ...] = ()) -> None:
    """Write the model as XMILE, atomically (never onto one of ``inputs``)."""
    write_text(path, generate_xmile(model), inputs=inputs)


# --- reading -------------------------------------------------------------------------------


@contextmanager
def private_copy(path: str | Path) -> Iterator[Path]:
    """A copy of ``path`` in a temporary folder tenor owns (removed afterwards).

    PySD writes its translated Python beside the file it reads; working on
    this copy keeps the user's folder untouched. The copy has a fixed name, so
    the user's file name never reaches PySD.
    """
    src = Path(path)
    folder = Path(tempfile.mkdtemp(prefix="tenor-sd-"))
    try:
        suffix = src.suffix.lower()
        target = folder / ("model" + (suffix if suffix in (".xmile", ".stmx", ".xml", ".mdl") else ""))
        shutil.copyfile(src, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


_CONTROL = {"initial_time", "final_time", "time_step", "saveper"}


def _label(variable: str) -> str:
    """A time setting as Vensim names it (``time_step`` -> ``TIME STEP``); other names unchanged."""
    return variable.replace("_", " ").upper() if variable in _CONTROL else variable


_BUILTIN_TIMES = {"dt": "time_step", "starttime": "initial_time", "stoptime": "final_time"}


def read_xmile(path: str | Path) -> Model:
    """Read an XMILE file (``.xmile``, ``.stmx``) into the internal model through PySD's translator."""
    from pysd.translators.xmile.xmile_file import XmileFile

    return _read(path, lambda p: XmileFile(p), "xmile")


def read_vensim(path: str | Path, data_files: tuple[str | Path, ...] | list[str | Path] = ()) -> Model:
    """Read a Vensim ``.mdl`` file into the internal model through PySD's translator.

    ``data_files`` (``.tab``/``.csv``, e.g. an earlier run's output) give the values of DATA
    variables that have no equation (``x :INTERPOLATE:``), as Vensim's run takes a data file.
    """
    from pysd.translators.vensim.vensim_file import VensimFile

    return _read(path, lambda p: VensimFile(p), "vensim", tuple(Path(f) for f in data_files))


def _read(path: str | Path, opener: Callable[[Path], Any], origin: str, data_files: tuple[Path, ...] = ()) -> Model:
    where = str(path)
    if not Path(path).is_file():
        raise SpecError("file not found", file=where, hint="check the path and the current directory")
    _precheck(Path(path), origin)
    with private_copy(path) as copy, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if origin == "xmile":
            modern_layout(copy)
            quote_flow_names(copy)
            _stella_lookup_calls(copy)
        else:
            rewrite_copy(copy)  # a macro call's outputs after ':', in words PySD's grammar reads
        try:
            translator = opener(copy)
            translator.parse()
            abstract = translator.get_abstract_model()
        except SpecError:
            raise
        except Exception as exc:  # PySD's parser errors: report them as located input errors
            raise translation_error(exc, where) from None
    model = _convert(abstract, where, origin, data_files)
    if not model.variables:
        raise SpecError(
            "the file defines no variables that tenor can read",
            file=where,
            hint="check that this is the model file you meant; an XMILE model lists its stocks, flows "
            "and auxiliaries inside <model><variables>",
        )
    return model


_VARIABLE_TAGS = {"stock", "flow", "aux", "gf", "module", "group"}


def modern_layout(path: Path) -> bool:
    """Rewrite a pre-1.0 Stella file in place so its variables sit in ``<model><variables>``.

    Stella 10.0 wrote the stocks, flows and auxiliaries directly under
    ``<model>``; XMILE 1.0 (and PySD's reader) expects them inside
    ``<variables>``. Returns whether the file was changed.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    try:
        root = etree.fromstring(path.read_bytes(), parser=parser)
    except etree.XMLSyntaxError:
        return False
    changed = False
    for model in root:
        if not isinstance(model.tag, str) or etree.QName(model).localname != "model":
            continue
        children = [c for c in model if isinstance(c.tag, str)]
        if any(etree.QName(c).localname == "variables" for c in children):
            continue
        loose = [c for c in children if etree.QName(c).localname in _VARIABLE_TAGS]
        if not loose:
            continue
        variables = etree.SubElement(model, etree.QName(etree.QName(model).namespace, "variables").text)
        for child in loose:
            variables.append(child)
        changed = True
    if changed:
        path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    return changed


_LOOKUP_CALL = re.compile(rb"\bLOOKUP\s*\(\s*(\"[^\"<]*\"|[A-Za-z_][\w.]*)\s*,", re.IGNORECASE)
_EQN = re.compile(rb"(<eqn>)(.*?)(</eqn>)", re.DOTALL)


def _stella_lookup_calls(path: Path) -> bool:
    """Write Stella's ``LOOKUP(table, x)`` as XMILE's other spelling ``table(x)``, inside ``<eqn>`` only.

    For tenor's reader only (PySD's translator fails on the first spelling and,
    given the second, ignores the argument: so ``--engine pysd`` gets the file
    as written and refuses it). A text edit, not an XML round trip: Stella files
    may use an undeclared ``isee:`` prefix, which a strict XML writer refuses.
    """
    data = path.read_bytes()

    def fix(match: re.Match[bytes]) -> bytes:
        return match[1] + _LOOKUP_CALL.sub(rb"\1(", match[2]) + match[3]

    fixed = _EQN.sub(fix, data)
    if fixed == data:
        return False
    path.write_bytes(fixed)
    return True


_FLOW_NAME = re.compile(rb"(<(?:inflow|outflow)>)\s*([^<\"]*?[^\w.<\s\"][^<\"]*?)\s*(</(?:inflow|outflow)>)")


def quote_flow_names(path: Path) -> bool:
    """Quote a stock's ``<inflow>`` / ``<outflow>`` name that has characters beyond letters, digits and ``_``.

    Those elements hold a flow's name, never an expression, but Stella writes
    ``Flow_w/_division`` bare, and PySD's reader parses it as arithmetic.
    A text edit of those elements only (see :func:`_stella_lookup_calls`).
    """
    data = path.read_bytes()
    fixed = _FLOW_NAME.sub(rb'\1"\2"\3', data)
    if fixed == data:
        return False
    path.write_bytes(fixed)
    return True


def check_model_size(path: Path) -> None:
    """Refuse an XMILE or Vensim file over :func:`~stocks_flows.limits.max_model_bytes` before reading it."""
    size = path.stat().st_size
    limit = max_model_bytes()
    if size > limit:
        raise SpecError(
            f"the file is {format_bytes(size)}; the limit for a model file is {format_bytes(limit)}",
            file=str(path),
            hint="check that this is the model file you meant (or raise the limit with TENOR_MAX_MODEL_BYTES)",
        )


def _precheck(path: Path, origin: str) -> None:
    """Clear messages for files that are not models at all, before a translator sees them."""
    where = str(path)
    check_model_size(path)
    data = path.read_bytes()
    if not data.strip():
        raise SpecError("the file is empty", file=where, hint="check that this is the model file you meant")
    if origin != "xmile":
        return
    lowered = data.lower()
    for declaration in (b"<!doctype", b"<!entity"):
        if declaration in lowered:
            offset = lowered.index(declaration)
            raise SpecError(
                f"the file declares {declaration[2:].decode().upper()}: tenor reads XML without a DTD or entities",
                file=where,
                line=data.count(b"\n", 0, offset) + 1,
                hint="remove the <!DOCTYPE ...> declaration; XMILE files do not need one",
            )
    from lxml import etree

    try:
        root = etree.fromstring(
            data,
            parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False),
        )
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise SpecError("not an XML file", file=where, line=1, hint="an XMILE file is XML; is this the model file?")
    if not str(root.tag).endswith("xmile"):
        raise SpecError(
            f"the root element is <{str(root.tag).split('}')[-1]}>, not <xmile>",
            file=where,
            hint="give an XMILE file (.xmile, .stmx)",
        )
    refuse_stock_kinds(root, where)


_STOCK_KINDS = {"conveyor": "a conveyor", "queue": "a queue", "oven": "an oven"}


def refuse_stock_kinds(root: Any, where: str) -> None:
    """Refuse a stock that is a conveyor, queue or oven (XMILE 1.0, 4.2): no engine here runs one.

    PySD's reader, and so both engines, would read it as a plain stock and give a silently
    different answer; the error names the stock, its line and what to write instead.
    """
    for stock in root.iter("{*}stock"):
        for child in stock:
            kind = _STOCK_KINDS.get(str(child.tag).rsplit("}", 1)[-1]) if isinstance(child.tag, str) else None
            if kind is not None:
                raise SpecError(
                    f"the stock {stock.get('name')!r} is {kind} (<{str(child.tag).rsplit('}', 1)[-1]}>), "
                    "which tenor's engine and PySD do not run",
                    file=where,
                    line=child.sourceline,
                    key=stock.get("name"),
                    hint="model it as a plain stock with a DELAY FIXED (pipeline) outflow: for a conveyor of "
                    "transit time T, outflow = DELAY FIXED(inflow, T, 0)",
                )


def translation_error(exc: Exception, where: str) -> SpecError:
    """A translator error as a located SpecError: the variable, its line, the text that fails."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    equation = getattr(exc, "text", None)
    pos = getattr(exc, "pos", None)
    if isinstance(equation, str) and isinstance(pos, int):
        found = _find_equation(Path(where), equation)
        rest = equation[pos:].strip()
        message = f"cannot read this equation: {equation.strip()!r}; " + (
            f"the text from {rest[:30]!r} on is not understood" if rest else "it ends too early"
        )
        hint = "check the operators and parentheses there; tenor reads what PySD's translator reads"
        if equation.strip() == "???":
            message = "the equation is '???': the program that wrote this XMILE file could not convert it"
            hint = "the file is incomplete; convert the model again, or read the original Vensim .mdl file"
        elif "MACRO(" in equation.upper().replace(" (", "("):
            message = f"a macro call with no <macro> definition in the file: {equation.strip()!r}"
            hint = "add the macro's definition to the file, or write its equations out where it is used"
        if found is not None:
            variable, line, column = found
            return SpecError(
                message,
                file=where,
                line=line,
                column=column + pos + len(equation[pos:]) - len(equation[pos:].lstrip())
                if column is not None
                else None,
                key=variable,
                hint=hint,
            )
        return SpecError(message, file=where, hint=hint)
    if isinstance(exc, RecursionError):
        return SpecError(
            "an equation is nested too deeply for PySD's translator to read",
            file=where,
            line=_deepest_line(Path(where)),
            hint="split deeply nested equations into auxiliaries",
        )
    here = re.search(r'matching "(.*)">\s+<-- \*\*\* We were here', str(exc))
    line = _text_line(Path(where), here.group(1)) if here else None
    return SpecError(
        f"PySD's translator cannot read this model ({type(exc).__name__}): {first}"
        + (f", in {here.group(1)[:60]!r}" if here else ""),
        file=where,
        line=line,
        hint="the model uses a construct that is not supported; simplify it or rewrite it",
    )


def _deepest_line(path: Path) -> int | None:
    """The line with the most parentheses open at once (where a too-deep equation most likely is)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    best, where = 0, None
    for number, text in enumerate(lines, 1):
        depth = deepest = 0
        for ch in text:
            depth += (ch == "(") - (ch == ")")
            deepest = max(deepest, depth)
        if deepest > best:
            best, where = deepest, number
    return where


def _text_line(path: Path, text: str) -> int | None:
    """First line of the file that holds ``text`` (spacing aside), if any."""
    wanted = " ".join(text.split())
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, 1):
        if wanted and wanted in " ".join(line.split()):
            return number
    return None


def _definition_line(path: Path, variable: str) -> int | None:
    """Line where a variable is defined in an XMILE or Vensim file (best effort)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if SEPARATOR in variable:  # a variable of a macro call: its line in the macro's definition
        return variable_line("\n".join(lines), variable)
    key = _key(variable)
    for number, text in enumerate(lines, 1):
        m = re.search(r"<(?:aux|flow|stock|gf)\s+name=[\"']([^\"']+)[\"']", text)
        if m and _key(m.group(1)) == key:
            return number
        if text.lstrip().startswith("<"):
            continue
        m = re.match(r'\s*("[^"]+"|[^=(\[:~|{}]+?)\s*(?:\[[^\]]*\]\s*)?(?:=|:=|\(|:|$)', text)
        if m and m.group(1).strip() and _key(m.group(1)) == key:
            return number
    return None


definition_line = _definition_line
"""The line that defines ``variable`` in a Vensim or XMILE file (None when not found)."""


def _explicit_mapping(path: Path, name: str) -> bool:
    """Whether a Vensim range maps with an element list (``dim: a, b -> (other: y, x)``), which PySD's
    abstract model keeps only as the range's name."""
    if path.suffix.lower() != ".mdl":
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    pattern = r"(?m)^\s*" + r"[\s_]+".join(map(re.escape, name.split())) + r"\s*:([^~|]*)"
    for m in re.finditer(pattern, text, re.I):
        mapping = m.group(1).partition("->")[2]
        if re.search(r"\(\s*[^()]*:", mapping):
            return True
    return False


def _find_equation(path: Path, equation: str) -> tuple[str, int, int | None] | None:
    """(variable, line, column) of the equation text in an XMILE or Vensim file, if it can be found."""
    from html import unescape

    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    wanted = " ".join(equation.split())
    for m in re.finditer(r"<(aux|flow|stock|gf)\s+name=\"([^\"]+)\"[^>]*>(.*?)</\1>", source, re.S):
        for eq in re.finditer(r"<(?:eqn|inflow|outflow)>(.*?)</(?:eqn|inflow|outflow)>", m.group(3), re.S):
            if " ".join(unescape(eq.group(1)).split()) == wanted:
                start = m.start(3) + eq.start(1)
                start += len(eq.group(1)) - len(eq.group(1).lstrip())
                line = source.count("\n", 0, start) + 1
                column = start - (source.rfind("\n", 0, start) + 1) + 1
                return m.group(2), line, column
    if path.suffix.lower() != ".mdl":
        return None
    for number, text in enumerate(source.splitlines(), 1):  # Vensim: the equation on one line
        if wanted and wanted in " ".join(text.split()):
            name = ""
            for back in reversed(source.splitlines()[: number - 1]):
                if "=" in back:
                    name = back.split("=")[0].strip()
                    break
            return name or "?", number, None
    return None


_PYSD_HINT = "or run the file with --engine pysd, which reads it"
# PySD's name for a construct -> (Vensim's name, XMILE's name, what to do instead)
_CONSTRUCTS: dict[str, tuple[str, str, str]] = {
    "GetConstants": (
        "GET XLS CONSTANTS / GET DIRECT CONSTANTS",
        "GET DIRECT CONSTANTS",
        "tenor reads GET XLS / GET DIRECT as a definition of its own in a Vensim model: define a constant with it",
    ),
    "GetLookups": (
        "GET XLS LOOKUPS / GET DIRECT LOOKUPS",
        "GET DIRECT LOOKUPS",
        "tenor reads GET XLS / GET DIRECT as a definition of its own in a Vensim model: define a lookup with it",
    ),
    "GetData": (
        "GET XLS DATA / GET DIRECT DATA",
        "GET DIRECT DATA",
        "tenor reads GET XLS / GET DIRECT as a definition of its own in a Vensim model: define a DATA variable with it",
    ),
    "Data": ("a DATA variable (:=)", "a data variable", "give the data as a lookup over Time, e.g. x = x table(Time)"),
}


def _construct(pysd_name: str, origin: str) -> tuple[str, str | None]:
    """A construct in the modeller's words (Vensim's or Stella's), and what to do instead."""
    known = _CONSTRUCTS.get(pysd_name)
    if known is None:
        return pysd_name, None
    vensim, xmile, hint = known
    return (vensim if origin == "vensim" else xmile), hint


class _Converter:
    def __init__(self, abstract: Any, where: str, origin: str = "vensim") -> None:
        self.where = where
        self.origin = origin
        self.dimensions: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, str] = {}
        self.lookups: dict[str, Lookup] = {}
        self.var_dims: dict[str, tuple[str, ...]] = {}
        self.lookup_names: set[str] = set()
        self.lookup_dims: dict[str, tuple[str, ...]] = {}
        self.data_files: tuple[Path, ...] = ()
        self.declared: dict[str, tuple[str | None, ...]] = {}  # per variable, the range of each dimension
        # Vensim macros: every call expanded into variables of its own (stocks_flows.macros)
        section = abstract.sections[0] if len(abstract.sections) == 1 else expand_macros(abstract, where)
        lists = {sub.name: sub.subscripts for sub in section.subscripts if isinstance(sub.subscripts, list)}
        for sub in section.subscripts:
            copied = sub.subscripts if isinstance(sub.subscripts, str) else None
            elements = sub.subscripts if isinstance(sub.subscripts, list) else lists.get(copied or "", [])
            if isinstance(sub.subscripts, dict):  # GET XLS SUBSCRIPT / GET DIRECT SUBSCRIPT
                elements = external.read_subscript(where, sub.name, sub.subscripts)
            if not elements:
                raise SpecError(
                    f"dimension {sub.name!r} has a form tenor does not support (no list of elements)",
                    file=where,
                    line=_text_line(Path(where), f'name="{sub.name}"') or _definition_line(Path(where), sub.name),
                    key=sub.name,
                    hint="list the elements of the dimension",
                )
            self.dimensions[sub.name] = tuple(elements)
        self.ranges = self.subscript_ranges(section.subscripts)
        self.dimensions = dict(self.ranges.ranges)  # copies and spliced subranges expanded
        self.element_of = {e: family(e, self.ranges) for els in self.dimensions.values() for e in els}
        for el in section.elements:
            self.names[_key(el.name)] = el.name
        self.elements = section.elements
        self.element_by_key = {_key(el.name): el for el in section.elements}

    def subscript_ranges(self, definitions: list[Any]) -> Ranges:
        """The model's subscript ranges (see :mod:`stocks_flows.subscripts`), refused where unclear."""
        path = Path(self.where)
        for sub in definitions:
            if sub.mapping and _explicit_mapping(path, sub.name):
                raise SpecError(
                    f"the subscript mapping of {sub.name!r} lists its elements (-> (range: elements))",
                    file=self.where,
                    line=_definition_line(path, sub.name),
                    key=sub.name,
                    hint="order the elements of the two ranges alike and map the ranges by name: a -> b",
                )
        try:
            listed = [  # a range read from a file (GET XLS SUBSCRIPT) has its elements already
                (
                    sub.name,
                    list(self.dimensions[sub.name]) if isinstance(sub.subscripts, dict) else sub.subscripts,
                    sub.mapping,
                )
                for sub in definitions
            ]
            return subscript_ranges(listed)
        except SpecError as err:
            raise self.located(err, err.key or "") from None

    def located(self, err: SpecError, variable: str) -> SpecError:
        """A subscript problem found while reading ``variable``, with the file, line and variable."""
        where = Path(self.where)
        line = _definition_line(where, variable) or _definition_line(where, err.key or "")
        return SpecError(err.message, file=self.where, line=line, key=variable or err.key, hint=err.hint)

    def fail(self, construct: str, variable: str, hint: str | None = None) -> SpecError:
        return SpecError(
            f"{construct} is not supported",
            file=self.where,
            line=_definition_line(Path(self.where), variable),
            key=variable,
            hint=hint or "tenor reads stocks, flows, auxiliaries, lookups, smooths, delays and trends",
        )

    def fail_construct(self, pysd_name: str, variable: str) -> SpecError:
        """A construct PySD read that tenor's engine lacks, named as Vensim or Stella name it."""
        name, hint = _construct(pysd_name, self.origin)
        return self.fail(name if name.isupper() or name.startswith("a ") else f"the construct {name}", variable, hint)

    def fail_function(self, func: str, variable: str) -> SpecError:
        from pysd.builders.python.python_functions import functionspace

        name = func.removeprefix("X").upper().replace("_", " ")
        hint = f"tenor's engine has no {name}; run the file with --engine pysd" if func in functionspace else None
        return self.fail(f"the function {name}", variable, hint)

    def name(self, reference: str, variable: str) -> str:
        key = _key(reference)
        if key not in self.names:
            where = Path(self.where)
            line = _control_line(where, variable) if variable in _CONTROL else _definition_line(where, variable)
            raise SpecError(
                f"unknown variable {reference!r}",
                file=self.where,
                line=line,
                key=_label(variable),
                hint="define it in the model, or fix the name",
            )
        return self.names[key]


def _convert(abstract: Any, where: str, origin: str, data_files: tuple[Path, ...] = ()) -> Model:
    """PySD's abstract model as tenor's :class:`Model`, checked phase by phase."""
    from pysd.translators.structures import abstract_expressions as ae

    conv = _Converter(abstract, where, origin)
    conv.data_files = data_files
    parts = _components(conv, ae)
    lhs: dict[str, list[tuple[str, ...]]] = {}
    for name, subs, _ast, _el in parts.raw:
        lhs.setdefault(name, []).append(subs)
    conv.declared = {name: declared_ranges(defs, conv.ranges) for name, defs in lhs.items()}
    for name, subs, _ast, _el in parts.raw:
        if subs:
            dims = tuple(s if s in conv.dimensions else conv.element_of.get(s, s) for s in subs)
            known = conv.var_dims.setdefault(name, dims)
            if known != dims:  # defined piece by piece: an unsubscripted reference spans the main ranges
                conv.var_dims[name] = tuple(conv.element_of.get(s, conv.ranges.main.get(s, s)) for s in known)
    _check_expanded_size(conv, parts.raw)
    variables, base_dims = _variables(conv, parts, ae)
    _mark_flows(variables)
    settings, time_trees = _time_settings(conv, parts.control, ae)
    _check_depth(variables, where)
    if time_trees:  # time settings that change during the run: variables must not use them
        _refuse_changing_uses(variables, time_trees, conv)
    for name, var in list(variables.items()):
        equation = _fix_controls(var.equation, settings)
        initial = _fix_controls(var.initial, settings) if var.initial is not None else None
        if equation is not var.equation or initial is not var.initial:
            variables[name] = Variable(**{**var.__dict__, "equation": equation, "initial": initial})
    _check_equations(variables, conv)
    time_unit = next((el.units for el in conv.elements if _key(el.name) == "initial_time" and el.units), "")
    start, stop, dt, save = (settings[k] for k in ("initial_time", "final_time", "time_step", "saveper"))
    time = TimeSettings(start, stop, dt, save, time_unit or "", "euler")
    try:
        order = evaluation_order(variables)
    except SpecError as err:
        base = variables[err.key].base if err.key in variables else err.key
        line = _definition_line(Path(where), base or "")
        raise SpecError(err.message, file=where, line=line, key=err.key, hint=err.hint) from None
    model = Model(
        time=time,
        variables=variables,
        lookups=conv.lookups,
        dimensions=dict(conv.dimensions),
        name=Path(where).stem,
        order=order,
        base_dimensions=base_dims,
        origin=origin,
        path=where,
    )
    return _time_equations(model, conv, time_trees) if time_trees else model


_Raw = tuple[str, tuple[str, ...], Any, Any]
"""(name, subscripts, PySD's expression, PySD's element) of one component."""


@dataclass
class _Components:
    """The components of PySD's abstract model, sorted: time settings, variables, and their units
    (lookups go straight into the converter)."""

    control: dict[str, Any] = field(default_factory=dict)
    raw: list[_Raw] = field(default_factory=list)
    units: dict[str, str | None] = field(default_factory=dict)
    excepts: dict[int, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """The :EXCEPT: lists of a component, by its index in ``raw``."""


def _components(conv: _Converter, ae: Any) -> _Components:
    found = _Components()
    for el in conv.elements:
        for comp in el.components:
            kind = type(comp).__name__
            if kind == "AbstractLookup":
                ast = comp.ast
                if isinstance(ast, ae.GetLookupsStructure):  # GET XLS / GET DIRECT LOOKUPS
                    external.add_lookups(conv, el.name, list(comp.subscripts[0]) if comp.subscripts else [], ast)
                    continue
                if not isinstance(ast, ae.LookupsStructure):
                    raise conv.fail_construct(type(ast).__name__.removesuffix("Structure"), el.name)
                table = _lookup(ast.x, ast.y, ast.type == "extrapolate", conv.where, el.name)
                if ast.type == "hold_backward":  # XMILE's discrete graphical function
                    table = Lookup(table.xs, table.ys, False, "hold_backward")
                _add_lookup(conv, el.name, comp, table)
                continue
            ast = _external(conv, el.name, comp, ae)
            if kind not in ("AbstractComponent", "AbstractUnchangeableConstant") and ast is comp.ast:
                read = type(comp.ast).__name__.removesuffix("Structure")
                raise conv.fail_construct(read if read.startswith("Get") else kind.removeprefix("Abstract"), el.name)
            if _key(el.name) in _CONTROL:
                found.control[_key(el.name)] = comp.ast
                continue
            subs = list(comp.subscripts[0]) if comp.subscripts else []
            if comp.subscripts and comp.subscripts[1]:  # x[dim] :EXCEPT: [a] = ...
                found.excepts[len(found.raw)] = tuple(tuple(listed) for listed in comp.subscripts[1])
            found.raw.append((el.name, tuple(subs), ast, el))
            found.units[el.name] = el.units or None
    return found


def _external(conv: _Converter, name: str, comp: Any, ae: Any) -> Any:
    """A definition that reads a data file (GET XLS / GET DIRECT CONSTANTS or DATA) as the values or
    the table over Time it reads (see stocks_flows.external); any other definition unchanged."""
    subs = list(comp.subscripts[0]) if comp.subscripts else []
    if isinstance(comp.ast, ae.GetConstantsStructure):
        return external.read_constants(conv, name, subs, comp.ast)
    if isinstance(comp.ast, ae.GetDataStructure | ae.DataStructure):
        keyword = getattr(comp, "keyword", None)
        if isinstance(comp.ast, ae.DataStructure):  # no equation: the values come with the run
            table = external.add_given_data(conv, name, subs, keyword)
        else:
            table = external.add_data(conv, name, subs, comp.ast, keyword)
        ref = ae.ReferenceStructure(table, ae.SubscriptsReferenceStructure(subs) if subs else None)
        return ae.CallStructure(ref, (ae.ReferenceStructure("time", None),))
    return comp.ast


def _add_lookup(conv: _Converter, name: str, comp: Any, table: Lookup) -> None:
    """Keep a lookup's table; a subscripted lookup keeps one table per element (``lookup[A](...)``)."""
    conv.lookup_names.add(_key(name))
    subs = list(comp.subscripts[0]) if comp.subscripts else []
    if not subs:
        conv.lookups[name] = table
        return
    conv.lookup_dims[name] = tuple(conv.element_of.get(s, s) for s in subs)
    choices = [conv.dimensions.get(s, (s,)) for s in subs]
    for combo in itertools.product(*choices):
        conv.lookups[element_name(name, combo)] = table


def _check_expanded_size(conv: _Converter, raw: list[_Raw]) -> None:
    """Refuse a model with more than :data:`MAX_VARIABLES` variables once subscripts are expanded."""
    total = 0
    for name, subs, _ast, _el in raw:
        total += math.prod(len(conv.dimensions.get(s, ())) if s in conv.dimensions else 1 for s in subs)
        if total > MAX_VARIABLES:
            raise SpecError(
                f"with this variable the model has more than {MAX_VARIABLES:,} variables once its "
                "subscripts are expanded",
                file=conv.where,
                line=_definition_line(Path(conv.where), name),
                key=name,
                hint="use fewer or smaller subscript ranges",
            )


def _expand(
    conv: _Converter, subs: tuple[str, ...], owner: str, excepts: tuple[tuple[str, ...], ...] = ()
) -> list[tuple[tuple[str, ...], dict[str, str]]]:
    """(elements, dimension -> element) of every element a subscripted component stands for
    (but those its :EXCEPT: lists leave out)."""
    choices: list[list[str]] = []
    for s in subs:
        if s in conv.dimensions and subs.count(s) > 1:
            raise SpecError(
                f"the subscript range {s!r} is used twice on the left of the equation",
                file=conv.where,
                line=_definition_line(Path(conv.where), owner),
                key=owner,
                hint=f"define a copy of the range (e.g. {s} copy <-> {s}) and use it for the second dimension",
            )
        if s in conv.dimensions:
            choices.append(list(conv.dimensions[s]))
        elif s in conv.element_of:
            choices.append([s])
        else:
            raise SpecError(
                f"unknown subscript {s!r}",
                file=conv.where,
                line=_definition_line(Path(conv.where), owner),
                key=owner,
                hint="declare the subscript range, or fix the name",
            )
    combos = [
        (combo, equation_context(subs, combo, conv.ranges, conv.declared.get(owner, ())))
        for combo in itertools.product(*choices)
    ]
    if not excepts:
        return combos
    try:
        return [(elements, context) for elements, context in combos if not excluded(elements, excepts, conv.ranges)]
    except SpecError as err:
        raise conv.located(err, owner) from None


def _variables(conv: _Converter, parts: _Components, ae: Any) -> tuple[dict[str, Variable], dict[str, tuple[str, ...]]]:
    """Every component as scalar variables (one per element), and the dimensions of each base name."""
    variables: dict[str, Variable] = {}
    base_dims: dict[str, tuple[str, ...]] = {}
    for index, (name, subs, ast, el) in enumerate(parts.raw):
        combos = _expand(conv, subs, name, parts.excepts.get(index, ()))
        if subs:
            base_dims[name] = conv.var_dims[name]  # the main ranges when defined piece by piece
        flat_values = None
        if isinstance(ast, np.ndarray):
            flat_values = ast.reshape(-1)
            full = _expand(conv, subs, name) if index in parts.excepts else combos
            if full is not combos and len(flat_values) == len(full):  # values given for the elements left out too
                kept = {elements for elements, _ in combos}
                flat_values = np.array([v for v, (els, _) in zip(flat_values, full, strict=True) if els in kept])
            if len(flat_values) != len(combos):
                raise conv.fail("an array constant of this shape", name)
        for i, (elements, context) in enumerate(combos):
            full = element_name(name, elements)
            tree_source = float(flat_values[i]) if flat_values is not None else ast
            if full in variables:
                raise SpecError(
                    f"{full} has two equations",
                    file=conv.where,
                    line=_definition_line(Path(conv.where), name),
                    key=name,
                    hint="give each element one equation; leave elements out of a range's equation with :EXCEPT:",
                )
            variables[full] = _variable(conv, ae, name, full, elements, context, tree_source, el, parts.units)
    return variables, base_dims


def _variable(
    conv: _Converter,
    ae: Any,
    name: str,
    full: str,
    elements: tuple[str, ...],
    context: dict[str, str],
    tree_source: Any,
    el: Any,
    units: Mapping[str, str | None],
) -> Variable:
    """One element of a component: a stock (an integral), a constant (a number) or an auxiliary."""
    kind = "auxiliary"
    initial = None
    non_negative = False
    if isinstance(tree_source, ae.IntegStructure):
        kind = "stock"
        equation = _to_ast(tree_source.flow, conv, name, context, ae, full)
        initial = _to_ast(tree_source.initial, conv, name, context, ae, full)
        non_negative = bool(tree_source.non_negative)
    else:
        equation = _to_ast(tree_source, conv, name, context, ae, full)
        if isinstance(equation, Number):
            kind = "constant"
    return Variable(
        full,
        kind,
        equation,
        name,
        elements,
        initial,
        units.get(name),
        non_negative,
        source=equation,
        source_initial=initial,
        description=(el.documentation or None),
    )


def _mark_flows(variables: dict[str, Variable]) -> None:
    """Flows are what the stocks' net flows name directly: mark them, and each stock's in and outflows."""
    for var in list(variables.values()):
        if var.kind != "stock":
            continue
        ins, outs = _flow_terms(var.equation)
        if ins is None:
            continue
        for f in (*ins, *outs):
            if f in variables and variables[f].kind == "auxiliary":
                variables[f] = Variable(**{**variables[f].__dict__, "kind": "flow"})
        variables[var.name] = Variable(**{**var.__dict__, "inflows": tuple(ins), "outflows": tuple(outs)})


_TIME_KEYS = ("initial_time", "final_time", "time_step", "saveper")


def _time_settings(conv: _Converter, control: Mapping[str, Any], ae: Any) -> tuple[dict[str, float], dict[str, Expr]]:
    """INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER: their values at the start (checked as a time
    axis), and the equations of all four when one of them changes during the run (else empty)."""
    trees: dict[str, Expr] = {}
    for key in _TIME_KEYS:
        if key not in control:
            if key == "saveper" and "time_step" in trees:
                trees[key] = trees["time_step"]
                continue
            raise SpecError(
                f"the model has no {key.replace('_', ' ').upper()}",
                file=conv.where,
                hint="give the model a start time, a stop time and a time step",
            )
        trees[key] = _to_ast(control[key], conv, key, {}, ae, key, control=True)
    trees = inline_settings(trees, _key)
    varying = {key for key, tree in trees.items() if changes_during_run(tree)}
    values: dict[str, float] = {}
    later = False  # a setting computed from model variables: its start value needs the model
    for key in _TIME_KEYS:
        if any(isinstance(n, Name) for n in walk(trees[key])):
            if key == "initial_time":
                _refuse_initial_time(conv, trees[key])
            values[key] = {"final_time": values["initial_time"] + 1.0}.get(key, 1.0)  # for now
            later = True
        else:
            values[key] = _time_setting(conv, key, trees[key], values, values.get("initial_time", 0.0))
    if not later:
        _check_time_axis(conv.where, *(values[k] for k in _TIME_KEYS))
    return values, (trees if varying else {})


def _refuse_initial_time(conv: _Converter, tree: Expr) -> None:
    """INITIAL TIME is read once, before any variable has a value: it cannot use model variables."""
    used = sorted({n.name for n in walk(tree) if isinstance(n, Name)})
    raise SpecError(
        f"INITIAL TIME uses the model variable {used[0]!r}; tenor computes INITIAL TIME before the "
        "variables have values",
        file=conv.where,
        line=_control_line(Path(conv.where), "initial_time"),
        key="INITIAL TIME",
        hint="compute INITIAL TIME from numbers (and Time) only",
    )


def _refuse_changing_uses(variables: Mapping[str, Variable], trees: Mapping[str, Expr], conv: _Converter) -> None:
    """A variable that uses a time setting which changes during the run (tenor fixes their uses)."""
    varying = {key for key, tree in trees.items() if changes_during_run(tree)}
    for name, var in variables.items():
        for tree in (var.equation, var.initial):
            used = [n.name for n in walk(tree) if isinstance(n, Name) and _key(n.name) in varying] if tree else []
            if used:
                label = _label(_key(used[0]))
                raise SpecError(
                    f"{name} uses {label}, which changes during the run; tenor's engine gives variables "
                    "only the time settings' values at the start",
                    file=conv.where,
                    line=_definition_line(Path(conv.where), var.base or name),
                    key=name,
                    hint=f"run it with --engine pysd, which follows a changing {label}",
                )


def _time_equations(model: Model, conv: _Converter, trees: Mapping[str, Expr]) -> Model:
    """``model`` with time settings that change during the run: their equations, and their values at
    the start computed from its variables (:mod:`stocks_flows.time_axis`)."""
    for key in _TIME_KEYS:
        unknown = [n.name for n in walk(trees[key]) if isinstance(n, Name) and n.name not in model.variables]
        if unknown:
            raise SpecError(
                f"cannot compute {_label(key)}: it uses {unknown[0]!r}, which is not a variable of the model",
                file=conv.where,
                line=_control_line(Path(conv.where), key),
                key=_label(key),
                hint="compute the time settings from numbers, Time and model variables",
            )
    model = replace(model, time_equations=TimeEquations(**trees))
    time = start_time_settings(model)
    _check_time_axis(conv.where, time.start, time.stop, time.dt, time.save_step)
    return replace(model, time=time)


def _time_setting(conv: _Converter, key: str, tree: Expr, known: Mapping[str, float], time: float = 0.0) -> float:
    """The value of one time setting at ``time``, from numbers and the settings before it."""
    env: dict[str, Any] = {"__time__": time, "__dt__": 1.0, "__n__": 1}
    env.update({conv.names.get(k, k): v for k, v in known.items()})
    label = key.replace("_", " ").upper()
    try:
        with np.errstate(all="ignore"):
            return float(np.asarray(_Compiler({}).compile(tree)(env), dtype=float).reshape(-1)[0])
    except KeyError as exc:
        raise SpecError(
            f"cannot compute {label}: it uses {exc}",
            file=conv.where,
            line=_control_line(Path(conv.where), key),
            hint="compute the time settings from numbers and other time settings only",
        ) from None
    except (TypeError, ValueError, IndexError, OverflowError, ZeroDivisionError) as exc:
        raise SpecError(
            f"cannot compute {label}: {exc}", file=conv.where, line=_control_line(Path(conv.where), key)
        ) from None


def _check_time_axis(where: str, start: float, stop: float, dt: float, save: float) -> None:
    """Refuse a time axis that cannot be run, in Vensim's words (INITIAL TIME, SAVEPER...)."""
    problem = time_axis_problem(start, stop, dt, save)
    if problem is None:
        return
    field_key = {"start": "initial_time", "stop": "final_time", "dt": "time_step", "save_step": "saveper"}
    label = {"start": "INITIAL TIME", "stop": "FINAL TIME", "dt": "TIME STEP", "save_step": "SAVEPER"}
    message = problem[1]
    for short, long in label.items():
        message = re.sub(rf"\b{short}\b", long, message, count=1) if short != "save_step" else message
    raise SpecError(
        message.replace("the saving step", "SAVEPER"),
        file=where,
        line=_control_line(Path(where), field_key[problem[0]]),
        key=label[problem[0]],
        hint=problem[2].replace("TENOR_MAX_STEPS", "the environment variable TENOR_MAX_STEPS"),
    )


def _check_depth(variables: Mapping[str, Variable], where: str) -> None:
    """Refuse an equation deeper than :data:`MAX_EQUATION_DEPTH`."""
    for name, var in variables.items():
        for tree in (var.equation, var.initial):
            if tree is not None and depth(tree)[0] > MAX_EQUATION_DEPTH:
                raise SpecError(
                    f"the equation is {depth(tree)[0]} levels deep; the limit is {MAX_EQUATION_DEPTH}",
                    file=where,
                    line=_definition_line(Path(where), var.base or name),
                    key=name,
                    hint="split it into auxiliaries",
                )


def _check_equations(variables: Mapping[str, Variable], conv: _Converter) -> None:
    """Refuse unknown names, lookups and functions, and wrong numbers of arguments (20 at most shown)."""
    where = conv.where
    problems = equation_problems(variables, conv.lookups, conv.origin)
    if problems:
        raise SpecError(
            diagnostics=[
                Diagnostic(
                    message,
                    where,
                    _definition_line(Path(where), variables[variable].base or variable),
                    None,
                    variable,
                    hint or None,
                )
                for variable, message, hint in problems[:20]
            ]
        )


def _lookup(xs: Any, ys: Any, extrapolate: bool, where: str, variable: str) -> Lookup:
    """A lookup table read by a translator, checked: finite points, as many x as y, x increasing."""
    import numpy as np

    try:
        x = np.asarray(xs, dtype=float).reshape(-1)
        y = np.asarray(ys, dtype=float).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        x = y = np.array([np.nan])
    problem = None
    if len(x) == 0 or len(x) != len(y):
        problem = f"the lookup has {len(x)} x values and {len(y)} y values"
    elif not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        problem = "the lookup has a point that is not a finite number"
    elif np.any(np.diff(x) < 0):
        problem = "the x values of the lookup decrease"
    if problem is not None:
        raise SpecError(
            problem,
            file=where,
            line=_definition_line(Path(where), variable),
            key=variable,
            hint="give as many x as y values, finite, with x increasing",
        )
    return Lookup(tuple(float(v) for v in x), tuple(float(v) for v in y), extrapolate)


_LONG_CHAIN = 64
"""Terms of a sum or product past which it is read as a balanced tree (so that it stays shallow)."""


def _balanced(op: str, terms: list[Expr]) -> Expr:
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return Binary(op, _balanced(op, terms[:half]), _balanced(op, terms[half:]))


class _FixControls(Transform):
    def __init__(self, settings: dict[str, float]) -> None:
        self.settings = settings

    def name(self, node: Name) -> Expr:
        key = _key(node.name)
        return Number(self.settings[key], node.pos) if key in self.settings else node


def _fix_controls(tree: Expr, settings: dict[str, float]) -> Expr:
    """``tree`` with each time setting it names (TIME STEP, FINAL TIME, ...) replaced by its value."""
    return _FixControls(settings)(tree)


def _control_line(path: Path, key: str) -> int | None:
    """Line of a time setting: the Vensim equation, or the XMILE <sim_specs> element."""
    tags = {"initial_time": "start", "final_time": "stop", "time_step": "dt", "saveper": "savestep"}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for number, text in enumerate(lines, 1):
        if re.search(rf"<{tags[key]}[\s>]", text, re.I):
            return number
    return _definition_line(path, key.replace("_", " "))


_Terms = tuple[list[str], list[str]] | None


class _FlowTerms(Fold[_Terms]):
    """(added names, subtracted names) of a sum of names, None for anything else."""

    def number(self, node: Number) -> _Terms:
        return ([], []) if node.value == 0 else None

    def time(self, node: Time) -> _Terms:
        return None

    def name(self, node: Name) -> _Terms:
        return [node.name], []

    def unary(self, node: Unary, operand: _Terms) -> _Terms:
        return (operand[1], operand[0]) if node.op == "-" and operand is not None else None

    def binary(self, node: Binary, left: _Terms, right: _Terms) -> _Terms:
        if node.op not in "+-" or left is None or right is None:
            return None
        if node.op == "+":
            return left[0] + right[0], left[1] + right[1]
        return left[0] + right[1], left[1] + right[0]

    def if_(self, node: If, cond: _Terms, then: _Terms, other: _Terms) -> _Terms:
        return None

    def call(self, node: Call, args: list[_Terms]) -> _Terms:
        return None


def _flow_terms(tree: Expr) -> tuple[list[str] | None, list[str]]:
    """Split a net flow ``a + b - c`` into inflows [a, b] and outflows [c] (None if it is not that shape)."""
    found = _FlowTerms()(tree)
    return found if found is not None else (None, [])


def _graphical_variable(conv: _Converter, func: str, ae: Any) -> str | None:
    """The table of a variable defined by a graphical function of its equation, when ``func`` names one."""
    el = conv.element_by_key.get(_key(func))
    if el is None or len(el.components) != 1:
        return None
    ast = el.components[0].ast
    if not isinstance(ast, ae.InlineLookupsStructure) or el.components[0].subscripts[0]:
        return None
    name = f"{el.name} (table)"  # the name inline_lookup gives the same table
    if name not in conv.lookups:
        table = ast.lookups
        conv.lookups[name] = _lookup(table.x, table.y, table.type == "extrapolate", conv.where, el.name)
        conv.lookup_names.add(_key(name))
        conv.names[_key(name)] = name
    return name


def _to_ast(
    node: Any,
    conv: _Converter,
    variable: str,
    context: dict[str, str],
    ae: Any,
    full: str,
    control: bool = False,
) -> Expr:
    """One of PySD's expression structures (for one element of ``variable``) as a tenor AST."""
    return _ToAst(conv, variable, context, ae, control)(node)


class _ToAst:
    """PySD's expression structures as tenor's AST, one method per structure.

    ``context`` maps each dimension of the variable to the element being built,
    so that an apply-to-all reference picks the same element; ``control`` is set
    while reading a time setting (which may name the other time settings).
    """

    def __init__(self, conv: _Converter, variable: str, context: dict[str, str], ae: Any, control: bool) -> None:
        self.conv, self.variable, self.context, self.ae, self.control = conv, variable, context, ae, control
        self.structures: dict[type, Callable[[Any], Expr]] = {
            ae.ReferenceStructure: self.reference,
            ae.ArithmeticStructure: self.arithmetic,
            ae.LogicStructure: self.arithmetic,
            ae.CallStructure: self.call,
            ae.InitialStructure: lambda x: Call("init", (self(x.initial),)),
            ae.SmoothStructure: self.smooth,
            ae.DelayStructure: self.delay,
            ae.SmoothNStructure: lambda x: self.cascade("smoothn", x, x.smooth_time),
            ae.DelayNStructure: lambda x: self.cascade("delayn", x, x.delay_time),
            ae.TrendStructure: lambda x: Call("trend", (self(x.input), self(x.average_time), self(x.initial_trend))),
            ae.SampleIfTrueStructure: lambda x: Call(
                "sample_if_true", (self(x.condition), self(x.input), self(x.initial))
            ),
            ae.DelayFixedStructure: lambda x: Call("delay_fixed", (self(x.input), self(x.delay_time), self(x.initial))),
            ae.InlineLookupsStructure: self.inline_lookup,
            ae.GameStructure: lambda x: self(x.expression),  # GAME(x) is x when the model is simulated, not played
            ae.ForecastStructure: lambda x: Call(
                "forecast", (self(x.input), self(x.average_time), self(x.horizon), self(x.initial_trend))
            ),
            ae.AllocateByPriorityStructure: lambda x: read_allocate_by_priority(self, x),
            ae.AllocateAvailableStructure: lambda x: read_allocate_available(self, x),
        }

    def fail(self, construct: str, hint: str | None = None) -> SpecError:
        return self.conv.fail(construct, self.variable, hint)

    def __call__(self, x: Any) -> Expr:
        if isinstance(x, bool):
            return Number(1.0 if x else 0.0)
        if isinstance(x, int | float | np.integer | np.floating):
            return self.number(x)
        if isinstance(x, str):
            try:
                return self.number(float(x))
            except (ValueError, OverflowError):
                pass
            raise self.fail(f"the expression {x!r}")
        for structure, method in self.structures.items():
            if isinstance(x, structure):
                return method(x)
        construct = type(x).__name__.removesuffix("Structure") or type(x).__name__
        raise self.conv.fail_construct(construct, self.variable)

    def number(self, x: Any) -> Number:
        try:
            value = float(x)
        except OverflowError:
            value = math.inf
        if math.isnan(value) and self.conv.origin == "vensim":
            return Number(NA)  # PySD reads Vensim's :NA: as NaN; Vensim computes with its NA number
        if not math.isfinite(value):
            conv, variable = self.conv, self.variable
            raise SpecError(
                f"the number {str(x)[:30]} is not finite (too large for a float, or not a number)",
                file=conv.where,
                line=_control_line(Path(conv.where), variable)
                if variable in _CONTROL
                else _definition_line(Path(conv.where), variable),
                key=_label(variable),
                hint="write a number below 1.8e308 in size",
            )
        return Number(value)

    def reference(self, x: Any) -> Expr:
        conv = self.conv
        if x.reference.lower() == "time":
            return Time()
        if self.control and _key(x.reference) in _CONTROL:
            return Name(conv.names.get(_key(x.reference), x.reference))
        builtin = _BUILTIN_TIMES.get(_key(x.reference))
        if builtin is not None and _key(x.reference) not in conv.names:  # XMILE's DT, STARTTIME, STOPTIME
            return Name(conv.names.get(builtin, builtin))
        if conv.origin == "vensim" and _key(x.reference) not in conv.names and is_value(x.reference, conv.ranges):
            return self.subscript_value(x)  # Vensim: a subscript range or element used as a number
        names = self.names(x)
        if len(names) != 1:
            target = conv.name(x.reference, self.variable)
            subs = list(x.subscripts.subscripts) if x.subscripts is not None else list(conv.var_dims.get(target, ()))
            free = ", ".join(repr(s) for s in subs if self.pick(s) is None)
            why = f": {free} is not a range of this equation, a subrange of one or mapped to one" if free else ""
            raise self.fail(
                f"an array reference outside SUM/PROD/VMIN/VMAX ({x.reference}){why}",
                "refer to one element, or to the array inside SUM, PROD, VMIN or VMAX (with range! for the "
                "range it runs over); or run the file with --engine pysd",
            )
        return names[0]

    def arithmetic(self, x: Any) -> Expr:
        ops = [o.strip(":").lower() for o in x.operators]
        args = list(x.arguments)
        if len(args) == 1 and len(ops) == 1:
            op = {"negative": "-", "positive": "+", "not": "not"}.get(ops[0])
            if op is None:
                raise self.fail(f"the operator {ops[0]!r}")
            return Unary(op, self(args[0]))
        if ops and ops[0] in ("negative", "not"):
            raise self.fail("a unary operator in this position")
        if len(args) > _LONG_CHAIN and len(set(ops)) == 1 and ops[0] in ("+", "*"):
            return _balanced(ops[0], [self(a) for a in args])  # a long sum or product stays shallow
        first = args[0]
        negative = isinstance(first, int | float | np.integer | np.floating) and first < 0
        if set(ops) == {"^"}:
            return self.power_chain(args, negative)
        if ops[0] == "^" and negative:
            # "-2^2" is a negative literal raised to a power: -(2^2), as XMILE and PySD read it
            tree: Expr = Unary("-", Binary("^", Number(-float(first)), self(args[1])))
            ops, args = ops[1:], args[1:]
        else:
            tree = self(first)
        for op, arg in zip(ops, args[1:], strict=True):
            if op == "%":
                raise self.fail("the operator %")
            tree = Binary({"==": "="}.get(op, op), tree, self(arg))
        return tree

    def power_chain(self, args: list[Any], negative: bool) -> Expr:
        """``a^b^c`` is ``a^(b^c)``, as Vensim, Stella, PySD and Simlin read it (``-2^2`` is ``-(2^2)``)."""
        power = self(args[-1])
        for arg in reversed(args[1:-1]):
            power = Binary("^", self(arg), power)
        base = Number(-float(args[0])) if negative else self(args[0])
        return Unary("-", Binary("^", base, power)) if negative else Binary("^", base, power)

    def call(self, x: Any) -> Expr:
        conv, ae = self.conv, self.ae
        func = x.function.reference if isinstance(x.function, ae.ReferenceStructure) else str(x.function)
        special = self.special_call(func, x)
        if special is not None:
            return special
        found = PYSD_NAMES.get(func)
        if found is None:
            raise conv.fail_function(func, self.variable)
        builtin, reorder = found
        if builtin.spreads and len(x.arguments) == 1:
            terms = self.aggregate(x.arguments[0])
            if terms is not None:
                return Call(builtin.name, tuple(terms))
        arguments = list(x.arguments)
        if reorder is not None:  # PySD's argument order -> tenor's
            if len(arguments) != len(reorder):
                raise self.fail(f"{func.upper()} with {len(arguments)} argument(s) (it takes {len(reorder)})")
            arguments = [arguments[i] for i in reorder]
        return Call(builtin.name, tuple(self(a) for a in arguments))

    def special_call(self, func: str, x: Any) -> Expr | None:
        """A call that is not one built-in applied to its arguments: a lookup, ELMCOUNT, PROD, whole arrays."""
        conv, ae = self.conv, self.ae
        if _key(func) in conv.lookup_names:
            return Call(self.lookup_table(x.function), (self(x.arguments[0]),), lookup=True)
        table = _graphical_variable(conv, func, ae)
        if table is not None and len(x.arguments) == 1:  # XMILE: a variable with a <gf> called as table(x)
            return Call(table, (self(x.arguments[0]),), lookup=True)
        if func == "elmcount" and len(x.arguments) == 1:  # ELMCOUNT(dim): how many elements dim has
            arg = x.arguments[0]
            dims = {_key(d): els for d, els in conv.dimensions.items()}
            if isinstance(arg, ae.ReferenceStructure) and _key(arg.reference) in dims:
                return Number(float(len(dims[_key(arg.reference)])))
        if func in WHOLE_ARRAY_CALLS:  # INVERT MATRIX, VECTOR SELECT: whole arrays, spread out
            return read_whole_array_call(self, func, x)
        if func == "prod" and len(x.arguments) == 1:  # PROD(x[dim!]): the product of the elements
            terms = self.aggregate(x.arguments[0])
            if terms is not None:
                return _balanced("*", terms)
        return None

    def smooth(self, x: Any) -> Expr:
        if x.order not in (1, 3):
            return Call("smoothn", (self(x.input), self(x.smooth_time), self(x.initial), self(x.order)))
        return Call(f"smooth{int(x.order)}", (self(x.input), self(x.smooth_time), self(x.initial)))

    def delay(self, x: Any) -> Expr:
        if x.order not in (1, 3):
            return Call("delayn", (self(x.input), self(x.delay_time), self(x.initial), self(x.order)))
        return Call(f"delay{int(x.order)}", (self(x.input), self(x.delay_time), self(x.initial)))

    def cascade(self, func: str, x: Any, time: Any) -> Expr:
        """DELAY N or SMOOTH N (its order is checked with the other equations: a constant whole number)."""
        return Call(func, (self(x.input), self(time), self(x.initial), self(x.order)))

    def inline_lookup(self, x: Any) -> Expr:
        conv, table = self.conv, x.lookups
        name = f"{self.variable} (table)"
        conv.lookups[name] = _lookup(table.x, table.y, table.type == "extrapolate", conv.where, self.variable)
        conv.lookup_names.add(_key(name))
        conv.names[_key(name)] = name
        return Call(name, (self(x.argument),), lookup=True)

    def lookup_table(self, ref: Any) -> str:
        """The table a lookup call uses: for a subscripted lookup, the one of this element."""
        conv = self.conv
        base = conv.names[_key(ref.reference)]
        if base in conv.lookups:
            return base
        subs = list(ref.subscripts.subscripts) if getattr(ref, "subscripts", None) else []
        subs = subs or list(conv.lookup_dims.get(base, ()))
        combo = []
        for s in subs:
            element = self.pick(s)
            if element is None:
                raise self.fail(f"the lookup {base}[{s}] called outside an equation over {s}")
            combo.append(element)
        name = element_name(base, tuple(combo))
        if name not in conv.lookups:
            raise self.fail(f"the lookup {name}, which has no table,")
        return name

    def names(self, x: Any, all_elements: bool = False) -> list[Name]:
        """The scalar names a reference stands for (one, or every element it spans)."""
        conv = self.conv
        target = conv.name(x.reference, self.variable)
        subs = list(x.subscripts.subscripts) if x.subscripts is not None else []
        if not subs and target in conv.var_dims:
            subs = list(conv.var_dims[target])  # an apply-to-all reference: element by element
        if not subs:
            return [Name(target)]
        choices = [self.elements(s, all_elements) for s in subs]
        return [Name(element_name(target, combo)) for combo in itertools.product(*choices)]

    def pick(self, s: str) -> str | None:
        """The element subscript ``s`` picks here (None when free), see :func:`stocks_flows.subscripts.pick`."""
        try:
            return pick(s, self.context, self.conv.ranges)
        except SpecError as err:
            raise self.conv.located(err, self.variable) from None

    def elements(self, s: str, all_elements: bool) -> list[str]:
        """The elements subscript ``s`` spans: the one it picks here, or (inside an aggregation) all."""
        element = self.pick(s)
        if element is not None:
            return [element]
        if s.endswith("!") or all_elements:
            try:
                return list(elements_of(s, self.conv.ranges))
            except SpecError as err:
                raise self.conv.located(err, self.variable) from None
        return list(self.conv.dimensions[s])  # free: the caller refuses an array where a number is needed

    def aggregate(self, arg: Any) -> list[Expr] | None:
        """The terms of SUM, PROD, VMIN or VMAX over ``arg``: one per element of its ``range!``
        subscripts (or of a lone reference's free ranges); None when ``arg`` is a plain expression."""
        bangs = aggregated(arg)
        if not bangs:
            if isinstance(arg, self.ae.ReferenceStructure):
                return list(self.names(arg, all_elements=True))
            return None
        try:
            choices = [elements_of(b, self.conv.ranges) for b in bangs]
        except SpecError as err:
            raise self.conv.located(err, self.variable) from None
        terms: list[Expr] = []
        for combo in itertools.product(*choices):
            context = {**self.context, **dict(zip(bangs, combo, strict=True))}
            terms.append(_ToAst(self.conv, self.variable, context, self.ae, self.control)(arg))
        return terms

    def subscript_value(self, x: Any) -> Expr:
        """A subscript range (or element) used as a number: the position of the current element."""
        conv = self.conv
        name = is_value(x.reference, conv.ranges) or x.reference
        try:
            return Number(float(position(name, self.context, conv.ranges)))
        except SpecError as err:
            raise conv.located(err, self.variable) from None
