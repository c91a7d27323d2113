"""Every model of the XMILE conformance corpus, through both engines, against its canonical output.

The corpus README lists every model in manifest.json as passing with PySD 3.14.3 under the rule in
``sf_support.assert_matches_canonical``; both tenor engines are held to the same rule.
"""

from __future__ import annotations

import pytest
from sf_support import CONFORMANCE, assert_matches_canonical, manifest, read_canonical

from stocks_flows.engine import simulate
from stocks_flows.pysd_runner import run_pysd
from stocks_flows.xmile import read_xmile

MODELS = manifest()
IDS = [m["model"].removeprefix("xmile/") for m in MODELS]


@pytest.mark.parametrize("entry", MODELS, ids=IDS)
def test_vector_engine_matches_canonical(entry):
    model = read_xmile(CONFORMANCE / entry["model"])
    result = simulate(model).frame(0)
    assert_matches_canonical(result, read_canonical(CONFORMANCE / entry["canonical"]), model.time)


@pytest.mark.parametrize("entry", MODELS, ids=IDS)
def test_pysd_runner_matches_canonical(entry):
    model = read_xmile(CONFORMANCE / entry["model"])
    result = run_pysd(model)
    assert_matches_canonical(result, read_canonical(CONFORMANCE / entry["canonical"]), model.time)


def test_manifest_lists_every_model_file():
    files = {
        p.relative_to(CONFORMANCE).as_posix()
        for p in (CONFORMANCE / "xmile").rglob("*")
        if p.suffix in (".xmile", ".stmx")
    }
    assert files == {m["model"] for m in MODELS}


@pytest.mark.parametrize("entry", MODELS, ids=IDS)
def test_export_of_every_corpus_model_reads_back_and_runs_in_pysd(entry, tmp_path):
    from sf_support import assert_runs_equal

    from stocks_flows.xmile import write_xmile

    model = read_xmile(CONFORMANCE / entry["model"])
    path = tmp_path / "exported.xmile"
    write_xmile(model, path)
    back = read_xmile(path)
    original = simulate(model).frame(0)
    columns = list(original.columns)
    times = original["time"].to_numpy()
    again = simulate(back).frame(0)[columns]
    assert_runs_equal(again.to_numpy(), original.to_numpy(), columns, times)
    reference = run_pysd(back)[columns]
    assert_runs_equal(reference.to_numpy(), original.to_numpy(), columns, times)
