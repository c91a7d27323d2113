"""Scenario files: named scenarios kept beside a model, e.g. the values ``tenor calibrate`` fitted.

A scenario file holds a ``scenarios:`` mapping written as in a model spec::

    scenarios:
      fitted:
        description: fitted to obs.csv
        constants: {r: 0.00218, a: 0.44, c: {a: 1.5}}
        initial: {susceptible: 762}

``c: {a: 1.5}`` sets one element of a subscripted constant (``"c[a]": 1.5`` is the
same); a subscripted name with one number sets every element; ``lookups:`` replaces a
lookup's points (``{pressure: {points: [[0, 1], [60, 1]]}}``). The names are
checked against the model, each error located by line in the file.

Examples
--------
>>> from stocks_flows.load import parse_model
>>> model = parse_model("time: {stop: 2}\\nconstants: {k: 0.5}\\nstocks: {s: {initial: 8}}\\n"
...                     "flows: {f: {from: s, equation: k * s}}\\n")
>>> found = parse_scenarios("scenarios: {slow: {constants: {k: 0.25}, initial: {s: 4}}}", model)
>>> found["slow"].constants, found["slow"].initial
({'k': 0.25}, {'s': 4.0})
"""

from __future__ import annotations

import io
import itertools
import math
from pathlib import Path
from typing import Any

from stocks_flows.model import Lookup, Model, Scenario
from tenor.core.errors import SpecError
from tenor.core.specfile import Problem, did_you_mean, parse_yaml, read_text, spec_error

__all__ = ["parse_scenarios", "read_scenarios", "scenario_yaml"]


def scenario_yaml(scenarios: dict[str, dict[str, Any]]) -> str:
    """YAML text of a scenario file holding ``scenarios`` (name -> body)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump({"scenarios": scenarios}, buffer)
    return buffer.getvalue()


def read_scenarios(path: str | Path, model: Model) -> dict[str, Scenario]:
    """The scenarios of a scenario file, checked against ``model``."""
    return parse_scenarios(read_text(path), model, file=str(path))


def parse_scenarios(text: str, model: Model, file: str = "<input>") -> dict[str, Scenario]:
    """Scenarios from YAML text (see the module docs), checked against ``model``."""
    doc = parse_yaml(text, file=file)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), dict):
        raise SpecError(
            "a scenario file is a mapping with scenarios: {NAME: {constants: ..., initial: ...}}",
            file=file,
            line=1,
            hint="start the file with 'scenarios:'",
        )
    problems: list[Problem] = []
    out: dict[str, Scenario] = {}
    for sname, body in data["scenarios"].items():
        path = ("scenarios", sname)
        if not isinstance(body, dict):
            problems.append(Problem(path, "a scenario is a mapping", "give constants: and/or initial:"))
            continue
        keys = ["description", "constants", "initial", "lookups"]
        unknown = [k for k in body if k not in keys]
        for key in unknown:
            close = did_you_mean(str(key), keys)
            problems.append(
                Problem((*path, key), f"unknown key {key!r}", f"did you mean {close!r}?" if close else None, True)
            )
        tables: dict[str, dict[str, float]] = {"constant": {}, "stock": {}}
        for section, kind in (("constants", "constant"), ("initial", "stock")):
            table = body.get(section) or {}
            if not isinstance(table, dict):
                problems.append(Problem((*path, section), "expected a mapping NAME: value"))
                continue
            for name, value in table.items():
                _resolve(model, (*path, section, name), str(name), value, kind, tables[kind], problems)
        lookups = _lookups(model, path, body.get("lookups") or {}, problems)
        description = body.get("description")
        out[str(sname)] = Scenario(str(sname), tables["constant"], tables["stock"], lookups, description)
    if problems:
        raise spec_error(problems, doc)
    return out


def _lookups(model: Model, path: tuple, table: Any, problems: list[Problem]) -> dict[str, Lookup]:
    """``NAME: {points: [[x, y], ...], extrapolate: false}`` for lookups of the model."""
    out: dict[str, Lookup] = {}
    if not isinstance(table, dict):
        problems.append(Problem((*path, "lookups"), "expected a mapping NAME: {points: [[x, y], ...]}"))
        return out
    for name, spec in table.items():
        where = (*path, "lookups", name)
        if name not in model.lookups:
            close = did_you_mean(str(name), model.lookups)
            problems.append(
                Problem(where, f"{name!r} is not a lookup of the model", f"did you mean {close!r}?" if close else None)
            )
            continue
        points = spec.get("points") if isinstance(spec, dict) else None
        try:
            xs = tuple(float(x) for x, _ in points)
            ys = tuple(float(y) for _, y in points)
            if len(xs) < 2 or any(b <= a for a, b in itertools.pairwise(xs)):
                raise ValueError
            if not all(math.isfinite(v) for v in xs + ys):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(Problem(where, "a lookup needs points: [[x, y], ...], two or more, finite, x rising", None))
            continue
        # new points, read as the model reads that table (a DATA table keeps its HOLD BACKWARD, ...)
        out[str(name)] = Lookup(xs, ys, bool(spec.get("extrapolate", False)), model.lookups[name].mode)
    return out


def _resolve(
    model: Model,
    path: tuple,
    name: str,
    value: Any,
    kind: str,
    target: dict[str, float],
    problems: list[Problem],
) -> None:
    pool = [n for n, v in model.variables.items() if v.kind == kind]
    bases = sorted({model.variables[n].base or n for n in pool})
    if isinstance(value, dict):
        for element, item in value.items():
            _resolve(model, (*path, element), f"{name}[{element}]", item, kind, target, problems)
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(path, f"expected a number, got {value!r}", "scenario values are numbers"))
        return
    if not math.isfinite(value):
        problems.append(Problem(path, f"expected a finite number, got {value!r}", "scenario values are numbers"))
        return
    if name in model.variables and model.variables[name].kind == kind:
        target[name] = float(value)
        return
    members = [n for n in pool if model.variables[n].base == name]
    if members:
        for member in members:
            target[member] = float(value)
        return
    close = did_you_mean(name, [*pool, *bases])
    what = "constant" if kind == "constant" else "stock"
    problems.append(
        Problem(
            path,
            f"{name!r} is not a {what} of the model",
            f"did you mean {close!r}?" if close else f"{what}s: " + ", ".join(bases),
            True,
        )
    )
