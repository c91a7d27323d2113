"""Fixtures for the diagram tests."""

from __future__ import annotations

import json

import pytest
from diagram_examples import carry_stockflow, intervention_loops
from svg_reading import CONFOUNDED, DATA

import diagrams.render as render_module
from causal.load import parse_spec, read_spec


@pytest.fixture
def duration_spec():
    return read_spec(DATA / "duration.yaml")


@pytest.fixture
def confounded_spec():
    return parse_spec(CONFOUNDED, file="confounded.yaml")


@pytest.fixture
def loops():
    return intervention_loops()


@pytest.fixture
def stockflow():
    return carry_stockflow()


@pytest.fixture
def structure_file(tmp_path):
    path = tmp_path / "model.json"
    data = {"causal_loops": intervention_loops().to_dict(), "stock_flow": carry_stockflow().to_dict()}
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def no_dot(monkeypatch):
    """Pretend Graphviz is not installed (and that nobody has warned about it yet)."""
    monkeypatch.setattr(render_module, "DOT_PROGRAM", "tenor-no-such-dot-program")
    monkeypatch.setattr(render_module, "_warned", False)
