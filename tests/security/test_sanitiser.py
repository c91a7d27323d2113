"""The first layer: PySD's abstract model re-made with no text from the model file in it.

Every payload in every free-text field and name of XMILE and Vensim files is
read by PySD's translator (which writes no Python), sanitised, and the result
searched: every string left in it is a generated name or a word from a fixed
list, never text from the file. Macros become sections of generated names;
constructs that read other files are checked (tests/security/test_pysd_files.py).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stocks_flows.pysd_safety import UnsafeModelError, sanitise
from tests.security import payloads as p

pytest.importorskip("pysd", reason="PySD (stocks_flows extra) is missing, so no model can reach it")

_GENERATED = re.compile(r"^(var|dim|elem|macro|arg)_\d+!?$")


def _allowed_words() -> set[str]:
    from pysd.builders.python.python_functions import functionspace

    words = {"time", "INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER", "__main__", "main", "x", ""}
    words |= {"initial_time", "final_time", "time_step", "saveper"}
    words |= {"^", "*", "/", "+", "-", "=", "<>", ">=", ">", "<=", "<", ":NOT:", ":AND:", ":OR:", "negative"}
    words |= {"interpolate", "extrapolate", "hold_backward", "look_forward"}
    words |= {"Auxiliary", "Constant", "Lookup", "Normal", "Unchangeable", "Hardcoded", "Data", "Stateful"}
    return words | set(functionspace)


def _strings(node, seen=None):
    """Every str inside a (nested) dataclass / list / tuple / dict; paths turned to their name."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Path):
        yield node.name
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _strings(getattr(node, f.name))


def _abstract(path: Path):
    from pysd.translators.vensim.vensim_file import VensimFile
    from pysd.translators.xmile.xmile_file import XmileFile

    reader = VensimFile if path.suffix == ".mdl" else XmileFile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        translator = reader(path)
        translator.parse()
        return translator.get_abstract_model()


def _cases():
    for fmt, make in (("xmile", p.xmile), ("mdl", p.mdl)):
        for name in sorted(p.PAYLOADS):
            yield fmt, name, "free text", lambda text, make=make: make(text)
            if fmt == "mdl":
                yield fmt, name, "units", lambda text: p.mdl(text, field="units")
            if name in p.NAME_PAYLOADS:
                for field in ("stock", "dim", "elem", "lookup", "const"):
                    yield fmt, name, field, lambda text, make=make, field=field: make("", {field: text})


@pytest.mark.parametrize("fmt", ["xmile", "mdl"])
def test_no_text_from_the_file_survives_sanitising(fmt, tmp_path):
    allowed = _allowed_words()
    sanitised = 0
    for case_fmt, name, field, make in _cases():
        if case_fmt != fmt:
            continue
        path = tmp_path / f"model.{fmt}"
        path.write_text(make(p.payload(name, None)), encoding="utf-8")
        try:
            abstract = _abstract(path)
        except Exception:  # PySD's translator cannot read the file: nothing reaches its builder
            continue
        try:
            safe = sanitise(abstract, tmp_path / "out")
        except UnsafeModelError:
            continue
        sanitised += 1
        left = {s for s in _strings(safe.abstract) if not _GENERATED.match(s)} - allowed
        left -= {"model.py", "model.xmile"}
        assert not left, f"{fmt} {name} in {field}: text left after sanitising: {sorted(left)[:3]}"
    assert sanitised >= 20, "too few cases got as far as the sanitiser to mean anything"


def test_names_map_back_to_the_model(tmp_path):
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain"), encoding="utf-8")
    safe = sanitise(_abstract(path), tmp_path)
    assert safe.column("s", ("E1",)) == f"{safe.variables['s']}[{safe.subscripts['E1']}]"
    assert safe.name("TIME STEP") == "TIME STEP"
    assert {safe.subscripts["D"], safe.subscripts["E2"]} == {"dim_0", "elem_1"}


_REFUSED = {
    "GetConstants": "k2=\n\tGET DIRECT CONSTANTS('values.csv', ',', 'B2')\n\t~\t\n\t~\t|\n\n",
    "GetLookups": "g2(\n\tGET DIRECT LOOKUPS('values.csv', ',', '1', 'B2'))\n\t~\t\n\t~\t|\n\n",
}


@pytest.mark.parametrize("construct", sorted(_REFUSED))
def test_constructs_that_read_other_files_are_refused_without_the_models_folder(construct, tmp_path):
    """tenor's own models never read files: only a model file handed to PySD (its folder given) may."""
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain") + _REFUSED[construct], encoding="utf-8")
    (tmp_path / "values.csv").write_text("a,b\nx,1\n", encoding="utf-8")
    with pytest.raises(UnsafeModelError, match="reads a file; only a model file handed to PySD may"):
        sanitise(_abstract(path), tmp_path / "out")
    out = tmp_path / "given"
    out.mkdir()
    safe = sanitise(_abstract(path), out, data_folder=tmp_path)
    assert [f.name for f in out.iterdir()] == ["data_0.csv"]
    assert {s for s in _strings(safe.abstract) if not _GENERATED.match(s)} <= _allowed_words() | {
        "model.py",
        "model.xmile",
        "data_0.csv",
        ",",
        "B2",
        "1",
        "Data",
        "External",
    }


