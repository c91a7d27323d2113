"""Atomic writes: an output file is complete, or it is not there at all.

Everything tenor writes goes to a temporary file in the target folder and is
then moved into place with :func:`os.replace`. An output path that names one of
the inputs is refused before anything is written.

The temporary file is hidden and names the writing process:
``.NAME.PID.RANDOM.part``. A write that is killed leaves it behind; the next
write to the same folder removes such left-overs when they are *stale* — their
process is gone, or they are older than :data:`~tenor.core.limits.STALE_PART_SECONDS`
— and never touches a temporary file another live writer is still filling.

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
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from tenor.core.errors import ExportError
from tenor.core.limits import STALE_PART_SECONDS

__all__ = ["atomic_path", "check_not_input", "remove_stale_parts", "write_bytes", "write_text"]

_PART = re.compile(r"^\..*?\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part$")
_OLD_PART = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.part$")  # before the pid was in the name
_NAME_ROOM = 120  # characters of the output's name kept in the temporary name (file names have a length limit)


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
        remove_stale_parts(folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:_NAME_ROOM]}.{os.getpid()}.", suffix=".part", dir=folder)
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


def remove_stale_parts(folder: str | os.PathLike[str], *, max_age: float = STALE_PART_SECONDS) -> list[Path]:
    """Remove the temporary files of killed writes from ``folder``; return what was removed.

    A ``.NAME.PID.RANDOM.part`` file is stale when process ``PID`` no longer
    runs or the file is older than ``max_age`` seconds; an older-style
    ``.NAME.RANDOM.part`` only by its age. Nothing else is touched, and a file
    that cannot be removed is left alone.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".part")):
            continue
        match = _PART.match(name)
        if match is None and not _OLD_PART.match(name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > max_age
            gone = match is not None and not _running(int(match["pid"]))
            if old or gone:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _running(pid: int) -> bool:
    """Whether a process with this id runs on this machine (unsure counts as running)."""
    if pid == os.getpid() or os.name == "nt":  # on Windows, os.kill would end the process
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # it exists but belongs to someone else, or cannot be asked
    return True


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
