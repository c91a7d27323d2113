"""Data files a Vensim model names: GET XLS / GET DIRECT and DATA variables.

Vensim reads numbers from spreadsheets (``.xlsx``, ``.xls``) and text tables
(``.csv``, ``.tab``) with ``GET XLS CONSTANTS``/``GET DIRECT CONSTANTS``,
``... LOOKUPS``, ``... DATA`` and ``... SUBSCRIPT``. tenor reads them as data:
a model file names files, it never runs code. Only files inside the model's
own folder are read (no ``..``, no absolute path, no link leading out, no URL).

Cell conventions (Vensim's):

* a cell is written ``B5`` (column letters, row from 1); anything else is the
  name of a named range of the workbook (local to the sheet, or global);
* a constant's block starts at its top-left cell and has the shape of the
  variable's subscripts (the ones with more than one element: a row for one,
  rows x columns for two); a trailing ``*`` reads it transposed (down a column);
* a lookup or data series gives its x (or time) values in a row (a row number,
  ``'4'``), a column (column letters, ``'B'``) or a named range; the values of
  each element follow, one row (or column) per element, from the given cell on.

Missing cells (empty, or text in the row or column of x/time values) are what
Vensim and PySD make of them: a point without an x is dropped, and a missing
value is filled with the interpolation method of the variable (at the ends,
the nearest value). A constant's cell must hold a number, and so must every
filled cell of a table: anything else is a :class:`SpecError` naming the file,
the sheet and the cell.

Examples
--------
>>> cell_position("B5"), cell_position("AA10"), cell_position("time")
((4, 1), (9, 26), None)
>>> cell_name(4, 1)
'B5'
>>> table_shape([3, 1, 2])
(3, 2)
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from stocks_flows.data_files import DataFileError, data_file_in
from stocks_flows.model import Lookup, element_name
from tenor.core.errors import ExportError, SpecError

__all__ = [
    "MODES",
    "Origin",
    "Sheet",
    "add_data",
    "add_given_data",
    "add_lookups",
    "cell_name",
    "cell_position",
    "column_key",
    "column_number",
    "constants",
    "data_columns",
    "data_path",
    "fill_missing",
    "read_constants",
    "read_sheet",
    "read_subscript",
    "reference_line",
    "series",
    "subscript_elements",
    "table_shape",
    "xmile_lookup_type",
]

MODES = ("interpolate", "hold_backward", "look_forward", "raw")
"""Vensim's keywords for reading a DATA variable between its points (``:HOLD BACKWARD:`` ...)."""

_SPREADSHEETS = {".xlsx", ".xlsm", ".xls"}
_TEXT_TABLES = {".csv", ".tab", ".txt"}
_EMPTY, _NUMBER, _TEXT = 0, 1, 2


@dataclass(frozen=True)
class Origin:
    """Where a data file is named: the model file, the line and the variable."""

    model: str
    line: int | None
    variable: str
    construct: str = ""

    def error(self, message: str, hint: str) -> SpecError:
        text = f"{self.construct}: {message}" if self.construct else message
        return SpecError(text, file=self.model, line=self.line, key=self.variable, hint=hint)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook (or a whole text table) as a grid of cells.

    ``values`` holds the numbers (NaN elsewhere), ``kinds`` whether each cell
    is empty (0), a number (1) or text (2); ``names`` maps a named range that
    lies on this sheet (lower case) to its (first row, first column, last row
    + 1, last column + 1), rows and columns from 0.
    """

    file: str
    name: str
    values: np.ndarray
    kinds: np.ndarray
    text: dict[tuple[int, int], str] = field(default_factory=dict)
    names: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.file!r}, sheet {self.name!r}"

    def block(self, r0: int, c0: int, r1: int | None, c1: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Values and kinds of rows ``r0:r1``, columns ``c0:c1`` (cells past the sheet's end are empty)."""
        rows, cols = self.values.shape
        r1 = rows if r1 is None else r1
        c1 = cols if c1 is None else c1
        values = np.full((max(r1 - r0, 0), max(c1 - c0, 0)), np.nan)
        kinds = np.zeros(values.shape, dtype=np.int8)
        hr, hc = min(r1, rows) - r0, min(c1, cols) - c0
        if hr > 0 and hc > 0:
            values[:hr, :hc] = self.values[r0 : r0 + hr, c0 : c0 + hc]
            kinds[:hr, :hc] = self.kinds[r0 : r0 + hr, c0 : c0 + hc]
        return values, kinds


