"""Reading causal specs: YAML text or file → validated :class:`~causal.spec.CausalSpec`.

:func:`read_spec` reports *all* problems of a file at once, each at its
``file:line:column`` with the key path and a hint, as one
:class:`tenor.core.errors.SpecError`. :func:`read_graph_source` also accepts dagitty
text and standard input, for commands that take any graph.

Examples
--------
>>> spec = parse_spec("nodes: {x: {}, y: {}}\\nedges:\\n  x -> y: {sign: +}\\n")
>>> [(e.cause, e.effect, e.sign) for e in spec.directed_edges()]
[('x', 'y', '+')]
>>> parse_spec("nodes: {x: {}}\\nedges:\\n  x -> z: {}\\n", file="g.yaml")
Traceback (most recent call last):
...
tenor.core.errors.SpecError: g.yaml:3:3: edges.x -> z: unknown node 'z' in edge 'x -> z'
  hint: declare it under nodes:, or fix the spelling
"""

from __future__ import annotations

from pathlib import Path

from causal.build import spec_from_data
from causal.formats.dagitty import parse_dagitty
from causal.formats.node_link import parse_node_link
from causal.spec import CausalSpec
from tenor.core.errors import SpecError
from tenor.core.specfile import parse_yaml, read_stdin, read_text

__all__ = ["parse_spec", "read_graph_source", "read_spec", "spec_from_data"]


def parse_spec(text: str, file: str = "<input>") -> CausalSpec:
    """Parse and validate causal-spec YAML text."""
    return spec_from_data(parse_yaml(text, file=file))


def read_spec(path: str | Path) -> CausalSpec:
    """Read and validate a causal spec file."""
    return parse_spec(read_text(path), file=str(path))


def read_graph_source(source: str, format: str | None = None) -> CausalSpec:
    """Read a graph from a tenor spec (.yaml/.yml), a dagitty file, node-link JSON, or ``-`` (standard input).

    ``format`` is ``"yaml"``, ``"dagitty"`` or ``"json"``; by default it follows
    the file extension, and for standard input the text itself (dagitty text
    starts with ``dag``, node-link JSON with ``{``). Standard input is held to
    the same size limit as a file.
    """
    if format not in (None, "yaml", "dagitty", "json"):
        raise SpecError(
            f"unknown graph format {format!r}", file=source, hint="use --format yaml, --format dagitty or --format json"
        )
    if source == "-":
        name = "<stdin>"
        text = read_stdin(name)
        if format is None:
            head = text.lstrip()
            format = "dagitty" if head.startswith(("dag", "pdag", "graph")) else "json" if head[:1] == "{" else "yaml"
    else:
        name = source
        suffix = Path(source).suffix.lower()
        if format is None:
            if suffix in (".yaml", ".yml"):
                format = "yaml"
            elif suffix in (".dagitty", ".dag", ".txt"):
                format = "dagitty"
            elif suffix == ".json":
                format = "json"
            else:
                raise SpecError(
                    f"cannot tell the format of {Path(source).name!r}",
                    file=source,
                    hint="name the file .yaml/.yml (tenor spec), .dagitty or .json (node-link), or pass --format",
                )
        text = read_text(source)
    if format == "dagitty":
        return parse_dagitty(text, file=name)
    if format == "json":
        return parse_node_link(text, file=name)
    return parse_spec(text, file=name)
