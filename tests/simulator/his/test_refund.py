"""Refunds: all items (2208, then the registration is cancelled) or some (2208 → 2205 → the
rest uploaded again → settled again), with the patient's account moving back and forth."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.his.errors import DriverInputError
from simulator.his.operations import RefundInput
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, MRI, TONIC, Rig

D = Decimal
PSN1 = dataset.PERSONS[0]["psn_no"]


def balance(rig: Rig) -> Decimal:
    with rig.insurer.ledger.read() as tx:
        return tx.balance(PSN1)


def test_refund_of_some_items_settles_the_rest_again(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2"), (TONIC, "1")])
    first = rig.settle(visit_id)["bill"]
    outcome = rig.driver.refund(visit_id, RefundInput(items=(AMOXI, TONIC)))
    assert outcome.ok, outcome.body
    slip, bill = outcome["refund"], outcome["bill"]
    assert slip["kind"] == "refund"
    assert slip["amounts"]["medfee_sumamt"] == "-" + first["amounts"]["medfee_sumamt"]
    assert slip["charged"]["account"] == "-" + first["charged"]["account"]
    assert [line["code"] for line in bill["lines"]] == [CONSULT]
    assert bill["amounts"]["medfee_sumamt"] == "30.00"
    assert balance(rig) == D(bill["amounts"]["balc"])
    with rig.insurer.ledger.read() as tx:
        rows = tx.settlements_of_visit(first["mdtrt_id"])
        unsettled = tx.fee_rows(first["mdtrt_id"], statuses=("uploaded",))
    assert [(r.refd_setl_flag, r.medfee_sumamt) for r in rows] == [
        ("0", D(first["amounts"]["medfee_sumamt"])),
        ("1", -D(first["amounts"]["medfee_sumamt"])), ("0", D("30.00"))]
    assert unsettled == []
    assert [r["status"] for r in rig.counted()] == ["cancelled", "refund", "settled"]
    assert rig.orphans() == []
    printed = rig.driver.bill(visit_id)
    assert printed["bill"] == bill
    assert [b["kind"] for b in printed["bills"]] == ["settlement", "refund", "settlement"]


def test_refund_of_everything_cancels_the_registration(rig: Rig) -> None:
    before = balance(rig)
    visit_id = rig.visit(1, [(MRI, "1")])
    rig.settle(visit_id)
    assert balance(rig) < before
    outcome = rig.driver.refund(visit_id, RefundInput())
    assert outcome.ok and outcome["bill"] is None
    assert outcome["visit"]["status"] == "refunded"
    assert balance(rig) == before
    with rig.insurer.ledger.read() as tx:
        held = tx.visit(outcome["visit"]["mdtrt_id"])
    assert held is not None and held.status == "cancelled"
    assert rig.orphans() == []


def test_refund_needs_a_settled_visit_and_items_on_its_bill(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1")])
    early = rig.driver.refund(visit_id, RefundInput())
    assert not early.ok and early.refusal is not None and early.refusal.code == "visit_state"
    rig.settle(visit_id)
    with pytest.raises(DriverInputError) as caught:
        rig.driver.refund(visit_id, RefundInput(items=(AMOXI,)))
    assert caught.value.field == "items[0]"