# --- cell references ---------------------------------------------------------------------------


def column_number(letters: str) -> int:
    """Column letters as a number from 0 (``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26).

    >>> column_number("C"), column_number("az")
    (2, 51)
    """
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - ord("A") + 1)
    return number - 1


def cell_position(text: str) -> tuple[int, int] | None:
    """(row, column) from 0 of a cell written ``B5`` (``$`` signs allowed), None if it is not one."""
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?([0-9]+)", text.strip())
    if m is None or int(m.group(2)) == 0:
        return None
    return int(m.group(2)) - 1, column_number(m.group(1))


def cell_name(row: int, col: int) -> str:
    """A cell's A1 name from its row and column (both from 0)."""
    letters, n = "", col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return f"{letters}{row + 1}"


def table_shape(lengths: list[int]) -> tuple[int, int]:
    """The (rows, columns) a block of values has in a sheet, from the lengths of a variable's subscripts.

    Subscripts with one element do not count (Vensim's rule): none left is one
    cell, one left is a row, two are rows by columns.

    >>> table_shape([]), table_shape([4]), table_shape([1, 4]), table_shape([2, 3])
    ((1, 1), (1, 4), (1, 4), (2, 3))
    """
    wide = [n for n in lengths if n > 1]
    if len(wide) > 2:
        raise ValueError("more than two subscripts with several elements")
    return (1, 1) if not wide else (1, wide[0]) if len(wide) == 1 else (wide[0], wide[1])


# --- files -----------------------------------------------------------------------------------


def data_path(folder: Path, name: str, origin: Origin) -> Path:
    """The data file ``name`` of a model in ``folder``, refused unless it lies inside that folder.

    The rule is :func:`stocks_flows.data_files.data_file_in`'s, the one ``--engine pysd`` keeps too.
    """
    try:
        path = data_file_in(name.strip(), folder)
    except DataFileError as err:
        raise origin.error(
            f"{err}: tenor reads data files inside the model's folder only",
            "put the data file in the model's folder (or a folder under it) and name it relative to the model",
        ) from None
    if path.suffix.lower() not in _SPREADSHEETS | _TEXT_TABLES:
        raise origin.error(
            f"the data file {name.strip()!r} is of a kind tenor does not read ({path.suffix or 'no suffix'})",
            "give a spreadsheet (.xlsx, .xls) or a text table (.csv, .tab)",
        )
    return path


def read_sheet(path: Path, sheet: str, origin: Origin, shown: str | None = None) -> Sheet:
    """One sheet of a workbook (its name matched without case), or a text table (``sheet`` is then
    the separator when it is not a letter or digit)."""
    stat = path.stat()
    try:
        found = _load(str(path), sheet, stat.st_mtime_ns, stat.st_size)
    except SpecError as err:
        raise origin.error(f"{shown or path.name!r}: {err.message}", err.hint or "") from None
    except Exception as exc:  # a corrupt or mislabelled file: say so, located
        raise origin.error(
            f"cannot read the data file {shown or path.name!r} ({type(exc).__name__}: {str(exc)[:120]})",
            "check that the file opens in a spreadsheet program and has the kind its suffix says",
        ) from None
    if found is None:
        raise origin.error(
            f"the data file {shown or path.name!r} has no sheet {sheet!r}",
            "check the sheet's name (the second argument of GET XLS / GET DIRECT)",
        )
    return Sheet(shown or path.name, found.name, found.values, found.kinds, found.text, found.names)


@lru_cache(maxsize=16)
def _load(path: str, sheet: str, _mtime: int, _size: int) -> Sheet | None:
    suffix = Path(path).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _load_xlsx(path, sheet)
    if suffix == ".xls":
        return _load_xls(path, sheet)
    return _load_text(path, sheet)


