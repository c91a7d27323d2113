"""The JSON API of ``tenor serve``, through Starlette's test client: each endpoint, bad paths, invalid files,
concurrent slider requests."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="starlette (the serve extra) is not installed")
pytest.importorskip("httpx", reason="httpx (dev extra: the ASGI test client) is not installed")

with warnings.catch_warnings():  # newer Starlette suggests another HTTP client; httpx is what the test client takes
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tenor.app.serve import (
    PathRefused,
    Superseded,
    Workspace,
    _is_loopback,
    create_app,
    detect_kind,
    safe_path,
)
from tenor.core.errors import SpecError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "duration_trade"

# Logistic growth: the reinforcing loop (births) dominates until fish = K/2, the balancing loop
# (crowding) after it (Schoenberg, Davidsen & Eberlein 2020, the LTM check on logistic growth).
GROWTH = """\
name: growth
time: {start: 0, stop: 20, dt: 0.125, save_step: 0.5, unit: year}
constants:
  r: {value: 0.6, units: 1/year, source: "Textbook logistic growth rate."}
  K: {value: 100, units: fish, assumption: "the pond holds about a hundred fish."}
stocks:
  fish: {initial: 2, units: fish}
flows:
  births: {to: fish, equation: r * fish * room, units: fish/year}
auxiliaries:
  room: {equation: 1 - fish / K, units: "1"}
scenarios:
  crowded: {description: "A smaller pond.", constants: {K: 40}}
