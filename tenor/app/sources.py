"""From a file to a diagram: what ``tenor draw`` reads, and the seam where models plug in.

Three kinds of diagram come from two kinds of file:

* ``dag``: a causal spec (``.yaml``/``.yml``; a dagitty file where the
  dagitty reader is installed), drawn by :func:`diagrams.dag.draw_dag`;
* ``cld`` and ``stockflow``: a stock-and-flow model, whose structure
  :func:`load_structures` provides as a :class:`ModelStructures`, drawn by
  :func:`diagrams.cld.draw_cld` and :func:`diagrams.stockflow.draw_stockflow`.

:func:`load_structures` is the one place where model files enter this
package. It reads a stock-and-flow model (a tenor spec, XMILE or Vensim
file; see :mod:`diagrams.from_model`), or a *structure file*: JSON holding
``{"causal_loops": ..., "stock_flow": ...}``, each the ``to_dict()`` form of
:class:`~diagrams.structures.CausalLoopStructure` and
:class:`~diagrams.structures.StockFlowStructure` (either may be absent). For
any other file it raises a :class:`~tenor.core.errors.TenorError` that says a
stock-and-flow model is needed.

Examples
--------
>>> import json, tempfile, pathlib
>>> from diagrams.structures import Flow, Stock, StockFlowStructure
>>> sf = StockFlowStructure(stocks=[Stock("tub")], flows=[Flow("fill", None, "tub")])
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tub.json"
>>> _ = path.write_text(json.dumps({"stock_flow": sf.to_dict()}))
>>> load_structures(path).stock_flow == sf
True
>>> load_structures("diagram.svg")
Traceback (most recent call last):
...
tenor.core.errors.TenorError: diagram.svg: a causal-loop or stock-and-flow diagram needs a stock-and-flow model
  hint: ...
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from causal import load
from causal.spec import CausalSpec
from diagrams.cld import draw_cld
from diagrams.dag import draw_dag
from diagrams.from_model import causal_loop_structure, stock_flow_structure
from diagrams.scene import Diagram
from diagrams.stockflow import draw_stockflow
from diagrams.structures import CausalLoopStructure, StockFlowStructure
from stocks_flows.load import MODEL_SUFFIXES, load_model
from tenor.core.errors import SpecError, TenorError

__all__ = ["KINDS", "ModelStructures", "diagram_from_file", "load_structures", "read_causal_spec"]

KINDS = ("dag", "cld", "stockflow")


@dataclass(frozen=True)
class ModelStructures:
    """The drawable structure of a model: its causal loops and its stocks and flows (either may be None)."""

    causal_loops: CausalLoopStructure | None = None
    stock_flow: StockFlowStructure | None = None


def load_structures(path: str | os.PathLike[str]) -> ModelStructures:
    """The causal-loop and stock-and-flow structures of a model file.

    Raises
    ------
    SpecError
        When a structure file is missing or is not valid JSON.
    TenorError
        When the file is not a model this function can read.
    """
    p = Path(path)
    if p.suffix.lower() in MODEL_SUFFIXES:
        model = load_model(p)
        return ModelStructures(causal_loop_structure(model), stock_flow_structure(model))
    if p.suffix.lower() != ".json":
        raise TenorError(
            f"{p}: a causal-loop or stock-and-flow diagram needs a stock-and-flow model",
            hint="pass a stock-and-flow model (or its structure as JSON); draw a causal spec with --kind dag",
        )
    try:
        data: Any = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("file not found", file=str(p), hint="check the path") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"not a structure file: {exc}", file=str(p)) from None
    if not isinstance(data, dict) or not ({"causal_loops", "stock_flow"} & set(data)):
        raise SpecError(
            "a structure file holds 'causal_loops' and/or 'stock_flow'",
            file=str(p),
            hint="write it with CausalLoopStructure.to_dict() / StockFlowStructure.to_dict()",
        )
    loops = data.get("causal_loops")
    flows = data.get("stock_flow")
    return ModelStructures(
        CausalLoopStructure.from_dict(loops) if loops else None,
        StockFlowStructure.from_dict(flows) if flows else None,
    )


def read_causal_spec(path: str | os.PathLike[str]) -> CausalSpec:
    """A causal spec from a file (YAML, or dagitty where the dagitty reader is installed)."""
    try:
        return load.read_graph_source(str(path))
    except ModuleNotFoundError as exc:  # the dagitty reader is optional
        if "dagitty" not in str(exc.name):
            raise
        return load.read_spec(path)


def diagram_from_file(
    path: str | os.PathLike[str],
    kind: str = "dag",
    *,
    element: str | None = None,
    query: str | None = None,
    adjust: list[str] | None = None,
    channels: list[str] | None = None,
    title: str | None = None,
) -> Diagram:
    """Read a spec or model and draw it as ``kind`` (``dag``, ``cld`` or ``stockflow``).

    ``query``, ``adjust`` and ``channels`` apply to DAGs; ``element`` (the
    element of a dimension, such as a tenor, at which cut links are drawn
    broken) to causal-loop diagrams.

    Raises
    ------
    TenorError
        For an unknown kind, an unreadable file, or a model without the
        structure the kind needs.
    """
    if kind not in KINDS:
        raise TenorError(f"unknown diagram kind {kind!r}", hint="kinds: " + ", ".join(KINDS))
    if kind == "dag":
        if Path(path).suffix.lower() == ".json":
            raise TenorError(
                f"{Path(path).name} is a model structure, not a causal spec",
                hint="draw it with --kind cld or --kind stockflow",
            )
        spec = read_causal_spec(path)
        return draw_dag(spec, query=query, adjust=adjust, channels=channels, title=title)
    structures = load_structures(path)
    if kind == "cld":
        if structures.causal_loops is None:
            raise TenorError(f"{path} has no causal-loop structure", hint="draw it with --kind stockflow")
        return draw_cld(structures.causal_loops, element=element, title=title)
    if structures.stock_flow is None:
        raise TenorError(f"{path} has no stock-and-flow structure", hint="draw it with --kind cld")
    return draw_stockflow(structures.stock_flow, title=title)