def _grid(rows: list[list[object]], name: str, file: str, names: dict[str, tuple[int, int, int, int]]) -> Sheet:
    width = max((len(r) for r in rows), default=0)
    values = np.full((len(rows), width), np.nan)
    kinds = np.zeros((len(rows), width), dtype=np.int8)
    text: dict[tuple[int, int], str] = {}
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v)):
                values[i, j], kinds[i, j] = float(v), _NUMBER
            else:
                kinds[i, j], text[(i, j)] = _TEXT, str(v)
    return Sheet(file, name, values, kinds, text, names)


def _range(ref: str) -> tuple[int, int, int, int] | None:
    first, _, last = ref.replace("$", "").partition(":")
    a, b = cell_position(first), cell_position(last or first)
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]) + 1, max(a[1], b[1]) + 1


def _load_xlsx(path: str, sheet: str) -> Sheet | None:
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=True)
    try:
        title = next((t for t in book.sheetnames if t.lower() == sheet.lower()), None)
        if title is None:
            return None
        ws = book[title]
        names: dict[str, tuple[int, int, int, int]] = {}
        for scope in (book.defined_names, ws.defined_names):  # the sheet's own names win
            for key, defined in scope.items():
                for target, ref in defined.destinations:
                    box = _range(ref)
                    if target.lower() == title.lower() and box is not None:
                        names[key.lower()] = box
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        return _grid(rows, title, Path(path).name, names)
    finally:
        book.close()


def _load_xls(path: str, sheet: str) -> Sheet | None:
    import xlrd

    book = xlrd.open_workbook(path, on_demand=True)
    try:
        title = next((t for t in book.sheet_names() if t.lower() == sheet.lower()), None)
        if title is None:
            return None
        ws = book.sheet_by_name(title)
        rows: list[list[object]] = []
        for i in range(ws.nrows):
            row: list[object] = []
            for j in range(ws.ncols):
                cell = ws.cell(i, j)
                if cell.ctype == xlrd.XL_CELL_NUMBER:
                    row.append(float(cell.value))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                else:
                    row.append(str(cell.value))
            rows.append(row)
        return _grid(rows, title, Path(path).name, {})
    finally:
        book.release_resources()


def _load_text(path: str, sheet: str) -> Sheet:
    suffix = Path(path).suffix.lower()
    sep = sheet if len(sheet) == 1 and not sheet.isalnum() else ("," if suffix == ".csv" else "\t")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        raw = list(csv.reader(handle, delimiter=sep))
    rows: list[list[object]] = []
    for line in raw:
        row: list[object] = []
        for v in line:
            try:
                row.append(float(v))
            except ValueError:
                row.append(v if v.strip() else None)
        rows.append(row)
    return _grid(rows, Path(path).stem, Path(path).name, {})


# --- reading values --------------------------------------------------------------------------


def _locate(sheet: Sheet, ref: str, origin: Origin) -> tuple[int, int, int, int] | None:
    """A named range's box, or None when ``ref`` is a cell."""
    if cell_position(ref) is not None:
        return None
    box = sheet.names.get(ref.strip().lower())
    if box is None:
        raise origin.error(
            f"{sheet.where} has no cell or named range {ref!r}",
            "write a cell as column letters and a row number (B5), or define the named range on this sheet",
        )
    return box


def _check_numbers(sheet: Sheet, values: np.ndarray, kinds: np.ndarray, r0: int, c0: int, origin: Origin) -> None:
    bad = np.argwhere(kinds != _NUMBER)
    if len(bad):
        i, j = (int(v) for v in bad[0])
        cell = cell_name(r0 + i, c0 + j)
        found = sheet.text.get((r0 + i, c0 + j))
        what = f"holds the text {found!r}" if found is not None else "is empty"
        raise origin.error(
            f"{sheet.where}, cell {cell} {what}: a number is needed there",
            "put a number in the cell, or point the reference at the cells that hold the values",
        )


