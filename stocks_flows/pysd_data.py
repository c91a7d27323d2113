"""The data files a Vensim model reads (GET XLS / GET DIRECT), for PySD.

Vensim's ``GET XLS CONSTANTS``, ``GET DIRECT DATA``, ``GET XLS LOOKUPS`` and
``GET DIRECT SUBSCRIPT`` name a spreadsheet or text file by a string in the
model. When PySD is handed a model file (``--engine pysd``), each such file
is resolved here *inside the model's own folder* and copied, under a generated
name (``data_0.xlsx``), into the private folder PySD's module is written to;
the module reads only that copy. A name that is absolute, climbs out with
``..``, is a URL or a network path, an indirect ``?name``, a link leading
out of the folder, a kind of file PySD does not read, or a missing file is
refused with the reason.

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
stocks_flows.pysd_data.DataFileError: the file '../../etc/passwd' climbs out of the model's folder ('..')
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from stocks_flows.limits import format_bytes, max_data_bytes

__all__ = ["DATA_SUFFIXES", "DataFileError", "DataFiles", "data_file_in"]

DATA_SUFFIXES = (".xls", ".xlsx", ".xlsm", ".ods", ".csv", ".tab", ".txt")
"""The kinds of file PySD's readers read (spreadsheets, and text split by a separator)."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # http:, file:, a Windows drive (C:) alike


class DataFileError(ValueError):
    """A file named by a GET XLS / GET DIRECT call that will not be read; the message says why."""


def _show(text: str, limit: int = 60) -> str:
    shown = repr(text[:limit])
    return shown[:-1] + "...'" if len(text) > limit else shown


def _parts(name: object) -> tuple[list[str], str]:
    """The parts of a relative file name (either slash), after refusing every other kind of name."""
    if not isinstance(name, str) or not name.strip():
        raise DataFileError("the file name is empty")
    shown = _show(name)
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


class DataFiles:
    """Copies of the data files a model names, in ``private`` under generated names, one copy per file.

    >>> import tempfile
    >>> model, private = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> _ = (model / "in.CSV").write_text("1\\n", encoding="utf-8")
    >>> files = DataFiles(model, private)
    >>> files.copy("in.CSV"), files.copy("./in.CSV")
    ('data_0.csv', 'data_0.csv')
    """

    def __init__(self, model_folder: Path, private: Path) -> None:
        self.model_folder = Path(model_folder)
        self.private = Path(private)
        self.names: dict[Path, str] = {}

    def copy(self, name: object) -> str:
        """The generated name of the copy of the file ``name`` names (copied on first use)."""
        real = data_file_in(name, self.model_folder)
        if real in self.names:
            return self.names[real]
        copy = f"data_{len(self.names)}{real.suffix.lower()}"
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(real, flags)
        except OSError as exc:
            raise DataFileError(f"the file {_show(str(name))} cannot be read: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                raise DataFileError(f"the file {_show(str(name))} is not a regular file")
            target = self.private / copy
            with open(target, "xb") as out:
                shutil.copyfileobj(source, out)
        self.names[real] = copy
        return copy
