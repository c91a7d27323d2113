"""The equation language: grammar, precedence, positions of errors, rendering, units."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks_flows.expr import (
    Binary,
    Call,
    If,
    Name,
    Number,
    SyntaxProblem,
    Time,
    Unary,
    UnitProblem,
    infer_units,
    parse_expression,
    parse_units,
    to_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", Binary("+", Number(1), Binary("*", Number(2), Number(3)))),
        ("(1 + 2) * 3", Binary("*", Binary("+", Number(1), Number(2)), Number(3))),
        ("-2 ^ 2", Unary("-", Binary("^", Number(2), Number(2)))),
        ("2 ^ -1", Binary("^", Number(2), Unary("-", Number(1)))),
        ("a - b - c", Binary("-", Binary("-", Name("a"), Name("b")), Name("c"))),
        ("not a = b", Unary("not", Binary("=", Name("a"), Name("b")))),
        (
            "a < b and b <= c or d",
            Binary(
                "or",
                Binary("and", Binary("<", Name("a"), Name("b")), Binary("<=", Name("b"), Name("c"))),
                Name("d"),
            ),
        ),
        ("IF time > 1 THEN x ELSE y", If(Binary(">", Time(), Number(1)), Name("x"), Name("y"))),
        ("MIN(a, 2)", Call("min", (Name("a"), Number(2)))),
        ("x[10y]", Name("x", ("10y",))),
        ("sum(x[*])", Call("sum", (Name("x", ("*",)),))),
        ("effect(t)", Call("effect", (Name("t"),), lookup=True)),
        ("a != b", Binary("<>", Name("a"), Name("b"))),
        ("1.5e-3", Number(0.0015)),
        ("SMTH1(x, 3)", Call("smooth1", (Name("x"), Number(3)))),
    ],
)
def test_grammar(text, expected):
    assert parse_expression(text) == expected


@pytest.mark.parametrize(
    ("text", "line", "column", "message", "hint"),
    [
        ("a +", 1, 4, "expected a number", None),
        ("(a + b", 1, 7, "expected ')'", "not closed"),
        ("a b", 1, 3, "expected an operator", "operator is missing"),
        ("a && b", 1, 3, "unexpected character '&'", "'and'"),
        ("if a then b", 1, 12, "expected 'else'", "needs an 'else'"),
        ("min()", 1, 1, "min() takes 1 or more arguments", None),
        ("step(1)", 1, 1, "step() takes 2 arguments", "height"),
        ("a +\n  * b", 2, 3, "expected a number", None),
        ("2x", 1, 2, "unexpected 'x'", "operator between"),
        ("a < b < c", 1, 7, "expected an operator", "chain comparisons"),
        ("", 1, 1, "empty", None),
    ],
)
def test_syntax_errors_have_positions_and_hints(text, line, column, message, hint):
    with pytest.raises(SyntaxProblem) as info:
        parse_expression(text)
    problem = info.value
    assert (problem.line, problem.column) == (line, column)
    assert message in problem.message
    if hint:
        assert hint in (problem.hint or "")


_names = st.sampled_from(["a", "b", "stock_1", "x"])


def _trees():
    leaves = st.one_of(
        st.floats(min_value=0, max_value=1e6, allow_nan=False).map(Number),
        _names.map(Name),
        st.just(Time()),
    )

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(["+", "-", "*", "/", "^", "<", "=", "and", "or"]), children, children).map(
                lambda t: Binary(*t)
            ),
            st.tuples(st.sampled_from(["-", "not"]), children).map(lambda t: Unary(*t)),
            st.tuples(children, children, children).map(lambda t: If(*t)),
            st.tuples(st.sampled_from(["min", "max"]), st.lists(children, min_size=1, max_size=3)).map(
                lambda t: Call(t[0], tuple(t[1]))
            ),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@given(_trees())
@settings(max_examples=200, deadline=None)
def test_rendering_round_trips(tree):
    assert parse_expression(to_text(tree)) == tree


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_text_parses_or_raises_a_located_problem(text):
    try:
        parse_expression(text)
    except SyntaxProblem as problem:
        assert problem.line >= 1 and problem.column >= 1


def test_units_algebra():
    assert parse_units("people/year") == {"people": 1, "year": -1}
    assert parse_units("dmnl") == {}
    assert parse_units(None) is None
    units = {"stock": {"people": 1}, "rate": {"year": -1}, "other": {"dollar": 1}}
    problems: list[UnitProblem] = []
    assert infer_units(parse_expression("stock * rate"), units, None, problems) == {"people": 1, "year": -1}
    assert not problems
    infer_units(parse_expression("stock + other * 2"), units, None, problems)
    assert len(problems) == 1 and "people" in problems[0].message and "dollar" in problems[0].message
    assert problems[0].pos == (1, 7)
