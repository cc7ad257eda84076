"""The review's ledger access: a period's settlements as claims, and the declarations,
deductions and payments tables (``mock_insurer/ledger/schema.py``). SQLAlchemy Core on the
transaction's connection, the same on SQLite and PostgreSQL.

Which rows count (the 3201 rule, :func:`mock_insurer.transactions.reconcile.in_effect`): the
settlement rows of the period (business date in the month, inclusive) that no 2601 reversal
undid; sums are net and each row counts one. A claim is an original settlement of the period
not cancelled (2208) by the period's last day; a cancellation of an earlier period's
settlement is a negative claim (netted, not reviewed) of what was accepted for that
settlement: its claim less what its month's review deducted on it (:func:`deducted_on`); a
settlement and its cancellation in the same period are claimed by neither. A settlement
cancelled after its period ended is still claimed by its period, but not reviewed once it is
cancelled (its cancellation's period then nets back the whole claim): either way the two
months net to zero for a visit that no longer exists.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from mock_insurer.ledger import LedgerTx, Settlement
from mock_insurer.ledger import schema as s
from mock_insurer.money import ZERO, parse_decimal
from mock_insurer.review.compute import Claim, Ordering, Totals
from mock_insurer.review.rules import ChargedRow
from mock_insurer.transactions.reconcile import in_effect

__all__ = [
    "PeriodData",
    "Row",
    "add_deductions",
    "add_payment",
    "declaration_by_id",
    "declaration_by_period",
    "declarations_of",
    "deducted_on",
    "deductions_of",
    "history_rows",
    "insert_declaration",
    "items_of",
    "payment_by_key",
    "payments_of",
    "period_bounds",
    "period_data",
    "unrecouped_advances",
    "update_declaration",
    "withdraw_declaration",
]

_CHUNK = 500

Row = dict[str, Any]


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of ``YYYY-MM``."""
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class PeriodData:
    """A period's uploaded totals, its claims (in settlement order) and their charged rows."""

    uploaded: Totals
    claims: tuple[Claim, ...]
    rows: tuple[ChargedRow, ...]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _visits(tx: LedgerTx, ids: Sequence[str]) -> dict[str, Ordering]:
    v = s.visits.c
    found = {}
    for part in _chunks(ids):
        for r in tx.conn.execute(select(v.mdtrt_id, v.dept_code, v.dept_name, v.atddr_no,
                                        v.dr_name).where(v.mdtrt_id.in_(part))):
            found[r.mdtrt_id] = Ordering(r.dept_code or "", r.dept_name or "",
                                         r.atddr_no or "", r.dr_name or "")
    return found


def _fee_rows(tx: LedgerTx, setl_ids: Sequence[str]) -> list[RowMapping]:
    f = s.fee_details.c
    found: list[RowMapping] = []
    for part in _chunks(setl_ids):
        found.extend(tx.conn.execute(
            select(f.id, f.setl_id, f.mdtrt_id, f.psn_no, f.feedetl_sn, f.fee_ocur_time,
                   f.med_list_codg, f.cnt, f.prd_days, f.det_item_fee_sumamt, f.inscp_scp_amt,
                   f.bilg_dept_codg, f.bilg_dept_name, f.bilg_dr_codg, f.bilg_dr_name)
            .where(f.setl_id.in_(part))).mappings())
    return sorted(found, key=lambda row: int(row["id"]))  # upload order


def _cancelled_within(tx: LedgerTx, row: Settlement, end: str) -> bool:
    if not row.cancelled_by:
        return False
    by = tx.settlement(row.cancelled_by)
    return by is not None and by.biz_date <= end


def _in_scope(row: Settlement) -> Decimal:
    try:
        return parse_decimal(row.setlinfo.get("inscp_scp_amt", ZERO))
    except ValueError:
        return ZERO


def history_rows(tx: LedgerTx, persons: Iterable[str], period: str,
                 days: int) -> list[ChargedRow]:
    """The persons' rows charged (not cancelled) in the ``days`` days before ``period``'s first
    day, at any institution, in upload order per person — what 3101/3102 read as history."""
    if days <= 0:
        return []
    first, _last = period_bounds(period)
    since = f"{(first - dt.timedelta(days=days)).isoformat()} 00:00:00"
    until = f"{(first - dt.timedelta(days=1)).isoformat()} 23:59:59"
    found = []
    for psn_no in sorted(set(persons)):
        for row in tx.charged_rows(psn_no, since, until):
            found.append(ChargedRow(
                setl_id=row["setl_id"] or "", mdtrt_id=row["mdtrt_id"], psn_no=row["psn_no"],
                feedetl_sn=row["feedetl_sn"],
                day=dt.date.fromisoformat(row["fee_ocur_time"][:10]),
                med_list_codg=row["med_list_codg"], cnt=row["cnt"], prd_days=row["prd_days"],
                det_item_fee_sumamt=row["det_item_fee_sumamt"],
                inscp_scp_amt=row["inscp_scp_amt"]))
    return found


