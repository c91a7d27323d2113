"""The allow-list that every module PySD generates must pass before it is imported.

A hand-made module in PySD's shape is accepted; the same module with any one
forbidden construct added is refused with the line named. Every module built
from the conformance corpus, the bundled example and the test models is
accepted (so the list is not too tight), and modules PySD builds straight from
poisoned files, with no sanitising, are refused (so the list alone stops the
reported attacks).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from stocks_flows.pysd_safety import UnsafeModelError, check_module, sanitise
from tenor.core.errors import SimulationError
from tests.security import payloads as p

pytest.importorskip("pysd", reason="PySD (stocks_flows extra) is missing, so no model can reach it")

ROOT = Path(__file__).resolve().parents[2]

BASE = '''"""
Python model 'model.py'
Translated using PySD
"""

from pathlib import Path
import numpy as np
import xarray as xr

from pysd.py_backend.functions import if_then_else
from pysd.py_backend.statefuls import Integ
from pysd import Component

__pysd_version__ = "3.14.3"

__data = {"scope": None, "time": lambda: 0}

_root = Path(__file__).parent

_subscript_dict = {"dim_0": ["elem_0", "elem_1"]}

component = Component()

_control_vars = {
    "initial_time": lambda: 0,
    "final_time": lambda: 10,
    "time_step": lambda: 1,
    "saveper": lambda: time_step(),
}


def _init_outer_references(data):
    for key in data:
        __data[key] = data[key]


@component.add(name="Time")
def time():
    """
    Current time of the model.
    """
    return __data["time"]()


@component.add(name="TIME STEP", comp_type="Constant", comp_subtype="Normal")
def time_step():
    return __data["time"].time_step()


@component.add(name="var_0", subscripts=["dim_0"], comp_type="Auxiliary", depends_on={"var_1": 1})
def var_0():
    value = xr.DataArray(np.nan, {"dim_0": _subscript_dict["dim_0"]}, ["dim_0"])
    value.loc[["elem_0"]] = if_then_else(var_1() > 1, lambda: 1, lambda: -np.inf)
    value.loc[["elem_1"]] = float(var_1().loc["elem_0"]) ** 2
    return value


@component.add(name="var_1", comp_type="Stateful", comp_subtype="Integ", depends_on={"_integ_var_1": 1})
def var_1():
    return _integ_var_1()


_integ_var_1 = Integ(lambda: -var_0(), lambda: 100, "_integ_var_1")
'''

FORBIDDEN = {
    "import os": "import os",
    "import subprocess": "import subprocess as np",
    "import from os": "from os import system",
    "import numpy unaliased": "import numpy",
    "relative import": "from . import model",
    "star import": "from pysd.py_backend.functions import *",
    "PySD module loader": "from pysd.py_backend.utils import load_modules",
    "PySD subscript reader": "from pysd.py_backend.external import ExtSubscript",
    "PySD tab-data reader": "from pysd.py_backend.data import TabData",
    # file readers: only a bare data file copied beside the module, read from the module's own folder
    "reader of a parent path": 'x = ExtConstant("../../etc/passwd", "tab", "A1", {}, _root, {}, "x")',
    "reader of an absolute path": 'x = ExtConstant("/etc/passwd", "tab", "A1", {}, _root, {}, "x")',
    "reader of a URL": 'x = ExtData("https://example.org/a.csv", "tab", "1", "A1", None, {}, _root, {}, "x")',
    "reader of a model's own file name": 'x = ExtLookup("inputs.xlsx", "tab", "1", "A1", {}, _root, {}, "x")',
    "reader of an expression": 'x = ExtConstant(str(_root), "tab", "A1", {}, _root, {}, "x")',
    "reader from another folder": 'x = ExtConstant("data_0.xlsx", "tab", "A1", {}, Path("/etc"), {}, "x")',
    "reader with code in its sheet": 'x = ExtConstant("data_0.xlsx", "a\\"); open(\\"m", "A1", {}, _root, {}, "x")',
    "reader with a sheet by expression": 'x = ExtConstant("data_0.xlsx", str(1), "A1", {}, _root, {}, "x")',
    "reader with too few arguments": 'x = ExtData("data_0.xlsx")',
    "add reading a parent path": (
        'x = ExtConstant("data_0.xlsx", "t", "A1", {}, _root, {}, "x"); x.add("../a.xlsx", "t", "A1", {})'
    ),
    "add on a module": "np.add(1, 2)",
    "add on a component": "var_1.add(1)",
    "add with keywords": "_l = HardcodedLookups([1], [2], {}, 'interpolate', {}, '_l'); _l.add([1], [2], {}, x=1)",
    "add on a rebound lookup": (
        "_l = HardcodedLookups([1], [2], {}, 'interpolate', {}, '_l'); _l = np; _l.add([1], [2], {})"
    ),
    "add on a lookup rebound in a function": (
        "_l = HardcodedLookups([1], [2], {}, 'interpolate', {}, '_l'); _l.add([1], [2], {})\ndef f(): _l = np; return 1"
    ),
    "root as a lambda argument": (
        'x = (lambda _root: ExtConstant("data_0.csv", ",", "A1", {}, _root, {}, "x"))(_root.parent)'
    ),
    "a Path elsewhere": 'x = Path("/etc")',
    "a macro input named as a builtin": "_params = {'a': 'print'}\nx = print(1)",
    "add inside a function": (
        "_l = HardcodedLookups([1], [2], {}, 'interpolate', {}, '_l')\ndef f(): _l.add([1], [2], {}); return 1"
    ),
    # macros: only a module beside this one, by a generated name
    "macro from an absolute path": 'x = Macro(Path("/tmp/evil.py"), {}, "m")',
    "macro from a parent path": 'x = Macro(_root.joinpath("../evil.py"), {}, "m")',
    "macro by a name with a folder": 'x = Macro(_root.joinpath("sub/macro_0.py"), {}, "m")',
    "joinpath to a data path": 'x = _root.joinpath("data_0.xlsx")',
    "joinpath by an expression": "x = _root.joinpath(str(1))",
    "root rebound": '_root = Path("/etc")',
    "file rebound": '__file__ = "/etc/passwd"',
    # assignments to part of an array: only the ones PySD writes, to a local of the function
    "part of a global dict": 'def f(): _subscript_dict["dim_0"] = 1; return 1',
    "part of the data dict": 'def f(): __data["time"] = 1; return 1',
    "loc of a global": 'def f(): var_1.loc["elem_0"] = 1; return 1',
    "loc of a local not named by PySD": 'def f(): other = var_1(); other.loc["elem_0"] = 1; return other',
    "values of a local, not by the mask": "def f(): value = var_1(); value.values[0] = 2; return value",
    "values of the mask": "def f(): except_subs = var_1(); except_subs.values[except_subs.values] = 2; return 1",
    "values by a global mask": "def f(): value = var_1(); value.values[def_subs.values] = 2; return value",
    "loc of a name never assigned": 'def f(): value.loc["elem_0"] = 1; return 1',
    "importlib": "import importlib as np",
    "eval": "x = eval('1')",
    "exec": "x = exec('y = 1')",
    "open": "x = open('marker.txt', 'w')",
    "__import__": "x = __import__('os')",
    "getattr": "x = getattr(np, 'load')",
    "compile": "x = compile('1', 'f', 'eval')",
    "globals": "x = globals()",
    "vars": "x = vars()",
    "undefined builtin": "x = print",
    "breakpoint": "x = breakpoint",
    "expression statement": "var_1()",
    "call statement in a function": "def f():\n    var_1()\n    return 1",
    "f-string": "x = f'{var_1()}'",
    "list comprehension": "x = [c for c in _subscript_dict]",
    "generator": "x = sum(c for c in _subscript_dict)",
    "dunder attribute": "x = var_1.__globals__",
    "class escape": "x = ().__class__.__bases__",
    "private attribute": "x = component._components",
    "numpy loader": "x = np.load('f.npy', allow_pickle=True)",
    "numpy ctypes": "x = np.ctypeslib",
    "xarray reader": "x = xr.open_dataset('f.nc')",
    "unknown method": "x = var_1().to_netcdf('f.nc')",
    "string with code": "x = 'a; open(\"m\")'",
    "bytes": "x = b'data'",
    "class": "class A:\n    pass",
    "if": "if True:\n    x = 1",
    "while": "while False:\n    pass",
    "try": "try:\n    x = 1\nexcept Exception:\n    x = 2",
    "with": "with Path('f') as f:\n    x = 1",
    "delete": "del var_0",
    "global": "def f():\n    global x\n    return 1",
    "assert": "assert var_1()",
    "raise": "raise SystemExit",
    "walrus": "x = (y := 1)",
    "star args": "x = lambda *a: a",
    "keyword unpacking": "x = var_1(**{})",
    "lambda default": "x = lambda a=open: a",
    "annotation": "def f(a: int):\n    return a",
    "foreign decorator": "@property\ndef f():\n    return 1",
    "nested function": "def f():\n    def g():\n        return 1\n    return g",
    "async": "async def f():\n    return 1",
    "attribute assignment": "np.x = 1",
    "loop at module level": "for key in _subscript_dict:\n    x = key",
    "non-ASCII name": "\u0435val = 1",
    "dunder name": "__builtins__ = 1",
}


def test_a_module_in_pysd_shape_is_accepted():
    check_module(BASE)


@pytest.mark.parametrize("label", sorted(FORBIDDEN))
def test_each_forbidden_construct_is_refused_with_its_line(label):
    source = BASE + "\n" + FORBIDDEN[label] + "\n"
    line = BASE.count("\n") + 2
    with pytest.raises(UnsafeModelError) as info:
        check_module(source, file="model.py")
    message = str(info.value)
    assert "it was not run" in message
    assert f"line {line}" in message or f"line {line + 1}" in message, message


WIDENED = {
    "EXCEPT": (
        "def var_2():\n"
        "    value = xr.DataArray(np.nan, {'dim_0': _subscript_dict['dim_0']}, ['dim_0'])\n"
        "    except_subs = xr.ones_like(value, dtype=bool)\n"
        "    except_subs.loc[['elem_0']] = False\n"
        "    value.values[except_subs.values] = var_0().values[except_subs.values]\n"
        "    value.loc[['elem_0']] = 2\n"
        "    return value\n"
    ),
    "partly from a file": (
        "def var_2():\n"
        "    value = xr.DataArray(np.nan, {'dim_0': _subscript_dict['dim_0']}, ['dim_0'])\n"
        "    def_subs = xr.zeros_like(value, dtype=bool)\n"
        "    def_subs.loc[['elem_0']] = True\n"
        "    value.values[def_subs.values] = var_0().values[def_subs.values]\n"
        "    value.loc[['elem_1']] = 5\n"
        "    return value\n"
    ),
    "subscripted lookup": (
        "_hardcodedlookup_var_2 = HardcodedLookups([1, 2], [3, 4], {'dim_0': ['elem_0']}, 'interpolate',"
        " {'dim_0': _subscript_dict['dim_0']}, '_hardcodedlookup_var_2')\n"
        "_hardcodedlookup_var_2.add([1, 2], [5, 6], {'dim_0': ['elem_1']})\n"
    ),
    "GET XLS": (
        "_ext_constant_var_2 = ExtConstant(r'data_0.xlsx', 'Sheet 1', 'C8*', {}, _root, {}, '_ext_constant_var_2')\n"
        "_ext_constant_var_2.add('data_1.csv', ',', 'B$2', {})\n"
        "_ext_data_var_3 = ExtData('data_0.xlsx', 'Sheet1', '4', 'C5', 'interpolate', {}, _root, {}, '_x3')\n"
        "_ext_lookup_var_4 = ExtLookup('data_0.xlsx', 'Sheet1', 'time_index', 'revenue', {}, _root, {}, '_x')\n"
    ),
    "macro": (
        "_macro_macro_0_var_2 = Macro(_root.joinpath('macro_0.py'), {'var_3': lambda: var_1()}, 'macro_0',"
        " time_initialization=lambda: __data['time'], py_name='_macro_macro_0_var_2')\n"
    ),
}


@pytest.mark.parametrize("label", sorted(WIDENED))
def test_the_shapes_pysd_writes_for_except_lookups_files_and_macros_are_accepted(label):
    header = (
        "from pysd.py_backend.external import ExtConstant, ExtData, ExtLookup\n"
        "from pysd.py_backend.lookups import HardcodedLookups\n"
        "from pysd.py_backend.model import Macro\n"
    )
    check_module(BASE + header + WIDENED[label])


def test_files_a_module_reads_must_be_regular_files_in_its_folder(tmp_path):
    """With the folder given, a data file or macro module named in the module must be a file there, not a link."""
    source = BASE + (
        "from pysd.py_backend.external import ExtConstant\n"
        "x = ExtConstant('data_0.csv', ',', 'A1', {}, _root, {}, 'x')\n"
    )
    with pytest.raises(UnsafeModelError, match="not a file beside it"):
        check_module(source, folder=tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outside.write_text("1\n", encoding="utf-8")
    (tmp_path / "data_0.csv").symlink_to(outside)
    with pytest.raises(UnsafeModelError, match="not a file beside it"):
        check_module(source, folder=tmp_path)
    (tmp_path / "data_0.csv").unlink()
    (tmp_path / "data_0.csv").write_text("1\n", encoding="utf-8")
    check_module(source, folder=tmp_path)


def test_a_docstring_may_hold_any_text_but_only_as_a_docstring():
    text = p.payload("docstring_sq", None).replace("'''", "")
    check_module(BASE.replace("Current time of the model.", text))
    with pytest.raises(UnsafeModelError, match="not a docstring"):
        check_module(BASE.replace("return _integ_var_1()", "x = 1\n    'text'\n    return _integ_var_1()"))


def test_source_that_is_not_python_or_holds_nul_is_refused():
    with pytest.raises(UnsafeModelError, match="not valid Python"):
        check_module(BASE + "\ndef (:\n")
    with pytest.raises(UnsafeModelError, match="NUL"):
        check_module(BASE + "\nx = 1\x00\n")


def _build(source: Path, folder: Path, *, clean: bool) -> str:
    """The module PySD builds from ``source`` (sanitised or not) in ``folder``; never imported."""
    from pysd.builders.python.python_model_builder import ModelBuilder
    from pysd.translators.vensim.vensim_file import VensimFile
    from pysd.translators.xmile.xmile_file import XmileFile

    reader = VensimFile if source.suffix == ".mdl" else XmileFile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        translator = reader(source)
        translator.parse()
        abstract = translator.get_abstract_model()
        if clean:
            abstract = sanitise(abstract, folder).abstract
        return Path(ModelBuilder(abstract).build_model()).read_text(encoding="utf-8")


def _models() -> list[Path]:
    data = ROOT / "tests" / "data"
    found = sorted((data / "conformance" / "xmile").glob("*/*.xmile"))
    found += sorted((data / "stocks_flows").glob("*.mdl")) + sorted((data / "stocks_flows").glob("*.xmile"))
    return [f for f in found if f.name != "unsupported.xmile"]


def test_every_module_built_from_the_corpus_is_accepted(tmp_path):
    """The conformance corpus and the test models: PySD's builder output passes the allow-list."""
    models = _models()
    assert len(models) >= 40
    for i, model in enumerate(models):
        folder = tmp_path / str(i)
        folder.mkdir()
        copy = folder / f"input{model.suffix}"
        copy.write_bytes(model.read_bytes())
        check_module(_build(copy, folder, clean=True), file=str(model))


