"""The reference HIS after the window: its receivables ledger, the declaration checked with 3201
first, and the matching of the insurer's payments to settlements (simulator/his/receivables.py).

The portal is a small fake of the insurer's admin API here (canned declarations and payments,
one item for a settlement the HIS never made), so that the matching is tested on its own; the
whole flow against the real mock insurer is tests/scenarios/test_month.py."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_insurer.server import RunningServer, start_in_thread
from simulator.his.driver import HisDriver, HttpHisDriver
from simulator.his.errors import DriverInputError
from simulator.his.operations import DeclareInput, RefundInput
from simulator.his.receivables import month_bounds, receivable_status
from tests.simulator.his.rig import AMOXI, CONSULT, TONIC, Rig
from tests.simulator.his.test_openapi import DOCUMENT, conforms


class FakePortal:
    """The insurer's portal as canned answers; records what was posted."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.declarations: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self.server: RunningServer | None = None

    def app(self) -> Starlette:
        async def declare(request: Request) -> JSONResponse:
            body = await request.json()
            self.posted.append(body)
            record = {"dcla_id": "DCLA0001", "period": body["period"], "status": "declared",
                      "declared": body["declared"], "declared_on": "2026-04-01",
                      "deductions": []}
            return JSONResponse({"declaration": record}, status_code=201)

        async def declarations(_request: Request) -> JSONResponse:
            return JSONResponse({"declarations": self.declarations})

        async def payments(_request: Request) -> JSONResponse:
            return JSONResponse({"payments": self.payments})

        return Starlette(routes=[
            Route("/admin/declarations", declare, methods=["POST"]),
            Route("/admin/declarations", declarations, methods=["GET"]),
            Route("/admin/payments", payments, methods=["GET"])])


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    fake = FakePortal()
    fake.server = start_in_thread(fake.app())
    yield fake
    stopping = threading.Thread(target=fake.server.stop)
    stopping.start()
    stopping.join()


def with_portal(rig: Rig, url: str) -> None:
    rig.his.desk.config = dataclasses.replace(rig.his.config, portal_url=url,
                                              portal_token="secret")


def settle(rig: Rig, n: int, items: list[tuple[str, str]]) -> str:
    visit_id = rig.visit(n, items)
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    return str(settled["bill"]["setl_id"])


def test_months_and_statuses() -> None:
    assert [d.isoformat() for d in month_bounds("2026-02")] == ["2026-02-01", "2026-02-28"]
    with pytest.raises(DriverInputError, match="period"):
        month_bounds("2026-13")
    with pytest.raises(DriverInputError, match="period"):
        DeclareInput.from_json({"period": "March"})
    d = Decimal
    assert receivable_status(d("10"), d("0"), d("0")) == "outstanding"
    assert receivable_status(d("10"), d("10"), d("0")) == "paid"
    assert receivable_status(d("10"), d("7"), d("3")) == "part-deducted"
    assert receivable_status(d("10"), d("0"), d("10")) == "deducted"


def test_a_his_without_the_operations_answers_not_supported(rig: Rig) -> None:
    for name, args in (("declare", (DeclareInput("2026-03"),)), ("collect_payments", ()),
                       ("receivables", ())):
        outcome = getattr(HisDriver, name)(rig.driver, *args)  # the base class's default
        assert not outcome.ok and outcome.refusal is not None
        assert outcome.refusal.code == "not_supported"
        assert name in outcome.refusal.message


def test_receivables_net_out_refunds_and_carry_dept_and_doctor(rig: Rig) -> None:
    kept = settle(rig, 1, [(CONSULT, "1"), (AMOXI, "2")])
    gone = rig.visit(1, [(TONIC, "1")])
    assert rig.settle(gone).ok
    assert rig.driver.refund(gone, RefundInput()).ok
    shown = rig.driver.receivables("2026-03")
    assert shown.ok, shown.body
    rows = shown["receivables"]
    assert [r["setl_id"] for r in rows] == [kept]  # the refunded settlement is claimed by none
    row = rows[0]
    entry = next(e for e in rig.driver.ledger().body["settlements"] if e["setl_id"] == kept)
    claimed = Decimal(entry["fund_pay_sumamt"]) + Decimal(entry["acct_pay"])
    assert Decimal(row["claimed"]) == claimed
    assert (row["dept_code"], row["dr_code"], row["dr_name"]) == ("A03", "D0007", "李医生")
    assert row["status"] == ("outstanding" if claimed > 0 else "paid")
    assert shown["totals"]["outstanding"] == row["outstanding"] == row["claimed"]


