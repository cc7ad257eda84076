"""Read-only queries for the admin and inspection API (``mock_insurer.admin``).

Every function takes an open :class:`~mock_insurer.ledger.store.LedgerTx` (a ``Ledger.read()``
transaction, or the write transaction of an admin reset) and returns plain rows
(:class:`~sqlalchemy.engine.RowMapping`): money columns come back as Decimal yuan, JSON
columns as text (the admin views parse them). Nothing here writes.

Paging: list queries take ``limit`` and ``offset`` and return a :class:`Page` with the total
count of matching rows; the message log pages by id, forwards with ``after_id`` (its ids only
grow) or backwards with ``before_id``.
Dates: ``biz_date_from``/``biz_date_to`` are inclusive business dates ``YYYY-MM-DD``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.engine import RowMapping

from mock_insurer.ledger import schema as s
from mock_insurer.ledger.store import LedgerTx
from mock_insurer.money import ZERO
from mock_insurer.refusals import CASHIER_INFNOS, LATE_REFUSALS

__all__ = [
    "MESSAGE_RESULTS",
    "Page",
    "RunningCounters",
    "account_entries",
    "catalogue_item",
    "catalogue_items",
    "cum_entries",
    "ec_tokens_of",
    "fee_details_of",
    "institution",
    "institutions",
    "mappings_of_item",
    "message",
    "message_counters",
    "messages",
    "opening_balances",
    "opening_counters",
    "person",
    "persons",
    "settlement",
    "settlements",
    "settlements_of_visit",
    "visit",
    "visits",
]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: the rows, and how many rows match in all."""

    rows: list[RowMapping]
    total: int


def _page(tx: LedgerTx, query: Select[Any], order: Sequence[ColumnElement[Any]], limit: int,
          offset: int) -> Page:
    total = tx.conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = tx.conn.execute(query.order_by(*order).limit(limit).offset(offset)).mappings()
    return Page(list(rows), int(total))


def _equal(query: Select[Any], filters: Sequence[tuple[Any, str | None]]) -> Select[Any]:
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query


# -- reference data ----------------------------------------------------------------------------

def institutions(tx: LedgerTx) -> list[RowMapping]:
    """Every institution, by code."""
    query = select(s.institutions).order_by(s.institutions.c.fixmedins_code)
    return list(tx.conn.execute(query).mappings())


def institution(tx: LedgerTx, code: str) -> RowMapping | None:
    query = select(s.institutions).where(s.institutions.c.fixmedins_code == code)
    return tx.conn.execute(query).mappings().first()


def _persons_query() -> Select[Any]:
    return select(s.persons, s.accounts.c.balc).select_from(
        s.persons.outerjoin(s.accounts, s.accounts.c.psn_no == s.persons.c.psn_no))


def persons(tx: LedgerTx, *, q: str | None = None, limit: int = 100, offset: int = 0) -> Page:
    """Persons (with their account balance ``balc``, yuan) by ``psn_no``; ``q`` matches a
    part of ``psn_no``, ``certno`` or ``psn_name``."""
    query = _persons_query()
    if q:
        query = query.where(or_(s.persons.c.psn_no.contains(q, autoescape=True),
                                s.persons.c.certno.contains(q, autoescape=True),
                                s.persons.c.psn_name.contains(q, autoescape=True)))
    return _page(tx, query, [s.persons.c.psn_no], limit, offset)


def person(tx: LedgerTx, psn_no: str) -> RowMapping | None:
    """One person with ``balc`` (None when the person has no account row)."""
    query = _persons_query().where(s.persons.c.psn_no == psn_no)
    return tx.conn.execute(query).mappings().first()


def ec_tokens_of(tx: LedgerTx, psn_no: str) -> list[str]:
    query = (select(s.ec_tokens.c.ec_token).where(s.ec_tokens.c.psn_no == psn_no)
             .order_by(s.ec_tokens.c.ec_token))
    return [str(token) for token in tx.conn.execute(query).scalars()]


