"""Running a model with PySD, the reference simulator.

PySD (Houghton & Siegel, 2015; Martin-Martinez et al., 2022) translates XMILE
and Vensim models into Python and integrates them with Euler's method. tenor
uses it as the reference the vectorised engine is checked against.

A tenor spec is written as XMILE (:func:`~stocks_flows.xmile.generate_xmile`)
into a temporary folder tenor owns, and PySD translates and runs it there. An
XMILE or Vensim model is copied into such a folder first, because PySD writes
its translated Python beside the file it reads. Each scenario runs on a freshly
loaded PySD model, so no state leaks from one run into the next.

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
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from stocks_flows.engine import Run
from stocks_flows.expr import Number
from stocks_flows.model import Model
from tenor.errors import SimulationError

__all__ = ["run_pysd", "run_pysd_scenarios", "translated"]


def _apply(model: Model, parameters: Mapping[str, float]) -> Model:
    variables = dict(model.variables)
    for name, value in parameters.items():
        var = variables[name]
        if var.kind == "stock":
            variables[name] = replace(var, initial=Number(float(value)))
        else:
            variables[name] = replace(var, equation=Number(float(value)))
    return replace(model, variables=variables)


@contextmanager
def translated(model: Model) -> Any:
    """Translate ``model`` once in a private folder; yield a function that loads a fresh PySD model."""
    import pysd

    if model.time.method != "euler":
        raise SimulationError(
            f"PySD integrates with Euler only; this model asks for {model.time.method}",
            hint="use --engine vector, or set time.method: euler",
        )
    folder = Path(tempfile.mkdtemp(prefix="tenor-pysd-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if model.origin == "spec" or model.path is None:
                    from stocks_flows.xmile import generate_xmile

                    source = folder / "model.xmile"
                    source.write_text(generate_xmile(model), encoding="utf-8")
                    translated = pysd.read_xmile(str(source))
                else:
                    source = folder / Path(model.path).name
                    shutil.copyfile(model.path, source)
                    reader = pysd.read_vensim if model.origin == "vensim" else pysd.read_xmile
                    translated = reader(str(source))
            except Exception as exc:
                raise SimulationError(
                    f"PySD cannot translate this model: {type(exc).__name__}: {exc}"
                ) from None
        py_file = translated.py_model_file

        def fresh() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pysd.load(py_file)

        yield fresh
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_one(
    fresh: Callable[[], Any], model: Model, outputs: Sequence[str], params: Mapping[str, float]
) -> Any:
    pysd_model = fresh()
    ts = model.time
    constants = {k: v for k, v in params.items() if model.variables[k].kind == "constant"}
    initial = {k: v for k, v in params.items() if model.variables[k].kind == "stock"}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return pysd_model.run(
                params=constants or None,
                initial_condition=(ts.start, initial) if initial else "original",
                return_columns=list(outputs),
                final_time=ts.stop,
                time_step=ts.dt,
                saveper=ts.save_step,
                progress=False,
            )
        except Exception as exc:
            raise SimulationError(f"PySD failed to run the model: {type(exc).__name__}: {exc}") from None


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


def _locate_failure(
    model: Model, values: Mapping[str, float], name: str, err: SimulationError
) -> SimulationError:
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