def test_data_with_no_equation_is_refused(tmp_path):
    """A DATA variable PySD reads from a file given at run time: tenor gives it none, so it is refused."""
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain") + "d :=\n\t\n\t~\t\n\t~\t|\n\n", encoding="utf-8")
    with pytest.raises(UnsafeModelError, match="DATA variable with no equation"):
        sanitise(_abstract(path), tmp_path / "out", data_folder=tmp_path)


def test_each_macro_becomes_a_section_of_generated_names_in_the_folder(tmp_path):
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain", {"macro": "Twice Over", "arg": "my input"}, macro=True), encoding="utf-8")
    safe = sanitise(_abstract(path), tmp_path / "out")
    main, macro = safe.abstract.sections
    assert (main.name, main.type, main.params) == ("__main__", "main", [])
    assert (macro.name, macro.type, macro.params, macro.path) == (
        "macro_0",
        "macro",
        ["arg_0"],
        tmp_path / "out" / "macro_0.py",
    )
    assert "macro_0" in {el.name for el in macro.elements}  # the variable giving the macro's value
    assert {s for s in _strings(safe.abstract) if not _GENERATED.match(s)} <= _allowed_words() | {
        "model.py",
        "model.xmile",
        "macro",
        "macro_0.py",
    }


@pytest.mark.parametrize("name", sorted(p.PAYLOADS))
def test_no_text_of_a_macro_survives_sanitising(name, tmp_path):
    """The payload in the macro's comments, its name, its input's and its variable's: generated names only."""
    allowed = _allowed_words() | {"model.py", "model.xmile", "macro", "macro_0.py"}
    cases = [p.mdl(p.payload(name, None), macro=True)]
    if name in p.NAME_PAYLOADS:
        cases += [p.mdl("", {f: p.payload(name, None)}, macro=True) for f in ("macro", "arg", "inner")]
    for i, text in enumerate(cases):
        path = tmp_path / f"model{i}.mdl"
        path.write_text(text, encoding="utf-8")
        try:
            safe = sanitise(_abstract(path), tmp_path / "out")
        except UnsafeModelError:
            continue  # refused: nothing reaches PySD's builder
        except Exception:  # PySD's translator cannot read the file
            continue
        assert {s for s in _strings(safe.abstract) if not _GENERATED.match(s)} <= allowed


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        (
            ":MACRO: two(a, b : extra)\ntwo = a + b\n\t~\t\n\t~\t|\n\nextra = a\n\t~\t\n\t~\t|\n\n:END OF MACRO:\n",
            "more than one output",
        ),
        (":MACRO: two(a)\nother = a\n\t~\t\n\t~\t|\n\n:END OF MACRO:\n", "no variable of its own name"),
    ],
)
def test_macros_pysd_cannot_be_given_are_refused(text, refused, tmp_path):
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain").replace("{UTF-8}\n", "{UTF-8}\n" + text), encoding="utf-8")
    with pytest.raises(UnsafeModelError, match=refused):
        sanitise(_abstract(path), tmp_path)


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40
)


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_TEXT, name=_TEXT, element=_TEXT)
def test_any_text_in_docs_and_names_is_gone_after_sanitising(doc, name, element, tmp_path_factory):
    """Property: whatever text an XMILE file holds in a doc, a variable or an element name, none survives."""
    folder = tmp_path_factory.mktemp("x")
    path = folder / "model.xmile"
    path.write_text(p.xmile(doc), encoding="utf-8")
    named = folder / "named.xmile"
    named.write_text(p.xmile("", {"stock": name, "elem": element}), encoding="utf-8")
    allowed = _allowed_words() | {"model.py", "model.xmile"}
    for source in (path, named):
        try:
            abstract = _abstract(source)
        except Exception:  # PySD's translator cannot read it: nothing reaches its builder
            assert source == named, "a doc alone should never stop PySD's translator"
            continue
        try:
            safe = sanitise(abstract, folder)
        except UnsafeModelError:
            assert source == named, "a doc alone should never be refused"
            continue
        assert {s for s in _strings(safe.abstract) if not _GENERATED.match(s)} <= allowed


@pytest.mark.parametrize("name", p.NAME_PAYLOADS)
def test_reality_checks_are_dropped_with_any_text_in_them(name, tmp_path):
    """Vensim's :THE CONDITION: / :TEST INPUT: never reach PySD's builder (it never runs them)."""
    text = p.payload(name, None).replace('"', "'")
    check = (
        f'"{text}":THE CONDITION:\n\tk = 0 :IMPLIES: s[E1] <= 1\n\t~\t{text}\n\t~\t{text}\t|\n\n'
        f"t:TEST INPUT:\n\tk = 0\n\t~\t\n\t~\t{text}\t|\n\n"
    )
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain").replace("{UTF-8}\n", "{UTF-8}\n" + check), encoding="utf-8")
    try:
        abstract = _abstract(path)
    except Exception:  # PySD's translator cannot read it: nothing reaches its builder
        return
    assert abstract.sections[0].constraints or abstract.sections[0].test_inputs, "no reality check was read"
    safe = sanitise(abstract, tmp_path / "out")
    (section,) = safe.abstract.sections
    assert section.constraints == () and section.test_inputs == ()
    assert {s for s in _strings(safe.abstract) if not _GENERATED.match(s)} <= _allowed_words() | {
        "model.py",
        "model.xmile",
    }
