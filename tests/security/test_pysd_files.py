"""Data files a Vensim model reads (GET XLS / GET DIRECT) when PySD is handed the file.

A file named inside the model's folder (or below it) is copied beside the
module PySD writes and read there; every other name is refused before PySD's
builder runs, with an error naming the variable and its line: a parent path
(``../../etc/passwd``), an absolute path, a URL, a network path, a link that
leads out of the folder, an indirect ``?name``, a kind of file PySD does not
read, a missing file, and sheet or cell text that is not plain.
"""

from __future__ import annotations

import os

import pytest

from stocks_flows.data_files import DataFileError, data_file_in
from stocks_flows.pysd_data import DataFiles
from stocks_flows.pysd_runner import run_pysd_file, run_pysd_file_scenarios
from stocks_flows.pysd_safety import UnsafeModelError
from tenor.cli.main import main
from tenor.core.errors import TenorError
from tests.security import payloads as p

pytest.importorskip("pysd", reason="PySD (stocks_flows extra) is missing, so no model can reach it")

SECRET = "a,b\nx,0.75\n"  # a file outside the model's folder that must never be read


def _model(call: str) -> str:
    """A Vensim model whose constant ``k`` (defined on line 2) is read by ``call``."""
    return (
        "{UTF-8}\n"
        f"k=\n\t{call}\n\t~\t\n\t~\t|\n\n"
        "s= INTEG (\n\tk,\n\t\t0)\n\t~\t\n\t~\t|\n\n"
        "INITIAL TIME = 0\n\t~\tMonth\n\t~\t|\n\n"
        "FINAL TIME = 4\n\t~\tMonth\n\t~\t|\n\n"
        "SAVEPER = TIME STEP\n\t~\tMonth\n\t~\t|\n\n"
        "TIME STEP = 1\n\t~\tMonth\n\t~\t|\n\n"
    )


def _constants(name: str, sheet: str = ",", cell: str = "B2") -> str:
    return _model(f"GET DIRECT CONSTANTS('{name}', '{sheet}', '{cell}')")


@pytest.fixture
def folder(tmp_path):
    """The model's folder with ``values.csv`` (B2 = 0.25) and ``data/values.csv`` (B2 = 0.5); a secret beside it."""
    models = tmp_path / "models"
    (models / "data").mkdir(parents=True)
    (models / "values.csv").write_text("a,b\nx,0.25\n", encoding="utf-8")
    (models / "data" / "values.csv").write_text("a,b\nx,0.5\n", encoding="utf-8")
    (tmp_path / "secret.csv").write_text(SECRET, encoding="utf-8")
    return models


@pytest.mark.parametrize(("name", "value"), [("values.csv", 0.25), ("data/values.csv", 0.5), ("./values.csv", 0.25)])
def test_a_data_file_in_the_models_folder_is_read(folder, name, value):
    path = folder / "model.mdl"
    path.write_text(_constants(name), encoding="utf-8")
    frame = run_pysd_file(path)
    assert frame["k"].to_list() == pytest.approx([value] * 5)
    assert frame["s"].iloc[-1] == pytest.approx(4 * value)  # the stock integrates the value read
    assert not list(folder.glob("*.py")), "PySD wrote its module beside the model"


_OUTSIDE = {
    "parent path": ("../secret.csv", "climbs out"),
    "passwd": ("../../etc/passwd", "climbs out"),
    "deep parent": ("data/../../secret.csv", "climbs out"),
    "windows parent": ("data\\..\\..\\secret.csv", "climbs out"),
    "absolute": ("{secret}", "absolute path"),
    "root": ("/etc/passwd", "absolute path"),
    "windows drive": ("C:\\zz.csv", "absolute path"),
    "network path": ("//server/share/zz.csv", "absolute path"),
    "windows network path": ("\\\\server\\share\\zz.csv", "absolute path"),
    "url": ("https://example.org/values.csv", "URL"),
    "file url": ("file:values.csv", "URL"),
    "indirect": ("?values", "indirect reference"),
    "python file": ("model.py", "not of a kind PySD reads"),
    "the model": ("model.mdl", "not of a kind PySD reads"),
    "missing": ("nothing.csv", "does not exist"),
    "folder": ("data", "not of a kind"),
}


