"""The DAG as drawn: every node and edge, channel colours, signs and lags, latent edges, roles, paths."""

from __future__ import annotations

import re

import pytest
from svg_reading import legend_texts, needs_dot, parse_svg

from causal.graph import build_graph
from causal.paths import find_paths
from diagrams import style
from diagrams.dag import dag_dot, dag_mermaid, draw_dag, query_highlights
from diagrams.render import render
from tenor.core.errors import GraphError

pytestmark = needs_dot


def _edge_id(a: str, b: str, key: str = "") -> str:
    return f"e_{a}__{b}" + (f"__{key}" if key else "")


def test_every_node_and_edge_is_drawn(duration_spec):
    svg = parse_svg(render(draw_dag(duration_spec), "svg"))
    for name, node in duration_spec.nodes.items():
        assert f"n_{name}" in svg, name
        assert "node" in svg[f"n_{name}"].classes
        assert " ".join(svg[f"n_{name}"].texts).replace("  ", " ") == (node.label or name).replace("\n", " ")
    for edge in duration_spec.directed_edges():
        assert _edge_id(edge.cause, edge.effect) in svg, edge.key
    nodes = [k for k, v in svg.items() if "node" in v.classes]
    edges = [k for k, v in svg.items() if "edge" in v.classes]
    assert len(nodes) == len(duration_spec.nodes)
    assert len(edges) == len(duration_spec.directed_edges()) + len(duration_spec.bidirected_edges())


def test_channels_have_their_own_colours_and_a_legend(duration_spec):
    data = render(draw_dag(duration_spec), "svg")
    svg = parse_svg(data)
    colours = style.channel_colours(duration_spec.channels)
    assert len(set(colours.values())) == len(colours)
    for name, channel in duration_spec.channels.items():
        colour = colours[name].lower()
        for a, b in zip(channel.path, channel.path[1:], strict=False):
            el = svg[_edge_id(a, b)]
            assert f"channel-{name}" in el.classes
            assert colour in el.strokes, (name, a, b, el.strokes)
    on_channel = {(a, b) for ch in duration_spec.channels.values() for a, b in zip(ch.path, ch.path[1:], strict=False)}
    for edge in duration_spec.directed_edges():
        if (edge.cause, edge.effect) not in on_channel:
            strokes = svg[_edge_id(edge.cause, edge.effect)].strokes
            assert not set(strokes) & {c.lower() for c in colours.values()}
    legend = " ".join(legend_texts(data))
    for channel in duration_spec.channels.values():
        assert channel.label in legend
    assert "Two failure modes, two channels" in legend


def test_edge_labels_carry_sign_and_lag(duration_spec):
    svg = parse_svg(render(draw_dag(duration_spec), "svg"))
    for edge in duration_spec.directed_edges():
        text = " ".join(svg[_edge_id(edge.cause, edge.effect)].texts)
        assert text.startswith(style.sign_glyph(edge.sign)), (edge.key, text)
        if edge.delay is not None:
            assert str(edge.delay) in text
    assert "−" in " ".join(svg[_edge_id("jgb_yield", "carry_book")].texts)


def test_latent_confounding_is_dashed_and_double_headed(duration_spec):
    svg = parse_svg(render(draw_dag(duration_spec), "svg"))
    el = svg[_edge_id("fed_expectations", "ust_long_end", "latent")]
    assert {"bidirected", "latent"} <= el.classes
    assert el.dashed
    assert el.shapes.count("polygon") == 2  # an arrow head at each end
    assert "latent" in svg["n_risk_appetite"].classes
    dot = dag_dot(duration_spec)
    assert re.search(r'"fed_expectations" -> "ust_long_end" \[[^]]*dir="both"[^]]*style="dashed"', dot)


def test_roles_follow_dagitty(confounded_spec):
    svg = parse_svg(render(draw_dag(confounded_spec, query="effect"), "svg"))
    assert "exposure" in svg["n_x"].classes
    assert "outcome" in svg["n_y"].classes
    assert "adjusted" in svg["n_z"].classes
    assert "latent" in svg["n_u"].classes
    assert svg["n_z"].shapes.count("polygon") == 2  # double border
    fills = {name: svg[f"n_{name}"].fills for name in ("x", "y")}
    assert style.ROLE_STYLES["exposure"]["fillcolor"].lower() in fills["x"]
    assert style.ROLE_STYLES["outcome"]["fillcolor"].lower() in fills["y"]


