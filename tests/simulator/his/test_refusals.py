"""Every kind of real-time refusal reaches the cashier as the insurer worded it, and leaves
nothing behind at the insurer: no registration, no unsettled details, no settlement."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.ledger import queries as ledger_queries
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    IdentifyInput,
    Outcome,
    Override,
    RegisterInput,
    SettleInput,
    VisitInput,
)
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, HOSPITAL, WOMEN, Rig


def insurer_record(rig: Rig, msgid: str) -> dict[str, Any]:
    with rig.insurer.ledger.read() as tx:
        (row,) = [m for m in tx.messages(limit=10_000) if m["msgid"] == msgid]
    return dict(row)


def assert_insurer_refusal(rig: Rig, outcome: Outcome, code: str) -> None:
    """The outcome is the insurer's refusal ``code``, shown with the insurer's own text."""
    assert not outcome.ok
    refusal = outcome.refusal
    assert refusal is not None and refusal.source == "insurer", outcome.body
    assert refusal.msgid is not None
    record = insurer_record(rig, refusal.msgid)
    assert record["rejection_code"] == code
    assert refusal.message == record["err_msg"]


@pytest.mark.parametrize(("n", "card", "code"), [
    (8, 0, "card_lost"),  # the old card of a person whose card was replaced
    (6, -1, "person_deceased"),
])
def test_identify_refusals(rig: Rig, n: int, card: int, code: str) -> None:
    person = dataset.PERSONS[n - 1]
    outcome = rig.driver.identify(IdentifyInput("03", person["cards"][card]["card_no"],
                                                card_sn=person["cards"][card]["card_sn"]))
    assert_insurer_refusal(rig, outcome, code)


def test_identify_refusals_of_typed_input(rig: Rig) -> None:
    person = dataset.PERSONS[0]
    unknown = rig.driver.identify(IdentifyInput("03", "A99999999", card_sn="X"))
    assert_insurer_refusal(rig, unknown, "card_not_found")
    wrong_name = rig.driver.identify(IdentifyInput("02", person["certno"], psn_name="张玮"))
    assert_insurer_refusal(rig, wrong_name, "identity_mismatch")
    assert person["psn_name"] in (wrong_name.refusal.message if wrong_name.refusal else "")
    token = rig.driver.identify(IdentifyInput("01", "110000ec" + "9" * 28))
    assert_insurer_refusal(rig, token, "ec_token_invalid")


@pytest.mark.parametrize(("n", "insutype", "code"), [
    (4, "", "insurance_suspended"),
    (5, "", "insurance_terminated"),
    (7, "", "person_blacklisted"),
    (1, "390", "not_insured"),
])
def test_registration_refusals_leave_no_visit(rig: Rig, n: int, insutype: str,
                                              code: str) -> None:
    outcome = rig.driver.register(RegisterInput(rig.patient(n), "A03", "D0007",
                                                insutype=insutype))
    assert_insurer_refusal(rig, outcome, code)
    assert outcome["visit"]["status"] == "refused"
    with rig.insurer.ledger.read() as tx:
        assert tx.count("visits") == 0


@pytest.mark.parametrize(("item", "code"), [
    (ChargeItem(AMOXI, Decimal("30")), "over_quantity"),
    (ChargeItem(AMOXI, Decimal("2"), Decimal("10")), "over_days"),
    (ChargeItem(WOMEN, Decimal("1")), "gender_restricted"),
])
def test_charge_refusals_close_the_visit_at_the_insurer(rig: Rig, item: ChargeItem,
                                                        code: str) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1")])  # a first charge goes through
    outcome = rig.driver.charge(visit_id, ChargeInput(  # past the rule check's warning
        (ChargeItem(CONSULT, Decimal(1)), item), override=Override("C01", "doctor insists")))
    assert_insurer_refusal(rig, outcome, code)
    assert outcome["visit"]["status"] == "cancelled"
    assert rig.orphans() == []
    with rig.insurer.ledger.read() as tx:
        visits = ledger_queries.visits(tx, fixmedins_code=HOSPITAL).rows
    assert [v["status"] for v in visits] == ["cancelled"]
    again = rig.driver.charge(visit_id, ChargeInput((ChargeItem(CONSULT, Decimal(1)),)))
    assert not again.ok and again.refusal is not None and again.refusal.code == "visit_state"


@pytest.mark.parametrize("infno", ["2206", "2207"])
def test_a_refused_settlement_leaves_nothing_open(rig: Rig, infno: str) -> None:
    rig.faults({"id": "no", "match": {"infno": infno, "first": 1},
                "effect": {"kind": "business_error",
                           "err_msg": "FSI-医保中心系统维护中，请稍后重试[maint_01]"}})
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    outcome = rig.settle(visit_id)
    assert not outcome.ok and outcome.refusal is not None
    assert outcome.refusal.source == "insurer"
    assert outcome.refusal.message == "FSI-医保中心系统维护中，请稍后重试[maint_01]"
    assert outcome["visit"]["status"] == "cancelled"
    assert rig.settlements() == []
    assert rig.orphans() == []
    assert rig.counted() == []
    assert rig.driver.bill(visit_id)["bill"] is None
    # the patient is registered again and settled once
    again = rig.visit(1, [(CONSULT, "1")])
    assert rig.driver.settle(again, SettleInput()).ok
    assert len(rig.settlements()) == 1 and rig.orphans() == []


def test_a_visit_the_patient_leaves_is_cancelled_at_the_insurer(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1")])
    assert rig.orphans() != []
    outcome = rig.driver.cancel(visit_id, VisitInput())
    assert outcome.ok and outcome["visit"]["status"] == "cancelled"
    assert rig.orphans() == []
