"""Vensim macros (``:MACRO:`` ... ``:END OF MACRO:``), expanded when a model is read.

A Vensim macro is a named piece of model structure -- one or more equations,
possibly with stocks -- written once and called like a function::

    :MACRO: EXPRESSION MACRO(input, parameter)
    EXPRESSION MACRO = INTEG(input, parameter)
    :END OF MACRO:
    macro output = EXPRESSION MACRO(macro input, macro parameter)

Vensim expands every call into equations of its own (its manual: "variables
and equations will be made up" at each call, and nested macros are expanded
recursively). The names inside a macro are local to it: they relate to nothing
in the model or in other macros, except a model variable written with a
trailing ``$`` (``TIME STEP$``). XMILE 1.0 (section 4.8.2) states the rule
that matters most: each use of a macro has its own copy of the macro's stocks,
kept for the whole run.

tenor does the same, at read time, on PySD's abstract model
(:func:`expand_macros`): every call becomes an *instance*, the macro's
variables copied under names scoped to that instance, so that the engine,
loops, graphs and XMILE export see ordinary variables.

Naming
------
An instance is named ``<scope> · <MACRO>#<k>``: the scope is the model variable
whose equation holds the call (or, for a call inside a macro, the enclosing
instance), ``<MACRO>`` the macro as its definition spells it, and ``k`` counts
the calls of that macro in that scope (1, 2, ...). Each variable of the macro
becomes ``<instance> · <variable>``, and each input parameter an auxiliary
``<instance> · <parameter>`` whose equation is the call's argument. The call
itself reads ``<instance> · <MACRO>`` (the variable named like the macro, its
value). For ``macro output = EXPRESSION MACRO(macro input, macro parameter)``::

    macro output · EXPRESSION MACRO#1 · input        (= macro input)
    macro output · EXPRESSION MACRO#1 · parameter    (= macro parameter)
    macro output · EXPRESSION MACRO#1 · EXPRESSION MACRO   (the stock)
    macro output = macro output · EXPRESSION MACRO#1 · EXPRESSION MACRO

The separator `` · `` (a middle dot) cannot occur in a Vensim name, so these
names never collide with the model's. Vensim's own output files list no
macro internals; tenor's results do, under these names.

A call with additional outputs, ``total = ADD3(a, b, c : low, high)`` for a
macro ``:MACRO: ADD3(v1, v2, v3 : minval, maxval)``, also defines the model
variables ``low`` and ``high`` as the instance's ``minval`` and ``maxval``.
PySD's equation grammar has no ``:`` in a call, so :func:`mark_output_lists`
first rewrites such a call in tenor's private copy of the file as
``ADD3(a, b, c, 'low', 'high')``: a quoted name is the one kind of argument a
macro call cannot otherwise have.

A subscripted caller (``y[A] = SMOOTHER(x[A], 3)``) gives every variable of its
instance the caller's subscripts, as Vensim does ("the created variables
inherit the subscripts from the left hand side"); subscripts inside a macro
definition are refused, as Vensim has none. A macro that calls itself, directly
or through other macros, is refused with the line of its definition.

References
----------
Vensim documentation, "Defining Macros" and "Using Macros" (Ventana Systems).
OASIS XMILE Version 1.0 (2015), sections 3.6 and 4.8 (macros).

Examples
--------
>>> instance_name("macro output", "EXPRESSION MACRO", 1)
'macro output · EXPRESSION MACRO#1'
>>> mark_output_lists(":MACRO: F(a : b)\\nF = a\\n~~|\\nb = 2*a\\n~~|\\n:END OF MACRO:\\ny = F(x : z)\\n~~|")
":MACRO: F(a : b)\\nF = a\\n~~|\\nb = 2*a\\n~~|\\n:END OF MACRO:\\ny = F(x , 'z')\\n~~|"
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from stocks_flows.limits import MAX_VARIABLES
from tenor.core.errors import SpecError

__all__ = [
    "SEPARATOR",
    "expand_macros",
    "instance_name",
    "macro_line",
    "mark_output_lists",
    "rewrite_copy",
    "variable_line",
]

SEPARATOR = " · "
"""Between the parts of an expanded macro variable's name (cannot occur in a Vensim name)."""

