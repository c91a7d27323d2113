"""The command line: tenor identify, test-data and simulate-data (exit codes and text are the contract)."""

from __future__ import annotations

import json

import pytest

from tenor.cli.main import main

FRONT_DOOR = """
nodes: {smoking: {}, tar: {}, cancer: {}}
edges:
  smoking -> tar: {gain: 0.8}
  tar -> cancer: {gain: 0.5}
  smoking <-> cancer: {}
queries:
  effect: {treatment: smoking, outcome: cancer}
"""

CONFOUNDED = """
nodes: {z: {}, x: {}, y: {}}
edges:
  z -> x: {gain: 1.0}
  z -> y: {gain: -0.5}
  x -> y: {gain: 0.7}
queries:
  effect: {treatment: x, outcome: y}
"""


@pytest.fixture
def spec_file(tmp_path):
    def write(text: str, name: str = "g.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_identify_json_contract(spec_file, capsys):
    code, out, _ = run(
        capsys, "identify", spec_file(FRONT_DOOR), "--treatment", "smoking", "--outcome", "cancer", "--json"
    )
    assert code == 0
    d = json.loads(out)
    assert d["identifiable"] is True
    assert d["minimal_adjustment_sets"] == []
    assert d["frontdoor_sets"] == [["tar"]]
    assert d["instruments"] == []
    assert d["estimand"].startswith("Σ_{tar} P(tar | smoking)")
    assert isinstance(d["reason"], str) and d["reason"]


def test_identify_empty_set_is_a_list_with_an_empty_list(spec_file, capsys):
    text = "nodes: {x: {}, y: {}}\nedges:\n  x -> y: {}\n"
    code, out, _ = run(capsys, "identify", spec_file(text), "-t", "x", "-o", "y", "--json")
    assert code == 0
    assert json.loads(out)["minimal_adjustment_sets"] == [[]]


def test_identify_text(spec_file, capsys):
    code, out, _ = run(capsys, "identify", spec_file(CONFOUNDED), "--treatment", "x", "--outcome", "y")
    assert code == 0
    assert "minimal adjustment sets: {z}" in out
    assert "estimand:                Σ_{z} P(y | x, z) P(z)" in out


def test_not_identifiable_strict_exits_1(spec_file, capsys):
    text = "nodes: {x: {}, y: {}}\nedges:\n  x -> y: {}\n  x <-> y: {}\n"
    code, out, _ = run(capsys, "identify", spec_file(text), "-t", "x", "-o", "y")
    assert code == 0 and "identifiable:            no" in out
    assert "x <-> y: the latent confounder opens x <- U -> y" in out
    code, _, _ = run(capsys, "identify", spec_file(text), "-t", "x", "-o", "y", "--strict")
    assert code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "smokng", "-o", "cancer"], "unknown treatment 'smokng'\n  hint: did you mean 'smoking'?"),
        (["-t", "smoking", "-o", "cancr"], "unknown outcome 'cancr'\n  hint: did you mean 'cancer'?"),
        (["-t", "tar", "-o", "tar"], "'tar' is both a treatment and an outcome"),
    ],
)
def test_bad_queries_exit_2_with_one_message(spec_file, capsys, args, message):
    code, _, err = run(capsys, "identify", spec_file(FRONT_DOOR), *args)
    assert code == 2
    assert message in err
    assert err.count("error:") == 1


def test_cycle_is_named(spec_file, capsys):
    text = "nodes: {a: {}, b: {}, c: {}}\nedges: {a -> b: {}, b -> c: {}, c -> a: {}}\n"
    code, _, err = run(capsys, "identify", spec_file(text), "-t", "a", "-o", "c")
    assert code == 2
    assert "a -> b -> c -> a" in err


def test_missing_graph_file(capsys, tmp_path):
    code, _, _ = run(capsys, "identify", str(tmp_path / "nope.yaml"), "-t", "a", "-o", "b")
    assert code == 2


