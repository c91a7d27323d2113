"""The SDXorg test-models suite: its models, their canonical outputs, and four ways to run them.

One case per model file under ``tests/data/test-models/tests``. Each runner returns a
DataFrame indexed by time whose columns are the model's variables (subscripted ones as
``name[a,b]``); :func:`compare` matches it against the canonical output under one rule
(:data:`RTOL`, :data:`ATOL`), so every engine is judged the same way.

The runners: tenor's vectorised engine, ``--engine pysd`` through tenor
(:func:`stocks_flows.pysd_runner.run_pysd_file`), PySD on its own, and Simlin (pysimlin).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from stocks_flows.functions import NA

__all__ = [
    "ATOL",
    "CANONICAL_PROBLEMS",
    "CASES",
    "PYSD_DIVERGENCES",
    "RTOL",
    "SHARED_WITH_PYSD",
    "SUITE",
    "Case",
    "column_key",
    "compare",
    "read_canonical",
    "run_pysd",
    "run_simlin",
    "run_tenor",
    "run_tenor_pysd",
]

SUITE = Path(__file__).resolve().parents[1] / "data" / "test-models" / "tests"

RTOL = 1e-3
"""Relative tolerance per cell: canonical files print 6 significant digits, some in single precision."""
ATOL = 1e-6
"""Absolute tolerance, scaled by the column's largest magnitude (at least 1), for cells near zero."""

_CONTROL = {"initial time", "final time", "time step", "saveper"}
_MODEL_SUFFIXES = (".mdl", ".xmile", ".stmx", ".xml")


CANONICAL_PROBLEMS = {
    "active_initial/test_active_initial.xmile": (
        "the canonical Stock A starts at 45 (Vensim's ACTIVE INITIAL), but this XMILE file's initial value "
        "is Value_A, which is Time = 0 at the start; every engine here gives 0"
    ),
    "data_from_other_model/model_to_generate_data.mdl": (
        "the folder's canonical output (101 rows) belongs to test_data_from_other_model.mdl; this model "
        "writes the data that one reads, and has no canonical output of its own"
    ),
    "allocate_available/test_allocate_available.mdl": (
        "Vensim's market priority is not solved exactly on 15 of 358 columns, all with normal priority "
        "profiles (ptype 3): the priority each of its allocations implies under the documented curve "
        "differs between requests by up to 5e-4 (allocation3 at t=60: 2.75711, 2.75716, 2.75669), which "
        "shows in the curves' tails (allocation mixed[Boston,A,large] at t=8: 0.175182 exactly against "
        "0.176331); tenor's engine solves it exactly and PySD agrees with it to 4e-7"
    ),
    "smooth_and_stock/test_smooth_and_stock.xmile": (
        "the canonical file has 3 columns (Input, Smoothed Input, Smoothing Time) that are not in the "
        "model; the columns they share match"
    ),
}
"""Models whose canonical output cannot be matched by a correct engine, and why."""
CANONICAL_PROBLEMS["active_initial/test_active_initial.stmx"] = CANONICAL_PROBLEMS[
    "active_initial/test_active_initial.xmile"
]
CANONICAL_PROBLEMS["smooth_and_stock/test_smooth_and_stock.stmx"] = CANONICAL_PROBLEMS[
    "smooth_and_stock/test_smooth_and_stock.xmile"
]

PYSD_DIVERGENCES = {
    "arguments/test_arguments.mdl": (
        "PySD differs from Vensim on one nested call (Outer Multiple Middle Multiple Inner Multiple "
        "at t=5: 0.963421 against 0.958665): DELAY3 with a delay time of 2 and TIME STEP 1 is lowered "
        "to order 2 (3 x TIME STEP exceeds the delay time), where Vensim keeps order 3"
    ),
    "na/test_na.mdl": (
        "PySD reads :NA: as NaN; Vensim computes with its NA number, -1.298074e33, which its table shows "
        "as a blank (variable from t=6)"
    ),
    "data_from_other_model/test_data_from_other_model.mdl": (
        "out3 reads a RAW DATA variable, which has no value between the data's whole-number times: "
        "Vensim writes blanks there and PySD gives NaN, but the canonical reader forward-fills the blanks "
        "(tenor's engine stops at t=0.5 and says why)"
    ),
}
"""Models where PySD itself differs from the canonical (Vensim's) output; ``--engine pysd`` shows the same."""

SHARED_WITH_PYSD = frozenset({"arguments/test_arguments.mdl"})
"""Models of :data:`PYSD_DIVERGENCES` where tenor's engine gives PySD's answer by design: it lowers
a delay's order as PySD does (see ``_Stateful._delay_order`` in stocks_flows/engine.py)."""


@dataclass(frozen=True)
class Case:
    """One model file of the suite and the canonical output of its folder."""

    id: str
    path: Path
    canonical: Path | None

    @property
    def part(self) -> str:
        return "Vensim" if self.path.suffix.lower() == ".mdl" else "XMILE"


def _cases() -> list[Case]:
    cases = []
    for path in sorted(SUITE.rglob("*")):
        if path.suffix.lower() not in _MODEL_SUFFIXES or not path.is_file():
            continue
        folder = path.parent
        canonical = next((folder / n for n in ("output.tab", "output.csv") if (folder / n).exists()), None)
        cases.append(Case(path.relative_to(SUITE).as_posix(), path, canonical))
    return cases