def test_declare_without_a_portal_is_refused_and_nothing_checked(rig: Rig) -> None:
    settle(rig, 1, [(CONSULT, "1")])
    outcome = rig.driver.declare(DeclareInput("2026-03"))
    assert not outcome.ok and outcome.refusal is not None
    assert outcome.refusal.code == "portal_not_configured"


def test_declare_checks_the_month_with_3201_then_declares_the_ledger(
        rig: Rig, portal: FakePortal) -> None:
    assert portal.server is not None
    with_portal(rig, portal.server.url)
    settle(rig, 1, [(CONSULT, "1"), (AMOXI, "2")])
    settle(rig, 2, [(CONSULT, "1")])
    outcome = rig.driver.declare(DeclareInput("2026-03"))
    assert outcome.ok, outcome.body
    assert outcome["groups"] and all(g["stmt_rslt"] == "0" for g in outcome["groups"])
    with rig.insurer.ledger.read() as tx:
        checks = [m for m in tx.messages(limit=1000) if m["infno"] == "3201"]
    assert checks, "no 3201 before declaring"
    rows = rig.counted()
    declared = portal.posted[0]["declared"]
    assert declared["medfee_sumamt"] == str(sum(Decimal(r["medfee_sumamt"]) for r in rows))
    assert declared["setl_cnt"] == len(rows)
    assert portal.posted[0]["period"] == "2026-03"
    conforms(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")), "DeclareOk", outcome.body)


def test_an_unbalanced_month_is_not_declared(rig: Rig, portal: FakePortal) -> None:
    assert portal.server is not None
    with_portal(rig, portal.server.url)
    settle(rig, 1, [(CONSULT, "1")])
    rig.faults({"id": "lost", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "lose_answer", "how": "close"}},
               {"id": "q", "match": {"infno": "5203"}, "effect": {"kind": "refuse"}},
               {"id": "r", "match": {"infno": "2601"}, "effect": {"kind": "refuse"}})
    lost = rig.visit(2, [(CONSULT, "1")])
    assert not rig.settle(lost).ok
    rig.faults()
    outcome = rig.driver.declare(DeclareInput("2026-03"))
    assert not outcome.ok and outcome.refusal is not None
    assert outcome.refusal.code == "month_unbalanced"
    assert "insutype" in outcome.refusal.message and "30.00" in outcome.refusal.message
    assert outcome["unbalanced"][0]["difference"]["count"] == "1"
    assert portal.posted == []


def test_payments_are_matched_to_settlements_and_unmatched_items_reported(
        rig: Rig, portal: FakePortal) -> None:
    assert portal.server is not None
    with_portal(rig, portal.server.url)
    first = settle(rig, 1, [(CONSULT, "1"), (AMOXI, "2")])
    second = settle(rig, 2, [(CONSULT, "1"), (AMOXI, "4")])
    claimed = {r["setl_id"]: Decimal(r["claimed"])
               for r in rig.driver.receivables("2026-03")["receivables"]}
    cut = min(Decimal("1.00"), claimed[second])
    portal.declarations = [{
        "dcla_id": "DCLA0001", "period": "2026-03", "status": "paid",
        "declared_on": "2026-04-01", "deductions": [{
            "ded_id": "D1", "setl_id": second, "mdtrt_id": "", "psn_no": "",
            "feedetl_sn": None, "rule_id": "R-DUP-001", "category": "insurance_rules",
            "reason": "重复收费", "reason_en": "charged twice", "amount": str(cut),
            "dept_code": "A03", "dept_name": "内科", "dr_code": "D0007", "dr_name": "李医生",
            "settled_on": "2026-03-02"}]}]
    portal.payments = [{"pay_id": "PAY1", "kind": "settlement", "dcla_id": "DCLA0001",
                        "amount": "0", "paid_date": "2026-05-04", "items": [
                            {"setl_id": first, "claimed": str(claimed[first]), "deducted": "0.00",
                             "paid": str(claimed[first])},
                            {"setl_id": second, "claimed": str(claimed[second]),
                             "deducted": str(cut), "paid": str(claimed[second] - cut)},
                            {"setl_id": "NOSUCH", "claimed": "5.00", "deducted": "0.00",
                             "paid": "5.00"}]}]
    collected = rig.driver.collect_payments()
    assert collected.ok, collected.body
    assert collected["matched"] == 2
    assert [u["setl_id"] for u in collected["unmatched"]] == ["NOSUCH"]
    shown = rig.driver.receivables("2026-03")
    rows = {r["setl_id"]: r for r in shown["receivables"]}
    for row in rows.values():
        assert Decimal(row["paid"]) + Decimal(row["deducted"]) + Decimal(row["outstanding"]) \
            == Decimal(row["claimed"])
    assert rows[first]["status"] == "paid" and rows[first]["pay_id"] == "PAY1"
    assert rows[second]["deducted"] == str(cut)
    assert rows[second]["status"] == ("deducted" if cut == claimed[second] else "part-deducted")
    assert shown["totals"]["outstanding"] == "0.00"
    (deduction,) = shown["deductions"]
    assert (deduction["reason"], deduction["category"], deduction["dr_name"]) == (
        "重复收费", "insurance_rules", "李医生")
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    conforms(document, "CollectOk", collected.body)
    conforms(document, "ReceivablesOk", shown.body)
    again = rig.driver.collect_payments()  # collecting again changes nothing
    assert again["matched"] == 2 and rig.driver.receivables("2026-03")["totals"] == shown["totals"]


