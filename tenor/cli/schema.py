"""``tenor schema KIND``: print the JSON Schema of a spec kind, for editors to autocomplete."""

from __future__ import annotations

import importlib
import json
from enum import StrEnum

import typer

from tenor.core.errors import TenorError

__all__ = ["SCHEMAS", "register"]

SCHEMAS: dict[str, str] = {
    "causal": "causal.spec:json_schema",
    "stocks_flows": "stocks_flows.spec:json_schema",
}


class SchemaKind(StrEnum):
    causal = "causal"
    stocks_flows = "stocks_flows"


def schema(kind: SchemaKind = typer.Argument(..., help="causal or stocks_flows")) -> None:
    """Print the JSON Schema of a spec kind (point your editor's YAML plugin at it)."""
    module, func = SCHEMAS[kind.value].split(":")
    try:
        generate = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:
        raise TenorError(f"no schema for {kind.value}: {exc}") from None
    print(json.dumps(generate(), indent=2, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
