"""The ledger's operations: what handlers call, never seeing SQL (all SQL lives in this package).

``Ledger.write()`` opens a write transaction (serialized per database on SQLite, per person on
PostgreSQL through :meth:`LedgerTx.lock_person`); ``Ledger.read()`` a read-only one;
:mod:`mock_insurer.ledger.batch` runs many messages' work in one write transaction (group
commit). Handlers receive a :class:`LedgerTx` and call its methods; they never see SQL.

The statements of the message path are compiled once per dialect and run on the driver
connection (:mod:`mock_insurer.ledger.statements`); bulk loading and rare queries use
SQLAlchemy Core directly.

Time: ``biz_time`` arguments are the insurer's business clock as ``YYYY-MM-DD HH:MM:SS``.
Money: Decimal yuan in and out (stored as cents).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import DatabaseError, IntegrityError, InterfaceError, ProgrammingError

from mock_insurer.ledger import schema as s
from mock_insurer.ledger.checkpoint import Checkpointer
from mock_insurer.ledger.engine import (
    READ_OPTION,
    LedgerConfigError,
    make_engine,
    reach_hint,
    shown_url,
)
from mock_insurer.ledger.records import (
    FeeRow,
    Institution,
    Person,
    Settlement,
    SignIn,
    Visit,
    dump_json,
    fee_row,
    institution_of,
    load_json,
    person_of,
    settlement_of,
)
from mock_insurer.ledger.statements import (
    FILE_COLUMNS,
    MESSAGE_COLUMNS,
    SETTLEMENT_COLUMNS,
    Statements,
)
from mock_insurer.money import ZERO, parse_decimal, render

__all__ = ["DuplicateMessage", "Ledger", "LedgerTx", "dump_json", "load_json"]

_MESSAGE_KEYS = tuple(c.name for c in MESSAGE_COLUMNS)
_FILE_KEYS = tuple(c.name for c in FILE_COLUMNS)


class DuplicateMessage(Exception):
    """A keyed msgid is already recorded (inserted by a twin request): replay it."""


DAMAGED_HINT = ("the file is damaged: check it with sqlite3 FILE 'PRAGMA integrity_check' and "
                "restore a backup — docs/insurer.md, \"Backing up and restoring the ledger\"")
"""What to do about a damaged SQLite ledger."""


class Ledger:
    """A handle on the ledger database (thread-safe; one per insurer process).

    ``durability`` (SQLite): ``full`` (default) or ``normal``, see
    :mod:`mock_insurer.ledger.engine`."""

    def __init__(self, url: str, *, durability: str = "full",
                 application: str = "cardsettle") -> None:
        self.url = url
        self.durability = durability
        self.engine: Engine = make_engine(url, durability=durability, application=application)
        self.dialect = self.engine.dialect.name
        self.statements = Statements(self.engine.dialect)
        dbapi = self.engine.dialect.loaded_dbapi
        self.integrity_error: type[Exception] = dbapi.IntegrityError
        #: What the database raises when it cannot be reached or used (a server down, a lost
        #: connection, a disk error, a damaged file: "database disk image is malformed"),
        #: through SQLAlchemy or on the driver cursor — the database errors but :attr:`bugs`
        self.unavailable: tuple[type[Exception], ...] = (
            DatabaseError, InterfaceError, dbapi.DatabaseError, dbapi.InterfaceError)
        #: Database errors that are this program's mistakes, not the database's state: a
        #: broken constraint or statement (a 500 and a traceback in the log, not a 503)
        self.bugs: tuple[type[Exception], ...] = (
            IntegrityError, ProgrammingError, dbapi.IntegrityError, dbapi.ProgrammingError)
        # SQLite has one writer at a time; queueing writers on a lock in the process avoids
        # SQLite's busy handler (sleep-and-retry) under many concurrent windows.
        self.write_lock: threading.Lock | None = (threading.Lock() if self.dialect == "sqlite"
                                                  else None)
        self.checkpointer: Checkpointer | None = (Checkpointer(self.engine)
                                                  if self.dialect == "sqlite" else None)

    def create(self) -> None:
        """Create the tables that do not exist yet (idempotent)."""
        with self.reaching():
            s.METADATA.create_all(self.engine)

    def drop(self) -> None:
        """Drop every table (used by the admin reset and by tests)."""
        with self.reaching():
            s.METADATA.drop_all(self.engine)

    @contextmanager
    def reaching(self) -> Iterator[None]:
        """A database that cannot be reached or opened (the first connection of a process) —
        a server that is not there, a file that is not an SQLite database — is a
        :class:`LedgerConfigError` that names the URL (without its password) and the driver's
        reason, instead of the driver's traceback."""
        try:
            yield
        except (DatabaseError, InterfaceError) as exc:  # DatabaseError: OperationalError too
            reason = " ".join(str(exc.orig or exc).split("\n")[0].split())
            shown = shown_url(self.url)
            hint = (f" ({reach_hint(reason)})" if self.dialect == "postgresql"
                    else f" ({DAMAGED_HINT})" if "malformed" in reason else "")
            raise LedgerConfigError(f"cannot open the ledger {shown}: {reason}{hint}") from exc

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()

    def committed(self) -> None:
        """Tell the ledger a write transaction committed (schedules a WAL checkpoint)."""
        if self.checkpointer is not None:
            self.checkpointer.notify()

    def tx(self, conn: Connection) -> LedgerTx:
        """Ledger operations on ``conn`` (inside a transaction the caller opened)."""
        return LedgerTx(conn, self.dialect, self.statements, self.integrity_error)

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        """A write transaction; commits on normal exit, rolls back on an exception."""
        if self.write_lock is None:
            with self.engine.begin() as conn:
                yield self.tx(conn)
            return
        with self.write_lock, self.engine.begin() as conn:
            yield self.tx(conn)
        self.committed()

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        """A transaction for reading (on SQLite it never waits for the writer)."""
        with self.engine.connect().execution_options(**{READ_OPTION: True}) as conn:
            yield self.tx(conn)
            conn.rollback()


