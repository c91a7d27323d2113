"""The ``tenor`` app: global options, command groups, and errors mapped to exit codes.

Exit codes: 0 all good; 1 a check failed (a claim does not hold); 2 bad input
(an invalid spec, a missing file, a bad option); 3 an internal error (the
traceback goes to a log file, or to the screen with ``--debug``); 130
interrupted. Each command group lives in its own module under ``tenor.cli``
and registers itself with :func:`register`.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence

import typer

from tenor.core.errors import TenorError

__all__ = ["EXIT_ERROR", "EXIT_FAIL", "EXIT_INTERNAL", "EXIT_OK", "app", "main", "version_text"]

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3

app = typer.Typer(
    name="tenor",
    help="Causal graphs and stock-and-flow models: check, analyse, simulate, draw.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version_text() -> str:
    """``tenor X.Y.Z``, the installed package's version (from its metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"tenor {version('tenor')}"
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "tenor (version unknown: not installed)"


def _show_version(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Causal graphs and stock-and-flow models: check, analyse, simulate, draw."""


# Command modules, each with a ``register(app)`` function.
_COMMAND_MODULES = [
    "causal",
    "schema",
    "identify",
    "sd",
    "loops",
    "draw",
    "run",
    "calibrate",
    "sensitivity",
    "serve",
]

for _name in _COMMAND_MODULES:
    importlib.import_module(f"tenor.cli.{_name}").register(app)


_MULTI_OPTIONS = {"--given", "--x", "--y", "--treatment", "--outcome"}
_NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def expand_multi_options(args: list[str]) -> list[str]:
    """Let node-set options take several names: ``--given a b`` means ``--given a --given b``.

    >>> expand_multi_options(["g.yaml", "--given", "a", "b", "--json"])
    ['g.yaml', '--given', 'a', '--given', 'b', '--json']
    """
    out: list[str] = []
    current: str | None = None
    first = False
    for arg in args:
        if arg in _MULTI_OPTIONS:
            current, first = arg, True
            out.append(arg)
            continue
        if current is not None:
            if first:
                out.append(arg)
                first = False
                continue
            if _NODE_NAME.match(arg):
                out += [current, arg]
                continue
            current = None
        out.append(arg)
    return out


def _report_error(err: TenorError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": err.to_dict()}, indent=2))
    else:
        print(f"error: {err}" if not hasattr(err, "diagnostics") else str(err), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    as_json = "--json" in args
    args = expand_multi_options(args)
    try:
        code = app(args=args, prog_name="tenor", standalone_mode=False)
    except TenorError as err:
        _report_error(err, as_json)
        code = EXIT_ERROR
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        code = 130
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"error: {exc}", file=sys.stderr)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception:
        if debug:
            traceback.print_exc()
        else:
            fd, log = tempfile.mkstemp(prefix="tenor-error-", suffix=".log")
            with os.fdopen(fd, "w") as fh:
                traceback.print_exc(file=fh)
            kind = sys.exc_info()[0]
            print(
                f"internal error ({kind.__name__ if kind else 'unknown'}); details in {log}\n"
                "  hint: run again with --debug to see the traceback, and please report it",
                file=sys.stderr,
            )
        code = EXIT_INTERNAL
    if code is None:
        code = EXIT_OK
    if argv is None:
        sys.exit(code)
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    main()
