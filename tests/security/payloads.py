"""Hostile text for model files, and model files of each format that carry it.

Each payload tries to leave the string, comment or docstring it lands in and
run ``open(...).write(...)``, which creates a marker file. A safe loader and
PySD runner never create it.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

__all__ = ["FILE_NAME_PAYLOADS", "NAME_PAYLOADS", "PAYLOADS", "code", "mdl", "payload", "spec", "xmile"]

MARKER = "marker.txt"

PAYLOADS = {
    "docstring_dq": 'x\n"""\n{code}\n"""',
    "docstring_sq": "x\n'''\n{code}\n'''",
    "backslash": 'x\\"""\\\n{code}\n"""\\',
    "backslash_lines": '"""\\{code}\\"""',  # Vensim comments: PySD turns each backslash into a newline
    "one_line": '"""; {code}; """',
    "quote_dq": '"; {code}; "',
    "quote_sq": "'; {code}; '",
    "quote_concat": "'+{code}+'",  # closes a '...' literal PySD writes a name into
    "hash_newline": "# \n{code}\n#",
    "unicode_lines": 'x\u2028"""\u2029{code}\u0085"""',
    "carriage_return": 'x\r"""\r{code}\r"""',
    "dunder_import": "__import__('os').system('touch marker.txt') or {code}",
    "fstring": "f'{{{code}}}'",
    "braces": "]}) ; {code} ; ({[",
    "very_long": "x" * 3_000 + '"""\n{code}\n"""',
    "nul": 'x\x00"""\n{code}\n"""',
}
"""Name -> template; ``{code}`` is replaced by the marker-writing code."""

NAME_PAYLOADS = [
    "docstring_dq",
    "quote_dq",
    "quote_concat",
    "braces",
    "unicode_lines",
    "dunder_import",
]
"""The payloads tried as names (each name case costs a translation when it loads)."""

FILE_NAME_PAYLOADS = ["docstring_dq", "quote_sq", "quote_concat", "hash_newline"]
"""The payloads tried as file names (made file-name safe: no '/' and no NUL)."""


def code(marker: Path | None) -> str:
    """Python that writes ``marker.txt`` in the working folder (and at ``marker``, if given)."""
    text = f"open('{MARKER}','w').write('ran')"
    if marker is not None:
        text += f";open({str(marker)!r},'w').write('ran')"
    return text


def payload(name: str, marker: Path | None) -> str:
    return PAYLOADS[name].replace("{code}", code(marker))


def spec(text: str, names: dict[str, str] | None = None) -> str:
    """A tenor spec (JSON is YAML) with ``text`` in every free-text field, or in the names given."""
    n = {"stock": "s", "dim": "D", "elem": "E1", "lookup": "g", "scenario": "base", "const": "k", "flow": "f"}
    n.update(names or {})
    free = text if names is None else "plain"
    data = {
        "name": free,
        "description": free,
        "time": {"stop": 4, "unit": free},
        "dimensions": {n["dim"]: [n["elem"], "E2"]},
        "stocks": {n["stock"]: {"initial": 1, "dimensions": [n["dim"]], "description": free, "units": free}},
        "flows": {
            n["flow"]: {
                "from": n["stock"],
                "dimensions": [n["dim"]],
                "equation": f"{n['const']} * {n['stock']} * {n['lookup']}(time)",
                "description": free,
            }
        },
        "constants": {
            n["const"]: {"value": 0.1, "description": free, "units": free, "source": free, "assumption": free}
        },
        "lookups": {
            n["lookup"]: {
                "points": [[0, 1], [10, 2]],
                "description": free,
                "units": free,
                "source": free,
                "assumption": free,
            }
        },
        "scenarios": {n["scenario"]: {"description": free, "constants": {n["const"]: 0.2}}},
    }
    return json.dumps(data, indent=1)


def _xq(name: str) -> str:
    """A name in an XMILE equation: quoted, as XMILE writes names with odd characters."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def xmile(text: str, names: dict[str, str] | None = None) -> str:
    """An XMILE model with ``text`` in every free-text field, or in the names given."""
    n = {"stock": "s", "dim": "D", "elem": "E1", "lookup": "g", "model": "m", "flow": "f", "const": "k"}
    n.update(names or {})
    free = escape(text) if names is None else "plain"
    attr = quoteattr(text) if names is None else '"plain"'

    def var(tag: str, name: str, body: str, dims: bool = False) -> str:
        d = f"<dimensions><dim name={quoteattr(n['dim'])}/></dimensions>" if dims else ""
        return f"<{tag} name={quoteattr(name)}><doc>{free}</doc><units>{free}</units>{d}{body}</{tag}>"

    flow_eqn = escape(f"{_xq(n['const'])} * {_xq(n['stock'])} * {_xq(n['lookup'])}(TIME)")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
 <header><name>{escape(n["model"]) if names else free}</name><vendor>{free}</vendor>
  <product version="1.0">{free}</product></header>
 <sim_specs method="Euler" time_units={attr}><start>0</start><stop>4</stop><dt>1</dt></sim_specs>
 <dimensions><dim name={quoteattr(n["dim"])}><elem name={quoteattr(n["elem"])}/><elem name="E2"/></dim></dimensions>
 <model name={attr if names is None else quoteattr(n["model"])}><variables>
  {var("stock", n["stock"], f"<eqn>1</eqn><outflow>{escape(_xq(n['flow']))}</outflow>", dims=True)}
  {var("flow", n["flow"], f"<eqn>{flow_eqn}</eqn>", dims=True)}
  {var("aux", n["const"], "<eqn>0.1</eqn>")}
  {var("gf", n["lookup"], '<xscale min="0" max="10"/><yscale min="1" max="2"/><ypts>1,2</ypts>')}
 </variables></model>
