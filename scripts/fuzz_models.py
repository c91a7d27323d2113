"""Fuzz the stock-and-flow loaders: mutated models in, counts of what happened out.

Each loader gets ``--n`` mutations (default 50,000) of the seed models (the
XMILE conformance models in tests/data/conformance, the models in
tests/data/stocks_flows, the bundled example's stocks.yaml). Every input runs in
a worker process with a time limit and a memory limit, so a hang, a crash of
the interpreter (a signal) or a blown memory is counted, not suffered. The
outcomes:

- ``ok``: loaded (and ran, for the loaders that run);
- ``refused``: a TenorError naming the file (what bad input must give);
- ``unlocated``: a TenorError that does not name the file;
- ``exception:<Type>``: any other exception (a bug);
- ``hang``: over ``--timeout`` seconds; ``signal:<n>``: the worker died.

Loaders: ``yaml`` (stocks_flows.load.parse_model), ``expr`` (the equation
parser), ``xmile`` and ``vensim`` (read through PySD's translators, then a short
run), ``simulate`` (a YAML model built, run for a few steps and its loops
found), ``cli`` (a YAML, XMILE or Vensim model through one of the commands
``simulate``, ``sweep``, ``loops``, ``unroll``, ``check``, ``export``, in
process; exit code 0, 1 or 2 counts as ``ok``/``refused``, 3 as ``exit:3``).
Inputs that are neither ``ok`` nor ``refused`` are saved under ``--out`` with
the outcome in the file name.

Usage::

    python scripts/fuzz_models.py --n 3000 --seed 1
    python scripts/fuzz_models.py --loaders xmile,vensim --n 500 --timeout 20
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOADERS = ("yaml", "expr", "xmile", "vensim", "simulate", "cli")
SUFFIX = {"yaml": ".yaml", "expr": ".txt", "xmile": ".xmile", "vensim": ".mdl", "simulate": ".yaml", "cli": ""}
COMMANDS = ("simulate", "sweep", "loops", "unroll", "check", "export")
"""Commands the ``cli`` loader runs (in-process, as ``tenor COMMAND FILE ...``)."""
SHORT_RUN_STEPS = 200
"""Steps of the short run after loading (the time axis is cut to this many steps of dt)."""

TOKENS = [
    "(" * 60,
    ")" * 5,
    "9" * 320,
    "1e10000",
    "-1e10000",
    "nan",
    "NaN",
    "inf",
    ".inf",
    "-.inf",
    "0",
    "-1",
    "1e-300",
    "1e9",
    "/0",
    "/ 0",
    " + ",
    " * ",
    "^",
    ",",
    "[",
    "]",
    "[t]",
    "{",
    "}",
    ":",
    "'",
    '"',
    "\n",
    "\t",
    "TIME STEP",
    "FINAL TIME",
    "SAVEPER",
    "DT",
    "time",
    "if x then ",
    "else",
    "STEP(1)",
    "PULSE TRAIN(2, 1e10000, 4, 0)",
    "SMOOTH(",
    "DELAY3(",
    "sum(",
    "min(",
    "x" * 50,
    "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
    "&a;",
    "<eqn>",
    "</eqn>",
    "<stop>1e9</stop>",
    "<dt>0</dt>",
    "INTEG(",
    "|",
    "~",
    "\\\\\\---///",
    "\x00",
    "\u00e9",
    "stop: .inf",
    "dt: 0",
    "start: .nan",
    "save_step: 1e-300",
    "dimensions: [d]",
    "&anchor",
    "*anchor",
    "!!python/object:os.system",
]


# --- seeds and mutations -------------------------------------------------------------------


def seeds(loader: str) -> list[bytes]:
    """The files each loader's inputs are mutated from."""
    data = ROOT / "tests" / "data"
    if loader == "xmile":
        files = sorted((data / "conformance" / "xmile").rglob("*.xmile"))
        files += sorted((data / "stocks_flows").glob("*.xmile"))
    elif loader == "vensim":
        files = sorted((data / "stocks_flows").glob("*.mdl"))
    elif loader in ("yaml", "simulate"):
        files = sorted((data / "stocks_flows").glob("*.yaml"))
        files.append(ROOT / "examples" / "duration_trade" / "stocks.yaml")
    else:
        return [e.encode() for e in equations()]
    return [f.read_bytes() for f in files]


