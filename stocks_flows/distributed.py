"""Sweeps on a Dask cluster: chunks of scenarios run on the workers, one Parquet file per chunk.

:func:`sweep` splits a table of scenarios into chunks of ``chunk_size``,
sends each chunk to a worker of a :mod:`dask.distributed` cluster with the
validated :class:`~stocks_flows.model.Model` (a plain data object: equations
as syntax trees, never code), and writes a *partitioned Parquet dataset*: a
folder with one file per chunk, ``part-00000.parquet``, ``part-00001.parquet``,
... in scenario order. ``pandas.read_parquet(folder)`` reads it back as the
table ``tenor sweep`` writes to one file, row for row.

**Who writes.** The workers return each chunk's arrays and the *client*
writes the files, as chunks complete, so the cluster needs no storage shared
with the client and the output appears where the client runs. At most
``in_flight`` chunks (twice the workers by default) are out at a time, which
bounds the memory of the client and of the workers.

**All or nothing.** The files go to a temporary folder beside the target,
which is renamed onto the target only when every chunk is written; on any
failure the temporary folder is removed and the target is left as it was.
A worker that dies mid-run has its chunks run again elsewhere by Dask (the
scheduler's ``distributed.scheduler.allowed-failures``, 3 by default); a chunk
that fails in the model itself (e.g. a division by zero) is not retried and
fails the sweep with the engine's message.

Each scenario's values are the same as in a local run: the engine never mixes
scenarios, so cutting the table into chunks changes nothing.

:func:`summary` runs the same chunks and reduces them on the client to the
per-time mean and percentiles of :mod:`stocks_flows.summary`.
:func:`connect` opens a client for ``tcp://host:port`` or starts a local
cluster for ``local:N``.

Examples
--------
A sketch (it needs a cluster)::

    from distributed import Client
    from stocks_flows.distributed import sweep
    with Client("tcp://scheduler:8786") as client:
        sweep(model, table, client=client, path="runs.parquet", chunk_size=10_000)
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from stocks_flows.engine import Run
from stocks_flows.model import Model
from stocks_flows.scenarios import ParameterTable, run_scenarios
from stocks_flows.summary import DEFAULT_PERCENTILES
from stocks_flows.sweep_io import SummaryStream, chunk_table, slice_table
from tenor.core.errors import ExportError, TenorError
from tenor.core.output import check_not_input

__all__ = ["connect", "run_chunks", "summary", "sweep"]

_PART = re.compile(r"part-\d+\.parquet")


def _run_chunk(model: Model, part: ParameterTable, options: dict[str, Any]) -> Run:
    """On a worker: run one chunk of scenarios."""
    return run_scenarios(model, part, chunk_size=max(1, len(part)), **options)


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def run_chunks(
    client: Any,
    model: Model,
    table: ParameterTable,
    *,
    chunk_size: int = 4096,
    in_flight: int | None = None,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> Iterator[tuple[int, Run]]:
    """Run ``table`` on the cluster of ``client``; yield ``(first scenario, chunk's Run)`` as chunks finish.

    ``options`` are those of :func:`~stocks_flows.scenarios.run_scenarios`.
    Chunks arrive in any order; at most ``in_flight`` are submitted at a time.
    """
    from distributed import as_completed

    size = max(1, int(chunk_size))
    bounds = iter([(lo, min(len(table), lo + size)) for lo in range(0, len(table), size)])
    limit = max(1, in_flight or 2 * _workers(client))
    outstanding: dict[str, tuple[Any, int]] = {}
    queue = as_completed()

    def submit(lo: int, hi: int) -> None:
        future = client.submit(_run_chunk, model, slice_table(table, lo, hi), dict(options), pure=False)
        outstanding[future.key] = (future, lo)
        queue.add(future)

    try:
        for lo, hi in itertools.islice(bounds, limit):
            submit(lo, hi)
        for future in queue:
            _, lo = outstanding.pop(future.key)
            run = future.result()
            future.release()
            following = next(bounds, None)
            if following is not None:
                submit(*following)
            if progress is not None:
                progress(len(run.scenarios))
            yield lo, run
    finally:
        if outstanding:
            client.cancel([f for f, _ in outstanding.values()])


def _check_target(target: Path, inputs: Sequence[str | os.PathLike[str]]) -> None:
    check_not_input(target, inputs)
    if target.is_file() or (target.exists() and not target.is_dir()):
        raise ExportError(
            f"cannot write the dataset {target}: a file of that name exists",
            hint="a distributed sweep writes a folder of Parquet files; choose another --out",
        )
    if target.is_dir():
        other = [p.name for p in target.iterdir() if not _PART.fullmatch(p.name)]
        if other:
            raise ExportError(
                f"refusing to replace {target}: it holds {other[0]!r}, not only part-N.parquet files",
                hint="choose a new folder for the dataset",
            )


def sweep(
    model: Model,
    parameters: ParameterTable,
    *,
    client: Any,
    path: str | os.PathLike[str],
    chunk_size: int = 4096,
    in_flight: int | None = None,
    progress: Callable[[int], None] | None = None,
    inputs: Sequence[str | os.PathLike[str]] = (),
    **options: Any,
) -> tuple[int, int]:
    """Run every scenario of ``parameters`` on the cluster; write a partitioned Parquet dataset at ``path``.

    ``options``: ``engine``, ``scenario``, ``variables``, ``times`` as in
    :func:`~stocks_flows.scenarios.run_scenarios`. A dataset already at
    ``path`` (a folder of ``part-N.parquet`` files) is replaced whole on
    success. Returns (scenarios, saved times).
    """
    import pyarrow.parquet as pq

    if len(parameters) == 0:
        raise TenorError("the sweep has no scenarios", hint="give at least one value to sweep")
    target = Path(path)
    _check_target(target, inputs)
    size = max(1, int(chunk_size))
    width = max(5, len(str((len(parameters) - 1) // size)))
    parent = target.parent if str(target.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror}", hint="check the folder is writable") from None
    schema, n_time, count = None, 0, 0
    try:
        for lo, run in run_chunks(
            client, model, parameters, chunk_size=size, in_flight=in_flight, progress=progress, **options
        ):
            table = chunk_table(run, schema)
            schema = table.schema
            pq.write_table(table, staging / f"part-{lo // size:0{width}d}.parquet", row_group_size=table.num_rows)
            n_time, count = len(run.time), count + len(run.scenarios)
        os.chmod(staging, 0o777 & ~_umask())
        _replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return count, n_time


def _replace_folder(staging: Path, target: Path) -> None:
    """Move ``staging`` onto ``target``; an old dataset there is removed only once the new one is in place."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rename(target, old / "dataset")
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old / "dataset", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def summary(
    model: Model,
    parameters: ParameterTable,
    *,
    client: Any,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    units: Mapping[str, str | None] | None = None,
    chunk_size: int = 4096,
    in_flight: int | None = None,
    progress: Callable[[int], None] | None = None,
    memory: int = 256 * 2**20,
    spill_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Any:
    """Run the sweep on the cluster and return :func:`~stocks_flows.summary.summarize`'s table of it.

    The chunks are reduced on the client as they arrive (:class:`~stocks_flows.sweep_io.SummaryStream`).
    """
    stream = SummaryStream(len(parameters), percentiles, units=units, memory=memory, spill_dir=spill_dir)
    try:
        for lo, run in run_chunks(
            client, model, parameters, chunk_size=chunk_size, in_flight=in_flight, progress=progress, **options
        ):
            stream.add(lo, run)
        return stream.summary()
    finally:
        stream.close()


@contextlib.contextmanager
def connect(address: str, *, timeout: float = 30) -> Iterator[Any]:
    """A client for the scheduler at ``address`` (``tcp://host:port``), or a new local cluster (``local:N``).

    A local cluster has N worker processes of one thread each and no dashboard;
    it is shut down when the block ends.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise TenorError("sweeps on a cluster need dask.distributed", hint='pip install "tenor[distributed]"') from None

    local = re.fullmatch(r"local:(\d+)", address.strip())
    if address.strip().startswith("local") and not local:
        raise TenorError(f"cannot read the scheduler {address!r}", hint="write local:N, e.g. local:2")
    if local:
        workers = int(local.group(1))
        if workers < 1:
            raise TenorError("local:N needs at least one worker", hint="e.g. --scheduler local:2")
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://\S+", address.strip()):
        raise TenorError(
            f"cannot read the scheduler address {address!r}",
            hint="write tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786) or local:N",
        )
    try:
        client = Client(address.strip(), timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise TenorError(
            f"cannot reach the Dask scheduler at {address}: {exc}",
            hint="start one with `dask scheduler`, or use --scheduler local:N",
        ) from None
    with client:
        yield client
