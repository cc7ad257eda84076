"""The situation of the ``bill-drops-payers`` mutant for tests/conformance/test_mutants.py:
person 1 is enrolled with the veterans' compensation, settles a consultation and gets it
refunded; the bill and the refund slip must show the 610200 line the insurer answered."""

from __future__ import annotations

from mock_insurer.ledger.enrolments import set_enrolments
from simulator.his.operations import RefundInput
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import CONSULT, Rig

__all__ = ["MULTI_PAYER_SITUATIONS"]

Problems = set[str]
VETERANS = "610200"


def a_veteran_settles_and_refunds(rig: Rig) -> Problems:
    """A veteran's settlement and whole refund: each payer on the bill and the slip."""
    problems: Problems = set()
    with rig.insurer.ledger.write() as tx:
        set_enrolments(tx, dataset.PERSONS[0]["psn_no"], ["veterans"])
    visit_id = rig.visit(1, [(CONSULT, "1")])
    settled = rig.settle(visit_id, acct_used=False)
    assert settled.ok, settled.body
    if VETERANS not in {p["fund_pay_type"] for p in settled["bill"].get("payers") or []}:
        problems.add("bill drops a payer")
    refunded = rig.driver.refund(visit_id, RefundInput())
    assert refunded.ok, refunded.body
    if VETERANS not in {p["fund_pay_type"] for p in refunded["refund"].get("payers") or []}:
        problems.add("refund slip drops a payer")
    return problems


MULTI_PAYER_SITUATIONS = {
    "bill-drops-payers": (a_veteran_settles_and_refunds, {"bill drops a payer",
                                                          "refund slip drops a payer"}),
}