def equations() -> list[str]:
    """Equation texts found in the YAML seeds, plus a few of every construct."""
    found: list[str] = []
    for text in seeds("yaml"):
        found += re.findall(rb"equation:\s*([^\n}]+)", text)
    out = [f.decode(errors="replace").strip().strip("'\"") for f in found]
    out += [
        "if time > 5 then 2 * x else min(x, 3)",
        "smooth1(x, 3, 0) + delay_fixed(y, 2, 0) - pulse_train(1, 2, 3, 4)",
        "sum(h[*]) / max(1, n) ^ -2",
        "not (a <= b) and c <> d or e >= 1e-3",
    ]
    return out


def mutate(data: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """``data`` with a few random edits: bytes, tokens, lines."""
    buf = bytearray(data)
    for _ in range(rounds if rounds is not None else rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip a byte
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:  # insert a token
            buf[pos:pos] = rng.choice(TOKENS).encode()
        elif op == 2 and buf:  # delete a span
            buf[pos : pos + rng.randint(1, 40)] = b""
        elif op == 3 and buf:  # repeat a span
            span = bytes(buf[pos : pos + rng.randint(1, 60)])
            buf[pos:pos] = span * rng.randint(2, 40)
        elif op == 4:  # replace a number by a hostile one
            numbers = list(re.finditer(rb"\d+(\.\d+)?", bytes(buf)))
            if numbers:
                m = rng.choice(numbers)
                buf[m.start() : m.end()] = rng.choice([b"0", b"-1", b"1e10000", b"nan", b"9" * 320, b"1e-300"])
        elif op == 5:  # shuffle or drop lines
            lines = bytes(buf).split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                if rng.random() < 0.5:
                    lines[i], lines[j] = lines[j], lines[i]
                else:
                    del lines[i]
                buf = bytearray(b"\n".join(lines))
        elif op == 6:  # nest: wrap a span in parentheses many times
            end = min(len(buf), pos + rng.randint(1, 20))
            k = rng.randint(20, 150)
            buf[pos:end] = b"(" * k + bytes(buf[pos:end]) + b")" * k
        else:  # a long chain
            buf[pos:pos] = b" + ".join([b"x"] * rng.randint(50, 600))
    return bytes(buf)


# --- running one input ---------------------------------------------------------------------


def run_one(loader: str, data: bytes, folder: str) -> str:
    """Load (and run) one input; return its outcome (see the module docstring)."""
    import warnings

    warnings.simplefilter("ignore")
    from tenor.core.errors import TenorError

    if loader.startswith("cli"):
        return run_cli(loader, data, folder)
    path = Path(folder) / f"model{SUFFIX[loader]}"
    try:
        if loader == "expr":
            from stocks_flows.expr import SyntaxProblem, parse_expression, to_text

            try:
                to_text(parse_expression(data.decode("utf-8", errors="replace")))
            except SyntaxProblem as problem:
                return "refused" if problem.line >= 1 and problem.column >= 1 else "unlocated"
            return "ok"
        path.write_bytes(data)
        if loader == "yaml":
            from stocks_flows.load import load_model

            load_model(path)
            return "ok"
        from stocks_flows.load import load_model

        model = load_model(path)
        short_run(model, loops=loader == "simulate")
        return "ok"
    except TenorError as err:
        where = getattr(err, "file", None)
        if where is None and type(err).__name__ in ("SimulationError", "NonFiniteError", "GraphError"):
            return "refused"  # a run or analysis error names the variable, time and scenario instead
        return "refused" if where == str(path) else "unlocated"
    except MemoryError:
        return "exception:MemoryError"
    except Exception as exc:  # a bug: anything else
        return f"exception:{type(exc).__name__}"


def run_cli(job: str, data: bytes, folder: str) -> str:
    """One command on one input: ``job`` is ``cli:SUFFIX:COMMAND``."""
    import contextlib
    import io

    from tenor.cli.main import main as tenor

    _, suffix, command = job.split(":")
    path = Path(folder) / f"model{suffix}"
    path.write_bytes(data)
    out = Path(folder) / ("out.yaml" if command == "unroll" else "out.csv")
    args = {
        "simulate": ["simulate", str(path), "--out", str(out)],
        "sweep": ["sweep", str(path), "--set", "k=0.1:0.2:2", "--out", str(out)],
        "loops": ["loops", str(path), "--max-loops", "100"],
        "unroll": ["unroll", str(path), "--steps", "3", "--out", str(out)],
        "check": ["check", str(path)],
        "export": ["export", str(path), "--to", "xmile", "--out", str(Path(folder) / "out.xmile")],
    }[command]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = tenor(args)
    return "exit:3" if code == 3 else "ok" if code == 0 else "refused"


def short_run(model, *, loops: bool) -> None:
    """Simulate a few steps of ``model`` (and find its loops)."""
    from dataclasses import replace

    from stocks_flows.engine import simulate

    ts = model.time
    stop = min(ts.stop, ts.start + SHORT_RUN_STEPS * ts.dt)
    if stop > ts.start:
        model = replace(model, time=replace(ts, stop=stop, save_step=max(ts.dt, min(ts.save_step, stop - ts.start))))
    simulate(model)
    if loops:
        from stocks_flows.loops import find_loops

        find_loops(model, max_loops=100)


def warm_up() -> None:
    """Import what the loaders use, so the time limit measures an input, not the imports."""
    import pysd.translators.vensim.vensim_file
    import pysd.translators.xmile.xmile_file  # noqa: F401

    import stocks_flows.load
    import stocks_flows.loops  # noqa: F401
    import tenor.cli.main  # noqa: F401


def _worker(conn, memory_bytes: int) -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ValueError, OSError):
        pass
    folder = tempfile.mkdtemp(prefix="tenor-fuzz-")
    warm_up()
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        loader, data = job
        conn.send(run_one(loader, data, folder))


class Worker:
    """A process that runs inputs one by one; restarted after a hang or a crash."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self.ctx = mp.get_context("fork")
        self.start()

    def start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.memory_bytes), daemon=True)
        self.proc.start()
        if not self.conn.poll(300) or self.conn.recv() != "ready":
            raise RuntimeError("the fuzz worker did not start")

    def run(self, loader: str, data: bytes, timeout: float) -> str:
        try:
            self.conn.send((loader, data))
            if self.conn.poll(timeout):
                return self.conn.recv()
            outcome = "hang"
        except (EOFError, BrokenPipeError, ConnectionResetError):
            outcome = "dead"
        self.proc.kill()
        self.proc.join()
        code = self.proc.exitcode
        if outcome == "dead" or (code is not None and code < 0 and outcome != "hang"):
            outcome = f"signal:{-code}" if code is not None and code < 0 else "dead"
        self.start()
        return outcome

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()


def campaign(loader: str, n: int, seed: int, timeout: float, memory_bytes: int, out: Path | None) -> Counter:
    """``n`` mutated inputs through one loader; the outcome counts."""
    rng = random.Random(f"{seed}:{loader}")
    if loader == "cli":
        pool = [(".yaml", s) for s in seeds("yaml")] + [(".xmile", s) for s in seeds("xmile")]
        pool += [(".mdl", s) for s in seeds("vensim")]
    else:
        pool = [(SUFFIX[loader], s) for s in seeds(loader)]
    counts: Counter = Counter()
    worker = Worker(memory_bytes)
    try:
        for _ in range(n):
            suffix, original = rng.choice(pool)
            data = mutate(original, rng)
            job = f"cli:{suffix}:{rng.choice(COMMANDS)}" if loader == "cli" else loader
            outcome = worker.run(job, data, timeout)
            counts[outcome] += 1
            if out is not None and outcome not in ("ok", "refused"):
                out.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha1(data).hexdigest()[:12]
                label = job.replace(":", "-").replace(".", "")
                name = f"{label}-{outcome.replace(':', '-')}-{digest}{suffix}"
                (out / name).write_bytes(data)
    finally:
        worker.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="inputs per loader (default 50,000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same inputs)")
    parser.add_argument("--loaders", default=",".join(LOADERS), help="comma-separated: " + ", ".join(LOADERS))
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per input before it counts as a hang")
    parser.add_argument("--memory", type=float, default=2.0, help="memory limit of the worker, in GiB")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="folder for failing inputs")
    args = parser.parse_args(argv)
    loaders = [x.strip() for x in args.loaders.split(",") if x.strip()]
    unknown = [x for x in loaders if x not in LOADERS]
    if unknown:
        parser.error(f"unknown loader(s): {', '.join(unknown)}; choose from {', '.join(LOADERS)}")
    bad = 0
    for loader in loaders:
        start = time.monotonic()
        counts = campaign(loader, args.n, args.seed, args.timeout, int(args.memory * 1024**3), args.out)
        took = time.monotonic() - start
        summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        print(f"{loader:9s} n={args.n} {took:7.1f}s  {summary}", flush=True)
        bad += sum(v for k, v in counts.items() if k not in ("ok", "refused"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
