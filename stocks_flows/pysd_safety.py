"""Keeping a model file from running code through PySD.

PySD turns a model into a Python module and imports it. Names, documentation
and units from the model file are pasted into that module's text, so a file
whose free text closes a string or a docstring could run code. tenor never
lets that happen, with two independent layers:

1. :func:`sanitise` re-makes PySD's *abstract model* (what PySD's translators
   read from an XMILE or Vensim file, before any Python is written) from
   allow-listed parts only: every variable, dimension and element name is
   replaced by a generated identifier (``var_3``, ``dim_0``, ``elem_2``),
   documentation, units and limits are dropped, the section and file names are
   fixed (``model.py``; a Vensim macro becomes ``macro_0.py``, its inputs
   ``arg_0``), and only known expression structures, operators and built-in
   functions pass. Any other text in the model is refused. A data file a GET
   XLS / GET DIRECT call names is read only from the model's own folder and
   copied beside the module as ``data_0.xlsx`` (:mod:`stocks_flows.pysd_data`);
   reality checks are dropped. The result maps tenor's names to PySD's columns
   and back (:class:`SafeModel`).
2. :func:`check_module` parses the module PySD wrote with :mod:`ast` and
   refuses it unless every node is one PySD's builder emits: plain imports
   of pysd, numpy, xarray and scipy; calls only to model components and
   allow-listed functions; no dunder attributes, no string literals other than
   identifiers; docstrings only as plain string statements; assignments to
   part of an array only on the locals PySD names (``value``, the masks
   ``except_subs`` and ``def_subs``); file readers only of a bare
   ``data_<n>`` file in the module's own folder, macros only from a
   ``macro_<n>.py`` beside it. :func:`check_folder` checks every module in
   the folder so. A refused module is never imported.

:func:`private_folder` is the only place the module is written: a 0700
temporary folder named after the process, removed on exit and on SIGTERM or
SIGINT; folders left by processes that died are removed by the next run.

Examples
--------
>>> check_module("import os\\n")
Traceback (most recent call last):
...
stocks_flows.pysd_safety.UnsafeModelError: <generated model>: the Python module PySD generated imports 'os', \
which PySD never does (line 1 of that module); it was not run
  hint: the model file has text tenor will not run; report it if the file is an ordinary model
"""

from __future__ import annotations

import ast
import builtins
import collections
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stocks_flows.data_files import DATA_SUFFIXES, DataFileError
from stocks_flows.pysd_data import DataFiles
from tenor.core.errors import SpecError

__all__ = [
    "FOLDER_PREFIX",
    "SafeModel",
    "UnsafeModelError",
    "check_folder",
    "check_module",
    "clean_stale_folders",
    "private_folder",
    "sanitise",
    "unchanged",
]

FOLDER_PREFIX = "tenor-pysd-"
"""Temporary folders holding a generated module are ``tenor-pysd-<pid>-<random>``."""

_HINT = "the model file has text tenor will not run; report it if the file is an ordinary model"


class UnsafeModelError(SpecError):
    """A model (or the module PySD made of it) holds something that could run code."""


# --- layer 1: the abstract model, re-made from allow-listed parts --------------------------

_CONTROL = {
    "initial_time": "INITIAL TIME",
    "final_time": "FINAL TIME",
    "time_step": "TIME STEP",
    "saveper": "SAVEPER",
}
# PySD's operators (OperationBuilder._operators_build), and the lookup kinds its builder knows
_OPERATORS = {"^", "*", "/", "+", "-", "=", "<>", ">=", ">", "<=", "<", ":NOT:", ":AND:", ":OR:", "negative"}
_LOOKUP_TYPES = {"interpolate", "extrapolate", "hold_backward", "look_forward"}
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
# the structures that read a file, in Vensim's words
_GET = {
    "GetConstantsStructure": "GET XLS CONSTANTS / GET DIRECT CONSTANTS",
    "GetDataStructure": "GET XLS DATA / GET DIRECT DATA",
    "GetLookupsStructure": "GET XLS LOOKUPS / GET DIRECT LOOKUPS",
}
_DATA_KEYWORDS = {None, "interpolate", "raw", "hold_backward", "look_forward"}
_STRUCTURES = {
    "ArithmeticStructure",
    "LogicStructure",
    "SubscriptsReferenceStructure",
    "ReferenceStructure",
    "CallStructure",
    "GameStructure",
    "AllocateAvailableStructure",
    "AllocateByPriorityStructure",
    "InitialStructure",
    "IntegStructure",
    "DelayStructure",
    "DelayNStructure",
    "DelayFixedStructure",
    "SmoothStructure",
    "SmoothNStructure",
    "TrendStructure",
    "ForecastStructure",
    "SampleIfTrueStructure",
    "LookupsStructure",
    "InlineLookupsStructure",
    *_GET,
}
_COMPONENTS = {"AbstractComponent", "AbstractUnchangeableConstant", "AbstractLookup", "AbstractData"}


def _clean(name: str) -> str:
    """The key PySD's namespace files a name under (``NamespaceManager.cleanspace``)."""
    return name.lower().replace(" ", "_")


