"""``%load_ext tenor.app.notebook`` registers inline SVG for specs, graphs and models."""

from __future__ import annotations

from types import SimpleNamespace

from causal.graph import build_graph
from causal.load import read_spec
from stocks_flows.load import parse_model
from tenor.app.notebook import load_ipython_extension, svg_for


class _Formatter:
    def __init__(self) -> None:
        self.registered: dict[type, object] = {}

    def for_type(self, kind: type, func: object) -> None:
        self.registered[kind] = func


def test_extension_registers_every_drawable_type():
    formatter = _Formatter()
    ipython = SimpleNamespace(display_formatter=SimpleNamespace(formatters={"image/svg+xml": formatter}))
    load_ipython_extension(ipython)
    spec = read_spec("examples/duration_trade/causal.yaml")
    svg = formatter.registered[type(spec)](spec)
    assert "<svg" in svg and "FX&#45;intervention channel" in svg and "MOF FX" in svg
    assert "<svg" in formatter.registered[type(build_graph(spec))](build_graph(spec))


def test_model_shows_its_loops():
    model = parse_model(
        "time: {stop: 10}\nconstants: {k: 0.1}\nstocks: {s: {initial: 100}}\n"
        "flows: {decay: {from: s, equation: k * s}}\n"
    )
    svg = svg_for(model)
    assert svg is not None and "decay" in svg and "B1" in svg
