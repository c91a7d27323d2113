"""Fuzz the causal-graph readers with hostile files, each in a worker process.

Four readers are fed mutated inputs: the safe YAML reader (``yaml``), causal
specs in tenor YAML (``causal``), dagitty text (``dagitty``) and node-link JSON
(``node_link``). Each input is written to a file and read by a worker
subprocess, so that a hang (over ``--timeout`` seconds) or a crash of the
interpreter (a segfault) is seen and counted instead of stopping the campaign.
Every outcome is one of

- ``ok``: the file was read;
- ``clean error``: a ``SpecError`` whose every diagnostic names the file and a
  line inside it;
- ``unlocated error``: a ``TenorError`` without such a location;
- ``crash``: any other exception (``MemoryError`` included: workers run with a
  memory cap);
- ``hang``: no answer within the time-out (``--timeout`` seconds of processor
  time, waiting up to six times as long on a busy machine);
- ``segfault``: the worker died of a signal.

Inputs that crash, hang, segfault or give an unlocated error are saved under
``--save`` (one file each, named by outcome and content hash) to replay.

Usage::

    python scripts/fuzz_causal.py                  # 50,000 inputs per reader
    python scripts/fuzz_causal.py --n 5000 --seed 7 --loaders dagitty node_link

Mutations: random bytes; byte flips, inserts, deletes, duplications and
truncations of valid example files; hostile snippets spliced in (deep nesting,
huge numbers, odd unicode, escapes, tags, aliases); deep nesting in the
reader's own syntax (up to 50,000 levels); and group edges that multiply.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOADERS = ("yaml", "causal", "dagitty", "node_link")
SUFFIX = {"yaml": ".yaml", "causal": ".yaml", "dagitty": ".dagitty", "node_link": ".json"}
OUTCOMES = ("ok", "clean error", "unlocated error", "crash", "hang", "segfault")
WORKER_MEMORY = 2_000_000_000  # bytes of address space a worker may use
_LINE_BREAKS = (b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())


# --- the worker: read one input at a time, answer with its outcome --------------------------


def _reader(loader: str) -> Callable[[str], object]:
    if loader == "yaml":
        from tenor.core.specfile import read_yaml

        return read_yaml
    if loader == "causal":
        from causal.load import read_spec

        return read_spec
    if loader == "dagitty":
        from causal.formats.dagitty import read_dagitty

        return read_dagitty
    from causal.formats.node_link import read_node_link

    return read_node_link


def classify(loader: str, path: str, data: bytes) -> tuple[str, str]:
    """Read ``path`` with ``loader``: the outcome and a one-line detail."""
    from tenor.core.errors import SpecError, TenorError

    lines = 1 + sum(data.count(b) for b in _LINE_BREAKS)
    try:
        _reader(loader)(path)
    except SpecError as err:
        for d in err.diagnostics:
            if d.file != path or d.line is None or not 1 <= d.line <= lines + 1:
                return "unlocated error", f"{d.file}:{d.line}: {d.message}"[:300]
        return "clean error", err.diagnostics[0].message[:120]
    except TenorError as err:
        return "unlocated error", f"{type(err).__name__}: {err}"[:300]
    except BaseException as exc:  # the point is to count these
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    return "ok", ""


def _worker(loader: str) -> None:
    """Read length-prefixed inputs on standard input, answer one line per input."""
    import resource

    sys.path.insert(0, str(ROOT))
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    _reader(loader)  # import before the first input
    folder = tempfile.mkdtemp(prefix="tenor-fuzz-")
    path = os.path.join(folder, "input" + SUFFIX[loader])
    src, out = sys.stdin.buffer, sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    while True:
        head = src.read(4)
        if len(head) < 4:
            break
        (size,) = struct.unpack(">I", head)
        data = src.read(size)
        with open(path, "wb") as fh:
            fh.write(data)
        outcome, detail = classify(loader, path, data)
        out.write(f"{outcome}\t{detail}".replace("\n", " ").encode("utf-8", "replace") + b"\n")
        out.flush()


# --- mutations ------------------------------------------------------------------------------

SNIPPETS = [
    b"[" * 200,
    b"{a: " * 200,
    b"- " * 200,
    b"{" * 200,
    b'"\\N"',
    b'"\\x"',
    b'"\\u12"',
    b"\\",
    b'"',
    b"'",
    b"1" * 5000,
    b"1e999999",
    b"-0x1F",
    b".nan",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",  # an encoded surrogate
    "\u202e\u2028\u2029\x85\ufeff".encode(),
    "é→𝔘".encode(),
    b"\t",
    b"\r\n",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"!!python/object/apply:os.system ['true']",
    b"!!binary aGk=",
    b"%YAML 1.1\n---\n",
    b"---\n",
    b"? [a, b]\n: c\n",
    b" -> ",
    b" <-> ",
    b" -- ",
    b"[beta=1e400]",
    b"[beta=nan]",
    b"{a b c d e f g h} -> {i j k l m n o p}",
    b'{"id": null}',
    b'"source": 3',
    b'"nodes": 5',
    b'"edges": "x"',
    b"[[[[[[[[[[",
    b"]]]]]]]]]]",
]


def _deep(rng: random.Random, loader: str) -> bytes:
    depth = rng.choice([51, 60, 1_000, 10_000, 30_000, 50_000])
    if loader == "dagitty":
        opener = rng.choice([b"{", b"[", b"dag {", b"{a "])
        return b"dag { " + opener * depth + b"}" * rng.randrange(depth + 1)
    if loader == "node_link":
        opener = rng.choice([b"[", b'{"a": ', b'{"nodes": ['])
        return opener * depth
    opener = rng.choice([b"[", b"{a: ", b"- ", b"{", b"? ", b"x: ["])
    closer = {b"[": b"]", b"x: [": b"]", b"{": b"}", b"{a: ": b"}"}.get(opener, b"")
    return b"x: " + opener * depth + closer * rng.randrange(depth + 1)


def _groups(rng: random.Random) -> bytes:
    a, b = rng.randrange(1, 600), rng.randrange(1, 600)
    left = b" ".join(b"a%d" % i for i in range(a))
    right = b" ".join(b"b%d" % i for i in range(b))
    return b"dag { {" + left + b"} -> {" + right + b"} }"


def mutate(rng: random.Random, seeds: list[bytes], loader: str) -> bytes:
    """One hostile input for ``loader``."""
    kind = rng.random()
    if kind < 0.08:
        return rng.randbytes(rng.randrange(0, 2_000))
    if kind < 0.14:
        return _deep(rng, loader)
    if kind < 0.17 and loader == "dagitty":
        return _groups(rng)
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randrange(1, 9)):
        op = rng.randrange(7)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            i = min(at, len(data) - 1)
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert random bytes
            data[at:at] = rng.randbytes(rng.randrange(1, 9))
        elif op == 2 and data:  # delete a span
            del data[at : at + rng.randrange(1, 40)]
        elif op == 3 and data:  # duplicate a span
            span = bytes(data[at : at + rng.randrange(1, 200)])
            data[at:at] = span * rng.randrange(1, 50)
        elif op == 4:  # splice in a hostile snippet
            data[at:at] = rng.choice(SNIPPETS)
        elif op == 5:  # truncate
            del data[at:]
        else:  # replace a byte with a structural one
            if data:
                data[min(at, len(data) - 1)] = rng.choice(b"[]{},:-\"'#&*!|>\n ")
    return bytes(data)


def seed_inputs(loader: str) -> list[bytes]:
    """Valid example files of each reader's format, to mutate."""
    sys.path.insert(0, str(ROOT))
    from causal.formats.dagitty import generate_dagitty
    from causal.formats.node_link import generate_node_link
    from causal.load import read_spec

    example = ROOT / "examples" / "duration_trade" / "causal.yaml"
    spec = read_spec(example)
    small = b"nodes: {x: {}, m: {}, y: {}}\nedges:\n  x -> m: {sign: +, gain: 0.5}\n  m -> y: {sign: '-'}\n"
    if loader in ("yaml", "causal"):
        seeds = [example.read_bytes(), small]
        if loader == "yaml":
            seeds += [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "stocks_flows").glob("*.yaml"))]
        return seeds
    if loader == "dagitty":
        features = (
            b'dag {\n  bb="0,0,1,1"\n  "Smoking status" [exposure,pos="0.1,0.2"]\n  Cancer [outcome]\n'
            b'  U [latent]\n  "Smoking status" -> Tar -> Cancer [beta=0.5]\n  {U Age} -> {"Smoking status" Cancer}\n'
            b"  Tar <- Genes\n  Genes <-> Cancer\n}\n"
        )
        return [generate_dagitty(spec).encode(), features]
    return [
        generate_node_link(spec).encode(),
        b'{"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b"}]}',
    ]