"""


@pytest.fixture
def growth(tmp_path: Path) -> Path:
    path = tmp_path / "growth.yaml"
    path.write_text(GROWTH)
    return path


@pytest.fixture
def model_client(growth: Path):
    ws = Workspace(growth)
    ws.reload()
    return ws, TestClient(create_app(ws, watch=False))


@pytest.fixture(scope="module")
def causal_client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("causal")
    shutil.copy(EXAMPLE / "causal.yaml", folder / "causal.yaml")
    ws = Workspace(folder / "causal.yaml")
    ws.reload()
    return ws, TestClient(create_app(ws, watch=False))


# --- kinds and paths ---------------------------------------------------------------------------


def test_detect_kind(tmp_path: Path, growth: Path) -> None:
    assert detect_kind(growth) == "model"
    assert detect_kind(EXAMPLE / "causal.yaml") == "causal"
    assert detect_kind(EXAMPLE) == "folder"
    (tmp_path / "m.mdl").write_text("x = 1 ~~|\n")
    assert detect_kind(tmp_path / "m.mdl") == "model"
    (tmp_path / "other.yaml").write_text("title: nothing here\n")
    with pytest.raises(SpecError, match="cannot tell"):
        detect_kind(tmp_path / "other.yaml")
    with pytest.raises(SpecError, match="not found"):
        Workspace(tmp_path / "missing.yaml")


def test_safe_path_refuses_leaving_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "served"
    root.mkdir()
    assert safe_path(root, "a.yaml") == (root / "a.yaml").resolve()
    assert safe_path(root, "sub/a.yaml") == (root / "sub" / "a.yaml").resolve()
    for bad in ("../a.yaml", "sub/../../a.yaml", "/etc/passwd", str(tmp_path / "a.yaml"), "", "~/a.yaml", "C:\\x"):
        with pytest.raises(PathRefused):
            safe_path(root, bad)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "file_link.yaml").symlink_to(outside / "f.yaml")
    with pytest.raises(PathRefused, match="symbolic link"):
        safe_path(root, "link/a.yaml")
    with pytest.raises(PathRefused, match="symbolic link"):
        safe_path(root, "file_link.yaml")


def test_loopback_hosts() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.4") and not _is_loopback("example.org")


# --- state ---------------------------------------------------------------------------------------


def test_state_of_a_model(model_client) -> None:
    ws, client = model_client
    state = client.get("/api/state").json()
    assert state["kind"] == "model" and state["errors"] == [] and state["revision"] == 1
    model = state["model"]
    assert [c["name"] for c in model["constants"]] == ["r", "K"]
    k = next(c for c in model["constants"] if c["name"] == "K")
    assert (k["min"], k["max"], k["value"]) == (0.0, 200.0, 100.0)
    assert k["origin_kind"] == "assumption" and "hundred fish" in k["origin"]
    assert [s["name"] for s in model["scenarios"]] == ["base", "crowded"]
    assert model["plot"] == ["fish"]
    assert "<svg" in model["stockflow_svg"] and "<svg" in model["cld_svg"]
    assert client.get("/api/revision").json() == {"revision": 1, "errors": 0}
    ws.reload()
    assert client.get("/api/state").json()["revision"] == 2


def test_state_of_a_causal_spec(causal_client) -> None:
    _, client = causal_client
    state = client.get("/api/state").json()
    assert state["kind"] == "causal" and state["errors"] == [] and state["model"] is None
    causal = state["causal"]
    assert "<svg" in causal["dag_svg"] and "ust_long_end" in causal["dag_svg"]
    names = {q["name"]: q for q in causal["queries"]}
    assert names["dollar_on_yen"]["identification"]["identifiable"] is False
    assert names["intervention_on_long_end"]["identification"]["minimal_adjustment_sets"] == [["yen_pressure"]]
    assert all(c["holds"] is True for c in causal["check"]["claims"])  # as `tenor run` reports for the example


def test_state_of_the_example_folder_reads_report_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "ex"
    folder.mkdir()
    shutil.copy(EXAMPLE / "causal.yaml", folder / "causal.yaml")
    (folder / "report.yaml").write_text("title: x\ncausal: ../outside.yaml\nmodel: stocks.yaml\n")
    ws = Workspace(folder)
    snap = ws.reload()
    assert snap.kind == "folder"
    assert any("leaves the served folder" in e["message"] for e in snap.errors)
    (folder / "report.yaml").write_text("title: x\ncausal: causal.yaml\nmodel: stocks.yaml\n")
    (folder / "stocks.yaml").write_text(GROWTH)
    snap = ws.reload()
    assert snap.errors == [] and snap.causal is not None and snap.model_view is not None


def test_a_folder_rereads_only_the_file_that_changed(tmp_path: Path) -> None:
    folder = tmp_path / "ex"
    folder.mkdir()
    shutil.copy(EXAMPLE / "causal.yaml", folder / "causal.yaml")
    (folder / "stocks.yaml").write_text(GROWTH)
    ws = Workspace(folder)
    first = ws.reload()
    text = (folder / "causal.yaml").read_text()
    (folder / "causal.yaml").write_text(text.replace("label: Broad dollar", "label: Broad dollar (DXY)"))
    second = ws.reload()
    assert second.revision == 2 and second.model is first.model and second.spec is not first.spec
    assert "Broad dollar (DXY)" in second.causal["dag_svg"]
    (folder / "stocks.yaml").write_text(GROWTH.replace("value: 100", "value: 90"))
    third = ws.reload()
    assert third.model is not first.model and third.spec is second.spec
    (folder / "causal.yaml").unlink()
    (folder / "stocks.yaml").unlink()
    gone = ws.reload()
    assert gone.errors and gone.model is None and gone.causal is None


def test_a_deleted_file_is_a_located_error(growth: Path) -> None:
    ws = Workspace(growth)
    ws.reload()
    growth.unlink()
    (err,) = ws.reload().errors
    assert err["file"] == "growth.yaml" and "not found" in err["message"]


def test_invalid_file_gives_located_errors_then_recovers(model_client, growth: Path) -> None:
    ws, client = model_client
    growth.write_text(GROWTH.replace("equation: 1 - fish / K", "equation: 1 - fsh / K"))
    ws.reload()
    state = client.get("/api/state").json()
    assert state["revision"] == 2 and state["model"] is None
    err = state["errors"][0]
    assert err["file"] == "growth.yaml" and err["line"] == 11 and err["column"] == 24 and "fsh" in err["message"]
    assert err["key"] == "auxiliaries.room.equation" and err["text"].startswith("growth.yaml:11:24: ")
    assert "fish" in (err["hint"] or "")  # did you mean
    r = client.post("/api/simulate", json={"constants": {}, "variables": ["fish"]})
    assert r.status_code == 400 and "fix the errors" in r.json()["error"]["hint"]
    growth.write_text(GROWTH.replace("stocks:", "stocks: [\n"))  # YAML syntax
    ws.reload()
    (err,) = client.get("/api/state").json()["errors"]
    assert err["file"] == "growth.yaml" and err["line"] is not None and "YAML" in err["message"]
    growth.write_text(GROWTH)
    ws.reload()
    state = client.get("/api/state").json()
    assert state["errors"] == [] and state["revision"] == 4 and state["model"] is not None


# --- simulate ----------------------------------------------------------------------------------


def test_simulate_contract_and_one_code_path(model_client) -> None:
    ws, client = model_client
    r = client.post("/api/simulate", json={"constants": {"r": 0.9}, "variables": ["fish", "births"]})
    assert r.status_code == 200
    out = r.json()
    assert set(out) >= {"time", "series"} and set(out["series"]) == {"fish", "births"}
    assert out["time"][0] == 0.0 and out["time"][-1] == 20.0 and len(out["time"]) == 41
    from stocks_flows.engine import simulate

    direct = simulate(ws.snapshot.model, {"r": [0.9]}, variables=["fish"])
    np.testing.assert_allclose(out["series"]["fish"], direct.values[0, :, 0], rtol=1e-12)
    # logistic growth settles at the carrying capacity
    assert out["series"]["fish"][-1] == pytest.approx(100, rel=1e-3)


def test_simulate_thins_rows_for_a_plot(model_client) -> None:
    _, client = model_client
    full = client.post("/api/simulate", json={"variables": ["fish"]}).json()
    thin = client.post("/api/simulate", json={"variables": ["fish"], "max_points": 10}).json()
    assert len(thin["time"]) <= 10 and thin["time"][0] == 0.0 and thin["time"][-1] == 20.0
    lookup = dict(zip(full["time"], full["series"]["fish"], strict=True))
    assert thin["series"]["fish"] == [lookup[t] for t in thin["time"]]  # the same run, fewer rows
    r = client.post("/api/simulate", json={"variables": ["fish"], "max_points": 1})
    assert r.status_code == 400


def test_simulate_scenario_then_constants(model_client) -> None:
    _, client = model_client
    crowded = client.post("/api/simulate", json={"scenario": "crowded", "variables": ["fish"]}).json()
    assert crowded["series"]["fish"][-1] == pytest.approx(40, rel=1e-3)
    same = client.post("/api/simulate", json={"constants": {"K": 40}, "variables": ["fish"]}).json()
    assert same["series"] == crowded["series"]
    over = client.post("/api/simulate", json={"scenario": "crowded", "constants": {"K": 70}, "variables": ["fish"]})
    assert over.json()["series"]["fish"][-1] == pytest.approx(70, rel=1e-3)


def test_simulate_bad_requests(model_client) -> None:
    _, client = model_client
    cases = [
        ({"constants": {"k": 1}}, "not a constant", "did you mean 'K'"),
        ({"constants": {"K": "big"}}, "finite number", None),
        ({"constants": {"fish": 3}}, "not a constant", None),
        ({"variables": ["fsh"]}, "unknown variable", "did you mean 'fish'"),
        ({"scenario": "crowdd"}, "unknown scenario", "did you mean 'crowded'"),
        ({"variables": "fish"}, "list of names", None),
        ({"constants": [1]}, "name -> value", None),
    ]
    for body, message, hint in cases:
        r = client.post("/api/simulate", json=body)
        assert r.status_code == 400, body
        err = r.json()["error"]
        assert message in err["message"], body
        if hint:
            assert hint in err["hint"]
    r = client.post("/api/simulate", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.json()["error"]["message"]


def test_superseded_runs_are_dropped_unrun(growth: Path) -> None:
    ws = Workspace(growth)
    ws.reload()
    ran: list[int] = []
    results: dict[int, object] = {}
    gate = ws._run_locks["simulate"]
    gate.acquire()  # a run in flight

    def ask(n: int) -> None:
        try:
            results[n] = ws.run(lambda: ran.append(n) or n, "page", n)
        except Superseded:
            results[n] = "superseded"

    threads = [threading.Thread(target=ask, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    deadline = time.time() + 5
    while ws._latest.get("page") != 3 and time.time() < deadline:
        time.sleep(0.01)
    gate.release()
    for t in threads:
        t.join(5)
    assert ran == [3]
    assert results == {1: "superseded", 2: "superseded", 3: 3}
    # another page, or a request without ids, is never dropped for it
    assert ws.run(lambda: "other", "another-page", 1) == "other"
    assert ws.run(lambda: "plain") == "plain"


def test_concurrent_slider_requests(model_client) -> None:
    _, client = model_client
    answers: dict[int, tuple[int, dict]] = {}

    def slide(n: int) -> None:
        r = client.post(
            "/api/simulate",
            json={"client": "p", "request": n, "constants": {"K": 50.0 + n}, "variables": ["fish"]},
        )
        answers[n] = (r.status_code, r.json())

    threads = [threading.Thread(target=slide, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 8
    assert {code for code, _ in answers.values()} <= {200, 409}
    code, last = answers[8]
    assert code == 200 and last["request"] == 8  # the newest request is always answered
    for n, (code, body) in answers.items():
        if code == 200:  # and every answer is the run of its own settings
            assert body["series"]["fish"][-1] == pytest.approx(50.0 + n, rel=1e-3)
        else:
            assert body == {"superseded": True}


def test_simulate_without_a_model(causal_client) -> None:
    _, client = causal_client
    r = client.post("/api/simulate", json={"constants": {}})
    assert r.status_code == 400 and "no stock-and-flow model" in r.json()["error"]["message"]


# --- loops -------------------------------------------------------------------------------------


def test_loops_and_dominance_of_logistic_growth(model_client) -> None:
    _, client = model_client
    r = client.post("/api/loops", json={"constants": {}})
    assert r.status_code == 200
    out = r.json()
    polarity = {lp["id"]: lp["polarity"] for lp in out["loops"]}
    assert polarity == {"R1": "R", "B1": "B"}
    periods = out["periods"]
    assert [p["loops"] for p in periods] == [["R1"], ["B1"]]
    # dominance passes to the balancing loop where fish = K/2 (the inflection point)
    run = client.post("/api/simulate", json={"variables": ["fish"]}).json()
    half = next(t for t, v in zip(run["time"], run["series"]["fish"], strict=True) if v >= 50)
    assert abs(periods[1]["start"] - half) <= 0.5
    assert "<svg" in out["cld_svg"]
    # a smaller pond reaches its inflection sooner
    small = client.post("/api/loops", json={"constants": {"K": 20}}).json()
    assert small["periods"][1]["start"] < periods[1]["start"]


# --- paths and identification --------------------------------------------------------------------


def test_paths_follow_the_conditioning_set(causal_client) -> None:
    _, client = causal_client
    backdoor = "mof_intervention <- yen_pressure <- global_risk -> ust_long_end"
    free = client.post("/api/paths", json={"query": "intervention_on_long_end", "given": []}).json()
    held = client.post("/api/paths", json={"query": "intervention_on_long_end", "given": ["yen_pressure"]}).json()
    by_path = {p["path"]: p for p in free["paths"]["paths"]}
    assert by_path[backdoor]["open"] is True
    held_by_path = {p["path"]: p for p in held["paths"]["paths"]}
    assert held_by_path[backdoor]["open"] is False and held_by_path[backdoor]["blocked_by"] == ["yen_pressure"]
    # conditioning on the adjustment set leaves only causal paths open
    assert all(p["kind"] == "causal" for p in held["paths"]["paths"] if p["open"])
    assert held["open"] < free["open"]
    assert held["adjusts"] is True and free["adjusts"] is False  # {yen_pressure} is the spec's expected set
    assert held["identification"]["by"] == "backdoor"
    assert "<svg" in held["dag_svg"]
    custom = client.post("/api/paths", json={"treatment": "usd", "outcome": "usdjpy"}).json()
    assert custom["identification"]["identifiable"] is False


def test_paths_bad_requests(causal_client) -> None:
    _, client = causal_client
    for body, message in (
        ({"query": "intervention_on_long"}, "unknown query"),
        ({"treatment": "mof_intervention", "outcome": "nowhere"}, "unknown node"),
        ({"query": "intervention_on_long_end", "given": ["global_risk"]}, "latent"),
        ({"query": "intervention_on_long_end", "given": "yen_pressure"}, "list of node names"),
        ({}, "give a query"),
    ):
        r = client.post("/api/paths", json=body)
        assert r.status_code == 400, body
        assert message in r.json()["error"]["message"], body


# --- saving a scenario ---------------------------------------------------------------------------


def test_save_scenario_writes_a_new_file_only(model_client, growth: Path) -> None:
    ws, client = model_client
    before = growth.read_bytes()
    r = client.post("/api/scenario", json={"name": "big_pond", "constants": {"K": 150}, "scenario": "crowded"})
    assert r.status_code == 200, r.text
    assert r.json()["file"] == "big_pond.scenario.yaml"
    written = growth.parent / "big_pond.scenario.yaml"
    from stocks_flows.scenario_file import read_scenarios

    scenarios = read_scenarios(written, ws.snapshot.model)
    assert dict(scenarios["big_pond"].constants) == {"K": 150.0}
    # not over an existing file without overwrite
    r = client.post("/api/scenario", json={"name": "big_pond", "constants": {"K": 160}})
    assert r.status_code == 403 and "exists" in r.json()["error"]["message"]
    r = client.post("/api/scenario", json={"name": "big_pond", "constants": {"K": 160}, "overwrite": True})
    assert r.status_code == 200
    assert dict(read_scenarios(written, ws.snapshot.model)["big_pond"].constants) == {"K": 160.0}
    # never over the model, even when asked to overwrite
    r = client.post("/api/scenario", json={"name": "x", "file": "growth.yaml", "overwrite": True})
    assert r.status_code == 403 and "input" in r.json()["error"]["message"]
    assert growth.read_bytes() == before
    assert not [p for p in growth.parent.iterdir() if p.name.endswith(".part")]


def test_save_scenario_refuses_paths_that_leave_the_folder(model_client, growth: Path, tmp_path: Path) -> None:
    _, client = model_client
    outside = tmp_path.parent / f"{tmp_path.name}_outside"
    outside.mkdir()
    (growth.parent / "out").symlink_to(outside, target_is_directory=True)
    for file in ("../escape.yaml", str(outside / "abs.yaml"), "out/through_link.yaml", "sub/../../escape.yaml"):
        r = client.post("/api/scenario", json={"name": "s", "constants": {"K": 1}, "file": file})
        assert r.status_code == 403, file
        assert "refusing" in r.json()["error"]["message"]
    assert list(outside.iterdir()) == []
    assert not (tmp_path.parent / "escape.yaml").exists()
    for body, message in (
        ({"name": "bad name", "constants": {}}, "not a scenario name"),
        ({"name": "s", "constants": {"Q": 1}}, "not a constant"),
    ):
        r = client.post("/api/scenario", json=body)
        assert r.status_code == 400 and message in r.json()["error"]["message"]
    r = client.post("/api/scenario", json={"name": "s", "file": "notes.txt"})
    assert r.status_code == 403


# --- the page ----------------------------------------------------------------------------------


def test_page_and_static_files_are_offline(model_client) -> None:
    _, client = model_client
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for name in ("app.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and len(r.text) > 500
    static = Path(__file__).resolve().parents[2] / "tenor" / "app" / "static"
    for path in static.iterdir():
        text = path.read_text()
        assert "http://" not in text and "https://" not in text, path.name  # nothing fetched from elsewhere
    assert client.get("/static/../serve.py").status_code == 404
    assert client.get("/static/%2e%2e/serve.py").status_code == 404


def test_state_is_json_serialisable_for_the_example_causal_spec(causal_client) -> None:
    ws, _ = causal_client
    text = json.dumps(ws.snapshot.to_dict())
    assert os.fspath(ws.root) not in text  # files are named relative to the served folder


def test_serve_warns_for_a_host_other_than_loopback(growth: Path, monkeypatch, capsys) -> None:
    import uvicorn

    from tenor.app.serve import serve

    seen: list[int] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(len(sockets)))
    serve(growth, host="127.0.0.1", port=0)
    out = capsys.readouterr()
    assert out.out.startswith("serving http://127.0.0.1:") and "warning" not in out.err
    serve(growth, host="0.0.0.0", port=0)
    out = capsys.readouterr()
    assert out.out.startswith("serving http://0.0.0.0:")
    assert "warning: serving on 0.0.0.0" in out.err and "127.0.0.1" in out.err
    assert seen == [1, 1]
