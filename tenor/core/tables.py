"""Reading tables of numbers (CSV or Parquet) with errors that name the file.

One reader for the tables tenor takes in: results of ``tenor simulate`` and
``tenor sweep`` to plot, and observed data to calibrate against. A missing
file, a folder, an unknown suffix, a file that is not what its suffix says,
or a missing Parquet engine is a :class:`~tenor.core.errors.TenorError` naming the
file, never a traceback.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "x.csv").write_text("time,x\\n0,1\\n")
>>> read_table(folder / "x.csv").to_dict("list")
{'time': [0], 'x': [1]}
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tenor.core.errors import TenorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "check_numbers", "csv_lines", "first_non_number", "read_table"]

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(path: str | Path, *, csv_suffixes: tuple[str, ...] = CSV_SUFFIXES, **csv_options: Any) -> pd.DataFrame:
    """The table in ``path``: CSV (``csv_options`` go to :func:`pandas.read_csv`) or Parquet.

    Raises
    ------
    TenorError
        When the file is missing, is a folder, has another suffix, or cannot be parsed.
    """
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise TenorError(f"{path}: file not found", hint="check the path and the current directory")
    if p.is_dir():
        raise TenorError(f"{path}: is a folder, not a file", hint="name the table file inside it")
    suffix = p.suffix.lower()
    if suffix not in csv_suffixes + PARQUET_SUFFIXES:
        raise TenorError(
            f"{path}: cannot read {suffix or 'a file without suffix'!r} tables", hint="give a .csv or .parquet file"
        )
    try:
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(p)
        return pd.read_csv(p, **csv_options)
    except ImportError as exc:
        raise TenorError(f"{path}: cannot read Parquet ({exc})", hint="pip install pyarrow") from None
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # pandas' parser errors and Arrow's are ValueErrors
        kind = "Parquet" if suffix in PARQUET_SUFFIXES else "CSV"
        raise TenorError(
            f"{path}: cannot read the {kind} file ({exc})",
            hint="save it as plain CSV (comma-separated, a header row) or Parquet",
        ) from None


def csv_lines(path: str | Path, comment: str | None = None) -> tuple[int, list[int]]:
    """The line of a CSV file's header and the line of each data row, as pandas reads them.

    Blank lines (and, with ``comment``, lines starting with it) are skipped by the reader, so
    the ``i``-th data row is not always on line ``i + 2``.
    """
    with open(path, encoding="utf-8", errors="replace") as fh:
        kept = [
            n
            for n, line in enumerate(fh, start=1)
            if line.strip() and not (comment and line.lstrip().startswith(comment))
        ]
    return (kept[0], kept[1:]) if kept else (1, [])


def first_non_number(values: pd.Series, missing: Collection[str] = ()) -> int | None:
    """The position of the first cell that is neither a number nor missing (NaN, or text in ``missing``).

    >>> import pandas as pd
    >>> first_non_number(pd.Series(["1", "", "x"]), missing={""})
    2
    """
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    blank = values.isna()
    if missing:
        blank |= values.astype(str).str.strip().str.lower().isin(missing)
    bad = (numbers.isna() & ~blank).to_numpy()
    return int(np.argmax(bad)) if bad.any() else None


def check_numbers(table: pd.DataFrame, columns: Sequence[str], source: str | Path) -> None:
    """Every cell of ``columns`` in a table read by :func:`read_table` is a number (or missing).

    Raises
    ------
    TenorError
        Naming the file, the line (CSV) or row (Parquet) and the column of the first cell that is not.
    """
    import numpy as np
    from pandas.api.types import is_numeric_dtype

    csv = Path(source).suffix.lower() not in PARQUET_SUFFIXES
    for column in dict.fromkeys(columns):
        if column not in table.columns or is_numeric_dtype(table[column]):
            continue
        i = first_non_number(table[column])
        if i is None:
            continue
        label = table.index[i]
        if not isinstance(label, int | np.integer):
            where = f"row {label}"
        elif csv:
            lines = csv_lines(source)[1]
            where = f"line {lines[label] if label < len(lines) else label + 2}"
        else:
            where = f"row {label + 1}"
        raise TenorError(
            f"{source}: {where}, column {column!r}: {table[column].iloc[i]!r} is not a number",
            hint="write a number, or leave the cell empty for a missing value",
        )