# --- the campaign ---------------------------------------------------------------------------


class Worker:
    """A worker subprocess for one reader, restarted after a hang or a crash of the interpreter."""

    def __init__(self, loader: str) -> None:
        self.loader = loader
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0  # when the last input was sent

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", self.loader],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        if self._line(120.0) != "ready":
            raise RuntimeError(f"the {self.loader} worker did not start")

    def _line(self, timeout: float) -> str | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line.decode("utf-8", "replace").rstrip("\n") if line else ""

    def run(self, data: bytes, timeout: float) -> tuple[str, str]:
        """The outcome of one input (the worker is started first if need be, outside the time-out)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.started = time.perf_counter()
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        cpu_before = self._cpu()
        line = self._line(timeout)
        while line is None and self._cpu() - cpu_before < timeout and time.perf_counter() - self.started < 6 * timeout:
            line = self._line(1.0)  # the machine is busy: wait while the worker has had less than its time
        if line is None:
            self.stop()
            return "hang", f"no answer within {timeout:g} s of processor time"
        if line == "":
            code = self.proc.wait()
            self.proc = None
            return "segfault", f"worker died (exit {code})"
        outcome, _, detail = line.partition("\t")
        return outcome, detail

    def _cpu(self) -> float:
        """Processor seconds the worker has used (0 where /proc cannot tell)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, AttributeError):
            return 0.0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def campaign(loader: str, n: int, seed: int, timeout: float, save: Path) -> tuple[Counter[str], float, Counter[str]]:
    """Run ``n`` inputs through ``loader``: counts by outcome, slowest answer, and crash kinds."""
    rng = random.Random(f"{seed}:{loader}")
    seeds = seed_inputs(loader)
    counts: Counter[str] = Counter({o: 0 for o in OUTCOMES})
    kinds: Counter[str] = Counter()
    slowest = 0.0
    worker = Worker(loader)
    try:
        for _ in range(n):
            data = mutate(rng, seeds, loader)
            outcome, detail = worker.run(data, timeout)
            slowest = max(slowest, time.perf_counter() - worker.started)
            counts[outcome] += 1
            if outcome not in ("ok", "clean error"):
                kinds[f"{outcome}: {detail[:80]}"] += 1
                folder = save / loader
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{outcome.replace(' ', '_')}-{hashlib.sha1(data).hexdigest()[:12]}{SUFFIX[loader]}"
                (folder / name).write_bytes(data)
    finally:
        worker.stop()
    return counts, slowest, kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="inputs per reader (default 50,000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before an input counts as a hang")
    parser.add_argument("--loaders", nargs="+", choices=LOADERS, default=list(LOADERS), help="readers to fuzz")
    parser.add_argument("--save", type=Path, default=Path("out/fuzz/causal"), help="folder for bad inputs")
    parser.add_argument("--worker", choices=LOADERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return 0
    bad = 0
    print(f"{'reader':<10} " + " ".join(f"{o:>15}" for o in OUTCOMES) + f" {'slowest (s)':>12}")
    for loader in args.loaders:
        started = time.perf_counter()
        counts, slowest, kinds = campaign(loader, args.n, args.seed, args.timeout, args.save)
        print(f"{loader:<10} " + " ".join(f"{counts[o]:>15,}" for o in OUTCOMES) + f" {slowest:>12.2f}", flush=True)
        for kind, count in kinds.most_common(10):
            print(f"    {count:>6} x {kind}", flush=True)
        print(f"    ({args.n:,} inputs in {time.perf_counter() - started:.0f} s)", flush=True)
        bad += sum(counts[o] for o in ("unlocated error", "crash", "hang", "segfault"))
    if bad:
        print(f"{bad} bad outcomes; inputs saved under {args.save}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
