"""What a file is, told from its content, and reading and checking a file of any kind.

tenor reads two families of file. A *causal graph* is a causal spec (YAML
with ``nodes:`` and ``edges:``), dagitty text (``dag { X -> Y }``) or
networkx node-link JSON. A *stock-and-flow model* is a tenor model spec
(YAML with ``time:``, ``stocks:``, ``flows:``), an XMILE file or a Vensim
``.mdl`` file. :func:`detect_kind` tells them apart by what the file holds,
not by its name, as ``file(1)`` does; :func:`read_source` reads a file (or
standard input) and recognises it; :func:`load_causal` and :func:`load_model`
turn it into a :class:`~causal.spec.CausalSpec` or a
:class:`~stocks_flows.model.Model`, and a file of the other family gets one
message that says which commands fit it. :func:`check_source` is ``tenor
check`` for every kind.

Examples
--------
>>> detect_kind("dag { X -> Y }")
<FileKind.DAGITTY: 'dagitty'>
>>> detect_kind("time: {stop: 10}\\nstocks: {s: {initial: 1}}\\n")
<FileKind.STOCK_FLOW_SPEC: 'stock_flow_spec'>
>>> detect_kind("nodes: {x: {}, y: {}}\\nedges: {x -> y: {}}\\n").is_causal
True
>>> detect_kind("# nothing yet\\n", file="g.yaml")
Traceback (most recent call last):
...
tenor.core.errors.SpecError: g.yaml:1: the file is empty
  hint: a causal spec starts with 'nodes:', a stock-and-flow model with 'time:' (see tenor schema causal|stocks_flows)
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tenor.core.errors import SpecError
from tenor.core.specfile import Document, did_you_mean, parse_yaml, read_stdin, read_text

if TYPE_CHECKING:  # pragma: no cover
    from causal.spec import CausalSpec
    from stocks_flows.model import Model

__all__ = [
    "CAUSAL_COMMANDS",
    "MODEL_COMMANDS",
    "FileKind",
    "Source",
    "check_model",
    "check_source",
    "commands_for",
    "detect_kind",
    "diagram_kinds",
    "load_causal",
    "load_model",
    "read_causal",
    "read_model",
    "read_source",
    "wrong_kind_error",
]


class FileKind(StrEnum):
    """The kinds of file tenor reads."""

    CAUSAL_SPEC = "causal_spec"
    DAGITTY = "dagitty"
    NODE_LINK = "node_link"
    STOCK_FLOW_SPEC = "stock_flow_spec"
    XMILE = "xmile"
    VENSIM = "vensim"
    DIAGRAM_STRUCTURE = "diagram_structure"

    @property
    def is_causal(self) -> bool:
        """A causal graph (causal spec, dagitty, node-link JSON)."""
        return self in (FileKind.CAUSAL_SPEC, FileKind.DAGITTY, FileKind.NODE_LINK)

    @property
    def is_model(self) -> bool:
        """A stock-and-flow model (tenor spec, XMILE, Vensim)."""
        return self in (FileKind.STOCK_FLOW_SPEC, FileKind.XMILE, FileKind.VENSIM)

    @property
    def description(self) -> str:
        """What the kind is, in words: 'a causal spec (YAML)'."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    FileKind.CAUSAL_SPEC: "a causal spec (YAML)",
    FileKind.DAGITTY: "a causal graph in dagitty syntax",
    FileKind.NODE_LINK: "a causal graph as node-link JSON",
    FileKind.STOCK_FLOW_SPEC: "a stock-and-flow model (YAML spec)",
    FileKind.XMILE: "a stock-and-flow model in XMILE",
    FileKind.VENSIM: "a stock-and-flow model in Vensim format",
    FileKind.DIAGRAM_STRUCTURE: "a diagram structure (JSON)",
}

CAUSAL_COMMANDS = ("check", "paths", "dsep", "identify", "test-data", "simulate-data", "convert", "draw --kind dag")
"""The commands that read a causal graph."""
MODEL_COMMANDS = (
    "check",
    "simulate",
    "sweep",
    "calibrate",
    "sensitivity",
    "export",
    "loops",
    "unroll",
    "draw --kind stockflow|cld",
)
"""The commands that read a stock-and-flow model."""