class LedgerTx:
    """Operations inside one ledger transaction."""

    def __init__(self, conn: Connection, dialect: str, statements: Statements,
                 integrity_error: type[Exception]) -> None:
        self.conn = conn
        self.dialect = dialect
        self._sql = statements
        self._named = statements.named
        # one driver cursor for the transaction: each execute resets the statement before
        # (an unfinished statement would keep SQLite's statement journal open)
        driver: Any = conn.connection.driver_connection
        self._driver = driver
        self._cursor: Any = driver.cursor()
        self._integrity_error = integrity_error
        self._savepoints: list[str] = []  # the savepoints open, innermost last
        # SQLite: rows changed on the connection when the innermost savepoint began (or was
        # rolled back to); None when unknown (PostgreSQL, or after an inner savepoint ended)
        self._counts_changes = dialect == "sqlite"
        self._mark: int | None = None

    # -- running statements --------------------------------------------------------------
    def _one(self, name: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        compiled = self._named[name]
        cursor = self._cursor
        cursor.execute(compiled.sql, compiled.params(params))
        row = cursor.fetchone()
        if row is None or not compiled.outputs:
            return row
        return compiled.row(row)

    def _all(self, name: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._named[name]
        cursor = self._cursor
        cursor.execute(compiled.sql, compiled.params(params))
        rows = cursor.fetchall()
        if not compiled.outputs:
            return rows
        return [compiled.row(r) for r in rows]

    def _count(self, name: str, params: Mapping[str, Any]) -> int:
        compiled = self._named[name]
        cursor = self._cursor
        cursor.execute(compiled.sql, compiled.params(params))
        return int(cursor.rowcount)

    def _insert(self, table: Any, values: Mapping[str, Any]) -> None:
        compiled = self._sql.insert(table, values.keys())
        self._cursor.execute(compiled.sql, compiled.params(values))

    def _insert_many(self, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        compiled = self._sql.insert(table, rows[0].keys())
        self._cursor.executemany(compiled.sql, [compiled.params(row) for row in rows])

    def _update(self, table: Any, by: str, value: Any, values: Mapping[str, Any]) -> int:
        compiled = self._sql.update(table, by, values.keys())
        cursor = self._cursor
        cursor.execute(compiled.sql, compiled.params({**values, "by_value": value}))
        return int(cursor.rowcount)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back exactly what was written
        inside (and goes on); otherwise the writes join the enclosing transaction.

        On SQLite, a savepoint opened when nothing has been written since the enclosing one
        began (the connection's count of changed rows says so) is that enclosing savepoint:
        rolling back to it undoes exactly the same writes, and two statements are saved (a
        message opens two nested savepoints: :mod:`mock_insurer.ledger.batch` and the
        gateway's)."""
        cursor = self._cursor
        savepoints = self._savepoints
        if savepoints and self._mark is not None and self._driver.total_changes == self._mark:
            name = savepoints[-1]
            try:
                yield
            except BaseException:
                cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self._mark = self._driver.total_changes  # back where it began
                raise
            return
        name = f"ledger_sp{len(savepoints) + 1}"
        cursor.execute(f"SAVEPOINT {name}")
        savepoints.append(name)
        if self._counts_changes:
            self._mark = self._driver.total_changes
        try:
            yield
        except BaseException:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
            cursor.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            cursor.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            savepoints.pop()
            self._mark = None  # the enclosing savepoint's start is not known to be clean

    # -- sequences -------------------------------------------------------------------
    def next_seq(self, name: str) -> int:
        """The next value of a named counter (1, 2, ...), unique across processes."""
        row = self._one("next_seq", {"name": name})
        if row is not None:
            return int(row[0])
        try:
            with self.savepoint():
                self._insert(s.sequences, {"name": name, "value": 1})
            return 1
        except self._integrity_error:
            return self.next_seq(name)

    # -- settings ----------------------------------------------------------------------
    def get_setting(self, name: str) -> str | None:
        row = self._one("setting", {"name": name})
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        if self._update(s.settings_table, "name", name, {"value": value}) == 0:
            self._insert(s.settings_table, {"name": name, "value": value})

    # -- reference data ------------------------------------------------------------------
    def institution(self, code: str) -> Institution | None:
        row = self.conn.execute(
            select(s.institutions).where(s.institutions.c.fixmedins_code == code)
        ).mappings().first()
        return institution_of(row) if row else None

    def institutions(self) -> list[Institution]:
        rows = self.conn.execute(
            select(s.institutions).order_by(s.institutions.c.fixmedins_code)
        ).mappings()
        return [institution_of(r) for r in rows]

    def person(self, psn_no: str) -> Person | None:
        row = self._one("person", {"psn_no": psn_no})
        return person_of(row) if row else None

    def persons_by_certno(self, certno: str) -> list[Person]:
        return [person_of(r) for r in self._all("persons_by_certno", {"certno": certno})]

    def card(self, card_no: str) -> Mapping[str, Any] | None:
        """``card_no``, ``card_sn``, ``psn_no`` and ``status`` of a card."""
        row = self._one("card", {"card_no": card_no})
        if row is None:
            return None
        return {"card_no": row[0], "card_sn": row[1], "psn_no": row[2], "status": row[3]}

    def cards_of(self, psn_no: str) -> list[RowMapping]:
        return list(self.conn.execute(
            select(s.cards).where(s.cards.c.psn_no == psn_no).order_by(s.cards.c.card_no)
        ).mappings())

    def ec_token_owner(self, token: str) -> str | None:
        row = self._one("ec_token_owner", {"ec_token": token})
        return None if row is None else str(row[0])

    def catalogue_records(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(s.catalogue_items.c.record)).scalars()
        return [load_json(r) for r in rows]

    def diagnosis_names(self) -> dict[str, str]:
        rows = self.conn.execute(select(s.diagnoses.c.diag_code, s.diagnoses.c.diag_name))
        return {code: name for code, name in rows}

    def filed_mappings(self, code: str,
                       hosp_codes: Iterable[str] | None = None) -> dict[str, str | None]:
        """The institution's filed mappings (对码): hospital item code -> national code (None
        when filed as unmapped). With ``hosp_codes``, only those codes are looked up."""
        if hosp_codes is not None:
            found: dict[str, str | None] = {}
            for hosp in set(hosp_codes):
                row = self._one("filed_mapping", {"fixmedins_code": code,
                                                  "medins_list_codg": hosp})
                if row is not None:
                    found[hosp] = row[0]
            return found
        rows = self.conn.execute(
            select(s.mappings.c.medins_list_codg, s.mappings.c.med_list_codg)
            .where(s.mappings.c.fixmedins_code == code)
        )
        return {hosp: nat for hosp, nat in rows}

    # -- bulk loading (admin / startup) ------------------------------------------------
    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(s.TABLES[table]), list(rows))

    def delete_all(self, tables: Iterable[str]) -> None:
        for name in tables:
            self.conn.execute(s.TABLES[name].delete())

    def count(self, table: str) -> int:
        return int(self.conn.execute(select(func.count()).select_from(s.TABLES[table])).scalar()
                   or 0)

    # -- sign-in -------------------------------------------------------------------------
    def add_signin(self, sign: SignIn, sign_time: str) -> None:
        self._insert(s.signins, {
            "sign_no": sign.sign_no, "fixmedins_code": sign.fixmedins_code,
            "opter_no": sign.opter_no, "biz_date": sign.biz_date, "sign_time": sign_time,
            "valid": sign.valid})

    def signin(self, sign_no: str) -> SignIn | None:
        row = self._one("signin", {"sign_no": sign_no})
        return None if row is None else SignIn(*row)

    def sign_out(self, sign_no: str, when: str) -> None:
        self._update(s.signins, "sign_no", sign_no, {"valid": False, "signout_time": when})

    def invalidate_signins(self, fixmedins_code: str) -> int:
        done = self.conn.execute(s.signins.update().where(and_(
            s.signins.c.fixmedins_code == fixmedins_code, s.signins.c.valid.is_(True)))
            .values(valid=False))
        return int(done.rowcount or 0)

    # -- person state: account and year-to-date counters ---------------------------------
    def lock_person(self, psn_no: str) -> Decimal:
        """Lock the person's account row until commit and return the balance (yuan).

        Every transaction that moves the person's money or counters calls this first, so two
        windows settling the same person are serialized (PostgreSQL row lock; SQLite already
        serializes writers)."""
        name = "balance_for_update" if self.dialect == "postgresql" else "balance"
        row = self._one(name, {"psn_no": psn_no})
        if row is None:
            self._insert(s.accounts, {"psn_no": psn_no, "balc": ZERO})
            return ZERO
        return Decimal(row[0])

    def balance(self, psn_no: str) -> Decimal:
        row = self._one("balance", {"psn_no": psn_no})
        return ZERO if row is None else Decimal(row[0])

    def move_account(self, psn_no: str, amount: Decimal, setl_id: str, biz_time: str) -> Decimal:
        """Add ``amount`` (negative = debit) to the account; returns the balance after."""
        after = self.balance(psn_no) + amount
        self._update(s.accounts, "psn_no", psn_no, {"balc": after})
        self._insert(s.account_entries, {"psn_no": psn_no, "setl_id": setl_id, "amount": amount,
                                         "balc_after": after, "biz_time": biz_time})
        return after

    def ytd(self, psn_no: str, year: int, insutype: str) -> dict[str, Decimal]:
        rows = self._all("ytd", {"psn_no": psn_no, "year": year, "insutype": insutype})
        return {name: Decimal(value) for name, value in rows}

    def all_cum(self, psn_no: str) -> list[RowMapping]:
        return list(self.conn.execute(
            select(s.cum).where(s.cum.c.psn_no == psn_no)
            .order_by(s.cum.c.year, s.cum.c.insutype, s.cum.c.name)).mappings())

    def move_cum(self, psn_no: str, year: int, insutype: str, deltas: Mapping[str, Decimal],
                 setl_id: str) -> None:
        entries = []
        for name, delta in sorted(deltas.items()):
            if delta == 0:
                continue
            key = {"psn_no": psn_no, "year": year, "insutype": insutype, "name": name}
            if self._count("cum_add", {**key, "delta": delta}) == 0:
                self._insert(s.cum, {**key, "value": delta})
            entries.append({**key, "delta": delta, "setl_id": setl_id})
        if entries:
            self._insert_many(s.cum_entries, entries)

    # -- visits ----------------------------------------------------------------------------
    def add_visit(self, values: Mapping[str, Any]) -> None:
        row = dict(values)
        row["diagnoses"] = dump_json(row.get("diagnoses", []))
        self._insert(s.visits, row)

    def visit(self, mdtrt_id: str) -> Visit | None:
        row = self._one("visit", {"mdtrt_id": mdtrt_id})
        if row is None:
            return None
        return Visit(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                     row[9], list(load_json(row[10])), row[11])

    def lock_outpatient_number(self, fixmedins_code: str, ipt_otp_no: str) -> str | None:
        """The ``mdtrt_id`` of the institution's open visit (not cancelled by 2202) registered
        with the outpatient number ``ipt_otp_no`` (compared as sent), or None — one indexed
        look-up (the first, should a ledger made before the rule hold several).

        Called by 2201 before it adds a visit: the number is held for the rest of the
        transaction, so two registrations with one number are serialized and the second sees
        the first's visit (PostgreSQL: a transaction-scoped advisory lock on the institution
        and the number; SQLite already serializes writers)."""
        key = {"fixmedins_code": fixmedins_code, "ipt_otp_no": ipt_otp_no}
        if self.dialect == "postgresql":
            self._one("outpatient_number_lock", key)
        held = self._all("open_visits_by_number", key)
        return min(str(row[0]) for row in held) if held else None

    def update_visit(self, mdtrt_id: str, **values: Any) -> None:
        if "diagnoses" in values:
            values["diagnoses"] = dump_json(values["diagnoses"])
        self._update(s.visits, "mdtrt_id", mdtrt_id, values)

    # -- fee details -------------------------------------------------------------------------
    def add_fee_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        prepared = []
        for row in rows:
            item = dict(row)
            item["result"] = dump_json(item["result"])
            for key in ("cnt", "pric", "prd_days"):
                if item.get(key) is not None:
                    item[key] = str(item[key])
            prepared.append(item)
        if prepared:
            self._insert_many(s.fee_details, prepared)

    def fee_rows(self, mdtrt_id: str, *, statuses: Sequence[str] = ("uploaded", "settled"),
                 chrg_bchno: str | None = None) -> list[FeeRow]:
        """The visit's fee-detail rows with one of ``statuses`` (of ``chrg_bchno`` if given),
        in upload order."""
        return [fee_row(r) for r in self._all("fee_rows", {"mdtrt_id": mdtrt_id})
                if r[17] in statuses and (chrg_bchno is None or r[3] == chrg_bchno)]

    def enrolments(self, psn_no: str) -> frozenset[str]:
        """The payer ids ``psn_no`` is enrolled with (table ``enrolments``; empty when none):
        read on every 2206/2207, so through a statement compiled once."""
        return frozenset(str(row[0]) for row in self._all("enrolments", {"psn_no": psn_no}))

    def set_fee_status(self, ids: Sequence[int], status: str, setl_id: str | None) -> None:
        if ids:
            compiled = self._sql["set_fee_status"]
            self._cursor.executemany(compiled.sql, [
                compiled.params({"row_id": i, "new_status": status, "new_setl_id": setl_id})
                for i in ids])

    def supplied_days(self, psn_no: str, med_list_codg: str, since: str) -> Decimal:
        """Days of an item supplied to a person in settled rows since ``since`` (inclusive,
        business time text) — for cumulative over-supply checks."""
        rows = self._all("supplied_days", {"psn_no": psn_no, "med_list_codg": med_list_codg,
                                           "since": since})
        return sum((parse_decimal(d) for (d,) in rows if d), ZERO)

    def charged_rows(self, psn_no: str, since: str, until: str) -> list[dict[str, Any]]:
        """The person's fee rows charged (uploaded or settled, not cancelled) with
        ``fee_ocur_time`` from ``since`` to ``until`` (both inclusive, business time text
        ``yyyy-MM-dd HH:mm:ss``), in upload order — for the rules across visits.

        Each row: ``setl_id`` (None while uploaded), ``mdtrt_id``, ``psn_no``, ``feedetl_sn``,
        ``fee_ocur_time`` (text), ``med_list_codg``, ``cnt`` and ``prd_days`` (Decimal, days
        None when not given), ``det_item_fee_sumamt`` and ``inscp_scp_amt`` (Decimal yuan)."""
        keys = ("setl_id", "mdtrt_id", "psn_no", "feedetl_sn", "fee_ocur_time",
                "med_list_codg", "cnt", "prd_days", "det_item_fee_sumamt", "inscp_scp_amt")
        rows = []
        for found in self._all("charged_rows", {"psn_no": psn_no, "since": since,
                                                "until": until}):
            row = dict(zip(keys, found, strict=True))
            row["cnt"] = parse_decimal(row["cnt"])
            row["prd_days"] = parse_decimal(row["prd_days"]) if row["prd_days"] else None
            rows.append(row)
        return rows

    # -- settlements -------------------------------------------------------------------------
    def add_settlement(self, values: Mapping[str, Any]) -> None:
        row = dict(values)
        row["setlinfo"] = dump_json(row["setlinfo"])
        row["setldetail"] = dump_json(row["setldetail"])
        row["counter_deltas"] = dump_json({k: render(v) for k, v in
                                           row["counter_deltas"].items()})
        self._insert(s.settlements, row)

    def settlement(self, setl_id: str) -> Settlement | None:
        row = self._one("settlement", {"setl_id": setl_id})
        return settlement_of(row) if row else None

    def settlement_by_msgid(self, fixmedins_code: str, msgid: str) -> Settlement | None:
        row = self._one("settlement_by_msgid", {"fixmedins_code": fixmedins_code,
                                                "msgid": msgid})
        return settlement_of(row) if row else None

    def settlements_of_visit(self, mdtrt_id: str) -> list[Settlement]:
        return [settlement_of(r) for r in self._all("settlements_of_visit",
                                                  {"mdtrt_id": mdtrt_id})]

    def has_live_settlement(self, mdtrt_id: str) -> bool:
        """Whether the visit has a settlement (not a cancellation row) not cancelled."""
        return self._one("live_settlement", {"mdtrt_id": mdtrt_id}) is not None

    def mark_cancelled(self, setl_id: str, cancelled_by: str | None) -> None:
        self._update(s.settlements, "setl_id", setl_id, {"cancelled_by": cancelled_by})

    def settlements_between(self, fixmedins_code: str, begin: str, end: str, *,
                            insutype: str | None = None, clr_type: str | None = None,
                            clr_optins: str | None = None,
                            refd_setl_flag: str | None = None) -> list[Settlement]:
        """Settlements (and cancellation rows) of an institution with business date in
        [begin, end] (inclusive dates ``YYYY-MM-DD``), of the scheme, clearing type, clearing
        agency and kind (``refd_setl_flag``) given — chosen by the database, so that a day-end
        check of one group reads that group's rows, not the whole day's."""
        c = s.settlements.c
        where = [c.fixmedins_code == fixmedins_code, c.biz_date >= begin, c.biz_date <= end]
        for column, value in ((c.insutype, insutype), (c.clr_type, clr_type),
                              (c.clr_optins, clr_optins), (c.refd_setl_flag, refd_setl_flag)):
            if value is not None:
                where.append(column == value)
        rows = self.conn.execute(select(*SETTLEMENT_COLUMNS).where(and_(*where))
                                 .order_by(c.setl_time, c.setl_id))
        return [settlement_of(tuple(r)) for r in rows]

    # -- messages ----------------------------------------------------------------------------
    def keyed_message(self, fixmedins_code: str, msgid: str) -> Mapping[str, Any] | None:
        """The message record that holds ``msgid`` for idempotency, column by column."""
        row = self._one("keyed_message", {"fixmedins_code": fixmedins_code, "msgid": msgid})
        return None if row is None else dict(zip(_MESSAGE_KEYS, row, strict=True))

    def add_message(self, values: Mapping[str, Any]) -> int:
        """Insert a message record; a keyed msgid already present raises DuplicateMessage
        (the statement failed; inside :meth:`savepoint` the transaction goes on)."""
        sqlite = self._counts_changes
        # SQLite: the new rowid from the cursor (RETURNING copies the row, 2-3 KB with the
        # request and the answer: ~2/3 of the insert's own cost)
        compiled = self._sql.insert(s.messages, values.keys(),
                                    returning=None if sqlite else s.messages.c.id)
        cursor = self._cursor
        try:
            cursor.execute(compiled.sql, compiled.params(values))
        except self._integrity_error as exc:
            raise DuplicateMessage(str(values.get("msgid"))) from exc
        return int(cursor.lastrowid if sqlite else cursor.fetchone()[0])

    def update_message(self, message_id: int, **values: Any) -> None:
        self._update(s.messages, "id", message_id, values)

    def messages(self, *, after_id: int = 0, limit: int = 100,
                 fixmedins_code: str | None = None, infno: str | None = None) -> list[RowMapping]:
        query = select(s.messages).where(s.messages.c.id > after_id)
        if fixmedins_code:
            query = query.where(s.messages.c.fixmedins_code == fixmedins_code)
        if infno:
            query = query.where(s.messages.c.infno == infno)
        return list(self.conn.execute(query.order_by(s.messages.c.id).limit(limit)).mappings())

    # -- files ---------------------------------------------------------------------------------
    def add_file(self, values: Mapping[str, Any]) -> None:
        self._insert(s.files, values)

    def file(self, file_qury_no: str) -> Mapping[str, Any] | None:
        """A stored file's record, column by column."""
        row = self._one("file", {"file_qury_no": file_qury_no})
        return None if row is None else dict(zip(_FILE_KEYS, row, strict=True))
