"""Fuzzing the stock-and-flow loaders, the equation parser, and a short run.

Mutations of the conformance models (tests/data/conformance), the models in
tests/data/stocks_flows and the bundled example's stocks.yaml go through each
loader. Every input must give a result or a :class:`~tenor.core.errors.TenorError`
that names the file (and the line, where the loader knows it); never another
exception, and never more than a few seconds. The mutations are those of
``scripts/fuzz_models.py`` (the long campaign), driven here by hypothesis with
a fixed seed and a small budget.
"""

from __future__ import annotations

import importlib.util
import random
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from stocks_flows.expr import SyntaxProblem, parse_expression, to_text
from stocks_flows.load import load_model
from tenor.core.errors import SpecError, TenorError
from tests.fuzz.bounds import bounded as time_bound

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fuzz_models", ROOT / "scripts" / "fuzz_models.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)
fuzz.warm_up()  # the campaign's workers are forked from here: they start with PySD imported

BOUND = 20  # seconds per input: far above what one takes; a hang fails the test


def bounded(seconds: int = BOUND):
    return time_bound(seconds)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def mutated(loader: str) -> st.SearchStrategy[bytes]:
    """A seed of ``loader``, edited 1-4 times by the campaign's mutations (hypothesis picks the seed)."""
    pool = fuzz.seeds(loader)
    return st.builds(
        lambda i, r, rounds: fuzz.mutate(pool[i], random.Random(r), rounds),
        st.integers(0, len(pool) - 1),
        st.integers(0, 2**32),
        st.integers(1, 4),
    )


def check_refusal(err: TenorError, path: Path, *, line_expected: bool) -> None:
    """A refusal names the file; a spec error with a line names a line inside the file."""
    if isinstance(err, SpecError):
        assert err.file == str(path), str(err)
        if err.line is not None:
            assert 1 <= err.line <= path.read_bytes().count(b"\n") + 1, str(err)
        if line_expected:
            assert err.line is not None, str(err)
    else:  # a run or analysis error: the variable, time and scenario are in the message
        assert type(err).__name__ in ("SimulationError", "NonFiniteError", "GraphError"), repr(err)


def load_and_run(path: Path, *, line_expected: bool, run: bool) -> None:
    with bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = load_model(path)
            if run:
                fuzz.short_run(model, loops=False)
        except TenorError as err:
            check_refusal(err, path, line_expected=line_expected)


@seed(20261129)
@FUZZ
@given(data=mutated("yaml"))
def test_yaml_loader(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("yaml") / "model.yaml"
    path.write_bytes(data)
    load_and_run(path, line_expected=False, run=False)


@seed(20261129)
@FUZZ
@given(data=mutated("simulate"))
def test_yaml_model_build_and_short_run(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "model.yaml"
    path.write_bytes(data)
    load_and_run(path, line_expected=False, run=True)


@seed(20261129)
@FUZZ
@given(data=mutated("expr"))
def test_equation_parser(data):
    text = data.decode("utf-8", errors="replace")
    with bounded():
        try:
            tree = parse_expression(text)
        except SyntaxProblem as problem:
            assert problem.line >= 1 and problem.column >= 1
            assert problem.line <= text.count("\n") + 1
            return
    assert parse_expression(to_text(tree)) == tree  # what parses, renders and parses back the same


@seed(20261129)
@FUZZ
@given(data=mutated("xmile"))
def test_xmile_loader_and_short_run(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("xmile") / "model.xmile"
    path.write_bytes(data)
    load_and_run(path, line_expected=False, run=True)


@seed(20261129)
@FUZZ
@given(data=mutated("vensim"))
def test_vensim_loader_and_short_run(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("mdl") / "model.mdl"
    path.write_bytes(data)
    load_and_run(path, line_expected=False, run=True)


@pytest.mark.parametrize("loader", fuzz.LOADERS)
def test_campaign_counts_outcomes_in_a_worker(loader, tmp_path):
    """The campaign script's worker loop: a few inputs, every one counted, none a bug."""
    counts = fuzz.campaign(loader, 6, 3, timeout=60, memory_bytes=4 * 1024**3, out=tmp_path)
    assert sum(counts.values()) == 6
    assert set(counts) <= {"ok", "refused"}, counts


def test_campaign_counts_a_hang_and_goes_on():
    """An input over the time limit counts as a hang; the worker is replaced and the next input runs."""
    worker = fuzz.Worker(4 * 1024**3)
    data = (ROOT / "tests" / "data" / "stocks_flows" / "teacup.mdl").read_bytes()
    try:
        assert worker.run("vensim", data * 300, timeout=0.01) == "hang"  # parsing 300 models takes longer
        assert worker.run("vensim", data, timeout=60) == "ok"
    finally:
        worker.close()
