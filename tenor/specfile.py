"""Safe, line-aware YAML for spec files, and errors that point into them.

A spec is read in two steps, as pre-commit does: the YAML text is *composed*
into a node tree (every node carries its line and column), then the tree is
turned into plain Python data (dicts, lists, str, int, float, bool, None) while
a table records where each key path sits in the file. Validation errors from
pydantic, whose ``loc`` is such a key path (``('edges', 'a -> b', 'gain')``),
are then reported as ``file:line:column: edges.a -> b.gain: ...``.

The reader never builds objects from tags (``!!python/object`` is an error),
refuses aliases (so an alias "billion laughs" cannot blow up), caps the size
and nesting depth of the input, and reports duplicate keys with both lines.

Examples
--------
>>> doc = parse_yaml("nodes:\\n  a: {label: A}\\n  b: {}\\n", file="g.yaml")
>>> doc.data
{'nodes': {'a': {'label': 'A'}, 'b': {}}}
>>> doc.locate(("nodes", "b"))
(3, 6)
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenor.errors import Diagnostic, SpecError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Document",
    "Problem",
    "did_you_mean",
    "format_key",
    "parse_yaml",
    "read_text",
    "read_yaml",
    "spec_error",
    "validation_diagnostics",
]

MAX_BYTES = 5_000_000
"""Largest spec file accepted, in bytes."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted."""

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",  # kept as its text
}
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """A problem found at a key path of a spec, before it is given a line."""

    path: Path_
    message: str
    hint: str | None = None
    at_key: bool = False


@dataclass
class Document:
    """Plain data read from YAML, with the line and column of every key path."""

    data: Any
    file: str = "<input>"
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int] | None:
        """Line and column (1-based) of ``path``, or of its deepest known prefix."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if at_key and prefix in self.key_marks:
                return self.key_marks[prefix]
            if prefix in self.marks:
                return self.marks[prefix]
        return None

    def diagnostic(self, problem: Problem) -> Diagnostic:
        """Turn a key-path problem into a diagnostic with a line and column."""
        where = self.locate(problem.path, at_key=problem.at_key)
        line, column = where if where else (None, None)
        return Diagnostic(problem.message, self.file, line, column, format_key(problem.path) or None, problem.hint)


def format_key(path: Sequence[str | int]) -> str:
    """Key path as a user reads it.

    >>> format_key(("edges", "a -> b", "gain"))
    'edges.a -> b.gain'
    >>> format_key(("claims", 2, "distinct"))
    'claims[2].distinct'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a mistyped word, if one is close enough.

    >>> did_you_mean("mof_intervension", ["mof_intervention", "bill_sales"])
    'mof_intervention'
    """
    pool = list(candidates)
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return close[0] if close else None


def spec_error(problems: Iterable[Problem], doc: Document | None = None, file: str | None = None) -> SpecError:
    """One :class:`SpecError` holding every problem, located in ``doc``."""
    doc = doc or Document(None, file or "<input>")
    return SpecError(diagnostics=[doc.diagnostic(p) for p in problems])


def read_text(path: str | Path) -> str:
    """Read a spec file as UTF-8 text, with a clear error when that fails."""
    p = Path(path)
    where = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise SpecError("file not found", file=where, hint="check the path and the current directory") from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", file=where) from None
    if p.is_dir():
        raise SpecError("is a folder, not a file", file=where, hint="name the spec file inside it")
    if size > MAX_BYTES:
        raise SpecError(
            f"file is {size:,} bytes; the limit is {MAX_BYTES:,}",
            file=where,
            hint="split the spec, or check that this is the file you meant",
        )
    try:
        return p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", file=where, hint="save the file as UTF-8") from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", file=where) from None


def read_yaml(path: str | Path) -> Document:
    """Read a YAML file safely into a :class:`Document`."""
    return parse_yaml(read_text(path), file=str(path))


def parse_yaml(text: str, file: str = "<input>") -> Document:
    """Parse YAML text safely into a :class:`Document`.

    Raises
    ------
    SpecError
        On a syntax error, a tag, an alias, a duplicate key, or an input that is
        too large or too deep.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_BYTES:
        raise SpecError(f"input is {len(text):,} characters; the limit is {MAX_BYTES:,}", file=file)
    yaml = YAML(typ="safe")  # the C composer (ruamel.yaml.clib) when installed
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(
            f"YAML syntax: {problem}", file=file, line=line, column=column, hint=_syntax_hint(text, line, problem)
        ) from None
    except (YAMLError, RecursionError) as exc:
        raise SpecError(f"YAML syntax: {exc}", file=file) from None
    doc = Document(None, file)
    if root is None:
        doc.data = None
        return doc
    builder = _Builder(doc, yaml)
    doc.data = builder.build(root, (), 0)
    if builder.problems:
        raise SpecError(diagnostics=builder.problems)
    return doc


