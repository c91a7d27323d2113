"""Safe, line-aware YAML for spec files, and errors that point into them.

The YAML parser's event stream (every event carries its line and column) is
turned into plain Python data (dicts, lists, str, int, float, bool, None) with
an explicit stack, never by recursion, while a table records where each key
path sits in the file. Validation errors from pydantic, whose ``loc`` is such a
key path (``('edges', 'a -> b', 'gain')``), are then reported as
``file:line:column: edges.a -> b.gain: ...``.

The reader never builds objects from tags (``!!python/object`` is an error),
refuses aliases (so an alias "billion laughs" cannot blow up) and characters
YAML does not allow, reports duplicate keys with both lines, and holds every
input to the limits of :mod:`tenor.core.limits`: its size (``MAX_BYTES``), its
number of values (``MAX_TOKENS``) and its nesting (``MAX_DEPTH``, checked as
each mapping or list opens, so 30,000 nested brackets are refused at the 51st).

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
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenor.core.errors import Diagnostic, SpecError
from tenor.core.limits import MAX_BYTES, MAX_DEPTH, MAX_TOKENS

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Document",
    "Problem",
    "did_you_mean",
    "format_key",
    "parse_yaml",
    "positions",
    "read_stdin",
    "read_text",
    "read_yaml",
    "spec_error",
    "validation_diagnostics",
]


_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",  # kept as its text
}
# characters YAML 1.2 allows in a stream (§5.1); anything else is refused before parsing
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")  # read by int() as YAML reads it
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?")  # likewise float()
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
            f"file is {size:,} bytes; the limit is MAX_BYTES = {MAX_BYTES:,}",
            file=where,
            hint="split the spec, or check that this is the file you meant",
        )
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)  # never more, even from a device or a pipe
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", file=where) from None
    if len(data) > MAX_BYTES:  # the file grew, or is not a regular file
        raise SpecError(
            f"file is over the limit of MAX_BYTES = {MAX_BYTES:,} bytes",
            file=where,
            hint="split the spec, or check that this is the file you meant",
        )
    return _decode(data, where, "file")


def read_stdin(name: str = "<stdin>") -> str:
    """Read standard input as UTF-8 text, refusing more than :data:`~tenor.core.limits.MAX_BYTES` bytes."""
    stream = sys.stdin
    binary = getattr(stream, "buffer", None)
    try:
        data = binary.read(MAX_BYTES + 1) if binary is not None else stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read standard input: {exc.strerror}", file=name) from None
    if len(data) > MAX_BYTES:
        raise SpecError(
            f"standard input is over the limit of MAX_BYTES = {MAX_BYTES:,} bytes",
            file=name,
            hint="split the input, or check that this is the input you meant",
        )
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    return _decode(data, name, "input")


def _decode(data: bytes, where: str, what: str) -> str:
    """UTF-8 text (a byte-order mark dropped); other bytes are a located error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not UTF-8 text (byte {exc.start})",
            file=where,
            line=_line_of(data, exc.start),
            hint=f"save the {what} as UTF-8",
        ) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_yaml(path: str | Path) -> Document:
    """Read a YAML file safely into a :class:`Document`."""
    return parse_yaml(read_text(path), file=str(path))