def constants(sheet: Sheet, cell: str, shape: tuple[int, int], origin: Origin) -> np.ndarray:
    """GET XLS/DIRECT CONSTANTS: the block of ``shape`` (rows, columns) at ``cell`` (a named range
    must have that shape); ``cell`` ending in ``*`` reads the block transposed."""
    transpose = cell.strip().endswith("*") and shape[0] * shape[1] > 1
    ref = cell.strip().rstrip("*")
    want = (shape[1], shape[0]) if transpose else shape
    box = _locate(sheet, ref, origin)
    if box is None:
        r0, c0 = cell_position(ref)  # type: ignore[misc]
        box = (r0, c0, r0 + want[0], c0 + want[1])
    elif (box[2] - box[0], box[3] - box[1]) != want:
        raise origin.error(
            f"{sheet.where}: the named range {ref!r} is {box[2] - box[0]} x {box[3] - box[1]} cells; "
            f"the variable needs {want[0]} x {want[1]}",
            "make the range as large as the variable's subscripts (a trailing * reads it down a column)",
        )
    values, kinds = sheet.block(*box)
    _check_numbers(sheet, values, kinds, box[0], box[1], origin)
    return values.T if transpose else values


def series(sheet: Sheet, x_at: str, cell: str, size: int, mode: str, origin: Origin) -> tuple[np.ndarray, np.ndarray]:
    """GET XLS/DIRECT LOOKUPS and DATA: (x values, values with one column per element).

    ``x_at`` is a row number, column letters or a named range; ``cell`` is the
    first value's cell (or a named range); ``size`` elements are read. Points
    without an x are dropped, the points are sorted by x, and missing values
    are filled by :func:`fill_missing` (kept missing for ``raw``).
    """
    xs, data, kinds, box = _series_cells(sheet, x_at.strip(), cell.strip(), size, origin)
    keep = ~np.isnan(xs)
    if not keep.any():
        raise origin.error(
            f"{sheet.where}: no number where the x (or time) values should be ({x_at!r})",
            "check the row, column or named range of the x values",
        )
    rows = np.flatnonzero(keep)
    xs, data, kinds = xs[keep], data[keep], kinds[keep]
    where_text = np.argwhere(kinds == _TEXT)
    if len(where_text):
        i, j = (int(v) for v in where_text[0])
        row, col = box(int(rows[i]), j)
        raise origin.error(
            f"{sheet.where}, cell {cell_name(row, col)} holds the text {sheet.text.get((row, col), '')!r}: "
            "a number is needed there",
            "put a number in the cell, or leave it empty for a missing value (filled as Vensim fills it)",
        )
    order = np.argsort(xs, kind="stable")
    xs, data = xs[order], data[order]
    if np.any(np.diff(xs) == 0):
        raise origin.error(
            f"{sheet.where}: the x (or time) values at {x_at!r} repeat {xs[np.argmax(np.diff(xs) == 0)]:g}",
            "give each x value once",
        )
    if mode != "raw":
        for k in range(data.shape[1]):
            if np.isnan(data[:, k]).all():
                raise origin.error(
                    f"{sheet.where}: the values at {cell!r} (element {k + 1}) are all missing",
                    "fill the cells, or point the reference at the cells that hold the values",
                )
            data[:, k] = fill_missing(xs, data[:, k], mode)
    return xs, data


