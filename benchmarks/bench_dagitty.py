"""tenor next to DAGitty's JavaScript library: all minimal adjustment sets and d-separation.

Run:  DAGITTY_JS=/path/to/dagitty-node.js python benchmarks/bench_dagitty.py [--graphs 500] [--seed 1]

Graph families (seeded): ``--graphs`` small random graphs of 5-15 nodes (three
in five DAGs, the rest with one to three ``<->`` latent confounders), with one
adjustment query (``x`` an ancestor of ``y`` where possible) and
``--dsep-per-graph`` d-separation queries each (a random pair, and a random
conditioning set of up to three other nodes); and sparse 50- and 200-node DAGs
(each node with one or two parents among the ten before it, a tenth of the
nodes latent) with five adjustment queries (an outcome at most three steps
below the treatment, and at most 1,000 minimal sets: longer listings are timed
by bench_identify.py) and 100 d-separation queries each.
Both libraries get each graph already built (DAGitty parses its text, tenor
builds a ``CausalGraph``; neither is timed) and answer the same queries. The
two take turns ``--repeat`` times, so both see the same machine load; DAGitty
answers each turn twice in one Node process, so its JIT compiler is warm; tenor
drops its per-graph caches before each pass, so their cost is counted. The
time is the best pass of each, and the answers are compared (``agree``).

DAGitty is a reference, not a dependency: nothing of it is in this
repository. The benchmark needs Node.js (``apt-get install -y nodejs``; it is
a benchmark-only tool, listed in no requirements) and DAGitty's Node build:
from DAGitty's public repository (``jtextor/dagitty``), concatenate, as the
``dagitty-node.js`` target of ``jslib/Makefile`` does, ``node-pre.js``,
``graph/{Class,Hash,Graph,GraphAnalyzer,GraphLayouter,GraphParser,GraphTransformer,
GraphGenerator,ObservedGraph,GraphSerializer,MPolynomials}.js``,
``parser/GraphDotParser.js`` and ``node-post.js`` into one ``dagitty-node.js``,
and run ``npm install underscore`` in its directory. Point ``DAGITTY_JS`` (or
``--dagitty``) at that file; without it the benchmark prints
"DAGitty not found" and times tenor alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import networkx as nx

from causal.adjustment import list_minimal_adjustment_sets, minimal_adjustment_sets
from causal.graph import CausalGraph, from_edges
from causal.paths import is_d_separated

NODE_SCRIPT = r"""
const lib = require(process.argv[2]);
const work = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const repeat = work.repeat;
const graphs = work.graphs.map(w => {
  const g = lib.GraphParser.parseGuess(w.dagitty);
  const v = id => g.getVertex(id);
  return {
    g: g,
    adj: w.adjust.map(([x, y]) => [v(x), v(y)]),
    dsep: w.dsep.map(([x, y, z]) => [[v(x)], [v(y)], z.map(v)]),
  };
});
function adjust() {
  const out = [];
  for (const w of graphs) {
    for (const [x, y] of w.adj) {
      w.g.removeAllSources(); w.g.removeAllTargets();
      w.g.addSource(x); w.g.addTarget(y);
      out.push(lib.GraphAnalyzer.listMsasTotalEffect(w.g).map(s => s.map(n => n.id).sort()));
    }
  }
  return out;
}
function dsep() {
  const out = [];
  for (const w of graphs) {
    for (const [x, y, z] of w.dsep) out.push(!lib.GraphAnalyzer.dConnected(w.g, x, y, z));
  }
  return out;
}
function best(fn) {
  let result, ms = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    result = fn();
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return [ms, result];
}
const [adjMs, adjOut] = best(adjust);
const [dsepMs, dsepOut] = best(dsep);
console.log(JSON.stringify({adjust_ms: adjMs, adjust: adjOut, dsep_ms: dsepMs, dsep: dsepOut}));
"""


@dataclass
class Workload:
    graph: CausalGraph
    edges: list[tuple[str, str]]
    bidirected: list[tuple[str, str]]
    latent: set[str]
    adjust: list[tuple[str, str]] = field(default_factory=list)
    dsep: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def dagitty(self) -> str:
        nodes = sorted({v for e in (*self.edges, *self.bidirected) for v in e} | self.latent)
        parts = [f"{v} [latent]" if v in self.latent else v for v in nodes]
        parts += [f"{a} -> {b}" for a, b in self.edges]
        parts += [f"{a} <-> {b}" for a, b in self.bidirected]
        return "dag { " + " ; ".join(parts) + " }"


def _queries(
    w: Workload, rng: random.Random, n_adjust: int, n_dsep: int, reach: int | None = None, max_sets: int | None = None
) -> Workload:
    """``n_adjust`` queries on ``x`` and a descendant (at most ``reach`` steps down) with at most
    ``max_sets`` minimal adjustment sets, and ``n_dsep`` d-separation triples."""
    dag = nx.DiGraph(w.edges)
    dag.add_nodes_from(v for e in w.bidirected for v in e)
    observed = sorted(v for v in dag if v not in w.latent)
    while len(w.adjust) < n_adjust:
        x = rng.choice(observed)
        below = sorted(set(nx.single_source_shortest_path_length(dag, x, cutoff=reach)) - w.latent - {x})
        y = rng.choice(below) if below else rng.choice([v for v in observed if v != x])
        if max_sets is None or list_minimal_adjustment_sets(w.graph, [x], [y], max_sets=max_sets + 1).complete:
            w.adjust.append((x, y))
    for _ in range(n_dsep):
        x, y = rng.sample(observed, 2)
        rest = [v for v in observed if v not in (x, y)]
        w.dsep.append((x, y, sorted(rng.sample(rest, rng.randint(0, min(3, len(rest)))))))
    return w


def small_graphs(count: int, seed: int, dsep_per_graph: int) -> list[Workload]:
    """5-15 nodes; three in five plain DAGs, the others with latent confounders (``<->``)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        n = rng.randint(5, 15)
        nodes = [f"v{k}" for k in range(n)]
        rng.shuffle(nodes)
        p = rng.uniform(1.5, 3.0) / (n - 1)
        edges = [(nodes[a], nodes[b]) for a in range(n) for b in range(a + 1, n) if rng.random() < p]
        bidirected = []
        if i % 5 >= 3:
            pairs = [(a, b) for k, a in enumerate(sorted(nodes)) for b in sorted(nodes)[k + 1 :]]
            bidirected = rng.sample(pairs, rng.randint(1, 3))
        graph = from_edges(edges, bidirected=bidirected)
        for v in nodes:
            if v not in graph.directed:
                graph.directed.add_node(v, observed=True, label=v, role="variable")
                graph.bidirected.add_node(v)
        w = Workload(graph, edges, bidirected, set())
        out.append(_queries(w, rng, 1, dsep_per_graph))
    return out