def parse_yaml(text: str, file: str = "<input>") -> Document:
    """Parse YAML text safely into a :class:`Document`.

    The text is read as a stream of parser events and built into plain data
    without recursion, so the nesting depth (:data:`~tenor.core.limits.MAX_DEPTH`)
    is checked as each mapping or list opens, before anything deeper is read.

    Raises
    ------
    SpecError
        On a syntax error, a tag, an alias, a duplicate key, or an input that is
        too large or too deep.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_BYTES:
        raise SpecError(
            f"input is {len(text):,} characters; the limit is MAX_BYTES = {MAX_BYTES:,}",
            file=file,
            hint="split the spec, or check that this is the input you meant",
        )
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise SpecError(
            f"YAML does not allow the character U+{ord(bad.group()):04X}",
            file=file,
            line=line,
            column=column,
            hint="remove it (control characters are often pasted in by accident)",
        )
    yaml = YAML(typ="safe")  # the C parser (ruamel.yaml.clib) when installed
    doc = Document(None, file)
    builder = _Builder(doc, yaml)
    events = yaml.parse(text)
    try:
        doc.data = builder.build(events)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(
            f"YAML syntax: {problem}", file=file, line=line, column=column, hint=_syntax_hint(text, line, problem)
        ) from None
    except (YAMLError, RecursionError, ValueError) as exc:
        raise SpecError(f"YAML syntax: {exc}", file=file, hint="check that this is a YAML file") from None
    finally:
        events.close()
    if builder.problems:
        raise SpecError(diagnostics=builder.problems)
    return doc


def positions(text: str) -> tuple[dict[Path_, tuple[int, int]], dict[Path_, tuple[int, int]]]:
    """Line and column of every value, and of every key, of YAML (or JSON) text, by key path.

    Best effort, for locating errors found by other readers: whatever cannot be
    read (a syntax error, too deep a nesting) gives the positions found before it.

    >>> marks, key_marks = positions('{"nodes": [{"id": 1}]}')
    >>> marks[("nodes", 0, "id")], key_marks[("nodes", 0, "id")]
    ((1, 19), (1, 13))
    """
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    doc = Document(None)
    events = yaml.parse(text)
    try:
        _Builder(doc, yaml).build(events)
    except Exception:  # positions found so far are kept
        pass
    finally:
        events.close()
    return doc.marks, doc.key_marks


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


_DISCARD = object()  # the key of a mapping entry that is reported and left out


@dataclass
class _Open:
    """A mapping or list being read: its data (None when it is left out), path and keys so far."""

    data: dict[str, Any] | list[Any] | None
    path: Path_
    key: Any = None  # in a mapping: None while a key is awaited, else the key (or _DISCARD)
    first_line: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Plain data from parser events, with an explicit stack instead of recursion."""

    def __init__(self, doc: Document, yaml: Any) -> None:
        self.doc = doc
        self.constructor = yaml.constructor
        self.resolver = yaml.resolver
        self.problems: list[Diagnostic] = []
        # the implicit resolvers of the default YAML version, by first character: (tag, compiled pattern)
        table = self.resolver.versioned_resolver
        anywhere = [(str(tag), _compiled(regexp)) for tag, regexp in table.get(None, [])]
        self.implicit: dict[str, list[tuple[str, Any]]] = {
            first: [(str(tag), _compiled(regexp)) for tag, regexp in resolvers] + anywhere
            for first, resolvers in table.items()
            if first is not None
        }
        self.anywhere = anywhere
        self.seen_tags: dict[str, str] = {}  # plain text -> its implied tag
        self.versioned = False  # a %YAML directive: resolve through ruamel
        self.documents = 0

    def _tag(self, event: Any) -> str:
        """The tag of a scalar: its own, or the one its plain text implies."""
        tag = event.tag
        if tag is not None and tag != "!":
            return str(tag)
        if self.versioned:
            from ruamel.yaml.nodes import ScalarNode

            return str(self.resolver.resolve(ScalarNode, event.value, event.implicit))  # a str, not a Tag
        value = event.value
        if not event.implicit[0]:
            return _STR
        found = self.seen_tags.get(value)
        if found is None:
            found = next((t for t, regexp in self.implicit.get(value[:1], self.anywhere) if regexp.match(value)), _STR)
            if len(self.seen_tags) < 10_000:
                self.seen_tags[value] = found
        return found

    def _scalar(self, event: Any, tag: str) -> Any:
        """The value of a scalar with a plain tag (str, int, float, bool, null, timestamp as text)."""
        value = event.value
        if tag == _STR or tag == _TIMESTAMP:
            return str(value)
        if tag == _INT and _DECIMAL.fullmatch(value):
            return int(value)
        if tag == _FLOAT and _DECIMAL_FLOAT.fullmatch(value):
            return float(value)
        from ruamel.yaml.nodes import ScalarNode

        node = ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style)
        return self.constructor.yaml_constructors[tag](self.constructor, node)

    @staticmethod
    def _where(event: Any) -> tuple[int, int]:
        return event.start_mark.line + 1, event.start_mark.column + 1

    def _fail(self, event: Any, path: Path_, message: str, hint: str | None = None) -> None:
        line, column = self._where(event)
        self.problems.append(Diagnostic(message, self.doc.file, line, column, format_key(path) or None, hint))

    def build(self, events: Iterable[Any]) -> Any:
        """Compose the document from the parser's events with an explicit stack (no recursion)."""
        from ruamel.yaml import events as ev

        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        starts = (ev.MappingStartEvent, ev.SequenceStartEvent)
        ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
        stack: list[_Open] = []
        root: Any = None
        values = 0
        for event in events:
            kind = type(event)
            if kind in ends:
                done = stack.pop()
                root = self._attach(stack, done.data, root)
                continue
            if kind is not scalar_event and kind is not alias_event and kind not in starts:
                self._document_event(event, kind is ev.DocumentStartEvent)
                continue
            values += 1
            self._check_count(event, values)
            parent = stack[-1] if stack else None
            at_key, keep, path = self._position(event, parent)
            if kind is scalar_event:
                tag = self._tag(event)
                if at_key:
                    self._key(parent, event, tag, keep)
                    continue
                root = self._attach(stack, self._value(event, tag, path, keep), root)
            elif kind is alias_event:
                if keep:
                    self._fail(event, path, "aliases (*name) are not supported", "write the value out in full")
                root = self._attach(stack, None, root)
            else:
                opened = self._open(event, kind is ev.MappingStartEvent, len(stack), at_key, keep, path)
                stack.append(_Open(opened, path))
        return root

    def _document_event(self, event: Any, starts_document: bool) -> None:
        """Stream and document events: one document only."""
        if not starts_document:
            return  # stream start and end, document end
        self.documents += 1
        self.versioned = self.versioned or getattr(event, "version", None) is not None
        if self.documents > 1:
            line, column = self._where(event)
            raise SpecError(
                "YAML syntax: expected a single document, found another one",
                file=self.doc.file,
                line=line,
                column=column,
                hint="a spec is one YAML document: remove the '---' line or split the file",
            )

    def _check_count(self, event: Any, values: int) -> None:
        if values > MAX_TOKENS:
            line, column = self._where(event)
            raise SpecError(
                f"more than MAX_TOKENS = {MAX_TOKENS:,} values (scalars, mappings and lists)",
                file=self.doc.file,
                line=line,
                column=column,
                hint="split the file, or check that this is the file you meant",
            )

    def _position(self, event: Any, parent: _Open | None) -> tuple[bool, bool, tuple[Any, ...]]:
        """Where a value lands: whether it is a mapping key, whether it is kept, and its path (marked)."""
        if parent is None:
            at_key, keep, path = False, True, ()
        else:
            data = parent.data
            at_key = parent.key is None and type(data) is dict
            keep = data is not None and parent.key is not _DISCARD
            if keep and not at_key:
                path = (*parent.path, len(data) if type(data) is list else parent.key)
            else:
                path = parent.path
        if keep and not at_key:
            mark = event.start_mark
            self.doc.marks[path] = (mark.line + 1, mark.column + 1)
        return at_key, keep, path

    def _value(self, event: Any, tag: str, path: tuple[Any, ...], keep: bool) -> Any:
        """A scalar value; a bad tag or malformed number is reported and read as None."""
        if not keep:
            return None
        if tag not in _PLAIN_TAGS:
            self._fail(event, path, f"tag {tag!r} is not allowed", "remove the tag; specs hold plain data only")
            return None
        try:
            return self._scalar(event, tag)
        except Exception:  # a malformed number is reported, never raised
            self._fail(event, path, f"cannot read {_short(event.value)!r}", "check the number")
            return None

    def _open(
        self, event: Any, mapping: bool, depth: int, at_key: bool, keep: bool, path: tuple[Any, ...]
    ) -> dict[str, Any] | list[Any] | None:
        """The container a mapping or list opens (None when its contents are not kept)."""
        if depth >= MAX_DEPTH:
            line, column = self._where(event)
            raise SpecError(
                f"nested deeper than MAX_DEPTH = {MAX_DEPTH} levels of mappings and lists",
                file=self.doc.file,
                line=line,
                column=column,
                hint="flatten the structure (a spec needs only a few levels), "
                "and check for brackets that are never closed",
            )
        if at_key:
            if keep:
                self._fail(event, path, "a key must be plain text", "write the key as text")
            return None
        if not keep:
            return None
        if event.tag not in (None, "!", _MAP if mapping else _SEQ):
            self._fail(event, path, f"tag {event.tag!r} is not allowed", "remove the tag")
            return None
        return {} if mapping else []

    def _key(self, parent: _Open, event: Any, tag: str, keep: bool) -> None:
        """Read a mapping key (a scalar); a bad or repeated key leaves its entry out."""
        parent.key = _DISCARD
        if not keep:
            return
        if tag not in _PLAIN_TAGS:
            self._fail(event, parent.path, "a key must be plain text", "write the key as text")
            return
        key = str(event.value)
        if key == "<<":
            self._fail(event, parent.path, "merge keys (<<) are not supported", "write the keys out in full")
            return
        assert isinstance(parent.data, dict)
        if key in parent.first_line:
            self._fail(
                event,
                (*parent.path, key),
                f"duplicate key {_short(key)!r} (first at line {parent.first_line[key]})",
                "remove one of the two, or rename it",
            )
            return
        parent.first_line[key] = event.start_mark.line + 1
        self.doc.key_marks[(*parent.path, key)] = self._where(event)
        parent.key = key

    @staticmethod
    def _attach(stack: list[_Open], value: Any, root: Any) -> Any:
        """Put a finished value into the mapping or list being read; the root value when there is none."""
        if not stack:
            return value
        parent = stack[-1]
        if type(parent.data) is list:
            parent.data.append(value)
        elif parent.key is None:  # this value was a (bad) key
            parent.key = _DISCARD
        else:
            if parent.key is not _DISCARD and isinstance(parent.data, dict):
                parent.data[parent.key] = value
            parent.key = None
        return root


