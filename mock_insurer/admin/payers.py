"""Several payers (one-stop settlement) in the admin API: enrolling a person with a payer, and
each payer's totals for an institution's reconciliation.

- ``GET /persons/{psn_no}/enrolments`` / ``PUT`` with ``{"enrolments": ["veterans", ...]}`` —
  the payers of eligibility ``enrolment`` that cover the person (the PUT replaces the list;
  422 for an unknown payer id or a body that is not that shape, 404 for an unknown person).
- ``GET /payers/totals?fixmedins_code=&begin=&end=`` — per ``fund_pay_type`` of the
  ``setldetail`` rows of the settlements with business date in [begin, end] (inclusive):
  the amount settled and the settlements counted, the amount cancelled and the cancellations,
  and the net (yuan). Rows a 2601 reversal took back are left out on both sides, as 3201 does,
  so the net of every payer adds up to the fund side of 3201 (docs/admin-api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mock_insurer.admin.control import json_object, only_keys, printable
from mock_insurer.admin.errors import BadRequest, NotFound, Unprocessable
from mock_insurer.admin.params import path_text
from mock_insurer.admin.web import AdminCall, Op
from mock_insurer.ledger import Ledger
from mock_insurer.ledger.enrolments import enrolments_of, set_enrolments
from mock_insurer.money import ZERO, parse_decimal
from mock_insurer.policy.payers import PAYER_COUNTERS
from mock_insurer.transactions.reconcile import in_effect

__all__ = ["PayerTotal", "payer_ops", "payer_totals"]


@dataclass(slots=True)
class PayerTotal:
    """One fund_pay_type's sums over a period (yuan) and how many rows made them."""

    fund_pay_type: str
    fund_pay_type_name: str
    settled_amt: Decimal = ZERO
    settled_cnt: int = 0
    cancelled_amt: Decimal = ZERO  # negative: the cancellations' (negated) amounts
    cancelled_cnt: int = 0

    def view(self) -> dict[str, Any]:
        return {"fund_pay_type": self.fund_pay_type,
                "fund_pay_type_name": self.fund_pay_type_name,
                "settled_amt": self.settled_amt, "settled_cnt": self.settled_cnt,
                "cancelled_amt": self.cancelled_amt, "cancelled_cnt": self.cancelled_cnt,
                "net_amt": self.settled_amt + self.cancelled_amt}


def payer_totals(ledger: Ledger, fixmedins_code: str, begin: str,
                 end: str) -> list[PayerTotal]:
    """Each fund_pay_type's totals over the settlements of ``fixmedins_code`` with business
    date in [``begin``, ``end``] (``YYYY-MM-DD``, inclusive), ordered by fund_pay_type."""
    totals: dict[str, PayerTotal] = {}
    with ledger.read() as tx:
        rows = in_effect(tx, tx.settlements_between(fixmedins_code, begin, end))
    for settlement in rows:
        for detail in settlement.setldetail:
            code = str(detail["fund_pay_type"])
            total = totals.setdefault(code, PayerTotal(
                code, str(detail.get("fund_pay_type_name") or "")))
            amount = parse_decimal(str(detail["fund_payamt"]))
            if settlement.refd_setl_flag == "0":
                total.settled_amt += amount
                total.settled_cnt += 1
            else:
                total.cancelled_amt += amount
                total.cancelled_cnt += 1
    return [totals[code] for code in sorted(totals)]


class Payers:
    """The endpoints over one ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def enrolments(self, call: AdminCall) -> dict[str, Any]:
        psn_no = path_text(call.path, "psn_no")
        with self.ledger.read() as tx:
            if tx.person(psn_no) is None:
                raise NotFound(f"no person {psn_no!r}", where="path.psn_no")
            return {"psn_no": psn_no, "enrolments": sorted(enrolments_of(tx, psn_no))}

    def put_enrolments(self, call: AdminCall) -> dict[str, Any]:
        psn_no = path_text(call.path, "psn_no")
        data = json_object(call)
        only_keys(data, ("enrolments",))
        wanted = data.get("enrolments")
        if not isinstance(wanted, list) or not all(isinstance(p, str) for p in wanted):
            raise Unprocessable("enrolments must be a list of payer ids such as "
                                "[\"veterans\", \"commercial\"] ([] enrols with nothing)",
                                where="body.enrolments")
        for index, payer in enumerate(wanted):
            if payer not in PAYER_COUNTERS:
                raise Unprocessable(f"unknown payer {printable(payer, 40)!r}; known payers: "
                                    f"{', '.join(PAYER_COUNTERS)}",
                                    where=f"body.enrolments[{index}]")
        with self.ledger.write() as tx:
            if tx.person(psn_no) is None:
                raise NotFound(f"no person {psn_no!r}", where="path.psn_no")
            set_enrolments(tx, psn_no, wanted)
        return {"psn_no": psn_no, "enrolments": sorted(set(wanted))}

    def totals(self, call: AdminCall) -> dict[str, Any]:
        code = call.query.text("fixmedins_code")
        begin, end = call.query.day("begin"), call.query.day("end")
        for name, value in (("fixmedins_code", code), ("begin", begin), ("end", end)):
            if value is None:
                raise BadRequest(f"{name} is required", where=name)
        assert code is not None and begin is not None and end is not None
        if begin > end:
            raise BadRequest(f"begin {begin} is after end {end}", where="begin")
        items = [t.view() for t in payer_totals(self.ledger, code, begin, end)]
        return {"fixmedins_code": code, "begin": begin, "end": end, "items": items,
                "total": len(items)}


def payer_ops(ledger: Ledger) -> list[Op]:
    """The several-payers operations of the admin API."""
    p = Payers(ledger)
    return [
        Op("GET", "/persons/{psn_no}/enrolments", p.enrolments),
        Op("PUT", "/persons/{psn_no}/enrolments", p.put_enrolments),
        Op("GET", "/payers/totals", p.totals, params=("fixmedins_code", "begin", "end")),
    ]
