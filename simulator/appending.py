"""Appending generated chunks to a file in order, while the next chunk is being generated.

An :class:`OrderedAppender` owns a background thread that writes the chunks handed to it
(``os.writev``: the kernel gathers a chunk's buffers, no copy joins them), so generating chunk
*c + 1* overlaps with writing chunk *c*; the thread spends its time in system calls, without
Python's global lock. At most one chunk waits for the thread, so memory stays bounded.

With several worker processes, each has its own appender and they share a :class:`Turn`: the
number of the next chunk to append, a condition variable, and the first failure. A worker's
thread waits for its chunk's turn, appends, and passes the turn on; the parent waits for the
last turn (:meth:`Turn.wait_for`) before it renames the file into place. A failure to write
(a full disk) is recorded in the turn and raised in the parent as the same :class:`OSError`.
"""

from __future__ import annotations

import os
import queue
import threading
from multiprocessing.context import BaseContext
from typing import Any

__all__ = ["OrderedAppender", "Turn", "write_pieces"]

try:  # buffers per os.writev call
    _IOV_MAX = max(16, min(1024, os.sysconf("SC_IOV_MAX")))
except (AttributeError, ValueError, OSError):
    _IOV_MAX = 16  # the POSIX minimum
_MESSAGE_BYTES = 240


def write_pieces(fd: int, pieces: list[memoryview]) -> None:
    """Write ``pieces`` in order to the file descriptor ``fd`` (gathered: no copy joins them)."""
    for begin in range(0, len(pieces), _IOV_MAX):
        batch = pieces[begin:begin + _IOV_MAX]
        written = os.writev(fd, batch) if hasattr(os, "writev") else 0
        for piece in batch:  # a short write (rare on a regular file): write the rest plainly
            if written >= len(piece):
                written -= len(piece)
                continue
            rest = piece[written:]
            written = 0
            while rest:
                rest = rest[os.write(fd, rest):]


class Turn:
    """Shared between processes: the next chunk to append, and the first failure (an errno, -1
    for another error, 0 for none) with its message."""

    def __init__(self, context: BaseContext) -> None:
        self.next: Any = context.Value("q", 0, lock=False)
        self.condition: Any = context.Condition()
        self.failure: Any = context.Value("i", 0, lock=False)
        self.message: Any = context.Array("c", _MESSAGE_BYTES, lock=False)

    def fail(self, error: BaseException) -> None:
        with self.condition:
            if not self.failure.value:
                self.failure.value = error.errno if isinstance(error, OSError) and error.errno else -1
                text = (error.strerror if isinstance(error, OSError) and error.strerror else str(error)) or repr(error)
                self.message.value = text.encode("utf-8", "replace")[: _MESSAGE_BYTES - 1]
            self.condition.notify_all()

    def raise_failure(self) -> None:
        """Raise the recorded failure, if any."""
        code, message = self.failure.value, self.message.value.decode("utf-8", "replace")
        if code > 0:
            raise OSError(code, message)
        if code < 0:
            raise RuntimeError(f"appending a chunk failed: {message}")

    def wait_for(self, chunks: int) -> None:
        """Wait until ``chunks`` chunks are appended; raise the first failure instead."""
        with self.condition:
            while self.next.value < chunks and not self.failure.value:
                self.condition.wait(timeout=1.0)
        self.raise_failure()


class OrderedAppender:
    """Appends chunks to ``fd`` from a background thread; with a :class:`Turn`, each chunk only
    when the turn comes to it (chunks are numbered from 0)."""

    def __init__(self, fd: int, turn: Turn | None = None) -> None:
        self.fd, self.turn = fd, turn
        self.error: BaseException | None = None
        self._queue: queue.Queue[tuple[int, list[memoryview]] | None] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, name="appender", daemon=True)
        self._thread.start()

    def submit(self, chunk: int, pieces: list[memoryview]) -> None:
        """Queue chunk ``chunk`` for appending (blocks while another chunk waits)."""
        if self.error is not None:
            raise self.error
        self._queue.put((chunk, pieces))

    def close(self) -> None:
        """Wait until every queued chunk is appended; raise what went wrong, if anything."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the error is raised to the producer
            chunk, pieces = item
            try:
                self._append(chunk, pieces)
            except BaseException as error:  # handed to the producer (and the parent)
                self.error = error
                if self.turn is not None:
                    self.turn.fail(error)

    def _append(self, chunk: int, pieces: list[memoryview]) -> None:
        turn = self.turn
        if turn is None:
            write_pieces(self.fd, pieces)
            return
        with turn.condition:
            while turn.next.value != chunk and not turn.failure.value:
                turn.condition.wait()
        if turn.failure.value:
            return
        write_pieces(self.fd, pieces)  # alone: the others wait for the turn
        with turn.condition:
            turn.next.value = chunk + 1
            turn.condition.notify_all()