_CONTROL = {"initial_time", "final_time", "time_step", "saveper", "time"}
_OPERATOR = re.compile(r":\s*(AND|OR|NOT|NA|EXCEPT)\s*:", re.I)


def _key(name: str) -> str:
    """A name as PySD's references spell it (lower case, runs of spaces and underscores as one ``_``)."""
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def _plain(name: str) -> str:
    """A name as written, without quotes and with single spaces."""
    return " ".join(name.strip().strip('"').split())


def instance_name(scope: str, macro: str, k: int) -> str:
    """The name of the ``k``-th call of ``macro`` in ``scope`` (a model variable or an enclosing instance)."""
    return f"{scope}{SEPARATOR}{macro}#{k}"


# --- the text: additional outputs of a call ---------------------------------------------------


def mark_output_lists(text: str) -> str:
    """Vensim text with each macro call's output list (``M(a, b : out)``) written as quoted names.

    ``M(a, b : out1, out2)`` becomes ``M(a, b , 'out1', 'out2')``, which PySD's
    grammar reads as a call with two string arguments; :func:`expand_macros`
    binds them to the macro's outputs. Line breaks are kept, so every line
    number stays the same. Text with no ``:MACRO:`` is returned unchanged.
    """
    if ":macro:" not in text.lower():
        return text
    end = text.find("\\\\\\---///")
    body, sketch = (text, "") if end < 0 else (text[:end], text[end:])
    names = {_plain(m.group(1)) for m in re.finditer(r":MACRO:\s*([^(\n]+?)\s*\(", body, re.I)}
    edits: list[tuple[int, int, str]] = []
    for name in names:
        words = r"[\s_]+".join(re.escape(w) for w in name.split())
        for m in re.finditer(rf"(?<![\w$'\"]){words}\s*\(", body, re.I):
            line_start = body.rfind("\n", 0, m.start()) + 1
            if ":macro:" in body[line_start : m.start()].lower():
                continue  # the definition's header: PySD reads its ':' itself
            edit = _output_list(body, m.end() - 1)
            if edit is not None:
                edits.append(edit)
    for start, stop, new in sorted(edits, reverse=True):
        body = body[:start] + new + body[stop:]
    return body + sketch


def _output_list(text: str, open_paren: int) -> tuple[int, int, str] | None:
    """(start, stop, replacement) for the output list of the call whose ``(`` is at ``open_paren``."""
    depth, quoted, colon = 0, False, None
    i = open_paren
    while i < len(text):
        c = text[i]
        if c == '"':
            quoted = not quoted
        elif quoted:
            pass
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                break
        elif c == ":" and depth == 1 and colon is None:
            operator = _OPERATOR.match(text, i)
            if operator is not None:
                i = operator.end()
                continue
            colon = i
        elif c == "|" and not quoted:
            return None  # the equation ended: not a call we understand
        i += 1
    if colon is None or i >= len(text):
        return None
    outputs = [_plain(n.replace("\\", " ")) for n in text[colon + 1 : i].split(",")]
    newlines = text.count("\n", colon, i)
    listed = "".join(f", '{n}'" for n in outputs if n)
    return colon, i, listed + "\n" * newlines


def rewrite_copy(path: Path) -> None:
    """Apply :func:`mark_output_lists` to a Vensim file in place (tenor's private copy, never the user's file)."""
    text = path.read_bytes().decode("latin-1")  # byte for byte, whatever the file's encoding
    marked = mark_output_lists(text)
    if marked != text:
        path.write_bytes(marked.encode("latin-1"))


# --- lines, for messages ----------------------------------------------------------------------