def account_entries(tx: LedgerTx, psn_no: str, *, limit: int = 100) -> list[RowMapping]:
    """The person's latest personal-account movements, newest first (amount: + credit,
    - debit; yuan)."""
    query = (select(s.account_entries).where(s.account_entries.c.psn_no == psn_no)
             .order_by(s.account_entries.c.id.desc()).limit(limit))
    return list(tx.conn.execute(query).mappings())


def cum_entries(tx: LedgerTx, psn_no: str, *, limit: int = 100) -> list[RowMapping]:
    """The person's latest year-to-date counter movements, newest first (yuan)."""
    query = (select(s.cum_entries).where(s.cum_entries.c.psn_no == psn_no)
             .order_by(s.cum_entries.c.id.desc()).limit(limit))
    return list(tx.conn.execute(query).mappings())


def catalogue_items(tx: LedgerTx, *, q: str | None = None, limit: int = 100,
                    offset: int = 0) -> Page:
    """Catalogue items by national code; ``q`` matches a part of the code or the name."""
    query = select(s.catalogue_items)
    if q:
        query = query.where(or_(
            s.catalogue_items.c.med_list_codg.contains(q, autoescape=True),
            s.catalogue_items.c.med_list_name.contains(q, autoescape=True)))
    return _page(tx, query, [s.catalogue_items.c.med_list_codg], limit, offset)


def catalogue_item(tx: LedgerTx, med_list_codg: str) -> RowMapping | None:
    query = select(s.catalogue_items).where(s.catalogue_items.c.med_list_codg == med_list_codg)
    return tx.conn.execute(query).mappings().first()


def mappings_of_item(tx: LedgerTx, med_list_codg: str) -> list[RowMapping]:
    """The hospitals' items filed (对码) against one national code."""
    query = (select(s.mappings).where(s.mappings.c.med_list_codg == med_list_codg)
             .order_by(s.mappings.c.fixmedins_code, s.mappings.c.medins_list_codg))
    return list(tx.conn.execute(query).mappings())


# -- the message log -----------------------------------------------------------------------

MESSAGE_RESULTS = ("ok", "refused", "failed")
"""What a message came to, as the result filter names it (every message but a reversal's
tombstone is exactly one): ``failed`` — no usable answer (:data:`~mock_insurer.ledger.schema.
MESSAGE_FAILED`); ``refused`` — answered ``infcode`` -1, otherwise; ``ok`` — answered
``infcode`` 0, otherwise."""
_ANSWERED = f"NOT coalesce(({s.MESSAGE_FAILED}), false)"
_CODES = {"refused": s.MESSAGE_REFUSED, "ok": "infcode = 0"}


def _results(results: Sequence[str]) -> ColumnElement[bool]:
    """The messages whose result is one of ``results`` (:data:`MESSAGE_RESULTS`).

    Written so that the partial index ``ix_messages_unsuccessful`` serves ``refused``,
    ``failed`` and the two together: their conditions hold the index's terms as written
    (``infcode = -1 OR (...)`` is its whole predicate). "refused or failed" is ``refused-code
    OR failed``: a refusal whose answer was lost is a failure either way."""
    wanted = set(results)
    unknown = wanted - set(MESSAGE_RESULTS)
    if unknown:
        raise ValueError(f"unknown message results {sorted(unknown)}")
    codes = [_CODES[name] for name in ("refused", "ok") if name in wanted]
    if "failed" in wanted:
        return _sql(" OR ".join([*codes, f"({s.MESSAGE_FAILED})"]))
    return and_(_sql(" OR ".join(codes)), _sql(_ANSWERED))


def _sql(condition: str) -> ColumnElement[bool]:
    """A condition written as SQL text (constants inline, as the partial index has them; not
    typed Boolean, which SQLite would be given as ``(...) = 1``, out of the index's reach)."""
    return literal_column(f"({condition})")