def test_simulate_then_test_data(spec_file, capsys, tmp_path):
    spec = spec_file(CONFOUNDED)
    out = tmp_path / "data.csv"
    code, text, _ = run(capsys, "simulate-data", spec, "--n", "10000", "--seed", "1", "--out", str(out))
    assert code == 0 and out.exists()
    assert out.read_text().splitlines()[0] == "z,x,y"
    assert len(out.read_text().splitlines()) == 10001
    code, text, _ = run(capsys, "test-data", spec, str(out), "--json")
    assert code == 0
    assert json.loads(text)["implications"] == []  # a complete graph implies nothing


def test_simulate_check_estimates_each_query(spec_file, capsys, tmp_path):
    code, text, _ = run(
        capsys,
        "simulate-data",
        spec_file(FRONT_DOOR),
        "--n",
        "20000",
        "--seed",
        "2",
        "--out",
        str(tmp_path / "d.csv"),
        "--check",
    )
    assert code == 0, text
    assert "ok   effect: smoking -> cancer by frontdoor ['tar']" in text
    assert "smoking" not in (tmp_path / "d.csv").read_text().splitlines()[0].split(",")[3:]


def test_test_data_flags_a_wrong_graph(spec_file, capsys, tmp_path):
    truth = "nodes: {a: {}, b: {}, c: {}}\nedges:\n  a -> b: {gain: 1}\n  b -> c: {gain: 1}\n" + "  a -> c: {gain: 1}\n"
    wrong = "nodes: {a: {}, b: {}, c: {}}\nedges:\n  a -> b: {}\n  b -> c: {}\n"
    data = tmp_path / "d.csv"
    assert (
        run(
            capsys,
            "simulate-data",
            spec_file(truth, "t.yaml"),
            "--n",
            "2000",
            "--seed",
            "1",
            "--out",
            str(data),
        )[0]
        == 0
    )
    code, text, _ = run(capsys, "test-data", spec_file(wrong, "w.yaml"), str(data), "--alpha", "0.01")
    assert code == 1
    assert "FAIL a ⊥ c | b" in text
    assert "Fisher z test" in text


def test_test_data_missing_column(spec_file, capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n2,3\n3,5\n")
    wrong = "nodes: {a: {}, b: {}, c: {}}\nedges:\n  a -> b: {}\n  b -> c: {}\n"
    code, _, err = run(capsys, "test-data", spec_file(wrong), str(data))
    assert code == 2
    assert "no column for c" in err


def test_time_limit_note_in_the_report(spec_file, capsys):
    lines = ["nodes: {x: {}, y: {}" + "".join(f", a{i}: {{}}, b{i}: {{}}" for i in range(16)) + "}", "edges:"]
    lines.append("  x -> y: {}")
    for i in range(16):
        lines += [f"  a{i} -> x: {{}}", f"  a{i} -> b{i}: {{}}", f"  b{i} -> y: {{}}"]
    code, out, _ = run(
        capsys, "identify", spec_file("\n".join(lines) + "\n"), "-t", "x", "-o", "y", "--time-limit", "0.05"
    )
    assert code == 0
    assert "identifiable:            yes (by backdoor)" in out
    assert "note:                    listing of minimal adjustment sets stopped at the time limit" in out


def test_identify_reads_dagitty(tmp_path, capsys):
    path = tmp_path / "g.dagitty"
    path.write_text("dag {\n  x -> y\n  z -> x\n  z -> y\n}\n")
    code, out, _ = run(capsys, "identify", str(path), "--treatment", "x", "--outcome", "y", "--json")
    assert code == 0
    assert json.loads(out)["minimal_adjustment_sets"] == [["z"]]


def test_identify_with_dowhy(spec_file, capsys):
    pytest.importorskip("dowhy", reason="DoWhy's own identification")
    code, out, _ = run(capsys, "identify", spec_file(CONFOUNDED), "-t", "x", "-o", "y", "--dowhy", "--json")
    assert code == 0
    d = json.loads(out)["dowhy"]
    assert d["finished"] and d["error"] is None
    assert ["z"] in d["backdoor_sets"]
    code, out, _ = run(capsys, "identify", spec_file(FRONT_DOOR), "-t", "smoking", "-o", "cancer", "--dowhy")
    assert "front-door {tar}" in out
