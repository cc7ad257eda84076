"""Opening the ledger's database: SQLite (WAL, synchronous commits) or PostgreSQL (psycopg).

SQLite: every write transaction starts with ``BEGIN IMMEDIATE`` so that writers are serialized
by the database (two windows settling one person can never interleave), with WAL and
``synchronous=FULL`` so that a commit that returned is on disk (survives ``kill -9`` and a
power cut). A read transaction (a connection with the execution option ``ledger_read``) starts
with a plain ``BEGIN``: in WAL mode readers never wait for the writer.

Durability (SQLite only): ``full`` (the default) syncs the write-ahead log on every commit;
``normal`` (``synchronous=NORMAL``) syncs it only at checkpoints. In WAL mode a commit with
``normal`` is in the operating system's cache when it returns, so it survives ``kill -9`` of
the insurer; only a crash of the machine itself (power, kernel) can lose the last commits.
See docs/adr/0009-insurer-throughput.md.

PostgreSQL: read-committed transactions; the ledger serializes writers on one person by locking
that person's account row (``SELECT ... FOR UPDATE``). Its durability is the server's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from mock_insurer.errors import InsurerError

__all__ = ["DURABILITIES", "LedgerConfigError", "make_engine", "shown_url"]

DURABILITIES = ("full", "normal")
READ_OPTION = "ledger_read"


class LedgerConfigError(InsurerError):
    """The ledger URL cannot be used (unknown scheme, unwritable SQLite directory)."""


def shown_url(url: str) -> str:
    """The ledger URL as it may be printed or logged: its password replaced by ``***``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def make_engine(url: str, *, pool_size: int = 8, durability: str = "full",
                application: str = "cardsettle") -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://user@host/db``; ``durability``
    ``full`` or ``normal`` (see the module); ``application``: PostgreSQL's application name
    of the connections (what ``pg_stat_activity`` shows)."""
    if durability not in DURABILITIES:
        raise LedgerConfigError(f"durability must be one of {', '.join(DURABILITIES)}, "
                                f"not {durability!r}")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerConfigError(f"not a database URL: {shown_url(url)!r} ({exc})") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed.database or "", durability)
    if backend in ("postgresql", "postgres"):  # libpq also spells it postgres://
        if not parsed.database:  # libpq would quietly use the server's default database
            raise LedgerConfigError(f"{shown_url(url)} names no database: use "
                                    "postgresql://USER@HOST[:PORT]/DB")
        driver_url = parsed.set(drivername="postgresql+psycopg")
        return create_engine(driver_url, pool_size=pool_size, max_overflow=pool_size,
                             pool_pre_ping=True,
                             connect_args={"application_name": application})
    raise LedgerConfigError(f"unsupported database {backend!r} in {shown_url(url)!r}: use sqlite:///FILE "
                            "or postgresql://USER@HOST/DB")


def _sqlite_engine(database: str, durability: str) -> Engine:
    if database in ("", ":memory:"):
        raise LedgerConfigError("the ledger needs a file: use sqlite:///PATH (an in-memory "
                                "database would lose every settlement on restart)")
    directory = Path(database).resolve().parent
    if not directory.is_dir():
        raise LedgerConfigError(f"directory for the ledger does not exist: {directory}")
    # LIFO: the connection used last is handed out again, with its page cache still warm (a
    # connection that has not seen the latest commit must drop its whole cache in WAL mode).
    engine = create_engine(f"sqlite+pysqlite:///{database}", pool_size=8, max_overflow=8,
                           pool_use_lifo=True,
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={durability.upper()}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run in a thread: checkpoint.py
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read = conn.get_execution_options().get(READ_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine
