"""The optional calendar start date of a stock-and-flow model."""

from __future__ import annotations

import datetime

import pytest

from stocks_flows.load import parse_model, parse_spec
from stocks_flows.spec import calendar_date
from tenor.core.errors import SpecError

MODEL = """
time: {start: 0, stop: 10, dt: 1, unit: day, start_date: 2026-06-01}
stocks: {s: {initial: 1}}
flows: {f: {from: s, equation: 0.1 * s}}
"""


def test_start_date_is_read_and_turns_times_into_dates():
    spec = parse_spec(MODEL)
    assert spec.time.start_date == datetime.date(2026, 6, 1)
    assert calendar_date(spec.time, 0.0) == datetime.date(2026, 6, 1)
    assert calendar_date(spec.time, 213.0) == datetime.date(2026, 12, 31)
    assert calendar_date(spec.time, 214.0) == datetime.date(2027, 1, 1)
    assert parse_model(MODEL).spec.time.start_date.isoformat() == "2026-06-01"


def test_without_start_date_there_is_no_calendar():
    spec = parse_spec(MODEL.replace(", start_date: 2026-06-01", ""))
    assert spec.time.start_date is None and calendar_date(spec.time, 3.0) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [("start_date: 2026-13-01", "start_date"), ("start_date: yesterday", "start_date")],
)
def test_a_bad_start_date_is_located(change, says):
    with pytest.raises(SpecError) as err:
        parse_spec(MODEL.replace("start_date: 2026-06-01", change))
    assert says in str(err.value)
    assert err.value.diagnostics[0].line == 2


def test_start_date_needs_days():
    with pytest.raises(SpecError, match="days"):
        parse_spec(MODEL.replace("unit: day", "unit: month"))


def test_a_constant_may_declare_its_range():
    spec = parse_spec(MODEL + "constants: {k: {value: 0.1, range: [0.05, 0.2]}}\n")
    assert spec.constants["k"].range == (0.05, 0.2)
    per = parse_spec(
        MODEL + "dimensions: {t: [a, b]}\nconstants: {k: {dimensions: [t], value: {a: 1, b: 2}, range: {a: [0, 1]}}}\n"
    )
    assert per.constants["k"].range == {"a": (0.0, 1.0)}


def test_a_value_outside_its_range_is_refused():
    with pytest.raises(SpecError, match="outside its range"):
        parse_spec(MODEL + "constants: {k: {value: 0.3, range: [0.05, 0.2]}}\n")
