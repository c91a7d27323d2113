"""Time from a causal spec to an SVG: a small example spec and a generated 500-node spec.

Run: python benchmarks/bench_render.py [--nodes N] [--repeat R] [--no-dot]

Prints, per spec, the best of R runs for each stage: reading the YAML,
building the drawing (graph, channels, query paths), writing DOT, and
rendering SVG with Graphviz (or with the matplotlib fallback when Graphviz is
not installed). The target for a ~20-node example is under one second.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from causal.load import parse_spec  # noqa: E402
from causal.spec import CausalSpec  # noqa: E402
from diagrams.dag import draw_dag  # noqa: E402
from diagrams.render import has_dot, render  # noqa: E402
from diagrams.scene import generate_dot  # noqa: E402

SMALL = ROOT / "tests" / "diagrams" / "data" / "duration.yaml"
EXAMPLE = ROOT / "examples" / "duration_trade" / "causal.yaml"


def generated_spec(n: int, seed: int = 1) -> CausalSpec:
    """A random DAG of ``n`` nodes in 10 groups, ~2 parents each, two 6-step channels, a latent pair."""
    rng = random.Random(seed)
    nodes = {f"v{i}": {"label": f"Variable {i}", "group": f"g{i * 10 // n}"} for i in range(n)}
    edges: dict[str, dict] = {}
    for i in range(1, n):
        for j in rng.sample(range(max(0, i - 25), i), k=min(i, 2)):
            edges[f"v{j} -> v{i}"] = {
                "gain": round(rng.uniform(-1, 1), 2) or 0.1,
                "lag": f"{rng.randint(1, 9)} days",
            }
    chains = {"first": list(range(0, 6 * 7, 7)), "second": list(range(3, 3 + 6 * 11, 11))}
    channels = {}
    for name, chain in chains.items():
        for a, b in itertools.pairwise(chain):
            edges.setdefault(f"v{a} -> v{b}", {"gain": 0.5, "lag": "1 day"})
        channels[name] = {"path": " -> ".join(f"v{c}" for c in chain)}
    edges[f"v{n // 2} <-> v{n // 2 + 5}"] = {}
    return CausalSpec.model_validate({"name": f"generated_{n}", "nodes": nodes, "edges": edges, "channels": channels})


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench(label: str, load, repeat: int, **options: object) -> None:
    t_load, spec = best(load, repeat)
    t_draw, diagram = best(lambda: draw_dag(spec, **options), repeat)
    t_dot, _ = best(lambda: generate_dot(diagram), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_svg, svg = best(lambda: render(diagram, "svg"), repeat)
    total = t_load + t_draw + t_dot + t_svg
    n_nodes, n_edges = len(spec.nodes), len(spec.edges)
    print(
        f"{label:<28} {n_nodes:>5} nodes {n_edges:>5} edges | load {t_load * 1e3:8.1f} ms"
        f" | draw {t_draw * 1e3:8.1f} ms"
        f" | dot text {t_dot * 1e3:7.1f} ms | svg {t_svg * 1e3:9.1f} ms | total {total:7.3f} s"
        f" | {len(svg) / 1024:7.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dot", action="store_true", help="time the matplotlib fallback")
    args = parser.parse_args()
    if args.no_dot:
        import diagrams.render

        diagrams.render.DOT_PROGRAM = "tenor-no-such-dot-program"
    print(f"renderer: {'Graphviz dot' if has_dot() else 'matplotlib fallback (Graphviz not installed)'}")
    example = EXAMPLE.read_text()
    bench("bundled example", lambda: parse_spec(example, file=str(EXAMPLE)), args.repeat)
    text = SMALL.read_text()
    bench("example spec", lambda: parse_spec(text, file=str(SMALL)), args.repeat)
    bench(
        "example spec + query",
        lambda: parse_spec(text, file=str(SMALL)),
        args.repeat,
        query="carry_on_long_end",
    )
    bench(f"generated {args.nodes}-node spec", lambda: generated_spec(args.nodes), max(1, args.repeat // 3))
    bench(
        f"generated {args.nodes}-node + query",
        lambda: generated_spec(args.nodes),
        1,
        query=("v10", f"v{int(args.nodes * 0.8)}"),
        adjust=[],
    )
    bench_loops(args.repeat)


def bench_loops(repeat: int) -> None:
    """The example causal-loop diagram: two Graphviz passes (layout, then markers pinned inside loops)."""
    sys.path.insert(0, str(ROOT / "tests" / "diagrams"))
    from diagram_examples import intervention_loops

    from diagrams.cld import draw_cld

    structure = intervention_loops()
    t_draw, diagram = best(lambda: draw_cld(structure, element="bills"), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_svg, _ = best(lambda: render(diagram, "svg"), repeat)
    print(
        f"{'example causal-loop diagram':<28} {len(structure.variables):>5} vars "
        f" {len(structure.links):>5} links"
        f" | draw (layout pass) {t_draw * 1e3:7.1f} ms | svg {t_svg * 1e3:7.1f} ms"
        f" | total {t_draw + t_svg:7.3f} s"
    )


if __name__ == "__main__":
    main()
