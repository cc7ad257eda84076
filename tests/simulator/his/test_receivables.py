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
