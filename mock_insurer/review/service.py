"""The insurer's after-the-window office: declaration (申报), review (审核 → 拒付), payment
(回款) and advance payment (预付), over the ledger. Guide: ``docs/review.md``.

Dates are the insurer's business clock (``today`` is passed in, never the wall clock); money is
Decimal yuan. Every step is idempotent: declaring the same totals again, reviewing again and
paying again answer what was recorded; a different declaration or advance for the same key is a
:class:`~mock_insurer.review.errors.ReviewConflict`. A declaration not reviewed yet can be
withdrawn (kept, status ``withdrawn``), after which its month can be declared again.

Advance payment: ``set_advance`` pays ``round_money(base_amount × ratio)`` on the business
date (kind ``advance``). It is recouped (kind ``recoup``, the negative amount) together with
the first settlement payment made in a later calendar year than the advance's year — the
year-end clearing a finance office expects: the advance carries the hospital through its year,
and is netted when the year's last claims are paid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mock_insurer.ledger import Ledger, LedgerTx
from mock_insurer.money import ZERO, round_money
from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.review import store
from mock_insurer.review.compute import Deduction, Totals, review_claims, review_rng
from mock_insurer.review.config import ReviewConfig, default_config
from mock_insurer.review.errors import ReviewConflict, ReviewInputError, ReviewNotFound
from mock_insurer.review.rules import RuleSource, library_findings, lookback_days
from mock_insurer.review.views import (
    REVIEWED,
    declaration_json,
    declared_of,
    payment_json,
    uploaded_of,
)

__all__ = ["ReviewOffice"]


@dataclass
class ReviewOffice:
    """Declarations, reviews and payments of one insurer.

    ``today``: the business date; ``catalogue``: the items by national code (for the rules'
    texts and item types); ``rules``: where rule findings come from (swappable)."""

    ledger: Ledger
    today: Callable[[], dt.date]
    catalogue: Callable[[], Mapping[str, CatalogueEntry]] = dict
    config: ReviewConfig = field(default_factory=default_config)
    rules: RuleSource = library_findings

    # -- declaration --------------------------------------------------------------------------
    def declare(self, fixmedins_code: str, period: str,
                declared: Totals) -> tuple[dict[str, Any], bool]:
        """Record the declaration of ``period`` (``YYYY-MM``, over by the business date);
        answers it and whether it was new. The same totals again answer the recorded one."""
        today = self.today()
        _first, last = store.period_bounds(period)
        with self.ledger.write() as tx:
            if tx.institution(fixmedins_code) is None:
                raise ReviewInputError(f"no institution {fixmedins_code!r}",
                                       field="fixmedins_code")
            found = store.declaration_by_period(tx, fixmedins_code, period)
            if found is not None:
                return self._same(tx, found, declared), False
            if today <= last:
                raise ReviewConflict(
                    f"the period {period} is not over: it can be declared from "
                    f"{(last + dt.timedelta(days=1)).isoformat()}; the business date is "
                    f"{today.isoformat()}", field="period")
            data = store.period_data(tx, fixmedins_code, period)
            excess = max(declared.claimable - data.uploaded.claimable, ZERO)
            claimed = sum((c.claimed for c in data.claims), ZERO) + excess
            dcla_id = f"DCLA{tx.next_seq('declaration'):010d}"
            values = {
                "dcla_id": dcla_id, "fixmedins_code": fixmedins_code, "period": period,
                "status": "declared", **_columns("declared", declared),
                **_columns("uploaded", data.uploaded), "claimed": claimed, "deducted": ZERO,
                "seed": None, "declared_on": today.isoformat(), "reviewed_on": None,
                "due_date": None, "paid_date": None,
            }
            try:
                with tx.savepoint():
                    store.insert_declaration(tx, values)
            except self.ledger.integrity_error:  # declared at the same moment elsewhere
                again = store.declaration_by_period(tx, fixmedins_code, period)
                assert again is not None
                return self._same(tx, again, declared), False
            return self._declaration(tx, dcla_id), True

    def _same(self, tx: LedgerTx, row: Mapping[str, Any], declared: Totals) -> dict[str, Any]:
        if declared_of(row) != declared:
            dcla_id = row["dcla_id"]
            if row["status"] == "declared":
                remedy = (f"to correct it, withdraw it first (DELETE /admin/declarations/"
                          f"{dcla_id}) and declare the month again / 如需更正，请先撤回该申报"
                          f"再重新申报")
            else:
                remedy = (f"it was reviewed on {row['reviewed_on']} and can no longer be "
                          f"withdrawn / 已于 {row['reviewed_on']} 审核，不能撤回")
            raise ReviewConflict(
                f"{row['fixmedins_code']} already declared {row['period']} ({dcla_id}) "
                f"with other totals; {remedy}", field="declared")
        return self._declaration(tx, row["dcla_id"])

    def withdraw(self, dcla_id: str, fixmedins_code: str | None = None) -> dict[str, Any]:
        """Withdraw (撤回) a declaration the insurer has not reviewed yet: it is kept with
        status ``withdrawn`` and the month can be declared again. Withdrawing it again
        answers the same; a reviewed one is a conflict. ``fixmedins_code``: the institution
        asking (a portal credential): another institution's declaration is not found."""
        today = self.today()
        with self.ledger.write() as tx:
            row = self._row(tx, dcla_id, lock=True)
            if fixmedins_code is not None and row["fixmedins_code"] != fixmedins_code:
                raise ReviewNotFound(f"no declaration {dcla_id!r}", field="dcla_id")
            if row["status"] in REVIEWED:
                raise ReviewConflict(
                    f"{dcla_id} ({row['period']}) was reviewed on {row['reviewed_on']} and "
                    f"cannot be withdrawn; a correction is a matter for the insurer / 该申报已于 "
                    f"{row['reviewed_on']} 审核，不能撤回", field="status")
            if row["status"] == "declared":
                store.withdraw_declaration(tx, row, today.isoformat())
            return self._declaration(tx, dcla_id)

    def declaration(self, dcla_id: str) -> dict[str, Any]:
        with self.ledger.read() as tx:
            return self._declaration(tx, dcla_id)

    def declarations(self, fixmedins_code: str | None, period: str | None,
                     status: str | None = None) -> list[dict[str, Any]]:
        """The declarations of an institution (of every one: ``None``), of the period and
        status given (``declared``: awaiting review)."""
        with self.ledger.read() as tx:
            return [self._declaration(tx, row["dcla_id"])
                    for row in store.declarations_of(tx, fixmedins_code, period, status)]

    def _declaration(self, tx: LedgerTx, dcla_id: str) -> dict[str, Any]:
        row = self._row(tx, dcla_id)
        return declaration_json(row, store.deductions_of(tx, dcla_id))

    def _row(self, tx: LedgerTx, dcla_id: str, *, lock: bool = False) -> Mapping[str, Any]:
        row = store.declaration_by_id(tx, dcla_id, lock=lock)
        if row is None:
            raise ReviewNotFound(f"no declaration {dcla_id!r}", field="dcla_id")
        return row

    # -- review -------------------------------------------------------------------------------
    def review(self, dcla_id: str, seed: int | None = None) -> dict[str, Any]:
        """Review the declaration's period (once; again answers the same)."""
        today = self.today()
        with self.ledger.write() as tx:
            row = self._row(tx, dcla_id, lock=True)
            _not_withdrawn(row)
            if row["status"] != "declared":
                return self._declaration(tx, dcla_id)
            code, period = row["fixmedins_code"], row["period"]
            used = self.config.default_seed if seed is None else seed
            data = store.period_data(tx, code, period)
            history = store.history_rows(tx, (r.psn_no for r in data.rows), period,
                                         lookback_days())
            reviewed = {(r.setl_id, r.feedetl_sn) for r in data.rows}
            findings = [f for f in self.rules([*history, *data.rows], self.catalogue())
                        if (f.setl_id, f.feedetl_sn) in reviewed]
            excess = max(declared_of(row).claimable - uploaded_of(row).claimable, ZERO)
            outcome = review_claims(
                data.claims, findings, self.config, rng=review_rng(used, code, period),
                sampling_rate=self.config.sampling_rate(today), excess=excess)
            store.add_deductions(tx, [_deduction_row(dcla_id, n, d)
                                      for n, d in enumerate(outcome.deductions, start=1)])
            due = today + dt.timedelta(days=self.config.lag_days(today))
            store.update_declaration(tx, dcla_id, {
                "status": "reviewed", "claimed": outcome.claimed,
                "deducted": outcome.deducted, "seed": used, "reviewed_on": today.isoformat(),
                "due_date": due.isoformat()})
            return self._declaration(tx, dcla_id)

    # -- payment ------------------------------------------------------------------------------
    def pay(self, dcla_id: str) -> dict[str, Any]:
        """Pay the accepted amount (once the business date reaches the due date), recouping
        earlier years' advances; paying again answers the same payment."""
        today = self.today()
        with self.ledger.write() as tx:
            row = self._row(tx, dcla_id, lock=True)
            key = f"settlement:{dcla_id}"
            if row["status"] == "paid":
                return self._payment(tx, key)
            _not_withdrawn(row)
            if row["status"] != "reviewed":
                raise ReviewConflict(f"{dcla_id} is not reviewed yet: review it first "
                                     f"(POST /admin/declarations/{dcla_id}/review)",
                                     field="status")
            if today.isoformat() < row["due_date"]:
                raise ReviewConflict(
                    f"{dcla_id} is due on {row['due_date']}; the business date is "
                    f"{today.isoformat()}", field="due_date")
            code = row["fixmedins_code"]
            data = store.period_data(tx, code, row["period"])
            deducted: dict[str, Decimal] = {}
            for d in store.deductions_of(tx, dcla_id):
                deducted[d["setl_id"]] = deducted.get(d["setl_id"], ZERO) + d["amount"]
            items: list[dict[str, Any]] = [{"setl_id": c.setl_id, "claimed": c.claimed,
                      "deducted": deducted.get(c.setl_id, ZERO),
                      "paid": c.claimed - deducted.get(c.setl_id, ZERO)} for c in data.claims]
            pay_id = self._pay_id(tx)
            store.add_payment(tx, {
                "pay_id": pay_id, "fixmedins_code": code, "kind": "settlement",
                "dcla_id": dcla_id, "year": today.year,
                "amount": sum((i["paid"] for i in items), ZERO),
                "paid_date": today.isoformat(), "base_amount": None, "ratio": None,
                "once_key": key}, items)
            for advance in store.unrecouped_advances(tx, code, today.year):
                store.add_payment(tx, {
                    "pay_id": self._pay_id(tx), "fixmedins_code": code, "kind": "recoup",
                    "dcla_id": dcla_id, "year": advance["year"], "amount": -advance["amount"],
                    "paid_date": today.isoformat(), "base_amount": None, "ratio": None,
                    "once_key": f"recoup:{code}:{advance['year']}"})
            store.update_declaration(tx, dcla_id, {"status": "paid",
                                                   "paid_date": today.isoformat()})
            return self._payment(tx, key)

    def set_advance(self, fixmedins_code: str, year: int, base_amount: Decimal,
                    ratio: Decimal) -> dict[str, Any]:
        """Pay ``round_money(base_amount × ratio)`` ahead for ``year`` (once per institution
        and year; the same terms again answer the same payment)."""
        today = self.today()
        key = f"advance:{fixmedins_code}:{year}"
        with self.ledger.write() as tx:
            if tx.institution(fixmedins_code) is None:
                raise ReviewInputError(f"no institution {fixmedins_code!r}",
                                       field="fixmedins_code")
            if store.payment_by_key(tx, key) is not None:
                return self._same_advance(tx, key, base_amount, ratio)
            try:
                with tx.savepoint():
                    store.add_payment(tx, {
                        "pay_id": self._pay_id(tx), "fixmedins_code": fixmedins_code,
                        "kind": "advance", "dcla_id": None, "year": year,
                        "amount": round_money(base_amount * ratio),
                        "paid_date": today.isoformat(), "base_amount": base_amount,
                        "ratio": str(ratio), "once_key": key})
            except self.ledger.integrity_error:  # set at the same moment elsewhere
                return self._same_advance(tx, key, base_amount, ratio)
            return self._payment(tx, key)

    def _same_advance(self, tx: LedgerTx, key: str, base_amount: Decimal,
                      ratio: Decimal) -> dict[str, Any]:
        found = store.payment_by_key(tx, key)
        assert found is not None, key
        if found["base_amount"] != base_amount or Decimal(found["ratio"]) != ratio:
            raise ReviewConflict(
                f"the advance of {found['fixmedins_code']} for {found['year']} is already set "
                f"({found['pay_id']}: base {found['base_amount']} × ratio {found['ratio']})",
                field="base_amount")
        return self._payment(tx, key)

    def payments(self, fixmedins_code: str, year: int | None) -> list[dict[str, Any]]:
        """Payments of an institution (paid in ``year`` when given), by date."""
        with self.ledger.read() as tx:
            return [payment_json(row, store.items_of(tx, row["pay_id"]))
                    for row in store.payments_of(tx, fixmedins_code, year)]

    def _payment(self, tx: LedgerTx, key: str) -> dict[str, Any]:
        row = store.payment_by_key(tx, key)
        assert row is not None, key
        return payment_json(row, store.items_of(tx, row["pay_id"]))

    @staticmethod
    def _pay_id(tx: LedgerTx) -> str:
        return f"PAY{tx.next_seq('payment'):010d}"