_MODEL_KEYS = {"time", "dimensions", "constants", "stocks", "flows", "auxiliaries", "lookups", "scenarios"}
_CAUSAL_KEYS = {"nodes", "edges", "channels", "claims", "queries", "lag_unit"}
_SHARED_KEYS = {"name", "title", "description"}
_DAGITTY = re.compile(r"(?:dag|pdag|mag|pag|graph)\s*(?:[A-Za-z_][\w.]*\s*)?\{")
_VENSIM = re.compile(r"^[^\n~|=]+=[^~|]*~[^~|]*~[^|]*\|", re.MULTILINE)
_EMPTY_HINT = (
    "a causal spec starts with 'nodes:', a stock-and-flow model with 'time:' (see tenor schema causal|stocks_flows)"
)
_UNKNOWN_HINT = (
    "tenor reads causal specs (nodes:, edges:), dagitty text (dag { ... }), node-link JSON, "
    "stock-and-flow specs (time:, stocks:, flows:), XMILE and Vensim .mdl files"
)


@dataclass(frozen=True)
class Source:
    """A file read and recognised: its name, text, kind, and the YAML document of a YAML kind."""

    file: str
    text: str
    kind: FileKind
    document: Document | None = None
    path: Path | None = None
    """The file on disk (None for standard input)."""


def _empty(file: str) -> SpecError:
    return SpecError("the file is empty", file=file, line=1, hint=_EMPTY_HINT)


