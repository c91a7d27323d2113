"""Causal specs at scale: load and validate a 500-node, 2,000-edge spec, then answer queries.

Prints each stage's time next to its target (load and validate under 1 s; each
query under 50 ms). Run: ``python benchmarks/bench_causal.py``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causal.graph import build_graph
from causal.load import parse_spec
from causal.paths import find_paths, is_d_separated, total_effect

N_NODES, N_EDGES, SEED = 500, 2000, 7


def generate_spec(n_nodes: int = N_NODES, n_edges: int = N_EDGES, seed: int = SEED) -> str:
    """YAML text of a random DAG: edges point forward in a random order; some latent confounding."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(n_nodes)]
    order = names[:]
    rng.shuffle(order)
    edges: set[tuple[int, int]] = set()
    while len(edges) < n_edges:
        i, j = sorted(rng.sample(range(n_nodes), 2))
        if j - i <= 40:  # local structure, as in real models
            edges.add((i, j))
    lines = ["nodes:"] + [f"  {n}: {{label: Variable {n}}}" for n in names] + ["edges:"]
    for i, j in sorted(edges):
        gain = rng.uniform(-1, 1)
        lines.append(f"  {order[i]} -> {order[j]}: {{gain: {gain:.3f}, lag: {rng.randint(1, 30)} days}}")
    for _ in range(20):
        a, b = rng.sample(names, 2)
        lines.append(f"  {a} <-> {b}: {{}}")
    return "\n".join(lines) + "\n"


def _time(fn, repeat: int = 1):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def main() -> None:
    text = generate_spec()
    spec, t_load = _time(lambda: parse_spec(text, file="generated.yaml"), repeat=3)
    graph, t_graph = _time(lambda: build_graph(spec), repeat=3)
    print(f"spec: {len(spec.nodes)} nodes, {len(spec.edges)} edges ({len(text) / 1e3:.0f} kB of YAML)")
    print(f"{'stage':<42}{'time':>12}{'target':>12}")
    print(f"{'load + validate (YAML -> CausalSpec)':<42}{t_load * 1e3:>10.0f}ms{'< 1000ms':>12}")
    print(f"{'build graph':<42}{t_graph * 1e3:>10.1f}ms")
    _, t_dag = _time(lambda: graph._dag)
    print(f"{'latent confounders as nodes (once)':<42}{t_dag * 1e3:>10.1f}ms")
    rng = random.Random(1)
    nodes = sorted(graph.observed)
    dsep_times, path_times, effect_times = [], [], []
    for _ in range(20):
        x, y = rng.sample(nodes, 2)
        given = rng.sample([n for n in nodes if n not in (x, y)], 3)
        _, t = _time(lambda: is_d_separated(graph, x, y, given))  # noqa: B023
        dsep_times.append(t)
        _result, t = _time(lambda: find_paths(graph, x, y, given, max_paths=100, max_length=6))  # noqa: B023
        path_times.append(t)
    for _ in range(20):
        x = rng.choice(nodes)
        _, t = _time(lambda: total_effect(graph, x, rng.choice(nodes)))  # noqa: B023
        effect_times.append(t)
    for label, times in (
        ("d-separation query (median of 20)", dsep_times),
        ("paths query, <=100 paths of <=6 edges", path_times),
        ("linear total effect (median of 20)", effect_times),
    ):
        print(f"{label:<42}{statistics.median(times) * 1e3:>10.2f}ms{'< 50ms':>12}")
    print(f"{'  slowest d-separation query':<42}{max(dsep_times) * 1e3:>10.2f}ms")
    print(f"{'  slowest paths query':<42}{max(path_times) * 1e3:>10.2f}ms")


if __name__ == "__main__":
    main()