@dataclass(frozen=True)
class SafeModel:
    """PySD's abstract model with every name generated, and the way back to the model's names.

    ``variables`` maps each model name (as written in the file) to its generated
    name, ``subscripts`` each dimension and element name likewise.
    """

    abstract: Any
    variables: Mapping[str, str]
    subscripts: Mapping[str, str]
    _by_key: Mapping[str, str] = field(default_factory=dict, repr=False)

    def name(self, base: str) -> str:
        """The generated name of a model variable (``base`` as the model names it)."""
        if base in self.variables:
            return self.variables[base]
        key = _clean(base)
        if key in self._by_key:
            return self._by_key[key]
        key = re.sub(r"[\s_]+", "_", base.strip().strip('"').lower())
        if key in self._by_key:
            return self._by_key[key]
        raise KeyError(base)

    def column(self, base: str, elements: Sequence[str] = ()) -> str:
        """PySD's column for one element of a variable: ``var_3[elem_0,elem_2]``."""
        safe = self.name(base)
        if not elements:
            return safe
        return f"{safe}[{','.join(self.subscripts[e] for e in elements)}]"


class _Sanitiser:
    def __init__(
        self, where: str | None, data: DataFiles | None = None, line_of: Callable[[str], int | None] | None = None
    ) -> None:
        self.where = where
        self.data = data
        self.line_of = line_of
        self.variables: dict[str, str] = {}
        self.by_key: dict[str, str] = {}
        self.subscripts: dict[str, str] = {}
        self.macros: dict[str, str] = {}

    def refuse(self, what: str, key: str | None = None, hint: str | None = None) -> UnsafeModelError:
        line = self.line_of(key) if key is not None and self.line_of is not None else None
        if key is not None and not (key.isprintable() and len(key) <= 60):
            key = _show(key)  # a name from the file: shown escaped, never raw
        return UnsafeModelError(
            f"PySD cannot be given this model safely: {what}",
            file=self.where,
            line=line,
            key=key,
            hint=hint or "use --engine vector (the default), or simplify the model",
        )

    # files ------------------------------------------------------------------------------
    def data_file(self, name: Any, context: str, construct: str) -> str:
        """The generated name of the copy of a data file the model reads (GET XLS / GET DIRECT)."""
        if self.data is None:
            raise self.refuse(f"{construct} reads a file; only a model file handed to PySD may", context)
        try:
            return self.data.copy(name)
        except DataFileError as exc:
            raise self.refuse(
                f"{construct}: {exc}",
                context,
                hint="keep the data files a model reads in its own folder (or one below it), named relative to it",
            ) from None

    def cell(self, text: Any, context: str, construct: str, empty: bool = False) -> str:
        """A sheet, a separator, a cell or a named range: plain text PySD pastes into its module."""
        if isinstance(text, str) and ((empty and text == "") or _CELL_TEXT.match(text)):
            return text
        raise self.refuse(
            f"{construct} names the sheet or cell {_show(str(text))}",
            context,
            hint="name sheets, cells and ranges with letters, digits, spaces and _ . * $ , ; -",
        )

    # names ------------------------------------------------------------------------------
    def subscript(self, name: Any, context: str) -> str:
        if not isinstance(name, str):
            raise self.refuse(f"a subscript of type {type(name).__name__}", context)
        bang = name.endswith("!")
        bare = name[:-1] if bang else name
        safe = self.subscripts.get(bare)
        if safe is None:
            matches = {v for k, v in self.subscripts.items() if k.lower() == bare.lower()}
            if len(matches) != 1:
                raise self.refuse(f"the subscript {_show(bare)} is not a dimension or element", context)
            safe = matches.pop()
        return safe + ("!" if bang else "")

    def reference(self, name: Any, context: str) -> str:
        if not isinstance(name, str):
            raise self.refuse(f"a reference of type {type(name).__name__}", context)
        if name == "time":
            return name
        if name in self.by_key:
            return self.by_key[name]
        # a dimension or an element used as a value: ELMCOUNT(dim), IF THEN ELSE(dim = b, ...), ALLOCATE's dim
        matches = {v for k, v in self.subscripts.items() if k.lower().replace(" ", "_") == name.lower()}
        if len(matches) == 1:
            return matches.pop()
        raise self.refuse(f"the name {_show(name)} is not a variable of the model", context)

    def function(self, ref: Any, context: str) -> Any:
        from pysd.builders.python.python_functions import functionspace
        from pysd.translators.structures.abstract_expressions import ReferenceStructure

        if type(ref) is not ReferenceStructure or not isinstance(ref.reference, str):
            raise self.refuse("a call to something other than a named function", context)
        name = ref.reference
        if name in self.macros and ref.subscripts is None:  # PySD's builder looks macros up first
            return ReferenceStructure(self.macros[name])
        if ref.subscripts is not None:
            if name not in self.by_key:
                raise self.refuse("a call to a subscripted function", context)
            # a subscripted lookup, lookup[dim](x): the table of each element
            return ReferenceStructure(self.by_key[name], self.expression(ref.subscripts, context))
        if name in self.by_key:  # a lookup
            return ReferenceStructure(self.by_key[name])
        if name in functionspace and _WORD.match(name):
            return ReferenceStructure(name)
        raise self.refuse(f"the function {_show(name)} is not one PySD runs", context)

    # structures -------------------------------------------------------------------------
    def expression(self, node: Any, context: str) -> Any:
        """Rebuild one of PySD's expression structures from allow-listed parts (anything else is refused)."""
        import numpy as np

        if node is None or isinstance(node, bool):
            return node
        if isinstance(node, int | float | np.integer | np.floating):
            return node
        if isinstance(node, np.ndarray):
            if node.dtype.kind not in "biuf":
                raise self.refuse(f"an array of {node.dtype}", context)
            return node
        if isinstance(node, list | tuple):
            return type(node)(self.expression(x, context) for x in node)
        name = type(node).__name__
        if not dataclasses.is_dataclass(node) or name not in _STRUCTURES:
            raise self.refuse(f"the construct {name.removesuffix('Structure')}", context)
        changes = {f.name: self.field(name, f.name, getattr(node, f.name), context) for f in dataclasses.fields(node)}
        return dataclasses.replace(node, **changes)

    def field(self, structure: str, field: str, value: Any, context: str) -> Any:
        """One field of an expression structure: names are replaced, words checked, the rest rebuilt."""
        if structure == "ReferenceStructure" and field == "reference":
            return self.reference(value, context)
        if structure == "SubscriptsReferenceStructure" and field == "subscripts":
            return type(value)(self.subscript(s, context) for s in value)
        if structure == "CallStructure" and field == "function":
            return self.function(value, context)
        if field == "operators" and structure in ("ArithmeticStructure", "LogicStructure"):
            if not all(isinstance(op, str) and op in _OPERATORS for op in value):
                raise self.refuse(f"an operator among {_show(str(value))}", context)
            return list(value)
        if structure in _GET:
            construct = _GET[structure]
            if field == "file":
                return self.data_file(value, context, construct)
            return self.cell(value, context, construct)
        if structure == "LookupsStructure" and field == "type":
            if value not in _LOOKUP_TYPES:
                raise self.refuse(f"a lookup of kind {_show(str(value))}", context)
            return value
        if isinstance(value, str):
            raise self.refuse(f"text in {structure}.{field}", context)
        return self.expression(value, context)

    def component(self, comp: Any, context: str) -> Any:
        kind = type(comp).__name__
        if kind not in _COMPONENTS:
            raise self.refuse(f"a component of kind {kind.removeprefix('Abstract')}", context)
        for text in (comp.type, comp.subtype):
            if not isinstance(text, str) or not _WORD.match(text):
                raise self.refuse(f"a component typed {_show(str(text))}", context)
        if kind == "AbstractData":
            if type(comp.ast).__name__ == "DataStructure":
                raise self.refuse(
                    "a DATA variable with no equation, which PySD reads from a data file given at run time",
                    context,
                    hint="read the data with GET XLS DATA / GET DIRECT DATA, or use --engine vector",
                )
            if comp.keyword not in _DATA_KEYWORDS:
                raise self.refuse(f"a data keyword {_show(str(comp.keyword))}", context)
        subs, excepts = comp.subscripts
        changes: dict[str, Any] = {
            "subscripts": (
                [self.subscript(s, context) for s in subs],
                [[self.subscript(s, context) for s in group] for group in excepts],
            ),
            "ast": self.expression(comp.ast, context),
        }
        if kind == "AbstractLookup":
            changes["arguments"] = "x"
        return dataclasses.replace(comp, **changes)

    def run(self, abstract: Any, folder: Path) -> SafeModel:
        """The abstract model rebuilt from allow-listed parts, with generated names, in ``folder``.

        Each Vensim macro becomes a section of its own, ``macro_<i>`` in
        ``folder/macro_<i>.py`` (PySD writes one module per macro), its
        inputs ``arg_<j>`` and its variables ``var_<k>``; the variable that
        gives the macro's value takes the macro's generated name.
        """
        from pysd.translators.structures import abstract_model as am

        section, macros = self.sections(abstract, am)
        self.macros = {m.name: f"macro_{i}" for i, m in enumerate(macros)}
        ranges = self.dimensions(section, am)
        elements = self.elements(section, am)
        clean = am.AbstractSection(
            name="__main__",
            path=folder / "model.py",
            type="main",
            params=[],
            returns=[],
            subscripts=tuple(ranges),
            elements=tuple(elements),
            constraints=(),
            test_inputs=(),
            split=False,
            views_dict=None,
        )
        variables, by_key = dict(self.variables), dict(self.by_key)
        built = [clean] + [self.macro(m, am, folder) for m in macros]
        model = am.AbstractModel(original_path=folder / "model.xmile", sections=tuple(built))
        return SafeModel(model, variables, dict(self.subscripts), by_key)

    def sections(self, abstract: Any, am: Any) -> tuple[Any, list[Any]]:
        """The model's main section and its macros; reality checks are dropped."""
        if type(abstract) is not am.AbstractModel:
            raise self.refuse(f"an abstract model of type {type(abstract).__name__}")
        main = [s for s in abstract.sections if type(s) is am.AbstractSection and s.type == "main"]
        macros = [s for s in abstract.sections if type(s) is am.AbstractSection and s.type == "macro"]
        if len(main) != 1 or len(main) + len(macros) != len(abstract.sections):
            raise self.refuse("a section that is neither the main model nor a macro")
        section = main[0]
        if section.params or section.returns:
            raise self.refuse("a main model with parameters")
        # Vensim's reality checks (:THE CONDITION:, :TEST INPUT:) are dropped: PySD's builder never
        # writes them, so a run is the same with or without them, and their text never reaches it
        for macro in macros:
            name = _show(str(macro.name))
            if not isinstance(macro.name, str) or not _WORD.match(macro.name):
                raise self.refuse(f"the macro {name}: its name is not a plain word")
            if macro.returns:
                raise self.refuse(f"the macro {name}: a macro with more than one output")
            if macro.subscripts:
                raise self.refuse(f"the macro {name}: a macro with subscript ranges of its own")
            if not all(isinstance(a, str) for a in macro.params) or len(set(map(_clean, macro.params))) != len(
                macro.params
            ):
                raise self.refuse(f"the macro {name}: its inputs are not plain names")
        return section, macros

    def macro(self, section: Any, am: Any, folder: Path) -> Any:
        """One macro under generated names, in ``folder/macro_<i>.py``."""
        safe = self.macros[section.name]
        self.variables, self.by_key = {}, {}
        params = []
        for j, arg in enumerate(section.params):
            params.append(f"arg_{j}")
            self.by_key[_clean(arg)] = f"arg_{j}"
        elements = self.elements(section, am, output=(_clean(section.name), safe))
        if safe not in self.variables.values():
            raise self.refuse(f"the macro {_show(section.name)} defines no variable of its own name")
        return am.AbstractSection(
            name=safe,
            path=folder / f"{safe}.py",
            type="macro",
            params=params,
            returns=[],
            subscripts=(),
            elements=tuple(elements),
            constraints=(),
            test_inputs=(),
            split=False,
            views_dict=None,
        )

    def dimensions(self, section: Any, am: Any) -> list[Any]:
        """Each dimension and element under a generated name (``dim_i``, ``elem_j``), its mapping checked."""
        ranges = []
        subscripts = _copied_dimensions([self.read_dimension(sub, am) for sub in section.subscripts])
        for i, sub in enumerate(subscripts):
            if type(sub) is not am.AbstractSubscriptRange or not isinstance(sub.subscripts, list):
                raise self.refuse(f"dimension {_show(str(sub.name))} is not a plain list of elements")
            self.subscripts[sub.name] = f"dim_{i}"
        count = 0
        for sub in subscripts:
            for e in sub.subscripts:
                if not isinstance(e, str):
                    raise self.refuse(f"an element of type {type(e).__name__}", str(sub.name))
                if e not in self.subscripts:
                    self.subscripts[e] = f"elem_{count}"
                    count += 1
        for sub in subscripts:
            mapping = [self.subscript(m, sub.name) for m in (sub.mapping or [])]
            ranges.append(
                am.AbstractSubscriptRange(
                    self.subscripts[sub.name], [self.subscripts[e] for e in sub.subscripts], mapping
                )
            )
        return ranges

    def read_dimension(self, sub: Any, am: Any) -> Any:
        """A dimension read from a file (GET XLS / GET DIRECT SUBSCRIPT) as the plain list of its elements."""
        found = sub.subscripts if type(sub) is am.AbstractSubscriptRange else None
        if not isinstance(found, dict):
            return sub
        from pysd.py_backend.external import ExtSubscript

        construct, name = "GET DIRECT SUBSCRIPT", str(sub.name)
        if set(found) != {"file", "tab", "firstcell", "lastcell", "prefix"} or not isinstance(found["prefix"], str):
            raise self.refuse(f"dimension {_show(name)} is read from a file in a form PySD does not", name)
        copy = self.data_file(found["file"], name, construct)
        tab = self.cell(found["tab"], name, construct)
        first = self.cell(found["firstcell"], name, construct)
        last = self.cell(found["lastcell"], name, construct, empty=True)
        assert self.data is not None  # data_file refused otherwise
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                elements = ExtSubscript(copy, tab, first, last, found["prefix"][:60], self.data.private).subscript
            except Exception as exc:
                raise self.refuse(
                    f"{construct} of dimension {_show(name)} cannot be read: {type(exc).__name__}: {_show(str(exc))}",
                    name,
                    hint="check the file, the sheet and the cells the model names",
                ) from None
        if not elements:
            raise self.refuse(f"{construct} of dimension {_show(name)} reads no elements", name)
        return dataclasses.replace(sub, subscripts=[str(e) for e in elements])

    def elements(self, section: Any, am: Any, output: tuple[str, str] | None = None) -> list[Any]:
        """Each variable under a generated name (``var_i``), its components rebuilt; docs and units dropped.

        ``output`` is (key, generated name) of a macro's own variable.
        """
        for i, el in enumerate(section.elements):
            if type(el) not in (am.AbstractElement, am.AbstractControlElement) or not isinstance(el.name, str):
                raise self.refuse(f"an element of type {type(el).__name__}")
            key = _clean(el.name)
            if output is not None and key in self.by_key:
                raise self.refuse(f"a macro variable named as one of its inputs, {_show(el.name)}")
            safe = output[1] if output is not None and key == output[0] else _CONTROL.get(key) or f"var_{i}"
            self.variables.setdefault(el.name, safe)
            self.by_key.setdefault(key, _clean(safe))
        elements = []
        for el in section.elements:
            components = [self.component(c, el.name) for c in el.components]
            safe = self.variables[el.name]
            elements.append(type(el)(name=safe, components=components, units="", limits=(None, None), documentation=""))
        return elements


