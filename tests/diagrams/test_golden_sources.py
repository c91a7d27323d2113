"""DOT and Mermaid sources compared with golden files (regenerate with TENOR_UPDATE_GOLDEN=1).

The sources do not depend on Graphviz (causal-loop diagrams are drawn with
``pin=False`` here, as pinned positions come from a Graphviz layout), so any
change in them is a change in what tenor writes, to be reviewed as a diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from diagrams.cld import cld_dot, cld_mermaid
from diagrams.dag import dag_dot, dag_mermaid
from diagrams.stockflow import stockflow_dot, stockflow_mermaid

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TENOR_UPDATE_GOLDEN") == "1"


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; run with TENOR_UPDATE_GOLDEN=1 to write it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        lines = difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now")
        diff = "".join(lines)
        pytest.fail(f"{name} differs from its golden file:\n{diff}")


def test_dag_sources(duration_spec):
    _check("dag.dot", dag_dot(duration_spec))
    _check("dag.mmd", dag_mermaid(duration_spec))
    _check("dag_query.dot", dag_dot(duration_spec, query="carry_on_long_end", adjust=["usdjpy"]))


def test_cld_sources(loops):
    _check("cld_bills.dot", cld_dot(loops, element="bills", pin=False))
    _check("cld_bills.mmd", cld_mermaid(loops, element="bills", pin=False))


def test_stockflow_sources(stockflow):
    _check("stockflow.dot", stockflow_dot(stockflow))
    _check("stockflow.mmd", stockflow_mermaid(stockflow))
