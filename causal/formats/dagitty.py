"""dagitty text: read and write the format of dagitty.net and the R package dagitty.

A dagitty graph looks like::

    dag {
      X [exposure]
      Y [outcome]
      U [latent]
      Z [adjusted]
      X -> Y [beta=0.5]
      X <-> Y
      {A B} -> C
    }

Node attributes ``exposure``, ``outcome``, ``latent``, ``adjusted`` and
``selected`` become node roles; ``a <-> b`` a latent confounding; ``{A B}``
groups stand for each of their members; ``A -> B -> C`` chains are read as
their edges. An edge's ``beta`` is its gain (and gives its sign). dagitty names
that are not identifiers (``"Smoking status"``) become identifiers with the
original text as the label.

Examples
--------
>>> spec = parse_dagitty('dag { X [exposure] Y [outcome] U [latent] X -> Y [beta=0.5] U -> {X Y} }')
>>> sorted(spec.edges), spec.nodes["U"].role.value
(['U -> X', 'U -> Y', 'X -> Y'], 'latent')
>>> print(generate_dagitty(spec))
dag {
X [exposure]
Y [outcome]
U [latent]
X -> Y [beta=0.5]
U -> X
U -> Y
}
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from causal.build import spec_from_data
from causal.spec import CausalSpec
from tenor.core.errors import SpecError
from tenor.core.limits import MAX_BYTES, MAX_EDGES, MAX_NODES, MAX_TOKENS
from tenor.core.output import write_text
from tenor.core.specfile import Document, read_text

__all__ = ["generate_dagitty", "parse_dagitty", "read_dagitty", "write_dagitty"]

_ROLE_ATTRS = {"exposure", "outcome", "latent", "adjusted", "selected"}
_TOKEN = re.compile(
    r'\s+|#[^\n]*|//[^\n]*|(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|'
    r"(?P<sym><->|->|<-|--|[{}\[\]=,;@])|"
    r'(?P<word>[^\s{}\[\]=,;"<>@-][^\s{}\[\]=,;"<>@]*)|'
    r"(?P<bad>.)",  # anything else: an error at this character
    re.DOTALL,
)


class _Tok(NamedTuple):
    kind: str
    text: str
    pos: int  # offset in the text; its line and column are found when needed


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unquote(body: str) -> str:
    r"""The text of a quoted dagitty name: ``\"`` is a quote, ``\\`` a backslash, ``\n`` a new line."""
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), body) if "\\" in body else body


