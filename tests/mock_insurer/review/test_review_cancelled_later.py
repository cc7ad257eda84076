"""A settlement of March cancelled (2208) in April, after March ended: March claims it, April's
declaration nets it back — by what the insurer accepted for it, so that the hospital neither
keeps nor loses money for a visit that no longer exists (finance audit: a March settlement
deducted at review was clawed back in full in April, leaving the hospital short by the
deduction).

- March already reviewed when the cancellation comes: April's negative claim is March's
  claim less March's deduction on it (what March paid).
- March declared but not yet reviewed: March's review leaves the cancelled settlement alone
  (nothing refused on it) and April nets back the whole claim."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .conftest import Month
from .test_review_flow import claimed_of, declare, uploaded_of


def cancel_on(month: Month, day: str, name: str) -> dict[str, Any]:
    """Cancel (2208) the settlement ``name`` of the month on the business date ``day``;
    answers the cancellation's setlinfo."""
    settled = month.settled[name]
    n = 1 if settled["psn_no"] == month.settled["a"]["psn_no"] else 2
    with month.window_on(day, 31) as window:
        answer = window.cancel(n, settled["mdtrt_id"], settled["setl_id"])
        return dict(answer.output["setlinfo"])


def april_totals(cancelled: dict[str, Any]) -> dict[str, Any]:
    """April's balanced declaration: the one cancellation row."""
    return {key: f"{Decimal(str(cancelled[key])):.2f}"
            for key in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")} | {"setl_cnt": 1}


def review(month: Month, dcla_id: str) -> dict[str, Any]:
    answer = month.admin.post(f"/admin/declarations/{dcla_id}/review", json={"seed": 7})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["declaration"]
    return found


def pay(month: Month, declaration: dict[str, Any]) -> dict[str, Any]:
    month.set_date(max(declaration["due_date"],
                       month.admin.get("/admin/clock").json()["business_date"]))
    answer = month.admin.post(f"/admin/declarations/{declaration['dcla_id']}/pay")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["payment"]
    return found


def item(payment: dict[str, Any], setl_id: str) -> dict[str, str]:
    (found,) = [i for i in payment["items"] if i["setl_id"] == setl_id]
    return found


def test_a_cancellation_after_the_months_review_nets_back_what_was_paid(month: Month) -> None:
    month.set_date("2026-04-01")
    march = review(month, declare(month, uploaded_of(month)).json()["declaration"]["dcla_id"])
    b = month.settled["b"]  # the same-day second consultation: R-DUP-001 refuses its fund
    refused = sum(Decimal(d["amount"]) for d in march["deductions"]
                  if d["setl_id"] == b["setl_id"])
    assert refused == Decimal(str(b["fund_pay_sumamt"])) > 0
    cancelled = cancel_on(month, "2026-04-02", "b")

    month.set_date("2026-05-01")
    march_paid = pay(month, march)
    april = declare(month, april_totals(cancelled), period="2026-04")
    assert april.status_code == 201, april.text
    declared = april.json()["declaration"]
    accepted_for_b = claimed_of(b) - refused
    assert Decimal(declared["claimed"]) == -accepted_for_b  # not −claimed_of(b)
    reviewed = review(month, declared["dcla_id"])
    assert reviewed["deductions"] == []
    assert Decimal(reviewed["accepted"]) == -accepted_for_b
    april_paid = pay(month, reviewed)

    first, back = item(march_paid, b["setl_id"]), item(april_paid, cancelled["setl_id"])
    assert (Decimal(first["claimed"]), Decimal(first["deducted"]), Decimal(first["paid"])) == (
        claimed_of(b), refused, accepted_for_b)
    assert (Decimal(back["claimed"]), Decimal(back["deducted"]), Decimal(back["paid"])) == (
        -accepted_for_b, Decimal(0), -accepted_for_b)
    assert Decimal(first["paid"]) + Decimal(back["paid"]) == 0  # nothing kept, nothing lost
    assert Decimal(april_paid["amount"]) == -accepted_for_b


def test_a_cancellation_before_the_months_review_is_not_refused_and_nets_back_in_full(
        month: Month) -> None:
    month.set_date("2026-04-01")
    march_id = declare(month, uploaded_of(month)).json()["declaration"]["dcla_id"]
    b = month.settled["b"]
    cancelled = cancel_on(month, "2026-04-02", "b")
    march = review(month, march_id)  # March is reviewed after b was cancelled
    assert b["setl_id"] not in {d["setl_id"] for d in march["deductions"]}
    month.set_date("2026-05-01")
    march_paid = pay(month, march)
    reviewed = review(month, declare(month, april_totals(cancelled),
                                     period="2026-04").json()["declaration"]["dcla_id"])
    assert Decimal(reviewed["claimed"]) == Decimal(reviewed["accepted"]) == -claimed_of(b)
    april_paid = pay(month, reviewed)
    first, back = item(march_paid, b["setl_id"]), item(april_paid, cancelled["setl_id"])
    assert Decimal(first["paid"]) == claimed_of(b)
    assert Decimal(back["paid"]) == -claimed_of(b)
    assert Decimal(first["paid"]) + Decimal(back["paid"]) == 0
