"""``tenor serve``: a live page beside the editor.

A :class:`Workspace` holds one served path (a causal spec, a stock-and-flow
model, or an example folder holding both) and its latest reading, a
:class:`Snapshot`. Each re-read bumps the snapshot's ``revision``; a file
that does not validate gives a snapshot whose ``errors`` say where (file,
line, key) and how to fix it. :func:`create_app` wraps a workspace in a
Starlette app with a JSON API and the page (plain HTML, CSS and JavaScript
shipped in ``tenor/app/static``; nothing is fetched from the network):

========================  ===============================================================
``GET /``                 the page
``GET /api/state``        ``kind``, ``errors``, ``revision``, and what the page shows
``GET /api/revision``     ``{"revision": n}`` (the page polls it)
``POST /api/simulate``    ``{"constants", "scenario", "variables"}`` -> ``{"time", "series"}``
``POST /api/loops``       loop gains, dominance and the causal-loop diagram for a run
``POST /api/paths``       paths between treatment and outcome given a set, and identification
``POST /api/scenario``    write the page's settings as a named scenario into a NEW file
========================  ===============================================================

Everything shown comes from the functions ``tenor run`` and ``tenor draw``
use: :func:`causal.claims.check_summary`, :func:`causal.identify.identify`,
:func:`causal.paths.find_paths`, :func:`stocks_flows.engine.simulate`,
:func:`stocks_flows.loops.find_loops`, :func:`stocks_flows.dominance.loop_dominance`
and the diagrams of :mod:`diagrams`, rendered by :func:`diagrams.render.render`.

Simulations run in worker threads, one at a time; a request that names its
page (``client``) and a request number (``request``) is dropped, unrun, when
a newer request of the same page is waiting (HTTP 409 ``{"superseded": true}``).
The server writes only the scenario files asked for, only inside the served
folder (:func:`safe_path` refuses ``..``, absolute paths and symbolic links),
and never over an existing file without ``overwrite``, nor ever over an input.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "tub.yaml").write_text(
...     "time: {stop: 2}\\nconstants: {k: 0.5}\\nstocks: {s: {initial: 8}}\\n"
...     "flows: {drain: {from: s, equation: k * s}}\\n")
>>> ws = Workspace(folder / "tub.yaml")
>>> snap = ws.reload()
>>> snap.kind, snap.errors, snap.revision
('model', [], 1)
>>> out = simulate_settings(snap.model, {"k": 1.0}, None, ["s"])
>>> out["time"], out["series"]["s"]
([0.0, 1.0, 2.0], [8.0, 0.0, 0.0])
>>> safe_path(folder, "../elsewhere.yaml")
Traceback (most recent call last):
...
tenor.app.serve.PathRefused: refusing '../elsewhere.yaml': it leaves the served folder
  hint: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from tenor.core.errors import SpecError, TenorError

__all__ = [
    "PathRefused",
    "Snapshot",
    "Superseded",
    "Workspace",
    "constant_controls",
    "create_app",
    "detect_kind",
    "safe_path",
    "serve",
    "simulate_settings",
]

KINDS = ("causal", "model", "folder")
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:", re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STATIC = Path(__file__).with_name("static")


class PathRefused(TenorError):
    """A path the server will not touch: it leaves the served folder, or goes through a symbolic link."""


class Superseded(Exception):
    """A newer request of the same page is waiting; this one is dropped unrun."""


# --- what a path is ---------------------------------------------------------------------------


def detect_kind(path: str | Path) -> str:
    """``"folder"``, ``"causal"`` or ``"model"``: what a served path holds.

    A folder holds specs; ``.xmile``, ``.stmx``, ``.xml`` and ``.mdl`` files are
    models; a YAML file is a causal spec when it has ``nodes`` or ``edges``, a
    model when it has ``stocks``, ``flows`` or ``time``.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.yaml"
    >>> _ = p.write_text("nodes: {a: {}, b: {}}\\nedges: {a -> b: {}}\\n")
    >>> detect_kind(p), detect_kind(p.parent)
    ('causal', 'folder')
    """
    from stocks_flows.load import MODEL_SUFFIXES

    p = Path(path)
    if p.is_dir():
        return "folder"
    if not p.exists():
        raise SpecError("file not found", file=str(p), hint="check the path")
    suffix = p.suffix.lower()
    if suffix in (".dagitty", ".dag"):
        return "causal"
    if MODEL_SUFFIXES.get(suffix) in ("xmile", "vensim"):
        return "model"
    if suffix in (".yaml", ".yml"):
        try:
            keys = set(_TOP_KEY.findall(p.read_text(encoding="utf-8", errors="replace")))
        except OSError as exc:
            raise SpecError(f"cannot read the file: {exc.strerror}", file=str(p)) from None
        if keys & {"nodes", "edges"}:
            return "causal"
        if keys & {"stocks", "flows", "time"}:
            return "model"
    raise SpecError(
        "cannot tell what this file is",
        file=str(p),
        hint="serve a causal spec (with nodes and edges), a stock-and-flow model (stocks, flows, time; "
        "or .xmile/.stmx/.mdl) or a folder holding them",
    )


def safe_path(root: str | Path, relative: str) -> Path:
    """``relative`` inside ``root``, or :class:`PathRefused` when it would leave it.

    Refused: an absolute path, a ``..`` part, a path through a symbolic link,
    and anything that resolves outside ``root``.
    """
    text = str(relative)
    hint = "give a plain file name inside the served folder, e.g. my_scenario.yaml"
    if not text or "\x00" in text:
        raise PathRefused("refusing an empty path", hint=hint)
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() or PureWindowsPath(text).drive:
        raise PathRefused(f"refusing {text!r}: an absolute path", hint=hint)
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if ".." in parts or text.startswith("~"):
        raise PathRefused(f"refusing {text!r}: it leaves the served folder", hint=hint)
    base = Path(root).resolve()
    here = base
    for part in parts:
        if part in ("", "."):
            continue
        here = here / part
        if here.is_symlink():
            raise PathRefused(f"refusing {text!r}: it goes through a symbolic link", hint=hint)
    resolved = here.resolve()
    if resolved != base and base not in resolved.parents:
        raise PathRefused(f"refusing {text!r}: it leaves the served folder", hint=hint)
    return resolved


# --- one reading of the served files ----------------------------------------------------------


@dataclass
class Snapshot:
    """One reading of the served files: what the page shows, and the objects the API works on."""

    revision: int
    kind: str
    errors: list[dict[str, Any]]
    causal: dict[str, Any] | None = None
    model_view: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    spec: Any = None
    graph: Any = None
    model: Any = None
    read_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "errors": self.errors,
            "revision": self.revision,
            "files": {role: p.name for role, p in self.files.items()},
            "causal": self.causal,
            "model": self.model_view,
        }


def _diagnostics(err: BaseException, root: Path) -> list[dict[str, Any]]:
    """An error as located records: file (relative to the served folder), line, column, key, message, hint."""

    def rel(file: str | None) -> str | None:
        if not file:
            return file
        with contextlib.suppress(ValueError, OSError):
            return str(Path(file).resolve().relative_to(root))
        return file

    if isinstance(err, SpecError):
        return [
            {
                "file": rel(d.file),
                "line": d.line,
                "column": d.column,
                "key": d.key,
                "message": d.message,
                "hint": d.hint,
                "text": str(replace(d, file=rel(d.file))),
            }
            for d in err.diagnostics
        ]
    if isinstance(err, TenorError):
        return [
            {
                "file": None,
                "line": None,
                "column": None,
                "key": None,
                "message": err.message,
                "hint": err.hint,
                "text": str(err),
            }
        ]
    text = f"internal error ({type(err).__name__}): {err}"
    return [
        {
            "file": None,
            "line": None,
            "column": None,
            "key": None,
            "message": text,
            "hint": "please report it",
            "text": text,
        }
    ]


def _svg(diagram: Any) -> str:
    from diagrams.render import render

    return render(diagram, "svg").decode("utf-8")


def _causal_view(path: Path, root: Path, title: str | None, channels: list[str] | None) -> tuple[dict, Any, Any]:
    from causal.claims import check_summary
    from causal.graph import build_graph
    from causal.identify import identify
    from diagrams.dag import draw_dag
    from tenor.app.sources import read_causal_spec

    spec = read_causal_spec(path)
    graph = build_graph(spec)
    check = check_summary(spec, graph, file=str(path.relative_to(root)))
    for claim in check["claims"]:  # name files relative to the served folder, as the errors do
        where = claim.get("where")
        if isinstance(where, str) and where.startswith(f"{root}/"):
            claim["where"] = where[len(f"{root}/") :]
    queries = []
    for name, query in spec.queries.items():
        found = identify(graph, query.treatment, query.outcome).to_dict()
        queries.append(
            {
                "name": name,
                "treatment": list(query.treatment),
                "outcome": list(query.outcome),
                "description": query.description,
                "identification": found,
            }
        )
    nodes = [
        {"name": n, "label": node.label or n, "role": str(node.role.value if node.role else "")}
        for n, node in spec.nodes.items()
    ]
    view = {
        "title": title or spec.title or spec.name or path.stem,
        "dag_svg": _svg(draw_dag(spec, channels=channels, title=title)),
        "channels": channels,
        "nodes": nodes,
        "check": check,
        "queries": queries,
    }
    return view, spec, graph


def constant_controls(model: Any) -> list[dict[str, Any]]:
    """A control per constant: value, units, where the value comes from, and a slider range.

    No range is declared in a model, so a slider spans 0 to twice the value (a
    negative value mirrored; 0 to 1 for zero), widened to every value a
    named scenario gives; the number box beside it takes any value.
    """
    declared = model.spec.constants if getattr(model, "spec", None) is not None else {}
    by_scenario: dict[str, list[float]] = {}
    for sc in model.scenarios.values():
        for k, v in sc.constants.items():
            by_scenario.setdefault(k, []).append(float(v))
    rows = []
    for name, var in model.variables.items():
        if var.kind != "constant" or var.value is None:
            continue
        value = float(var.value)
        spec = declared.get(var.base or name)
        if spec is not None and spec.source:
            origin, kind = spec.source, "source"
        elif spec is not None and spec.assumption:
            origin, kind = spec.assumption, "assumption"
        else:
            origin, kind = var.description or "", ""
        lo, hi = (0.0, 2 * value) if value > 0 else (2 * value, 0.0) if value < 0 else (0.0, 1.0)
        for v in by_scenario.get(name, []):
            lo, hi = min(lo, v), max(hi, v)
        rows.append(
            {
                "name": name,
                "value": value,
                "units": var.units,
                "origin": origin,
                "origin_kind": kind,
                "min": lo,
                "max": hi,
                "step": (hi - lo) / 200 if hi > lo else 0.01,
            }
        )
    return rows


def _model_view(model: Any, plot: list[str] | None) -> dict[str, Any]:
    from diagrams.cld import draw_cld
    from diagrams.from_model import causal_loop_structure, stock_flow_structure
    from diagrams.stockflow import draw_stockflow
    from stocks_flows.loops import find_loops

    structural = find_loops(model, simulate=False)
    element = None
    if model.dimensions:
        element = next(iter(model.dimensions.values()))[0]
    scenarios = [{"name": "base", "description": "The model as written.", "constants": {}, "initial": {}}]
    for sc in model.scenarios.values():
        scenarios.append(
            {
                "name": sc.name,
                "description": sc.description or "",
                "constants": dict(sc.constants),
                "initial": dict(sc.initial),
            }
        )
    variables = [
        {"name": n, "kind": v.kind, "units": v.units, "base": v.base or n}
        for n, v in model.variables.items()
        if v.kind != "constant"
    ]
    names = {v["name"] for v in variables} | {v["base"] for v in variables}
    chosen = [v for v in (plot or []) if v in names] or model.stocks[:3]
    ts = model.time
    return {
        "name": model.name,
        "time": {"start": ts.start, "stop": ts.stop, "dt": ts.dt, "save_step": ts.save_step, "unit": ts.unit},
        "constants": constant_controls(model),
        "scenarios": scenarios,
        "variables": variables,
        "plot": chosen,
        "stockflow_svg": _svg(draw_stockflow(stock_flow_structure(model))),
        "cld_svg": _svg(draw_cld(causal_loop_structure(model, structural, unknown_loops=False), element=element)),
        "cld_element": element,
    }


class Workspace:
    """A served path and its latest reading; :meth:`reload` reads it again."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if not p.exists():
            raise SpecError("file not found", file=str(p), hint="check the path")
        self.kind = detect_kind(p)
        self.target = p.resolve()
        self.root = self.target if self.kind == "folder" else self.target.parent
        self._revision = 0
        self._reload_lock = threading.Lock()
        self._run_locks = {"simulate": threading.Lock(), "loops": threading.Lock()}
        self._latest: dict[str, int] = {}
        self._latest_lock = threading.Lock()
        self._cache: dict[str, tuple[Any, Any]] = {}  # role -> (what it was read from, what came of it)
        self.snapshot = Snapshot(0, self.kind, [])

    # -- reading ------------------------------------------------------------------------------

    def _folder_files(self) -> tuple[dict[str, Path], Any]:
        from tenor.app.report import read_report_spec

        rspec = read_report_spec(self.root)
        files: dict[str, Path] = {}
        if (self.root / "report.yaml").exists():
            files["report"] = self.root / "report.yaml"
        for role, name in (("causal", rspec.causal), ("model", rspec.model)):
            p = safe_path(self.root, name)
            if p.exists():
                files[role] = p
        if not ({"causal", "model"} & set(files)):
            raise SpecError(
                f"the folder has neither {rspec.causal} nor {rspec.model}",
                file=str(self.root),
                hint="serve a folder holding a causal spec and/or a stock-and-flow model",
            )
        return files, rspec

    def watched(self) -> set[Path]:
        """The files whose change means a re-read."""
        if self.kind != "folder":
            return {self.target}
        names = {"report.yaml", "causal.yaml", "stocks.yaml"}
        found = {self.root / n for n in names}
        found |= set(self.snapshot.files.values())
        return found

    def _cached(self, role: str, path: Path, settings: Any, read: Any) -> Any:
        """``read()``, or its last result when the file's bytes and the settings are unchanged.

        A folder re-reads only the file that changed: editing the causal spec does not reload the model.
        Errors are never cached.
        """
        try:
            key = (path, path.read_bytes(), repr(settings))
        except OSError:  # gone or unreadable: let the reader say so, located
            self._cache.pop(role, None)
            return read()
        hit = self._cache.get(role)
        if hit is not None and hit[0] == key:
            return hit[1]
        result = read()
        self._cache[role] = (key, result)
        return result

    def reload(self) -> Snapshot:
        """Read the served files again; the new snapshot's revision is one more than the last."""
        with self._reload_lock:
            errors: list[dict[str, Any]] = []
            files: dict[str, Path] = {}
            causal = model_view = spec = graph = model = None
            title = channels = plot = None
            try:
                if self.kind == "folder":
                    files, rspec = self._folder_files()
                    title, channels = rspec.dag.title, rspec.dag.channels
                    shown = [v for f in rspec.figures if f.kind == "scenarios" for v in (f.variables or [])]
                    plot = list(dict.fromkeys(shown))[:4] or None
                else:
                    files = {self.kind: self.target}
            except Exception as exc:
                errors += _diagnostics(exc, self.root)
            if "causal" in files:
                try:
                    causal, spec, graph = self._cached(
                        "causal",
                        files["causal"],
                        (title, channels),
                        lambda: _causal_view(files["causal"], self.root, title, channels),
                    )
                except Exception as exc:
                    errors += _diagnostics(exc, self.root)
            if "model" in files:
                try:
                    from stocks_flows.load import load_model

                    def read_model() -> tuple[Any, Any]:
                        found = load_model(files["model"])
                        return found, _model_view(found, plot)

                    model, model_view = self._cached("model", files["model"], plot, read_model)
                except Exception as exc:
                    errors += _diagnostics(exc, self.root)
                    model = None
            self._revision += 1
            self.snapshot = Snapshot(
                self._revision, self.kind, errors, causal, model_view, files, spec, graph, model, time.time()
            )
            return self.snapshot

    # -- runs ---------------------------------------------------------------------------------

    def _announce(self, client: str | None, request: int | None) -> None:
        if client is None or request is None:
            return
        with self._latest_lock:
            if request > self._latest.get(client, -1):
                self._latest[client] = request

    def _check_current(self, client: str | None, request: int | None) -> None:
        if client is None or request is None:
            return
        with self._latest_lock:
            if self._latest.get(client, -1) > request:
                raise Superseded

    def run(self, fn: Any, client: str | None = None, request: int | None = None, lane: str = "simulate") -> Any:
        """Call ``fn()`` alone in its lane (one run at a time); drop it when a newer request of ``client`` came in.

        Slider runs and loop analyses have a lane each, so a long analysis never holds up a slider.
        """
        self._announce(client, request)
        with self._run_locks[lane]:
            self._check_current(client, request)
            return fn()

    def current_model(self) -> Any:
        snap = self.snapshot
        if snap.model is None:
            raise TenorError(
                "no valid model to run" if snap.errors else "this page has no stock-and-flow model",
                hint="fix the errors shown and save" if snap.errors else "serve a model or a folder holding one",
            )
        return snap.model

    def current_graph(self) -> Any:
        snap = self.snapshot
        if snap.graph is None:
            raise TenorError(
                "no valid causal spec" if snap.errors else "this page has no causal spec",
                hint="fix the errors shown and save" if snap.errors else "serve a causal spec or a folder holding one",
            )
        return snap.graph


# --- the operations behind the API ------------------------------------------------------------


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _settings_model(model: Any, constants: Mapping[str, Any] | None, scenario: str | None) -> Any:
    """``model`` with a named scenario, then the page's constants, applied as its base values."""
    from stocks_flows.model import Scenario
    from tenor.core.specfile import did_you_mean

    if scenario not in (None, "", "base"):
        model = model.with_scenario(str(scenario))
    values: dict[str, float] = {}
    for name, value in (constants or {}).items():
        var = model.variables.get(name)
        if var is None or var.kind != "constant":
            close = did_you_mean(name, model.constants)
            raise TenorError(
                f"{name!r} is not a constant of this model",
                hint=f"did you mean {close!r}?" if close else "constants: " + ", ".join(model.constants[:20]),
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TenorError(f"constant {name!r}: expected a finite number, got {value!r}")
        values[name] = float(value)
    return model.with_scenario(Scenario("settings", constants=values)) if values else model


def _expand(model: Any, names: Iterable[str]) -> list[str]:
    from tenor.core.specfile import did_you_mean

    out: list[str] = []
    for name in names:
        if name in model.variables:
            out.append(name)
            continue
        elements = [n for n, v in model.variables.items() if v.base == name]
        if not elements:
            close = did_you_mean(name, [*model.variables, *{v.base for v in model.variables.values() if v.base}])
            raise TenorError(f"unknown variable {name!r}", hint=f"did you mean {close!r}?" if close else None)
        out += elements
    return list(dict.fromkeys(out))


def simulate_settings(
    model: Any,
    constants: Mapping[str, Any] | None,
    scenario: str | None,
    variables: Sequence[str] | None,
    max_points: int | None = None,
) -> dict[str, Any]:
    """Run ``model`` under a scenario and the page's constants: ``{"time": [...], "series": {var: [...]}}``.

    A subscripted variable named without its element stands for all its elements. ``max_points``
    thins the saved rows to at most that many (every k-th, and the last) for a plot; the run is the same.
    """
    from stocks_flows.engine import simulate

    settled = _settings_model(model, constants, scenario)
    names = _expand(model, variables) if variables else list(model.stocks)
    started = time.perf_counter()
    run = simulate(settled, variables=names)
    seconds = time.perf_counter() - started
    rows = list(range(len(run.time)))
    if max_points is not None and len(rows) > max(2, max_points):
        stride = math.ceil(len(rows) / (max(2, max_points) - 1))
        rows = rows[::stride] + ([rows[-1]] if rows[-1] % stride else [])
    return {
        "time": [float(run.time[i]) for i in rows],
        "series": {n: [_finite(run.values[0, i, j]) for i in rows] for j, n in enumerate(run.variables)},
        "seconds": seconds,
    }


def loops_for_settings(model: Any, constants: Mapping[str, Any] | None, scenario: str | None) -> dict[str, Any]:
    """Loop gains (means over the run) and dominance (Loops That Matter) for one run, and its loop diagram."""
    from diagrams.cld import draw_cld
    from diagrams.from_model import causal_loop_structure
    from stocks_flows.dominance import loop_dominance
    from stocks_flows.engine import simulate
    from stocks_flows.loops import find_loops

    settled = _settings_model(model, constants, scenario)
    every_step = replace(settled, time=replace(settled.time, save_step=settled.time.dt))
    run = simulate(every_step, on_nonfinite="keep")
    report = find_loops(every_step, run)
    dominance = loop_dominance(every_step, run, report)
    element = next(iter(model.dimensions.values()))[0] if model.dimensions else None
    structure = causal_loop_structure(every_step, report, unknown_loops=False)
    return {
        "loops": [lp.to_dict() for lp in report.loops],
        "periods": [
            {"start": float(p["start"]), "end": float(p["end"]), "loops": list(p["loops"])} for p in dominance.periods
        ],
        "cld_svg": _svg(draw_cld(structure, element=element)),
    }


def paths_for_query(
    ws: Workspace, query: str | None, treatment: str | None, outcome: str | None, given: Sequence[str]
) -> dict[str, Any]:
    """The paths between treatment and outcome given a set (open or blocked), identification, and the DAG."""
    from causal.adjustment import is_adjustment_set
    from causal.identify import identify
    from causal.paths import find_paths
    from diagrams.dag import draw_dag

    snap = ws.snapshot  # one reading throughout, whatever a re-read does meanwhile
    if snap.graph is None:
        ws.current_graph()  # says why there is none
    graph, spec = snap.graph, snap.spec
    if query:
        if query not in spec.queries:
            from tenor.core.specfile import did_you_mean

            close = did_you_mean(query, spec.queries)
            raise TenorError(f"unknown query {query!r}", hint=f"did you mean {close!r}?" if close else None)
        treatment, outcome = spec.queries[query].treatment, spec.queries[query].outcome
    treatments = [treatment] if isinstance(treatment, str) else list(treatment or [])
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome or [])
    if not treatments or not outcomes:
        raise TenorError("give a query, or a treatment and an outcome")
    known = None  # a named query was identified when the spec was read
    if query and snap.causal is not None:
        known = next((q["identification"] for q in snap.causal["queries"] if q["name"] == query), None)
    given = [str(g) for g in dict.fromkeys(given)]
    graph.check_nodes([*treatments, *outcomes])
    found = find_paths(graph, treatments[0], outcomes[0], given)
    channels = snap.causal.get("channels") if snap.causal else None
    dag = draw_dag(spec, query=(treatments, outcomes), adjust=given, channels=channels)
    return {
        "treatment": treatments,
        "outcome": outcomes,
        "given": given,
        "paths": found.to_dict(),
        "open": sum(p.open for p in found),
        "adjusts": is_adjustment_set(graph, treatments, outcomes, given),
        "identification": known if known is not None else identify(graph, treatments, outcomes).to_dict(),
        "dag_svg": _svg(dag),
    }


def save_scenario(
    ws: Workspace,
    name: str,
    constants: Mapping[str, Any] | None,
    scenario: str | None,
    file: str | None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write the page's settings as scenario ``name`` into a new scenario file inside the served folder."""
    from stocks_flows.scenario_file import parse_scenarios, scenario_yaml
    from tenor.core.output import write_text

    model = ws.current_model()
    if not isinstance(name, str) or not _NAME.match(name):
        raise TenorError(f"{name!r} is not a scenario name", hint="start with a letter or _, then letters, digits or _")
    _settings_model(model, constants, scenario)  # checks the names and values
    chosen: dict[str, float] = {}
    initial: dict[str, float] = {}
    based_on = ""
    if scenario not in (None, "", "base"):
        sc = model.scenario(str(scenario))
        chosen.update(sc.constants)
        initial.update(sc.initial)
        based_on = f" from scenario {scenario}"
        if sc.lookups:
            raise TenorError(
                f"scenario {scenario!r} changes lookups, which a saved scenario cannot carry yet",
                hint="save from the base scenario",
            )
    chosen.update({k: float(v) for k, v in (constants or {}).items()})
    target = safe_path(ws.root, file or f"{name}.scenario.yaml")
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise PathRefused(f"refusing {file!r}: a scenario file ends in .yaml", hint="e.g. my_scenario.yaml")
    inputs = [*ws.snapshot.files.values(), ws.target]
    if any(target == Path(p).resolve() for p in inputs):
        raise PathRefused(f"refusing {target.name}: it is an input of this page", hint="choose another file name")
    if target.exists() and not overwrite:
        raise PathRefused(
            f"refusing {target.name}: the file exists",
            hint="choose another file name, or tick 'overwrite' to replace it",
        )
    body: dict[str, Any] = {"description": f"saved from the live page{based_on}"}
    if chosen:
        body["constants"] = chosen
    if initial:
        body["initial"] = initial
    text = scenario_yaml({name: body})
    parse_scenarios(text, model, file=target.name)  # what is written reads back
    write_text(target, text, inputs=inputs)
    return {"file": str(target.relative_to(ws.root)), "name": name, "constants": chosen, "initial": initial}


# --- the web app ------------------------------------------------------------------------------


def _error_response(exc: BaseException) -> Any:
    """The JSON answer for a failed request: 409 superseded, 403 refused path, 400 bad input, 500 a bug."""
    from starlette.responses import JSONResponse

    if isinstance(exc, Superseded):
        return JSONResponse({"superseded": True}, status_code=409)
    if isinstance(exc, PathRefused):
        return JSONResponse({"error": exc.to_dict()}, status_code=403)
    if isinstance(exc, TenorError):
        return JSONResponse({"error": exc.to_dict()}, status_code=400)
    traceback.print_exc(file=sys.stderr)
    return JSONResponse(
        {"error": {"type": "InternalError", "message": f"{type(exc).__name__}: {exc}", "hint": None}},
        status_code=500,
    )


async def _body_of(request: Any) -> dict[str, Any]:
    """The request's JSON object."""
    try:
        data = await request.json()
    except ValueError:
        raise TenorError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise TenorError("the request body is not a JSON object")
    return data


def _request_ids(data: dict[str, Any]) -> tuple[str | None, int | None]:
    """The page's client id and its request number (both or neither)."""
    client, request = data.get("client"), data.get("request")
    if client is None or request is None:
        return None, None
    if not isinstance(request, int):
        raise TenorError("'request' is a number that grows with each request of a page")
    return str(client), request


def _dict_of(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise TenorError(f"{key!r} is an object of name -> value")
    return value


def _list_of(data: dict[str, Any], key: str, what: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise TenorError(f"{key!r} is a list of {what}")
    return value


def _max_points(data: dict[str, Any]) -> int | None:
    points = data.get("max_points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points < 2):
        raise TenorError("'max_points' is a whole number of at least 2")
    return points


class _Endpoints:
    """The page's JSON API over one workspace; every failure becomes a JSON error, never a traceback."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    async def index(self, request: Any) -> Any:
        from starlette.responses import FileResponse

        return FileResponse(_STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def favicon(self, request: Any) -> Any:
        from starlette.responses import Response

        return Response(status_code=204)

    async def state(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse(self.ws.snapshot.to_dict())

    async def revision(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse({"revision": self.ws.snapshot.revision, "errors": len(self.ws.snapshot.errors)})

    async def _answer(self, request: Any, work: Any) -> Any:
        """Run ``work(data)`` (a coroutine function over the request's JSON) and answer with its result."""
        from starlette.responses import JSONResponse

        try:
            return JSONResponse(await work(await _body_of(request)))
        except Exception as exc:
            return _error_response(exc)

    async def simulate(self, request: Any) -> Any:
        return await self._answer(request, self._simulate)

    async def _simulate(self, data: dict[str, Any]) -> dict[str, Any]:
        from starlette.concurrency import run_in_threadpool

        client, number = _request_ids(data)
        variables = _list_of(data, "variables", "names")
        points = _max_points(data)
        model = self.ws.current_model()
        constants, scenario = _dict_of(data, "constants"), data.get("scenario")
        out = await run_in_threadpool(
            self.ws.run, lambda: simulate_settings(model, constants, scenario, variables, points), client, number
        )
        out["revision"] = self.ws.snapshot.revision
        if number is not None:
            out["request"] = number
        return out

    async def loops(self, request: Any) -> Any:
        return await self._answer(request, self._loops)

    async def _loops(self, data: dict[str, Any]) -> dict[str, Any]:
        from starlette.concurrency import run_in_threadpool

        client, number = _request_ids(data)
        model = self.ws.current_model()
        constants, scenario = _dict_of(data, "constants"), data.get("scenario")
        out = await run_in_threadpool(
            self.ws.run, lambda: loops_for_settings(model, constants, scenario), f"{client}/loops", number, "loops"
        )
        if number is not None:
            out["request"] = number
        return out

    async def paths(self, request: Any) -> Any:
        return await self._answer(request, self._paths)

    async def _paths(self, data: dict[str, Any]) -> dict[str, Any]:
        from starlette.concurrency import run_in_threadpool

        given = _list_of(data, "given", "node names")
        return await run_in_threadpool(
            paths_for_query, self.ws, data.get("query"), data.get("treatment"), data.get("outcome"), given
        )

    async def scenario(self, request: Any) -> Any:
        return await self._answer(request, self._scenario)

    async def _scenario(self, data: dict[str, Any]) -> dict[str, Any]:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(
            save_scenario,
            self.ws,
            data.get("name"),
            _dict_of(data, "constants"),
            data.get("scenario"),
            data.get("file"),
            bool(data.get("overwrite", False)),
        )


def create_app(workspace: Workspace, *, watch: bool = True) -> Any:
    """The Starlette app serving ``workspace``: the page, the JSON API and (when ``watch``) live re-reads."""
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    api = _Endpoints(workspace)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(_watch(workspace, stop)) if watch else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    routes = [
        Route("/", api.index),
        Route("/favicon.ico", api.favicon),
        Route("/api/state", api.state),
        Route("/api/revision", api.revision),
        Route("/api/simulate", api.simulate, methods=["POST"]),
        Route("/api/loops", api.loops, methods=["POST"]),
        Route("/api/paths", api.paths, methods=["POST"]),
        Route("/api/scenario", api.scenario, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _watch(ws: Workspace, stop: asyncio.Event) -> None:
    """Re-read the workspace whenever one of its files changes on disk."""
    from starlette.concurrency import run_in_threadpool
    from watchfiles import awatch

    recursive = ws.kind == "folder"
    async for changes in awatch(ws.root, stop_event=stop, debounce=400, step=40, recursive=recursive):
        watched = {p.resolve() if p.exists() else p for p in ws.watched()}
        hit = False
        for _, changed in changes:
            p = Path(changed)
            if p in watched or (p.exists() and p.resolve() in watched):
                hit = True
                break
        if hit:
            await run_in_threadpool(ws.reload)


# --- running the server -----------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    path: str | Path, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False, watch: bool = True
) -> None:
    """Serve ``path`` until interrupted; print ``serving URL`` once the socket listens."""
    import uvicorn

    ws = Workspace(path)
    if not _is_loopback(host):
        print(
            f"warning: serving on {host}: anyone who can reach this address can read {ws.root} "
            "and write scenario files into it; use --host 127.0.0.1 to keep it to this machine",
            file=sys.stderr,
            flush=True,
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise TenorError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="choose another --port (or --port 0 for any free one)",
        ) from None
    snap = ws.reload()
    for e in snap.errors:
        print(f"note: {e['text']}", file=sys.stderr, flush=True)
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    app = create_app(ws, watch=watch)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on")
    server = uvicorn.Server(config)
    print(f"serving {url}", flush=True)
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
