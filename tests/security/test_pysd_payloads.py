"""No text in a model file runs as code when the model is simulated with PySD.

Every payload of :mod:`tests.security.payloads` goes into every free-text
field of a tenor spec, an XMILE file and a Vensim file (and, case by case, into
names and file names). Each case either loads and simulates with the payload
inert, or is refused with a TenorError; the marker file is never created, and
no trace of the payload reaches the module PySD generates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import stocks_flows.pysd_safety as safety
from stocks_flows.load import load_model
from stocks_flows.pysd_runner import run_pysd, run_pysd_file
from tenor.cli.main import main
from tenor.core.errors import TenorError
from tests.security import payloads as p

pytest.importorskip("pysd", reason="PySD (stocks_flows extra) is missing, so no model can reach it")

# text a format may not hold at all (XML and YAML forbid NUL): refusing the file is right too
_UNREADABLE = {"nul"}


@pytest.fixture
def place(tmp_path, monkeypatch):
    """(model folder, marker path); the working folder is a fresh one of its own."""
    cwd = tmp_path / "cwd"
    models = tmp_path / "models"
    cwd.mkdir()
    models.mkdir()
    monkeypatch.chdir(cwd)
    return models, tmp_path / "abs-marker.txt"


def _attempt(path: Path, marker: Path, monkeypatch) -> str:
    """Load ``path`` and simulate it with PySD: 'ran' or 'refused'; the marker must never appear."""
    columns: list[str] = []
    sources: list[str] = []
    _spy_on_checks(sources, monkeypatch)
    try:
        columns = list(run_pysd(load_model(path)).columns)
        outcome = "ran"
    except TenorError:
        outcome = "refused"
    _assert_no_marker(path, marker)
    for source in sources:
        assert p.MARKER not in source and "open(" not in source, "model text reached the generated module"
    assert outcome == "refused" or sources, "a run that did not go through the checked module"
    assert outcome == "refused" or len(columns) > 2, "a run that lost the model's variables"
    return outcome


def _spy_on_checks(sources: list[str], monkeypatch) -> None:
    """Record every module the allow-list checks (the model's and each macro's)."""
    check = safety.check_module

    def spy(source: str, **kwargs) -> None:
        sources.append(source)
        check(source, **kwargs)

    monkeypatch.setattr(safety, "check_module", spy)


def _attempt_file(path: Path, marker: Path, monkeypatch) -> tuple[str, Any]:
    """Hand ``path`` to PySD itself (``--engine pysd`` on a file tenor's reader refuses): outcome and frame."""
    sources: list[str] = []
    _spy_on_checks(sources, monkeypatch)
    frame = None
    try:
        frame = run_pysd_file(path)
        outcome = "ran"
    except TenorError:
        outcome = "refused"
    _assert_no_marker(path, marker)
    for source in sources:
        assert p.MARKER not in source and "open(" not in source, "model text reached the generated module"
    assert outcome == "refused" or len(sources) >= 2, "a macro run that did not check the macro's module"
    return outcome, frame


def _assert_no_marker(path: Path, marker: Path) -> None:
    for place in (Path.cwd() / p.MARKER, path.parent / p.MARKER, marker):
        assert not place.exists(), f"the payload ran: {place} was written"


_FREE_TEXT = {
    "yaml": p.spec,
    "xmile": p.xmile,
    "mdl": p.mdl,
    "mdl-units": lambda text: p.mdl(text, field="units"),
}


@pytest.mark.parametrize("name", sorted(p.PAYLOADS))
@pytest.mark.parametrize("fmt", sorted(_FREE_TEXT))
def test_payload_in_every_free_text_field_is_inert(fmt, name, place, monkeypatch):
    models, marker = place
    text = p.payload(name, marker)
    path = models / f"model.{fmt.split('-')[0]}"
    path.write_text(_FREE_TEXT[fmt](text), encoding="utf-8")
    outcome = _attempt(path, marker, monkeypatch)
    # Vensim's units field cannot hold every text (a newline ends it): refusing those files is right
    if name not in _UNREADABLE and fmt != "mdl-units":
        assert outcome == "ran", f"free text should be inert, not stop the run ({fmt}, {name})"


_NAME_FIELDS = {
    "yaml": ["stock", "dim", "elem", "lookup", "const", "scenario"],
    "xmile": ["stock", "dim", "elem", "lookup", "const", "model"],
    "mdl": ["stock", "dim", "elem", "lookup", "const"],
}


@pytest.mark.parametrize(("fmt", "field"), [(fmt, field) for fmt, fields in _NAME_FIELDS.items() for field in fields])
def test_payload_as_a_name_runs_inert_or_is_refused(fmt, field, place, monkeypatch):
    models, marker = place
    outcomes = set()
    for name in p.NAME_PAYLOADS:
        text = p.payload(name, marker)
        path = models / f"{name}.{fmt}"
        path.write_text({"yaml": p.spec, "xmile": p.xmile, "mdl": p.mdl}[fmt]("", {field: text}), encoding="utf-8")
        outcomes.add(_attempt(path, marker, monkeypatch))
    assert outcomes <= {"ran", "refused"}


@pytest.mark.parametrize("fmt", ["yaml", "xmile", "mdl"])
def test_payload_as_the_file_name_is_inert(fmt, place, monkeypatch):
    models, marker = place
    for name in p.FILE_NAME_PAYLOADS:
        stem = p.payload(name, None).replace("/", "_").replace("\x00", "_")
        path = models / f"{stem}.{fmt}"
        path.write_text({"yaml": p.spec, "xmile": p.xmile, "mdl": p.mdl}[fmt]("plain"), encoding="utf-8")
        assert _attempt(path, marker, monkeypatch) == "ran"


@pytest.mark.parametrize("name", sorted(p.PAYLOADS))
def test_payload_in_a_vensim_macro_is_inert_through_tenors_reader(name, place, monkeypatch):
    """tenor's reader expands macros into ordinary variables: the text of a macro never reaches code."""
    models, marker = place
    path = models / "macro.mdl"
    path.write_text(p.mdl(p.payload(name, marker), macro=True), encoding="utf-8")
    assert _attempt(path, marker, monkeypatch) in ("ran", "refused")


@pytest.mark.parametrize("name", sorted(p.PAYLOADS))
def test_payload_in_a_macros_text_is_inert_when_pysd_reads_the_file(name, place, monkeypatch):
    """A macro's comments and units hold the payload; PySD runs the file and the macro still computes."""
    models, marker = place
    path = models / "macro.mdl"
    path.write_text(p.mdl(p.payload(name, marker), macro=True), encoding="utf-8")
    outcome, frame = _attempt_file(path, marker, monkeypatch)
    if name in _UNREADABLE:
        return
    assert outcome == "ran"
    assert frame["k"].to_list() == pytest.approx([0.1] * len(frame))  # twice(0.05)


@pytest.mark.parametrize("field", ["macro", "arg", "inner"])
def test_payload_as_a_macros_name_or_input_is_inert_or_refused(field, place, monkeypatch):
    models, marker = place
    outcomes = set()
    for name in p.NAME_PAYLOADS:
        path = models / f"{name}.mdl"
        path.write_text(p.mdl("", {field: p.payload(name, marker)}, macro=True), encoding="utf-8")
        outcome, frame = _attempt_file(path, marker, monkeypatch)
        if outcome == "ran":
            assert frame["k"].to_list() == pytest.approx([0.1] * len(frame))
        outcomes.add(outcome)
    assert outcomes <= {"ran", "refused"}


@pytest.mark.parametrize("fmt", ["yaml", "xmile", "mdl"])
def test_the_reported_commands_do_not_run_the_payload(fmt, place, capsys):
    """``tenor simulate FILE --engine pysd`` and ``tenor sweep FILE --engine pysd`` (the reported routes)."""
    models, marker = place
    path = models / f"model.{fmt}"
    path.write_text(
        {"yaml": p.spec, "xmile": p.xmile, "mdl": p.mdl}[fmt](p.payload("docstring_dq", marker)), encoding="utf-8"
    )
    out = models / "out.csv"
    assert main(["simulate", str(path), "--engine", "pysd", "--out", str(out)]) == 0
    assert main(["sweep", str(path), "--engine", "pysd", "--set", "k=0.1:0.2:2", "--out", str(out)]) == 0
    _assert_no_marker(path, marker)
