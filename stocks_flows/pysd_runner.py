"""Running a model with PySD, the reference simulator.

PySD (Houghton & Siegel, 2015; Martin-Martinez et al., 2022) translates XMILE
and Vensim models into Python and integrates them with Euler's method. tenor
uses it as the reference the vectorised engine is checked against.

A tenor spec is written as XMILE (:func:`~stocks_flows.xmile.generate_xmile`,
without its descriptions and units) into a private temporary folder, and PySD
translates and runs it there. An XMILE or Vensim model is copied into such a
folder first, as ``model.xmile`` or ``model.mdl``. PySD's translator reads the
file into its abstract model; :func:`~stocks_flows.pysd_safety.sanitise`
re-makes that from allow-listed parts (generated names, no free text) before
PySD's builder writes Python, and
:func:`~stocks_flows.pysd_safety.check_module` checks the module before it is
imported: a model file never runs code. Each scenario runs on a freshly loaded
PySD model, so no state leaks from one run into the next.

References
----------
Houghton, J. and Siegel, M. (2015). Advanced data analytics for system
dynamics models using PySD. Proceedings of the 33rd International Conference
of the System Dynamics Society.
Martin-Martinez, E., Samsó, R., Houghton, J. and Solé, J. (2022). PySD: System
Dynamics Modeling in Python. Journal of Open Source Software 7(78), 4329.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from stocks_flows.engine import Run
from stocks_flows.expr import Number
from stocks_flows.model import Model
from stocks_flows.pysd_safety import (
    SafeModel,
    UnsafeModelError,
    check_folder,
    private_folder,
    sanitise,
    unchanged,
)
from stocks_flows.xmile import (
    check_model_size,
    definition_line,
    modern_layout,
    quote_flow_names,
    refuse_stock_kinds,
    translation_error,
)
from tenor.core.errors import SimulationError

__all__ = ["run_pysd", "run_pysd_file", "run_pysd_file_scenarios", "run_pysd_scenarios", "translated"]


def _apply(model: Model, parameters: Mapping[str, float]) -> Model:
    variables = dict(model.variables)
    for name, value in parameters.items():
        var = variables[name]
        if var.kind == "stock":
            variables[name] = replace(var, initial=Number(float(value)))
        else:
            variables[name] = replace(var, equation=Number(float(value)))
    return replace(model, variables=variables)


def _stripped(model: Model) -> Model:
    """The model with its free text (descriptions, units, name) removed: PySD needs none of it."""
    variables = {k: replace(v, description=None, units=None) for k, v in model.variables.items()}
    return replace(model, variables=variables, name=None, time=replace(model.time, unit=""))


def _abstract(model: Model, folder: Path) -> Any:
    """PySD's abstract model of ``model``, read from a file under a fixed name in ``folder``."""
    from pysd.translators.vensim.vensim_file import VensimFile
    from pysd.translators.xmile.xmile_file import XmileFile

    if model.origin == "spec" or model.path is None:
        from stocks_flows.xmile import generate_xmile

        source = folder / "model.xmile"
        source.write_text(generate_xmile(_stripped(model)), encoding="utf-8")
        reader: Any = XmileFile
    else:
        source = folder / ("model.mdl" if model.origin == "vensim" else "model.xmile")
        shutil.copyfile(model.path, source)
        reader = VensimFile if model.origin == "vensim" else XmileFile
        if model.origin != "vensim":
            modern_layout(source)
            quote_flow_names(source)
    translator = reader(source)
    translator.parse()
    return translator.get_abstract_model()


class _Translation:
    """A checked PySD module: calling it loads a fresh PySD model; ``column`` names its outputs."""

    def __init__(self, py_file: Path, checked: dict[str, bytes], safe: SafeModel, model: Model) -> None:
        self.py_file, self.checked, self.safe, self.model = py_file, checked, safe, model

    def has(self, name: str) -> bool:
        """Whether PySD's reading has the variable (the expanded instances of a Vensim macro it has not)."""
        try:
            self.column(name)
        except SimulationError:
            return False
        return True

    def column(self, name: str) -> str:
        var = self.model.variables[name]
        try:
            return self.safe.column(var.base or var.name, var.subscript)
        except KeyError:
            raise SimulationError(f"PySD's reading of the model has no variable {name!r}") from None

    def __call__(self) -> Any:
        import pysd

        if not unchanged(self.py_file.parent, self.checked):  # changed since it was checked: never load it
            raise SimulationError("the generated PySD module changed after it was checked; not loading it")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pysd.load(str(self.py_file))