def _series_cells(
    sheet: Sheet, x_at: str, cell: str, size: int, origin: Origin
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Callable[[int, int], tuple[int, int]]]:
    """x values, value block and its kinds (one row per x), and the sheet position of a value."""
    if x_at.isdigit():  # x values across a row
        start = _first_cell(sheet, cell, origin)
        r0, c0 = start
        xv, xk = sheet.block(int(x_at) - 1, c0, int(x_at), None)
        xs = np.where(xk[0] == _NUMBER, xv[0], np.nan)
        last = int(np.flatnonzero(~np.isnan(xs))[-1]) + 1 if (~np.isnan(xs)).any() else 0
        xs = xs[:last]
        values, kinds = sheet.block(r0, c0, r0 + size, c0 + last)
        return xs, values.T.copy(), kinds.T.copy(), lambda i, j: (r0 + j, c0 + i)
    if cell_position(cell) is not None and re.fullmatch(r"[A-Za-z]{1,3}", x_at):  # down a column
        r0, c0 = _first_cell(sheet, cell, origin)
        col = column_number(x_at)
        xv, xk = sheet.block(r0, col, None, col + 1)
        xs = np.where(xk[:, 0] == _NUMBER, xv[:, 0], np.nan)
        last = int(np.flatnonzero(~np.isnan(xs))[-1]) + 1 if (~np.isnan(xs)).any() else 0
        xs = xs[:last]
        values, kinds = sheet.block(r0, c0, r0 + last, c0 + size)
        return xs, values, kinds, lambda i, j: (r0 + i, c0 + j)
    xbox, vbox = _locate(sheet, x_at, origin), _locate(sheet, cell, origin)
    if xbox is None or vbox is None:
        raise origin.error(
            f"{sheet.where}: x values at {x_at!r} and values at {cell!r} mix a cell and a named range",
            "give a row number or column letters with a first cell, or two named ranges",
        )
    xv, xk = sheet.block(*xbox)
    if xv.shape[0] > 1 and xv.shape[1] > 1:
        raise origin.error(f"{sheet.where}: the named range {x_at!r} is a table, not a row or column", "fix the range")
    across = xv.shape[0] == 1
    xs = np.where(xk.reshape(-1) == _NUMBER, xv.reshape(-1), np.nan)
    values, kinds = sheet.block(*vbox)
    if across:
        values, kinds = values.T.copy(), kinds.T.copy()
    if values.shape != (len(xs), size):
        raise origin.error(
            f"{sheet.where}: the named range {cell!r} holds {values.shape[0]} x {values.shape[1]} values for "
            f"{len(xs)} x values and {size} element(s)",
            "make the ranges match the x values and the variable's subscripts",
        )

    def position(i: int, j: int) -> tuple[int, int]:
        return vbox[0] + (j if across else i), vbox[1] + (i if across else j)

    return xs, values, kinds, position


def _first_cell(sheet: Sheet, cell: str, origin: Origin) -> tuple[int, int]:
    found = cell_position(cell)
    if found is None:
        raise origin.error(
            f"{sheet.where}: {cell!r} is not a cell (with x values given by row or column, the values start at a cell "
            "such as C5)",
            "write the first value's cell as column letters and a row number",
        )
    return found


def fill_missing(xs: np.ndarray, ys: np.ndarray, mode: str) -> np.ndarray:
    """Missing values (NaN) of a series filled as Vensim and PySD fill them: the nearest value past
    either end, else by ``mode`` (linear interpolation, the last value before, the next value after).

    >>> fill_missing(np.array([0., 1, 2, 3]), np.array([np.nan, 1, np.nan, 3]), "hold_backward")
    array([1., 1., 1., 3.])
    >>> fill_missing(np.array([0., 1, 2, 3]), np.array([0, np.nan, np.nan, 3]), "interpolate")
    array([0., 1., 2., 3.])
    """
    out = np.array(ys, dtype=float)
    known = ~np.isnan(out)
    kx, ky = xs[known], out[known]
    for i in np.flatnonzero(~known):
        x = xs[i]
        if x >= kx[-1]:
            out[i] = ky[-1]
        elif x <= kx[0]:
            out[i] = ky[0]
        elif mode == "look_forward":
            out[i] = ky[kx >= x][0]
        elif mode == "hold_backward":
            out[i] = ky[kx <= x][-1]
        else:
            out[i] = np.interp(x, kx, ky)
    return out