def messages(tx: LedgerTx, *, after_id: int = 0, before_id: int | None = None,
             limit: int = 100, fixmedins_code: str | None = None, infno: str | None = None,
             msgid: str | None = None, status: str | None = None,
             rejection_code: str | None = None, psn_no: str | None = None,
             results: Sequence[str] = ()) -> list[RowMapping]:
    """Recorded messages with ``id > after_id``, oldest first; or, with ``before_id``, those
    with ``id < before_id``, newest first (going back through the log). ``results`` keeps the
    messages that came to one of them (:data:`MESSAGE_RESULTS`; all when empty).

    Through the primary key (or, for refusals and failures, a partial index) in id order: a
    page reads its ``limit`` rows, plus the rows the other filters pass over."""
    m = s.messages.c
    order: ColumnElement[Any]
    if before_id is None:
        query, order = select(s.messages).where(m.id > literal(after_id, BigInteger)), m.id
    else:
        query = select(s.messages).where(m.id < literal(before_id, BigInteger))
        order = m.id.desc()
    query = _equal(query, [(m.fixmedins_code, fixmedins_code), (m.infno, infno),
                           (m.msgid, msgid), (m.status, status),
                           (m.rejection_code, rejection_code), (m.psn_no, psn_no)])
    if results:
        query = query.where(_results(results))
    return list(tx.conn.execute(query.order_by(order).limit(limit)).mappings())


def message(tx: LedgerTx, message_id: int) -> RowMapping | None:
    query = select(s.messages).where(s.messages.c.id == message_id)
    return tx.conn.execute(query).mappings().first()


SETTLING_INFNOS = ("2207", "2207A")
"""Transactions whose success is a settlement (outpatient settlement, and its 2207A form)."""
_BALANCED = b'"stmt_rslt":"0"'
"""In a 3201 answer that reconciled (``stmt_rslt`` 0; answers are compact JSON, see
``mock_insurer.wire.jsonio``)."""


def _holds(tx: LedgerTx, column: ColumnElement[Any], needle: bytes) -> ColumnElement[bool]:
    """Whether a binary column holds ``needle`` (SQLite's LIKE does not read a blob;
    PostgreSQL's LIKE does read a bytea)."""
    if tx.conn.dialect.name == "sqlite":
        return func.instr(column, needle) > 0
    # bytea LIKE bytea, spelled as an operator: LargeBinary has no like() of its own
    return column.op("LIKE", is_comparison=True)(b"%" + needle + b"%")


def message_counters(tx: LedgerTx, *, after_id: int = 0) -> dict[str, int]:
    """What the messages with ``id > after_id`` came to, for a drill console:

    - ``settled``: 2207/2207A answered ``infcode`` 0 (a replayed answer to a repeated msgid is
      not a second settlement; a settlement later reversed still counts here);
    - ``refused``: refusals a cashier saw — answers with ``infcode`` -1 to a transaction of
      :data:`~mock_insurer.refusals.CASHIER_INFNOS`, other than a late one
      (:data:`~mock_insurer.refusals.LATE_REFUSALS`); replays included;
    - ``other_refused``: the other answers with ``infcode`` -1 (a query that found nothing, a
      refused reversal, the answer to a message already reversed);
    - ``failed``: no usable answer — transport faults (``status`` faulted) and lost answers
      (:data:`~mock_insurer.ledger.schema.MESSAGE_FAILED`; such a settlement counts in
      ``settled`` too);
    - ``reversed`` (2601), ``refunded`` (2208): answered ``infcode`` 0, replays left out;
    - ``unreconciled``: 3201 answered ``infcode`` 0 with ``stmt_rslt`` other than 0;
    - ``messages``: every message received (reversal tombstones are not messages);
    - ``last_id``: the newest id in the whole log, whatever ``after_id`` is (0 when empty).

    Two queries: one aggregate over the id range, one ``max(id)``.
    """
    m = s.messages.c

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    made = and_(m.infcode == 0, m.status.in_(("answered", "reversed")))
    cashier_refused = and_(m.infcode == -1, m.infno.in_(CASHIER_INFNOS),
                           func.coalesce(m.rejection_code, "").not_in(LATE_REFUSALS))
    query = (select(
        count(and_(made, m.infno.in_(SETTLING_INFNOS))).label("settled"),
        count(cashier_refused).label("refused"),
        count(and_(m.infcode == -1, not_(cashier_refused))).label("other_refused"),
        count(_sql(s.MESSAGE_FAILED)).label("failed"),
        count(and_(made, m.infno == "2601")).label("reversed"),
        count(and_(made, m.infno == "2208")).label("refunded"),
        count(and_(made, m.infno == "3201", not_(_holds(tx, m.answer, _BALANCED)))).label(
            "unreconciled"),
        count(m.status != "tombstone").label("messages"))
        .where(m.id > literal(after_id, BigInteger)))  # ids above 2**31 (PostgreSQL: int4)
    row = tx.conn.execute(query).mappings().one()
    counts = {key: int(value) for key, value in row.items()}
    last = tx.conn.execute(select(func.max(m.id))).scalar_one()
    counts["last_id"] = int(last or 0)
    return counts


