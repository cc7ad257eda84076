"""Checkpoints of SQLite's write-ahead log, off the commit path.

By default SQLite checkpoints inside the commit that pushes the log past 1000 pages: that
commit then copies the log into the database file and syncs it, and every message waiting on
it waits too (tens of milliseconds on a busy disk). The ledger turns automatic checkpoints off
(``PRAGMA wal_autocheckpoint=0``, see :mod:`mock_insurer.ledger.engine`) and runs them here,
in a thread of its own, at most every ``interval`` seconds while commits happen. A passive
checkpoint never blocks the writer; durability does not depend on it (a commit is durable once
it is in the log). When the process stops, closing the last connection checkpoints the rest.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

__all__ = ["Checkpointer"]

logger = logging.getLogger(__name__)


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` in a daemon thread after commits
    (``notify``), at most once per ``interval`` seconds (wall clock)."""

    def __init__(self, engine: Engine, *, interval: float = 0.25) -> None:
        self.engine = engine
        self.interval = interval
        self.checkpoints = 0  # statistics: checkpoints run
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def notify(self) -> None:
        """A commit happened: checkpoint soon (cheap; call after every commit). Starts the
        thread on the first call, and again after :meth:`close` if the ledger is used on."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._stopped = threading.Event()
                    self._thread = threading.Thread(target=self._run, args=(self._stopped,),
                                                    daemon=True, name="ledger-checkpoint")
                    self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread (the last connection's close checkpoints what is left)."""
        with self._lock:
            self._stopped.set()
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join(5.0)

    def _run(self, stopped: threading.Event) -> None:
        conn: Any = None
        try:
            conn = self.engine.raw_connection()
            while True:
                self._wake.wait()
                if stopped.is_set():
                    return
                self._wake.clear()
                try:
                    cursor = conn.cursor()
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    cursor.fetchall()
                    cursor.close()
                    self.checkpoints += 1
                except Exception:  # a busy or failed checkpoint is retried after the next commit
                    logger.debug("WAL checkpoint failed", exc_info=True)
                if stopped.wait(self.interval):  # at most one checkpoint per interval
                    return
        except Exception:  # pragma: no cover - the database went away (tests, shutdown)
            logger.debug("WAL checkpointer stopped", exc_info=True)
        finally:
            if conn is not None:
                conn.close()