@contextmanager
def translated(model: Model) -> Iterator[_Translation]:
    """Translate ``model`` once in a private folder; yield a function that loads a fresh PySD model.

    PySD is handed only a sanitised model (:func:`~stocks_flows.pysd_safety.sanitise`:
    generated names, no free text, fixed file names) and the module it writes
    is checked (:func:`~stocks_flows.pysd_safety.check_module`) before it is
    ever imported, so no text from the model file can run as code.
    """
    from pysd.builders.python.python_model_builder import ModelBuilder

    if model.time.method != "euler":
        raise SimulationError(
            f"PySD integrates with Euler only; this model asks for {model.time.method}",
            hint="use --engine vector, or set time.method: euler",
        )
    with private_folder() as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                source = Path(model.path) if model.path and model.origin != "spec" else None
                safe = sanitise(  # a model read from a file may name data files beside it, as the file route
                    _abstract(model, folder),
                    folder,
                    where=model.path,
                    data_folder=source.parent if source is not None else None,
                    line_of=(lambda name: definition_line(source, name)) if source is not None else None,
                )
                py_file = Path(ModelBuilder(safe.abstract).build_model())
            except UnsafeModelError:
                raise
            except Exception as exc:
                raise SimulationError(f"PySD cannot translate this model: {type(exc).__name__}: {exc}") from None
        checked = check_folder(folder, file=model.path or "<generated model>")
        yield _Translation(py_file, checked, safe, model)


def _run_one(fresh: Callable[[], Any], model: Model, outputs: Sequence[str], params: Mapping[str, float]) -> Any:
    pysd_model = fresh()
    column = fresh.column if isinstance(fresh, _Translation) else (lambda name: name)
    ts = model.time
    kinds = {k: model.variables[k].kind for k in params}
    constants = _arrays(pysd_model, fresh, model, {k: v for k, v in params.items() if kinds[k] == "constant"})
    initial = _arrays(pysd_model, fresh, model, {k: v for k, v in params.items() if kinds[k] == "stock"})
    columns = [column(name) for name in outputs]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            frame = pysd_model.run(
                params=constants or None,
                initial_condition=(ts.start, initial) if initial else "original",
                return_columns=columns,
                final_time=ts.stop,
                time_step=ts.dt,
                saveper=ts.save_step,
                progress=False,
            )
        except Exception as exc:
            raise SimulationError(f"PySD failed to run the model: {type(exc).__name__}: {exc}") from None
    frame = frame[columns]
    frame.columns = list(outputs)
    return frame


def _arrays(pysd_model: Any, fresh: Any, model: Model, values: Mapping[str, float]) -> dict[str, Any]:
    """Values for PySD's ``params``: one element of an arrayed variable is set in a copy of the whole array."""
    if not isinstance(fresh, _Translation):
        return dict(values)
    out: dict[str, Any] = {}
    for name, value in values.items():
        var = model.variables[name]
        if not var.subscript:
            out[fresh.column(name)] = value
            continue
        key = fresh.safe.name(var.base or name)
        current = out[key] if key in out else pysd_model[key].copy()
        where = dict(zip(current.dims, [fresh.safe.subscripts[e] for e in var.subscript], strict=True))
        current.loc[where] = float(value)
        out[key] = current
    return out


def run_pysd(
    model: Model, parameters: Mapping[str, float] | None = None, variables: Sequence[str] | None = None
) -> Any:
    """One run with PySD: a DataFrame with ``time`` and one column per variable."""
    run = run_pysd_scenarios(model, {k: [v] for k, v in (parameters or {}).items()}, variables=variables)
    return run.frame(0)


def run_pysd_scenarios(
    model: Model,
    parameters: Mapping[str, Sequence[float]] | None = None,
    *,
    variables: Sequence[str] | None = None,
    scenario_names: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Run:
    """Run each scenario with PySD, one at a time, each on a fresh model."""
    params = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in (parameters or {}).items()}
    n = len(next(iter(params.values()))) if params else 1
    for name in params:
        if name not in model.variables or model.variables[name].kind not in ("constant", "stock"):
            raise SimulationError(f"{name!r} is not a constant or a stock of this model")
    outputs = list(variables) if variables is not None else list(model.variables)
    names = list(scenario_names) if scenario_names is not None else [str(i) for i in range(n)]
    # element values and spec models are set in the model itself; plain constants go through PySD's params
    by_model = model.origin == "spec" and any("[" in k for k in params)
    frames = []
    with ExitStack() as stack:
        shared = None if by_model else stack.enter_context(translated(model))
        if variables is None and shared is not None:  # PySD keeps a macro's insides in the macro
            outputs = [name for name in outputs if shared.has(name)]
        for i in range(n):
            values = {k: float(v[i]) for k, v in params.items()}
            try:
                if shared is None:
                    one = _apply(model, values)
                    with translated(one) as fresh:
                        frames.append(_run_one(fresh, one, outputs, {}))
                else:
                    frames.append(_run_one(shared, model, outputs, values))
            except SimulationError as err:
                raise _locate_failure(model, values, names[i], err) from None
            if progress:
                progress(1)
    time = np.asarray(frames[0].index, dtype=float)
    values = np.stack([f[outputs].to_numpy(dtype=float) for f in frames])
    _check_finite(values, time, outputs, names)
    return Run(time, outputs, values, names, params)


def _locate_failure(model: Model, values: Mapping[str, float], name: str, err: SimulationError) -> SimulationError:
    """PySD stopped (e.g. on a division by zero): find the variable and time with the vectorised engine."""
    from stocks_flows.engine import simulate

    try:
        simulate(model, {k: [v] for k, v in values.items()}, scenario_names=[name])
    except SimulationError as located:
        return located
    except Exception:  # the engine cannot run it either: keep PySD's message
        pass
    return SimulationError(f"{err.message} (scenario {name!r})", hint=err.hint)


def _check_finite(values: np.ndarray, time: np.ndarray, outputs: Sequence[str], names: Sequence[str]) -> None:
    """PySD lets NaN and infinity through; report the first one as the vectorised engine does."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    first_time = int(np.argmax(bad.any(axis=(0, 2))))
    scenario = int(np.argmax(bad[:, first_time].any(axis=1)))
    variable = int(np.argmax(bad[scenario, first_time]))
    value = values[scenario, first_time, variable]
    raise SimulationError(
        f"{outputs[variable]} is {'NaN' if np.isnan(value) else 'infinite'} at time {time[first_time]:g} "
        f"in scenario {names[scenario]!r}",
        hint="a division by zero? guard it, e.g. zidz(a, b) or xidz(a, b, fallback)",
    )


def _file_translation(path: Path, folder: Path) -> tuple[SafeModel, Path]:
    """PySD's reading of the model file itself (not of tenor's model), sanitised and built in ``folder``."""
    from pysd.builders.python.python_model_builder import ModelBuilder
    from pysd.translators.vensim.vensim_file import VensimFile
    from pysd.translators.xmile.xmile_file import XmileFile

    check_model_size(path)
    vensim = path.suffix.lower() == ".mdl"
    source = folder / ("model.mdl" if vensim else "model.xmile")
    shutil.copyfile(path, source)
    if not vensim:
        modern_layout(source)
        quote_flow_names(source)
        _refuse_stock_kinds(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            translator = (VensimFile if vensim else XmileFile)(source)
            translator.parse()
            abstract = translator.get_abstract_model()
        except Exception as exc:
            raise translation_error(exc, str(path)) from None
        safe = sanitise(
            abstract,
            folder,
            where=str(path),
            data_folder=path.parent,
            line_of=lambda name: definition_line(path, name),
        )
        try:
            py_file = Path(ModelBuilder(safe.abstract).build_model())
        except Exception as exc:
            raise SimulationError(f"PySD cannot translate this model: {type(exc).__name__}: {exc}") from None
    return safe, py_file


def _refuse_stock_kinds(path: Path) -> None:
    """A conveyor, queue or oven, which PySD would run as a plain stock, is refused (see xmile)."""
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(path.read_bytes(), parser=parser)
    if root is not None:
        refuse_stock_kinds(root, str(path))


def _original_columns(safe: SafeModel) -> Callable[[str], str]:
    """PySD's column (``var_3[elem_0]``) -> the model's own name (``Stock A[One]``)."""
    names = {v: k for k, v in safe.variables.items()}
    elements = {v: k for k, v in safe.subscripts.items()}

    def original(column: str) -> str:
        base, _, rest = column.partition("[")
        name = names.get(base, base)
        if not rest:
            return name
        return f"{name}[{','.join(elements.get(e, e) for e in rest.rstrip(']').split(','))}]"

    return original


def _file_parameters(pysd_model: Any, safe: SafeModel, parameters: Mapping[str, float]) -> dict[str, Any]:
    """``--set`` values as PySD takes them: a whole array for a constant set element by element."""
    out: dict[str, Any] = {}
    for name, value in parameters.items():
        base, _, rest = name.partition("[")
        try:
            key = safe.name(base.strip())
        except KeyError:
            raise SimulationError(
                f"unknown parameter {name!r}", hint="give a constant of the model, as the model file names it"
            ) from None
        if not rest:
            out[key] = float(value)
            continue
        elements = [e.strip() for e in rest.rstrip("]").split(",")]
        try:
            current = out[key] if key in out else pysd_model[key].copy()
            where = dict(zip(current.dims, [safe.subscripts[e] for e in elements], strict=True))
            current.loc[where] = float(value)
        except (KeyError, ValueError, AttributeError):
            raise SimulationError(
                f"{name!r} does not name one element of an arrayed constant",
                hint="give every subscript, e.g. Matrix A[da1,db1,dc1]=2",
            ) from None
        out[key] = current
    return out


@contextmanager
def _file_model(path: Path) -> Iterator[tuple[SafeModel, Callable[[], Any]]]:
    """Translate the model file once in a private folder; yield its names and a loader of fresh PySD models."""
    if not path.is_file():
        raise SimulationError(f"file not found: {path}", hint="check the path and the current directory")
    with private_folder() as folder:
        safe, py_file = _file_translation(path, folder)
        checked = check_folder(folder, file=str(path))

        def fresh() -> Any:
            import pysd

            if not unchanged(folder, checked):  # changed since it was checked: never load it
                raise SimulationError("the generated PySD module changed after it was checked; not loading it")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pysd.load(str(py_file))

        yield safe, fresh


def _file_run(safe: SafeModel, fresh: Callable[[], Any], parameters: Mapping[str, float]) -> Any:
    """One run of a freshly loaded model: a DataFrame indexed by time, columns named as in the file."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            pysd_model = fresh()
            params = _file_parameters(pysd_model, safe, parameters)
            frame = pysd_model.run(params=params or None, progress=False)
        except SimulationError:
            raise
        except Exception as exc:
            raise SimulationError(f"PySD failed to run the model: {type(exc).__name__}: {exc}") from None
    frame = frame.rename(columns=_original_columns(safe))
    frame.index = np.asarray(frame.index, dtype=float)
    return frame