class RunningCounters:
    """:func:`message_counters` kept up to date by counting only what arrived since the last
    call (a console polls every second all day: counting the whole log each time took seconds
    in a long day's ledger). Valid where message ids become visible in order — SQLite, one
    writer at a time; elsewhere every call counts afresh. Thread-safe; keeps the totals of the
    last :attr:`KEPT` ``after_id`` values asked for."""

    KEPT = 8

    def __init__(self, *, incremental: bool) -> None:
        self.incremental = incremental
        self._lock = threading.Lock()
        self._totals: OrderedDict[int, dict[str, int]] = OrderedDict()

    def count(self, tx: LedgerTx, after_id: int) -> dict[str, int]:
        """``message_counters(tx, after_id=after_id)``, from the kept totals when it can."""
        with self._lock:
            kept = self._totals.get(after_id) if self.incremental else None
        if kept is not None and _mark(tx, kept["last_id"]) != kept["mark"]:
            kept = None  # the log was emptied (a reset) since: count afresh
        if kept is None:
            counts = message_counters(tx, after_id=after_id)
        else:
            fresh = message_counters(tx, after_id=max(after_id, kept["last_id"]))
            counts = {key: kept[key] + fresh[key] for key in fresh if key != "last_id"}
            counts["last_id"] = max(kept["last_id"], fresh["last_id"])
        if self.incremental:
            with self._lock:
                self._totals[after_id] = {**counts, "mark": _mark(tx, counts["last_id"])}
                self._totals.move_to_end(after_id)
                while len(self._totals) > self.KEPT:
                    self._totals.popitem(last=False)
        return counts


def _mark(tx: LedgerTx, message_id: int) -> int:
    """What tells message ``message_id`` from another with the same id after a reset: the
    wall-clock millisecond it was received (-1: no such message, 0: none yet)."""
    if message_id == 0:
        return 0
    found = tx.conn.execute(select(s.messages.c.received_ms)
                            .where(s.messages.c.id == message_id)).scalar()
    return -1 if found is None else int(found)


# -- visits and settlements -------------------------------------------------------------------

def visits(tx: LedgerTx, *, fixmedins_code: str | None = None, psn_no: str | None = None,
           status: str | None = None, limit: int = 100, offset: int = 0) -> Page:
    """Visits (2201 registrations), oldest first."""
    v = s.visits.c
    query = _equal(select(s.visits), [(v.fixmedins_code, fixmedins_code), (v.psn_no, psn_no),
                                      (v.status, status)])
    return _page(tx, query, [v.biz_time, v.mdtrt_id], limit, offset)


def visit(tx: LedgerTx, mdtrt_id: str) -> RowMapping | None:
    return tx.conn.execute(select(s.visits).where(s.visits.c.mdtrt_id == mdtrt_id)
                           ).mappings().first()


def fee_details_of(tx: LedgerTx, mdtrt_id: str) -> list[RowMapping]:
    """Every fee-detail row of a visit, cancelled ones included, in upload order."""
    query = (select(s.fee_details).where(s.fee_details.c.mdtrt_id == mdtrt_id)
             .order_by(s.fee_details.c.id))
    return list(tx.conn.execute(query).mappings())


def settlements(tx: LedgerTx, *, fixmedins_code: str | None = None, psn_no: str | None = None,
                mdtrt_id: str | None = None, biz_date_from: str | None = None,
                biz_date_to: str | None = None, limit: int = 100, offset: int = 0,
                newest: bool = False) -> Page:
    """Settlements and their cancellation rows, by settlement time (``newest``: the latest
    first — through an index, so the latest page costs the same in a ledger of millions)."""
    c = s.settlements.c
    query = _equal(select(s.settlements), [(c.fixmedins_code, fixmedins_code),
                                           (c.psn_no, psn_no), (c.mdtrt_id, mdtrt_id)])
    if biz_date_from is not None:
        query = query.where(c.biz_date >= biz_date_from)
    if biz_date_to is not None:
        query = query.where(c.biz_date <= biz_date_to)
    order = [c.setl_time.desc(), c.setl_id.desc()] if newest else [c.setl_time, c.setl_id]
    return _page(tx, query, order, limit, offset)


def settlement(tx: LedgerTx, setl_id: str) -> RowMapping | None:
    return tx.conn.execute(select(s.settlements).where(s.settlements.c.setl_id == setl_id)
                           ).mappings().first()


def settlements_of_visit(tx: LedgerTx, mdtrt_id: str) -> list[RowMapping]:
    c = s.settlements.c
    query = select(s.settlements).where(c.mdtrt_id == mdtrt_id).order_by(c.setl_time, c.setl_id)
    return list(tx.conn.execute(query).mappings())


# -- opening state (for the admin reset) ------------------------------------------------------

def opening_balances(tx: LedgerTx) -> list[dict[str, Any]]:
    """Each account's balance before any recorded movement: ``balc - sum(entries)`` (yuan).

    Every change of a balance appends an ``account_entries`` row (the ledger is append-only
    where money moves), so this is the balance as the population file loaded it."""
    moved = (select(s.account_entries.c.psn_no, func.sum(s.account_entries.c.amount)
                    .label("moved"))
             .group_by(s.account_entries.c.psn_no).subquery())
    query = (select(s.accounts.c.psn_no, s.accounts.c.balc, moved.c.moved)
             .select_from(s.accounts.outerjoin(moved, moved.c.psn_no == s.accounts.c.psn_no))
             .order_by(s.accounts.c.psn_no))
    rows = []
    for psn_no, balc, moved_cents in tx.conn.execute(query):
        rows.append({"psn_no": psn_no, "balc": Decimal(balc) - _yuan(moved_cents)})
    return rows


def opening_counters(tx: LedgerTx) -> list[dict[str, Any]]:
    """Each year-to-date counter before any recorded movement (``value - sum(deltas)``,
    yuan); counters that were zero at the start are left out, as the loader leaves them."""
    e = s.cum_entries.c
    moved = (select(e.psn_no, e.year, e.insutype, e.name, func.sum(e.delta).label("moved"))
             .group_by(e.psn_no, e.year, e.insutype, e.name).subquery())
    c = s.cum.c
    query = (select(c.psn_no, c.year, c.insutype, c.name, c.value, moved.c.moved)
             .select_from(s.cum.outerjoin(moved, and_(
                 moved.c.psn_no == c.psn_no, moved.c.year == c.year,
                 moved.c.insutype == c.insutype, moved.c.name == c.name)))
             .order_by(c.psn_no, c.year, c.insutype, c.name))
    rows = []
    for psn_no, year, insutype, name, value, moved_cents in tx.conn.execute(query):
        opening = Decimal(value) - _yuan(moved_cents)
        if opening != 0:
            rows.append({"psn_no": psn_no, "year": year, "insutype": insutype, "name": name,
                         "value": opening})
    return rows


def _yuan(summed: Any) -> Decimal:
    """A ``sum()`` of a money column: Decimal yuan (the column type converts it), or None."""
    return ZERO if summed is None else Decimal(summed)