def test_modules_from_the_spec_models_and_the_example_are_accepted():
    from stocks_flows.load import load_model
    from stocks_flows.pysd_runner import translated

    specs = [ROOT / "examples" / "duration_trade" / "stocks.yaml", *sorted((ROOT / "tests" / "data").rglob("*.yaml"))]
    checked = 0
    for spec in specs:
        try:
            model = load_model(spec)
        except Exception:  # a causal spec or a deliberately broken one
            continue
        if model.time.method != "euler":
            continue
        try:
            with translated(model) as fresh:  # translated() refuses a module that fails the allow-list
                check_module(fresh.py_file.read_text(encoding="utf-8"))
                checked += 1
        except UnsafeModelError as err:  # a function PySD lacks, refused before any code is written
            if "PySD cannot be given this model safely" not in str(err):
                raise
        except SimulationError as err:  # a function XMILE lacks (SAMPLE IF TRUE): nothing is handed to PySD
            if "has no XMILE form" not in str(err):
                raise
    assert checked >= 5


_RAW = {
    "xmile doc": ("xmile", lambda text: p.xmile(text), "model.xmile"),
    "vensim comment": ("mdl", lambda text: p.mdl(text), "model.mdl"),
    "xmile dimension name": ("xmile", lambda text: p.xmile("", {"dim": text}), "model.xmile"),
    "vensim subscript name": ("mdl", lambda text: p.mdl("", {"elem": text}), "model.mdl"),
}