def run_pysd_file(path: str | Path, parameters: Mapping[str, float] | None = None) -> Any:
    """Hand a Vensim or XMILE file to PySD itself: a DataFrame with ``time`` and every variable.

    PySD reads the file (so it runs what PySD runs, whether or not tenor's
    own reader holds it); its abstract model is sanitised and the module it
    writes checked before it is imported, as for :func:`run_pysd`. Columns
    are named as in the file (``Stock A[One]``). ``parameters`` sets
    constants, or one element of an arrayed constant (``Matrix A[da1,db1]``).
    Data files the model reads (GET XLS / GET DIRECT) must lie in its folder.
    """
    with _file_model(Path(path)) as (safe, fresh):
        frame = _file_run(safe, fresh, parameters or {})
    frame.insert(0, "time", frame.index.to_numpy())
    return frame.reset_index(drop=True)


def run_pysd_file_scenarios(
    path: str | Path,
    parameters: Mapping[str, Sequence[float]],
    *,
    variables: Sequence[str] | None = None,
    scenario_names: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Run:
    """Each scenario of ``parameters`` run by PySD on the model file itself, each on a fresh model.

    The file is translated and checked once (:func:`run_pysd_file`); names are
    as the file writes them, ``variables`` (default: every one) chooses the
    columns kept.
    """
    params = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in parameters.items()}
    n = len(next(iter(params.values()))) if params else 1
    names = list(scenario_names) if scenario_names is not None else [str(i) for i in range(n)]
    frames = []
    with _file_model(Path(path)) as (safe, fresh):
        for i in range(n):
            values = {k: float(v[i]) for k, v in params.items()}
            try:
                frames.append(_file_run(safe, fresh, values))
            except SimulationError as err:
                raise SimulationError(f"{err.message} (scenario {names[i]!r})", hint=err.hint) from None
            if progress:
                progress(1)
    outputs = list(variables) if variables is not None else [str(c) for c in frames[0].columns]
    unknown = [v for v in outputs if v not in frames[0].columns]
    if unknown:
        raise SimulationError(
            f"the model has no variable {unknown[0]!r}", hint="name variables as the model file does, e.g. Stock[A]"
        )
    time = np.asarray(frames[0].index, dtype=float)
    stacked = np.stack([f[outputs].to_numpy(dtype=float) for f in frames])
    _check_finite(stacked, time, outputs, names)
    return Run(time, outputs, stacked, names, params)
