"""The equation language of stock-and-flow models: a small grammar, an AST, and units.

Every flow, auxiliary and initial value in a tenor model is an *equation*, a
short formula such as ``(teacup_temperature - room_temperature) / characteristic_time``.
The text is read by a hand-written tokenizer and a recursive-descent parser into
frozen AST dataclasses (:class:`Number`, :class:`Name`, :class:`Unary`,
:class:`Binary`, :class:`If`, :class:`Call`). It is never given to ``eval`` or
``exec``: only the grammar below and the functions in :data:`FUNCTIONS` exist.

Grammar, loosest binding first::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum (("=" | "==" | "<>" | "!=" | "<" | "<=" | ">" | ">=") sum)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := atom ("^" unary)?            (so -2^2 is -4, and 2^-1 is 0.5)
    atom       := NUMBER | "time" | "(" expr ")"
                | "if" expr "then" expr "else" expr
                | NAME "(" [expr ("," expr)*] ")"          (a function or a lookup)
                | NAME ["[" ELEMENT ("," ELEMENT)* "]"]     (a variable, or one element)

Keywords and function names are case-insensitive; variable names are not. An
element list may name elements (``holdings[10y]``), a dimension
(``holdings[tenor]``) or ``*`` for all elements (``sum(holdings[*])``).

Errors carry the line and column inside the equation (1-based), so a loader can
point at the exact character in the spec file.

Units are checked with a simple dimensional algebra (:func:`parse_units`,
:func:`infer_units`): ``+``, ``-``, comparisons, ``min``/``max`` and the two
branches of an ``if`` need the same units; ``*`` and ``/`` combine them. A bare
number fits any unit, and a name without declared units is not checked.

Examples
--------
>>> tree = parse_expression("if time > 5 then 2 * x else min(x, 3)")
>>> to_text(tree)
'if (time > 5) then (2 * x) else min(x, 3)'
>>> sorted(n.name for n in names(tree))
['x', 'x']
>>> parse_expression("2 ^ -1 + -2 ^ 2")
Binary(op='+', left=Binary(op='^', left=Number(value=2.0...), right=Unary(op='-', ...)), right=Unary(...))
>>> format_units(parse_units("people / year"))
'people/year'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from stocks_flows.functions import BUILTINS, STATEFUL_FUNCTIONS, Builtin, find_builtin
from stocks_flows.limits import MAX_EQUATION_DEPTH, MAX_NESTING

__all__ = [
    "FUNCTIONS",
    "STATEFUL_FUNCTIONS",
    "Binary",
    "Call",
    "Expr",
    "Fold",
    "FunctionInfo",
    "If",
    "Name",
    "Number",
    "SyntaxProblem",
    "Time",
    "Transform",
    "Unary",
    "Units",
    "children",
    "depth",
    "format_units",
    "infer_units",
    "names",
    "parse_expression",
    "parse_units",
    "to_text",
    "walk",
]


# --- AST ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A numeric literal."""

    value: float
    pos: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class Time:
    """The current simulation time."""

    pos: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class Name:
    """A reference to a variable, optionally to some of its elements."""

    name: str
    subscript: tuple[str, ...] | None = None
    pos: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class Unary:
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Expr
    pos: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class Binary:
    """Arithmetic (``+ - * / ^``), comparison (``= <> < <= > >=``) or logic (``and or``)."""

    op: str
    left: Expr
    right: Expr
    pos: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class If:
    """``if cond then a else b``."""

    cond: Expr
    then: Expr
    other: Expr
    pos: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class Call:
    """A call of a built-in function (lower-case name) or of a lookup (its name)."""

    func: str
    args: tuple[Expr, ...]
    pos: tuple[int, int] = field(default=(1, 1), compare=False)
    lookup: bool = False


Expr = Number | Time | Name | Unary | Binary | If | Call

R = TypeVar("R")


FunctionInfo = Builtin
"""A built-in function: its arity, what it means and its every form (see :mod:`stocks_flows.functions`)."""