@pytest.mark.parametrize("case", sorted(_OUTSIDE))
def test_a_data_file_named_outside_the_models_folder_is_refused_at_its_line(folder, case):
    name, why = _OUTSIDE[case]
    path = folder / "model.mdl"
    path.write_text(_constants(name.replace("{secret}", str(folder.parent / "secret.csv"))), encoding="utf-8")
    with pytest.raises(UnsafeModelError) as info:
        run_pysd_file(path)
    err = info.value
    assert why in err.message and "GET XLS CONSTANTS / GET DIRECT CONSTANTS" in err.message
    assert (err.file, err.key, err.line) == (str(path), "k", 2)
    assert not any(folder.rglob("data_*")), "a refused file was copied"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="the platform has no symbolic links")
@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_link_that_leads_out_of_the_models_folder_is_refused(folder, link):
    if link == "file":
        (folder / "link.csv").symlink_to(folder.parent / "secret.csv")
        name = "link.csv"
    else:
        (folder / "outside").symlink_to(folder.parent, target_is_directory=True)
        name = "outside/secret.csv"
    path = folder / "model.mdl"
    path.write_text(_constants(name), encoding="utf-8")
    with pytest.raises(UnsafeModelError, match="link that leads out of the model's folder") as info:
        run_pysd_file(path)
    assert (info.value.key, info.value.line) == ("k", 2)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="the platform has no symbolic links")
def test_a_link_inside_the_folder_is_read_as_the_file_it_names(folder):
    (folder / "alias.csv").symlink_to(folder / "data" / "values.csv")
    path = folder / "model.mdl"
    path.write_text(_constants("alias.csv"), encoding="utf-8")
    assert run_pysd_file(path)["k"].iloc[0] == pytest.approx(0.5)


_SERIES = {  # the same series, 1 to 5 at times 0 to 4, by column (DATA) and by row (LOOKUPS)
    "data": ("k:=\n\tGET DIRECT DATA('{name}', ',', 'A', 'B1')", "0,1\n1,2\n2,3\n3,4\n4,5\n"),
    "lookups": (
        "g(\n\tGET DIRECT LOOKUPS('{name}', ',', '1', 'A2'))\n\t~\t\n\t~\t|\n\nk=g(Time)",
        "0,1,2,3,4\n1,2,3,4,5\n",
    ),
}


@pytest.mark.parametrize("kind", sorted(_SERIES))
def test_data_and_lookups_read_only_inside_the_folder(folder, kind):
    """GET DIRECT DATA and LOOKUPS: read from the folder; refused, at the line, from outside it."""
    definition, series = _SERIES[kind]
    (folder / "series.csv").write_text(series, encoding="utf-8")
    (folder.parent / "secret.csv").write_text(series, encoding="utf-8")
    construct = {"data": "GET XLS DATA / GET DIRECT DATA", "lookups": "GET XLS LOOKUPS / GET DIRECT LOOKUPS"}[kind]
    path = folder / "model.mdl"
    for name in ("series.csv", "../secret.csv"):
        text = _model("0").replace("k=\n\t0", definition.format(name=name))
        path.write_text(text, encoding="utf-8")
        if name == "series.csv":
            assert run_pysd_file(path)["k"].to_list() == pytest.approx([1, 2, 3, 4, 5])  # the series read
            continue
        with pytest.raises(UnsafeModelError, match=f"{construct}: the file '../secret.csv' climbs out") as info:
            run_pysd_file(path)
        assert (info.value.key, info.value.line) == ("k" if kind == "data" else "g", 2)


def test_a_dimension_read_from_outside_the_folder_is_refused(folder):
    text = _constants("values.csv").replace(
        "{UTF-8}\n", "{UTF-8}\nD:\n\tGET DIRECT SUBSCRIPT('../secret.csv', ',', 'A2', 'A2', 'e')\n\t~\t\n\t~\t|\n\n"
    )
    path = folder / "model.mdl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnsafeModelError, match=r"GET DIRECT SUBSCRIPT: the file '\.\./secret\.csv' climbs out") as info:
        run_pysd_file(path)
    assert (info.value.key, info.value.line) == ("D", 2)


def test_a_dimension_read_from_the_folder_names_its_elements(folder):
    text = (
        _constants("values.csv")
        .replace(
            "{UTF-8}\n", "{UTF-8}\nD:\n\tGET DIRECT SUBSCRIPT('values.csv', ',', 'A1', 'B1', 'e')\n\t~\t\n\t~\t|\n\n"
        )
        .replace("k=", "w[D] = 1, 2\n\t~\t\n\t~\t|\n\nk=")
    )
    path = folder / "model.mdl"
    path.write_text(text, encoding="utf-8")
    frame = run_pysd_file(path)
    assert frame["w[ea]"].iloc[0] == 1 and frame["w[eb]"].iloc[0] == 2  # prefix 'e' + the cells 'a', 'b'