def test_http_driver_answers_not_supported_for_a_his_without_the_routes() -> None:
    app = Starlette(routes=[])
    server = start_in_thread(app)
    try:
        driver = HttpHisDriver(server.url)
        outcome = driver.receivables()
        assert not outcome.ok and outcome.refusal is not None
        assert outcome.refusal.code == "not_supported"
    finally:
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        stopping.join()


# -- against the real mock insurer's portal (its admin API; the rig's admin token) -----------
def insurer_admin(rig: Rig) -> TestClient:
    return TestClient(rig.insurer, headers={"Authorization": "Bearer secret"})


def set_date(admin: TestClient, day: str) -> None:
    answer = admin.put("/admin/clock", json={"business_date": day})
    assert answer.status_code == 200, answer.text


def review_and_pay(admin: TestClient, dcla_id: str) -> dict[str, Any]:
    """Review (as the insurer), move the clock to the due date, pay: the declaration."""
    reviewed = admin.post(f"/admin/declarations/{dcla_id}/review", json={"seed": 7})
    assert reviewed.status_code == 200, reviewed.text
    set_date(admin, reviewed.json()["declaration"]["due_date"])
    paid = admin.post(f"/admin/declarations/{dcla_id}/pay")
    assert paid.status_code == 200, paid.text
    shown: dict[str, Any] = admin.get(f"/admin/declarations/{dcla_id}").json()["declaration"]
    return shown


def test_a_month_declared_above_its_ledger_is_collected_with_a_month_level_deduction(
        rig: Rig) -> None:
    """The insurance office typed 100.00 too much fund into March's declaration: the review
    refuses the excess as a ``declaration`` deduction with no settlement (setl_id ""). The HIS
    still collects the payment, books the 100.00 at the month level, and March reconciles:
    paid = accepted = claimed − deducted."""
    with_portal(rig, rig.insurer_server.url)
    settle(rig, 1, [(CONSULT, "1"), (AMOXI, "2")])
    settle(rig, 2, [(CONSULT, "1")])
    rows = rig.counted()
    admin = insurer_admin(rig)
    set_date(admin, "2026-04-01")
    fund = sum(Decimal(r["fund_pay_sumamt"]) for r in rows)
    typo = {"medfee_sumamt": str(sum(Decimal(r["medfee_sumamt"]) for r in rows)),
            "fund_pay_sumamt": str(fund + 100), "setl_cnt": len(rows),
            "acct_pay": str(sum(Decimal(r["acct_pay"]) for r in rows))}
    made = admin.post("/admin/declarations", json={
        "fixmedins_code": rig.his.config.fixmedins_code, "period": "2026-03",
        "declared": typo})
    assert made.status_code == 201, made.text
    declaration = review_and_pay(admin, made.json()["declaration"]["dcla_id"])
    excess = [d for d in declaration["deductions"] if d["category"] == "declaration"]
    assert [(d["setl_id"], d["amount"]) for d in excess] == [("", "100.00")]

    collected = rig.driver.collect_payments()
    assert collected.ok, collected.body
    assert collected["unmatched"] == [] and collected["disagreements"] == []
    (march,) = collected["months"]
    accepted = Decimal(declaration["accepted"])
    assert march["month_deducted"] == "100.00"
    assert march["claimed"] == declaration["claimed"]
    assert Decimal(march["settlements_claimed"]) + 100 == Decimal(declaration["claimed"])
    assert Decimal(march["paid"]) == accepted == \
        Decimal(declaration["claimed"]) - Decimal(declaration["deducted"])
    assert march["outstanding"] == "0.00" and march["reconciled"] is True
    shown = rig.driver.receivables("2026-03")
    assert shown["totals"]["outstanding"] == "0.00"
    assert shown["totals"]["month_deducted"] == "100.00"
    assert Decimal(shown["totals"]["paid"]) == accepted
    assert [d["amount"] for d in shown["deductions"] if d["setl_id"] == ""] == ["100.00"]
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    conforms(document, "CollectOk", collected.body)
    conforms(document, "ReceivablesOk", shown.body)
    again = rig.driver.collect_payments()
    assert again.ok and again["months"] == collected["months"]


