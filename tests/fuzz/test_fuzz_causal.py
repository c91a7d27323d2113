"""Fuzz each causal reader with hostile files: a result, or a SpecError located inside the file.

A small, fixed-seed slice of ``scripts/fuzz_causal.py``: random bytes, byte
flips, inserts, deletes and duplications of valid example files, hostile
snippets spliced in (deep nesting, huge numbers, odd unicode, escapes, tags,
aliases) and deep nesting in each reader's syntax. Each input is written to a
file and read by the loader; the loader must return, or raise a
:class:`SpecError` whose every diagnostic names that file and a line inside
it, within a time bound, and never raise anything else.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from causal.formats.dagitty import generate_dagitty, read_dagitty
from causal.formats.node_link import generate_node_link, read_node_link
from causal.load import read_spec
from tenor.core.errors import SpecError
from tenor.core.specfile import read_yaml

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "duration_trade" / "causal.yaml"
TIME_BOUND = 5.0  # seconds for one input (they take milliseconds)
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
_BREAKS = (b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())

SNIPPETS = [
    b"[" * 60,
    b"{a: " * 60,
    b"- " * 60,
    b"{" * 60,
    b'"\\N"',
    b'"\\x"',
    b"\\",
    b'"',
    b"1" * 5000,
    b"1e999999",
    b"\x00",
    b"\x01",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",
    "\u202e\u2028\u2029\x85".encode(),
    "é→𝔘".encode(),
    b"\t",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"!!python/object/apply:os.system ['true']",
    b"---\n",
    b"? [a, b]\n: c\n",
    b" -> ",
    b" <-> ",
    b" -- ",
    b"[beta=1e400]",
    b"{a b c d} -> {e f g h}",
    b'{"id": null}',
    b'"source": 3',
    b'"nodes": 5',
]


def _seeds() -> dict[str, list[bytes]]:
    spec = read_spec(EXAMPLE)
    small = b"nodes: {x: {}, m: {}, y: {}}\nedges:\n  x -> m: {sign: +, gain: 0.5}\n  m -> y: {sign: '-'}\n"
    yaml = [EXAMPLE.read_bytes(), small]
    return {
        "yaml": [*yaml, (ROOT / "tests" / "data" / "stocks_flows" / "teacup.yaml").read_bytes()],
        "causal": yaml,
        "dagitty": [
            generate_dagitty(spec).encode(),
            b'dag {\n "Smoking status" [exposure]\n "Smoking status" -> Tar -> Cancer [beta=0.5]\n'
            b" {U Age} -> {Tar Cancer}\n Genes <-> Cancer\n}\n",
        ],
        "node_link": [generate_node_link(spec).encode(), b'{"nodes": [{"id": "a"}, {"id": "b"}], "links": []}'],
    }


SEEDS = _seeds()
SUFFIX = {"yaml": ".yaml", "causal": ".yaml", "dagitty": ".dagitty", "node_link": ".json"}
READERS = {"yaml": read_yaml, "causal": read_spec, "dagitty": read_dagitty, "node_link": read_node_link}
OPENERS = {
    "yaml": [b"[", b"{a: ", b"- ", b"x: [", b"? "],
    "causal": [b"[", b"{a: ", b"- ", b"nodes: {x: "],
    "dagitty": [b"{", b"dag { {", b"["],
    "node_link": [b"[", b'{"a": ', b'{"nodes": ['],
}


@st.composite
def mutated(draw: st.DrawFn, loader: str) -> bytes:
    """A valid example file with a few byte-level mutations."""
    data = bytearray(draw(st.sampled_from(SEEDS[loader])))
    ops = draw(st.lists(st.tuples(st.integers(0, 6), st.floats(0, 1), st.integers(1, 64)), min_size=1, max_size=8))
    for op, where, size in ops:
        at = int(where * len(data))
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << (size % 8)
        elif op == 1:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == 2:
            del data[at : at + size]
        elif op == 3:
            data[at:at] = bytes(data[at : at + size]) * (size % 7 + 1)
        elif op == 4:
            data[at:at] = draw(st.sampled_from(SNIPPETS))
        elif op == 5:
            del data[at:]
        else:
            data[at:at] = draw(st.text(max_size=20)).encode("utf-8", "surrogatepass")
    return bytes(data)


@st.composite
def deep(draw: st.DrawFn, loader: str) -> bytes:
    """Nesting far past the depth limit, closed or not."""
    depth = draw(st.sampled_from([49, 50, 51, 200, 30_000]))
    opener = draw(st.sampled_from(OPENERS[loader]))
    closer = {b"[": b"]", b"x: [": b"]", b"{": b"}", b"{a: ": b"}", b'{"a": ': b"}"}.get(opener, b"")
    prefix = b"dag { " if loader == "dagitty" else b""
    return prefix + opener * depth + closer * draw(st.sampled_from([0, depth]))


def hostile(loader: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        mutated(loader),
        deep(loader),
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check(loader: str, data: bytes, folder: Path) -> None:
    path = folder / f"input{SUFFIX[loader]}"
    path.write_bytes(data)
    lines = 1 + sum(data.count(b) for b in _BREAKS)
    started = time.perf_counter()
    try:
        READERS[loader](path)
    except SpecError as err:
        for diag in err.diagnostics:
            assert diag.file == str(path), str(err)
            assert diag.line is not None and 1 <= diag.line <= lines + 1, str(err)
    assert time.perf_counter() - started < TIME_BOUND


@FUZZ
@given(data=hostile("yaml"))
def test_fuzz_yaml_reader(data, folder):
    _check("yaml", data, folder)


@FUZZ
@given(data=hostile("causal"))
def test_fuzz_causal_spec(data, folder):
    _check("causal", data, folder)


@FUZZ
@given(data=hostile("dagitty"))
def test_fuzz_dagitty(data, folder):
    _check("dagitty", data, folder)


@FUZZ
@given(data=hostile("node_link"))
def test_fuzz_node_link(data, folder):
    _check("node_link", data, folder)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.integers(51, 30_000), st.sampled_from(["[", "{a: ", "- ", "? ", "{"]))
def test_yaml_deeper_than_the_limit_is_refused_at_its_line(depth, opener):
    from tenor.core.specfile import parse_yaml

    text = "x:\n  " + opener * depth
    started = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, file="deep.yaml")
    assert time.perf_counter() - started < TIME_BOUND
    if opener != "? ":  # "? ? ..." is first a syntax error
        assert "MAX_DEPTH = 50" in str(caught.value) and caught.value.line == 2


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.integers(1, 50), st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", "")]))
def test_yaml_within_the_limit_is_read(depth, pair):
    from tenor.core.specfile import parse_yaml

    opener, closer = pair
    text = opener * depth + "x" + closer * depth if closer else opener * depth + "x"
    data = parse_yaml(text).data
    for _ in range(depth):
        data = next(iter(data.values())) if isinstance(data, dict) else data[0]
    assert data == "x"
