"""A finance office's month, through the admin API: declare March 2026 after it ends, the
review's deductions, the payment after the lag, repeats, errors and advance payment."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.review import default_config

from .conftest import HOSPITAL, Month, make_month


def uploaded_of(month: Month) -> dict[str, Any]:
    """The balanced declaration: what a HIS whose 3201 balanced every day declares."""
    s = month.settled
    rows = [s["a"], s["b"], s["c"], s["d"]]
    fund = sum(Decimal(str(r["fund_pay_sumamt"])) for r in rows)
    acct = sum(Decimal(str(r["acct_pay"])) for r in rows)
    medfee = sum(Decimal(str(r["medfee_sumamt"])) for r in rows)
    # the cancellation of c nets it out of the sums and counts as one more row
    c = s["c"]
    fund -= Decimal(str(c["fund_pay_sumamt"]))
    acct -= Decimal(str(c["acct_pay"]))
    medfee -= Decimal(str(c["medfee_sumamt"]))
    return {"medfee_sumamt": f"{medfee:.2f}", "fund_pay_sumamt": f"{fund:.2f}",
            "acct_pay": f"{acct:.2f}", "setl_cnt": 5}


def declare(month: Month, declared: dict[str, Any], period: str = "2026-03") -> Any:
    return month.admin.post("/admin/declarations", json={
        "fixmedins_code": HOSPITAL, "period": period, "declared": declared})


def claimed_of(setlinfo: dict[str, Any]) -> Decimal:
    return Decimal(str(setlinfo["fund_pay_sumamt"])) + Decimal(str(setlinfo["acct_pay"]))


def test_a_month_from_declaration_to_payment(month: Month) -> None:
    balanced = uploaded_of(month)
    early = declare(month, balanced)
    assert early.status_code == 409
    assert early.json()["error"]["field"] == "period"
    assert "2026-04-01" in early.json()["error"]["message"]

    month.set_date("2026-04-01")
    made = declare(month, balanced)
    assert made.status_code == 201, made.text
    declaration = made.json()["declaration"]
    assert declaration["status"] == "declared"
    assert declaration["uploaded"] == balanced
    assert declaration["mismatch"] == []
    s = month.settled
    claimed = claimed_of(s["a"]) + claimed_of(s["b"]) + claimed_of(s["d"])
    assert Decimal(declaration["claimed"]) == claimed
    assert declaration["deductions"] == [] and declaration["reviewed_on"] is None

    again = declare(month, balanced)
    assert again.status_code == 200 and again.json()["declaration"] == declaration
    other = declare(month, {**balanced, "setl_cnt": 4})
    assert other.status_code == 409 and other.json()["error"]["field"] == "declared"

    dcla_id = declaration["dcla_id"]
    # the insurer's worklist (finance audit: without fixmedins_code the admin token got 422)
    waiting = month.admin.get("/admin/declarations", params={"status": "declared"})
    assert [d["dcla_id"] for d in waiting.json()["declarations"]] == [dcla_id]
    assert month.admin.get("/admin/declarations", params={
        "status": "paid"}).json()["declarations"] == []
    before = month.admin.post(f"/admin/declarations/{dcla_id}/pay")
    assert before.status_code == 409 and before.json()["error"]["field"] == "status"

    reviewed = month.admin.post(f"/admin/declarations/{dcla_id}/review", json={"seed": 7})
    assert reviewed.status_code == 200, reviewed.text
    review = reviewed.json()["declaration"]
    assert review["status"] == "reviewed"
    assert (review["reviewed_on"], review["due_date"]) == ("2026-04-01", "2026-05-01")
    # the second consultation of the day is refused (R-DUP-001), charged to its department
    duplicate = [d for d in review["deductions"] if d["rule_id"] == "R-DUP-001"]
    assert len(duplicate) == 1
    dup = duplicate[0]
    assert dup["setl_id"] == s["b"]["setl_id"] and dup["category"] == "pricing"
    assert dup["reason"].startswith("重复收费") and dup["feedetl_sn"]
    assert (dup["dept_code"], dup["dept_name"], dup["dr_code"], dup["dr_name"]) == (
        "A01", "内科", "D001", "李医生")
    assert dup["settled_on"] == "2026-03-02"
    # fund's share of the row's in-scope amount: the whole visit is the one row
    assert Decimal(dup["amount"]) == Decimal(str(s["b"]["fund_pay_sumamt"]))
    total = sum(Decimal(d["amount"]) for d in review["deductions"])
    assert Decimal(review["deducted"]) == total
    assert Decimal(review["accepted"]) == claimed - total
    assert s["c"]["setl_id"] not in {d["setl_id"] for d in review["deductions"]}
    repeat = month.admin.post(f"/admin/declarations/{dcla_id}/review", json={"seed": 99})
    assert repeat.json()["declaration"] == review

    early_pay = month.admin.post(f"/admin/declarations/{dcla_id}/pay")
    assert early_pay.status_code == 409
    assert "2026-05-01" in early_pay.json()["error"]["message"]
    month.set_date("2026-05-01")
    paid = month.admin.post(f"/admin/declarations/{dcla_id}/pay")
    assert paid.status_code == 200, paid.text
    payment = paid.json()["payment"]
    assert payment["kind"] == "settlement" and payment["paid_date"] == "2026-05-01"
    assert payment["dcla_id"] == dcla_id
    assert Decimal(payment["amount"]) == Decimal(review["accepted"])
    items = {i["setl_id"]: i for i in payment["items"]}
    assert set(items) == {s["a"]["setl_id"], s["b"]["setl_id"], s["d"]["setl_id"]}
    assert items[s["b"]["setl_id"]]["paid"] == "0.00"
    for item in items.values():
        assert Decimal(item["paid"]) == Decimal(item["claimed"]) - Decimal(item["deducted"])
    assert month.admin.post(f"/admin/declarations/{dcla_id}/pay").json() == paid.json()

    shown = month.admin.get(f"/admin/declarations/{dcla_id}").json()["declaration"]
    assert shown["status"] == "paid" and shown["paid_date"] == "2026-05-01"
    listed = month.admin.get("/admin/declarations",
                             params={"fixmedins_code": HOSPITAL, "period": "2026-03"})
    assert listed.json()["declarations"] == [shown]
    payments = month.admin.get("/admin/payments",
                               params={"fixmedins_code": HOSPITAL, "year": "2026"})
    assert payments.json()["payments"] == [payment]


def test_declared_above_uploaded_is_refused_as_a_declaration_deduction(month: Month) -> None:
    month.set_date("2026-04-02")
    balanced = uploaded_of(month)
    declared = {**balanced, "fund_pay_sumamt": f"{Decimal(balanced['fund_pay_sumamt']) + 100:.2f}",
                "setl_cnt": 6}
    made = declare(month, declared).json()["declaration"]
    assert made["mismatch"] == [
        {"field": "fund_pay_sumamt", "declared": declared["fund_pay_sumamt"],
         "uploaded": balanced["fund_pay_sumamt"]},
        {"field": "setl_cnt", "declared": 6, "uploaded": 5}]
    review = month.admin.post(f"/admin/declarations/{made['dcla_id']}/review").json()
    deductions = review["declaration"]["deductions"]
    excess = [d for d in deductions if d["category"] == "declaration"]
    assert len(excess) == 1
    assert excess[0]["amount"] == "100.00" and excess[0]["setl_id"] == ""
    assert excess[0]["dept_code"] == "" and excess[0]["rule_id"] is None
    # the hospital claimed the excess too: accepted is what the settlements earned
    assert Decimal(review["declaration"]["claimed"]) == Decimal(made["claimed"])
    s = month.settled
    earned = claimed_of(s["a"]) + claimed_of(s["b"]) + claimed_of(s["d"])
    assert Decimal(made["claimed"]) == earned + 100


def test_advance_paid_ahead_and_recouped_at_the_next_years_first_payment(
        month: Month) -> None:
    body = {"fixmedins_code": HOSPITAL, "year": 2025, "base_amount": "100000.00",
            "ratio": "0.10"}
    advance = month.admin.put("/admin/advance", json=body)
    assert advance.status_code == 200, advance.text
    paid = advance.json()["payment"]
    assert (paid["kind"], paid["amount"], paid["paid_date"], paid["items"]) == (
        "advance", "10000.00", "2026-03-03", [])
    assert month.admin.put("/admin/advance", json=body).json() == advance.json()
    changed = month.admin.put("/admin/advance", json={**body, "ratio": "0.2"})
    assert changed.status_code == 409
    this_year = month.admin.put("/admin/advance", json={**body, "year": 2026}).json()["payment"]

    month.set_date("2026-04-01")
    dcla_id = declare(month, uploaded_of(month)).json()["declaration"]["dcla_id"]
    month.admin.post(f"/admin/declarations/{dcla_id}/review")
    month.set_date("2026-06-01")
    settlement = month.admin.post(f"/admin/declarations/{dcla_id}/pay").json()["payment"]
    payments = month.admin.get("/admin/payments",
                               params={"fixmedins_code": HOSPITAL}).json()["payments"]
    kinds = [(p["kind"], p["amount"]) for p in payments]
    assert ("recoup", "-10000.00") in kinds
    recoup = next(p for p in payments if p["kind"] == "recoup")
    assert recoup["dcla_id"] == dcla_id and recoup["paid_date"] == settlement["paid_date"]
    # the advance of the running year stays with the hospital
    assert kinds.count(("recoup", "-10000.00")) == 1 and this_year in payments
    assert month.admin.get("/admin/payments", params={"fixmedins_code": HOSPITAL,
                                                      "year": "2025"}).json() == {"payments": []}


@pytest.mark.parametrize(("body", "field"), [
    ({"period": "2026-13"}, "period"),
    ({"period": "2026-3"}, "period"),
    ({"fixmedins_code": "NOPE"}, "fixmedins_code"),
    ({"fixmedins_code": ""}, "fixmedins_code"),
    ({"declared": {"medfee_sumamt": 1, "fund_pay_sumamt": "1.00", "acct_pay": "0.00",
                   "setl_cnt": 1}}, "declared.medfee_sumamt"),
    ({"declared": {"medfee_sumamt": "1.001", "fund_pay_sumamt": "1.00", "acct_pay": "0.00",
                   "setl_cnt": 1}}, "declared.medfee_sumamt"),
    ({"declared": {"medfee_sumamt": "1.00", "fund_pay_sumamt": "1.00", "acct_pay": "0.00",
                   "setl_cnt": -1}}, "declared.setl_cnt"),
    ({"declared": {"medfee_sumamt": "1.00", "fund_pay_sumamt": "1.00", "acct_pay": "0.00"}},
     "declared.setl_cnt"),
    ({"extra": 1}, "extra"),
])
def test_bad_declarations_are_refused_naming_the_field(month: Month, body: dict[str, Any],
                                                       field: str) -> None:
    month.set_date("2026-04-01")
    good = {"fixmedins_code": HOSPITAL, "period": "2026-03",
            "declared": {"medfee_sumamt": "1.00", "fund_pay_sumamt": "1.00",
                         "acct_pay": "0.00", "setl_cnt": 1}}
    answer = month.admin.post("/admin/declarations", json={**good, **body})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid" and error["field"] == field
    assert error["where"] == f"body.{field}"
    listed = month.admin.get("/admin/declarations", params={"fixmedins_code": HOSPITAL})
    assert listed.json() == {"declarations": []}


@pytest.mark.parametrize(("body", "field"), [
    ({"ratio": "1.5"}, "ratio"), ({"ratio": "0"}, "ratio"), ({"ratio": 0.1}, "ratio"),
    ({"base_amount": "-1.00"}, "base_amount"), ({"year": 1800}, "year"),
    ({"year": "2026"}, "year"), ({"fixmedins_code": "NOPE"}, "fixmedins_code"),
])
def test_bad_advances_are_refused_naming_the_field(month: Month, body: dict[str, Any],
                                                   field: str) -> None:
    good = {"fixmedins_code": HOSPITAL, "year": 2026, "base_amount": "100.00", "ratio": "0.1"}
    answer = month.admin.put("/admin/advance", json={**good, **body})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert month.admin.get("/admin/payments", params={"fixmedins_code": HOSPITAL}).json() == {
        "payments": []}


def test_unknown_declarations_and_bad_queries(month: Month) -> None:
    for path in ("/admin/declarations/DCLA9", "/admin/declarations/DCLA9/review",
                 "/admin/declarations/DCLA9/pay"):
        answer = (month.admin.get(path) if path.endswith("9")
                  else month.admin.post(path, json={}))
        assert answer.status_code == 404, path
        assert answer.json()["error"]["field"] == "dcla_id"
    assert month.admin.get("/admin/declarations", params={"status": "open"}).status_code == 400
    assert month.admin.get("/admin/declarations", params={
        "fixmedins_code": HOSPITAL, "period": "March"}).status_code == 422
    assert month.admin.get("/admin/payments", params={
        "fixmedins_code": HOSPITAL, "year": "20x6"}).status_code == 422
    bad_seed = month.admin.post("/admin/declarations/DCLA9/review", json={"seed": -1})
    assert bad_seed.status_code == 422


def test_the_review_data_sets_the_lag(month: Month) -> None:
    config = default_config()
    month.set_date("2026-04-01")
    dcla_id = declare(month, uploaded_of(month)).json()["declaration"]["dcla_id"]
    review = month.admin.post(f"/admin/declarations/{dcla_id}/review").json()["declaration"]
    from datetime import date, timedelta

    lag = config.lag_days(date(2026, 4, 1))
    assert review["due_date"] == (date(2026, 4, 1) + timedelta(days=lag)).isoformat()


def test_a_review_before_the_review_data_begins_is_a_conflict_not_a_500(month: Month) -> None:
    """review.yaml's values start in 2020: reviewing on a business date before that is 409
    naming the date, never an internal error."""
    month.set_date("2019-11-01")
    dcla = declare(month, uploaded_of(month), period="2019-10")
    assert dcla.status_code == 201, dcla.text
    answer = month.admin.post(f"/admin/declarations/{dcla.json()['declaration']['dcla_id']}"
                              "/review", json={})
    assert answer.status_code == 409, answer.text
    assert "not in force on 2019-11-01" in answer.json()["error"]["message"]


@pytest.mark.postgres
def test_a_month_on_postgresql(tmp_path: Path, postgres: Any) -> None:
    for month in make_month(tmp_path, str(postgres.new_database())):
        month.set_date("2026-04-01")
        made = declare(month, uploaded_of(month))
        assert made.status_code == 201, made.text
        dcla_id = made.json()["declaration"]["dcla_id"]
        review = month.admin.post(f"/admin/declarations/{dcla_id}/review", json={"seed": 7})
        assert review.status_code == 200
        rules = [d["rule_id"] for d in review.json()["declaration"]["deductions"]]
        assert "R-DUP-001" in rules
        month.set_date("2026-05-01")
        paid = month.admin.post(f"/admin/declarations/{dcla_id}/pay").json()["payment"]
        assert paid["amount"] == review.json()["declaration"]["accepted"]
        assert month.admin.post(f"/admin/declarations/{dcla_id}/pay").json()["payment"] == paid