@pytest.mark.parametrize("route", sorted(_RAW))
def test_unsanitised_modules_from_poisoned_files_are_refused(route, tmp_path):
    """The reported routes, with PySD given the raw file: the allow-list alone refuses the module."""
    _, make, name = _RAW[route]
    text = p.payload("backslash_lines" if route == "vensim comment" else "docstring_dq", None)
    if "name" in route:
        text = p.payload("quote_concat", None)
    source = tmp_path / name
    source.write_text(make(text), encoding="utf-8")
    built = _build(source, tmp_path, clean=False)
    assert "open(" in built  # the payload did reach the module PySD wrote
    with pytest.raises(UnsafeModelError):
        check_module(built)
    assert not (tmp_path / p.MARKER).exists() and not Path(p.MARKER).exists()


@pytest.mark.parametrize("suffix", [".xmile", ".mdl"])
def test_unsanitised_module_named_after_a_poisoned_file_is_refused(suffix, tmp_path):
    stem = p.payload("docstring_dq", None).replace("/", "_")
    source = tmp_path / f"{stem}{suffix}"
    source.write_text(p.xmile("plain") if suffix == ".xmile" else p.mdl("plain"), encoding="utf-8")
    built = _build(source, tmp_path, clean=False)
    assert "open(" in built
    with pytest.raises(UnsafeModelError):
        check_module(built)