def _compiled(regexp: Any) -> re.Pattern[str]:
    """A compiled pattern (ruamel keeps its patterns behind a lazy wrapper, slow to call)."""
    return re.compile(regexp.pattern, regexp.flags)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


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


def _extra_key_problem(path: Path_, model: Any) -> tuple[str, str | None]:
    key = str(path[-1]) if path else "?"
    parent = _model_at(model, path[:-1]) if model is not None else None
    allowed = _field_keys(parent)
    close = did_you_mean(key, allowed) if allowed else None
    hint = None
    if " " in key.strip():
        hint = "a comma inside {...} ends the value before it: quote text that contains commas"
    elif close:
        hint = f"did you mean {close!r}?"
    elif allowed:
        hint = "allowed keys: " + ", ".join(allowed)
    return f"unknown key {key!r}", hint


def _choice_problem(err: Mapping[str, Any], value: Any) -> tuple[str, str | None]:
    expected = (err.get("ctx") or {}).get("expected", "")
    options = [o.strip().strip("'\"") for o in expected.replace(" or ", ",").split(",")]
    close = did_you_mean(str(value), [o for o in options if o]) if isinstance(value, str) else None
    return f"{value!r} is not one of {expected}", (f"did you mean {close!r}?" if close else f"write one of {expected}")


def _worded(err: Mapping[str, Any]) -> tuple[str, str | None]:
    """The user's words for one pydantic error that is not about a key: its message and hint."""
    kind, value = err["type"], err.get("input")
    if kind == "tenor_spec":
        return err["msg"], (err.get("ctx") or {}).get("hint")
    if kind in ("literal_error", "enum"):
        return _choice_problem(err, value)
    if (word := _expected_word(kind)) is not None:
        got = "nothing" if value is None else repr(value)
        return f"expected {word}, got {got}", ("write a plain number, e.g. 0.8 or -0.4" if word == "a number" else None)
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, "), None
    return err["msg"], None


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
        path = _data_path(data, err["loc"])
        full, at_key = (*root, *path), False
        if err["type"] == "extra_forbidden":
            (message, hint), at_key = _extra_key_problem(path, model), True
        elif err["type"] == "missing":
            missing = err["loc"][-1]
            full = (*root, *_data_path(data, err["loc"][:-1]))
            message, hint = f"missing required key {missing!r}", f"add '{missing}: ...'"
        else:
            message, hint = _worded(err)
        if (full, message) in seen:
            continue
        seen.add((full, message))
        out.append(doc.diagnostic(Problem(full, message, hint, at_key)))
    return out