def subscript_elements(sheet: Sheet, first: str, last: str, prefix: str, origin: Origin) -> list[str]:
    """GET XLS/DIRECT SUBSCRIPT: the elements written in the cells from ``first`` to ``last`` (a cell, a
    row number, column letters, or empty for the sheet's end; ``first`` may be a named range), row by
    row, each after ``prefix``; empty cells are skipped. A whole number is written without ``.0``."""
    box = _locate(sheet, first.strip(), origin)
    if box is None:
        r0, c0 = cell_position(first)  # type: ignore[misc]
        r1: int | None = None
        c1: int | None = None
        end = last.strip()
        if cell_position(end) is not None:
            r1, c1 = (v + 1 for v in cell_position(end))  # type: ignore[union-attr]
        elif end.isdigit():
            r1 = int(end)
        elif end:
            c1 = column_number(end) + 1
        box = (r0, c0, r1, c1)  # type: ignore[assignment]
    values, kinds = sheet.block(*box)
    elements = []
    for (i, j), kind in np.ndenumerate(kinds):
        if kind == _NUMBER:
            v = float(values[i, j])
            elements.append(prefix + (str(int(v)) if v.is_integer() else repr(v)))
        elif kind == _TEXT:
            elements.append(prefix + sheet.text[(box[0] + i, box[1] + j)].strip())
    if not elements:
        raise origin.error(f"{sheet.where}: no elements in the cells from {first!r} to {last!r}", "check the cells")
    return elements


# --- a model's references to files (called by the Vensim reader) --------------------------------


def reference_line(model: str, name: str, text: str) -> int | None:
    """Line of the model file where equation of ``name`` names ``text`` (e.g. a cell, quoted);
    else the line where ``name`` is defined. Vensim's equations end with ``|``."""
    try:
        source = Path(model).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    key = _name_key(name)
    first = None
    line = 1
    text = text.strip()
    for chunk in source.split("|"):
        head = re.sub(r"^\s*(\{[^}]*\}\s*)?", "", chunk)  # the file's {UTF-8} mark is no name
        start = line + chunk[: len(chunk) - len(head)].count("\n")
        defined = re.match(r'("[^"]+"|[^=(\[:~{}]+)', head)
        if defined and _name_key(defined.group(1)) == key:
            first = first or start
            for quote in ("'", '"') if text else ():
                at = chunk.find(f"{quote}{text}{quote}")
                if at >= 0:
                    return line + chunk[:at].count("\n")
        line += chunk.count("\n")
    return first


def _name_key(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.replace("\\\n", " ").strip().strip('"').lower())


def _origin(model: str, name: str, cell: str, kind: str) -> Origin:
    """Where the definition of ``name`` naming ``cell`` is, and its function in the model's words
    (``GET XLS CONSTANTS``, ``GET DIRECT DATA`` ...; ``kind`` is CONSTANTS, LOOKUPS, DATA or SUBSCRIPT)."""
    line = reference_line(model, name, cell.strip())
    construct = f"GET XLS / GET DIRECT {kind}"
    if line is not None:
        try:
            text = Path(model).read_text(encoding="utf-8", errors="replace").splitlines()[line - 1]
        except (OSError, IndexError):
            text = ""
        found = re.search(rf"GET[ _]+(XLS|DIRECT|123)[ _]+{kind}", text, re.IGNORECASE)
        if found:
            construct = f"GET {found.group(1).upper()} {kind}"
    return Origin(model, line, name, construct)


def _sheet(model: str, origin: Origin, file: str, tab: str) -> Sheet:
    path = data_path(Path(model).parent, file, origin)
    return read_sheet(path, tab, origin, shown=file)


def _lengths(conv: object, subs: list[str]) -> list[int]:
    dims: dict[str, tuple[str, ...]] = conv.dimensions  # type: ignore[attr-defined]
    return [len(dims[s]) if s in dims else 1 for s in subs]


def _combos(conv: object, subs: list[str]) -> list[tuple[str, ...]]:
    import itertools

    dims: dict[str, tuple[str, ...]] = conv.dimensions  # type: ignore[attr-defined]
    return list(itertools.product(*[dims.get(s, (s,)) for s in subs]))


def read_constants(conv: object, name: str, subs: list[str], found: object) -> np.ndarray:
    """GET XLS/DIRECT CONSTANTS of one definition of ``name`` over ``subs``: its values, flat, in the
    order of the subscripts' elements."""
    model: str = conv.where  # type: ignore[attr-defined]
    file, tab, cell = (str(getattr(found, k)) for k in ("file", "tab", "cell"))
    lengths = _lengths(conv, subs)
    origin = _origin(model, name, cell, "CONSTANTS")
    try:
        shape = table_shape(lengths)
    except ValueError:
        raise origin.error(
            "a block over more than two subscripts with several elements",
            "split the definition so that each reads a table (rows x columns)",
        ) from None
    return constants(_sheet(model, origin, file, tab), cell, shape, origin).reshape(-1)