def sparse_graphs(n: int, count: int, seed: int) -> list[Workload]:
    """Each node with one or two parents among the ten before it; a tenth of the nodes latent."""
    rng = random.Random(seed * 1000 + n)
    out = []
    for _ in range(count):
        nodes = [f"v{k}" for k in range(n)]
        edges = sorted(
            {
                (nodes[rng.randint(max(0, j - 10), j - 1)], nodes[j])
                for j in range(1, n)
                for _ in range(rng.randint(1, 2))
            }
        )
        latent = set(rng.sample(nodes[1:], n // 10))
        graph = from_edges(edges, latent=latent)
        out.append(_queries(Workload(graph, edges, [], latent), rng, 5, 100, reach=3, max_sets=1000))
    return out


def _isolated(w: Workload) -> list[str]:
    linked = {v for e in (*w.edges, *w.bidirected) for v in e}
    return [v for v in w.graph.directed if v not in linked]


def run_tenor(work: list[Workload], repeat: int) -> tuple[float, list, float, list]:
    def adjust() -> list:
        return [minimal_adjustment_sets(w.graph, [x], [y]) for w in work for x, y in w.adjust]

    def dsep() -> list:
        return [is_d_separated(w.graph, x, y, z) for w in work for x, y, z in w.dsep]

    def best(fn):
        ms, result = float("inf"), None
        for _ in range(repeat):
            for w in work:  # drop cached per-graph structures: each pass pays for them again
                w.graph.__dict__.pop("index", None)
                w.graph.__dict__.pop("_dag", None)
            started = time.perf_counter()
            result = fn()
            ms = min(ms, (time.perf_counter() - started) * 1000)
        return ms, result

    adjust_ms, adjust_out = best(adjust)
    dsep_ms, dsep_out = best(dsep)
    return adjust_ms, adjust_out, dsep_ms, dsep_out


def run_dagitty(path: str, work: list[Workload], repeat: int) -> dict | None:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        print("node not found: apt-get install -y nodejs")
        return None
    payload = {"repeat": repeat, "graphs": []}
    for w in work:
        text = w.dagitty()
        iso = _isolated(w)
        if iso:
            text = text[:-1] + " ; " + " ; ".join(iso) + " }"
        payload["graphs"].append(
            {"dagitty": text, "adjust": [list(q) for q in w.adjust], "dsep": [[x, y, z] for x, y, z in w.dsep]}
        )
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.js"
        data = Path(tmp) / "work.json"
        script.write_text(NODE_SCRIPT)
        data.write_text(json.dumps(payload))
        proc = subprocess.run(
            [node, str(script), str(Path(path).resolve()), str(data)], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        print("DAGitty failed:", proc.stderr.strip()[-500:])
        return None
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graphs", type=int, default=500)
    ap.add_argument("--dsep-per-graph", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="*", default=[50, 200])
    ap.add_argument("--large-count", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dagitty", default=os.environ.get("DAGITTY_JS"), help="path to dagitty-node.js")
    args = ap.parse_args()
    path = args.dagitty
    if not path or not Path(path).is_file():
        print("DAGitty not found (set DAGITTY_JS or --dagitty to dagitty-node.js); timing tenor alone")
        path = None
    families = [(f"{args.graphs} graphs, 5-15 nodes", small_graphs(args.graphs, args.seed, args.dsep_per_graph))]
    families += [
        (f"{args.large_count} graphs, {n} nodes", sparse_graphs(n, args.large_count, args.seed)) for n in args.sizes
    ]
    print(f"{'graphs':<26} {'task':<30} {'tenor ms':>10} {'DAGitty ms':>11} {'DAGitty/tenor':>14} {'agree':>7}")
    for name, work in families:
        # tenor and DAGitty take turns, so both see the same machine load; the best pass of each counts
        adjust_ms = dsep_ms = their_adjust = their_dsep = float("inf")
        theirs = None
        for _ in range(args.repeat):
            a_ms, adjust_out, d_ms, dsep_out = run_tenor(work, 1)
            adjust_ms, dsep_ms = min(adjust_ms, a_ms), min(dsep_ms, d_ms)
            if path:
                theirs = run_dagitty(path, work, 2)
                if theirs is None:
                    path = None
                else:
                    their_adjust = min(their_adjust, theirs["adjust_ms"])
                    their_dsep = min(their_dsep, theirs["dsep_ms"])
        n_adj = sum(len(w.adjust) for w in work)
        n_dsep = sum(len(w.dsep) for w in work)
        rows = [
            (f"all minimal adj. sets ({n_adj})", adjust_ms, adjust_out, "adjust", their_adjust),
            (f"d-separation ({n_dsep})", dsep_ms, dsep_out, "dsep", their_dsep),
        ]
        for task, ms, ours, key, their_ms in rows:
            if theirs is None:
                print(f"{name:<26} {task:<30} {ms:>10.1f} {'-':>11} {'-':>14} {'-':>7}")
                continue
            other = theirs[key]
            if key == "adjust":
                agree = sum(sorted(map(sorted, a)) == sorted(map(sorted, b)) for a, b in zip(ours, other, strict=True))
            else:
                agree = sum(a == b for a, b in zip(ours, other, strict=True))
            print(
                f"{name:<26} {task:<30} {ms:>10.1f} {their_ms:>11.1f} {their_ms / ms:>13.2f}x {agree:>3}/{len(ours)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
