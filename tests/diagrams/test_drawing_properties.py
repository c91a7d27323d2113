"""Properties over generated graphs: everything in the spec is drawn, in every output."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svg_reading import needs_dot, parse_svg

from causal.spec import CausalSpec
from diagrams.dag import dag_dot, dag_mermaid, draw_dag
from diagrams.render import render


@st.composite
def specs(draw) -> CausalSpec:
    """A DAG: an order of nodes, forward edges only, signs, some lags, groups and latent pairs."""
    n = draw(st.integers(2, 9))
    names = [f"v{i}" for i in range(n)]
    labels = draw(st.lists(st.text(min_size=1, max_size=24).filter(str.strip), min_size=n, max_size=n))
    nodes = {
        name: {"label": label, "group": draw(st.sampled_from([None, "left", "right"]))}
        for name, label in zip(names, labels, strict=True)
    }
    edges: dict[str, dict] = {}
    for i in range(n):
        for j in range(i + 1, n):
            if draw(st.booleans()):
                edge: dict = {"sign": draw(st.sampled_from(["+", "-"]))}
                if draw(st.booleans()):
                    edge["lag"] = f"{draw(st.integers(1, 30))} days"
                edges[f"{names[i]} -> {names[j]}"] = edge
    for i in range(n):
        for j in range(i + 1, n):
            if f"{names[i]} -> {names[j]}" not in edges and draw(st.integers(0, 9)) == 0:
                edges[f"{names[i]} <-> {names[j]}"] = {}
    return CausalSpec.model_validate({"nodes": nodes, "edges": edges})


@given(specs())
@settings(max_examples=40, deadline=None)
def test_every_node_and_edge_is_in_the_dot_and_mermaid_sources(spec):
    dot, mermaid = dag_dot(spec), dag_mermaid(spec)
    for name in spec.nodes:
        assert f'"{name}" [id="n_{name}"' in dot
        assert re.search(rf"^\s+n_{name}[\[(]", mermaid, flags=re.M)
    for edge in spec.directed_edges():
        assert f'"{edge.cause}" -> "{edge.effect}" [id="e_{edge.cause}__{edge.effect}"' in dot
    for a, b, _ in spec.bidirected_edges():
        x, y = sorted((a, b))
        assert f'"{x}" -> "{y}" [id="e_{x}__{y}__latent"' in dot
    assert dot == dag_dot(spec)


@needs_dot
@given(specs())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_node_and_edge_is_in_the_svg(spec):
    svg = parse_svg(render(draw_dag(spec), "svg"))
    assert {k for k, v in svg.items() if "node" in v.classes} == {f"n_{n}" for n in spec.nodes}
    expected = {f"e_{e.cause}__{e.effect}" for e in spec.directed_edges()}
    expected |= {"e_{}__{}__latent".format(*sorted((a, b))) for a, b, _ in spec.bidirected_edges()}
    assert {k for k, v in svg.items() if "edge" in v.classes} == expected


@needs_dot
@given(st.lists(st.sampled_from("+-"), min_size=2, max_size=8), st.integers(0, 3))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_ring_gets_one_marker_of_its_polarity_inside_it(signs, extra):
    import math

    from svg_reading import dot_positions

    from diagrams.cld import cld_dot
    from diagrams.structures import CausalLoopStructure, Link, Loop, Variable

    names = [f"x{i}" for i in range(len(signs))]
    links = [Link(names[i], names[(i + 1) % len(names)], s) for i, s in enumerate(signs)]
    others = [f"y{i}" for i in range(extra)]
    links += [Link(names[0], o, "+") for o in others]  # a few variables outside the loop
    s = CausalLoopStructure([Variable(n) for n in names + others], links, [Loop("L", tuple(names))])
    polarity = "B" if signs.count("-") % 2 else "R"
    assert s.loops[0].polarity == polarity
    dot = cld_dot(s)
    assert f'class="loop-marker {polarity}"' in dot
    pos = dot_positions(dot)
    marker = pos["loop_L"]
    assert all(math.dist(marker, pos[n]) > 0.5 for n in names + others)
    if len(names) >= 3:
        ring = [pos[n] for n in names]
        cx = sum(p[0] for p in ring) / len(ring)
        cy = sum(p[1] for p in ring) / len(ring)
        spread = max(math.dist((cx, cy), p) for p in ring)
        assert math.dist(marker, (cx, cy)) < spread  # inside the ring's reach, not off in a corner
