"""Streamed sweeps: the same file as writing the whole table at once, memory bounded by the chunk."""

from __future__ import annotations

import shutil
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sf_support import MODELS

from stocks_flows.engine import Run
from stocks_flows.load import load_model
from stocks_flows.scenarios import grid, monte_carlo, parse_grid, parse_sample, run_scenarios, write_table
from stocks_flows.summary import summarize
from stocks_flows.sweep_io import SummaryStream, scenario_chunks, write_runs
from tenor.cli.main import main
from tenor.core.errors import SimulationError


@pytest.fixture(scope="module")
def teacup():
    return load_model(MODELS / "teacup.yaml")


def _mc(n: int, seed: int = 3):
    draws = [parse_sample("room_temperature=normal(70,5)"), parse_sample("characteristic_time=uniform(5,15)")]
    return monte_carlo(draws, samples=n, seed=seed)


@pytest.mark.parametrize("variables", [None, ["teacup_temperature"]])
def test_parquet_is_the_file_the_whole_table_gives(teacup, tmp_path, variables):
    table = _mc(50)
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    write_table(run_scenarios(teacup, table, variables=variables).to_frame(), old)
    assert write_runs(scenario_chunks(teacup, table, chunk_size=16, variables=variables), new) == (50, 241)
    assert pq.read_schema(new).equals(pq.read_schema(old), check_metadata=True)
    pd.testing.assert_frame_equal(pd.read_parquet(new), pd.read_parquet(old), check_exact=True)
    meta = pq.ParquetFile(new).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [16 * 241] * 3 + [2 * 241]


def test_a_parameter_named_like_a_variable_and_subscripts_keep_the_old_columns(tmp_path):
    model = load_model(MODELS / "tenors.yaml")
    stock = next(s for s in model.stocks if "[" in s)
    table = grid([parse_grid(f"{stock}=1:3:3"), parse_grid("sale_rate=0.1:0.2:2")])
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    write_table(run_scenarios(model, table).to_frame(), old)
    write_runs(scenario_chunks(model, table, chunk_size=4), new)
    assert pq.read_schema(new).equals(pq.read_schema(old), check_metadata=True)
    pd.testing.assert_frame_equal(pd.read_parquet(new), pd.read_parquet(old), check_exact=True)


def test_csv_is_byte_for_byte_the_same(teacup, tmp_path):
    table = _mc(23)
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    write_table(run_scenarios(teacup, table, times=[0, 7.5, 30]).to_frame(), old)
    write_runs(scenario_chunks(teacup, table, chunk_size=5, times=[0, 7.5, 30]), new)
    assert new.read_bytes() == old.read_bytes()


def test_a_failing_chunk_leaves_no_file_and_keeps_the_old_one(teacup, tmp_path):
    out = tmp_path / "runs.parquet"
    out.write_bytes(b"previous")
    table = grid([parse_grid("characteristic_time=-8:0:9")])  # the last scenario divides by zero
    with pytest.raises(SimulationError):
        write_runs(scenario_chunks(teacup, table, chunk_size=2), out)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.parquet"]


def test_cli_output_does_not_depend_on_the_chunk_size(tmp_path):
    model = tmp_path / "teacup.yaml"
    shutil.copy(MODELS / "teacup.yaml", model)
    outs = []
    for size in ("7", "4096"):
        for suffix in ("parquet", "csv"):
            out = tmp_path / f"{size}.{suffix}"
            args = ["sweep", str(model), "--sample", "room_temperature=uniform(60,80)", "--samples", "30"]
            assert main([*args, "--seed", "5", "--chunk-size", size, "--out", str(out)]) == 0
            outs.append(out)
    pd.testing.assert_frame_equal(pd.read_parquet(outs[0]), pd.read_parquet(outs[2]), check_exact=True)
    assert outs[1].read_bytes() == outs[3].read_bytes()


def _engine_layout(values: np.ndarray) -> np.ndarray:
    """[scenario, time, variable] with scenarios innermost in memory, as the engine returns them."""
    out = np.empty((values.shape[1], values.shape[2], values.shape[0])).transpose(2, 0, 1)
    out[...] = values
    return out


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 60),
    n_time=st.integers(1, 30),
    n_var=st.integers(1, 3),
    chunk=st.integers(1, 17),
    memory=st.sampled_from([8, 300, 5_000, 10**9]),
    data=st.data(),
)
def test_summary_stream_equals_summarize_of_the_whole_run(n, n_time, n_var, chunk, memory, data, tmp_path_factory):
    """Spilled or held, in any chunking and arrival order, the summary is summarize()'s, value for value."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(100, 30, size=(n, n_time, n_var)) * rng.lognormal(0, 3, size=(n, 1, 1))
    time = np.linspace(0, 5, n_time)
    names = [f"v{j}" for j in range(n_var)]
    units = {"v0": "degF"}
    whole = summarize(Run(time, names, _engine_layout(values), [""] * n), [5, 50, 97.5], units=units)
    stream = SummaryStream(n, [5, 50, 97.5], units=units, memory=memory, spill_dir=tmp_path_factory.mktemp("s"))
    starts = list(range(0, n, chunk))
    for lo in data.draw(st.permutations(starts)):
        part = values[lo : lo + chunk]
        stream.add(lo, Run(time, names, _engine_layout(part), [""] * len(part)))
    pd.testing.assert_frame_equal(stream.summary(), whole, check_exact=True)


@pytest.mark.parametrize("memory", [10**9, 20_000])
def test_summary_of_streamed_teacup_chunks_is_the_summary_of_one_run(teacup, tmp_path, memory):
    table = _mc(37)
    whole = summarize(run_scenarios(teacup, table), [10, 90])
    stream = SummaryStream(37, [10, 90], memory=memory, spill_dir=tmp_path)
    done = 0
    for run in scenario_chunks(teacup, table, chunk_size=10):
        stream.add(done, run)
        done += len(run.scenarios)
    assert stream._spilled if memory < 10**6 else not stream._spilled
    pd.testing.assert_frame_equal(stream.summary(), whole, check_exact=True)
    assert list(tmp_path.iterdir()) == []


def test_summary_stream_refuses_a_missing_chunk():
    stream = SummaryStream(3, [50])
    stream.add(0, Run(np.array([0.0]), ["x"], np.zeros((2, 1, 1)), ["a", "b"]))
    with pytest.raises(Exception, match="expected 3 scenarios, got 2"):
        stream.summary()


def _peak(n: int, tmp_path) -> int:
    teacup = load_model(MODELS / "teacup.yaml")
    tracemalloc.start()
    try:
        write_runs(scenario_chunks(teacup, _mc(n), chunk_size=250), tmp_path / f"{n}.parquet")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_is_bounded_by_the_chunk_not_by_the_scenarios(tmp_path):
    small, large = _peak(500, tmp_path), _peak(3000, tmp_path)
    # holding every scenario would take 3000 x 241 x 6 columns x 8 bytes = 35 MB for the larger sweep
    assert large < 1.5 * small
    assert large < 3000 * 241 * 6 * 8 / 3
