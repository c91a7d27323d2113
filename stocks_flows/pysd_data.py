"""The data files a Vensim model reads (GET XLS / GET DIRECT), copied for PySD.

When PySD is handed a model file (``--engine pysd``), each file the model names
is resolved inside the model's own folder (:func:`stocks_flows.data_files.data_file_in`)
and copied, under a generated name (``data_0.xlsx``), into the private folder
PySD's module is written to; the module reads only that copy.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from stocks_flows.data_files import DataFileError, data_file_in, show_name

__all__ = ["DataFiles"]


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
            raise DataFileError(f"the file {show_name(str(name))} cannot be read: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                raise DataFileError(f"the file {show_name(str(name))} is not a regular file")
            target = self.private / copy
            with open(target, "xb") as out:
                shutil.copyfileobj(source, out)
        self.names[real] = copy
        return copy
