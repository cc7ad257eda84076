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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from mock_insurer.errors import InsurerError

__all__ = ["CONNECTIONS_PER_PROCESS", "DURABILITIES", "POOL_SIZE", "ConnectionRoom",
           "LedgerConfigError", "connection_room", "make_engine", "parse_url", "reach_hint",
           "shown_url"]

DURABILITIES = ("full", "normal")
READ_OPTION = "ledger_read"
WAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes of SQLite's write-ahead log kept on disk after a checkpoint has emptied it (without
a limit the file keeps the largest size it ever reached)."""
#: Connections a process's pool keeps open (PostgreSQL), and as many again opened for a burst
#: and closed after it: one insurer process holds at most ``CONNECTIONS_PER_PROCESS``.
POOL_SIZE = 8
CONNECTIONS_PER_PROCESS = 2 * POOL_SIZE
_FORMS = "sqlite:///FILE or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB"
_POSTGRESQL = ("postgresql", "postgres")  # libpq also spells it postgres://
_AUTHORITY = re.compile(r"^[A-Za-z][\w+.-]*://([^/?#]*)")


class LedgerConfigError(InsurerError):
    """The ledger URL cannot be used (unknown scheme, unwritable SQLite directory)."""


def shown_url(url: str) -> str:
    """The ledger URL as it may be printed or logged: its password replaced by ``***``."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        parsed = None
    if parsed is not None and "@" not in (parsed.host or ""):
        return parsed.render_as_string(hide_password=True) if parsed.password else url
    # not parsed, or an '@' of the password left unencoded (part of it read as the host):
    # everything from the user's ':' to the last '@' is hidden
    return re.sub(r"(://[^:/@]*):.*@", r"\1:***@", url)


def parse_url(url: str) -> URL:
    """``url`` parsed, checked for what can be told without connecting: a known database, a
    port that is a number in 1-65535, no space (PostgreSQL), a database name. Raises
    :class:`LedgerConfigError`, one line saying what is wrong (the password never shown)."""
    def bad(reason: str) -> LedgerConfigError:
        return LedgerConfigError(f"not a database URL: {shown_url(url)!r} ({reason})")

    if url != url.strip():
        raise bad("it begins or ends with a space")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise bad(f"expected {_FORMS}") from exc
    except ValueError as exc:  # SQLAlchemy's int() of the port
        raise bad(_authority_problem(url) or f"expected {_FORMS}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed
    if backend not in _POSTGRESQL:
        raise LedgerConfigError(f"unsupported database {backend!r} in {shown_url(url)!r}: use "
                                "sqlite:///FILE or postgresql://USER@HOST/DB")
    if "@" in (parsed.host or ""):
        raise bad("more than one '@': write an '@' of the user or the password as %40")
    if any(char.isspace() for char in url):
        raise bad("it contains a space: write a space that belongs in a name as %20")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise bad(f"port {parsed.port} is not between 1 and 65535")
    if not parsed.database:  # libpq would quietly use the server's default database
        raise LedgerConfigError(f"{shown_url(url)} names no database: use "
                                "postgresql://USER@HOST[:PORT]/DB")
    return parsed


def _authority_problem(url: str) -> str:
    """What is wrong with the HOST[:PORT] of a URL whose port SQLAlchemy could not read;
    "" when it cannot be told."""
    found = _AUTHORITY.match(url)
    if found is None:
        return ""
    host_port = found.group(1).rpartition("@")[2]
    if host_port.startswith("["):
        if "]" not in host_port:
            return f"the IPv6 address {host_port!r} has no closing ']'"
        host_port = host_port.partition("]")[2]
    port = host_port.partition(":")[2]
    if ":" in host_port and not port:
        return "no port after the ':'"
    if port and not port.isdigit():
        return f"port {port!r} is not a number"
    return ""


def make_engine(url: str, *, pool_size: int = POOL_SIZE, durability: str = "full",
                application: str = "cardsettle") -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://user@host/db``; ``durability``
    ``full`` or ``normal`` (see the module); ``application``: PostgreSQL's application name
    of the connections (what ``pg_stat_activity`` shows). PostgreSQL: at most
    ``2 * pool_size`` connections (:data:`CONNECTIONS_PER_PROCESS` by default)."""
    if durability not in DURABILITIES:
        raise LedgerConfigError(f"durability must be one of {', '.join(DURABILITIES)}, "
                                f"not {durability!r}")
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.database or "", durability)
    driver_url = parsed.set(drivername="postgresql+psycopg")
    return create_engine(driver_url, pool_size=pool_size, max_overflow=pool_size,
                         pool_pre_ping=True,
                         connect_args={"application_name": application})


#: The hint added to the driver's reason when a PostgreSQL ledger cannot be opened: the first
#: pattern found in the reason wins.
_REACH_HINTS: tuple[tuple[str, str], ...] = (
    (r"no password supplied",
     "the server asks for a password: put it in the URL (postgresql://USER:PASSWORD@HOST/DB), "
     "in PGPASSWORD or in ~/.pgpass"),
    (r"password authentication failed",
     "check the user and the password in the URL, PGPASSWORD or ~/.pgpass"),
    (r'role ".*" does not exist',
     "the server has no such user: check the user in the URL"),
    (r'database ".*" does not exist',
     "the server has no such database: create it (createdb NAME, or CREATE DATABASE) or "
     "name an existing one in the URL"),
    (r"no pg_hba\.conf entry",
     "the server's pg_hba.conf does not let this user reach this database from here"),
    (r"too many clients|remaining connection slots",
     "every connection the server allows is in use: close other clients or raise "
     "max_connections"),
    (r"the database system is (starting up|shutting down|in recovery)",
     "the server is starting or stopping: try again shortly"),
    (r"Connection refused",
     "is the PostgreSQL server running, and listening on that host and port?"),
    (r"resolve host|translate host name|Name or service not known|nodename nor servname",
     "check the host name in the URL"),
    (r"socket .*No such file or directory",
     "a URL without a host connects through this machine's socket: is the PostgreSQL server "
     "running here? Otherwise give its host, postgresql://USER@HOST/DB"),
    (r"timeout expired|timed out",
     "the server did not answer: check the host, the port and any firewall between"),
)


def reach_hint(reason: str) -> str:
    """What to check when PostgreSQL refused or did not answer with ``reason`` (the driver's
    message), in a few words."""
    for pattern, hint in _REACH_HINTS:
        if re.search(pattern, reason):
            return hint
    return "is the PostgreSQL server running, and does the database exist?"


@dataclass(frozen=True, slots=True)
class ConnectionRoom:
    """A PostgreSQL server's connections: how many it allows (``max_connections``), how many
    of them are kept for superusers, and how many other clients hold now."""

    allowed: int
    reserved: int
    in_use: int

    @property
    def free(self) -> int:
        return max(self.allowed - self.reserved - self.in_use, 0)


def connection_room(url: str) -> ConnectionRoom | None:
    """The room for connections on the PostgreSQL server of ``url`` (one connection, closed at
    once, not counted); None for SQLite, or when the server does not tell."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return None
    engine = create_engine(parsed.set(drivername="postgresql+psycopg"), poolclass=NullPool,
                           connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            allowed = int(conn.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
            in_use = int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()")).scalar_one())
    except (SQLAlchemyError, ValueError):
        return None
    finally:
        engine.dispose()
    return ConnectionRoom(allowed=allowed, reserved=reserved, in_use=in_use)


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
        # after a checkpoint that empties the log, it is cut back to this size on disk
        cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read = conn.get_execution_options().get(READ_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine
