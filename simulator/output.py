"""Writing generated records: atomically (a temporary file in the target's directory, renamed
over the target only when complete), as JSON lines or CSV.

Only a regular file (or a path where nothing is yet) is ever replaced: renaming over a device
(``/dev/full``), a named pipe or a socket would put a plain file in its place, so such a target
is refused (:func:`check_target`, :class:`NotRegularFileError`) and left as it is. Every writer
of the project that replaces a file by rename goes through :func:`atomic_output` or asks
:func:`check_target` first.

JSONL: one JSON object per line, UTF-8 with non-ASCII characters as-is, keys in the record's
order. CSV: a header row of the top-level fields; scalars as text (``null`` as an empty cell,
booleans as ``true``/``false``), nested lists and objects as compact JSON text in their cell.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from simulator.errors import InvalidArgumentError, OutputError

__all__ = [
    "FORMATS",
    "NotRegularFileError",
    "atomic_output",
    "atomic_write",
    "check_format",
    "check_target",
    "csv_header",
    "csv_rows",
    "jsonl_line",
    "shared_mode",
]

#: Output formats every ``write_*`` function accepts.
FORMATS: tuple[str, ...] = ("jsonl", "csv")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidArgumentError(f"unknown format {fmt!r} (use one of: {', '.join(FORMATS)})")
    return fmt


def jsonl_line(record: Mapping[str, Any]) -> bytes:
    """One record as a JSON line (keys in the record's order, non-ASCII as-is, newline at end)."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode("utf-8")
    return str(value)


def csv_header(columns: Sequence[str]) -> bytes:
    """The CSV header row."""
    return csv_rows([dict.fromkeys(columns)], columns, header=True)


def csv_rows(records: Iterable[Mapping[str, Any]], columns: Sequence[str], header: bool = False) -> bytes:
    """CSV rows (UTF-8, ``\\r\\n`` line ends as RFC 4180) of ``records`` for ``columns``; a
    column a record lacks is empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(columns)
        return buffer.getvalue().encode("utf-8")
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8")


def shared_mode() -> int:
    """The mode of a file created here: what ``open()`` would give (0666 less the umask), not
    ``mkstemp``'s 0600 — reports are read by colleagues."""
    return 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


class NotRegularFileError(OutputError):
    """An output target exists and is not a regular file (a device, a named pipe, a socket):
    writing a new file and renaming it over the target would replace it. ``path`` is the
    target; the message is ``PATH: not a regular file`` (a command puts its option first)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: not a regular file")


def check_target(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path`, if a file may be renamed over it: nothing is
    there yet, or a regular file (a symbolic link is judged by what it points to). A device, a
    named pipe or a socket raises :class:`NotRegularFileError`; a directory raises
    :class:`OutputError` (``it is a directory``). Nothing is changed either way."""
    target = Path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError:  # not reachable (a parent is a file, no permission): the write says why
        return target
    if stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {target}: it is a directory")
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(target)
    return target


@contextmanager
def atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for writing; on success rename it to ``path``.

    If the body raises (or is interrupted), the temporary file is removed and ``path`` is left
    as it was. Missing parent directories are created. Errors opening or writing are raised as
    :class:`OutputError` naming the path; a target that is not a regular file (a device, a
    named pipe) is refused before anything is written, and again just before the rename
    (:func:`check_target`). The handle's ``name`` is the temporary file's path (other processes
    may append to it once the handle is flushed).
    """
    target = check_target(path)
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {target}: {parent} is not a directory")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        with open(tmp, "wb", buffering=1 << 20) as handle:
            os.fchmod(handle.fileno(), shared_mode())  # mkstemp gives 0600
            yield handle
        check_target(target)  # a pipe made meanwhile is not replaced either
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8) to ``path`` whole, through :func:`atomic_output`:
    never a half-written file, and never a device or a named pipe replaced
    (:class:`NotRegularFileError`). Returns the path written."""
    with atomic_output(path) as out:
        out.write(content.encode("utf-8") if isinstance(content, str) else content)
    return Path(path)
