"""Draw tenor's layers from the code's own imports: docs/img/house.svg.

Run from the repository root::

    python scripts/draw_house.py [--out docs/img/house.svg]

Each box is a layer with the modules it holds; each arrow points from a layer
to one it imports, labelled with how many module-to-module imports it carries.
The walk over the imports is the one the import-contract test uses
(``tests/architecture/test_imports.py``), so the picture and the contract
cannot disagree.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import graphviz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "architecture"))

from test_imports import GRAPH, MODULES, _layer  # noqa: E402

ORDER = ["tenor.cli", "tenor.app", "diagrams", "causal", "stocks_flows", "tenor.core"]
ROLE = {
    "tenor.cli": "the command line, thin over the application",
    "tenor.app": "reads files of any kind, orchestrates: report, serve, notebook",
    "diagrams": "draws the objects it is given",
    "causal": "causal specs, paths, identification",
    "stocks_flows": "stock-and-flow models, engine, calibration",
    "tenor.core": "the floor: errors, safe YAML, atomic output, limits, shared fields",
}


def house() -> graphviz.Digraph:
    """The layer picture as a Graphviz digraph."""
    modules = Counter(_layer(m) for m in MODULES)
    arrows = Counter((_layer(a), _layer(b)) for a, b in GRAPH.edges if _layer(a) != _layer(b))
    dot = graphviz.Digraph("house", graph_attr={"rankdir": "TB", "nodesep": "0.4", "ranksep": "0.5"})
    dot.attr("node", shape="box", style="rounded,filled", fillcolor="#f6f8fa", fontname="Helvetica")
    dot.attr("edge", color="#57606a", fontname="Helvetica", fontsize="10")
    for layer in ORDER:
        dot.node(layer, f"{layer}\n{ROLE[layer]}\n({modules[layer]} modules)")
    with dot.subgraph() as same:
        same.attr(rank="same")
        same.node("causal")
        same.node("stocks_flows")
    for (a, b), n in sorted(arrows.items()):
        if a in ROLE and b in ROLE:
            bridge = (a, b) == ("stocks_flows", "causal")
            dot.edge(
                a, b, label=f"{n} (the unroll bridge)" if bridge else str(n), style="dashed" if bridge else "solid"
            )
    return dot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "house.svg")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(house().pipe(format="svg"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