def _copied_dimensions(ranges: Sequence[Any]) -> list[Any]:
    """Vensim's ``DimB <-> DimA`` (a copy of a dimension) with the elements of the one it copies."""
    lists = {r.name: r.subscripts for r in ranges if isinstance(getattr(r, "subscripts", None), list)}
    out = []
    for r in ranges:
        copied = getattr(r, "subscripts", None)
        if isinstance(copied, str) and copied in lists:
            r = dataclasses.replace(r, subscripts=list(lists[copied]))
        out.append(r)
    return out


def _show(text: str, limit: int = 40) -> str:
    """Text from a model shown in a message: quoted, escaped, cut short."""
    shown = repr(text[:limit])
    return shown[:-1] + "...'" if len(text) > limit else shown


def sanitise(
    abstract: Any,
    folder: str | Path,
    *,
    where: str | None = None,
    data_folder: str | Path | None = None,
    line_of: Callable[[str], int | None] | None = None,
) -> SafeModel:
    """PySD's abstract model re-made from allow-listed parts, to be built in ``folder``.

    Every name becomes a generated identifier, free text (documentation, units)
    is dropped, and the module PySD builds from it is ``folder/model.py``.
    Anything that is not a known structure, operator or built-in function is
    refused with :class:`UnsafeModelError` (``where`` names the file in it,
    ``line_of`` gives the line a variable is defined on). A data file a GET
    XLS / GET DIRECT call names must lie in ``data_folder`` (the model's own
    folder; without it such calls are refused); it is copied into ``folder``
    under a generated name (:mod:`stocks_flows.pysd_data`).
    """
    data = DataFiles(Path(data_folder), Path(folder)) if data_folder is not None else None
    return _Sanitiser(where, data, line_of).run(abstract, Path(folder))