def test_a_settlement_refunded_after_its_month_is_netted_back_to_the_cent(rig: Rig) -> None:
    """A March settlement, refused in part at March's review, is refunded (2208) on 2 April.
    March still claims it (the HIS keeps its receivable), April's declaration nets back what
    March accepted for it (a negative claim the HIS keeps as the cancellation's receivable),
    and after both payments every item is matched and both months reconcile to the cent."""
    with_portal(rig, rig.insurer_server.url)
    admin = insurer_admin(rig)
    settle(rig, 1, [(CONSULT, "1"), (AMOXI, "2")])
    again_visit = rig.visit(1, [(CONSULT, "1")])  # the same day again: R-DUP-001
    assert rig.settle(again_visit).ok
    again = next(e["setl_id"] for e in rig.driver.ledger().body["settlements"]
                 if e["visit_id"] == again_visit)
    set_date(admin, "2026-04-01")
    march = rig.driver.declare(DeclareInput("2026-03"))
    assert march.ok, march.body
    march_id = march["declaration"]["dcla_id"]
    reviewed = admin.post(f"/admin/declarations/{march_id}/review", json={"seed": 7}).json()
    refused = sum(Decimal(d["amount"]) for d in reviewed["declaration"]["deductions"]
                  if d["setl_id"] == again)
    assert refused > 0
    assert rig.driver.collect_payments().ok  # the HIS learns March's deductions

    set_date(admin, "2026-04-02")
    refunded = rig.driver.refund(again_visit, RefundInput())
    assert refunded.ok, refunded.body
    cancellation = next(e for e in rig.driver.ledger().body["settlements"]
                        if e["orig_setl_id"] == again)
    assert cancellation["setl_date"] == "2026-04-02"
    claimed = rig.driver.receivables("2026-03")["receivables"]
    kept = next(r for r in claimed if r["setl_id"] == again)  # still March's claim
    accepted_for_it = Decimal(kept["claimed"]) - refused
    (back,) = rig.driver.receivables("2026-04")["receivables"]
    assert back["setl_id"] == cancellation["setl_id"]
    assert Decimal(back["claimed"]) == -accepted_for_it

    set_date(admin, "2026-05-04")
    april = rig.driver.declare(DeclareInput("2026-04"))
    assert april.ok, april.body
    april_id = april["declaration"]["dcla_id"]
    assert Decimal(april["declaration"]["claimed"]) == -accepted_for_it
    assert admin.post(f"/admin/declarations/{march_id}/pay").status_code == 200
    april_review = admin.post(f"/admin/declarations/{april_id}/review", json={}).json()
    set_date(admin, april_review["declaration"]["due_date"])
    assert admin.post(f"/admin/declarations/{april_id}/pay").status_code == 200

    collected = rig.driver.collect_payments()
    assert collected.ok, collected.body
    assert collected["unmatched"] == [] and collected["disagreements"] == []
    assert [m["reconciled"] for m in collected["months"]] == [True, True]
    march_rows = {r["setl_id"]: r for r in rig.driver.receivables("2026-03")["receivables"]}
    assert (Decimal(march_rows[again]["paid"]), Decimal(march_rows[again]["deducted"])) == (
        accepted_for_it, refused)
    (back,) = rig.driver.receivables("2026-04")["receivables"]
    assert (Decimal(back["paid"]), back["outstanding"], back["status"]) == (
        -accepted_for_it, "0.00", "paid")
    everything = rig.driver.receivables()["totals"]
    assert everything["outstanding"] == "0.00"
    assert Decimal(march_rows[again]["paid"]) + Decimal(back["paid"]) == 0
