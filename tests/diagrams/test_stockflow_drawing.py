"""The stock-and-flow diagram as drawn: boxes, pipes and valves, clouds, circles, thin arrows."""

from __future__ import annotations

from svg_reading import needs_dot, parse_svg

from diagrams.render import render
from diagrams.stockflow import CLOUD, VALVE, draw_stockflow, stockflow_mermaid

pytestmark = needs_dot


def test_stocks_flows_clouds_auxiliaries_and_links(stockflow):
    svg = parse_svg(render(draw_stockflow(stockflow), "svg"))
    for stock in stockflow.stocks:
        el = svg[f"n_{stock.name}"]
        assert "stock" in el.classes and el.shapes == ["polygon"]
        assert " ".join(el.texts) == stock.text
    for flow in stockflow.flows:
        el = svg[f"n_{flow.name}"]
        assert "valve" in el.classes and VALVE in el.texts
        source = flow.source or f"cloud_{flow.name}_source"
        target = flow.target or f"cloud_{flow.name}_sink"
        into_valve, out_of_valve = svg[f"e_{source}__{flow.name}"], svg[f"e_{flow.name}__{target}"]
        for pipe in (into_valve, out_of_valve):
            assert "pipe" in pipe.classes
            assert pipe.shapes.count("path") == 3  # a double line with a white core
        assert "polygon" not in into_valve.shapes  # no arrow head into the valve
        assert "polygon" in out_of_valve.shapes  # the arrow head points downstream
    clouds = [v for v in svg.values() if "cloud" in v.classes]
    assert len(clouds) == len(stockflow.clouds()) == 3
    assert all(CLOUD in c.texts for c in clouds)
    for aux in stockflow.auxiliaries:
        el = svg[f"n_{aux.name}"]
        if aux.constant:
            assert "constant" in el.classes and el.shapes == ["polygon"]  # a diamond
        else:
            assert el.shapes == ["ellipse"]  # a circle
    for link in stockflow.links:
        el = svg[f"e_{link.cause}__{link.effect}__info"]
        assert "information" in el.classes
        assert all(float(w) < 1 for w in el.widths)  # thin
        assert {"+": "+", "-": "−"}[link.polarity] in el.texts


def test_mermaid_has_every_element(stockflow):
    text = stockflow_mermaid(stockflow)
    for name in [s.name for s in stockflow.stocks] + [f.name for f in stockflow.flows]:
        assert f"n_{name}" in text
    assert text.count("☁") == 3