# --- layer 2: the generated module, checked against what PySD's builder writes -------------

# what PySD 3.14's builder imports (ImportsManager and the functionspace), less file readers
_IMPORTS: dict[str, set[str]] = {
    "pathlib": {"Path"},
    "scipy": {"stats"},
    "pysd": {"Component"},
    "pysd.py_backend.functions": {
        "active_initial",
        "get_time_value",
        "if_then_else",
        "incomplete",
        "integer",
        "invert_matrix",
        "modulo",
        "not_implemented_function",
        "prod",
        "pulse",
        "quantum",
        "ramp",
        "step",
        "sum",
        "vector_rank",
        "vector_reorder",
        "vector_select",
        "vector_sort_order",
        "vmax",
        "vmin",
        "xidz",
        "zidz",
    },
    "pysd.py_backend.statefuls": {
        "Delay",
        "DelayFixed",
        "DelayN",
        "Forecast",
        "Initial",
        "Integ",
        "NonNegativeInteg",
        "SampleIfTrue",
        "Smooth",
        "Trend",
    },
    "pysd.py_backend.lookups": {"HardcodedLookups"},
    "pysd.py_backend.allocation": {"allocate_available", "allocate_by_priority"},
    "pysd.py_backend.model": {"Macro"},
    "pysd.py_backend.external": {"ExtConstant", "ExtData", "ExtLookup"},
}
_MODULES = {"numpy": "np", "xarray": "xr"}
# attributes of the imported modules that PySD's templates use
_MODULE_ATTRIBUTES = {
    "np": {
        "abs", "all", "arange", "arccos", "arcsin", "arctan", "array", "cos", "cosh", "empty", "exp",
        "full", "inf", "interp", "isnan", "log", "logical_and", "logical_not", "logical_or", "max",
        "maximum", "min", "minimum", "moveaxis", "nan", "pi", "power", "prod", "random", "sin", "sinh",
        "sqrt", "sum", "tan", "tanh", "tile", "random.uniform",
    },
    "xr": {"DataArray", "ones_like", "zeros_like"},
    "stats": {"truncnorm", "truncexpon", "truncnorm.rvs", "truncexpon.rvs"},
    "component": {"add"},
}  # fmt: skip
# attributes of values (arrays, the time object, a path) that PySD's templates use
_ATTRIBUTES = {
    "loc", "parent", "initial_time", "final_time", "time_step", "saveper", "stage", "rename", "values",
    "sum", "prod", "max", "min", "dtype", "rvs", "transpose", "squeeze", "reset_coords", "expand_dims",
    "shape", "dims", "coords", "sel", "isel", "copy", "T",
}  # fmt: skip
_BUILTINS = {"float", "int", "len", "abs", "min", "max", "range", "round", "bool", "__file__"}
_FORBIDDEN_NAMES = {
    "eval", "exec", "open", "compile", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint", "input", "type", "object", "super", "help", "exit", "quit", "os", "sys",
    "subprocess", "builtins", "__builtins__", "importlib",
}  # fmt: skip
# the dunder names PySD's modules use: the data dict, the file's own path, the version
_DUNDERS = {"__data", "__file__", "__pysd_version__"}
_NODES = {
    ast.Module, ast.Expr, ast.Constant, ast.Import, ast.ImportFrom, ast.alias, ast.Assign,
    ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.For, ast.Name, ast.Load, ast.Store,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Call, ast.keyword, ast.Dict, ast.List, ast.Tuple,
    ast.Lambda, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.Add, ast.Sub,
    ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.UAdd, ast.Not, ast.Eq, ast.NotEq,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.And, ast.Or,
}  # fmt: skip
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_ .,:\[\]!]{0,200}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# the data files the sanitiser copied next to the module, and the macro modules it named: bare file names
_DATA_FILE = re.compile(r"^data_[0-9]{1,6}(" + "|".join(re.escape(x) for x in DATA_SUFFIXES) + r")$")
_MACRO_FILE = re.compile(r"^macro_[0-9]{1,6}\.py$")
# a sheet (or a text file's separator), a cell or a named range of a GET XLS / GET DIRECT call ('*': read down)
_CELL_TEXT = re.compile(r"^[A-Za-z0-9_ .*$,;\t-]{1,64}$")
# PySD's file readers: the position of the file and of the folder it is read from, and how many text arguments
_READERS = {"ExtConstant": (3, 4), "ExtData": (4, 6), "ExtLookup": (4, 5)}
# objects PySD extends with ``name.add(...)`` (a second definition of a subscripted lookup or external)
_EXTENSIBLE = {"HardcodedLookups", *_READERS}
# the assignments to part of an array that PySD writes in a function: ``value.loc[...]``, and the masks
# of an EXCEPT (``except_subs``) and of a variable defined partly from a file (``def_subs``)
_MASKS = ("except_subs", "def_subs")
_PART_ASSIGNMENTS = {("value", "loc"), ("value", "values"), *((mask, "loc") for mask in _MASKS)}


