"""The causal-loop diagram as drawn: polarities, delay marks, R/B markers inside loops, cut links."""

from __future__ import annotations

import math

import pytest
from svg_reading import dot_positions, legend_texts, needs_dot, parse_svg

from diagrams import style
from diagrams.cld import cld_dot, cld_mermaid, draw_cld
from diagrams.render import render
from tenor.core.errors import GraphError

pytestmark = needs_dot


def _inside(point: tuple[float, float], polygon: list[tuple[float, float]]) -> bool:
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def test_every_variable_and_link_with_its_polarity(loops):
    svg = parse_svg(render(draw_cld(loops), "svg"))
    for var in loops.variables:
        el = svg[f"n_{var.name}"]
        assert var.kind in el.classes
        assert " ".join(el.texts) == " ".join(var.text.split())
    for link in loops.links:
        el = svg[f"e_{link.cause}__{link.effect}"]
        assert "link" in el.classes
        assert style.sign_glyph(link.polarity) in el.texts, (link, el.texts)
        assert ({"+": "sign-pos", "-": "sign-neg"}[link.polarity]) in el.classes
    links = [k for k, v in svg.items() if "link" in v.classes]
    assert len(links) == len(loops.links)
    # stocks are boxed, other variables are plain text
    assert "polygon" in svg["n_firepower"].shapes
    assert "polygon" not in svg["n_dollar"].shapes


def test_delayed_links_carry_the_delay_mark(loops):
    svg = parse_svg(render(draw_cld(loops), "svg"))
    for link in loops.links:
        el = svg[f"e_{link.cause}__{link.effect}"]
        assert ("||" in el.texts) == link.delay, link
        assert ("delay" in el.classes) == link.delay


def test_each_loop_has_an_r_or_b_marker(loops):
    data = render(draw_cld(loops), "svg")
    svg = parse_svg(data)
    for loop in loops.loops:
        el = svg[f"n_loop_{loop.id}"]
        assert {"loop-marker", loop.polarity} <= el.classes
        assert f"↻ {loop.id}" in el.texts
        assert loop.id[0] == loop.polarity  # R1 reinforcing, B1/B2 balancing
        assert style.loop_colour(loop.polarity).lower() in [t for t in data.decode().split('"') if t.startswith("#")]
    legend = " ".join(legend_texts(data))
    assert "reinforcing loop" in legend and "balancing loop" in legend and "delay" in legend


def test_markers_sit_inside_their_loops_and_off_the_variables(loops):
    pos = dot_positions(cld_dot(loops))
    assert set(pos) == {v.name for v in loops.variables} | {f"loop_{lp.id}" for lp in loops.loops}
    r1 = loops.loops[0]
    assert len(r1.variables) >= 3
    assert _inside(pos["loop_R1"], [pos[v] for v in r1.variables])
    for lp in loops.loops:
        marker = pos[f"loop_{lp.id}"]
        for var in loops.variables:
            assert math.dist(marker, pos[var.name]) > 0.5, (lp.id, var.name)


def test_cut_link_is_broken_at_the_chosen_element(loops):
    data = render(draw_cld(loops, element="bills"), "svg")
    svg = parse_svg(data)
    cut = svg["e_treasury_sales__long_end_yield"]
    assert "cut" in cut.classes
    assert cut.dashed
    assert "cut at bills" in cut.texts
    assert style.CUT_COLOUR.lower() in cut.strokes
    others = [v for k, v in svg.items() if "link" in v.classes and k != "e_treasury_sales__long_end_yield"]
    assert not [v for v in others if "cut" in v.classes or v.dashed]
    # the loop through the cut link is open; the others are not
    assert "open" in svg["n_loop_R1"].classes and "open at bills" in svg["n_loop_R1"].texts
    assert "open" not in svg["n_loop_B1"].classes
    assert "open" not in svg["n_loop_B2"].classes
    assert any("cut at bills" in t for t in legend_texts(data))
    assert "(tenor: bills)" in " ".join(legend_texts(data))


def test_whole_loop_without_an_element(loops):
    svg = parse_svg(render(draw_cld(loops), "svg"))
    assert not [k for k, v in svg.items() if "cut" in v.classes or "open" in v.classes]
    assert not svg["e_treasury_sales__long_end_yield"].dashed


def test_unknown_element_or_loop_is_an_error(loops):
    with pytest.raises(GraphError, match="unknown tenor 'bill'") as info:
        draw_cld(loops, element="bill")
    assert "did you mean 'bills'" in info.value.hint
    with pytest.raises(GraphError, match="unknown loop"):
        draw_cld(loops, loops=["R9"])


def test_mermaid_keeps_polarity_delay_and_cut(loops):
    text = cld_mermaid(loops, element="bills")
    assert 'n_treasury_sales -.->|"+ cut at bills"| n_long_end_yield' in text
    assert 'n_long_end_yield -->|"+ #124;#124;"| n_dollar' in text
    assert "n_loop_R1" in text and "~~~" in text


def test_without_pinning_the_layout_is_left_to_graphviz(loops):
    dot = cld_dot(loops, pin=False)
    assert "pos=" not in dot
    assert 'style="invis"' in dot  # markers are tied to their loops by invisible springs


def test_at_an_element_where_nothing_is_cut_the_loop_is_closed(loops):
    svg = parse_svg(render(draw_cld(loops, element="30y"), "svg"))
    assert not [k for k, v in svg.items() if "cut" in v.classes or "open" in v.classes]
    assert "(tenor: 30y)" in " ".join(legend_texts(render(draw_cld(loops, element="30y"), "svg")))
