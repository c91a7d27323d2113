"""``tenor serve PATH [--port 8765] [--host 127.0.0.1] [--open]``: a live page beside the editor.

PATH is a causal spec, a stock-and-flow model or an example folder. The page
redraws when the file is saved, shows located errors while it is invalid,
and re-runs the model as its sliders move. The command prints
``serving http://127.0.0.1:PORT/`` once it listens, and runs until
interrupted (Ctrl-C). Only this machine can reach it unless ``--host`` says
otherwise (with a warning). See ``docs/serve.md``.
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register", "serve"]


def serve(
    path: Path = typer.Argument(..., help="A causal spec, a stock-and-flow model, or a folder holding them."),
    port: int = typer.Option(8765, "--port", "-p", min=0, max=65535, help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (other than loopback: a warning)."),
    open_: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
) -> None:
    """Serve a live page of a spec or model: redrawn on save, re-run by sliders."""
    from tenor.app.serve import serve as run_server

    run_server(path, host=host, port=port, open_browser=open_)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