def _refuse_node(node: ast.AST | None, what: str, file: str) -> UnsafeModelError:
    line = getattr(node, "lineno", None)
    return UnsafeModelError(
        f"the Python module PySD generated {what} (line {line} of that module); it was not run"
        if line
        else f"the Python module PySD generated {what}; it was not run",
        file=file,
        hint=_HINT,
    )


_MODULE_PATH = ast.dump(ast.parse("Path(__file__)", mode="eval").body)
_PYTHON_BUILTINS = frozenset(vars(builtins))
_ROOT = ast.dump(ast.parse("Path(__file__).parent", mode="eval").body)
_PARAMS = ast.dump(ast.Name("_params", ast.Store()))
_OUTER_REFERENCE = ast.dump(ast.parse("__data[key] = data[key]").body[0])


def _called(node: ast.expr) -> str | None:
    """The plain name a call calls (``ExtData(...)`` -> "ExtData"), else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _dotted(node: ast.expr) -> tuple[str, str] | None:
    """``np.random.uniform`` -> ("np", "random.uniform"); None when the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return node.id, ".".join(reversed(parts))


class _Checker(ast.NodeVisitor):
    def __init__(self, file: str, tree: ast.Module) -> None:
        self.file = file
        self.docstrings: set[int] = set()
        self.function_depth = 0
        self.locals: set[str] = set()
        self.extensible: dict[str, str] = {}
        self.files: set[str] = set()
        self.texts: set[int] = set()  # sheet and cell names of file readers, checked as such
        self.bound = set(_BUILTINS)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.bound.add(node.id)
            elif isinstance(node, ast.FunctionDef):
                self.bound.add(node.name)
            elif isinstance(node, ast.arg):
                self.bound.add(node.arg)
            elif isinstance(node, ast.alias):
                self.bound.add((node.asname or node.name).split(".")[0])
        # how often each name is bound anywhere: an object extended by ``name.add`` is bound once
        self.bindings = collections.Counter(
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        )
        # a macro's inputs: ``_params = {"arg_0": "arg_0"}``, set by the model that loads the macro
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and [ast.dump(t) for t in stmt.targets] == [_PARAMS]:
                values = stmt.value.values if isinstance(stmt.value, ast.Dict) else []
                self.bound.update(
                    v.value
                    for v in values
                    if isinstance(v, ast.Constant)
                    and isinstance(v.value, str)
                    and _IDENTIFIER.match(v.value)
                    and v.value not in _PYTHON_BUILTINS
                )

    def fail(self, node: ast.AST, what: str) -> UnsafeModelError:
        return _refuse_node(node, what, self.file)

    def generic_visit(self, node: ast.AST) -> None:
        if type(node) not in _NODES:
            raise self.fail(node, f"has a {type(node).__name__} node, which PySD never writes")
        super().generic_visit(node)

    def _docstring(self, body: list[ast.stmt]) -> None:
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            self.docstrings.add(id(first.value))

    def visit_Module(self, node: ast.Module) -> None:
        self._docstring(node.body)
        for stmt in node.body:
            if not isinstance(stmt, ast.Expr | ast.Import | ast.ImportFrom | ast.Assign | ast.FunctionDef):
                raise self.fail(stmt, f"has a {type(stmt).__name__} statement at module level")
            made = _called(stmt.value) if isinstance(stmt, ast.Assign) else None
            if made in _EXTENSIBLE:
                self.extensible.update(
                    (t.id, made) for t in stmt.targets if isinstance(t, ast.Name) and self.bindings[t.id] == 1
                )
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if self.function_depth:
            raise self.fail(node, "defines a function inside a function")
        self._identifier(node, node.name)
        if node.returns is not None or node.type_comment:
            raise self.fail(node, "has a function annotation")
        for dec in node.decorator_list:
            if not (isinstance(dec, ast.Call) and _dotted(dec.func) == ("component", "add")):
                raise self.fail(dec, "has a decorator other than @component.add")
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.fail(node, "has a function with *args, **kwargs or special arguments")
        for a in args.args:
            if a.annotation is not None:
                raise self.fail(a, "has an argument annotation")
        self._docstring(node.body)
        for stmt in node.body:
            if not isinstance(stmt, ast.Expr | ast.Assign | ast.Return | ast.For):
                raise self.fail(stmt, f"has a {type(stmt).__name__} statement in a function")
        self.locals = {
            t.id
            for stmt in ast.walk(node)
            if isinstance(stmt, ast.Assign)
            for t in stmt.targets
            if isinstance(t, ast.Name)
        }
        self.function_depth += 1
        self.generic_visit(node)
        self.function_depth -= 1
        self.locals = set()

    def visit_arg(self, node: ast.arg) -> None:
        if node.arg in ("_root", "__file__", "__data"):
            raise self.fail(node, f"takes {node.arg} as an argument")
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
            raise self.fail(node, "has a lambda with special arguments")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if not self.function_depth or node.orelse or not isinstance(node.target, ast.Name):
            raise self.fail(node, "has a loop of a form PySD never writes")
        if not isinstance(node.iter, ast.Name):
            raise self.fail(node, "loops over something other than a plain name")
        for stmt in node.body:
            if not isinstance(stmt, ast.Assign):
                raise self.fail(stmt, f"has a {type(stmt).__name__} statement in a loop")
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if id(node.value) in self.docstrings:
            return self.generic_visit(node)
        call = node.value
        # ``_hardcodedlookup_x.add(...)``: a further definition of an object made above at module level
        if (
            not self.function_depth
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "add"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in self.extensible
        ):
            if call.keywords:
                raise self.fail(node, "passes keywords to an object's add method")
            made = self.extensible[call.func.value.id]
            if made in _READERS:
                self._reader(call, made)
            for arg in call.args:
                self.visit(arg)
            return None
        raise self.fail(node, "has an expression statement that is not a docstring")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                if target.id in ("_root", "__file__") and not (
                    target.id == "_root" and not self.function_depth and ast.dump(node.value) == _ROOT
                ):
                    raise self.fail(node, f"assigns {target.id} other than as Path(__file__).parent")
                continue
            if self.function_depth and ast.dump(node) == _OUTER_REFERENCE:
                continue  # _init_outer_references: the macro's or model's data, key by key
            if self.function_depth and isinstance(target, ast.Subscript):
                base = target.value
                if (
                    isinstance(base, ast.Attribute)
                    and isinstance(base.value, ast.Name)
                    and (base.value.id, base.attr) in _PART_ASSIGNMENTS
                    and base.value.id in self.locals
                    and (base.attr == "loc" or self._mask(target.slice))
                ):
                    continue
            raise self.fail(node, f"assigns to {type(target).__name__}, not a plain name")
        self.generic_visit(node)

    def _mask(self, node: ast.expr) -> bool:
        """``except_subs.values`` or ``def_subs.values``, the mask a local of the function holds."""
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "values"
            and isinstance(node.value, ast.Name)
            and node.value.id in _MASKS
            and node.value.id in self.locals
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in _MODULES or alias.asname != _MODULES[alias.name]:
                raise self.fail(node, f"imports {alias.name!r}, which PySD never does")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        allowed = _IMPORTS.get(node.module or "") if not node.level else None
        if allowed is None:
            raise self.fail(node, f"imports from {node.module!r}, which PySD never does")
        for alias in node.names:
            if alias.name not in allowed or alias.asname is not None:
                raise self.fail(node, f"imports {alias.name!r} from {node.module!r}, which PySD never does")

    def visit_Name(self, node: ast.Name) -> None:
        self._identifier(node, node.id)
        if isinstance(node.ctx, ast.Load) and node.id not in self.bound:
            raise self.fail(node, f"uses the name {node.id!r}, which it never defines")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _dotted(node)
        if chain is not None and chain[0] in _MODULE_ATTRIBUTES:
            if chain[1] not in _MODULE_ATTRIBUTES[chain[0]]:
                raise self.fail(node, f"uses {chain[0]}.{chain[1]}, which PySD never does")
            return  # the whole chain is checked
        if node.attr not in _ATTRIBUTES:
            raise self.fail(node, f"reads the attribute {node.attr!r}, which PySD never does")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if any(kw.arg is None for kw in node.keywords):
            raise self.fail(node, "passes **keywords to a call")
        name = _called(node)
        if name in _READERS:
            root_at = _READERS[name][1]
            self._reader(node, name)
            if len(node.args) <= root_at or not (
                isinstance(node.args[root_at], ast.Name) and node.args[root_at].id == "_root"
            ):
                raise self.fail(node, f"gives {name} a folder other than the module's own")
        if name == "Macro":
            self._macro_file(node)
        if name == "Path" and ast.dump(node) != _MODULE_PATH:
            raise self.fail(node, "makes a Path other than the module's own, Path(__file__)")
        if _dotted(node.func) == ("_root", "joinpath"):
            if not (
                len(node.args) == 1
                and not node.keywords
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and _MACRO_FILE.match(node.args[0].value)
            ):
                raise self.fail(node, "joins a path other than a macro module's to its folder")
            return None  # the one argument is checked
        self.generic_visit(node)

    def _reader(self, node: ast.Call, name: str) -> None:
        """A file reader's arguments: a data file copied beside the module, by its bare name; a sheet; cells."""
        arg = node.args[0] if node.args else None
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _DATA_FILE.match(arg.value)):
            text = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            shown = _show(arg.value) if text else "an expression"  # type: ignore[union-attr]
            raise self.fail(node, f"reads the file {shown}, not a data file copied beside it")
        self.files.add(arg.value)
        texts = node.args[1 : _READERS[name][0]]
        if len(texts) != _READERS[name][0] - 1:
            raise self.fail(node, f"calls {name} with too few arguments")
        for text in texts:
            if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
                raise self.fail(node, f"gives {name} a sheet or cell that is not plain text")
            if not _CELL_TEXT.match(text.value):
                raise self.fail(node, f"gives {name} the sheet or cell {_show(text.value)}")
            self.texts.add(id(text))

    def _macro_file(self, node: ast.Call) -> None:
        first = node.args[0] if node.args else None
        if not (isinstance(first, ast.Call) and _dotted(first.func) == ("_root", "joinpath")):
            raise self.fail(node, "loads a macro from somewhere other than a module beside it")
        self.files.add(first.args[0].value if first.args and isinstance(first.args[0], ast.Constant) else "")

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str):
            if id(node) not in self.docstrings and id(node) not in self.texts and not _SAFE_TEXT.match(value):
                raise self.fail(node, f"has the string {_show(value)}, which a clean model never gives")
        elif value is not None and type(value) not in (bool, int, float):
            raise self.fail(node, f"has a constant of type {type(value).__name__}")

    def _identifier(self, node: ast.AST, name: str) -> None:
        if name in _FORBIDDEN_NAMES:
            raise self.fail(node, f"uses {name!r}")
        if name.startswith("__") and name not in _DUNDERS:
            raise self.fail(node, f"uses the dunder name {name!r}")
        if not name.isascii() or not _IDENTIFIER.match(name):
            raise self.fail(node, f"uses the name {_show(name)}")