def macro_line(text: str, macro: str) -> int | None:
    """The line of ``:MACRO: <macro>(`` in the file's text (1-based), if it is there."""
    wanted = _key(macro)
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*:MACRO:\s*([^(]+?)\s*\(", line, re.I)
        if m and _key(m.group(1)) == wanted:
            return number
    return None


def variable_line(text: str, name: str) -> int | None:
    """The line defining an expanded variable (``scope · MACRO#k · variable``) inside its macro's definition.

    A parameter, which has no equation of its own, gives the line of the definition's header.
    """
    parts = name.split(SEPARATOR)
    if len(parts) < 3:
        return None
    macro, local = parts[-2].rpartition("#")[0], _key(parts[-1].partition("[")[0])
    start = macro_line(text, macro)
    if start is None:
        return None
    lines = text.splitlines()
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if re.match(r"\s*:END OF MACRO:", line, re.I):
            break
        m = re.match(r'\s*("[^"]+"|[^=(\[:~|{}]+?)\s*(?:\[[^\]]*\]\s*)?(?:=|:=|\(|$)', line)
        if m and m.group(1).strip() and _key(m.group(1)) == local:
            return number
    return start


# --- the abstract model -----------------------------------------------------------------------


def expand_macros(abstract: Any, where: str) -> Any:
    """PySD's main section with every macro call expanded into instance variables.

    ``abstract`` is PySD's abstract model: ``abstract.sections[0]`` the model,
    each later section one macro (``.name``, ``.params``, ``.returns``,
    ``.elements``). The result is a copy of the main section whose elements
    also hold every instance's variables (named as the module docstring says),
    and whose equations read each call's value from its instance. ``where``
    (the file) is only used to locate errors.

    Raises :class:`~tenor.core.errors.SpecError` for a macro that calls itself
    (directly or not), a call with the wrong number of arguments or outputs, a
    name a macro cannot see, subscripts inside a macro definition, or an
    expansion past :data:`~stocks_flows.limits.MAX_VARIABLES` variables.
    """
    from pysd.translators.structures import abstract_expressions as ae

    main = abstract.sections[0]
    macros = {_key(s.name): _Macro.of(s, where, ae) for s in abstract.sections[1:]}
    _refuse_function_names(macros, where)
    _refuse_recursion(macros, where)
    expander = _Expander(macros, where, ae, main.elements)
    elements: list[Any] = []
    for el in main.elements:
        components = []
        for comp in el.components:
            scope = _Scope(_plain(el.name), comp.subscripts)
            components.append(replace(comp, ast=expander.rewrite(comp.ast, scope)))
        elements.append(replace(el, components=components))
        elements.extend(expander.created)
        expander.created = []
    return replace(main, elements=elements)


def _nodes(node: Any) -> Iterator[Any]:
    """``node`` and every structure, tuple and value below it."""
    yield node
    if is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            yield from _nodes(getattr(node, f.name))
    elif isinstance(node, tuple | list):
        for x in node:
            yield from _nodes(x)


@dataclass
class _Macro:
    """One macro definition: its name as written, parameters, outputs, variables and the macros it calls.

    ``locals`` maps the key of each name the macro defines (its equations, and
    the outputs its own calls bind after ':') to the name as written; ``values``
    holds the keys of the names its equations read as values (not only call,
    as a lookup passed in).
    """

    key: str
    name: str
    params: list[str]
    returns: list[str]
    elements: list[Any]
    locals: dict[str, str]
    calls: list[str]
    values: set[str]

    @classmethod
    def of(cls, section: Any, where: str, ae: Any) -> _Macro:
        key = _key(section.name)
        named = {_key(el.name): _plain(el.name) for el in section.elements}
        if key not in named:
            raise SpecError(
                f"the macro {section.name.replace('_', ' ').upper()} has no equation for its own name",
                file=where,
                line=_line(where, section.name),
                key=section.name,
                hint="a macro's value is the variable named like the macro: add 'NAME = ...' inside it",
            )
        returns = [_plain(r) for r in section.returns]
        for output in returns:
            if _key(output) not in named:
                raise SpecError(
                    f"the macro {named[key]} lists the output {output!r} but has no equation for it",
                    file=where,
                    line=_line(where, section.name),
                    key=named[key],
                    hint="define each output named after ':' in the macro's header inside the macro",
                )
        calls: list[str] = []
        references: list[Any] = []
        for el in section.elements:
            for comp in el.components:
                for node in _nodes(comp.ast):
                    if isinstance(node, ae.CallStructure):
                        named.update((_key(a), _plain(a)) for a in node.arguments if isinstance(a, str))
                        if isinstance(node.function, ae.ReferenceStructure):
                            calls.append(_key(node.function.reference))
                    elif isinstance(node, ae.ReferenceStructure):
                        references.append(node)
        called = {
            id(node.function)
            for el in section.elements
            for c in el.components
            for node in _nodes(c.ast)
            if isinstance(node, ae.CallStructure)
        }
        values = {_key(r.reference) for r in references if id(r) not in called}
        params = [_plain(p) for p in section.params]
        return cls(key, named[key], params, returns, list(section.elements), named, calls, values)

    def header(self) -> str:
        """The call as the definition writes it: ``NAME(in1, in2 : out1)``."""
        outputs = f" : {', '.join(self.returns)}" if self.returns else ""
        return f"{self.name}({', '.join(self.params)}{outputs})"


class _Scope:
    """The model's own equations: names stand for themselves, outputs after ':' are model variables."""

    def __init__(self, name: str, subscripts: Any) -> None:
        self.name, self.subscripts = name, subscripts

    def reference(self, node: Any) -> Any:
        return node

    def function(self, node: Any) -> Any:
        return node

    def output(self, name: str) -> str:
        return name


class _Instance(_Scope):
    """The equations of one call of a macro: its names are the instance's, ``NAME$`` the model's."""

    def __init__(self, name: str, subscripts: Any, macro: _Macro, bound: dict[str, Any], expander: _Expander):
        super().__init__(name, subscripts)
        self.macro, self.bound, self.expander = macro, bound, expander
        self.params = {_key(p): p for p in macro.params}

    def local(self, name: str) -> str:
        """The model's name for a name of this instance (as written)."""
        return f"{self.name}{SEPARATOR}{name}"

    def reference(self, node: Any) -> Any:
        key = _key(node.reference)
        if node.subscripts is not None:
            raise self.expander.inside(self.macro, f"the subscripted reference {node.reference}")
        if key in self.params:
            return replace(node, reference=_key(self.local(self.params[key])))
        if key in self.macro.locals:
            return replace(node, reference=_key(self.local(self.macro.locals[key])))
        if key.endswith("$"):
            return replace(node, reference=key.rstrip("$").rstrip("_"))  # the model's variable, NAME$
        if key in _CONTROL:
            return node
        raise self.expander.inside(
            self.macro,
            f"the name {node.reference!r}, which is neither a parameter nor a variable of the macro",
            "the names in a macro are its own: pass the value as an argument, or write NAME$ for the "
            "model's variable NAME",
        )

    def function(self, node: Any) -> Any:
        ae = self.expander.ae
        if not isinstance(node, ae.ReferenceStructure):
            return node
        key = _key(node.reference)
        if key in self.params and isinstance(self.bound[key], ae.ReferenceStructure):
            return self.bound[key]  # a lookup passed as an argument, called inside the macro
        if key in self.macro.locals:
            return replace(node, reference=_key(self.local(self.macro.locals[key])))
        return node  # a built-in function

    def output(self, name: str) -> str:
        return self.local(name)


class _Expander:
    """Rewrites equations, making one instance per macro call (``created`` collects their variables)."""

    def __init__(self, macros: dict[str, _Macro], where: str, ae: Any, main: list[Any]) -> None:
        from pysd.translators.structures.abstract_model import AbstractComponent, AbstractElement

        self.macros, self.where, self.ae = macros, where, ae
        self.component, self.element = AbstractComponent, AbstractElement
        self.calls: Counter[tuple[str, str]] = Counter()
        self.created: list[Any] = []
        self.expanded: dict[tuple[int, str, str], tuple[Any, Any]] = {}  # (call, scope, subscripts) -> (call, value)
        self.taken = {_key(el.name) for el in main}
        self.units = {_key(el.name): el.units for el in main}
        self.count = len(main)

    def rewrite(self, node: Any, scope: _Scope) -> Any:
        """``node`` (a PySD expression) with its names resolved in ``scope`` and its macro calls expanded."""
        ae = self.ae
        if isinstance(node, ae.CallStructure):
            function = node.function
            called = _key(function.reference) if isinstance(function, ae.ReferenceStructure) else None
            if called in self.macros:
                # one instance per call: PySD may share one call between two places (SMOOTH's input and initial)
                seen = self.expanded.get((id(node), scope.name, repr(scope.subscripts)))
                if seen is not None:
                    return seen[1]
                args = tuple(a if isinstance(a, str) else self.rewrite(a, scope) for a in node.arguments)
                value = self.instance(self.macros[called], args, scope)
                self.expanded[(id(node), scope.name, repr(scope.subscripts))] = (node, value)
                return value
            args = tuple(self.rewrite(a, scope) for a in node.arguments)
            return replace(node, function=scope.function(function), arguments=args)
        if isinstance(node, ae.ReferenceStructure):
            return scope.reference(node)
        if is_dataclass(node) and not isinstance(node, type):
            return replace(node, **{f.name: self.rewrite(getattr(node, f.name), scope) for f in fields(node) if f.init})
        if isinstance(node, tuple | list):
            return type(node)(self.rewrite(x, scope) for x in node)
        return node

    def instance(self, macro: _Macro, args: tuple[Any, ...], scope: _Scope) -> Any:
        """Copy ``macro`` for one call in ``scope``; the reference to its value replaces the call."""
        inputs = [a for a in args if not isinstance(a, str)]
        outputs = [_plain(a) for a in args if isinstance(a, str)]
        if len(inputs) != len(macro.params) or len(outputs) > len(macro.returns):
            given = f"{len(inputs)} input(s)" + (f" and {len(outputs)} output(s)" if outputs else "")
            wanted = f"{len(macro.params)} input(s)"
            wanted += f" and up to {len(macro.returns)} output(s)" if macro.returns else ""
            raise SpecError(
                f"the macro {macro.name} is called with {given}; it takes {wanted}",
                file=self.where,
                line=_caller_line(self.where, scope.name),
                key=scope.name,
                hint=f"call it as its definition says: {macro.header()}",
            )
        self.calls[(_key(scope.name), macro.key)] += 1
        name = instance_name(scope.name, macro.name, self.calls[(_key(scope.name), macro.key)])
        bound = dict(zip((_key(p) for p in macro.params), inputs, strict=True))
        inner = _Instance(name, scope.subscripts, macro, bound, self)
        units: dict[str, str] = {}
        for key, param in inner.params.items():
            arg = bound[key]
            if key not in macro.values and isinstance(arg, self.ae.ReferenceStructure):
                continue  # only called inside the macro: a lookup passed by name, no value of its own
            units[key] = (
                (self.units.get(_key(arg.reference)) or "") if isinstance(arg, self.ae.ReferenceStructure) else ""
            )
            self.add(inner.local(param), [self.component(subscripts=scope.subscripts, ast=arg)], units[key])
        for el in macro.elements:
            if any(comp.subscripts and (comp.subscripts[0] or comp.subscripts[1]) for comp in el.components):
                raise self.inside(macro, f"the subscripted variable {el.name}")
            comps = [replace(c, subscripts=scope.subscripts, ast=self.rewrite(c.ast, inner)) for c in el.components]
            el_units = units.get(_key(el.units or ""), el.units or "")  # units named after a parameter: its argument's
            self.add(inner.local(_plain(el.name)), comps, el_units, el.documentation)
        for target, returned in zip(outputs, macro.returns, strict=False):
            value = self.ae.ReferenceStructure(_key(inner.local(macro.locals[_key(returned)])))
            self.add(scope.output(target), [self.component(subscripts=scope.subscripts, ast=value)], "")
        return self.ae.ReferenceStructure(_key(inner.local(macro.name)))

    def add(self, name: str, components: list[Any], units: str, documentation: str = "") -> None:
        """One new variable of the model (refused if its name is taken, or the model grows too large)."""
        if _key(name) in self.taken:
            raise SpecError(
                f"the macro output {name!r} is also defined elsewhere in the model",
                file=self.where,
                line=_caller_line(self.where, name),
                key=name,
                hint="a name after ':' in a macro call is defined by that call; give it no other equation",
            )
        self.count += 1
        if self.count > MAX_VARIABLES:
            raise SpecError(
                f"expanding the macros gives the model more than {MAX_VARIABLES:,} variables",
                file=self.where,
                key=name,
                hint="call the macros fewer times, or write the structure out once",
            )
        self.taken.add(_key(name))
        self.units[_key(name)] = units
        self.created.append(self.element(name=name, components=components, units=units, documentation=documentation))

    def inside(self, macro: _Macro, what: str, hint: str = "Vensim macros have no subscripts") -> SpecError:
        return SpecError(
            f"the macro {macro.name} uses {what}",
            file=self.where,
            line=_line(self.where, macro.name),
            key=macro.name,
            hint=hint,
        )


def _refuse_function_names(macros: dict[str, _Macro], where: str) -> None:
    """Refuse a macro named like a Vensim function PySD reads as its own structure (SMOOTH, DELAY3, INTEG, ...).

    PySD turns such a call into the function before tenor sees it, so the macro
    would be silently ignored.
    """
    from pysd.translators.vensim.vensim_structures import structures

    for key, macro in macros.items():
        if key in structures:
            raise SpecError(
                f"the macro {macro.name} has the name of a Vensim function, which is read as that function",
                file=where,
                line=_line(where, macro.name),
                key=macro.name,
                hint=f"rename the macro (e.g. MY {macro.name}) and its calls",
            )


def _refuse_recursion(macros: dict[str, _Macro], where: str) -> None:
    """Refuse a macro that calls itself, directly or through other macros, naming the cycle and its line."""
    calls = nx.DiGraph()
    calls.add_nodes_from(macros)
    calls.add_edges_from((key, target) for key, m in macros.items() for target in m.calls if target in macros)
    for key in macros:
        try:
            cycle = nx.find_cycle(calls, source=key)
        except nx.NetworkXNoCycle:
            continue
        first = macros[cycle[0][0]]
        chain = " -> ".join(macros[k].name for k in [*(u for u, _ in cycle), cycle[0][0]])
        raise SpecError(
            f"the macro {first.name} calls itself ({chain}); a macro cannot be recursive",
            file=where,
            line=_line(where, first.name),
            key=first.name,
            hint="write the repeated structure out, or nest a fixed number of distinct macros",
        )


def _text(where: str) -> str:
    try:
        return Path(where).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _line(where: str, macro: str) -> int | None:
    return macro_line(_text(where), macro)


def _caller_line(where: str, scope: str) -> int | None:
    """The line of the equation that makes a call: a model variable's, or the enclosing macro variable's."""
    text = _text(where)
    if SEPARATOR in scope:  # a call inside a macro: the line of that macro's definition
        return macro_line(text, scope.split(SEPARATOR)[-1].rpartition("#")[0])
    key = _key(scope)
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r'\s*("[^"]+"|[^=(\[:~|{}]+?)\s*(?:\[[^\]]*\]\s*)?(?:=|:=|\()', line)
        if m and m.group(1).strip() and _key(m.group(1)) == key:
            return number
    return None
