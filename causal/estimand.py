"""Estimands: formulas over the observed distribution that equal a causal effect.

An identified effect ``P(y | do(x))`` is written with four kinds of terms:

- ``P(a, b | c)``: a conditional of the observed distribution;
- ``Σ_{z} …``: a sum over the values of ``z``;
- products of terms, written side by side;
- quotients ``[…] / […]``.

:class:`Term`, :class:`Sum`, :class:`Product` and :class:`Quotient` are
immutable and render themselves as text (:func:`to_text`) and LaTeX
(:func:`to_latex`). A bound variable that clashes with a free one (for example
the treatment summed over in the front-door formula) is primed when rendered:
``Σ_{m} P(m | x) Σ_{x'} P(x') P(y | m, x')``. :func:`marginal` and
:func:`conditional` build new estimands from a distribution given as an
estimand, simplifying sums of probabilities that add up to one.

Examples
--------
>>> joint = Term(frozenset({"x", "z", "y"}))
>>> adj = Sum(frozenset({"z"}), Product((conditional(joint, {"x", "y", "z"}, "y", {"x", "z"}),
...                                       marginal(joint, {"x", "y", "z"}, {"z"}))))
>>> to_text(adj)
'Σ_{z} P(y | x, z) P(z)'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ONE",
    "Estimand",
    "Product",
    "Quotient",
    "Sum",
    "Term",
    "conditional",
    "free_variables",
    "marginal",
    "product",
    "sum_over",
    "to_latex",
    "to_text",
]


@dataclass(frozen=True)
class Term:
    """``P(variables | given)`` of the observed distribution."""

    variables: frozenset[str]
    given: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Sum:
    """``Σ_{over} expression``."""

    over: frozenset[str]
    expression: Estimand


@dataclass(frozen=True)
class Product:
    """The product of its factors; the empty product is one."""

    factors: tuple[Estimand, ...]


@dataclass(frozen=True)
class Quotient:
    """``numerator / denominator``."""

    numerator: Estimand
    denominator: Estimand


Estimand = Term | Sum | Product | Quotient
ONE = Product(())


def free_variables(e: Estimand) -> frozenset[str]:
    """The variables an estimand depends on (not summed over)."""
    if isinstance(e, Term):
        return e.variables | e.given
    if isinstance(e, Sum):
        return free_variables(e.expression) - e.over
    if isinstance(e, Product):
        out: frozenset[str] = frozenset()
        for f in e.factors:
            out |= free_variables(f)
        return out
    return free_variables(e.numerator) | free_variables(e.denominator)


def product(factors: Iterable[Estimand]) -> Estimand:
    """The product, flattened, without factors equal to one."""
    flat: list[Estimand] = []
    for f in factors:
        if isinstance(f, Product):
            flat.extend(f.factors)
        else:
            flat.append(f)
    if len(flat) == 1:
        return flat[0]
    # sums last: "Σ_z" extends to the end of a product when written
    flat.sort(key=lambda f: isinstance(f, Sum))
    return Product(tuple(flat))


def sum_over(over: Iterable[str], e: Estimand) -> Estimand:
    """``Σ_{over} e``, simplified: variables absent from ``e`` dropped, marginals taken,
    factors that do not involve ``over`` taken out of the sum, and conditionals that
    sum to one removed."""
    s = frozenset(over) & free_variables(e)
    if not s:
        return e
    if isinstance(e, Term):
        if s <= e.variables:
            rest = e.variables - s
            return Term(rest, e.given) if rest else ONE
        return Sum(s, e)
    if isinstance(e, Sum):
        return sum_over(s | e.over, e.expression)
    if isinstance(e, Product):
        return _sum_product(s, list(e.factors))
    return Sum(s, e)


def _sum_out_terms(s: frozenset[str], factors: list[Estimand]) -> tuple[frozenset[str], list[Estimand]]:
    """Sum the variables of ``s`` out of each term that alone holds them (its marginal), until none does."""
    changed = True
    while changed:
        changed = False
        for i, f in enumerate(factors):
            if not isinstance(f, Term):
                continue
            others: frozenset[str] = frozenset()
            for j, g in enumerate(factors):
                if j != i:
                    others |= free_variables(g)
            drop = (f.variables & s) - others - f.given
            if drop:
                rest = f.variables - drop
                factors[i] = Term(rest, f.given) if rest else ONE
                s = s - drop
                changed = True
                break
        factors = [f for f in factors if f != ONE]
    return s, factors


def _sum_product(s: frozenset[str], factors: list[Estimand]) -> Estimand:
    """``Σ_s`` of a product: marginals taken, and the factors free of ``s`` taken out of the sum."""
    s, factors = _sum_out_terms(s, factors)
    outside = [f for f in factors if not (free_variables(f) & s)]
    inside = [f for f in factors if free_variables(f) & s]
    if not inside:
        return product(outside)
    inner = product(inside)
    if isinstance(inner, Term) and s <= inner.variables:
        inner = sum_over(s, inner)
    else:
        inner = Sum(s, inner)
    return product([*outside, inner])


def marginal(p: Estimand, domain: Iterable[str], keep: Iterable[str]) -> Estimand:
    """The marginal over ``keep`` of the distribution ``p`` over ``domain``."""
    return sum_over(frozenset(domain) - frozenset(keep), p)


def conditional(p: Estimand, domain: Iterable[str], target: str | Iterable[str], given: Iterable[str]) -> Estimand:
    """``p(target | given)`` for the distribution ``p`` over ``domain``."""
    t = frozenset([target]) if isinstance(target, str) else frozenset(target)
    g = frozenset(given)
    dom = frozenset(domain)
    if isinstance(p, Term) and p.variables == dom:
        return Term(t, g | p.given)
    num = marginal(p, dom, t | g)
    den = marginal(p, dom, g)
    if den == ONE:
        return num
    if isinstance(num, Term) and isinstance(den, Term) and num.given == den.given and den.variables <= num.variables:
        return Term(num.variables - den.variables, num.given | den.variables)
    return Quotient(num, den)


def _names(vs: Iterable[str], rename: dict[str, str]) -> list[str]:
    return sorted(rename.get(v, v) for v in vs)


def _render(e: Estimand, rename: dict[str, str], scope: set[str], latex: bool) -> str:
    if isinstance(e, Term):
        inner = ", ".join(_names(e.variables, rename))
        if e.given:
            inner += (r" \mid " if latex else " | ") + ", ".join(_names(e.given, rename))
        return f"P({inner})"
    if isinstance(e, Sum):
        rename = dict(rename)
        scope = set(scope)
        for v in sorted(e.over):
            new = v
            while new in scope:
                new += "'"
            rename[v] = new
            scope.add(new)
        body = _render(e.expression, rename, scope, latex)
        over = ", ".join(_names(e.over, rename))
        return (rf"\sum_{{{over}}} " if latex else f"Σ_{{{over}}} ") + body
    if isinstance(e, Product):
        if not e.factors:
            return "1"
        parts = []
        for i, f in enumerate(e.factors):
            text = _render(f, rename, scope, latex)
            if (isinstance(f, Sum) and i < len(e.factors) - 1) or isinstance(f, Quotient):
                text = f"[{text}]"
            parts.append(text)
        return " ".join(parts)
    num = _render(e.numerator, rename, scope, latex)
    den = _render(e.denominator, rename, scope, latex)
    if latex:
        return rf"\frac{{{num}}}{{{den}}}"
    return f"{num if isinstance(e.numerator, Term) else f'[{num}]'} / " + (
        den if isinstance(e.denominator, Term) else f"[{den}]"
    )


def to_text(e: Estimand) -> str:
    """The estimand as plain text, bound variables primed where they clash."""
    return _render(e, {}, set(free_variables(e)), latex=False)


def to_latex(e: Estimand) -> str:
    r"""The estimand as LaTeX.

    >>> to_latex(Sum(frozenset({"z"}), Product((Term(frozenset({"y"}), frozenset({"x", "z"})),
    ...                                         Term(frozenset({"z"}))))))
    '\\sum_{z} P(y \\mid x, z) P(z)'
    """
    return _render(e, {}, set(free_variables(e)), latex=True)