def read_subscript(model: str, dimension: str, spec: dict[str, str]) -> list[str]:
    """GET XLS/DIRECT SUBSCRIPT: a dimension's elements read from a file."""
    origin = _origin(model, dimension, spec.get("firstcell", ""), "SUBSCRIPT")
    sheet = _sheet(model, origin, spec["file"], spec["tab"])
    return subscript_elements(sheet, spec["firstcell"], spec.get("lastcell", ""), spec.get("prefix", ""), origin)


def add_lookups(conv: object, name: str, subs: list[str], found: object) -> None:
    """GET XLS/DIRECT LOOKUPS: one lookup table per element of this definition of ``name``."""
    file, tab, x_at, cell = (getattr(found, k) for k in ("file", "tab", "x_row_or_col", "cell"))
    xs, data, origin = _read_series(conv, name, subs, file, tab, x_at, cell, "lookup")
    _keep(conv, name, subs, [(xs, data[:, k]) for k in range(data.shape[1])], "interpolate", origin)


def add_data(conv: object, name: str, subs: list[str], found: object, keyword: str | None) -> str:
    """GET XLS/DIRECT DATA of ``name``: tables over Time, one per element, named ``name (data)``
    (returned); the variable is that table read at the current time."""
    mode = (keyword or "interpolate").replace(" ", "_").lower()
    file, tab, t_at, cell = (getattr(found, k) for k in ("file", "tab", "time_row_or_col", "cell"))
    xs, data, origin = _read_series(conv, name, subs, file, tab, t_at, cell, mode)
    table = f"{name} (data)"
    _keep(conv, table, subs, [(xs, data[:, k]) for k in range(data.shape[1])], mode, origin)
    return table


def _read_series(
    conv: object, name: str, subs: list[str], file: str, tab: str, x_at: str, cell: str, mode: str
) -> tuple[np.ndarray, np.ndarray, Origin]:
    model: str = conv.where  # type: ignore[attr-defined]
    origin = _origin(model, name, cell, "LOOKUPS" if mode == "lookup" else "DATA")
    mode = "interpolate" if mode == "lookup" else mode
    if mode not in MODES:
        raise origin.error(
            f"the keyword {mode!r} is not one of Vensim's", "use INTERPOLATE, HOLD BACKWARD, LOOK FORWARD or RAW"
        )
    lengths = _lengths(conv, subs)
    if sum(1 for n in lengths if n > 1) > 1:
        raise origin.error(
            "a series over more than one subscript with several elements",
            "split the definition so that each reads one row (or column) per element of one subscript",
        )
    xs, data = series(_sheet(model, origin, file, tab), str(x_at), cell, math.prod(lengths), mode, origin)
    return xs, data, origin


# --- DATA variables with no equation: their values come from a data file given to the run ------


def column_key(name: str) -> str:
    """A column of a data file as names are compared: no quotes, case, ``_`` or extra spaces.

    >>> column_key('"Var_1dim"[ A , B ]')
    'var 1dim[a,b]'
    """
    name = re.sub(r"[\s_]+", " ", name.replace('"', "").lower()).strip()
    return re.sub(r"\s*([\[\],])\s*", r"\1", name)


