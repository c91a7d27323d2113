"""The folder PySD's generated module lives in: private, and gone after the run, however it ends."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stocks_flows.load import parse_model
from stocks_flows.pysd_runner import translated
from stocks_flows.pysd_safety import FOLDER_PREFIX, clean_stale_folders, private_folder

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_folder_is_private_named_after_the_process_and_removed(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with private_folder() as folder:
        assert folder.parent == tmp_path
        assert folder.name.startswith(f"{FOLDER_PREFIX}{os.getpid()}-")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert not folder.exists()
    assert {s: signal.getsignal(s) for s in before} == before, "the previous handlers are put back"
    with pytest.raises(RuntimeError), private_folder() as folder:
        raise RuntimeError
    assert not folder.exists()


def test_the_translated_module_lives_only_in_the_private_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    model = parse_model("time: {stop: 2}\nstocks: {s: {initial: 1}}\nflows: {f: {from: s, equation: s / 2}}\n")
    with translated(model) as fresh:
        assert fresh.py_file.name == "model.py"
        assert fresh.py_file.parent.name.startswith(FOLDER_PREFIX)
        assert stat.S_IMODE(fresh.py_file.parent.stat().st_mode) == 0o700
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change", ["macro module edited", "module added", "macro module removed"])
def test_nothing_but_the_checked_modules_is_ever_loaded(tmp_path, monkeypatch, change):
    """A macro's module is loaded by the model's: every module in the folder must be as it was checked."""
    from stocks_flows.pysd_runner import _file_model
    from tenor.core.errors import SimulationError
    from tests.security import payloads as p

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = tmp_path / "model.mdl"
    path.write_text(p.mdl("plain", macro=True), encoding="utf-8")
    with _file_model(path) as (_safe, fresh):
        folder = next(tmp_path.glob(f"{FOLDER_PREFIX}*"))
        assert sorted(f.name for f in folder.glob("*.py")) == ["macro_0.py", "model.py"]
        fresh()  # as checked: loads
        macro = folder / "macro_0.py"
        if change == "macro module edited":
            macro.write_text(macro.read_text(encoding="utf-8") + "\nx = 1\n", encoding="utf-8")
        elif change == "module added":
            (folder / "other.py").write_text("x = 1\n", encoding="utf-8")
        else:
            macro.unlink()
        with pytest.raises(SimulationError, match="changed after it was checked"):
            fresh()


def test_stale_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / f"{FOLDER_PREFIX}{_dead_pid()}-abc"
    live = tmp_path / f"{FOLDER_PREFIX}{os.getppid()}-abc"
    mine = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-abc"
    other = tmp_path / "tenor-pysd-notapid"
    for folder in (dead, live, mine, other):
        folder.mkdir()
        (folder / "model.py").write_text("x = 1\n")
    assert clean_stale_folders(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and mine.exists() and other.exists()


def test_the_next_run_removes_a_dead_runs_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = tmp_path / f"{FOLDER_PREFIX}{_dead_pid()}-xyz"
    dead.mkdir()
    (dead / "model.py").write_text("x = 1\n")
    with private_folder():
        assert not dead.exists()


SLOW = """
time: {stop: 2000000, dt: 1}
stocks: {s: {initial: 1}}
flows: {f: {from: s, equation: s * k}}
constants: {k: 0.000001}
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_pysd_run_leaves_no_folder(signum, tmp_path):
    pytest.importorskip("pysd", reason="PySD (stocks_flows extra) is missing, so no model can reach it")
    temp = tmp_path / "tmp"
    temp.mkdir()
    model = tmp_path / "slow.yaml"
    model.write_text(SLOW)
    env = {**os.environ, "TMPDIR": str(temp)}
    command = [
        sys.executable,
        "-m",
        "tenor",
        "simulate",
        str(model),
        "--engine",
        "pysd",
        "--out",
        str(tmp_path / "o.csv"),
    ]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(temp.glob(f"{FOLDER_PREFIX}*/model.py")):
            assert run.poll() is None, "the run ended before it could be stopped"
            assert time.monotonic() < deadline, "the run never made its folder"
            time.sleep(0.02)
        run.send_signal(signum)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode != 0
    assert list(temp.glob(f"{FOLDER_PREFIX}*")) == []
    assert not (tmp_path / "o.csv").exists()