CASES = _cases()


def column_key(name: str) -> str:
    """A column name as Vensim and XMILE compare them: no quotes, case, ``_`` or extra spaces."""
    name = name.replace('"', "").replace("_", " ").lower()
    name = re.sub(r"\s+", " ", name).strip()
    return re.sub(r"\s*([\[\],])\s*", r"\1", name)


def read_canonical(path: Path) -> pd.DataFrame:
    """A canonical output, indexed by its Time column; constants given once are forward-filled.

    A blank cell in a column of varying values is Vensim's :NA: (Vensim's tables show it as a blank), read as
    :data:`stocks_flows.functions.NA`, the number Vensim computes with.
    """
    read = pd.read_table if path.suffix == ".tab" else pd.read_csv
    try:
        frame = read(path)
    except UnicodeDecodeError:  # Vensim on Windows writes its output in Latin-1
        frame = read(path, encoding="latin-1")
    if (
        frame.shape[1] > 1
        and frame.columns[0].strip().lower() != "time"
        and "time" not in [str(c).strip().lower() for c in frame.columns]
    ):
        frame = frame.set_index(frame.columns[0]).T.reset_index()  # Vensim's transposed export
        frame = frame.rename(columns={"index": "Time"})
    time = next(c for c in frame.columns if str(c).strip().lower() == "time")
    frame = frame.set_index(time)
    frame.index = pd.to_numeric(frame.index, errors="coerce")
    frame = frame.apply(pd.to_numeric, errors="coerce")
    given = frame.notna().sum()
    once = [c for c in frame.columns if given[c] == 1 and pd.notna(frame[c].iloc[0])]
    varying = [c for c in frame.columns if given[c] > 1]
    frame[once] = frame[once].ffill()
    frame[varying] = frame[varying].fillna(NA)
    return frame


def compare(result: pd.DataFrame, canon: pd.DataFrame) -> str | None:
    """None when ``result`` matches ``canon`` on every canonical cell; else the first differences."""
    columns = {column_key(str(c)): c for c in result.columns}
    times = np.asarray(result.index, dtype=float)
    wanted = np.asarray(canon.index, dtype=float)
    rows = np.searchsorted(times, wanted - 1e-9 * np.maximum(1.0, np.abs(wanted)))
    rows = np.clip(rows, 0, max(len(times) - 1, 0))
    if len(times) == 0 or not np.allclose(times[rows], wanted, rtol=1e-5, atol=1e-9):
        return f"output times differ: {len(times)} rows from {times[:1]} to {times[-1:]}, canonical {len(wanted)}"
    missing, bad = [], []
    for col in canon.columns:
        key = column_key(str(col))
        if key not in columns:
            if key in _CONTROL:
                continue  # the time settings show in the time axis; not every engine writes them out
            missing.append(str(col))
            continue
        expected = canon[col].to_numpy(float)
        actual = result[columns[key]].to_numpy(float)[rows]
        scale = max(1.0, float(np.nanmax(np.abs(expected))) if np.isfinite(expected).any() else 1.0)
        ok = (np.abs(actual - expected) <= RTOL * np.abs(expected) + ATOL * scale) | (np.isnan(expected))
        if not ok.all():
            i = int(np.argmin(ok))
            bad.append(f"{col} at t={wanted[i]:g}: {actual[i]:.6g} != {expected[i]:.6g}")
    problems = []
    if missing:
        problems.append(f"{len(missing)} canonical column(s) not in the output, e.g. {missing[:3]}")
    if bad:
        problems.append(f"{len(bad)} of {len(canon.columns)} columns differ: " + "; ".join(bad[:3]))
    return "; ".join(problems) or None


def run_tenor(path: Path) -> pd.DataFrame:
    """tenor's reader and vectorised engine."""
    from stocks_flows.engine import simulate
    from stocks_flows.load import load_model

    # DATA variables with no equation read the folder's data files, as run_pysd gives them to PySD
    data = sorted(p for p in path.parent.glob("*.tab") if p.name != "output.tab")
    frame = simulate(load_model(path, data)).frame(0)
    return frame.set_index("time")


def run_tenor_pysd(path: Path) -> pd.DataFrame:
    """``--engine pysd`` through tenor: the file handed to PySD, sanitised, no code from the file."""
    from stocks_flows.pysd_runner import run_pysd_file

    return run_pysd_file(path).set_index("time")


def run_pysd(path: Path) -> pd.DataFrame:
    """PySD on its own, on a copy of the model's folder (PySD writes its Python beside the model)."""
    import pysd

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, folder)
        copy = folder / path.name
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            reader = pysd.read_vensim if path.suffix.lower() == ".mdl" else pysd.read_xmile
            data = sorted(str(p) for p in folder.glob("*.tab") if p.name != "output.tab")
            model = reader(str(copy), data_files=data or None)
            frame = model.run(progress=False)
    return frame


def run_simlin(path: Path) -> pd.DataFrame:
    """Simlin, through pysimlin."""
    import simlin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simlin.load(str(path)).run().results