def _is_blank(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _yaml_kind(data: dict[str, Any], file: str) -> FileKind:
    keys = set(data)
    model = len(keys & _MODEL_KEYS) + ("time" in keys)
    causal = len(keys & _CAUSAL_KEYS) + ("nodes" in keys)
    if model > causal:
        return FileKind.STOCK_FLOW_SPEC
    if causal:
        return FileKind.CAUSAL_SPEC
    if keys <= _SHARED_KEYS:
        raise SpecError(
            "the file has only " + ", ".join(sorted(keys)) + ": no nodes or stocks yet",
            file=file,
            line=1,
            hint=_EMPTY_HINT,
        )
    # no key is known: go by the nearest spelling, so a misspelt key gets its did-you-mean
    near_model = sum(did_you_mean(str(k), _MODEL_KEYS) is not None for k in keys)
    near_causal = sum(did_you_mean(str(k), _CAUSAL_KEYS) is not None for k in keys)
    return FileKind.STOCK_FLOW_SPEC if near_model > near_causal else FileKind.CAUSAL_SPEC


def _by_first_character(head: str, file: str) -> FileKind | None:
    """The kinds a file announces in its first characters: XMILE, Vensim, dagitty."""
    if head.startswith("<"):
        if re.search(r"<xmile\b", head[:5000]):
            return FileKind.XMILE
        raise SpecError(
            "an XML file that is not XMILE", file=file, line=1, hint="tenor reads XMILE models (<xmile ...>)"
        )
    if head.startswith("{UTF-8}"):
        return FileKind.VENSIM
    if _DAGITTY.match(head):
        return FileKind.DAGITTY
    return None


def _json_kind(text: str) -> FileKind | None:
    """Node-link JSON or a diagram structure file; None for anything else (flow-style YAML, perhaps)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    except RecursionError:  # nested deeper than any graph: the node-link reader says where
        return FileKind.NODE_LINK
    if isinstance(data, dict):
        if "nodes" in data and not isinstance(data["nodes"], dict):  # a causal spec maps its nodes
            return FileKind.NODE_LINK
        if {"causal_loops", "stock_flow"} & set(data):
            return FileKind.DIAGRAM_STRUCTURE
    return None


def _recognise(text: str, file: str) -> tuple[FileKind, Document | None]:
    if _is_blank(text):
        raise _empty(file)
    head = text.lstrip()
    kind = _by_first_character(head, file)
    if kind is None and head[0] in "{[":
        kind = _json_kind(text)
    if kind is not None:
        return kind, None
    try:
        doc = parse_yaml(text, file=file)
    except SpecError:
        if _VENSIM.search(text[:20_000]):
            return FileKind.VENSIM, None
        raise
    if doc.data is None:
        raise _empty(file)
    if isinstance(doc.data, dict):
        return _yaml_kind(doc.data, file), doc
    if _VENSIM.search(text[:20_000]):
        return FileKind.VENSIM, None
    raise SpecError("cannot tell what this file is", file=file, line=1, hint=_UNKNOWN_HINT)


_MODEL_SUFFIXES = (".xmile", ".stmx", ".xml", ".mdl")


def detect_kind(text: str, file: str = "<input>") -> FileKind:
    """The kind of a file, from its text.

    Raises
    ------
    SpecError
        When the text is empty (comments only), is invalid YAML, or is none of the kinds tenor reads.
    """
    return _recognise(text, file)[0]


def read_source(source: str | Path, format: str | None = None) -> Source:
    """Read a file (``-``: standard input) and recognise its kind.

    ``format`` (``"yaml"``, ``"dagitty"`` or ``"json"``) overrides recognition
    for a causal graph whose text is ambiguous.
    """
    if format not in (None, "yaml", "dagitty", "json"):
        raise SpecError(
            f"unknown graph format {format!r}",
            file=str(source),
            hint="use --format yaml, --format dagitty or --format json",
        )
    if str(source) == "-":
        text, file, path = read_stdin("<stdin>"), "<stdin>", None
    else:
        if Path(source).suffix.lower() in _MODEL_SUFFIXES and Path(source).is_file():
            from stocks_flows.xmile import check_model_size

            check_model_size(Path(source))  # the model files' own limit, before the text is read
        text, file, path = read_text(source), str(source), Path(source)
    if format in ("dagitty", "json"):
        if _is_blank(text):
            raise _empty(file)
        return Source(file, text, FileKind.DAGITTY if format == "dagitty" else FileKind.NODE_LINK, None, path)
    kind, doc = _recognise(text, file)
    if format == "yaml" and doc is None:
        kind, doc = FileKind.CAUSAL_SPEC, parse_yaml(text, file=file)
    return Source(file, text, kind, doc, path)


def commands_for(kind: FileKind) -> tuple[str, ...]:
    """The ``tenor`` commands that read a file of this kind."""
    if kind.is_causal:
        return CAUSAL_COMMANDS
    if kind.is_model:
        return MODEL_COMMANDS
    return ("draw --kind cld|stockflow",)


def wrong_kind_error(source: Source, command: str | None = None) -> SpecError:
    """One located error: this file is of the other family, and these commands fit it."""
    cmd = f"tenor {command}" if command else "this command"
    if source.kind.is_model:
        needs = "a causal graph (a causal spec, dagitty or node-link JSON)"
        extra = "; tenor unroll MODEL --steps K --out SPEC.yaml writes a causal spec of the model"
    else:
        needs = "a stock-and-flow model (a YAML spec, XMILE or Vensim)"
        extra = ""
    fits = ", ".join(f"tenor {c}" for c in commands_for(source.kind))
    return SpecError(
        f"this is {source.kind.description}; {cmd} needs {needs}",
        file=source.file,
        line=1,
        hint=f"for this file use {fits}{extra}",
    )


def load_causal(source: Source, command: str | None = None) -> CausalSpec:
    """The validated causal spec of a recognised file (one error naming the fitting commands if it is a model)."""
    if source.kind == FileKind.CAUSAL_SPEC:
        from causal.load import spec_from_data

        assert source.document is not None
        return spec_from_data(source.document)
    if source.kind == FileKind.DAGITTY:
        from causal.formats.dagitty import parse_dagitty

        return parse_dagitty(source.text, file=source.file)
    if source.kind == FileKind.NODE_LINK:
        from causal.formats.node_link import parse_node_link

        return parse_node_link(source.text, file=source.file)
    raise wrong_kind_error(source, command)


def load_model(source: Source, command: str | None = None, data_files: Sequence[str | Path] = ()) -> Model:
    """The validated model of a recognised file (one error naming the fitting commands if it is a causal graph).

    ``data_files`` give the values of a Vensim model's DATA variables that have no equation.
    """
    if data_files and source.kind != FileKind.VENSIM:
        raise SpecError(
            "data files are given to a Vensim model's DATA variables; this is not a Vensim model",
            file=source.file,
            hint="leave out --data, or give the Vensim .mdl file",
        )
    if source.kind == FileKind.STOCK_FLOW_SPEC:
        from stocks_flows.load import parse_model

        model = parse_model(source.text, file=source.file)
        return replace(model, path=str(source.path) if source.path else None)
    if source.kind in (FileKind.XMILE, FileKind.VENSIM):
        if source.path is None:
            raise SpecError(
                f"{source.kind.description} is read from a file, not from standard input",
                file=source.file,
                hint="save it to a file and pass its path",
            )
        from stocks_flows.xmile import read_vensim, read_xmile

        return read_xmile(source.path) if source.kind == FileKind.XMILE else read_vensim(source.path, list(data_files))
    raise wrong_kind_error(source, command)


def read_causal(source: str | Path, format: str | None = None, *, command: str | None = None) -> CausalSpec:
    """Any causal-graph file (``-``: standard input) -> a validated :class:`~causal.spec.CausalSpec`."""
    return load_causal(read_source(source, format), command)


def read_model(source: str | Path, *, command: str | None = None, data_files: Sequence[str | Path] = ()) -> Model:
    """Any model file -> a validated :class:`~stocks_flows.model.Model` (``data_files``: see :func:`load_model`)."""
    return load_model(read_source(source), command, data_files)


def diagram_kinds(kind: FileKind) -> tuple[str, ...]:
    """The ``tenor draw --kind`` values that fit a file kind, the default first."""
    if kind.is_causal:
        return ("dag",)
    return ("stockflow", "cld")


def _bases(model: Model) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, var in model.variables.items():
        out.setdefault(var.base or name, var)
    return out


def _scenario_summary(model: Model) -> list[dict[str, Any]]:
    from stocks_flows.loops import cuts_from_spec

    out = []
    for name, sc in model.scenarios.items():
        cuts = cuts_from_spec(model.spec, name) if model.spec is not None else []
        out.append(
            {
                "name": name,
                "description": sc.description,
                "constants": {k: float(v) for k, v in sc.constants.items()},
                "initial": {k: float(v) for k, v in sc.initial.items()},
                "lookups": sorted(sc.lookups),
                "cuts": [f"{c.cause} -> {c.effect}" for c in cuts],
            }
        )
    return out


def check_model(model: Model, file: str, kind: FileKind = FileKind.STOCK_FLOW_SPEC) -> dict[str, Any]:
    """What ``tenor check`` reports for a model that loaded (names, units and equations are checked on load).

    The summary counts the variables by kind, the declared units, the
    equations and the feedback loops found (polarity from the base run, as
    ``tenor loops`` finds them), and lists the scenarios with what each
    changes. ``ok`` is false, and ``problems`` says why, when the base run
    fails (a non-finite value).
    """
    from stocks_flows.loops import find_loops

    bases = _bases(model)
    by_kind = Counter(var.kind for var in bases.values())
    equations = sum(1 for var in bases.values() if var.kind != "constant")
    import numpy as np

    from stocks_flows.engine import simulate

    problems: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = simulate(model, on_nonfinite="keep")  # the base run, which must stay finite
        bad = ~np.isfinite(run.values[0])
        if bad.any():
            step, column = (int(i[0]) for i in np.nonzero(bad))
            problems.append(
                f"the base run is not finite: {run.variables[column]} is {run.values[0, step, column]} "
                f"at time {run.time[step]:g} (a division by zero, or a value that grows without bound?)"
            )
        report = find_loops(model, run)  # polarity and gain from the base run
    polarity = Counter(lp.polarity for lp in report.loops)
    return {
        "file": file,
        "kind": kind.value,
        "valid": True,
        "ok": not problems,
        "problems": problems,
        "name": model.name,
        "time": {
            "start": model.time.start,
            "stop": model.time.stop,
            "dt": model.time.dt,
            "unit": model.time.unit,
            "method": model.time.method,
        },
        "variables": {k: by_kind.get(k, 0) for k in ("stock", "flow", "auxiliary", "constant")},
        "lookups": len(model.lookups),
        "dimensions": {name: list(elements) for name, elements in model.dimensions.items()},
        "references": "every name an equation uses is defined",
        "units": {
            "declared": sum(1 for var in bases.values() if var.units),
            "variables": len(bases),
            "checked": model.origin == "spec",
        },
        "equations": equations,
        "loops": {
            "count": len(report.loops),
            "reinforcing": polarity.get("R", 0),
            "balancing": polarity.get("B", 0),
            "unknown": len(report.loops) - polarity.get("R", 0) - polarity.get("B", 0),
            "capped": report.capped,
            "items": [{"id": lp.id, "polarity": lp.polarity, "variables": list(lp.variables)} for lp in report.loops],
        },
        "scenarios": _scenario_summary(model),
    }


def check_source(source: Source) -> dict[str, Any]:
    """``tenor check`` for a recognised file of any kind: a JSON-ready summary with ``kind`` and ``ok``.

    Raises
    ------
    SpecError
        When the file is invalid (every problem located), or is a diagram structure.
    """
    if source.kind.is_causal:
        from causal.claims import check_summary

        spec = load_causal(source, "check")
        return {"kind": source.kind.value, **check_summary(spec, file=source.file)}
    if source.kind.is_model:
        return check_model(load_model(source, "check"), source.file, source.kind)
    raise SpecError(
        f"this is {source.kind.description}; tenor check reads causal graphs and stock-and-flow models",
        file=source.file,
        line=1,
        hint="draw it with tenor draw --kind cld or --kind stockflow",
    )
