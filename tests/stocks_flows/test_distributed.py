"""Sweeps on a Dask cluster: the same results as a local run, scenario by scenario, or no dataset at all.

Two real clusters on 127.0.0.1: a ``LocalCluster`` of two worker processes, and
a scheduler and two workers started as separate processes with ``dask
scheduler`` / ``dask worker`` (the venv's Python). Everything is started and
stopped here, with timeouts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sf_support import MODELS

from stocks_flows.load import load_model
from stocks_flows.scenarios import grid, monte_carlo, parse_grid, parse_sample, run_scenarios
from stocks_flows.summary import summarize
from tenor.cli.main import main
from tenor.core.errors import SimulationError, TenorError

distributed = pytest.importorskip("distributed", reason="Dask distributed (the distributed extra) is not installed")

from stocks_flows.distributed import connect, summary, sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
WORKER_OPTIONS = ["--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]


@pytest.fixture(scope="module")
def teacup():
    return load_model(MODELS / "teacup.yaml")


@pytest.fixture(scope="module")
def table():
    draws = [parse_sample("room_temperature=normal(70,5)"), parse_sample("characteristic_time=uniform(5,15)")]
    return monte_carlo(draws, samples=90, seed=11)


@pytest.fixture(scope="module")
def local_client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    client = distributed.Client(cluster, timeout=TIMEOUT)
    try:
        client.wait_for_workers(2, timeout=TIMEOUT)
        yield client
    finally:
        client.close()
        cluster.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def scheduler_address():
    """``dask scheduler`` and two ``dask worker`` processes; the worktree's code on their path."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": ROOT}
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            start_new_session=True,
            **quiet,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [*dask, "worker", address, *WORKER_OPTIONS],
                    start_new_session=True,
                    **quiet,
                )
            )
        with distributed.Client(address, timeout=TIMEOUT) as client:
            client.wait_for_workers(2, timeout=TIMEOUT)
        yield address
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)


def _local(model, table, **options) -> pd.DataFrame:
    return run_scenarios(model, table, **options).to_frame()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_local_cluster_dataset_equals_the_local_run(local_client, teacup, table, tmp_path):
    out = tmp_path / "runs.parquet"
    assert sweep(teacup, table, client=local_client, path=out, chunk_size=20) == (90, 241)
    assert sorted(p.name for p in out.iterdir()) == [f"part-{i:05d}.parquet" for i in range(5)]
    pd.testing.assert_frame_equal(pd.read_parquet(out), _local(teacup, table), check_exact=True)
    first = pd.read_parquet(out / "part-00001.parquet")
    assert first["scenario"].iloc[0] == "s20" and len(first) == 20 * 241
    assert _leftovers(tmp_path) == []


def test_local_cluster_keeps_only_what_is_asked_and_summarises(local_client, teacup, table, tmp_path):
    options = {"variables": ["teacup_temperature"], "times": [0, 10, 30], "scenario": "hot_tea"}
    out = tmp_path / "small.parquet"
    sweep(teacup, table, client=local_client, path=out, chunk_size=32, **options)
    pd.testing.assert_frame_equal(pd.read_parquet(out), _local(teacup, table, **options), check_exact=True)
    got = summary(teacup, table, client=local_client, percentiles=[5, 50, 95], chunk_size=16, memory=4_000)
    want = summarize(run_scenarios(teacup, table), [5, 50, 95])
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_failing_chunk_leaves_no_dataset_and_the_old_one_intact(local_client, teacup, tmp_path):
    out = tmp_path / "runs.parquet"
    good = grid([parse_grid("characteristic_time=5:15:12")])
    sweep(teacup, good, client=local_client, path=out, chunk_size=5)
    before = pd.read_parquet(out)
    bad = grid([parse_grid("characteristic_time=-10:0:21")])  # the last scenario divides by zero
    with pytest.raises(SimulationError, match=r"characteristic_time|heat_loss|teacup"):
        sweep(teacup, bad, client=local_client, path=out, chunk_size=3)
    pd.testing.assert_frame_equal(pd.read_parquet(out), before)
    assert _leftovers(tmp_path) == []
    fresh = tmp_path / "fresh.parquet"
    with pytest.raises(SimulationError):
        sweep(teacup, bad, client=local_client, path=fresh, chunk_size=3)
    assert not fresh.exists() and _leftovers(tmp_path) == []