</xmile>
"""


def _vq(name: str) -> str:
    """A Vensim name: quoted when it is not plain."""
    return name if name.replace(" ", "").isalnum() else '"' + name.replace('"', '\\"') + '"'


def mdl(text: str, names: dict[str, str] | None = None, macro: bool = False, field: str = "comment") -> str:
    """A Vensim model with ``text`` in every comment (or units) field, or in the names given."""
    n = {"stock": "s", "dim": "D", "elem": "E1", "lookup": "g", "flow": "f", "const": "k", "macro": "twice"}
    n.update({"arg": "input", "inner": "inner"})
    n.update({k: _vq(v) for k, v in (names or {}).items()})
    free = text if names is None and field == "comment" else "plain"
    units = text if names is None and field == "units" else "plain"
    d, e = n["dim"], n["elem"]
    head = "{UTF-8}\n"
    const = "0.1"
    if macro:  # a macro with an input and a variable of its own, used by the model's constant
        m, a, inner = n["macro"], n["arg"], n["inner"]
        head += f":MACRO: {m}({a})\n{m} = {inner} * 2\n\t~\t{units}\n\t~\t{free}\t|\n\n"
        head += f"{inner} = {a}\n\t~\t{units}\n\t~\t{free}\t|\n\n:END OF MACRO:\n"
        const = f"{m}(0.05)"
    return (
        head
        + f"{d}:\n\t{e}, E2\n\t~\t\n\t~\t{free}\t|\n\n"
        + f"{n['stock']}[{d}]= INTEG (\n\t-{n['flow']}[{d}],\n\t\t1)\n\t~\t{units}\n\t~\t{free}\t|\n\n"
        + f"{n['flow']}[{d}]=\n\t{n['const']} * {n['stock']}[{d}] * {n['lookup']}(Time)\n"
        + f"\t~\t{units}\n\t~\t{free}\t|\n\n"
        + f"{n['const']}=\n\t{const}\n\t~\t{units}\n\t~\t{free}\t|\n\n"
        + f"{n['lookup']}(\n\t[(0,0)-(10,10)],(0,1),(10,2))\n\t~\t{units}\n\t~\t{free}\t|\n\n"
        + "INITIAL TIME = 0\n\t~\tMonth\n\t~\t|\n\n"
        + "FINAL TIME = 4\n\t~\tMonth\n\t~\t|\n\n"
        + "SAVEPER = TIME STEP\n\t~\tMonth\n\t~\t|\n\n"
        + "TIME STEP = 1\n\t~\tMonth\n\t~\t|\n\n"
    )
