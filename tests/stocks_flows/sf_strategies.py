"""Hypothesis strategies: small random stock-and-flow specs (as plain data), always well defined.

Every equation is built so its value stays finite: divisions are by ``1 + abs(...)`` and there
are no logarithms or roots of variables.
"""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def _term(draw, names: list[str], depth: int = 0) -> str:
    choice = draw(st.integers(0, 8 if depth < 2 else 1))
    if choice == 0 or not names:
        return repr(draw(st.floats(min_value=-3, max_value=3, allow_nan=False).map(lambda x: round(x, 3))))
    if choice == 1:
        return draw(st.sampled_from(names))
    a = draw(_term(names, depth + 1))
    b = draw(_term(names, depth + 1))
    if choice == 2:
        return f"({a} + {b})"
    if choice == 3:
        return f"({a} - 0.5 * {b})"
    if choice == 4:
        return f"{a} / (1 + abs({b}))"
    if choice == 5:
        return f"min({a}, max({b}, -5))"
    if choice == 6:
        return f"(if {a} > {b} then {a} else 0.1 * {b})"
    if choice == 7:
        return f"smooth1({a}, {draw(st.sampled_from(['2', '3.5']))})"
    func = draw(st.sampled_from(["smooth3", "delay1", "delay3"]))
    return f"{func}({a}, {draw(st.sampled_from(['2', '3.5']))})"


@st.composite
def models(draw) -> dict:
    n_stocks = draw(st.integers(1, 3))
    n_constants = draw(st.integers(1, 3))
    stocks = [f"s{i}" for i in range(n_stocks)]
    constants = {
        f"c{i}": round(draw(st.floats(min_value=-2, max_value=2, allow_nan=False)), 3) for i in range(n_constants)
    }
    names = stocks + list(constants)
    flows = {}
    for i in range(draw(st.integers(1, 4))):
        ends = {}
        kind = draw(st.sampled_from(["from", "to", "both"]))
        source, target = draw(st.sampled_from(stocks)), draw(st.sampled_from(stocks))
        if kind in ("from", "both"):
            ends["from"] = source
        if kind in ("to", "both") and not (kind == "both" and target == source):
            ends["to"] = target
        # a damped rate keeps the stocks bounded
        rate = draw(_term(names))
        flows[f"f{i}"] = {**ends, "equation": f"0.2 * ({rate}) / (1 + abs({rate}))"}
    dt = draw(st.sampled_from([1.0, 0.5, 0.25]))
    return {
        "time": {"start": 0, "stop": draw(st.sampled_from([4, 10])), "dt": dt},
        "constants": constants,
        "stocks": {
            s: {
                "initial": round(draw(st.floats(min_value=-10, max_value=10)), 2),
                "non_negative": draw(st.booleans()),
            }
            for s in stocks
        },
        "flows": flows,
        "auxiliaries": {"total": {"equation": " + ".join(stocks)}},
    }