def test_open_backdoor_paths_are_highlighted_and_causal_paths_marked(confounded_spec):
    graph = build_graph(confounded_spec)
    svg = parse_svg(render(draw_dag(confounded_spec, query=("x", "y"), adjust=[]), "svg"))
    backdoor = style.BACKDOOR_COLOUR.lower()
    # answer from causal.paths: the open back-door paths given nothing
    expected = set()
    for path in find_paths(graph, "x", "y"):
        if path.backdoor and path.open:
            for a, arrow, b in zip(path.nodes, path.arrows, path.nodes[1:], strict=False):
                if arrow == "<-":
                    expected.add(_edge_id(b, a))
                elif arrow == "->":
                    expected.add(_edge_id(a, b))
                else:
                    expected.add(_edge_id(*sorted((a, b)), "latent"))
    drawn = {k for k, v in svg.items() if "backdoor" in v.classes}
    assert drawn == expected == {"e_z__x", "e_z__y", "e_x__z__latent"}
    for key in drawn:
        assert backdoor in svg[key].strokes
    for a, b in (("x", "m"), ("m", "y")):
        el = svg[_edge_id(a, b)]
        assert "causal" in el.classes
        assert f"{style.CAUSAL_PENWIDTH:g}" in el.widths
    # the collider path x -> w <- y is neither causal nor open: plain
    assert not {"causal", "backdoor"} & svg["e_x__w"].classes


def test_a_valid_adjustment_set_leaves_no_open_backdoor(confounded_spec):
    d = draw_dag(confounded_spec, query="effect")  # the spec expects adjust: [z]
    assert not [e for e in d.edges if "backdoor" in e.classes]
    h = query_highlights(build_graph(confounded_spec), ["x"], ["y"], ["z"])
    assert h.open_backdoor_paths == ()


def test_layout_is_left_to_right_with_group_clusters(confounded_spec):
    dot = dag_dot(confounded_spec)
    assert 'rankdir="LR"' in dot
    assert 'subgraph "cluster_background"' in dot
    svg = render(draw_dag(confounded_spec), "svg").decode()
    assert 'id="c_background"' in svg


def test_mermaid_source_has_every_node_edge_and_channel_colour(duration_spec):
    text = dag_mermaid(duration_spec)
    assert text.startswith("%% Two failure modes") and "flowchart LR" in text
    for name in duration_spec.nodes:
        assert re.search(rf"^\s+n_{name}[\[(]", text, flags=re.M), name
    for edge in duration_spec.directed_edges():
        assert re.search(rf"n_{edge.cause} \S+(\|\"[^\"]*\"\|)? n_{edge.effect}$", text, flags=re.M), edge.key
    assert "n_fed_expectations <-.-> n_ust_long_end" in text
    assert "stroke:#0072B2" in text and "stroke:#D55E00" in text


def test_unknown_channel_and_query_are_errors(confounded_spec):
    with pytest.raises(GraphError, match="unknown channel"):
        draw_dag(confounded_spec, channels=["nope"])
    with pytest.raises(GraphError, match="unknown query"):
        draw_dag(confounded_spec, query="nope")
    with pytest.raises(GraphError, match="unknown node"):
        draw_dag(confounded_spec, query=("x", "nope"))


def test_chosen_channels_only(duration_spec):
    d = draw_dag(duration_spec, channels=["jgb_accident"])
    assert [entry.label for entry in d.legend][:1] == ["JGB-accident channel"]
    assert not [e for e in d.edges if "channel-fx_intervention" in e.classes]
    # the channel keeps the colour of its place in the spec
    assert d.edges_between("jgb_yield", "carry_book")[0].attrs["color"] == style.CHANNEL_COLOURS[1]


@pytest.mark.parametrize("adjust", [(), ("z",), ("w",), ("m",)])
def test_linear_time_highlights_agree_with_path_enumeration_here(confounded_spec, adjust):
    graph = build_graph(confounded_spec)
    exact = query_highlights(graph, ["x"], ["y"], adjust)
    fast = query_highlights(graph, ["x"], ["y"], adjust, exact_limit=0)
    assert (exact.method, fast.method) == ("paths", "reachability")
    assert (fast.causal, fast.backdoor, fast.backdoor_bidirected) == (
        exact.causal, exact.backdoor, exact.backdoor_bidirected,
    )  # fmt: skip


def test_a_query_on_a_large_graph_stays_fast():
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from bench_render import generated_spec

    spec = generated_spec(500)
    start = time.perf_counter()
    d = draw_dag(spec, query=("v10", "v400"), adjust=[])
    assert time.perf_counter() - start < 10
    assert [e for e in d.edges if "causal" in e.classes]


def test_descriptions_and_sources_become_tooltips(tmp_path):
    from causal.load import parse_spec

    spec = parse_spec(
        "nodes:\n  a: {description: the cause, unit: bp}\n  b: {}\n"
        "edges:\n  a -> b: {gain: 0.5, source: Smith 2020, description: pass-through}\n"
        "  a <-> b: {description: shared news}\n"
    )
    svg = parse_svg(render(draw_dag(spec), "svg"))
    assert svg["n_a"].tooltip == "the cause\nunit: bp"
    assert svg["e_a__b"].tooltip == "gain 0.5\npass-through\nSmith 2020"
    assert svg["e_a__b__latent"].tooltip == "shared news"
    assert svg["n_b"].tooltip in (None, "b")  # no tooltip of our own


def test_inline_svg_for_html_pages(confounded_spec):
    from diagrams.render import inline_svg

    text = inline_svg(draw_dag(confounded_spec))
    assert text.startswith("<svg") and "<!DOCTYPE" not in text and "<?xml" not in text
