"""Correcting a declaration: a typo in March's totals is withdrawn (撤回) at the portal while the
insurer has not reviewed it, and March is declared again with the right totals (finance audit:
re-declaring answered 409 with no remedy, DELETE was 405). Also: ``accepted`` is null until the
review, and the portal's messages say what was sent and what to do."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .conftest import HOSPITAL, Month
from .test_portal_credential import OTHER, OWN, portal
from .test_review_flow import claimed_of, uploaded_of


def typo_of(month: Month) -> dict[str, Any]:
    right = uploaded_of(month)
    return {**right, "fund_pay_sumamt": f"{Decimal(right['fund_pay_sumamt']) + 10:.2f}"}


def test_a_declaration_with_a_typo_is_withdrawn_and_the_month_declared_again(
        month: Month) -> None:
    month.set_date("2026-04-01")
    his = portal(month, OWN)
    s = month.settled
    earned = claimed_of(s["a"]) + claimed_of(s["b"]) + claimed_of(s["d"])
    # the credential names the hospital: fixmedins_code may be left out of the body
    wrong = his.post("/admin/declarations", json={"period": "2026-03",
                                                  "declared": typo_of(month)})
    assert wrong.status_code == 201, wrong.text
    typo = wrong.json()["declaration"]
    assert typo["fixmedins_code"] == HOSPITAL
    assert [m["field"] for m in typo["mismatch"]] == ["fund_pay_sumamt"]
    assert Decimal(typo["claimed"]) == earned + 10
    assert typo["accepted"] is None  # nothing accepted before the review

    right = his.post("/admin/declarations", json={"period": "2026-03",
                                                  "declared": uploaded_of(month)})
    assert right.status_code == 409
    message = right.json()["error"]["message"]
    assert f"DELETE /admin/declarations/{typo['dcla_id']}" in message and "withdraw" in message

    assert portal(month, OTHER).delete(
        f"/admin/declarations/{typo['dcla_id']}").status_code == 404  # not its own
    month.set_date("2026-04-02")
    withdrawn = his.delete(f"/admin/declarations/{typo['dcla_id']}")
    assert withdrawn.status_code == 200, withdrawn.text
    shown = withdrawn.json()["declaration"]
    assert (shown["status"], shown["withdrawn_on"], shown["period"]) == (
        "withdrawn", "2026-04-02", "2026-03")
    assert his.delete(f"/admin/declarations/{typo['dcla_id']}").json() == withdrawn.json()
    refused = month.admin.post(f"/admin/declarations/{typo['dcla_id']}/review", json={})
    assert refused.status_code == 409 and "withdrawn on 2026-04-02" in \
        refused.json()["error"]["message"]

    again = his.post("/admin/declarations", json={"period": "2026-03",
                                                  "declared": uploaded_of(month)})
    assert again.status_code == 201, again.text
    fixed = again.json()["declaration"]
    assert fixed["dcla_id"] != typo["dcla_id"] and fixed["mismatch"] == []
    assert Decimal(fixed["claimed"]) == earned  # the 10.00 typo is gone, not refused later
    listed = his.get("/admin/declarations", params={"period": "2026-03"}).json()
    assert [(d["dcla_id"], d["status"]) for d in listed["declarations"]] == [
        (typo["dcla_id"], "withdrawn"), (fixed["dcla_id"], "declared")]

    reviewed = month.admin.post(f"/admin/declarations/{fixed['dcla_id']}/review",
                                json={"seed": 7}).json()["declaration"]
    assert not [d for d in reviewed["deductions"] if d["category"] == "declaration"]
    assert Decimal(reviewed["accepted"]) == earned - Decimal(reviewed["deducted"])
    late = his.delete(f"/admin/declarations/{fixed['dcla_id']}")
    assert late.status_code == 409
    assert "reviewed on 2026-04-02" in late.json()["error"]["message"]
    other = his.post("/admin/declarations", json={"period": "2026-03",
                                                  "declared": typo_of(month)})
    assert other.status_code == 409
    assert "reviewed on 2026-04-02" in other.json()["error"]["message"]
    month.set_date("2026-05-02")
    paid = month.admin.post(f"/admin/declarations/{fixed['dcla_id']}/pay").json()["payment"]
    assert paid["amount"] == reviewed["accepted"]
    assert month.admin.post(f"/admin/declarations/{typo['dcla_id']}/pay").status_code == 409


def test_the_admin_token_may_withdraw_too_and_the_period_error_echoes_what_was_sent(
        month: Month) -> None:
    month.set_date("2026-04-01")
    made = month.admin.post("/admin/declarations", json={
        "fixmedins_code": HOSPITAL, "period": "2026-03", "declared": typo_of(month)})
    dcla_id = made.json()["declaration"]["dcla_id"]
    assert month.admin.delete(f"/admin/declarations/{dcla_id}").json()["declaration"][
        "status"] == "withdrawn"
    assert month.admin.delete("/admin/declarations/DCLA9").status_code == 404
    bad = portal(month, OWN).post("/admin/declarations", json={
        "period": "2026-3", "declared": uploaded_of(month)})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == 'period must be a month like "2026-01", got \'2026-3\''
    no_code = month.admin.post("/admin/declarations", json={
        "period": "2026-03", "declared": uploaded_of(month)})
    assert no_code.status_code == 422  # the admin token names no institution
    assert no_code.json()["error"]["field"] == "fixmedins_code"