FUNCTIONS = BUILTINS
"""The whitelisted functions: nothing else can be called from an equation."""

_KEYWORDS = {"if", "then", "else", "and", "or", "not", "time"}


# --- tokenizer -----------------------------------------------------------------------------


class SyntaxProblem(Exception):
    """An equation cannot be read; ``line`` and ``column`` are 1-based within its text."""

    def __init__(self, message: str, line: int, column: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.hint = message, line, column, hint

    def __str__(self) -> str:
        return f"{self.message} at ({self.line}, {self.column})"


@dataclass(frozen=True)
class _Token:
    kind: str  # NUM, NAME, ELEM, OP, END
    text: str
    line: int
    column: int


_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ELEMENT = re.compile(r"[A-Za-z0-9_]+|\*")
_OPERATORS = ("<=", ">=", "<>", "==", "!=", "+", "-", "*", "/", "^", "(", ")", "[", "]", ",", "<", ">", "=")


_CHARACTER_HINTS = {
    "&": "write 'and' / 'or'",
    "|": "write 'and' / 'or'",
    "!": "write 'not x' or 'a <> b'",
    "'": "names are written without quotes, with _ for spaces",
    '"': "names are written without quotes, with _ for spaces",
}
"""What to write instead of a character the language does not have."""


def _check_after_number(text: str, i: int, number: str, line: int, column: int) -> None:
    """Refuse a name glued to a number (``2x``)."""
    if i < len(text) and (text[i].isalpha() or text[i] == "_"):
        raise SyntaxProblem(
            f"unexpected {text[i]!r} after the number {number!r}",
            line,
            column,
            "put an operator between a number and a name, e.g. 2 * x",
        )


def _tokens(text: str) -> Iterator[_Token]:
    i, line, line_start = 0, 1, 0
    depth = 0
    while i < len(text):
        ch = text[i]
        col = i - line_start + 1
        if ch == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if ch.isspace():
            i += 1
            continue
        if depth > 0 and ch not in "],":
            m = _ELEMENT.match(text, i)
            if m:
                yield _Token("ELEM", m.group(), line, col)
                i = m.end()
                continue
        m = _NUMBER.match(text, i)
        if m:
            yield _Token("NUM", m.group(), line, col)
            i = m.end()
            _check_after_number(text, i, m.group(), line, i - line_start + 1)
            continue
        m = _NAME.match(text, i)
        if m:
            yield _Token("NAME", m.group(), line, col)
            i = m.end()
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is None:
            raise SyntaxProblem(f"unexpected character {ch!r}", line, col, _CHARACTER_HINTS.get(ch))
        if op == "[":
            depth += 1
        elif op == "]":
            depth = max(depth - 1, 0)
        yield _Token("OP", op, line, col)
        i += len(op)
    yield _Token("END", "", line, len(text) - line_start + 1)


# --- parser --------------------------------------------------------------------------------

_COMPARISONS = {"=": "=", "==": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        self.i = 0
        self.nesting = 0

    def enter(self) -> None:
        """One level deeper (a parenthesis, a call, an ``if``, a sign); refused past :data:`MAX_NESTING`."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise SyntaxProblem(
                f"the equation is nested more than {MAX_NESTING} levels deep",
                self.tok.line,
                self.tok.column,
                "split it into auxiliaries, each a part of the formula",
            )

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        return self.tok.kind == "NAME" and self.tok.text.lower() == word

    def is_op(self, op: str) -> bool:
        return self.tok.kind == "OP" and self.tok.text == op

    def fail(self, expected: str, hint: str | None = None) -> SyntaxProblem:
        tok = self.tok
        found = "the end of the equation" if tok.kind == "END" else repr(tok.text)
        return SyntaxProblem(f"expected {expected}, found {found}", tok.line, tok.column, hint)

    def expect_op(self, op: str, hint: str | None = None) -> _Token:
        if not self.is_op(op):
            raise self.fail(repr(op), hint)
        return self.advance()

    def parse(self) -> Expr:
        if self.tok.kind == "END":
            raise SyntaxProblem("the equation is empty", 1, 1, "write a number or a formula")
        tree = self.expr()
        if self.tok.kind != "END":
            hint = "an operator is missing, or a parenthesis" if self.tok.kind in ("NAME", "NUM") else None
            raise self.fail("an operator or the end of the equation", hint)
        return tree

    def expr(self) -> Expr:
        left = self.and_expr()
        while self.is_word("or"):
            tok = self.advance()
            left = Binary("or", left, self.and_expr(), (tok.line, tok.column))
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.is_word("and"):
            tok = self.advance()
            left = Binary("and", left, self.not_expr(), (tok.line, tok.column))
        return left

    def not_expr(self) -> Expr:
        if self.is_word("not"):
            tok = self.advance()
            self.enter()
            inner = self.not_expr()
            self.nesting -= 1
            return Unary("not", inner, (tok.line, tok.column))
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.sum()
        if self.tok.kind == "OP" and self.tok.text in _COMPARISONS:
            tok = self.advance()
            left = Binary(_COMPARISONS[tok.text], left, self.sum(), (tok.line, tok.column))
            if self.tok.kind == "OP" and self.tok.text in _COMPARISONS:
                raise self.fail("an operator", "chain comparisons with 'and': a < b and b < c")
        return left

    def sum(self) -> Expr:
        left = self.product()
        while self.tok.kind == "OP" and self.tok.text in "+-":
            tok = self.advance()
            left = Binary(tok.text, left, self.product(), (tok.line, tok.column))
        return left

    def product(self) -> Expr:
        left = self.unary()
        while self.tok.kind == "OP" and self.tok.text in "*/":
            tok = self.advance()
            left = Binary(tok.text, left, self.unary(), (tok.line, tok.column))
        return left

    def unary(self) -> Expr:
        self.enter()
        if self.tok.kind == "OP" and self.tok.text in "+-":
            tok = self.advance()
            tree: Expr = Unary(tok.text, self.unary(), (tok.line, tok.column))
        else:
            tree = self.power()
        self.nesting -= 1
        return tree

    def power(self) -> Expr:
        base = self.atom()
        if self.is_op("^"):
            tok = self.advance()
            return Binary("^", base, self.unary(), (tok.line, tok.column))
        return base

    def atom(self) -> Expr:
        tok = self.tok
        where = (tok.line, tok.column)
        if tok.kind == "NUM":
            return self.number()
        if self.is_op("("):
            self.advance()
            inner = self.expr()
            self.expect_op(")", "a '(' is not closed")
            return inner
        if tok.kind != "NAME":
            if tok.kind == "OP" and tok.text == ")":
                raise self.fail("a value", "there is a ')' without its '('")
            raise self.fail("a number, a name or '('")
        word = tok.text.lower()
        if word == "if":
            return self.if_then_else()
        if word == "time":
            self.advance()
            return Time(where)
        if word in _KEYWORDS:
            raise self.fail("a value", f"'{tok.text}' is a keyword and cannot start a value")
        self.advance()
        if self.is_op("("):
            return self.call(tok)
        return Name(tok.text, self.subscript(), where)

    def number(self) -> Number:
        tok = self.advance()
        value = float(tok.text)
        if math.isinf(value):
            raise SyntaxProblem(
                f"the number {tok.text} is too large for a float",
                tok.line,
                tok.column,
                "write a number below 1.8e308 in size",
            )
        return Number(value, (tok.line, tok.column))

    def if_then_else(self) -> If:
        tok = self.advance()
        cond = self.expr()
        if not self.is_word("then"):
            raise self.fail("'then'", "write: if condition then a else b")
        self.advance()
        then = self.expr()
        if not self.is_word("else"):
            raise self.fail("'else'", "every 'if' needs an 'else'")
        self.advance()
        return If(cond, then, self.expr(), (tok.line, tok.column))

    def call(self, tok: _Token) -> Call:
        """A call of a built-in (its arity checked) or of a lookup; ``tok`` is its name, '(' is next."""
        self.advance()
        args: list[Expr] = []
        if not self.is_op(")"):
            args.append(self.expr())
            while self.is_op(","):
                self.advance()
                args.append(self.expr())
        self.expect_op(")", "a function call is not closed, or a ',' is missing")
        where = (tok.line, tok.column)
        builtin = find_builtin(tok.text)
        if builtin is None:
            return Call(tok.text, tuple(args), where, lookup=True)
        if not builtin.takes(len(args)):
            raise SyntaxProblem(
                f"{builtin.name}() takes {builtin.arity} arguments, got {len(args)}",
                tok.line,
                tok.column,
                builtin.doc,
            )
        return Call(builtin.name, tuple(args), where)

    def subscript(self) -> tuple[str, ...] | None:
        """The element list after a name (``[10y]``, ``[tenor]``, ``[*]``), if there is one."""
        if not self.is_op("["):
            return None
        self.advance()
        parts: list[str] = []
        while True:
            if self.tok.kind not in ("ELEM", "NAME", "NUM"):
                raise self.fail("an element name, a dimension or '*'")
            parts.append(self.advance().text)
            if self.is_op(","):
                self.advance()
                continue
            self.expect_op("]", "close the element list with ']'")
            return tuple(parts)


def parse_expression(text: str) -> Expr:
    """Parse equation text into an AST.

    Raises
    ------
    SyntaxProblem
        With the 1-based line and column inside ``text`` and a hint.

    >>> parse_expression("a +")
    Traceback (most recent call last):
    ...
    stocks_flows.expr.SyntaxProblem: expected a number, a name or '(', found the end of the equation at (1, 4)
    """
    if not isinstance(text, str):
        text = str(text)
    tree = _Parser(text).parse()
    deepest, where = depth(tree)
    if deepest > MAX_EQUATION_DEPTH:
        raise SyntaxProblem(
            f"the equation is {deepest} levels deep; the limit is {MAX_EQUATION_DEPTH}",
            *where,
            "split a long chain such as a + b + c + ... into auxiliaries, or sum a dimension: sum(x[*])",
        )
    return tree


def depth(tree: Expr) -> tuple[int, tuple[int, int]]:
    """Depth of ``tree`` (a lone number is 1) and the position of its deepest node; never recurses.

    >>> depth(parse_expression("a + b + c"))[0]
    3
    """
    deepest, where = 0, getattr(tree, "pos", (1, 1))
    stack: list[tuple[Expr, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > deepest:
            deepest, where = level, getattr(node, "pos", where)
        stack.extend((child, level + 1) for child in children(node))
    return deepest, where


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node."""
    return _CHILDREN.get(type(node), _no_children)(node)


def _no_children(node: Expr) -> tuple[Expr, ...]:
    return ()


_CHILDREN: dict[type, Callable[[Any], tuple[Expr, ...]]] = {
    Unary: lambda node: (node.operand,),
    Binary: lambda node: (node.left, node.right),
    If: lambda node: (node.cond, node.then, node.other),
    Call: lambda node: node.args,
}


# --- traversal and rendering ---------------------------------------------------------------


def walk(tree: Expr, into: Callable[[Expr], Sequence[Expr]] = children) -> Iterator[Expr]:
    """Every node of ``tree``, parents before children (in reading order); never recurses.

    ``into`` gives the sub-expressions to visit below a node (by default all of them).
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(into(node)))


def names(tree: Expr) -> list[Name]:
    """The variable references in ``tree``, in reading order."""
    return [node for node in walk(tree) if isinstance(node, Name)]


class Fold(Generic[R]):
    """A bottom-up evaluation of a tree: one method per node type, given the results of its children.

    Calling the fold on a tree visits its nodes children first, left to right (the
    order a recursive evaluation would take), without recursing, so a tree as deep
    as the parser allows is folded on a small stack. :meth:`enter` is asked first,
    parents before children: a result other than None stands for the whole subtree,
    whose children are then not visited.

    >>> class Count(Fold[int]):
    ...     def number(self, node): return 1
    ...     def name(self, node): return 1
    ...     def binary(self, node, left, right): return left + right + 1
    >>> Count()(parse_expression("a + 2 * b"))
    5
    """

    def __call__(self, tree: Expr) -> R:
        leaves, inner, call, enter = _dispatch(type(self))
        if enter is None and type(tree) in leaves:
            return leaves[type(tree)](self, tree)
        results: list[R] = []
        push = results.append
        stack: list[Expr | tuple[Expr, int]] = [tree]
        pop = stack.pop
        while stack:
            item = pop()
            if type(item) is tuple:  # (node, count): its children are done, their results on top
                node, count = item
                done = results[-count:]
                del results[-count:]
                push(call(self, node, done) if type(node) is Call else inner[type(node)](self, node, *done))
                continue
            if enter is not None:
                early = enter(self, item)
                if early is not None:
                    push(early)
                    continue
            leaf = leaves.get(type(item))
            if leaf is not None:
                push(leaf(self, item))
                continue
            kids = children(item)
            if not kids:
                push(call(self, item, []))  # a call without arguments
                continue
            stack.append((item, len(kids)))
            stack.extend(reversed(kids))
        return results[0]

    def enter(self, node: Expr) -> R | None:
        """A result for ``node`` without visiting its children, or None to visit them."""
        return None

    def number(self, node: Number) -> R:
        raise TypeError(node)

    def time(self, node: Time) -> R:
        raise TypeError(node)

    def name(self, node: Name) -> R:
        raise TypeError(node)

    def unary(self, node: Unary, operand: R) -> R:
        raise TypeError(node)

    def binary(self, node: Binary, left: R, right: R) -> R:
        raise TypeError(node)

    def if_(self, node: If, cond: R, then: R, other: R) -> R:
        raise TypeError(node)

    def call(self, node: Call, args: list[R]) -> R:
        raise TypeError(node)


_Dispatch = tuple[dict[type, Callable[..., Any]], dict[type, Callable[..., Any]], Callable[..., Any], Any]
_DISPATCH: dict[type, _Dispatch] = {}


def _dispatch(cls: type[Fold]) -> _Dispatch:
    """A fold class's methods by node type (found once per class)."""
    found = _DISPATCH.get(cls)
    if found is None:
        leaves = {Number: cls.number, Time: cls.time, Name: cls.name}
        inner = {Unary: cls.unary, Binary: cls.binary, If: cls.if_}
        enter = None if cls.enter is Fold.enter else cls.enter
        found = _DISPATCH[cls] = (leaves, inner, cls.call, enter)
    return found


class Transform(Fold[Expr]):
    """A fold that rebuilds the tree: by default each node with its new children (the very same
    node when none of them changed); override a method to replace nodes of one type.

    >>> class Double(Transform):
    ...     def number(self, node): return Number(2 * node.value, node.pos)
    >>> to_text(Double()(parse_expression("x + 1")))
    'x + 2'
    """

    def number(self, node: Number) -> Expr:
        return node

    def time(self, node: Time) -> Expr:
        return node

    def name(self, node: Name) -> Expr:
        return node

    def unary(self, node: Unary, operand: Expr) -> Expr:
        return node if operand is node.operand else Unary(node.op, operand, node.pos)

    def binary(self, node: Binary, left: Expr, right: Expr) -> Expr:
        if left is node.left and right is node.right:
            return node
        return Binary(node.op, left, right, node.pos)

    def if_(self, node: If, cond: Expr, then: Expr, other: Expr) -> Expr:
        if cond is node.cond and then is node.then and other is node.other:
            return node
        return If(cond, then, other, node.pos)

    def call(self, node: Call, args: list[Expr]) -> Expr:
        if all(new is old for new, old in zip(args, node.args, strict=True)):
            return node
        return Call(node.func, tuple(args), node.pos, node.lookup)


def _number_text(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class _Text(Fold[str]):
    def __init__(self, rename: Callable[[Name], str] | None) -> None:
        self.rename = rename

    def number(self, node: Number) -> str:
        return _number_text(node.value)

    def time(self, node: Time) -> str:
        return "time"

    def name(self, node: Name) -> str:
        if self.rename is not None:
            return self.rename(node)
        return node.name + (f"[{', '.join(node.subscript)}]" if node.subscript else "")

    def unary(self, node: Unary, operand: str) -> str:
        return f"(not ({operand}))" if node.op == "not" else f"({node.op}({operand}))"

    def binary(self, node: Binary, left: str, right: str) -> str:
        return f"({left} {node.op} {right})"

    def if_(self, node: If, cond: str, then: str, other: str) -> str:
        return f"(if {cond} then {then} else {other})"

    def call(self, node: Call, args: list[str]) -> str:
        return f"{node.func}({', '.join(args)})"


def to_text(tree: Expr, rename: Callable[[Name], str] | None = None) -> str:
    """Render an AST back to equation text (fully parenthesised where it matters)."""
    text = _Text(rename)(tree)
    if text.startswith("(") and _balanced_outer(text):
        text = text[1:-1]
    return text


def _balanced_outer(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


# --- units ---------------------------------------------------------------------------------

Units = dict[str, float]
"""Units as base name -> exponent (``{'people': 1, 'year': -1}``); ``{}`` is dimensionless."""

_DIMENSIONLESS = {"", "1", "dimensionless", "dmnl", "unitless", "fraction", "none"}


def parse_units(text: str | None) -> Units | None:
    """Parse a units string such as ``"dollar/day"`` or ``"1/year"``; None when not declared.

    >>> parse_units("people*year^-1") == parse_units("people/year")
    True
    """
    if text is None:
        return None
    text = text.strip()
    if text.lower() in _DIMENSIONLESS:
        return {}
    out: Units = {}
    sign = 1.0
    for part in re.split(r"\s*([*/])\s*", text):
        if part == "*":
            continue
        if part == "/":
            sign = -1.0
            continue
        if not part or part.strip("()") in ("1", ""):
            continue
        base, _, power = part.strip("()").partition("^")
        try:
            exponent = float(power) if power else 1.0
        except ValueError:
            exponent = 1.0
        base = base.strip()
        out[base] = out.get(base, 0.0) + sign * exponent
        # a "/" applies to the next factor only, as in "dollar/day*tenor" -> dollar tenor / day
        sign = 1.0
    return {k: v for k, v in out.items() if v != 0}


def format_units(units: Units | None) -> str:
    """Units as text (``"1"`` for dimensionless, ``"?"`` when unknown)."""
    if units is None:
        return "?"
    if not units:
        return "1"

    def one(base: str, exponent: float) -> str:
        e = abs(exponent)
        return base if e == 1 else f"{base}^{_number_text(e)}"

    top = [one(b, e) for b, e in sorted(units.items()) if e > 0]
    bottom = [one(b, e) for b, e in sorted(units.items()) if e < 0]
    text = "*".join(top) or "1"
    if bottom:
        text += "/" + ("*".join(bottom) if len(bottom) == 1 else "(" + "*".join(bottom) + ")")
    return text


@dataclass(frozen=True)
class UnitProblem:
    """Two sides of an operation have different units."""

    message: str
    pos: tuple[int, int]


def _combine(a: Units, b: Units, sign: float) -> Units:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + sign * v
    return {k: v for k, v in out.items() if v != 0}


def infer_units(
    tree: Expr, lookup: Mapping[str, Units | None], time_unit: Units | None, problems: list[UnitProblem]
) -> Units | None:
    """Units of ``tree`` given each name's units; mismatches are appended to ``problems``.

    ``None`` means "not known" (a bare number, or a name without units), which
    matches anything.

    >>> found = []
    >>> infer_units(parse_expression("a + b"), {"a": {"m": 1}, "b": {"s": 1}}, None, found)
    {'m': 1}
    >>> found[0].message
    "units differ: 'm' + 's'"
    """
    return _UnitsOf(lookup, time_unit, problems)(tree)


class _UnitsOf(Fold["Units | None"]):
    """:func:`infer_units` as a fold over the tree (mismatches are appended to ``problems``)."""

    def __init__(
        self, lookup: Mapping[str, Units | None], time_unit: Units | None, problems: list[UnitProblem]
    ) -> None:
        self.lookup, self.time_unit, self.problems = lookup, time_unit, problems

    def same(self, op: str, a: Units | None, b: Units | None, pos: tuple[int, int]) -> Units | None:
        if a is None:
            return b
        if b is None:
            return a
        if a != b:
            self.problems.append(UnitProblem(f"units differ: {format_units(a)!r} {op} {format_units(b)!r}", pos))
        return a

    def number(self, node: Number) -> Units | None:
        return None

    def time(self, node: Time) -> Units | None:
        return self.time_unit

    def name(self, node: Name) -> Units | None:
        return self.lookup.get(node.name)

    def unary(self, node: Unary, operand: Units | None) -> Units | None:
        return None if node.op == "not" else operand

    def binary(self, node: Binary, left: Units | None, right: Units | None) -> Units | None:
        if node.op in ("+", "-"):
            return self.same(node.op, left, right, node.pos)
        if node.op in _COMPARISONS.values():
            self.same(node.op, left, right, node.pos)
            return None
        if node.op in ("*", "/"):
            left = {} if isinstance(node.left, Number) else left
            right = {} if isinstance(node.right, Number) else right
            if left is None or right is None:
                return None
            return _combine(left, right, 1.0 if node.op == "*" else -1.0)
        if node.op == "^":
            if left is not None and left and isinstance(node.right, Number):
                return {k: v * node.right.value for k, v in left.items()}
            return None if left else left
        return None

    def if_(self, node: If, cond: Units | None, then: Units | None, other: Units | None) -> Units | None:
        return self.same("if/else", then, other, node.pos)

    def call(self, node: Call, args: list[Units | None]) -> Units | None:
        builtin = BUILTINS.get(node.func)
        if node.lookup or not args or builtin is None or builtin.units is None:
            return None
        return _UNIT_RULES[builtin.units](self, node, args)


def _same_units(of: _UnitsOf, node: Call, args: list[Units | None]) -> Units | None:
    result = args[0]
    for a in args[1:]:
        result = of.same(",", result, a, node.pos)
    return result


def _sqrt_units(of: _UnitsOf, node: Call, args: list[Units | None]) -> Units | None:
    a = args[0]
    return {k: v / 2 for k, v in a.items()} if a is not None else None


def _ratio_units(of: _UnitsOf, node: Call, args: list[Units | None]) -> Units | None:
    if args[0] is None or args[1] is None:
        return None
    return _combine(args[0], args[1], -1.0)


def _xidz_units(of: _UnitsOf, node: Call, args: list[Units | None]) -> Units | None:
    if args[0] is None or args[1] is None:
        return None
    return of.same("xidz", _combine(args[0], args[1], -1.0), args[2], node.pos)


def _time_units(sign: float) -> Callable[[_UnitsOf, Call, list[Units | None]], Units | None]:
    def rule(of: _UnitsOf, node: Call, args: list[Units | None]) -> Units | None:
        if args[0] is None or of.time_unit is None:
            return None
        return _combine(args[0], of.time_unit, sign)

    return rule


_UNIT_RULES: dict[str, Callable[[_UnitsOf, Call, list[Units | None]], Units | None]] = {
    "same": _same_units,
    "first": lambda of, node, args: args[0],
    "sqrt": _sqrt_units,
    "if": lambda of, node, args: of.same("if/else", args[1], args[2], node.pos),
    "ratio": _ratio_units,
    "xidz": _xidz_units,
    "per_time": _time_units(-1.0),
    "times_time": _time_units(1.0),
}
"""The units rules a built-in names in :attr:`~stocks_flows.functions.Builtin.units`."""
