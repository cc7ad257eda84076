"""The ledger: the one place that talks SQL.

``Ledger.write()`` opens a write transaction (serialized per database on SQLite, per person on
PostgreSQL through :meth:`LedgerTx.lock_person`); ``Ledger.read()`` a read-only one. Handlers
receive a :class:`LedgerTx` and call its methods; they never see SQL.

Time: ``biz_time`` arguments are the insurer's business clock as ``YYYY-MM-DD HH:MM:SS``.
Money: Decimal yuan in and out (stored as cents).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from mock_insurer.ledger import schema as s
from mock_insurer.ledger.engine import make_engine
from mock_insurer.ledger.records import (
    FeeRow,
    Institution,
    Person,
    Settlement,
    SignIn,
    Visit,
)
from mock_insurer.money import ZERO, parse_decimal, render

__all__ = ["DuplicateMessage", "Ledger", "LedgerTx", "dump_json", "load_json"]


class DuplicateMessage(Exception):
    """A keyed msgid was inserted concurrently by another request (replay it)."""


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_json(value: Any) -> str:
    """JSON text for a ledger column; Decimal as a JSON number written exactly as it is."""
    return orjson.dumps(value, default=_default).decode()


def load_json(text: str | bytes) -> Any:
    """Parse a ledger column's JSON; non-integer numbers come back as Decimal."""
    return json.loads(text, parse_float=Decimal)


class Ledger:
    """A handle on the ledger database (thread-safe; one per insurer process)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        # SQLite has one writer at a time; queueing writers on a lock in the process avoids
        # SQLite's busy handler (sleep-and-retry) under many concurrent windows.
        self._write_lock: threading.Lock | None = (threading.Lock() if self.dialect == "sqlite"
                                                   else None)

    def create(self) -> None:
        """Create the tables that do not exist yet (idempotent)."""
        s.METADATA.create_all(self.engine)

    def drop(self) -> None:
        """Drop every table (used by the admin reset and by tests)."""
        s.METADATA.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        """A write transaction; commits on normal exit, rolls back on an exception."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield LedgerTx(conn, self.dialect)
            return
        with self._write_lock, self.engine.begin() as conn:
            yield LedgerTx(conn, self.dialect)

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        """A transaction for reading (on SQLite still serialized with writers; short)."""
        with self.engine.connect() as conn:
            yield LedgerTx(conn, self.dialect)
            conn.rollback()