def _not_withdrawn(row: Mapping[str, Any]) -> None:
    if row["status"] == "withdrawn":
        period, on = row["period"], row.get("withdrawn_on")
        raise ReviewConflict(
            f"{row['dcla_id']} ({period}) was withdrawn on {on}: review and pay the month's "
            f"declaration in force (GET /admin/declarations?period={period})", field="status")


def _columns(prefix: str, totals: Totals) -> dict[str, Any]:
    return {f"{prefix}_medfee": totals.medfee_sumamt, f"{prefix}_fund": totals.fund_pay_sumamt,
            f"{prefix}_acct": totals.acct_pay, f"{prefix}_cnt": totals.setl_cnt}


def _deduction_row(dcla_id: str, seq: int, d: Deduction) -> dict[str, Any]:
    return {"ded_id": f"{dcla_id}-{seq:05d}", "dcla_id": dcla_id, "seq": seq,
            "setl_id": d.setl_id, "mdtrt_id": d.mdtrt_id, "psn_no": d.psn_no,
            "feedetl_sn": d.feedetl_sn, "rule_id": d.rule_id, "category": d.category,
            "reason": d.reason, "reason_en": d.reason_en, "amount": d.amount,
            "dept_code": d.dept_code, "dept_name": d.dept_name, "dr_code": d.dr_code,
            "dr_name": d.dr_name, "settled_on": d.settled_on}
