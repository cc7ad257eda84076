"""The reference HIS's own database (SQLite by default, through SQLAlchemy Core).

Tables: ``patients`` (as identified by the insurer, exactly), ``visits``, ``lines`` (charged
items with the hospital's codes), ``ledger`` (every settlement row the HIS believes in, with its
status), ``bills`` (what was printed), ``messages`` (every msgid sent), ``signins`` (per
operator and day), ``rule_checks`` (each 3101/3102 and the warnings it gave), ``overrides``
(who went on past a severe warning), ``receivables``, ``deductions``, ``declarations`` and
``payments`` (after the window: simulator/his/receivables.py) and ``counters``. Money is stored as text with two places and read back as
:class:`~decimal.Decimal`; JSON columns keep Decimals as exact strings.

Ledger statuses: ``pending`` (a 2207/2208 was sent and its answer is not known yet),
``settled`` (a settlement in effect), ``cancelled`` (a settlement a later refund row cancelled;
it still counts at day-end, as does its refund row), ``refund`` (a 2208 cancellation row,
negative amounts), ``void`` (does not exist at the center: reversed, or found missing there at
day-end). Day-end counts every status but ``pending`` and ``void``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from mock_insurer.money import parse_decimal, render
from simulator.his.errors import HisConfigError

__all__ = ["COUNTED", "LEDGER_MONEY", "LINE_MONEY", "HisStore", "db_url_of", "dump", "load"]

METADATA = MetaData()

patients = Table(
    "patients", METADATA,
    Column("patient_id", Integer, primary_key=True, autoincrement=True),
    Column("psn_no", String, nullable=False, unique=True),
    Column("psn_name", String), Column("certno", String), Column("psn_cert_type", String),
    Column("gend", String), Column("brdy", String), Column("naty", String),
    Column("insuplc_admdvs", String),
    Column("cert_type", String), Column("cert_no", String), Column("card_sn", String),
    Column("baseinfo", Text), Column("insuinfo", Text), Column("balc", String),
    Column("identified_at", String),
)

visits = Table(
    "visits", METADATA,
    Column("visit_id", String, primary_key=True),
    Column("patient_id", Integer, nullable=False), Column("psn_no", String, nullable=False),
    Column("mdtrt_id", String), Column("insutype", String), Column("med_type", String),
    Column("insuplc_admdvs", String), Column("cert_type", String), Column("cert_no", String),
    Column("dept_code", String), Column("dept_name", String), Column("doctor_code", String),
    Column("doctor_name", String), Column("caty", String), Column("operator", String),
    Column("diagnoses", Text), Column("status", String, nullable=False),
    Column("batch_no", String), Column("cycle", Integer, nullable=False, default=1),
    Column("acct_used", String), Column("setl_id", String),
    Column("registered_at", String), Column("reg_date", String),
    Column("register_envelope", Text),  # the 2201 sent, kept while its outcome is unknown
)

lines = Table(
    "lines", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, nullable=False), Column("line_no", Integer, nullable=False),
    Column("feedetl_sn", String, nullable=False), Column("chrg_bchno", String, nullable=False),
    Column("code", String, nullable=False), Column("name", String),
    Column("national_code", String), Column("qty", String), Column("price", String),
    Column("amount", String), Column("days", String), Column("status", String, nullable=False),
    Column("result", Text),
)

ledger = Table(
    "ledger", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msgid", String, nullable=False, unique=True), Column("infno", String),
    Column("visit_id", String), Column("mdtrt_id", String), Column("psn_no", String),
    Column("setl_id", String), Column("orig_setl_id", String), Column("refd_setl_flag", String),
    Column("insutype", String), Column("clr_type", String), Column("clr_optins", String),
    Column("setl_time", String), Column("setl_date", String),
    Column("medfee_sumamt", String), Column("fund_pay_sumamt", String),
    Column("acct_pay", String), Column("psn_cash_pay", String), Column("hosp_part_amt", String),
    Column("status", String, nullable=False), Column("setlinfo", Text), Column("note", String),
    Column("created_at", String),
)

bills = Table(
    "bills", METADATA,
    Column("bill_no", String, primary_key=True), Column("visit_id", String, nullable=False),
    Column("setl_id", String), Column("kind", String), Column("printed_at", String),
    Column("content", Text),
)

messages = Table(
    "messages", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msgid", String, nullable=False), Column("infno", String), Column("operator", String),
    Column("visit_id", String), Column("sent_at", String), Column("outcome", String),
    Column("err_msg", Text),
)

signins = Table(
    "signins", METADATA,
    Column("operator", String, primary_key=True), Column("day", String, primary_key=True),
    Column("sign_no", String, nullable=False), Column("signed_at", String),
    UniqueConstraint("operator", "day"),
)

rule_checks = Table(  # every 3101/3102 asked, with the warnings shown (issue 10)
    "rule_checks", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, nullable=False), Column("infno", String),
    Column("checked_at", String), Column("warnings", Text),
)

overrides = Table(  # a cashier's decision to go on past a severe warning: who, when, which rules
    "overrides", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", String, nullable=False), Column("operation", String),
    Column("by", String, nullable=False), Column("reason", Text),
    Column("at", String), Column("rule_ids", Text),
)

receivables = Table(  # per settlement claimed from the insurer (simulator/his/receivables.py)
    "receivables", METADATA,
    Column("setl_id", String, primary_key=True), Column("period", String, nullable=False),
    Column("setl_date", String), Column("visit_id", String), Column("mdtrt_id", String),
    Column("psn_no", String), Column("insutype", String), Column("dept_code", String),
    Column("dept_name", String), Column("dr_code", String), Column("dr_name", String),
    Column("fund_claimed", String), Column("acct_claimed", String), Column("claimed", String),
    Column("paid", String), Column("deducted", String), Column("status", String),
    Column("dcla_id", String), Column("pay_id", String), Column("paid_date", String),
)

deductions = Table(  # the insurer's review deductions (拒付), as read from its portal
    "deductions", METADATA,
    Column("ded_id", String, primary_key=True), Column("dcla_id", String),
    Column("setl_id", String), Column("feedetl_sn", String), Column("rule_id", String),
    Column("category", String), Column("reason", Text), Column("reason_en", Text),
    Column("amount", String), Column("dept_code", String), Column("dept_name", String),
    Column("dr_code", String), Column("dr_name", String),
)

declarations = Table(  # what the HIS declared per period, and the insurer's record of it
    "declarations", METADATA,
    Column("period", String, primary_key=True), Column("dcla_id", String),
    Column("status", String), Column("declared_on", String), Column("record", Text),
)

payments = Table(  # payments (回款) read from the portal
    "payments", METADATA,
    Column("pay_id", String, primary_key=True), Column("kind", String),
    Column("dcla_id", String), Column("amount", String), Column("paid_date", String),
    Column("record", Text),
)

counters = Table(
    "counters", METADATA,
    Column("name", String, primary_key=True), Column("value", Integer, nullable=False),
)

LEDGER_MONEY = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay", "hosp_part_amt")
LINE_MONEY = ("qty", "price", "amount", "days")
COUNTED = ("settled", "cancelled", "refund")
RECEIVABLE_MONEY = ("fund_claimed", "acct_claimed", "claimed", "paid", "deducted")
_JSON = {"baseinfo", "insuinfo", "diagnoses", "result", "setlinfo", "content",
         "register_envelope", "warnings", "rule_ids", "record"}


_FINANCE = {"receivables": receivables, "deductions": deductions,
            "declarations": declarations, "payments": payments}


def dump(value: Any) -> str:
    """JSON text; Decimals as exact strings."""
    return orjson.dumps(value, default=_exact).decode("utf-8")


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def db_url_of(path_or_url: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a plain file path."""
    text = str(path_or_url)
    return text if "://" in text else f"sqlite:///{text}"


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise HisConfigError(f"--db: not a database URL or path: {url!r}") from exc
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(url)
        except (ArgumentError, ImportError) as exc:  # an unknown dialect, a missing driver
            raise HisConfigError(f"--db: cannot use {parsed.render_as_string()}: {exc}") from exc
    database = parsed.database or ""
    if database in ("", ":memory:"):
        raise HisConfigError("--db: the HIS needs a database file (sqlite:///PATH or a path)")
    directory = Path(database).resolve().parent
    if not directory.is_dir():
        raise HisConfigError(f"--db: directory does not exist: {directory}")
    engine = create_engine(f"sqlite+pysqlite:///{database}",
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a kill -9 loses nothing
        cursor.close()

    return engine


def _encode(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in values.items():
        if key in _JSON and value is not None and not isinstance(value, str):
            row[key] = dump(value)
        elif isinstance(value, Decimal):
            row[key] = render(value) if key not in ("qty", "days") else str(value)
        else:
            row[key] = value
    return row


def _new_id(result: Any) -> int:
    """The primary key an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _decode(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in _JSON:
            out[key] = load(value)
        elif key in LEDGER_MONEY or key in LINE_MONEY or key in RECEIVABLE_MONEY:
            out[key] = None if value in (None, "") else parse_decimal(value)
        else:
            out[key] = value
    return out


class HisStore:
    """The HIS database. Thread-safe: every method is one short transaction, serialised by a
    lock in the process (SQLite has one writer at a time)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._lock = threading.RLock()
        try:
            METADATA.create_all(self.engine)
        except DBAPIError as exc:  # not a database, a directory, a server that is not there
            self.engine.dispose()
            reason = " ".join(str(exc.orig or exc).split("\n")[0].split())
            shown = make_url(url).render_as_string(hide_password=True)
            raise HisConfigError(f"--db: cannot open the HIS's database {shown}: {reason}"
                                 ) from exc

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            yield conn

    # -- counters ------------------------------------------------------------------------
    def next_number(self, name: str) -> int:
        """The next value of a named sequence (1, 2, ...), kept across restarts."""
        with self._tx() as conn:
            current = conn.execute(select(counters.c.value)
                                   .where(counters.c.name == name)).scalar()
            if current is None:
                conn.execute(insert(counters).values(name=name, value=1))
                return 1
            conn.execute(update(counters).where(counters.c.name == name)
                         .values(value=current + 1))
            return int(current) + 1

    # -- patients ------------------------------------------------------------------------
    def save_patient(self, values: Mapping[str, Any]) -> int:
        """Insert or update the patient with ``values["psn_no"]``; returns its patient_id."""
        row = _encode(patients, values)
        with self._tx() as conn:
            found = conn.execute(select(patients.c.patient_id)
                                 .where(patients.c.psn_no == row["psn_no"])).scalar()
            if found is None:
                return _new_id(conn.execute(insert(patients).values(**row)))
            conn.execute(update(patients).where(patients.c.patient_id == found).values(**row))
            return int(found)

    def patient(self, patient_id: int) -> dict[str, Any] | None:
        return self._one(select(patients).where(patients.c.patient_id == patient_id))

    # -- visits --------------------------------------------------------------------------
    def add_visit(self, values: Mapping[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(insert(visits).values(**_encode(visits, values)))

    def visit(self, visit_id: str) -> dict[str, Any] | None:
        return self._one(select(visits).where(visits.c.visit_id == visit_id))

    def visit_by_mdtrt_id(self, mdtrt_id: str) -> dict[str, Any] | None:
        return self._one(select(visits).where(visits.c.mdtrt_id == mdtrt_id))

    def update_visit(self, visit_id: str, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(visits).where(visits.c.visit_id == visit_id)
                         .values(**_encode(visits, values)))

    def visits(self, *, reg_date: str | None = None,
               statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
        query = select(visits)
        if reg_date is not None:
            query = query.where(visits.c.reg_date == reg_date)
        if statuses is not None:
            query = query.where(visits.c.status.in_(list(statuses)))
        return self._all(query.order_by(visits.c.visit_id))

    # -- charged lines -------------------------------------------------------------------
    def add_lines(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            with self._tx() as conn:
                conn.execute(insert(lines), [_encode(lines, r) for r in rows])

    def lines(self, visit_id: str, *, statuses: Sequence[str] | None = None,
              batch: str | None = None) -> list[dict[str, Any]]:
        query = select(lines).where(lines.c.visit_id == visit_id)
        if statuses is not None:
            query = query.where(lines.c.status.in_(list(statuses)))
        if batch is not None:
            query = query.where(lines.c.chrg_bchno == batch)
        return self._all(query.order_by(lines.c.id))

    def set_lines(self, ids: Sequence[int], **values: Any) -> None:
        if ids:
            with self._tx() as conn:
                conn.execute(update(lines).where(lines.c.id.in_(list(ids)))
                             .values(**_encode(lines, values)))

    # -- ledger --------------------------------------------------------------------------
    def add_entry(self, values: Mapping[str, Any]) -> int:
        with self._tx() as conn:
            result = conn.execute(insert(ledger).values(**_encode(ledger, values)))
            return _new_id(result)

    def update_entry(self, entry_id: int, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(ledger).where(ledger.c.id == entry_id)
                         .values(**_encode(ledger, values)))

    def delete_entry(self, entry_id: int) -> None:
        with self._tx() as conn:
            conn.execute(delete(ledger).where(ledger.c.id == entry_id))

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        return self._one(select(ledger).where(ledger.c.id == entry_id))

    def entry_by_msgid(self, msgid: str) -> dict[str, Any] | None:
        return self._one(select(ledger).where(ledger.c.msgid == msgid))

    def entry_by_setl_id(self, setl_id: str) -> dict[str, Any] | None:
        return self._one(select(ledger).where(ledger.c.setl_id == setl_id))

    def entries(self, *, setl_date: str | None = None, visit_id: str | None = None,
                statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
        query = select(ledger)
        if setl_date is not None:
            query = query.where(ledger.c.setl_date == setl_date)
        if visit_id is not None:
            query = query.where(ledger.c.visit_id == visit_id)
        if statuses is not None:
            query = query.where(ledger.c.status.in_(list(statuses)))
        return self._all(query.order_by(ledger.c.id))

    # -- bills ---------------------------------------------------------------------------
    def add_bill(self, values: Mapping[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(insert(bills).values(**_encode(bills, values)))

    def bills(self, visit_id: str) -> list[dict[str, Any]]:
        return self._all(select(bills).where(bills.c.visit_id == visit_id)
                         .order_by(bills.c.printed_at, bills.c.bill_no))

    # -- rule checks (3101/3102) and overrides ------------------------------------------
    def add_rule_check(self, values: Mapping[str, Any]) -> None:
        """Keep one 3101/3102 asked for a visit and the ``warnings`` it answered."""
        with self._tx() as conn:
            conn.execute(insert(rule_checks).values(**_encode(rule_checks, values)))

    def rule_checks(self, visit_id: str) -> list[dict[str, Any]]:
        return self._all(select(rule_checks).where(rule_checks.c.visit_id == visit_id)
                         .order_by(rule_checks.c.id))

    def add_override(self, values: Mapping[str, Any]) -> None:
        """Record who went on past which severe rules, when (the HIS's clock) and why."""
        with self._tx() as conn:
            conn.execute(insert(overrides).values(**_encode(overrides, values)))

    def overrides(self, visit_id: str) -> list[dict[str, Any]]:
        return self._all(select(overrides).where(overrides.c.visit_id == visit_id)
                         .order_by(overrides.c.id))

    # -- receivables, deductions, declarations, payments (simulator/his/receivables.py) --
    def save_row(self, table: str, values: Mapping[str, Any]) -> None:
        """Insert or replace one row of ``receivables``, ``deductions``, ``declarations`` or
        ``payments`` by its primary key."""
        found = _FINANCE[table]
        row = _encode(found, values)
        key = next(iter(found.primary_key.columns))
        with self._tx() as conn:
            conn.execute(delete(found).where(key == row[key.name]))
            conn.execute(insert(found).values(**row))

    def delete_row(self, table: str, key_value: str) -> None:
        found = _FINANCE[table]
        key = next(iter(found.primary_key.columns))
        with self._tx() as conn:
            conn.execute(delete(found).where(key == key_value))

    def rows(self, table: str, **equal: Any) -> list[dict[str, Any]]:
        """The rows of a finance table whose columns equal ``equal`` (all rows without)."""
        found = _FINANCE[table]
        key = next(iter(found.primary_key.columns))
        query = select(found)
        for name, value in equal.items():
            query = query.where(found.c[name] == value)
        return self._all(query.order_by(key))

    # -- messages and sign-ins -----------------------------------------------------------
    def log_message(self, values: Mapping[str, Any]) -> int:
        with self._tx() as conn:
            return _new_id(conn.execute(insert(messages).values(**values)))

    def update_message(self, message_id: int, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(messages).where(messages.c.id == message_id).values(**values))

    def messages(self, *, infno: str | None = None) -> list[dict[str, Any]]:
        query = select(messages)
        if infno is not None:
            query = query.where(messages.c.infno == infno)
        return self._all(query.order_by(messages.c.id))

    def signin(self, operator: str, day: str) -> str | None:
        found = self._one(select(signins).where(signins.c.operator == operator,
                                                signins.c.day == day))
        return None if found is None else str(found["sign_no"])

    def save_signin(self, operator: str, day: str, sign_no: str, signed_at: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(signins).where(signins.c.operator == operator,
                                               signins.c.day == day))
            conn.execute(insert(signins).values(operator=operator, day=day, sign_no=sign_no,
                                                signed_at=signed_at))

    def forget_signin(self, operator: str, day: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(signins).where(signins.c.operator == operator,
                                               signins.c.day == day))

    # -- helpers -------------------------------------------------------------------------
    def _one(self, query: Any) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _decode(row)

    def _all(self, query: Any) -> list[dict[str, Any]]:
        with self._tx() as conn:
            rows = conn.execute(query).mappings().all()
        return [_decode(r) for r in rows]
