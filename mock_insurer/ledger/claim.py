"""Which insurers serve a ledger, so that ``--fresh`` never empties a ledger another insurer
is serving (the operator who starts a second insurer with ``--fresh`` on the same database, on
another port, would wipe the first one's settlements under it).

- SQLite: every insurer holds a shared lock (``flock``) on a file beside the database,
  ``<database>.insurer-lock``, for as long as it runs; ``--fresh`` must get it exclusively
  first. The kernel releases it when the process ends, ``kill -9`` included. (A lock file of
  its own: opening and closing the database file itself would drop SQLite's own locks.)
- PostgreSQL: every insurer's connections carry the application name
  :data:`INSURER_APPLICATION`; ``--fresh`` refuses while ``pg_stat_activity`` shows another
  connection of that name to the same database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from mock_insurer.ledger.engine import LedgerConfigError, shown_url

__all__ = ["INSURER_APPLICATION", "LedgerClaim", "LedgerInUse"]

#: The PostgreSQL application name of an insurer's connections.
INSURER_APPLICATION = "cardsettle-insurer"


class LedgerInUse(LedgerConfigError):
    """``--fresh`` on a ledger another insurer is serving: nothing was dropped."""


class LedgerClaim:
    """An insurer's claim on its ledger: :meth:`take` when it opens, :meth:`release` when it
    closes."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._lock: IO[bytes] | None = None

    def take(self, *, fresh: bool) -> None:
        """Claim the ledger; with ``fresh``, only when no other insurer serves it (raises
        :class:`LedgerInUse` otherwise)."""
        if self.engine.dialect.name == "sqlite":
            self._take_sqlite(fresh)
        elif fresh:
            self._check_postgresql()

    def release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.close()  # the flock goes with the file
            self._lock = None

    def _refused(self, who: str) -> LedgerInUse:
        return LedgerInUse(
            f"the ledger {shown_url(self.url)} is being served by {who}: --fresh would empty "
            "it under that insurer. Stop it first, or give this one another database; "
            "nothing was dropped")

    def _take_sqlite(self, fresh: bool) -> None:
        database = make_url(self.url).database or ""
        path = Path(f"{database}.insurer-lock")
        lock = path.open("a+b")
        try:
            if fresh:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise self._refused("another insurer process") from None
            fcntl.flock(lock, fcntl.LOCK_SH)  # from exclusive: downgraded, never released
            lock.seek(0)
            lock.truncate()
            lock.write(f"{os.getpid()}\n".encode())  # for a person looking: who took it last
            lock.flush()
        except BaseException:
            lock.close()
            raise
        self._lock = lock

    def _check_postgresql(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT COALESCE(host(client_addr), 'local'), COUNT(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name "
                "AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1"),
                {"name": INSURER_APPLICATION}).all()
        if rows:
            total = sum(int(count) for _, count in rows)
            hosts = ", ".join(str(host) for host, _ in rows)
            raise self._refused(f"another insurer ({total} connection(s) from {hosts})")
