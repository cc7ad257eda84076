"""The review's JSON: a declaration and a payment as the admin API answers them
(``docs/review.md``, "API reference").

Money is a string with two decimals (yuan); dates ``YYYY-MM-DD`` on the insurer's business
clock, ``null`` until the step happened; ``accepted`` is ``null`` until the review (the
insurer has not accepted anything before). A withdrawn declaration (status ``withdrawn``) shows
its month and ``withdrawn_on``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mock_insurer.money import render
from mock_insurer.review.compute import Totals, mismatch

__all__ = ["REVIEWED", "declaration_json", "declared_of", "deduction_json", "payment_json", "uploaded_of"]


REVIEWED = ("reviewed", "paid")
"""The statuses of a declaration whose month the insurer has reviewed."""


def declared_of(row: Mapping[str, Any]) -> Totals:
    """The declared totals of a ``declarations`` row."""
    return Totals(row["declared_medfee"], row["declared_fund"], row["declared_acct"],
                  int(row["declared_cnt"]))


def uploaded_of(row: Mapping[str, Any]) -> Totals:
    """The uploaded totals (the ledger's, at declaration) of a ``declarations`` row."""
    return Totals(row["uploaded_medfee"], row["uploaded_fund"], row["uploaded_acct"],
                  int(row["uploaded_cnt"]))


def deduction_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ded_id": row["ded_id"], "setl_id": row["setl_id"], "mdtrt_id": row["mdtrt_id"],
        "psn_no": row["psn_no"], "feedetl_sn": row["feedetl_sn"], "rule_id": row["rule_id"],
        "category": row["category"], "reason": row["reason"], "reason_en": row["reason_en"],
        "amount": render(row["amount"]), "dept_code": row["dept_code"],
        "dept_name": row["dept_name"], "dr_code": row["dr_code"], "dr_name": row["dr_name"],
        "settled_on": row["settled_on"],
    }


def declaration_json(row: Mapping[str, Any],
                     deductions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A Declaration: the row with its deductions (in review order)."""
    declared, uploaded = declared_of(row), uploaded_of(row)
    reviewed = row["status"] in REVIEWED
    return {
        "dcla_id": row["dcla_id"], "fixmedins_code": row["fixmedins_code"],
        "period": row["period"], "status": row["status"],
        "declared": declared.to_json(), "uploaded": uploaded.to_json(),
        "mismatch": mismatch(declared, uploaded),
        "claimed": render(row["claimed"]), "deducted": render(row["deducted"]),
        # what the insurer accepts is known only once it has reviewed the month
        "accepted": render(row["claimed"] - row["deducted"]) if reviewed else None,
        "deductions": [deduction_json(d) for d in deductions],
        "declared_on": row["declared_on"], "reviewed_on": row["reviewed_on"],
        "due_date": row["due_date"], "paid_date": row["paid_date"],
        "withdrawn_on": row.get("withdrawn_on"),
    }


def payment_json(row: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A Payment; ``items`` (one per settlement) only for kind ``settlement``."""
    return {
        "pay_id": row["pay_id"], "fixmedins_code": row["fixmedins_code"], "kind": row["kind"],
        "dcla_id": row["dcla_id"], "amount": render(row["amount"]),
        "paid_date": row["paid_date"],
        "items": [{"setl_id": i["setl_id"], "claimed": render(i["claimed"]),
                   "deducted": render(i["deducted"]), "paid": render(i["paid"])}
                  for i in items],
    }
