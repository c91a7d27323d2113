"""Every model of the SDXorg test-models suite, with tenor's engine and with ``--engine pysd``.

``results.json`` (written by ``scripts/test_models_table.py``, shown in docs/stocks_flows.md)
records, per model and engine, ``pass``, ``differs: <first differences>`` or ``error: <message>``.
Each test holds the engine to that record: a ``pass`` must match the canonical output under
:func:`suite.compare`; a ``differs`` must still run and still differ (when it starts to match,
re-run the script); an ``error`` must be refused with a :class:`TenorError` (a clear message,
never a traceback). Nothing is skipped.

The ``--engine pysd`` runs (a PySD translation each, seconds per model) cover every model when
``TENOR_SUITE=full``; by default a fixed slice of every fifth model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from suite import (
    CANONICAL_PROBLEMS,
    CASES,
    PYSD_DIVERGENCES,
    SHARED_WITH_PYSD,
    compare,
    read_canonical,
    run_tenor,
    run_tenor_pysd,
)

from tenor.core.errors import TenorError

RESULTS = json.loads((Path(__file__).parent / "results.json").read_text())
RUNNERS = {"tenor": run_tenor, "tenor-pysd": run_tenor_pysd}
FULL = os.environ.get("TENOR_SUITE") == "full"


def _params(engine: str) -> list:
    cases = CASES if engine == "tenor" or FULL else CASES[::5]
    return [pytest.param(c, id=c.id) for c in cases]


def _check(case, engine: str) -> None:
    expected = RESULTS.get(case.id, {}).get(engine)
    assert expected is not None, f"{case.id} has no recorded result for {engine}: run scripts/test_models_table.py"
    run = RUNNERS[engine]
    if expected.startswith("error:"):
        if case.canonical is None:
            return  # the suite has no canonical output for it: nothing to compare (recorded as such)
        with pytest.raises(TenorError):
            run(case.path)
        return
    result = compare(run(case.path), read_canonical(case.canonical))
    if expected == "pass":
        assert result is None, result
    else:
        assert result is not None, f"{case.id} now matches its canonical output: re-run scripts/test_models_table.py"
        # no silent wrong answer: every difference is a known problem of the canonical file or of PySD
        shared = SHARED_WITH_PYSD if engine == "tenor" else PYSD_DIVERGENCES
        explained = {**CANONICAL_PROBLEMS, **{k: v for k, v in PYSD_DIVERGENCES.items() if k in shared}}
        assert case.id in explained, f"{case.id} runs but differs from its canonical output: {result}"


@pytest.mark.parametrize("case", _params("tenor"))
def test_tenor_engine(case):
    _check(case, "tenor")


@pytest.mark.parametrize("case", _params("tenor-pysd"))
def test_engine_pysd(case):
    _check(case, "tenor-pysd")


def test_every_model_of_the_suite_has_a_recorded_result():
    engines = ("tenor", "tenor-pysd", "pysd", "simlin")
    missing = [(c.id, e) for c in CASES for e in engines if e not in RESULTS.get(c.id, {})]
    assert not missing, missing[:5]