@pytest.mark.parametrize("name", sorted(p.PAYLOADS))
@pytest.mark.parametrize("where", ["sheet", "cell", "file"])
def test_payload_in_a_get_calls_text_is_refused_or_inert(folder, name, where, monkeypatch):
    monkeypatch.chdir(folder)
    text = p.payload(name, folder.parent / "abs-marker.txt").replace("'", '"')
    args = {"sheet": ("values.csv", text, "B2"), "cell": ("values.csv", ",", text), "file": (text, ",", "B2")}[where]
    path = folder / "model.mdl"
    path.write_text(_constants(*args), encoding="utf-8")
    with pytest.raises(TenorError):  # the translator cannot read it, or the sanitiser refuses it
        run_pysd_file(path)
    for place in (folder / p.MARKER, folder.parent / "abs-marker.txt"):
        assert not place.exists(), "the payload ran"


def test_the_copies_are_bare_generated_names_one_per_file(tmp_path):
    model, private = tmp_path / "m", tmp_path / "p"
    (model / "sub").mkdir(parents=True)
    private.mkdir()
    (model / "a.XLSX").write_bytes(b"x")
    (model / "sub" / "b.csv").write_bytes(b"y")
    files = DataFiles(model, private)
    assert [files.copy("a.XLSX"), files.copy("sub/b.csv"), files.copy("sub\\b.csv")] == [
        "data_0.xlsx",
        "data_1.csv",
        "data_1.csv",
    ]
    assert sorted(f.name for f in private.iterdir()) == ["data_0.xlsx", "data_1.csv"]
    assert (private / "data_1.csv").read_bytes() == b"y"
    with pytest.raises(DataFileError, match="holds control characters"):
        data_file_in("a\nb.csv", model)
    with pytest.raises(DataFileError, match=r"cannot be looked up|does not exist"):
        data_file_in("x" * 5000 + ".csv", model)
    if hasattr(os, "symlink"):
        (model / "loop.csv").symlink_to(model / "loop.csv")
        with pytest.raises(DataFileError, match=r"cannot be looked up|does not exist|leads out"):
            data_file_in("loop.csv", model)


def test_set_and_sweep_reach_a_model_that_reads_a_file(folder):
    path = folder / "model.mdl"
    path.write_text(_constants("values.csv").replace("k=", "r = 2\n\t~\t\n\t~\t|\n\nk="), encoding="utf-8")
    run = run_pysd_file_scenarios(path, {"r": [1.0, 3.0]}, variables=["r", "k"], scenario_names=["a", "b"])
    assert run.values[:, 0, 0].tolist() == [1.0, 3.0] and run.values[:, :, 1] == pytest.approx(0.25)
    assert run_pysd_file(path, {"k": 2.0})["s"].iloc[-1] == pytest.approx(8.0)  # --set replaces the value read


def test_the_commands_hand_the_file_to_pysd_and_refuse_a_hostile_one(folder, capsys):
    good, bad = folder / "good.mdl", folder / "bad.mdl"
    good.write_text(_constants("values.csv"), encoding="utf-8")
    bad.write_text(_constants("../../etc/passwd"), encoding="utf-8")
    out = folder / "out.csv"
    assert main(["simulate", str(good), "--engine", "pysd", "--set", "k=0.5", "--out", str(out)]) == 0
    capsys.readouterr()
    header, first = out.read_text(encoding="utf-8").splitlines()[:2]
    assert float(first.split(",")[header.split(",").index("k")]) == 0.5  # --set k reached PySD's run
    assert main(["sweep", str(good), "--engine", "pysd", "--set", "k=0.1:0.2:2", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("\n") == 1 + 2 * 5
    for command in (["simulate"], ["sweep", "--set", "k=0.1:0.2:2"]):
        assert main([command[0], str(bad), "--engine", "pysd", *command[1:], "--out", str(folder / "x.csv")]) == 2
        err = capsys.readouterr().err
        assert "climbs out of the model's folder" in err and "bad.mdl:2" in err
    assert not (folder / "x.csv").exists()
