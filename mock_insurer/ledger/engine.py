"""Opening the ledger's database: SQLite (WAL, synchronous commits) or PostgreSQL (psycopg).

SQLite: every write transaction starts with ``BEGIN IMMEDIATE`` so that writers are serialized
by the database (two windows settling one person can never interleave), with WAL and
``synchronous=FULL`` so that a commit that returned is on disk (survives ``kill -9``).
PostgreSQL: read-committed transactions; the ledger serializes writers on one person by locking
that person's account row (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from mock_insurer.errors import InsurerError

__all__ = ["LedgerConfigError", "make_engine"]


class LedgerConfigError(InsurerError):
    """The ledger URL cannot be used (unknown scheme, unwritable SQLite directory)."""


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://user@host/db``."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerConfigError(f"not a database URL: {url!r} ({exc})") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed.database or "")
    if backend == "postgresql":
        driver_url = parsed.set(drivername="postgresql+psycopg")
        return create_engine(driver_url, pool_size=pool_size, max_overflow=pool_size,
                             pool_pre_ping=True)
    raise LedgerConfigError(f"unsupported database {backend!r} in {url!r}: use sqlite:///FILE "
                            "or postgresql://USER@HOST/DB")


def _sqlite_engine(database: str) -> Engine:
    if database in ("", ":memory:"):
        raise LedgerConfigError("the ledger needs a file: use sqlite:///PATH (an in-memory "
                                "database would lose every settlement on restart)")
    directory = Path(database).resolve().parent
    if not directory.is_dir():
        raise LedgerConfigError(f"directory for the ledger does not exist: {directory}")
    engine = create_engine(f"sqlite+pysqlite:///{database}", pool_size=8, max_overflow=8,
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
