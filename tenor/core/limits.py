"""The limits tenor puts on its inputs, in one place.

Hostile or mistaken inputs (a 5 GB file, 30,000 nested brackets, a dagitty
group that multiplies into a quarter of a million edges, a simulation of 10^8
rows) are refused *before* the work starts, with an error that names the limit
and how to stay within it. Every limit is a module constant; the table below
(and ``docs/limits.md``) lists them.

=========================  ==============  ==========================================================
name                       value           what it bounds
=========================  ==============  ==========================================================
``MAX_BYTES``              5,000,000       size of a spec file or of standard input (bytes)
``MAX_DEPTH``              50              nesting of mappings and lists in a YAML file
``MAX_TOKENS``             1,000,000       values in a YAML file; names, arrows and brackets in a dagitty file
``MAX_NODES``              10,000          nodes of a causal graph (any format)
``MAX_EDGES``              50,000          edges of a causal graph, after dagitty groups expand
``MAX_DRAW_NODES``         1,000           nodes of a causal graph that ``tenor draw`` lays out
``MAX_DRAW_EDGES``         2,000           edges of a causal graph that ``tenor draw`` lays out
``MAX_SIMULATE_BYTES``     1,000,000,000   estimated memory of ``tenor simulate-data`` (bytes)
``STALE_PART_SECONDS``     3,600           age after which a left-over ``.part`` file is removed
=========================  ==============  ==========================================================

Examples
--------
>>> check_graph_size(3, 2, file="g.yaml")
>>> check_graph_size(MAX_NODES + 1, 0, file="g.yaml")
Traceback (most recent call last):
...
tenor.core.errors.SpecError: g.yaml: the graph has 10,001 nodes; the limit is MAX_NODES = 10,000
  hint: ...
>>> simulation_bytes(rows=1_000, nodes=3, observed=2)
80000
"""

from __future__ import annotations

from tenor.core.errors import SpecError, TenorError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_DRAW_EDGES",
    "MAX_DRAW_NODES",
    "MAX_EDGES",
    "MAX_NODES",
    "MAX_SIMULATE_BYTES",
    "MAX_TOKENS",
    "STALE_PART_SECONDS",
    "check_draw_size",
    "check_graph_size",
    "check_simulation_size",
    "human_bytes",
    "simulation_bytes",
]

MAX_BYTES = 5_000_000
"""Largest spec file (or standard input) read, in bytes."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted in YAML (checked while parsing, before composing)."""

MAX_TOKENS = 1_000_000
"""Most values (scalars, mappings, lists) in a YAML file, and most tokens in a dagitty file: bounds the time to read."""

MAX_NODES = 10_000
"""Most nodes a causal graph may have, whatever its format."""

MAX_EDGES = 50_000
"""Most edges a causal graph may have (dagitty groups ``{a b} -> {c d}`` count each edge they stand for)."""

MAX_DRAW_NODES = 1_000
"""Most nodes of a diagram that ``tenor draw`` lays out as SVG, PNG or PDF (layout time grows fast)."""

MAX_DRAW_EDGES = 2_000
"""Most edges of a diagram that ``tenor draw`` lays out as SVG, PNG or PDF."""

MAX_SIMULATE_BYTES = 1_000_000_000
"""Largest estimated memory of ``tenor simulate-data`` (the draws, the table and its CSV text)."""

STALE_PART_SECONDS = 3_600
"""A temporary ``.part`` file older than this (or whose writing process is gone) is removed by the next write."""

_BYTES_PER_DRAW = 8  # one float64 per node and row while simulating
_WORK_ARRAYS = 3  # the draws and sums held while one node is computed
_BYTES_PER_CELL = 16  # the table's float64, and as much again while it is written (in chunks) as CSV


def human_bytes(n: float) -> str:
    """A byte count for people.

    >>> human_bytes(1_500_000_000), human_bytes(2_000)
    ('1.5 GB', '2 kB')
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def check_graph_size(nodes: int, edges: int, *, file: str | None = None, line: int | None = None) -> None:
    """Refuse a causal graph with more than :data:`MAX_NODES` nodes or :data:`MAX_EDGES` edges."""
    if nodes > MAX_NODES:
        raise SpecError(
            f"the graph has {nodes:,} nodes; the limit is MAX_NODES = {MAX_NODES:,}",
            file=file,
            line=line,
            hint="split the graph into smaller ones, or check that this is the file you meant",
        )
    if edges > MAX_EDGES:
        raise SpecError(
            f"the graph has {edges:,} edges; the limit is MAX_EDGES = {MAX_EDGES:,}",
            file=file,
            line=line,
            hint="split the graph, or write fewer group edges such as {a b c} -> {d e f}",
        )


def check_draw_size(nodes: int, edges: int, *, file: str | None = None) -> None:
    """Refuse to lay out a graph larger than :data:`MAX_DRAW_NODES` / :data:`MAX_DRAW_EDGES`."""
    for count, limit, name, what in (
        (nodes, MAX_DRAW_NODES, "MAX_DRAW_NODES", "nodes"),
        (edges, MAX_DRAW_EDGES, "MAX_DRAW_EDGES", "edges"),
    ):
        if count > limit:
            raise SpecError(
                f"the graph has {count:,} {what}, too many to draw; the limit is {name} = {limit:,}",
                file=file,
                hint="draw a part of the graph, or use 'tenor convert --to dot' and a layout tool for large graphs",
            )


def simulation_bytes(*, rows: int, nodes: int, observed: int) -> int:
    """Estimated peak memory of simulating ``rows`` rows and writing the ``observed`` columns as CSV."""
    return rows * (_BYTES_PER_DRAW * (nodes + _WORK_ARRAYS) + _BYTES_PER_CELL * observed)


def check_simulation_size(*, rows: int, nodes: int, observed: int, option: str = "--n") -> None:
    """Refuse a simulation whose estimated memory is over :data:`MAX_SIMULATE_BYTES`."""
    need = simulation_bytes(rows=rows, nodes=nodes, observed=observed)
    if need <= MAX_SIMULATE_BYTES:
        return
    per_row = max(1, simulation_bytes(rows=1, nodes=nodes, observed=observed))
    raise TenorError(
        f"{rows:,} rows of {observed:,} columns would need about {human_bytes(need)} of memory; "
        f"the limit is MAX_SIMULATE_BYTES = {human_bytes(MAX_SIMULATE_BYTES)}",
        hint=f"lower {option} to at most {MAX_SIMULATE_BYTES // per_row:,}",
    )
