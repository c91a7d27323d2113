"""Atomic writes: an output file is complete, or it is not there at all.

Everything tenor writes goes to a temporary file in the target folder and is
then moved into place with :func:`os.replace`. An output path that names one of
the inputs is refused before anything is written.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text(folder / "out.txt", "hello\\n")
>>> (folder / "out.txt").read_text()
'hello\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from tenor.errors import ExportError

__all__ = ["atomic_path", "check_not_input", "write_bytes", "write_text"]


def check_not_input(out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse an output path that is the same file as an input."""
    target = Path(out).resolve()
    for src in inputs:
        if str(src) == "-":
            continue
        if Path(src).resolve() == target:
            raise ExportError(
                f"refusing to write {out}: it is an input of this command",
                hint="choose another output path",
            )


@contextlib.contextmanager
def atomic_path(out: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; move it onto ``out`` on success."""
    check_not_input(out, inputs)
    target = Path(out)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise ExportError(
            f"cannot write {out}: {exc.strerror}", hint="check the folder exists and is writable"
        ) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp_path, target)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(out: str | os.PathLike[str], data: bytes, *, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Write bytes atomically."""
    with atomic_path(out, inputs=inputs) as tmp:
        with open(tmp, "wb") as fh:
            _write(fh, data)


def write_text(out: str | os.PathLike[str], text: str, *, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Write UTF-8 text atomically (``\\n`` line endings on every platform)."""
    write_bytes(out, text.encode("utf-8"), inputs=inputs)


def _write(fh: IO[bytes], data: bytes) -> None:
    fh.write(data)
    fh.flush()
    os.fsync(fh.fileno())