def check_module(source: str, *, file: str = "<generated model>", folder: str | Path | None = None) -> None:
    """Refuse a generated PySD module unless it holds only what PySD's builder writes.

    Data files (GET XLS / GET DIRECT) and macro modules may be named only by a
    bare generated name (``data_0.xlsx``, ``macro_0.py``) read from the
    module's own folder; with ``folder`` given, each must be a regular file
    there (not a link). Raises :class:`UnsafeModelError` naming the node and
    line found; returns ``None`` when the module may be imported.
    """
    if "\x00" in source:
        raise _refuse_node(None, "has a NUL character", file)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # long sums in real models nest deeply
    try:
        tree = ast.parse(source, filename=file)
        checker = _Checker(file, tree)
        checker.visit(tree)
        if folder is not None:
            for name in sorted(checker.files):
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file():
                    raise _refuse_node(None, f"reads {_show(name)}, which is not a file beside it", file)
    except SyntaxError as exc:
        raise UnsafeModelError(
            f"the generated model is not valid Python: {exc.msg}", file=file, line=exc.lineno, hint=_HINT
        ) from None
    except (RecursionError, MemoryError):
        raise _refuse_node(None, "is nested too deeply to check", file) from None
    finally:
        sys.setrecursionlimit(limit)


def check_folder(folder: str | Path, *, file: str = "<generated model>") -> dict[str, bytes]:
    """Check every module PySD wrote in ``folder`` (the model's and one per macro) with :func:`check_module`.

    Returns each module's name and the bytes that were checked: compare with
    :func:`unchanged` just before loading, so nothing but what was checked is
    ever imported.
    """
    checked = {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix != ".py":
            continue
        if path.is_symlink() or not path.is_file():
            raise _refuse_node(None, f"left {_show(path.name)}, which is not a plain file", file)
        source = path.read_bytes()
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse_node(None, f"wrote {_show(path.name)}, which is not UTF-8", file) from None
        check_module(text, file=file, folder=folder)
        checked[path.name] = source
    return checked


def unchanged(folder: str | Path, checked: Mapping[str, bytes]) -> bool:
    """True when ``folder`` holds exactly the modules :func:`check_folder` checked, byte for byte."""
    found = {p.name: p for p in Path(folder).iterdir() if p.suffix == ".py"}
    if set(found) != set(checked):
        return False
    return all(not p.is_symlink() and p.read_bytes() == checked[name] for name, p in found.items())


# --- the private folder --------------------------------------------------------------------

_FOLDER = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except OSError:
        return False
    return True


def clean_stale_folders(root: str | Path | None = None) -> list[Path]:
    """Remove ``tenor-pysd-<pid>-*`` folders of processes that no longer run; return them."""
    base = Path(root if root is not None else tempfile.gettempdir())
    removed = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _FOLDER.match(entry.name)
        if m is None or int(m.group(1)) == os.getpid():
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not entry.is_dir() or entry.is_symlink() or info.st_uid != os.getuid():
            continue
        if not _alive(int(m.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A 0700 temporary folder for PySD's files, removed afterwards, on SIGTERM and on SIGINT.

    While the folder exists a handler for SIGTERM and SIGINT removes it and
    then does what the previous handler would; the previous handlers are put
    back when the folder is removed. Folders of dead processes are removed
    first.
    """
    clean_stale_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
    os.chmod(folder, 0o700)
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        before = previous.get(signum, signal.SIG_DFL)
        if callable(before):
            before(signum, frame)
        elif before == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            before = signal.getsignal(signum)
            if before is signal.SIG_IGN or before is None:
                continue
            previous[signum] = before
            signal.signal(signum, handler)
    try:
        yield folder
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)
        shutil.rmtree(folder, ignore_errors=True)
