"""The README calls tenor one way, says how to put it on PATH, and writes its examples' outputs under out/."""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[list[str]]:
    """Every ``tenor ...`` line of the README's shell blocks and inline code, split into words."""
    text = README.read_text()
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines += [line.lstrip("$ ").split("#")[0] for line in block.splitlines()]
    lines += re.findall(r"`(tenor [^`]+)`", text)
    out = []
    for line in lines:
        line = line.split("|")[-1].strip() if "| tenor" in line else line.strip()
        if line.startswith(("tenor ", ".venv/bin/tenor ")):
            out.append(shlex.split(line.replace("(", " ").replace(")", " ")))
    return out


def test_one_way_to_call_tenor_and_how_to_put_it_on_path():
    text = README.read_text()
    assert ". .venv/bin/activate" in text  # how to put tenor on PATH
    commands = _commands()
    assert len(commands) > 20
    assert not [c for c in commands if c[0] != "tenor"], "call tenor as `tenor`, after activating the environment"


def test_examples_write_under_out():
    outputs = []
    for words in _commands():
        for flag, value in itertools.pairwise(words):
            if flag == "--out" and value not in ("FILE", "DIR", "SPEC.yaml", "FILE.parquet", "FILE.png", "DATA.csv"):
                outputs.append(value)
    assert outputs, "the README shows commands that write files"
    assert all(o.startswith("out/") for o in outputs), outputs
    assert "out/" in (README.parent / ".gitignore").read_text().split()