def period_data(tx: LedgerTx, fixmedins_code: str, period: str) -> PeriodData:
    """What the ledger holds for ``fixmedins_code`` in ``period`` (see the module)."""
    first, last = period_bounds(period)
    begin, end = first.isoformat(), last.isoformat()
    rows = in_effect(tx, tx.settlements_between(fixmedins_code, begin, end))
    uploaded = Totals(sum((r.medfee_sumamt for r in rows), ZERO),
                      sum((r.fund_pay_sumamt for r in rows), ZERO),
                      sum((r.acct_pay for r in rows), ZERO), len(rows))
    kept: list[tuple[Settlement, bool]] = []
    netted: dict[str, Decimal] = {}  # a cancellation's setl_id → deducted on its original
    for row in rows:
        if row.refd_setl_flag == "0":
            if not _cancelled_within(tx, row, end):
                # cancelled since (after the month): claimed, and netted back in full by
                # its cancellation's month — nothing to refuse on a visit that is gone
                kept.append((row, not _cancelled_within(tx, row, "9999-12-31")))
        else:
            orig = tx.settlement(row.orig_setl_id or "")
            if orig is None or not begin <= orig.biz_date <= end:
                kept.append((row, False))
                if orig is not None:
                    netted[row.setl_id] = deducted_on(tx, fixmedins_code, orig)
    visits = _visits(tx, sorted({row.mdtrt_id for row, _ in kept}))
    reviewed = [row.setl_id for row, reviewable in kept if reviewable]
    fees = _fee_rows(tx, reviewed)
    ordering: dict[str, dict[str, Ordering]] = {}
    charged = []
    for fee in fees:
        ordering.setdefault(fee["setl_id"], {})[fee["feedetl_sn"]] = Ordering(
            fee["bilg_dept_codg"] or "", fee["bilg_dept_name"] or "",
            fee["bilg_dr_codg"] or "", fee["bilg_dr_name"] or "")
        charged.append(ChargedRow(
            setl_id=fee["setl_id"], mdtrt_id=fee["mdtrt_id"], psn_no=fee["psn_no"],
            feedetl_sn=fee["feedetl_sn"], day=dt.date.fromisoformat(fee["fee_ocur_time"][:10]),
            med_list_codg=fee["med_list_codg"], cnt=parse_decimal(fee["cnt"]),
            prd_days=parse_decimal(fee["prd_days"]) if fee["prd_days"] else None,
            det_item_fee_sumamt=fee["det_item_fee_sumamt"],
            inscp_scp_amt=fee["inscp_scp_amt"]))
    claims = tuple(
        Claim(row.setl_id, row.mdtrt_id, row.psn_no, row.biz_date,
              row.fund_pay_sumamt + netted.get(row.setl_id, ZERO),
              row.acct_pay, _in_scope(row), visits.get(row.mdtrt_id, Ordering()),
              ordering.get(row.setl_id, {}), reviewable)
        for row, reviewable in kept)
    return PeriodData(uploaded, claims, tuple(charged))


def deducted_on(tx: LedgerTx, fixmedins_code: str, orig: Settlement) -> Decimal:
    """What the review of ``orig``'s month deducted on it (0 while that month is not
    reviewed: its review then leaves a cancelled settlement alone, see :func:`period_data`)."""
    found = declaration_by_period(tx, fixmedins_code, orig.biz_date[:7])
    if found is None or found["status"] not in ("reviewed", "paid"):
        return ZERO
    d = s.deductions.c
    return sum((r.amount for r in tx.conn.execute(select(d.amount).where(and_(
        d.dcla_id == found["dcla_id"], d.setl_id == orig.setl_id)))), ZERO)


# -- declarations -------------------------------------------------------------------------------
def insert_declaration(tx: LedgerTx, values: Mapping[str, Any]) -> None:
    tx.conn.execute(insert(s.declarations).values(**values))


def update_declaration(tx: LedgerTx, dcla_id: str, values: Mapping[str, Any]) -> None:
    tx.conn.execute(update(s.declarations).where(s.declarations.c.dcla_id == dcla_id)
                    .values(**values))


def _first(found: RowMapping | None) -> Row | None:
    return None if found is None else dict(found)


