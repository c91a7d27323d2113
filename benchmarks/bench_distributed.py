"""Streamed and distributed sweeps: time and peak memory of a large teacup Monte Carlo sweep.

Run from the repository root:

    python benchmarks/bench_distributed.py [--scenarios 1000000] [--old-scenarios 100000] [--workers 2]

Each figure comes from its own subprocess, which reports its wall time and its
peak resident memory (``resource.getrusage(...).ru_maxrss``; for the Dask runs
also the largest worker process):

- *whole table* is the sweep as it was written before streaming: every scenario
  run into one array, one long DataFrame built (``Run.to_frame``), then written;
  with ``--summary`` the whole array is summarised at once. It runs at
  ``--old-scenarios`` (holding a million scenarios' table needs far more memory
  than the streamed run; its figure scales with N);
- *streamed* is ``tenor sweep`` now: chunks of ``--chunk-size`` scenarios, each
  written as a Parquet row group (or reduced by the summary) when done;
- *dask local:N* is ``tenor sweep --scheduler local:N``: the same chunks on a
  LocalCluster of N worker processes (cluster start-up included), written as a
  partitioned dataset (one Parquet file per chunk) or reduced on the client.

The teacup model (tests/data/stocks_flows/teacup.yaml: 4 variables, 241 saved
times) draws ``room_temperature`` and ``characteristic_time``; the Parquet runs
keep ``teacup_temperature`` (``--variables``), the summaries all 4 variables.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEACUP = ROOT / "tests" / "data" / "stocks_flows" / "teacup.yaml"
SAMPLES = ["--sample", "room_temperature=normal(70,5)", "--sample", "characteristic_time=uniform(5,15)"]
KEEP = "teacup_temperature"


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _child(kind: str, n: int, folder: Path, chunk_size: int, workers: int) -> dict:
    """Run one measurement in this process; return its figures."""
    sys.path.insert(0, str(ROOT))
    from tenor.cli.main import main

    out = folder / ("summary.parquet" if "summary" in kind else "runs.parquet")
    start = time.perf_counter()
    if kind.startswith("old"):
        from stocks_flows.load import load_model
        from stocks_flows.sampling import sample
        from stocks_flows.scenarios import parse_sample, run_scenarios, write_table
        from stocks_flows.summary import summarize

        model = load_model(TEACUP)
        draws = [parse_sample(SAMPLES[1]), parse_sample(SAMPLES[3])]
        table = sample(draws, n, 1, design="random")
        if kind == "old-variables":
            run = run_scenarios(model, table, variables=[KEEP], chunk_size=chunk_size)
            write_table(run.to_frame(), out)
        else:
            run = run_scenarios(model, table, chunk_size=chunk_size)
            write_table(summarize(run, [5, 25, 50, 75, 95]), out)
    else:
        args = ["sweep", str(TEACUP), *SAMPLES, "--samples", str(n), "--seed", "1", "--chunk-size", str(chunk_size)]
        args += ["--summary"] if "summary" in kind else ["--variables", KEEP]
        if kind.startswith("dask"):
            args += ["--scheduler", f"local:{workers}"]
        code = main([*args, "--out", str(out)])
        if code != 0:
            raise SystemExit(f"tenor sweep exited with {code}")
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "output_mb": _size(out) / 2**20,
    }


def measure(kind: str, n: int, chunk_size: int, workers: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="tenor-bench-", dir=ROOT / "benchmarks"))
    try:
        cmd = [sys.executable, __file__, "--child", kind, "--scenarios", str(n)]
        cmd += ["--chunk-size", str(chunk_size), "--workers", str(workers), "--folder", str(folder)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:100]}
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1_000_000)
    parser.add_argument("--old-scenarios", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = _child(args.child, args.scenarios, Path(args.folder), args.chunk_size, args.workers)
        print(json.dumps(figures))
        return
    rows = []
    for output in ("variables", "summary"):
        plan = [("whole table", f"old-{output}", args.old_scenarios), ("streamed", f"new-{output}", args.scenarios)]
        if not args.skip_dask:
            plan.append((f"dask local:{args.workers}", f"dask-{output}", args.scenarios))
        for label, kind, n in plan:
            figures = measure(kind, n, args.chunk_size, args.workers)
            rows.append((f"--{output}", label, n, figures))
            print(_line(*rows[-1]), flush=True)
    print()
    print(_header())
    for row in rows:
        print(_line(*row))


def _header() -> str:
    return (
        f"{'output':<12}{'approach':<16}{'scenarios':>11}{'seconds':>10}{'scen/s':>11}"
        f"{'peak MB':>10}{'workers MB':>12}{'output MB':>11}"
    )


def _line(output: str, label: str, n: int, f: dict) -> str:
    if "error" in f:
        return f"{output:<12}{label:<16}{n:>11,}  failed: {f['error']}"
    workers = f"{f['children_peak_mb']:,.0f}" if label.startswith("dask") else "-"
    return (
        f"{output:<12}{label:<16}{n:>11,}{f['seconds']:>10.1f}{n / f['seconds']:>11,.0f}"
        f"{f['peak_mb']:>10,.0f}{workers:>12}{f['output_mb']:>11,.2f}"
    )


if __name__ == "__main__":
    main()
