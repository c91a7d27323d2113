"""Readable causal-loop diagrams: the focused views, every mark in the legend, labels that do not overlap."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from svg_reading import SVG, legend_texts, needs_dot, parse_svg

from diagrams.cld import draw_cld, focus, loop_name
from diagrams.render import render
from diagrams.structures import CausalLoopStructure, Link, Loop, Variable
from tenor.cli.main import main
from tenor.core.errors import GraphError

STOCKS = "examples/duration_trade/stocks.yaml"


def text_boxes(data: bytes, classes: set[str]) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """(group id, text, (x0, y0, x1, y1)) of every text inside node groups with one of ``classes``.

    The width is estimated at 0.55 em per character (DejaVu Sans averages about
    0.6 em, narrower for lower case), the height from the font size around the baseline.
    """
    root = ET.fromstring(data)
    out = []
    for g in root.iter(f"{SVG}g"):
        if "node" not in (g.get("class") or "").split() or not classes & set((g.get("class") or "").split()):
            continue
        for t in g.iter(f"{SVG}text"):
            text = (t.text or "").strip()
            if not text:
                continue
            size = float(t.get("font-size", "14"))
            x, y = float(t.get("x")), float(t.get("y"))
            width = 0.55 * size * len(text)
            anchor = t.get("text-anchor", "start")
            x0 = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
            out.append((g.get("id"), text, (x0, y - 0.75 * size, x0 + width, y + 0.2 * size)))
    return out


def overlapping(boxes):
    """Pairs of texts from different groups whose boxes intersect."""
    found = []
    for (ga, ta, a), (gb, tb, b) in itertools.combinations(boxes, 2):
        if ga == gb:
            continue
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
            found.append((ga, ta, gb, tb))
    return found


def ring_with_chords() -> CausalLoopStructure:
    """Six variables on a ring with chords and signs left unknown: many loops sharing variables."""
    names = [f"v{i}" for i in range(6)]
    links = [Link(names[i], names[(i + 1) % 6], "+" if i % 2 else "-") for i in range(6)]
    links += [Link("v2", "v0", "?"), Link("v4", "v2", "+"), Link("v5", "v3", "-"), Link("v3", "v1", "+")]
    loops = [
        Loop("B1", ("v0", "v1", "v2", "v3", "v4", "v5")),  # three negative links
        Loop("U1", ("v0", "v1", "v2")),  # v2 -> v0 has no known sign
        Loop("B2", ("v2", "v3", "v4")),
        Loop("R1", ("v3", "v4", "v5")),  # two negative links
        Loop("B3", ("v1", "v2", "v3")),
    ]
    variables = [Variable(n, "stock" if n == "v0" else "auxiliary", f"variable number {n[1]}") for n in names]
    return CausalLoopStructure(variables, links, loops)


def test_focus_on_named_loops_keeps_their_variables_and_links():
    s = ring_with_chords()
    part = focus(s, loops=["R1", "B2"])
    assert [lp.id for lp in part.loops] == ["B2", "R1"]
    assert [lp.polarity for lp in part.loops] == ["B", "R"]
    assert {v.name for v in part.variables} == {"v2", "v3", "v4", "v5"}
    assert {(lk.cause, lk.effect) for lk in part.links} == {
        ("v2", "v3"),
        ("v3", "v4"),
        ("v4", "v2"),
        ("v4", "v5"),
        ("v5", "v3"),
    }


def test_focus_around_a_variable_and_its_depth():
    s = ring_with_chords()
    assert [lp.id for lp in focus(s, around="v5").loops] == ["B1", "R1"]
    near = focus(s, around="v0", depth=1)
    assert {v.name for v in near.variables} == {"v0", "v1", "v2", "v5"}  # v2 -> v0 is a link
    assert [lp.id for lp in near.loops] == ["U1"]
    assert focus(s, around="v0", depth=5).loops == s.loops
    assert focus(s) is s


def test_focus_on_unknown_names_suggests():
    s = ring_with_chords()
    with pytest.raises(GraphError, match="unknown variable 'v9'"):
        focus(s, around="v9")
    with pytest.raises(GraphError, match="unknown loop 'R2'") as info:
        focus(s, loops=["R2"])
    assert info.value.hint == "loops: B1, U1, B2, R1, B3"
    with pytest.raises(GraphError, match="depth"):
        focus(s, around="v0", depth=0)


def test_loops_are_named_by_their_variables():
    s = ring_with_chords()
    assert loop_name(s, "R1") == "variable number 3 → variable number 4 → variable number 5"
    assert loop_name(s, "B1").endswith("→ … (6)")


@needs_dot
def test_every_mark_is_in_the_legend():
    data = render(draw_cld(ring_with_chords()), "svg")
    legend = " ".join(legend_texts(data))
    for words in (
        "same direction",
        "opposite direction",
        "sign unknown",
        "stock",
        "loop marker",
        "reinforcing loop",
        "balancing loop",
        "loop of unknown polarity",
    ):
        assert words in legend, words
    svg = parse_svg(data)
    # every glyph drawn on a link or marker has its legend entry
    glyphs = {t for el in svg.values() if "link" in el.classes for t in el.texts}
    assert glyphs == {"+", "−", "?"}
    assert {t.split()[-1][0] for el in svg.values() if "loop-marker" in el.classes for t in el.texts[:1]} == {
        "R",
        "B",
        "U",
    }
    assert svg["n_loop_R1"].tooltip == "R1: variable number 3 → variable number 4 → variable number 5"


@needs_dot
def test_marker_and_variable_labels_do_not_overlap():
    data = render(draw_cld(ring_with_chords()), "svg")
    boxes = text_boxes(data, {"loop-marker", "variable"})
    assert len({g for g, _, _ in boxes if g.startswith("n_loop_")}) == 5
    assert overlapping(boxes) == []


@pytest.fixture(scope="module")
def example_svgs():
    """The example model's causal-loop diagram: whole, around usdjpy, and two named loops."""
    from diagrams.from_model import causal_loop_structure
    from stocks_flows.load import load_model

    whole = causal_loop_structure(load_model(STOCKS))
    reinforcing = next(lp for lp in whole.loops if lp.polarity == "R")
    balancing = next(lp for lp in whole.loops if lp.polarity == "B")
    chosen = focus(whole, loops=[reinforcing.id, balancing.id])
    views = {"whole": whole, "around": focus(whole, around="usdjpy"), "loops": chosen}
    svgs = {name: render(draw_cld(part), "svg") for name, part in views.items()}
    svgs["chosen"] = (reinforcing, balancing, whole)
    return svgs


