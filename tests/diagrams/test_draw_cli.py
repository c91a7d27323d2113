"""``tenor draw`` and ``tenor plot``: outputs, exit codes, refusals."""

from __future__ import annotations

import pandas as pd
import pytest
from svg_reading import DATA, needs_dot, parse_svg

from tenor.cli.main import EXIT_ERROR, EXIT_OK, main

SPEC = str(DATA / "duration.yaml")


@needs_dot
def test_draw_a_dag(tmp_path):
    out = tmp_path / "dag.svg"
    assert main(["draw", SPEC, "--out", str(out)]) == EXIT_OK
    svg = parse_svg(out.read_bytes())
    assert "n_ust_long_end" in svg and "e_swap_basis__ust_long_end" in svg


@needs_dot
def test_draw_with_a_query_and_adjustment_set(tmp_path):
    out = tmp_path / "q.svg"
    code = main(["draw", SPEC, "--query", "carry_on_long_end", "--adjust", "fed_expectations,usdjpy",
                 "--out", str(out)])  # fmt: skip
    assert code == EXIT_OK
    svg = parse_svg(out.read_bytes())
    assert "exposure" in svg["n_carry_book"].classes
    assert "adjusted" in svg["n_usdjpy"].classes


@pytest.mark.parametrize(("suffix", "start"), [(".dot", "digraph"), (".mmd", "%% Two"), (".gv", "digraph")])
def test_format_from_the_suffix(tmp_path, suffix, start):
    out = tmp_path / f"dag{suffix}"
    assert main(["draw", SPEC, "--out", str(out)]) == EXIT_OK
    assert out.read_text().startswith(start)


def test_format_option_wins(tmp_path):
    out = tmp_path / "dag.txt"
    assert main(["draw", SPEC, "--format", "mermaid", "--out", str(out)]) == EXIT_OK
    assert "flowchart LR" in out.read_text()


def test_draw_a_model_structure(tmp_path, structure_file):
    out = tmp_path / "cld.dot"
    assert main(["draw", str(structure_file), "--kind", "cld", "--tenor", "bills", "--out", str(out)]) == EXIT_OK
    assert "cut at bills" in out.read_text()
    out = tmp_path / "sf.mmd"
    assert main(["draw", str(structure_file), "--kind", "stockflow", "--out", str(out)]) == EXIT_OK
    assert "n_term_out" in out.read_text()


def test_cld_of_a_causal_spec_asks_for_a_model(tmp_path, capsys):
    out = tmp_path / "cld.svg"
    assert main(["draw", SPEC, "--kind", "cld", "--out", str(out)]) == EXIT_ERROR
    assert "a stock-and-flow model is needed" in capsys.readouterr().err
    assert not out.exists()


def test_output_equal_to_input_is_refused(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text((DATA / "duration.yaml").read_text())
    before = spec.read_bytes()
    assert main(["draw", str(spec), "--format", "dot", "--out", str(spec)]) == EXIT_ERROR
    assert "it is an input" in capsys.readouterr().err
    assert spec.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ["draw", "missing.yaml", "--out", "x.svg"],
        ["draw", SPEC, "--kind", "venn", "--out", "x.svg"],
        ["draw", SPEC, "--out", "x.jpeg"],
        ["draw", SPEC, "--format", "gif", "--out", "x.svg"],
        ["draw", SPEC, "--query", "nope", "--out", "x.dot"],
        ["draw", SPEC],
    ],
)
def test_bad_input_exits_2(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    assert main(args) == EXIT_ERROR
    assert not list(tmp_path.iterdir())


def _results(tmp_path):
    rows = [{"scenario": s, "time": t, "carry": (1 if s == "a" else 2) * t, "yield_bp": t * 0.5}
            for s in ("a", "b") for t in range(5)]  # fmt: skip
    path = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_plot_results(tmp_path):
    results = _results(tmp_path)
    out = tmp_path / "plot.png"
    args = [
        "plot",
        str(results),
        "--var",
        "carry",
        "--var",
        "yield_bp",
        "--event",
        "meeting=2",
        "--out",
        str(out),
    ]
    assert main(args) == EXIT_OK
    assert out.read_bytes().startswith(b"\x89PNG")
    first = out.read_bytes()
    assert main(args) == EXIT_OK
    assert out.read_bytes() == first


def test_plot_parquet_and_scenario_filter(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet results need pyarrow (in the stocks_flows extra)")
    table = pd.read_csv(_results(tmp_path))
    path = tmp_path / "results.parquet"
    table.to_parquet(path)
    out = tmp_path / "plot.svg"
    assert main(["plot", str(path), "--var", "carry", "--scenario", "a", "--out", str(out)]) == EXIT_OK
    assert "<svg" in out.read_text()


@pytest.mark.parametrize(
    "extra",
    [
        ["--var", "nope", "--out", "p.png"],
        ["--var", "scenario", "--out", "p.png"],
        ["--var", "carry", "--out", "p.gif"],
        ["--var", "carry", "--scenario", "zzz", "--out", "p.png"],
        ["--var", "carry", "--event", "x=soon", "--out", "p.png"],
    ],
)
def test_plot_bad_input_exits_2(tmp_path, monkeypatch, extra):
    results = _results(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(results), *extra]) == EXIT_ERROR
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_plot_refuses_to_overwrite_its_input(tmp_path):
    results = _results(tmp_path)
    before = results.read_bytes()
    assert main(["plot", str(results), "--var", "carry", "--out", str(results)]) == EXIT_ERROR
    assert results.read_bytes() == before


def test_plot_missing_file_exits_2(tmp_path):
    assert main(["plot", str(tmp_path / "none.csv"), "--var", "x", "--out", str(tmp_path / "p.png")]) == EXIT_ERROR


def test_draw_without_graphviz_still_works(no_dot, tmp_path, capsys):
    out = tmp_path / "dag.png"
    assert main(["draw", SPEC, "--out", str(out)]) == EXIT_OK
    assert out.read_bytes().startswith(b"\x89PNG")
    err = capsys.readouterr().err
    assert err.startswith("warning: Graphviz's dot program was not found")
    assert "apt-get install graphviz" in err
    assert main(["draw", SPEC, "--out", str(tmp_path / "again.svg")]) == EXIT_OK
    assert "warning" not in capsys.readouterr().err  # said once


@needs_dot
def test_png_resolution(tmp_path):
    import struct

    def width(path):
        return struct.unpack(">I", path.read_bytes()[16:20])[0]

    low, high = tmp_path / "low.png", tmp_path / "high.png"
    assert main(["draw", SPEC, "--out", str(low)]) == EXIT_OK
    assert main(["draw", SPEC, "--dpi", "192", "--out", str(high)]) == EXIT_OK
    assert abs(width(high) - 2 * width(low)) <= 2
    assert main(["draw", SPEC, "--dpi", "5", "--out", str(high)]) == EXIT_ERROR