def declaration_by_id(tx: LedgerTx, dcla_id: str, *, lock: bool = False) -> Row | None:
    """The declaration (in force, or withdrawn: then with ``withdrawn_on``); ``lock``: held
    until the transaction ends (PostgreSQL ``FOR UPDATE``, so that two reviews or payments of
    one declaration run one after the other; SQLite's writers are serialized anyway)."""
    query = select(s.declarations).where(s.declarations.c.dcla_id == dcla_id)
    if lock:
        query = query.with_for_update()
    found = _first(tx.conn.execute(query).mappings().first())
    if found is not None:
        return found
    w = s.withdrawn_declarations.c
    return _first(tx.conn.execute(select(s.withdrawn_declarations)
                                  .where(w.dcla_id == dcla_id)).mappings().first())


def withdraw_declaration(tx: LedgerTx, row: Mapping[str, Any], day: str) -> None:
    """Withdraw the declaration ``row`` on ``day``: kept as it was among the withdrawn ones
    (status ``withdrawn``), its month free to be declared again. A declaration not yet
    reviewed has no deductions or payments that name it."""
    tx.conn.execute(insert(s.withdrawn_declarations).values(
        **{**row, "status": "withdrawn", "withdrawn_on": day}))
    tx.conn.execute(delete(s.declarations).where(s.declarations.c.dcla_id == row["dcla_id"]))


def declaration_by_period(tx: LedgerTx, fixmedins_code: str, period: str) -> Row | None:
    """The month's declaration in force (not withdrawn), if any."""
    d = s.declarations.c
    return _first(tx.conn.execute(select(s.declarations).where(
        and_(d.fixmedins_code == fixmedins_code, d.period == period))).mappings().first())


def declarations_of(tx: LedgerTx, fixmedins_code: str | None, period: str | None,
                    status: str | None = None) -> list[Row]:
    """The institution's declarations (every institution's: ``None``), withdrawn ones
    included, of the period and status given, by month and then as made."""
    rows: list[Row] = []
    for table in (s.declarations, s.withdrawn_declarations):
        if status is not None and (status == "withdrawn") != (table is s.withdrawn_declarations):
            continue
        query = select(table)
        for column, value in ((table.c.fixmedins_code, fixmedins_code),
                              (table.c.period, period), (table.c.status, status)):
            if value is not None:
                query = query.where(column == value)
        rows += [dict(r) for r in tx.conn.execute(query).mappings()]
    return sorted(rows, key=lambda r: (r["period"], r["dcla_id"]))


def add_deductions(tx: LedgerTx, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        tx.conn.execute(insert(s.deductions), list(rows))


def deductions_of(tx: LedgerTx, dcla_id: str) -> list[Row]:
    d = s.deductions.c
    return [dict(r) for r in tx.conn.execute(select(s.deductions).where(d.dcla_id == dcla_id)
                                             .order_by(d.seq)).mappings()]


# -- payments -----------------------------------------------------------------------------------
def add_payment(tx: LedgerTx, values: Mapping[str, Any],
                items: Sequence[Mapping[str, Any]] = ()) -> None:
    tx.conn.execute(insert(s.payments).values(**values))
    if items:
        tx.conn.execute(insert(s.payment_items),
                        [{**item, "pay_id": values["pay_id"]} for item in items])


def payment_by_key(tx: LedgerTx, once_key: str) -> Row | None:
    return _first(tx.conn.execute(select(s.payments).where(
        s.payments.c.once_key == once_key)).mappings().first())


def payments_of(tx: LedgerTx, fixmedins_code: str, year: int | None) -> list[Row]:
    p = s.payments.c
    query = select(s.payments).where(p.fixmedins_code == fixmedins_code)
    if year is not None:
        query = query.where(p.paid_date.like(f"{year:04d}-%"))
    return [dict(r) for r in tx.conn.execute(query.order_by(p.paid_date, p.pay_id)).mappings()]


def unrecouped_advances(tx: LedgerTx, fixmedins_code: str, before_year: int) -> list[Row]:
    """Advances of ``fixmedins_code`` for years before ``before_year`` not yet recouped."""
    p = s.payments.c
    advances = tx.conn.execute(select(s.payments).where(and_(
        p.fixmedins_code == fixmedins_code, p.kind == "advance", p.year < before_year))
        .order_by(p.year)).mappings()
    return [dict(a) for a in advances
            if payment_by_key(tx, f"recoup:{fixmedins_code}:{a['year']}") is None]


def items_of(tx: LedgerTx, pay_id: str) -> list[Row]:
    i = s.payment_items.c
    return [dict(r) for r in tx.conn.execute(select(s.payment_items).where(i.pay_id == pay_id)
                                             .order_by(i.id)).mappings()]
