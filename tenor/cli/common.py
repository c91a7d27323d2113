"""What the command modules share: consoles, JSON output, help texts."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

__all__ = ["GRAPH_HELP", "emit_json", "out_console"]

GRAPH_HELP = "A tenor spec (.yaml/.yml), a dagitty file (.dagitty), or - for standard input."


def out_console() -> Console:
    return Console(soft_wrap=True)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on standard output."""
    print(json.dumps(data, indent=2, default=str))
