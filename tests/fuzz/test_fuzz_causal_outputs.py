"""Outputs are reproducible and never half-written.

The same spec and seed give byte-identical outputs from separate processes
with different hash seeds (``identify --json``, ``simulate-data``, ``convert``,
``draw`` to SVG); the identification JSON carries no timing; and the
temporary files a killed write leaves behind are removed by the next write to
the same folder when they are stale, never while their writer still runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from causal.graph import build_graph
from causal.identify import identify
from causal.load import read_spec
from tenor.core.limits import STALE_PART_SECONDS
from tenor.core.output import remove_stale_parts, write_text

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "duration_trade" / "causal.yaml"

_DRIVER = """
import contextlib, sys
from pathlib import Path
from tenor.cli.main import main

out = Path(sys.argv[1])
spec = sys.argv[2]
runs = {
    "identify.json": ["identify", spec, "-t", "carry_unwind", "-o", "ust_long_end", "--json"],
    "convert.dagitty": ["convert", spec, "--to", "dagitty"],
    "convert.json": ["convert", spec, "--to", "json"],
    "convert.yaml": ["convert", spec, "--to", "yaml"],
}
for name, args in runs.items():
    with open(out / name, "w") as fh, contextlib.redirect_stdout(fh):
        assert main(args) == 0, name
assert main(["simulate-data", spec, "--n", "300", "--seed", "7", "--out", str(out / "data.csv")]) == 0
assert main(["draw", spec, "--out", str(out / "dag.svg")]) == 0
"""


def _outputs(folder: Path, hash_seed: str) -> dict[str, bytes]:
    folder.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(folder), str(EXAMPLE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_outputs_are_byte_identical_across_processes_and_hash_seeds(tmp_path):
    first = _outputs(tmp_path / "a", "0")
    second = _outputs(tmp_path / "b", "random")
    assert set(first) == {
        "identify.json",
        "convert.dagitty",
        "convert.json",
        "convert.yaml",
        "data.csv",
        "dag.svg",
    }
    for name, data in first.items():
        assert data, name
        assert second[name] == data, f"{name} differs between PYTHONHASHSEED=0 and a random one"


def test_identification_json_has_no_timing():
    spec = read_spec(EXAMPLE)
    result = identify(build_graph(spec), ["carry_unwind"], ["ust_long_end"]).to_dict()
    assert "seconds" not in json.dumps(result)
    assert result["query"] == "P(ust_long_end | do(carry_unwind))"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_write_removes_stale_part_files_only(tmp_path):
    dead = tmp_path / f".out.csv.{_dead_pid()}.abcd1234.part"  # its writer is gone
    live = tmp_path / f".out.csv.{os.getpid()}.efgh5678.part"  # a write under way in this process
    old = tmp_path / ".out.csv.ijkl9012.part"  # an older-style name, an hour and more old
    fresh = tmp_path / ".out.csv.mnop3456.part"  # older-style, but new: perhaps still being written
    other = tmp_path / "notes.part"  # not a temporary file of ours
    for path in (dead, live, old, fresh, other):
        path.write_text("half")
    past = time.time() - STALE_PART_SECONDS - 60
    os.utime(old, (past, past))
    write_text(tmp_path / "out.csv", "a,b\n")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"out.csv", live.name, fresh.name, other.name}
    assert (tmp_path / "out.csv").read_text() == "a,b\n"


def test_a_live_writer_old_file_is_removed_by_age(tmp_path):
    stuck = tmp_path / f".out.csv.{os.getpid()}.qrst7890.part"
    stuck.write_text("half")
    past = time.time() - STALE_PART_SECONDS - 60
    os.utime(stuck, (past, past))
    assert remove_stale_parts(tmp_path) == [stuck]


def test_the_temporary_name_carries_the_pid(tmp_path, monkeypatch):
    from tenor.core import output

    seen: list[str] = []
    real = output.os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", spy)
    write_text(tmp_path / ("x" * 250), "a")  # a long name still fits the file-name limit
    assert seen and seen[0].startswith("." + "x" * 120 + f".{os.getpid()}.") and seen[0].endswith(".part")
