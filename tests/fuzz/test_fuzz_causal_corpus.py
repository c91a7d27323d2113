"""Hostile files that once crashed, hung or segfaulted a causal reader: each is now a located error.

Every file of ``tests/data/hostile/causal/`` is read by its loader and given to
``tenor check``, ``tenor convert`` and ``tenor draw`` in-process: the loader
raises a :class:`SpecError` naming the file and a line inside it, and each
command exits 2 (bad input), never 3 (internal error), with that location in
its message. The limits of :mod:`tenor.core.limits` are checked here too: each
refusal names its limit, and standard input is held to the file-size limit.
"""

from __future__ import annotations

import io
import re
import sys
import time
from pathlib import Path

import pytest

from causal.formats.node_link import read_node_link
from causal.load import read_graph_source
from tenor.cli.main import main
from tenor.core.errors import SpecError
from tenor.core.limits import MAX_BYTES, MAX_NODES
from tenor.core.specfile import read_yaml

CORPUS = Path(__file__).resolve().parent.parent / "data" / "hostile" / "causal"

# file -> a part of the message it must give
EXPECTED = {
    "alias_bomb.yaml": "aliases (*name) are not supported",
    "bad_escape.dagitty": "directed cycle: N -> b -> N",  # "\N" was a UnicodeDecodeError
    "beta_overflow.dagitty": "finite number",
    "control_character.yaml": "does not allow the character U+0001",
    "deep_block_lists.yaml": "MAX_DEPTH = 50",
    "deep_braces.dagitty": "expected a node name",
    "deep_flow_lists.yaml": "MAX_DEPTH = 50",  # segfaulted the C composer
    "deep_flow_mappings.yaml": "MAX_DEPTH = 50",  # segfaulted the C composer
    "group_250k_edges.dagitty": "MAX_EDGES = 50,000",  # 4.8 kB that made 250,000 edges
    "huge_integer.yaml": "cannot read",
    "node_link_deep.json": "MAX_DEPTH",
    "node_link_edges_number.json": "/links: expected a list, got 3",
    "node_link_missing_id.json": "/nodes/1: missing required key 'id'",
    "node_link_missing_source.json": "/edges/0: missing required key 'source'",
    "node_link_number_for_object.json": "/nodes/1: expected a mapping",
    "node_link_string_for_list.json": "/nodes: expected a list",
    "node_link_unknown_node.json": "/edges/0: unknown node 'zz'",
    "not_utf8.yaml": "not UTF-8",
    "python_tag.yaml": "is not allowed",
    "two_documents.yaml": "single document",
    "unclosed_quote.dagitty": "unclosed quoted name",
}
CASES = sorted(EXPECTED)


def _lines(path: Path) -> int:
    data = path.read_bytes()
    return 1 + sum(data.count(b) for b in (b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode()))


def test_the_corpus_is_the_table():
    assert sorted(p.name for p in CORPUS.iterdir()) == CASES


@pytest.mark.parametrize("name", CASES)
def test_loader_gives_a_located_error(name):
    path = CORPUS / name
    started = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        read_graph_source(str(path))
    assert time.perf_counter() - started < 10
    assert EXPECTED[name] in str(caught.value)
    for diag in caught.value.diagnostics:
        assert diag.file == str(path)
        assert diag.line is not None and 1 <= diag.line <= _lines(path), str(caught.value)


@pytest.mark.parametrize("name", [n for n in CASES if n.endswith(".yaml")])
def test_yaml_reader_never_crashes_on_the_corpus(name):
    try:
        read_yaml(CORPUS / name)
    except SpecError as err:
        assert all(d.line is not None for d in err.diagnostics)


@pytest.mark.parametrize("name", [n for n in CASES if n.endswith(".json")])
def test_node_link_reader_names_the_json_pointer(name):
    with pytest.raises(SpecError) as caught:
        read_node_link(CORPUS / name)
    assert EXPECTED[name] in str(caught.value)


def _run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("command", ["check", "convert", "draw"])
def test_cli_exits_2_with_the_location(name, command, capsys, tmp_path):
    path = str(CORPUS / name)
    args = {
        "check": ["check", path],
        "convert": ["convert", path, "--to", "dagitty"],
        "draw": ["draw", path, "--out", str(tmp_path / "g.svg")],
    }[command]
    code, _, err = _run(args, capsys)
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    assert not (tmp_path / "g.svg").exists()
    if command == "draw" and name.endswith(".json"):
        return  # tenor draw reads .json as a model structure, never as node-link
    assert re.search(re.escape(path) + r":\d+", err), err
    assert EXPECTED[name] in err


