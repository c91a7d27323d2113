"""Loop and stock-and-flow structures: validation, polarity, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagrams.structures import (
    CausalLoopStructure,
    Flow,
    InformationLink,
    Link,
    Loop,
    Stock,
    StockFlowStructure,
    Variable,
    loop_polarity,
)
from tenor.core.errors import GraphError


@given(st.lists(st.sampled_from("+-"), min_size=1, max_size=12))
def test_loop_polarity_is_the_parity_of_negative_links(signs):
    names = [f"v{i}" for i in range(len(signs))]
    links = [Link(names[i], names[(i + 1) % len(names)], s) for i, s in enumerate(signs)]
    if len(names) == 1:
        links = [Link("v0", "v0", signs[0])]
    s = CausalLoopStructure([Variable(n) for n in names], links, [Loop("L", tuple(names))])
    assert s.loops[0].polarity == ("B" if signs.count("-") % 2 else "R")
    assert loop_polarity(signs) == s.loops[0].polarity


def test_a_declared_polarity_must_match_the_links():
    with pytest.raises(GraphError, match="declared R but its link signs make it B"):
        CausalLoopStructure(
            [Variable("a"), Variable("b")],
            [Link("a", "b", "+"), Link("b", "a", "-")],
            [Loop("R1", ("a", "b"), "R")],
        )


def test_unknown_names_and_broken_loops_are_errors():
    with pytest.raises(GraphError, match="unknown variable 'c'"):
        CausalLoopStructure([Variable("a")], [Link("a", "c", "+")])
    with pytest.raises(GraphError, match="not a link"):
        CausalLoopStructure([Variable("a"), Variable("b")], [Link("a", "b", "+")], [Loop("L", ("a", "b"))])
    with pytest.raises(GraphError, match="kind"):
        Variable("a", "rate")  # type: ignore[arg-type]
    with pytest.raises(GraphError, match="polarity"):
        Link("a", "b", "plus")  # type: ignore[arg-type]


def test_unknown_sign_makes_an_unknown_loop():
    s = CausalLoopStructure([Variable("a"), Variable("b")], [Link("a", "b", "?"), Link("b", "a", "-")],
                            [Loop("L", ("a", "b"))])  # fmt: skip
    assert s.loops[0].polarity == "unknown"


def test_round_trips(loops, stockflow):
    assert CausalLoopStructure.from_dict(loops.to_dict()) == loops
    assert StockFlowStructure.from_dict(stockflow.to_dict()) == stockflow
    assert loops.cut_elements() == ["bills"]
    assert loops.is_loop_cut(loops.loops[0], "bills") and not loops.is_loop_cut(loops.loops[1], "bills")


def test_stockflow_validation():
    with pytest.raises(GraphError, match="not a stock"):
        StockFlowStructure([Stock("a")], [Flow("f", "a", "b")])
    with pytest.raises(GraphError, match="to itself"):
        StockFlowStructure([Stock("a")], [Flow("f", "a", "a")])
    with pytest.raises(GraphError, match="unknown 'x'"):
        StockFlowStructure([Stock("a")], [Flow("f", None, "a")], links=[InformationLink("x", "f")])
    with pytest.raises(GraphError, match="declared twice"):
        StockFlowStructure([Stock("a")], [Flow("a", None, "a")])


def test_cut_elements_must_be_declared_elements():
    with pytest.raises(GraphError, match="unknown element"):
        CausalLoopStructure(
            [Variable("a"), Variable("b")], [Link("a", "b", "+", cut_at=("bils",))], elements=("bills", "10y")
        )
