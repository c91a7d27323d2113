"""The report of ``tenor run``: a Markdown page and the claims as JSON.

Examples
--------
>>> import tempfile, pathlib
>>> summary = {"file": "c.yaml", "nodes": 2, "edges": 1, "lag_unit": "day", "ok": True,
...            "channels": [], "claims": []}
>>> [p.name for p in write_report(summary, pathlib.Path(tempfile.mkdtemp()))]
['claims.json', 'report.md']
"""

from __future__ import annotations

import json
from pathlib import Path

from tenor.output import write_text

__all__ = ["markdown_report", "write_report"]


def _lag(days: float | None, unit: str) -> str:
    from causal.spec import format_days

    return "?" if days is None else format_days(days)


def markdown_report(summary: dict) -> str:
    """The check summary as Markdown: channels table, then claims table."""
    lines = [f"# {summary['file']}", "", f"{summary['nodes']} nodes, {summary['edges']} edges.", ""]
    if summary["channels"]:
        lines += ["## Channels", "", "| channel | path | sign | magnitude | total lag |", "|---|---|---|---|---|"]
        for ch in summary["channels"]:
            mag = "?" if ch["magnitude"] is None else f"{ch['magnitude']:.3g}"
            lines.append(
                f"| {ch['label']} | {' → '.join(ch['path'])} | {ch['sign'] or '?'} | {mag} | "
                f"{_lag(ch['lag_days'], summary['lag_unit'])} |"
            )
        lines.append("")
    if summary["claims"]:
        lines += ["## Claims", "", "| claim | verdict | why |", "|---|---|---|"]
        for c in summary["claims"]:
            verdict = {True: "holds", False: "**fails**", None: "undecided"}[c["holds"]]
            text = c["says"] or c["statement"]
            lines.append(f"| {text} | {verdict} | {c['statement']}: {c['detail']} |")
        lines.append("")
    return "\n".join(lines)


def write_report(summary: dict, out: Path) -> list[Path]:
    """Write ``claims.json`` and ``report.md`` into ``out``; return the paths written."""
    out = Path(out)
    claims = out / "claims.json"
    report = out / "report.md"
    write_text(claims, json.dumps(summary, indent=2) + "\n")
    write_text(report, markdown_report(summary))
    return [claims, report]