def data_columns(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The series of a data file (``.tab``, ``.csv``: a Time column and one column per variable, or
    Vensim's transposed export, one row per variable): column key -> (times, values)."""
    stat = path.stat()
    return _data_columns(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _data_columns(path: str, _mtime: int, _size: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    grid = _load_text(path, "")
    values, kinds = grid.values, grid.kinds
    if values.shape[0] > 1 and values.shape[1] > 1 and kinds[0, 1] != _TEXT:  # one row per variable
        values, kinds = values.T.copy(), kinds.T.copy()
        text = {(j, i): v for (i, j), v in grid.text.items()}
    else:
        text = dict(grid.text)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if values.shape[0] < 2 or column_key(text.get((0, 0), "")) != "time":
        return out
    times = values[1:, 0]
    ok = ~np.isnan(times)
    for j in range(1, values.shape[1]):
        label = text.get((0, j))
        if label is not None:
            out[column_key(label)] = (times[ok], values[1:, j][ok])
    return out


def add_given_data(conv: object, name: str, subs: list[str], keyword: str | None) -> str:
    """A DATA variable with no equation (``x :INTERPOLATE:``): one table over Time per element, read
    from the data files given to the run (``data_files``), named ``name (data)`` (returned)."""
    model: str = conv.where  # type: ignore[attr-defined]
    files: tuple[Path, ...] = getattr(conv, "data_files", ())
    mode = (keyword or "interpolate").replace(" ", "_").lower()
    origin = Origin(model, reference_line(model, name, ""), name, "a DATA variable")
    if not files:
        raise origin.error(
            "it has no equation: its values come from a data file given with the run",
            "give the data file (a .tab or .csv, e.g. an earlier run's output): tenor simulate MODEL "
            "--data FILE, or read_vensim(model, data_files=[FILE])",
        )
    columns = [data_columns(Path(f)) for f in files]
    combos = _combos(conv, subs)
    data = []
    for combo in combos:
        key = column_key(element_name(name, combo) if subs else name)
        found = next((c[key] for c in columns if key in c), None)
        if found is None:
            shown = ", ".join(Path(f).name for f in files)
            raise origin.error(
                f"no column {element_name(name, combo) if subs else name!r} in the data file(s) {shown}",
                "give a data file with a column for every element of the DATA variable",
            )
        data.append(found)
    table = f"{name} (data)"
    _keep(conv, table, subs, data, mode, origin)
    return table


def _keep(
    conv: object, table: str, subs: list[str], data: list[tuple[np.ndarray, np.ndarray]], mode: str, origin: Origin
) -> None:
    """Tables (one per element of ``subs``, in order) where the reader looks lookups up; missing values
    filled by ``mode`` (a raw table keeps them out: they are no points)."""
    lookups: dict[str, Lookup] = conv.lookups  # type: ignore[attr-defined]
    element_of: dict[str, str] = conv.element_of  # type: ignore[attr-defined]
    key = re.sub(r"[\s_]+", "_", table.strip().lower())
    conv.names[key] = table  # type: ignore[attr-defined]
    conv.lookup_names.add(key)  # type: ignore[attr-defined]
    if subs:
        conv.lookup_dims[table] = tuple(element_of.get(s, s) for s in subs)  # type: ignore[attr-defined]
    for combo, (times, values) in zip(_combos(conv, subs), data, strict=True):
        order = np.argsort(times, kind="stable")
        xs, ys = times[order], values[order]
        if mode != "raw":
            if np.isnan(ys).all():
                raise origin.error(f"the data for {element_name(table, combo)} are all missing", "give values")
            ys = fill_missing(xs, ys, mode)
        keep = ~np.isnan(ys)
        if not keep.any():
            raise origin.error(f"the data for {element_name(table, combo)} are all missing", "give values")
        name = element_name(table, combo) if subs else table
        lookups[name] = Lookup(tuple(float(v) for v in xs[keep]), tuple(float(v) for v in ys[keep]), False, mode)


def xmile_lookup_type(name: str, mode: str) -> str:
    """The ``type`` attribute of an XMILE graphical function read by ``mode``: ``hold_backward`` is
    XMILE's ``discrete``; ``look_forward`` and ``raw`` have no XMILE form (an :class:`ExportError`).

    >>> xmile_lookup_type("sales (data)", "hold_backward")
    ' type="discrete"'
    """
    if mode == "hold_backward":
        return ' type="discrete"'
    words = mode.replace("_", " ").upper()
    raise ExportError(
        f"the DATA table {name!r} is read {words}, which XMILE's graphical functions cannot express "
        "(they interpolate, extrapolate or hold the last point)",
        hint="keep the model in Vensim's format, or read the DATA variable with INTERPOLATE or HOLD BACKWARD",
    )