class _Lines:
    """Line and column of an offset in a text (the line starts are found once, when first needed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None

    def __call__(self, pos: int) -> tuple[int, int]:
        if self.starts is None:
            self.starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self.starts, pos)
        return line, pos - self.starts[line - 1] + 1


def _tokens(text: str, file: str, where: _Lines | None = None) -> Iterator[_Tok]:
    """The tokens of dagitty text, one at a time; at most :data:`~tenor.core.limits.MAX_TOKENS`."""
    count = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue  # white space, a comment
        pos = m.start()
        if kind == "bad":
            char = text[pos]
            line, column = (where or _Lines(text))(pos)
            raise SpecError(
                "unclosed quoted name" if char == '"' else f"unexpected character {char!r}",
                file=file,
                line=line,
                column=column,
                hint="close the quote" if char == '"' else "dagitty text is 'dag { A -> B ... }'",
            )
        count += 1
        if count > MAX_TOKENS:
            line, column = (where or _Lines(text))(pos)
            raise SpecError(
                f"more than MAX_TOKENS = {MAX_TOKENS:,} names, arrows and brackets",
                file=file,
                line=line,
                column=column,
                hint="split the graph, or check that this is the file you meant",
            )
        value = m.group(kind)
        yield _Tok(kind, _unquote(value[1:-1]) if kind == "str" else value, pos)


def _tokenize(text: str, file: str) -> list[_Tok]:
    """All the tokens of dagitty text."""
    return list(_tokens(text, file))


_NON_IDENT = re.compile(r"[^A-Za-z0-9_]+")


def _ident(name: str) -> str:
    ident = _NON_IDENT.sub("_", name.strip()).strip("_") or "node"
    if ident[0].isdigit():
        ident = "n_" + ident
    return ident


_UNREAD = object()


class _Parser:
    """A recursive-descent reader over a lazy token stream (one token of look-ahead past the next)."""

    def __init__(self, tokens: Iterable[_Tok], file: str, where: _Lines) -> None:
        self.tokens, self.file, self.where = iter(tokens), file, where
        self.cur: _Tok | None = next(self.tokens, None)  # the next token
        self.after: _Tok | object | None = _UNREAD  # the one after it, once looked at
        self.last: _Tok | None = None
        self.nodes: dict[str, dict] = {}
        self.labels: dict[str, str] = {}
        self.idents: dict[str, str] = {}  # dagitty name -> identifier
        self.edges: dict[str, dict] = {}
        self.marks: dict[tuple[str, ...], int] = {}

    def peek(self) -> _Tok | None:
        return self.cur

    def peek_after(self) -> _Tok | None:
        """The token after the next one."""
        if self.after is _UNREAD:
            self.after = next(self.tokens, None) if self.cur is not None else None
        return self.after  # type: ignore[return-value]

    def fail(self, message: str, tok: _Tok | None, hint: str | None = None) -> SpecError:
        last = tok or self.last
        line, column = self.where(last.pos) if last else (1, 1)
        return SpecError(message, file=self.file, line=line, column=column, hint=hint)

    def take(self, text: str | None = None) -> _Tok:
        tok = self.cur
        if tok is None:
            raise self.fail(f"expected {text!r}, found the end of the text" if text else "unexpected end", None)
        if text is not None and tok.text != text:
            raise self.fail(f"expected {text!r}, found {tok.text!r}", tok)
        if self.after is _UNREAD:
            self.cur = next(self.tokens, None)
        else:
            self.cur, self.after = self.after, _UNREAD  # type: ignore[assignment]
        self.last = tok
        return tok

    def name(self, tok: _Tok) -> str:
        raw = tok.text
        ident = self.idents.get(raw)
        if ident is not None:
            return ident
        ident = base = _ident(raw)
        count = 1
        while ident in self.nodes:  # two dagitty names that read as the same identifier
            count += 1
            ident = f"{base}_{count}"
        if len(self.nodes) >= MAX_NODES:
            raise self.fail(
                f"more than MAX_NODES = {MAX_NODES:,} nodes",
                tok,
                "split the graph into smaller ones, or check that this is the file you meant",
            )
        self.idents[raw] = ident
        self.nodes[ident] = {}
        self.marks[("nodes", ident)] = tok.pos  # an offset until parse_dagitty turns it into a line
        if raw != ident:
            self.labels[ident] = raw
        return ident

    def parse(self) -> None:
        tok = self.take()
        if tok.text not in ("dag", "pdag", "graph", "digraph"):
            raise self.fail(f"expected 'dag', found {tok.text!r}", tok, "dagitty text starts with 'dag {'")
        if (t := self.peek()) is not None and t.kind in ("word", "str"):
            self.take()  # graph name
        self.take("{")
        while (tok := self.peek()) is not None and tok.text != "}":
            if tok.text in (";", ","):
                self.take()
                continue
            self.statement()
        self.take("}")
        if (t := self.peek()) is not None:
            raise self.fail(f"unexpected {t.text!r} after the closing '}}'", t)

    def group(self) -> list[str]:
        tok = self.take()
        if tok.text == "{":
            names = []
            while (t := self.peek()) is not None and t.text != "}":
                if t.kind not in ("word", "str"):
                    raise self.fail(f"expected a node name, found {t.text!r}", t)
                names.append(self.name(self.take()))
            self.take("}")
            return names
        if tok.kind not in ("word", "str"):
            raise self.fail(f"expected a node name, found {tok.text!r}", tok)
        return [self.name(tok)]

    def attributes(self) -> list[tuple[str, str | None, _Tok]]:
        attrs: list[tuple[str, str | None, _Tok]] = []
        if (t := self.peek()) is None or t.text != "[":
            return attrs
        self.take("[")
        while (t := self.peek()) is not None and t.text != "]":
            if t.text == ",":
                self.take()
                continue
            key = self.take()
            value = None
            if (t := self.peek()) is not None and t.text == "=":
                self.take("=")
                value = self.take().text
            attrs.append((key.text, value, key))
        self.take("]")
        return attrs

    def statement(self) -> None:
        if self._graph_attribute():
            return
        left = self.group()
        chain: list[tuple[list[str], str, list[str], _Tok]] = []
        while (t := self.peek()) is not None and t.text in ("->", "<-", "<->", "--"):
            arrow = self.take().text
            if arrow == "--":
                raise self.fail("undirected edges (--) are not supported", t, "orient the edge: a -> b, or a <-> b")
            right = self.group()
            chain.append((left, arrow, right, t))
            left = right
        attrs = self.attributes()
        if not chain:
            self._node_attributes(left, attrs)
            return
        edge_attrs = self._edge_attributes(attrs)
        for lhs, arrow, rhs, tok in chain:
            self._check_edge_count(len(lhs) * len(rhs), tok)
            for a in lhs:
                for b in rhs:
                    tail, head = (b, a) if arrow == "<-" else (a, b)
                    key = f"{tail} <-> {head}" if arrow == "<->" else f"{tail} -> {head}"
                    self.edges[key] = dict(edge_attrs) if arrow != "<->" else {}
                    self.marks.setdefault(("edges", key), tok.pos)

    def _graph_attribute(self) -> bool:
        """Skip a graph attribute such as ``bb="..."``; whether there was one."""
        first = self.cur
        if first is None or first.kind != "word" or (second := self.peek_after()) is None or second.text != "=":
            return False
        self.take()
        self.take("=")
        self.take()
        return True

    def _node_attributes(self, nodes: list[str], attrs: list[tuple[str, str | None, _Tok]]) -> None:
        for node in nodes:
            for key, value, _ in attrs:
                if key in _ROLE_ATTRS:
                    current = self.nodes[node].get("role")
                    if current != "latent":
                        self.nodes[node]["role"] = key
                elif key == "label" and value:
                    self.labels[node] = value
                # other dagitty attributes (pos, ...) carry no meaning here

    def _edge_attributes(self, attrs: list[tuple[str, str | None, _Tok]]) -> dict:
        edge_attrs: dict = {}
        for key, value, tok in attrs:
            if key == "beta" and value is not None:
                try:
                    edge_attrs["gain"] = float(value)
                except ValueError:
                    raise self.fail(f"beta must be a number, got {value!r}", tok) from None
            elif key == "sign" and value is not None:
                edge_attrs["sign"] = value
            elif key == "lag" and value is not None:
                edge_attrs["lag"] = value
        return edge_attrs

    def _check_edge_count(self, adding: int, tok: _Tok) -> None:
        """Refuse, before they are made, edges that would take the graph over :data:`MAX_EDGES`."""
        if len(self.edges) + adding <= MAX_EDGES:
            return
        raise self.fail(
            f"more than MAX_EDGES = {MAX_EDGES:,} edges (a group edge such as {{a b}} -> {{c d}} "
            "counts each edge it stands for)",
            tok,
            "split the graph into smaller ones, or write fewer group edges",
        )


def parse_dagitty(text: str, file: str = "<input>") -> CausalSpec:
    """Parse dagitty text into a :class:`~causal.spec.CausalSpec`.

    Raises
    ------
    SpecError
        On a syntax error, or a graph over :data:`~tenor.core.limits.MAX_NODES` nodes
        or :data:`~tenor.core.limits.MAX_EDGES` edges, located at its line.
    """
    if len(text) > MAX_BYTES:
        raise SpecError(
            f"input is {len(text):,} characters; the limit is MAX_BYTES = {MAX_BYTES:,}",
            file=file,
            hint="split the graph, or check that this is the input you meant",
        )
    where = _Lines(text)
    parser = _Parser(_tokens(text, file, where), file, where)
    parser.parse()
    nodes = {}
    for name, attrs in parser.nodes.items():
        node = dict(attrs)
        if name in parser.labels:
            node["label"] = parser.labels[name]
        nodes[name] = node
    marks: dict[tuple[str | int, ...], tuple[int, int]] = {(): (1, 1)}
    marks.update((path, where(pos)) for path, pos in parser.marks.items())
    return spec_from_data(Document({"nodes": nodes, "edges": parser.edges}, file, marks=marks))


def read_dagitty(path: str | Path) -> CausalSpec:
    """Read a dagitty file."""
    return parse_dagitty(read_text(path), file=str(path))


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) else '"' + name.replace('"', '\\"') + '"'


def generate_dagitty(spec: CausalSpec) -> str:
    """dagitty text for ``spec``: roles, latent nodes, edges with their gains as ``beta``."""
    lines = ["dag {"]
    for name, node in spec.nodes.items():
        role = node.role.value
        if role in _ROLE_ATTRS:
            lines.append(f"{_quote(name)} [{role}]")
        else:
            lines.append(_quote(name))
    # plain nodes are listed too, so that isolated nodes survive; drop them when an edge names them
    named = {n for e in spec.directed_edges() for n in (e.cause, e.effect)}
    named |= {n for a, b, _ in spec.bidirected_edges() for n in (a, b)}
    drop = {_quote(n) for n in named}
    lines = [ln for ln in lines if ln not in drop]
    for edge in spec.directed_edges():
        attrs = []
        if edge.gain is not None:
            attrs.append(f"beta={edge.gain!r}")
        elif edge.sign is not None:
            attrs.append(f'sign="{edge.sign}"')
        suffix = f" [{','.join(attrs)}]" if attrs else ""
        lines.append(f"{_quote(edge.cause)} -> {_quote(edge.effect)}{suffix}")
    for a, b, _ in spec.bidirected_edges():
        lines.append(f"{_quote(a)} <-> {_quote(b)}")
    lines.append("}")
    return "\n".join(lines)


def write_dagitty(spec: CausalSpec, path: str | Path) -> None:
    """Write dagitty text atomically."""
    write_text(path, generate_dagitty(spec) + "\n")
