"""Streamed sweep output: Parquet row groups, CSV rows and summaries, one chunk of scenarios at a time.

A sweep of N scenarios is run ``chunk_size`` scenarios at a time
(:func:`scenario_chunks`), and each chunk is written as soon as it is done, so
memory is bounded by the chunk, not by N:

- :func:`write_runs` writes the tidy table of :meth:`Run.to_frame
  <stocks_flows.engine.Run.to_frame>` (one row per scenario and time, the
  parameters as columns) to Parquet, one row group per chunk, built straight
  from the arrays as Arrow record batches (no DataFrame of all scenarios), or
  to CSV, chunk after chunk. The file has the same columns, types and pandas
  metadata as writing ``Run.to_frame()`` in one go, and it is written
  atomically (:mod:`tenor.core.output`): a failed sweep leaves no file.
- :class:`SummaryStream` collects the chunks for
  :func:`~stocks_flows.summary.summarize` (per-time mean and exact
  percentiles). Exact percentiles need every scenario's value at a time, so
  when scenarios x times x variables would not fit ``memory`` bytes the chunks
  are spilled to a temporary file beside the output and read back a block of
  times at a time; the summary is the same, row for row, as summarising the
  whole run in memory.

Examples
--------
>>> import tempfile, pathlib, pandas as pd
>>> from stocks_flows.load import parse_model
>>> from stocks_flows.scenarios import grid, parse_grid
>>> model = parse_model("time: {stop: 2}\\nconstants: {k: 0.5}\\nstocks: {s: {initial: 8}}\\n"
...                     "flows: {f: {from: s, equation: k * s}}\\n")
>>> table = grid([parse_grid("k=0.25:0.5:3")])
>>> out = pathlib.Path(tempfile.mkdtemp()) / "sweep.parquet"
>>> write_runs(scenario_chunks(model, table, variables=["s"], chunk_size=2), out)
(3, 3)
>>> pd.read_parquet(out)["s"].tolist()[:3]
[8.0, 6.0, 4.5]
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from stocks_flows.engine import Run
from stocks_flows.model import Model
from stocks_flows.scenarios import ParameterTable, run_scenarios
from stocks_flows.summary import DEFAULT_PERCENTILES, summarize
from tenor.core.errors import TenorError
from tenor.core.output import atomic_path

__all__ = [
    "SummaryStream",
    "check_suffix",
    "chunk_table",
    "scenario_chunks",
    "slice_table",
    "table_schema",
    "write_runs",
]

SUFFIXES = (".csv", ".parquet")


def slice_table(table: ParameterTable, lo: int, hi: int) -> ParameterTable:
    """Scenarios ``lo`` to ``hi - 1`` of ``table``.

    >>> from stocks_flows.scenarios import single
    >>> slice_table(single([("k", 1.0)]), 0, 1).columns["k"].tolist()
    [1.0]
    """
    return ParameterTable(list(table.names[lo:hi]), {k: np.asarray(v)[lo:hi] for k, v in table.columns.items()})


def scenario_chunks(
    model: Model,
    table: ParameterTable,
    *,
    chunk_size: int = 4096,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> Iterator[Run]:
    """Run ``table`` ``chunk_size`` scenarios at a time, yielding each chunk's :class:`Run` in order.

    ``options`` are those of :func:`~stocks_flows.scenarios.run_scenarios`
    (``engine``, ``scenario``, ``variables``, ``times``). Each scenario's values
    are the same as in one run of the whole table: scenarios never mix.
    """
    size = max(1, int(chunk_size))
    for lo in range(0, len(table), size):
        part = slice_table(table, lo, min(len(table), lo + size))
        run = run_scenarios(model, part, chunk_size=size, **options)
        if progress is not None:
            progress(len(part))
        yield run


def _columns(run: Run) -> list[tuple[str, str, int]]:
    """(column, source, index) in the order of ``Run.to_frame``: scenario, time, parameters, variables."""
    out = [("scenario", "scenario", 0), ("time", "time", 0)]
    seen = {"scenario", "time"}
    for name in run.parameters:
        out.append((name, "parameter", 0))
        seen.add(name)
    for j, name in enumerate(run.variables):
        if name not in seen:
            out.append((name, "variable", j))
            seen.add(name)
    return out


def table_schema(run: Run) -> Any:
    """The Arrow schema (with pandas metadata) that ``run.to_frame().to_parquet()`` would write."""
    import pyarrow as pa

    one = Run(
        run.time,
        run.variables,
        run.values[:1],
        list(run.scenarios[:1]),
        {k: np.asarray(v)[:1] for k, v in run.parameters.items()},
    )
    return pa.Schema.from_pandas(one.to_frame(), preserve_index=False)


def chunk_table(run: Run, schema: Any = None) -> Any:
    """``run`` as one Arrow table with the rows and columns of ``run.to_frame()``, built from the arrays."""
    import pyarrow as pa

    schema = table_schema(run) if schema is None else schema
    n, n_time = len(run.scenarios), len(run.time)
    names = pa.array(list(run.scenarios), type=schema.field("scenario").type)
    arrays: list[Any] = []
    for column, source, j in _columns(run):
        if source == "scenario":
            arrays.append(names.take(pa.array(np.repeat(np.arange(n, dtype=np.int64), n_time))))
        elif source == "time":
            arrays.append(pa.array(np.tile(np.asarray(run.time, dtype=float), n)))
        elif source == "parameter":
            arrays.append(pa.array(np.repeat(np.asarray(run.parameters[column], dtype=float), n_time)))
        else:
            arrays.append(pa.array(np.ascontiguousarray(run.values[:, :, j]).reshape(n * n_time)))
    return pa.Table.from_arrays(arrays, schema=schema)


def check_suffix(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise TenorError(f"cannot write {suffix or 'a file without suffix'!r}", hint="name the output .csv or .parquet")
    return suffix


def write_runs(
    runs: Iterable[Run], path: str | os.PathLike[str], *, inputs: Sequence[str | os.PathLike[str]] = ()
) -> tuple[int, int]:
    """Write the chunks ``runs`` as one tidy table (CSV or Parquet, by the suffix), atomically.

    Parquet gets one row group per chunk. Returns (scenarios, saved times).
    """
    suffix = check_suffix(path)
    scenarios, n_time = 0, 0
    with atomic_path(path, inputs=inputs) as tmp:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            writer = None
            try:
                for run in runs:
                    table = chunk_table(run, writer.schema if writer is not None else None)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table, row_group_size=max(1, table.num_rows))
                    scenarios, n_time = scenarios + len(run.scenarios), len(run.time)
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                raise TenorError("the sweep has no scenarios", hint="give at least one value to sweep")
        else:
            with open(tmp, "w", newline="") as fh:
                for run in runs:
                    run.to_frame().to_csv(fh, index=False, header=scenarios == 0)
                    scenarios, n_time = scenarios + len(run.scenarios), len(run.time)
            if scenarios == 0:
                raise TenorError("the sweep has no scenarios", hint="give at least one value to sweep")
    return scenarios, n_time


class SummaryStream:
    """Chunks of a sweep in, :func:`~stocks_flows.summary.summarize`'s table out.

    ``add(lo, run)`` takes the chunk whose first scenario is number ``lo`` (in
    any order); :meth:`summary` returns the same table as summarising one run
    of all ``n`` scenarios. Up to ``memory`` bytes of values are held; beyond,
    the chunks go to a temporary file in ``spill_dir`` and are read back a block
    of times at a time.

    >>> stream = SummaryStream(3, [50])
    >>> stream.add(2, Run(np.array([0.0, 1.0]), ["x"], np.array([[[4.0], [5.0]]]), ["c"]))
    >>> stream.add(0, Run(np.array([0.0, 1.0]), ["x"], np.arange(4.0).reshape(2, 2, 1), ["a", "b"]))
    >>> stream.summary().to_dict("list")
    {'time': [0.0, 1.0], 'variable': ['x', 'x'], 'mean': [2.0, 3.0], 'p50': [2.0, 3.0]}
    """

    def __init__(
        self,
        n: int,
        percentiles: Sequence[float] = DEFAULT_PERCENTILES,
        *,
        units: Mapping[str, str | None] | None = None,
        memory: int = 256 * 2**20,
        spill_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.n = int(n)
        self.percentiles = list(percentiles)
        self.units = units
        self.memory = int(memory)
        self.spill_dir = spill_dir
        self.time: np.ndarray | None = None
        self.variables: list[str] = []
        self._whole: np.ndarray | None = None  # every scenario, when they fit in ``memory``
        self._spilled: dict[int, tuple[int, int]] = {}  # lo -> (offset, scenarios)
        self._file: IO[bytes] | None = None
        self._count = 0

    def add(self, lo: int, run: Run) -> None:
        """Take one chunk (scenarios ``lo`` to ``lo + len(run.scenarios) - 1``)."""
        if self.time is None:
            self.time, self.variables = np.asarray(run.time, dtype=float), list(run.variables)
        values = np.asarray(run.values, dtype=float)
        self._count += len(values)
        fits = self.n * values.shape[1] * values.shape[2] * 8 <= self.memory
        if self._whole is None and self._file is None and fits:
            # scenarios innermost, as the engine stores them: NumPy then sums each mean in the same order
            self._whole = np.empty((values.shape[1], values.shape[2], self.n)).transpose(2, 0, 1)
        if self._whole is not None:
            self._whole[lo : lo + len(values)] = values
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix=".tenor-summary.", dir=self.spill_dir)
        self._file.seek(0, os.SEEK_END)
        offset = self._file.tell()
        # [variable, time, scenario]: one variable's block of times is contiguous per chunk
        self._file.write(np.ascontiguousarray(values.transpose(2, 1, 0)).tobytes())
        self._spilled[lo] = (offset, len(values))

    def close(self) -> None:
        """Drop the temporary file (done by :meth:`summary` too)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._whole = None

    def _block(self, t0: int, t1: int) -> np.ndarray:
        """Values at times ``t0`` to ``t1 - 1``: [scenario, time, variable], as the engine lays them out."""
        assert self.time is not None
        if self._whole is not None:
            return self._whole[:, t0:t1, :]
        n_time, n_var = len(self.time), len(self.variables)
        out = np.empty((t1 - t0, n_var, self.n)).transpose(2, 0, 1)  # the engine's layout, as above
        for lo, (offset, count) in self._spilled.items():
            assert self._file is not None
            for j in range(n_var):
                self._file.seek(offset + (j * n_time + t0) * count * 8)
                buf = np.frombuffer(self._file.read((t1 - t0) * count * 8), dtype=float)
                out[lo : lo + count, :, j] = buf.reshape(t1 - t0, count).T
        return out

    def summary(self) -> Any:
        """The per-time mean and percentiles, one row per (time, variable), as ``summarize`` gives."""
        import pandas as pd

        if self.time is None:
            raise TenorError("the sweep has no scenarios", hint="give at least one value to sweep")
        if self._count != self.n:
            raise TenorError(f"the summary expected {self.n} scenarios, got {self._count}")
        try:
            n_time, n_var = len(self.time), len(self.variables)
            row = max(1, self.n * n_var * 8)
            step = n_time if not self._spilled else max(1, min(n_time, self.memory // row))
            parts = []
            for t0 in range(0, n_time, step):
                t1 = min(n_time, t0 + step)
                block = Run(self.time[t0:t1], self.variables, self._block(t0, t1), [])
                parts.append((t1 - t0, summarize(block, self.percentiles, units=self.units)))
            if len(parts) == 1:
                return parts[0][1]
            # each part is variable-major over its times; the whole summary is variable-major over all times
            pieces = [part.iloc[j * size : (j + 1) * size] for j in range(n_var) for size, part in parts]
            return pd.concat(pieces, ignore_index=True)
        finally:
            self.close()
