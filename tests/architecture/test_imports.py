"""The import contract: tenor is a house built one way down.

Read from the code's own imports (an ``ast`` walk over every module, imports
inside functions included):

- the floor ``tenor.core`` imports nothing of the project;
- the packages ``causal`` and ``stocks_flows`` import the floor and
  themselves; the one bridge between them is :mod:`stocks_flows.unroll`,
  which writes a model out as a causal spec;
- ``diagrams`` imports the floor and the packages' types, never a loader
  (it draws the objects it is given);
- ``tenor.app`` may use everything below it; ``tenor.cli`` sits on top;
- no module imports, directly or through others, a module that imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tenor", "causal", "stocks_flows", "diagrams")

BRIDGES = {("stocks_flows.unroll", "causal.spec")}
"""Imports allowed across the two packages, each named in its module's docstring."""

LOADERS = ("causal.load", "causal.formats", "stocks_flows.load", "stocks_flows.xmile", "stocks_flows.pysd_runner")
"""Modules that read files; nothing below the application imports them from another package."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (``a.b.c`` may be module ``a.b`` plus attribute ``c``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from a import b`` names module ``a.b`` when there is one, else an attribute of ``a``
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = nx.DiGraph((module, target) for module in MODULES for target in _imports(module))
GRAPH.add_nodes_from(MODULES)


def _layer(module: str) -> str:
    for prefix in ("tenor.core", "tenor.app", "tenor.cli"):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return module.split(".")[0]


ALLOWED = {
    "tenor.core": {"tenor.core"},
    "causal": {"tenor.core", "causal"},
    "stocks_flows": {"tenor.core", "stocks_flows"},
    "diagrams": {"tenor.core", "causal", "stocks_flows", "diagrams"},
    "tenor.app": {"tenor.core", "causal", "stocks_flows", "diagrams", "tenor.app"},
    "tenor.cli": {"tenor.core", "causal", "stocks_flows", "diagrams", "tenor.app", "tenor.cli"},
    "tenor": {"tenor.core", "tenor.cli"},
}


def _violations() -> list[str]:
    bad = []
    for module, target in sorted(GRAPH.edges):
        if (module, target) in BRIDGES:
            continue
        here, there = _layer(module), _layer(target)
        if there not in ALLOWED[here]:
            bad.append(f"{module} -> {target} ({here} may not import {there})")
        elif here == "diagrams" and there != "diagrams" and target.startswith(LOADERS):
            bad.append(f"{module} -> {target} (diagrams draws what it is given; it never loads)")
    return bad


def test_every_module_was_read() -> None:
    assert {"tenor.core.errors", "causal.graph", "stocks_flows.engine", "diagrams.render"} <= set(MODULES)
    assert GRAPH.number_of_edges() > 100


def test_each_layer_imports_only_what_lies_below_it() -> None:
    assert _violations() == []


def test_no_import_cycles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(GRAPH) if len(c) > 1]
    assert cycles == []


def test_bridges_say_so_in_their_docstrings() -> None:
    for module, target in BRIDGES:
        doc = ast.get_docstring(ast.parse(MODULES[module].read_text(encoding="utf-8"))) or ""
        assert "bridge" in doc.lower(), f"{module} imports {target}; its docstring must name it a bridge"


@pytest.mark.parametrize(
    ("edge", "layer"),
    [(("causal.graph", "stocks_flows.model"), "causal"), (("diagrams.dag", "causal.load"), "diagrams")],
)
def test_the_contract_catches_a_wrong_arrow(edge: tuple[str, str], layer: str) -> None:
    """The rules themselves can fail: an upward or loader import is reported."""
    GRAPH.add_edge(*edge)
    try:
        assert any(v.startswith(f"{edge[0]} -> {edge[1]}") for v in _violations())
    finally:
        GRAPH.remove_edge(*edge)