@needs_dot
def test_the_whole_model_marks_only_loops_of_known_polarity(example_svgs):
    """Before, some 60 'U' markers were piled on each other; now the loops of known polarity are marked
    and the legend says how many more there are."""
    svg = parse_svg(example_svgs["whole"])
    markers = [k for k, v in svg.items() if "loop-marker" in v.classes]
    assert markers and all(k[len("n_loop_")] in "RB" for k in markers)
    assert any("more loops not marked" in t for t in legend_texts(example_svgs["whole"]))


@needs_dot
@pytest.mark.parametrize("view", ["whole", "around", "loops"])
def test_example_labels_do_not_overlap(example_svgs, view):
    boxes = text_boxes(example_svgs[view], {"loop-marker", "variable"})
    assert overlapping(boxes) == []


@needs_dot
def test_named_loops_view(example_svgs):
    reinforcing, balancing, whole = example_svgs["chosen"]
    svg = parse_svg(example_svgs["loops"])
    markers = sorted(k for k, v in svg.items() if "loop-marker" in v.classes)
    assert markers == sorted([f"n_loop_{reinforcing.id}", f"n_loop_{balancing.id}"])
    texts = " ".join(svg[f"n_loop_{reinforcing.id}"].texts)
    assert reinforcing.variables[0].replace("_", " ") in texts  # named by its variables
    shown = set(reinforcing.variables) | set(balancing.variables)
    outside = next(v.name for v in whole.variables if v.name not in shown)
    assert all(f"n_{v}" in svg for v in shown) and f"n_{outside}" not in svg


def test_cli_focus_errors(capsys, tmp_path):
    out = str(tmp_path / "x.svg")
    teacup = "tests/data/stocks_flows/teacup.yaml"
    assert main(["draw", teacup, "--kind", "cld", "--around", "teacup_temprature", "--out", out]) == 2
    assert "did you mean 'teacup_temperature'" in capsys.readouterr().err
    assert main(["draw", teacup, "--kind", "cld", "--loops", "B1", "--out", out]) == 0
    assert main(["draw", STOCKS, "--around", "usdjpy", "--out", out]) == 2
    assert "add --kind cld" in capsys.readouterr().err
    assert main(["draw", STOCKS, "--kind", "cld", "--depth", "2", "--out", out]) == 2
    assert "--depth goes with --around" in capsys.readouterr().err
    empty = str(tmp_path / "empty.svg")
    assert main(["draw", teacup, "--kind", "cld", "--loops", " , ", "--out", empty]) == 2
    assert "--loops names no loop" in capsys.readouterr().err and not (tmp_path / "empty.svg").exists()


@needs_dot
def test_a_structure_file_with_loops_only_is_drawn_as_a_cld(tmp_path):
    import json

    path = tmp_path / "loops.json"
    path.write_text(json.dumps({"causal_loops": ring_with_chords().to_dict()}))
    out = tmp_path / "loops.svg"
    assert main(["draw", str(path), "--out", str(out)]) == 0
    assert "n_loop_R1" in parse_svg(out.read_bytes())