class LedgerTx:
    """Operations inside one ledger transaction."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    # -- sequences -------------------------------------------------------------------
    def next_seq(self, name: str) -> int:
        """The next value of a named counter (1, 2, ...), unique across processes."""
        row = self.conn.execute(
            update(s.sequences).where(s.sequences.c.name == name)
            .values(value=s.sequences.c.value + 1).returning(s.sequences.c.value)
        ).first()
        if row is not None:
            return int(row[0])
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(s.sequences).values(name=name, value=1))
            return 1
        except IntegrityError:
            return self.next_seq(name)

    # -- settings ----------------------------------------------------------------------
    def get_setting(self, name: str) -> str | None:
        return self.conn.execute(
            select(s.settings_table.c.value).where(s.settings_table.c.name == name)
        ).scalar()

    def set_setting(self, name: str, value: str) -> None:
        done = self.conn.execute(
            update(s.settings_table).where(s.settings_table.c.name == name).values(value=value)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(s.settings_table).values(name=name, value=value))

    # -- reference data ------------------------------------------------------------------
    def institution(self, code: str) -> Institution | None:
        row = self.conn.execute(
            select(s.institutions).where(s.institutions.c.fixmedins_code == code)
        ).mappings().first()
        return _institution(row) if row else None

    def institutions(self) -> list[Institution]:
        rows = self.conn.execute(
            select(s.institutions).order_by(s.institutions.c.fixmedins_code)
        ).mappings()
        return [_institution(r) for r in rows]

    def person(self, psn_no: str) -> Person | None:
        row = self.conn.execute(
            select(s.persons).where(s.persons.c.psn_no == psn_no)
        ).mappings().first()
        return _person(row) if row else None

    def persons_by_certno(self, certno: str) -> list[Person]:
        rows = self.conn.execute(select(s.persons).where(s.persons.c.certno == certno)).mappings()
        return [_person(r) for r in rows]

    def card(self, card_no: str) -> RowMapping | None:
        return self.conn.execute(
            select(s.cards).where(s.cards.c.card_no == card_no)
        ).mappings().first()

    def cards_of(self, psn_no: str) -> list[RowMapping]:
        return list(self.conn.execute(
            select(s.cards).where(s.cards.c.psn_no == psn_no).order_by(s.cards.c.card_no)
        ).mappings())

    def ec_token_owner(self, token: str) -> str | None:
        return self.conn.execute(
            select(s.ec_tokens.c.psn_no).where(s.ec_tokens.c.ec_token == token)
        ).scalar()

    def catalogue_records(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(s.catalogue_items.c.record)).scalars()
        return [load_json(r) for r in rows]

    def diagnosis_names(self) -> dict[str, str]:
        rows = self.conn.execute(select(s.diagnoses.c.diag_code, s.diagnoses.c.diag_name))
        return {code: name for code, name in rows}

    def filed_mappings(self, code: str) -> dict[str, str | None]:
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
        self.conn.execute(insert(s.signins).values(
            sign_no=sign.sign_no, fixmedins_code=sign.fixmedins_code, opter_no=sign.opter_no,
            biz_date=sign.biz_date, sign_time=sign_time, valid=sign.valid))

    def signin(self, sign_no: str) -> SignIn | None:
        row = self.conn.execute(
            select(s.signins).where(s.signins.c.sign_no == sign_no)
        ).mappings().first()
        if row is None:
            return None
        return SignIn(row["sign_no"], row["fixmedins_code"], row["opter_no"], row["biz_date"],
                      bool(row["valid"]))

    def sign_out(self, sign_no: str, when: str) -> None:
        self.conn.execute(update(s.signins).where(s.signins.c.sign_no == sign_no)
                          .values(valid=False, signout_time=when))

    def invalidate_signins(self, fixmedins_code: str) -> int:
        done = self.conn.execute(update(s.signins).where(and_(
            s.signins.c.fixmedins_code == fixmedins_code, s.signins.c.valid.is_(True)))
            .values(valid=False))
        return int(done.rowcount or 0)

    # -- person state: account and year-to-date counters ---------------------------------
    def lock_person(self, psn_no: str) -> Decimal:
        """Lock the person's account row until commit and return the balance (yuan).

        Every transaction that moves the person's money or counters calls this first, so two
        windows settling the same person are serialized (PostgreSQL row lock; SQLite already
        serializes writers)."""
        query = select(s.accounts.c.balc).where(s.accounts.c.psn_no == psn_no)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        balc = self.conn.execute(query).scalar()
        if balc is None:
            self.conn.execute(insert(s.accounts).values(psn_no=psn_no, balc=ZERO))
            return ZERO
        return Decimal(balc)

    def balance(self, psn_no: str) -> Decimal:
        balc = self.conn.execute(
            select(s.accounts.c.balc).where(s.accounts.c.psn_no == psn_no)
        ).scalar()
        return ZERO if balc is None else Decimal(balc)

    def move_account(self, psn_no: str, amount: Decimal, setl_id: str, biz_time: str) -> Decimal:
        """Add ``amount`` (negative = debit) to the account; returns the balance after."""
        before = self.balance(psn_no)
        after = before + amount
        self.conn.execute(update(s.accounts).where(s.accounts.c.psn_no == psn_no)
                          .values(balc=after))
        self.conn.execute(insert(s.account_entries).values(
            psn_no=psn_no, setl_id=setl_id, amount=amount, balc_after=after, biz_time=biz_time))
        return after

    def ytd(self, psn_no: str, year: int, insutype: str) -> dict[str, Decimal]:
        rows = self.conn.execute(select(s.cum.c.name, s.cum.c.value).where(and_(
            s.cum.c.psn_no == psn_no, s.cum.c.year == year, s.cum.c.insutype == insutype)))
        return {name: Decimal(value) for name, value in rows}

    def all_cum(self, psn_no: str) -> list[RowMapping]:
        return list(self.conn.execute(
            select(s.cum).where(s.cum.c.psn_no == psn_no)
            .order_by(s.cum.c.year, s.cum.c.insutype, s.cum.c.name)).mappings())

    def move_cum(self, psn_no: str, year: int, insutype: str, deltas: Mapping[str, Decimal],
                 setl_id: str) -> None:
        current = self.ytd(psn_no, year, insutype)
        for name, delta in sorted(deltas.items()):
            if delta == 0:
                continue
            if name in current:
                self.conn.execute(update(s.cum).where(and_(
                    s.cum.c.psn_no == psn_no, s.cum.c.year == year,
                    s.cum.c.insutype == insutype, s.cum.c.name == name))
                    .values(value=current[name] + delta))
            else:
                self.conn.execute(insert(s.cum).values(
                    psn_no=psn_no, year=year, insutype=insutype, name=name, value=delta))
            self.conn.execute(insert(s.cum_entries).values(
                psn_no=psn_no, year=year, insutype=insutype, name=name, delta=delta,
                setl_id=setl_id))

    # -- visits ----------------------------------------------------------------------------
    def add_visit(self, values: Mapping[str, Any]) -> None:
        row = dict(values)
        row["diagnoses"] = dump_json(row.get("diagnoses", []))
        self.conn.execute(insert(s.visits).values(**row))

    def visit(self, mdtrt_id: str) -> Visit | None:
        row = self.conn.execute(
            select(s.visits).where(s.visits.c.mdtrt_id == mdtrt_id)
        ).mappings().first()
        if row is None:
            return None
        return Visit(row["mdtrt_id"], row["psn_no"], row["fixmedins_code"], row["insutype"],
                     row["ipt_otp_no"], row["mdtrt_cert_type"], row["mdtrt_cert_no"],
                     row["begntime"], row["med_type"], row["dise_codg"],
                     list(load_json(row["diagnoses"])), row["status"])

    def update_visit(self, mdtrt_id: str, **values: Any) -> None:
        if "diagnoses" in values:
            values["diagnoses"] = dump_json(values["diagnoses"])
        self.conn.execute(update(s.visits).where(s.visits.c.mdtrt_id == mdtrt_id)
                          .values(**values))

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
            self.conn.execute(insert(s.fee_details), prepared)

    def fee_rows(self, mdtrt_id: str, *, statuses: Sequence[str] = ("uploaded", "settled"),
                 chrg_bchno: str | None = None) -> list[FeeRow]:
        query = select(s.fee_details).where(and_(
            s.fee_details.c.mdtrt_id == mdtrt_id, s.fee_details.c.status.in_(statuses)))
        if chrg_bchno is not None:
            query = query.where(s.fee_details.c.chrg_bchno == chrg_bchno)
        rows = self.conn.execute(query.order_by(s.fee_details.c.id)).mappings()
        return [_fee_row(r) for r in rows]

    def set_fee_status(self, ids: Sequence[int], status: str, setl_id: str | None) -> None:
        if ids:
            self.conn.execute(update(s.fee_details).where(s.fee_details.c.id.in_(list(ids)))
                              .values(status=status, setl_id=setl_id))

    def supplied_days(self, psn_no: str, med_list_codg: str, since: str) -> Decimal:
        """Days of an item supplied to a person in settled rows since ``since`` (inclusive,
        business time text) — for cumulative over-supply checks."""
        rows = self.conn.execute(select(s.fee_details.c.prd_days).where(and_(
            s.fee_details.c.psn_no == psn_no, s.fee_details.c.med_list_codg == med_list_codg,
            s.fee_details.c.status == "settled", s.fee_details.c.fee_ocur_time >= since)))
        return sum((parse_decimal(d) for (d,) in rows if d), ZERO)

    # -- settlements -------------------------------------------------------------------------
    def add_settlement(self, values: Mapping[str, Any]) -> None:
        row = dict(values)
        row["setlinfo"] = dump_json(row["setlinfo"])
        row["setldetail"] = dump_json(row["setldetail"])
        row["counter_deltas"] = dump_json({k: render(v) for k, v in
                                           row["counter_deltas"].items()})
        self.conn.execute(insert(s.settlements).values(**row))

    def settlement(self, setl_id: str) -> Settlement | None:
        row = self.conn.execute(
            select(s.settlements).where(s.settlements.c.setl_id == setl_id)
        ).mappings().first()
        return _settlement(row) if row else None

    def settlement_by_msgid(self, fixmedins_code: str, msgid: str) -> Settlement | None:
        row = self.conn.execute(select(s.settlements).where(and_(
            s.settlements.c.fixmedins_code == fixmedins_code,
            s.settlements.c.medins_setl_id == msgid))).mappings().first()
        return _settlement(row) if row else None

    def settlements_of_visit(self, mdtrt_id: str) -> list[Settlement]:
        rows = self.conn.execute(select(s.settlements).where(
            s.settlements.c.mdtrt_id == mdtrt_id).order_by(s.settlements.c.setl_time,
                                                           s.settlements.c.setl_id)).mappings()
        return [_settlement(r) for r in rows]

    def mark_cancelled(self, setl_id: str, cancelled_by: str | None) -> None:
        self.conn.execute(update(s.settlements).where(s.settlements.c.setl_id == setl_id)
                          .values(cancelled_by=cancelled_by))

    def settlements_between(self, fixmedins_code: str, begin: str, end: str) -> list[Settlement]:
        """Settlements (and cancellation rows) of an institution with business date in
        [begin, end] (inclusive dates ``YYYY-MM-DD``)."""
        rows = self.conn.execute(select(s.settlements).where(and_(
            s.settlements.c.fixmedins_code == fixmedins_code,
            s.settlements.c.biz_date >= begin, s.settlements.c.biz_date <= end))
            .order_by(s.settlements.c.setl_time, s.settlements.c.setl_id)).mappings()
        return [_settlement(r) for r in rows]

    # -- messages ----------------------------------------------------------------------------
    def keyed_message(self, fixmedins_code: str, msgid: str) -> RowMapping | None:
        return self.conn.execute(select(s.messages).where(and_(
            s.messages.c.fixmedins_code == fixmedins_code, s.messages.c.msgid == msgid,
            s.messages.c.keyed.is_(True)))).mappings().first()

    def add_message(self, values: Mapping[str, Any]) -> int:
        """Insert a message record; a keyed msgid already present raises DuplicateMessage."""
        try:
            result = self.conn.execute(insert(s.messages).values(**values)
                                       .returning(s.messages.c.id))
            return int(result.scalar_one())
        except IntegrityError as exc:  # the transaction is lost: the caller retries it
            raise DuplicateMessage(str(values.get("msgid"))) from exc

    def update_message(self, message_id: int, **values: Any) -> None:
        self.conn.execute(update(s.messages).where(s.messages.c.id == message_id).values(**values))

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
        self.conn.execute(insert(s.files).values(**values))

    def file(self, file_qury_no: str) -> RowMapping | None:
        return self.conn.execute(
            select(s.files).where(s.files.c.file_qury_no == file_qury_no)
        ).mappings().first()


def _institution(row: RowMapping) -> Institution:
    return Institution(row["fixmedins_code"], row["fixmedins_name"], row["tier"], row["admdvs"],
                       dict(load_json(row["credentials"])), bool(row["blacklisted"]))


def _person(row: RowMapping) -> Person:
    return Person(row["psn_no"], row["psn_cert_type"], row["certno"], row["psn_name"],
                  row["gend"], row["brdy"], row["naty"], row["insuplc_admdvs"],
                  list(load_json(row["insuinfo"])), bool(row["maf_eligible"]),
                  bool(row["deceased"]), bool(row["blacklisted"]))


def _fee_row(row: RowMapping) -> FeeRow:
    return FeeRow(
        row["id"], row["mdtrt_id"], row["feedetl_sn"], row["chrg_bchno"], row["psn_no"],
        row["dise_codg"], row["med_list_codg"], row["medins_list_codg"],
        parse_decimal(row["cnt"]), parse_decimal(row["pric"]),
        parse_decimal(row["prd_days"]) if row["prd_days"] else None,
        row["det_item_fee_sumamt"], row["fulamt_ownpay_amt"], row["overlmt_amt"],
        row["preselfpay_amt"], row["inscp_scp_amt"], dict(load_json(row["result"])),
        row["status"], row["setl_id"])


def _settlement(row: RowMapping) -> Settlement:
    deltas = {k: parse_decimal(v) for k, v in load_json(row["counter_deltas"]).items()}
    return Settlement(
        row["setl_id"], row["mdtrt_id"], row["psn_no"], row["fixmedins_code"], row["insutype"],
        row["med_type"], row["chrg_bchno"], row["clr_type"], row["clr_way"], row["clr_optins"],
        row["setl_time"], row["biz_date"], row["year"], row["refd_setl_flag"],
        row["orig_setl_id"], row["cancelled_by"], row["medins_setl_id"], row["made_by_infno"],
        row["medfee_sumamt"], row["fund_pay_sumamt"], row["acct_pay"], row["psn_cash_pay"],
        row["hosp_part_amt"], dict(load_json(row["setlinfo"])),
        list(load_json(row["setldetail"])), deltas)
