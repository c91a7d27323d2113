"""``tenor serve`` as a real server: started as a process, reached over HTTP, watching a file that changes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="uvicorn (the serve extra) is not installed")
pytest.importorskip("watchfiles", reason="watchfiles (the serve extra) is not installed")

from tests.app.test_serve_api import EXAMPLE, GROWTH

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(path: Path, *args: str, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``python -m tenor serve PATH``; yield its URL once it prints the serving line; stop it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tenor", "serve", str(path), "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.time() + timeout
        line = ""
        while time.time() < deadline:
            line = proc.stdout.readline()
            if line or proc.poll() is not None:
                break
        assert line == f"serving http://127.0.0.1:{port}/\n", (line, proc.poll(), proc.stderr.read())
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_for(url: str, check, timeout: float = 10) -> tuple[dict, float]:
    """Poll ``/api/state`` until ``check(state)``; return the state and the seconds it took."""
    start = time.time()
    while True:
        state = get(url + "/api/state")
        if check(state):
            return state, time.time() - start
        if time.time() - start > timeout:
            raise AssertionError(f"state never passed the check: revision {state['revision']}, {state['errors']}")
        time.sleep(0.05)


def test_real_server_rereads_a_changing_model(tmp_path: Path) -> None:
    model = tmp_path / "growth.yaml"
    model.write_text(GROWTH)
    with running(model) as (url, _):
        state = get(url + "/api/state")
        assert state["kind"] == "model" and state["errors"] == [] and state["revision"] == 1
        status, out = post(url + "/api/simulate", {"constants": {"K": 60}, "scenario": None, "variables": ["fish"]})
        assert status == 200 and out["series"]["fish"][-1] == pytest.approx(60, rel=1e-3)
        with urllib.request.urlopen(url + "/", timeout=10) as r:
            assert b"/static/app.js" in r.read()

        # an edit on disk: the revision grows and the model answers with the new value
        model.write_text(GROWTH.replace("value: 100", "value: 80"))
        state, took = wait_for(url, lambda s: s["revision"] >= 2 and s["model"] is not None)
        assert took < 2.0, f"re-read took {took:.2f} s"  # well under a second when the machine is not shared
        assert next(c for c in state["model"]["constants"] if c["name"] == "K")["value"] == 80
        status, out = post(url + "/api/simulate", {"constants": {}, "variables": ["fish"]})
        assert out["series"]["fish"][-1] == pytest.approx(80, rel=1e-3)

        # broken: located errors; simulate says why
        model.write_text(GROWTH.replace("to: fish", "to: fishes"))
        state, _ = wait_for(url, lambda s: bool(s["errors"]))
        assert state["errors"][0]["file"] == "growth.yaml" and state["errors"][0]["line"] == 9
        status, out = post(url + "/api/simulate", {"constants": {}})
        assert status == 400

        # and back: errors gone
        revision = state["revision"]
        model.write_text(GROWTH)
        state, _ = wait_for(url, lambda s: s["revision"] > revision and not s["errors"])
        assert state["model"] is not None

        # an editor's save by rename (write elsewhere, move over) is seen too
        revision = state["revision"]
        (tmp_path / ".growth.yaml.swp").write_text(GROWTH.replace("value: 0.6", "value: 0.7"))
        os.replace(tmp_path / ".growth.yaml.swp", model)
        state, _ = wait_for(url, lambda s: s["revision"] > revision)
        assert next(c for c in state["model"]["constants"] if c["name"] == "r")["value"] == 0.7


def test_real_server_on_the_example_causal_spec(tmp_path: Path) -> None:
    spec = tmp_path / "causal.yaml"
    shutil.copy(EXAMPLE / "causal.yaml", spec)
    with running(spec) as (url, _):
        state = get(url + "/api/state")
        assert state["kind"] == "causal" and state["errors"] == []
        status, out = post(url + "/api/paths", {"query": "unwind_on_long_end", "given": []})
        assert status == 200 and out["identification"]["by"] == "frontdoor"
        text = spec.read_text()
        spec.write_text(text.replace("  usd -> usdjpy: {sign: +, lag: 1 day}\n", "  usd -> usdjpy: {sign: plus}\n"))
        state, _ = wait_for(url, lambda s: bool(s["errors"]))
        err = state["errors"][0]
        assert err["file"] == "causal.yaml" and err["line"] is not None and "sign" in (err["key"] or err["message"])
        spec.write_text(text)
        wait_for(url, lambda s: not s["errors"] and s["causal"] is not None)


def test_port_in_use_is_bad_input(tmp_path: Path) -> None:
    model = tmp_path / "growth.yaml"
    model.write_text(GROWTH)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tenor", "serve", str(model), "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_missing_path_is_bad_input(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tenor", "serve", str(tmp_path / "nope.yaml"), "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "file not found" in done.stderr
