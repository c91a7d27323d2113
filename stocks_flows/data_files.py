"""Where the data files a Vensim model names may live: inside the model's own folder.

Vensim's ``GET XLS CONSTANTS``, ``GET DIRECT DATA``, ``GET XLS LOOKUPS`` and
``GET DIRECT SUBSCRIPT`` name a spreadsheet or text file by a string in the
model. Both tenor's reader (:mod:`stocks_flows.external`) and ``--engine pysd``
(:mod:`stocks_flows.pysd_data`) resolve such a name here, by one rule: a name
that is absolute, climbs out with ``..``, is a URL or a network path, an
indirect ``?name``, a link leading out of the folder, a kind of file no reader
here reads, a missing file or one over :func:`~stocks_flows.limits.max_data_bytes`
is refused with the reason.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "inputs.csv").write_text("1,2\\n", encoding="utf-8")
>>> data_file_in("inputs.csv", folder).name
'inputs.csv'
>>> data_file_in("../../etc/passwd", folder)
Traceback (most recent call last):
...
stocks_flows.data_files.DataFileError: the file '../../etc/passwd' climbs out of the model's folder ('..')
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from stocks_flows.limits import format_bytes, max_data_bytes

__all__ = ["DATA_SUFFIXES", "DataFileError", "data_file_in", "show_name"]

DATA_SUFFIXES = (".xls", ".xlsx", ".xlsm", ".ods", ".csv", ".tab", ".txt")
"""The kinds of file PySD's readers read (spreadsheets, and text split by a separator)."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # http:, file:, a Windows drive (C:) alike


class DataFileError(ValueError):
    """A file named by a GET XLS / GET DIRECT call that will not be read; the message says why."""


def show_name(text: str, limit: int = 60) -> str:
    shown = repr(text[:limit])
    return shown[:-1] + "...'" if len(text) > limit else shown


def _parts(name: object) -> tuple[list[str], str]:
    """The parts of a relative file name (either slash), after refusing every other kind of name."""
    if not isinstance(name, str) or not name.strip():
        raise DataFileError("the file name is empty")
    shown = show_name(name)
    if not name.isprintable():
        raise DataFileError(f"the file name {shown} holds control characters")
    if name.startswith("?"):
        raise DataFileError(f"the file {shown} is an indirect reference, named elsewhere (Vensim's ?name)")
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive:
        raise DataFileError(f"the file {shown} is an absolute path")
    if _URL.match(name):
        raise DataFileError(f"the file {shown} is a URL or names a drive")
    parts = [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]
    if ".." in parts:
        raise DataFileError(f"the file {shown} climbs out of the model's folder ('..')")
    if not parts:
        raise DataFileError(f"the file {shown} names a folder")
    if PurePosixPath(parts[-1]).suffix.lower() not in DATA_SUFFIXES:
        raise DataFileError(f"the file {shown} is not of a kind PySD reads ({', '.join(DATA_SUFFIXES)})")
    return parts, shown


def data_file_in(name: object, folder: Path) -> Path:
    """The real path of the data file ``name`` names, which must lie inside ``folder`` (the model's).

    Raises :class:`DataFileError` saying why the name is refused.
    """
    parts, shown = _parts(name)
    root = folder.resolve()
    candidate = root.joinpath(*parts)
    try:
        real = candidate.resolve()
        if not real.is_relative_to(root):
            raise DataFileError(f"the file {shown} is a link that leads out of the model's folder")
        if not real.is_file():
            raise DataFileError(f"the file {shown} does not exist (looked for {candidate})")
        size = real.stat().st_size
    except (OSError, RuntimeError) as exc:  # a name too long, a loop of links
        raise DataFileError(f"the file {shown} cannot be looked up: {exc}") from None
    if size > max_data_bytes():
        raise DataFileError(
            f"the file {shown} is {format_bytes(size)}; the limit is {format_bytes(max_data_bytes())}"
            " (TENOR_MAX_DATA_BYTES raises it)"
        )
    return real