def test_standard_input_is_held_to_the_size_limit(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"dag { " + b"a " * (MAX_BYTES // 2) + b"}")))
    code, _, err = _run(["check", "-"], capsys)
    assert code == 2 and "MAX_BYTES = 5,000,000" in err and "<stdin>" in err


def test_standard_input_text_stream_is_held_to_the_size_limit(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("x" * (MAX_BYTES + 1)))
    code, _, err = _run(["check", "-"], capsys)
    assert code == 2 and "MAX_BYTES" in err


def test_standard_input_under_the_limit_is_read(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"dag { a -> b }")))
    code, out, _ = _run(["check", "-", "--json"], capsys)
    assert code == 0 and '"edges": 1' in out


def test_node_link_json_is_an_input_format(capsys, tmp_path):
    path = tmp_path / "g.json"
    path.write_text('{"nodes": [{"id": "a"}, {"id": "b"}], "edges": [{"source": "a", "target": "b", "gain": 2}]}')
    code, out, _ = _run(["convert", str(path), "--to", "dagitty"], capsys)
    assert code == 0 and "a -> b [beta=2.0]" in out


def test_too_many_dagitty_nodes_is_refused_at_the_node(tmp_path):
    path = tmp_path / "wide.dagitty"
    path.write_text("dag {\n" + "\n".join(f"n{i}" for i in range(MAX_NODES + 1)) + "\n}\n")
    with pytest.raises(SpecError) as caught:
        read_graph_source(str(path))
    assert "MAX_NODES = 10,000" in str(caught.value)
    assert caught.value.line == MAX_NODES + 2  # the first node over the limit


def test_too_many_yaml_nodes_is_refused(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text("nodes:\n" + "".join(f"  n{i}: {{}}\n" for i in range(MAX_NODES + 1)))
    with pytest.raises(SpecError) as caught:
        read_graph_source(str(path))
    assert "MAX_NODES" in str(caught.value) and caught.value.line == 1


def test_drawing_a_graph_too_large_to_lay_out_is_refused(capsys, tmp_path):
    path = tmp_path / "big.dagitty"
    path.write_text(
        "dag { {" + " ".join(f"a{i}" for i in range(60)) + "} -> {" + " ".join(f"b{i}" for i in range(60)) + "} }"
    )
    code, _, err = _run(["draw", str(path), "--out", str(tmp_path / "g.svg")], capsys)
    assert code == 2 and "MAX_DRAW_EDGES" in err
    code, _, _ = _run(["draw", str(path), "--out", str(tmp_path / "g.dot")], capsys)  # text needs no layout
    assert code == 0 and (tmp_path / "g.dot").exists()


def test_simulate_data_refuses_a_run_over_the_memory_limit(capsys, tmp_path):
    spec = tmp_path / "g.yaml"
    spec.write_text("nodes: {x: {}, y: {}}\nedges:\n  x -> y: {gain: 0.5}\n")
    out = tmp_path / "data.csv"
    started = time.perf_counter()
    code, _, err = _run(["simulate-data", str(spec), "--n", "100000000", "--seed", "1", "--out", str(out)], capsys)
    assert time.perf_counter() - started < 10
    assert code == 2, err
    assert "MAX_SIMULATE_BYTES" in err and "lower --n to at most" in err and "GB" in err
    assert not out.exists()
    allowed = int(re.search(r"at most ([\d,]+)", err).group(1).replace(",", ""))
    code, _, err = _run(["simulate-data", str(spec), "--n", str(allowed + 1), "--seed", "1", "--out", str(out)], capsys)
    assert code == 2 and not out.exists()


def test_too_many_yaml_values_is_refused_at_the_value(monkeypatch):
    import tenor.core.specfile

    monkeypatch.setattr(tenor.core.specfile, "MAX_TOKENS", 1_000)
    text = "nodes: {}\nx: [" + "1, " * 600 + "\n" + "1, " * 600 + "]\n"
    with pytest.raises(SpecError) as caught:
        tenor.core.specfile.parse_yaml(text, file="wide.yaml")
    assert "MAX_TOKENS = 1,000" in str(caught.value) and caught.value.line == 3


def test_too_many_dagitty_tokens_is_refused_at_the_token(monkeypatch):
    import causal.formats.dagitty

    monkeypatch.setattr(causal.formats.dagitty, "MAX_TOKENS", 1_000)
    text = "dag {\n" + "a " * 600 + "\n" + "a " * 600 + "\n}"
    with pytest.raises(SpecError) as caught:
        causal.formats.dagitty.parse_dagitty(text, file="wide.dagitty")
    assert "MAX_TOKENS = 1,000" in str(caught.value) and caught.value.line == 3