def test_a_new_sweep_replaces_a_dataset_but_not_other_folders(local_client, teacup, table, tmp_path):
    out = tmp_path / "runs.parquet"
    sweep(teacup, table, client=local_client, path=out, chunk_size=10)
    small = grid([parse_grid("room_temperature=60:80:3")])
    sweep(teacup, small, client=local_client, path=out, chunk_size=10)
    assert [p.name for p in out.iterdir()] == ["part-00000.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(out), _local(teacup, small), check_exact=True)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(TenorError, match=r"keep\.txt"):
        sweep(teacup, small, client=local_client, path=other)
    assert (other / "keep.txt").read_text() == "mine"


def test_separate_scheduler_and_workers_give_the_local_result(scheduler_address, teacup, table, tmp_path):
    out = tmp_path / "runs.parquet"
    with connect(scheduler_address) as client:
        sweep(teacup, table, client=client, path=out, chunk_size=25)
    pd.testing.assert_frame_equal(pd.read_parquet(out), _local(teacup, table), check_exact=True)


def test_cli_scheduler_address_writes_the_dataset_of_the_local_sweep(scheduler_address, tmp_path):
    model = tmp_path / "teacup.yaml"
    shutil.copy(MODELS / "teacup.yaml", model)
    args = ["sweep", str(model), "--sample", "room_temperature=uniform(60,80)", "--samples", "50", "--seed", "2"]
    args += ["--variables", "teacup_temperature", "--chunk-size", "16"]
    assert main([*args, "--out", str(tmp_path / "local.parquet")]) == 0
    assert main([*args, "--scheduler", scheduler_address, "--out", str(tmp_path / "cluster")]) == 0
    assert len(list((tmp_path / "cluster").iterdir())) == 4
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "cluster"), pd.read_parquet(tmp_path / "local.parquet"), check_exact=True
    )
    assert main([*args, "--scheduler", scheduler_address, "--out", str(tmp_path / "x.csv")]) == 2
    assert main([*args, "--scheduler", "local:zero", "--out", str(tmp_path / "y")]) == 2
    assert main([*args, "--scheduler", "127.0.0.1", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y").exists()


def test_cli_local_cluster_summary_equals_the_local_summary(tmp_path):
    model = tmp_path / "teacup.yaml"
    shutil.copy(MODELS / "teacup.yaml", model)
    args = ["sweep", str(model), "--sample", "characteristic_time=uniform(5,15)", "--samples", "40", "--seed", "4"]
    args += ["--summary", "--chunk-size", "7"]
    assert main([*args, "--out", str(tmp_path / "here.csv")]) == 0
    assert main([*args, "--scheduler", "local:2", "--out", str(tmp_path / "there.csv")]) == 0
    assert (tmp_path / "there.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()


def test_an_unreachable_scheduler_is_a_clear_error():
    start = time.monotonic()
    with pytest.raises(TenorError, match="cannot reach the Dask scheduler"):
        with connect(f"tcp://127.0.0.1:{_free_port()}", timeout=2):
            pass
    assert time.monotonic() - start < 30


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_whole(scheduler_address, teacup, tmp_path):
    """Kill one worker process after the first chunk arrives: Dask reruns its chunks elsewhere."""
    table = monte_carlo([parse_sample("room_temperature=normal(70,5)")], samples=600, seed=3)
    out = tmp_path / "runs.parquet"
    killed: list[int] = []
    with connect(scheduler_address) as client:

        def kill_one(_n: int) -> None:
            if not killed:
                pids = client.run(os.getpid)
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        try:
            sweep(teacup, table, client=client, path=out, chunk_size=20, progress=kill_one)
        except Exception:  # a clean failure is allowed: then nothing is at the target
            assert not out.exists() and _leftovers(tmp_path) == []
            raise
        assert killed
        client.wait_for_workers(2, timeout=TIMEOUT)  # the nanny restarts the worker
        assert killed[0] not in client.run(os.getpid).values()
    pd.testing.assert_frame_equal(pd.read_parquet(out), _local(teacup, table), check_exact=True)
    assert _leftovers(tmp_path) == []
