"""The ID algorithm line by line (Shpitser & Pearl 2006, Fig. 3), the latent projection, estimands."""

from __future__ import annotations

import pytest

from causal.estimand import (
    ONE,
    Product,
    Quotient,
    Sum,
    Term,
    conditional,
    free_variables,
    sum_over,
    to_latex,
    to_text,
)
from causal.graph import from_edges
from causal.id_algorithm import (
    Unidentifiable,
    c_components,
    id_algorithm,
    latent_projection,
    line_1,
    line_2,
    line_3,
    line_4,
    line_6,
)
from tenor.core.errors import NotIdentifiableError, TenorError

F = frozenset


def test_latent_projection_of_chains_and_common_causes():
    # a -> u1 -> b, u2 -> u1, u2 -> c: a -> b through a latent chain; b <-> c through the latent u2
    g = from_edges([("a", "u1"), ("u1", "b"), ("u2", "u1"), ("u2", "c")], latent=["u1", "u2"])
    admg = latent_projection(g)
    assert sorted(admg.nodes) == ["a", "b", "c"]
    assert sorted(admg.directed.edges) == [("a", "b")]
    assert sorted(tuple(sorted(e)) for e in admg.bidirected.edges) == [("b", "c")]


def test_c_components():
    g = latent_projection(from_edges([("a", "b"), ("b", "c"), ("c", "d")], bidirected=[("a", "c"), ("b", "d")]))
    assert c_components(g) == [F({"a", "c"}), F({"b", "d"})]
    assert c_components(g, {"a", "b"}) == [F({"a"}), F({"b"})]


def test_line_1_marginalises():
    g = latent_projection(from_edges([("a", "b")]))
    assert line_1(F({"b"}), F(), Term(F({"a", "b"})), g) == Term(F({"b"}))
    assert line_1(F({"b"}), F({"a"}), Term(F({"a", "b"})), g) is None


def test_line_2_drops_non_ancestors():
    g = latent_projection(from_edges([("x", "y"), ("y", "d")]))
    y, x, p, sub = line_2(F({"y"}), F({"x"}), Term(F({"x", "y", "d"})), g)
    assert (y, x, p, sorted(sub.nodes)) == (F({"y"}), F({"x"}), Term(F({"x", "y"})), ["x", "y"])


def test_line_3_adds_nodes_that_cannot_affect_y():
    # z -> x -> y: once x is fixed, z cannot affect y
    g = latent_projection(from_edges([("z", "x"), ("x", "y")]))
    _, x, _, _ = line_3(F({"y"}), F({"x"}), Term(F({"x", "y", "z"})), g)
    assert x == F({"x", "z"})


def test_line_4_splits_into_c_components():
    g = latent_projection(from_edges([("z", "x"), ("z", "y"), ("x", "y")]))
    assert line_4(F({"y"}), F({"x"}), Term(F({"x", "y", "z"})), g) == [F({"y"}), F({"z"})]


def test_line_6_factorises():
    g = latent_projection(from_edges([("x", "y")]))
    assert to_text(line_6(F({"y"}), F({"y"}), Term(F({"x", "y"})), g)) == "P(y | x)"


def test_line_5_fails_with_the_hedge():
    g = latent_projection(from_edges([("x", "y")], bidirected=[("x", "y")]))
    with pytest.raises(Unidentifiable) as info:
        id_algorithm(g, ["y"], ["x"])
    assert (info.value.hedge_f, info.value.hedge_f_prime) == (F({"x", "y"}), F({"y"}))


def test_unidentifiable_is_a_tenor_error():
    g = latent_projection(from_edges([("x", "y")], bidirected=[("x", "y")]))
    with pytest.raises(NotIdentifiableError) as info:
        id_algorithm(g, ["y"], ["x"])
    assert isinstance(info.value, Unidentifiable) and isinstance(info.value, TenorError)
    assert info.value.message == "hedge F=['x', 'y'], F'=['y']" and info.value.hint


def test_trace_names_the_lines():
    g = latent_projection(from_edges([("x", "m"), ("m", "y")], bidirected=[("x", "y")]))
    lines = id_algorithm(g, ["y"], ["x"]).lines
    assert lines[0] == "line 4: P(y | do(x))"
    assert any(line.startswith("line 7") for line in lines)


def test_rendering_primes_clashing_bound_variables():
    e = Sum(
        F({"m"}),
        Product(
            (
                Term(F({"m"}), F({"x"})),
                Sum(F({"x"}), Product((Term(F({"x"})), Term(F({"y"}), F({"x", "m"}))))),
            )
        ),
    )
    assert to_text(e) == "Σ_{m} P(m | x) Σ_{x'} P(x') P(y | m, x')"
    assert to_latex(e) == r"\sum_{m} P(m \mid x) \sum_{x'} P(x') P(y \mid m, x')"
    assert free_variables(e) == F({"x", "y"})


def test_simplifications():
    joint = Term(F({"a", "b", "c"}))
    assert sum_over({"a", "b", "c"}, joint) == ONE
    assert sum_over({"c"}, joint) == Term(F({"a", "b"}))
    # Σ_b P(a) P(b | a) = P(a): a conditional sums to one
    assert sum_over({"b"}, Product((Term(F({"a"})), Term(F({"b"}), F({"a"}))))) == Term(F({"a"}))
    assert conditional(joint, {"a", "b", "c"}, "a", {"b"}) == Term(F({"a"}), F({"b"}))
    q = Quotient(Term(F({"a"})), Sum(F({"b"}), Product((Term(F({"b"})), Term(F({"a"}), F({"b"}))))))
    assert to_text(q) == "P(a) / [Σ_{b} P(b) P(a | b)]"