def _syntax_hint(text: str, line: int | None, problem: str) -> str | None:
    lines = text.splitlines()
    source = lines[line - 1] if line and 0 < line <= len(lines) else ""
    if "sequence entries are not allowed" in problem and ": -" in source:
        return 'a lone "-" starts a list in YAML: quote it (sign: "-") or write sign: negative'
    if "mapping values are not allowed" in problem:
        return "a value with ': ' in it must be quoted, e.g. description: \"a: b\""
    if "found character '\\t'" in problem or "\t" in source:
        return "YAML indents with spaces, not tabs"
    return "check the indentation and quoting on this line and the one above"


class _Builder:
    def __init__(self, doc: Document, yaml: Any) -> None:
        self.doc = doc
        self.constructor = yaml.constructor
        self.seen: set[int] = set()
        self.problems: list[Diagnostic] = []

    def _where(self, node: Any) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _fail(self, node: Any, path: Path_, message: str, hint: str | None = None) -> None:
        line, column = self._where(node)
        self.problems.append(Diagnostic(message, self.doc.file, line, column, format_key(path) or None, hint))

    def build(self, node: Any, path: Path_, depth: int) -> Any:
        self.doc.marks[path] = self._where(node)
        if id(node) in self.seen or (getattr(node, "anchor", None) is not None and id(node) in self.seen):
            self._fail(node, path, "aliases (*name) are not supported", "write the value out in full")
            return None
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            self._fail(node, path, f"nested deeper than {MAX_DEPTH} levels", "flatten the structure")
            return None
        kind = type(node).__name__
        if kind == "MappingNode":
            if node.tag != _MAP:
                self._fail(node, path, f"tag {node.tag!r} is not allowed", "remove the tag")
                return None
            out: dict[str, Any] = {}
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                if type(key_node).__name__ != "ScalarNode" or key_node.tag not in _PLAIN_TAGS:
                    self._fail(key_node, path, "a key must be plain text", "write the key as text")
                    continue
                key = str(key_node.value)
                if key == "<<":
                    self._fail(key_node, path, "merge keys (<<) are not supported", "write the keys out in full")
                    continue
                if key in out:
                    self._fail(
                        key_node,
                        (*path, key),
                        f"duplicate key {key!r} (first at line {first_line[key]})",
                        "remove one of the two, or rename it",
                    )
                    continue
                first_line[key] = key_node.start_mark.line + 1
                self.doc.key_marks[(*path, key)] = self._where(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if kind == "SequenceNode":
            if node.tag != _SEQ:
                self._fail(node, path, f"tag {node.tag!r} is not allowed", "remove the tag")
                return None
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag not in _PLAIN_TAGS:
            self._fail(node, path, f"tag {node.tag!r} is not allowed", "remove the tag; specs hold plain data only")
            return None
        if node.tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
            return str(node.value)
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception:  # a malformed number is reported, never raised
            self._fail(node, path, f"cannot read {node.value!r}", "check the number")
            return None


# --- pydantic errors -> diagnostics ---------------------------------------------------------

_TYPE_WORDS = {
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "tuple": "a list",
    "set": "a list",
}


def _expected_word(error_type: str) -> str | None:
    for prefix, word in _TYPE_WORDS.items():
        if error_type.startswith(prefix):
            return word
    return None


def _field_keys(model: Any) -> list[str]:
    fields = getattr(model, "model_fields", None)
    if not fields:
        return []
    return [f.alias or name for name, f in fields.items()]


def _model_at(model: Any, path: Sequence[str | int]) -> Any:
    """The pydantic model class that validates the value at ``path`` (best effort)."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if current is None:
            return None
        fields = getattr(current, "model_fields", None)
        if fields is not None and isinstance(part, str):
            match = next((f for n, f in fields.items() if (f.alias or n) == part), None)
            if match is None:
                return None
            current = match.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (list, tuple, Sequence) and args:
            current = args[0]
        elif origin is dict and len(args) == 2:
            current = args[1]
        else:
            return None
    return _unwrap(current)


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if hasattr(arg, "model_fields"):
                return arg
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _unwrap(arg)
    return tp


def _data_path(data: Any, loc: Sequence[Any]) -> Path_:
    """Keep the parts of a pydantic ``loc`` that are real keys of the data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part not in current:
            # a missing key, or a union tag such as 'str' / 'function-after[...]'
            if part.isidentifier() and not any(c in part for c in "[]"):
                path.append(part)
                current = None
        # otherwise: union branch labels; skip them
    return tuple(path)


def validation_diagnostics(exc: Any, doc: Document, model: Any = None, root: Path_ = ()) -> list[Diagnostic]:
    """Turn a pydantic ``ValidationError`` into located, user-worded diagnostics.

    ``root`` is prepended to every location, for models validated from a
    sub-tree of the document.
    """
    out: list[Diagnostic] = []
    seen: set[tuple[Path_, str]] = set()
    data = doc.data
    for sub in root:
        data = data[sub] if isinstance(data, dict | list) else None
    for err in exc.errors(include_url=False):
        kind = err["type"]
        path = _data_path(data, err["loc"])
        full = (*root, *path)
        hint: str | None = None
        at_key = False
        value = err.get("input")
        if kind == "extra_forbidden":
            key = str(path[-1]) if path else "?"
            parent = _model_at(model, path[:-1]) if model is not None else None
            allowed = _field_keys(parent)
            close = did_you_mean(key, allowed) if allowed else None
            message = f"unknown key {key!r}"
            if " " in key.strip():
                hint = "a comma inside {...} ends the value before it: quote text that contains commas"
            elif close:
                hint = f"did you mean {close!r}?"
            elif allowed:
                hint = "allowed keys: " + ", ".join(allowed)
            at_key = True
        elif kind == "missing":
            missing = err["loc"][-1]
            full = (*root, *_data_path(data, err["loc"][:-1]))
            message = f"missing required key {missing!r}"
            hint = f"add '{missing}: ...'"
        elif kind == "tenor_spec":
            message = err["msg"]
            hint = (err.get("ctx") or {}).get("hint")
        elif kind in ("literal_error", "enum"):
            expected = (err.get("ctx") or {}).get("expected", "")
            message = f"{value!r} is not one of {expected}"
            options = [o.strip().strip("'\"") for o in expected.replace(" or ", ",").split(",")]
            close = did_you_mean(str(value), [o for o in options if o]) if isinstance(value, str) else None
            hint = f"did you mean {close!r}?" if close else f"write one of {expected}"
        elif (word := _expected_word(kind)) is not None:
            got = "nothing" if value is None else repr(value)
            message = f"expected {word}, got {got}"
            if word == "a number":
                hint = "write a plain number, e.g. 0.8 or -0.4"
        elif kind == "value_error":
            message = err["msg"].removeprefix("Value error, ")
        else:
            message = err["msg"]
        if (full, message) in seen:
            continue
        seen.add((full, message))
        out.append(doc.diagnostic(Problem(full, message, hint, at_key)))
    return out
