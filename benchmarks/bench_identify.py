"""Identification time on generated graphs: tenor's minimal-set listing next to DoWhy's back-door search.

Run:  python benchmarks/bench_identify.py [--sizes 50 200 500] [--dowhy-limit 20] [--seed 1]

Two families of random DAGs: nodes in a fixed order, each with one or two
parents among the 10 nodes before it (sparse) or one to three among the 20
before it (denser); a tenth of the nodes are latent. The query is the effect
of a node half-way along on its fifth-nearest observed descendant (the first
seed from ``--seed`` whose query has an adjustment set). tenor lists
*all* inclusion-minimal adjustment sets with polynomial delay (the time to the
first set decides whether one exists; the denser family has tens of thousands
of minimal sets, so the listing stops at ``--max-sets``); ``identify`` is the
full report (front door, instruments, ID) with a 5 s limit. DoWhy runs its
default back-door search (``identify_backdoor``), which returns one set, in a
forked process stopped after ``--dowhy-limit`` seconds ("gave up after Ns").
Target: all minimal sets of a 500-node graph in under 1 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import networkx as nx

from causal.adjustment import iter_minimal_adjustment_sets
from causal.dowhy_bridge import dowhy_graph
from causal.graph import CausalGraph, from_edges
from causal.identify import identify


def generate(n: int, seed: int, max_parents: int = 2, window: int = 10) -> tuple[CausalGraph, str, str]:
    """A random DAG; the query is a node half-way along on its fifth-nearest observed descendant."""
    rng = random.Random(seed)
    nodes = [f"v{i}" for i in range(n)]
    edges = set()
    for j in range(1, n):
        for _ in range(rng.randint(1, max_parents)):
            i = rng.randint(max(0, j - window), j - 1)
            edges.add((nodes[i], nodes[j]))
    latent = set(rng.sample(nodes[1:], n // 10))
    dag = nx.DiGraph(edges)
    start = n // 2
    while True:
        x = nodes[start]
        if x not in latent:
            desc = sorted((d for d in nx.descendants(dag, x) if d not in latent), key=lambda v: int(v[1:]))
            if desc:
                y = desc[min(len(desc) - 1, 5)]
                break
        start += 1
    return from_edges(sorted(edges), latent=latent - {x, y}), x, y


def _dowhy_worker(dag: nx.DiGraph, x: str, y: str, observed: list[str], queue: mp.Queue) -> None:
    import logging

    from dowhy.causal_identifier.auto_identifier import BackdoorAdjustment, identify_backdoor

    logging.getLogger("dowhy").setLevel(logging.ERROR)
    started = time.perf_counter()
    try:
        sets = identify_backdoor(dag, [x], [y], observed, BackdoorAdjustment.BACKDOOR_DEFAULT)
        queue.put((time.perf_counter() - started, len(sets), None))
    except Exception as exc:  # reported in the table
        queue.put((time.perf_counter() - started, 0, type(exc).__name__))


def dowhy_backdoor(graph: CausalGraph, x: str, y: str, limit: float) -> str:
    """DoWhy's back-door search in a forked process, killed after ``limit`` seconds."""
    dag, observed = dowhy_graph(graph)
    queue: mp.Queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_dowhy_worker, args=(dag, x, y, observed, queue), daemon=True)
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return f"gave up after {limit:g}s"
    took, count, error = queue.get(timeout=5)
    if error is not None:
        return f"failed ({error}) after {took:.2f}s"
    return f"{took:.3f}s ({count} set(s))"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--dowhy-limit", type=float, default=20.0)
    parser.add_argument("--max-sets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-dowhy", action="store_true")
    args = parser.parse_args(argv)
    if not args.no_dowhy:
        import dowhy  # noqa: F401  (imported once, outside the timings)
    families = [("sparse: 1-2 parents within 10", 2, 10), ("denser: 1-3 parents within 20", 3, 20)]
    print(
        f"{'graph':<31} {'seed':>4} {'nodes':>5} {'edges':>5} {'sets':>7} {'first set':>10} {'all sets':>9} "
        f"{'per set':>9} {'identify':>9}  DoWhy back-door (one set)"
    )
    target: list[float] = []
    for label, max_parents, window in families:
        for n in args.sizes:
            seed = args.seed
            graph, x, y = generate(n, seed, max_parents, window)
            while next(iter_minimal_adjustment_sets(graph, [x], [y]), None) is None and seed < args.seed + 50:
                seed += 1  # a query with at least one adjustment set
                graph, x, y = generate(n, seed, max_parents, window)
            started = time.perf_counter()
            first = None
            count = 0
            for _ in iter_minimal_adjustment_sets(graph, [x], [y]):
                count += 1
                if first is None:
                    first = time.perf_counter() - started
                if count >= args.max_sets:
                    break
            total = time.perf_counter() - started
            if first is None:
                first = total
            started = time.perf_counter()
            identify(graph, x, y, time_limit=5)
            ident = time.perf_counter() - started
            capped = "+" if count >= args.max_sets else " "
            per = total / count if count else 0.0
            if n == 500 and count < args.max_sets:
                target.append(total)
            theirs = "skipped" if args.no_dowhy else dowhy_backdoor(graph, x, y, args.dowhy_limit)
            print(
                f"{label:<31} {seed:>4} {n:>5} {graph.directed.number_of_edges():>5} "
                f"{count:>6}{capped} {first:>9.3f}s "
                f"{total:>8.3f}s {per * 1000:>7.2f}ms {ident:>8.3f}s  {theirs}",
                flush=True,
            )
    print(
        "sets: all inclusion-minimal adjustment sets ('+': stopped at --max-sets); identify: the full report "
        "with a 5 s limit"
    )
    if target:
        print(
            f"target, all sets of a 500-node graph in under 1 s: {'met' if max(target) < 1 else 'missed'} "
            f"({max(target):.3f}s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
