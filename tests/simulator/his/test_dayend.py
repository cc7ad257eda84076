"""Day-end reconciliation: balanced on a normal day; after a planted mismatch in the HIS's own
ledger, the mismatch is found (3201), located (3202), corrected, and balanced (3201 again)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from simulator.his.operations import DayEndInput, RefundInput
from tests.simulator.his.rig import AMOXI, CONSULT, MRI, START, Rig

DAY = START.date()


def morning(rig: Rig) -> list[str]:
    """Three patients (two schemes), one partial refund."""
    visits = [rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")]), rig.visit(2, [(MRI, "1")]),
              rig.visit(3, [(CONSULT, "1")])]
    for visit_id in visits:
        assert rig.settle(visit_id).ok
    assert rig.driver.refund(visits[0], RefundInput(items=(AMOXI,))).ok
    return visits


def test_a_normal_day_is_balanced_at_the_first_try(rig: Rig) -> None:
    morning(rig)
    outcome = rig.driver.day_end(DayEndInput(DAY))
    assert outcome.ok and outcome["balanced"] is True, outcome.body
    groups = {(g["insutype"], g["clr_type"]): g for g in outcome["groups"]}
    assert set(groups) == {("310", "11"), ("390", "11")}
    assert all(g["first"]["stmt_rslt"] == "0" for g in groups.values())
    assert groups[("310", "11")]["his"]["count"] == 4  # 2 settlements, a refund, a re-settle
    assert outcome["corrections"] == []
    infnos = {m["infno"] for m in rig.his.store.messages()}
    assert "3202" not in infnos


def test_a_settlement_lost_from_the_his_ledger_is_learned_back(rig: Rig) -> None:
    morning(rig)
    (lost,) = [e for e in rig.his.store.entries() if e["insutype"] == "390"]
    rig.his.store.delete_entry(lost["id"])
    outcome = rig.driver.day_end(DayEndInput(DAY))
    assert outcome.ok and outcome["balanced"] is True, outcome.body
    group = next(g for g in outcome["groups"] if g["insutype"] == "390")
    assert group["first"]["stmt_rslt"] == "1" and group["final"]["stmt_rslt"] == "0"
    (correction,) = outcome["corrections"]
    assert correction["action"] == "learned" and correction["setl_id"] == lost["setl_id"]
    learned = rig.his.store.entry_by_setl_id(lost["setl_id"])
    assert learned is not None and learned["status"] == "settled"
    assert learned["medfee_sumamt"] == lost["medfee_sumamt"]
    assert learned["acct_pay"] == lost["acct_pay"]


def test_a_settlement_only_the_his_has_is_voided(rig: Rig) -> None:
    morning(rig)
    real = rig.his.store.entries()[0]
    rig.his.store.add_entry({**{k: v for k, v in real.items() if k != "id"},
                             "msgid": "H11010500003202603020000009999", "setl_id": "4099999999",
                             "medfee_sumamt": Decimal("12.00")})
    outcome = rig.driver.day_end(DayEndInput(DAY))
    assert outcome.ok and outcome["balanced"] is True, outcome.body
    (correction,) = outcome["corrections"]
    assert correction["action"] == "voided" and correction["setl_id"] == "4099999999"
    ghost = rig.his.store.entry_by_setl_id("4099999999")
    assert ghost is not None and ghost["status"] == "void"


def test_amounts_that_differ_are_taken_from_the_center(rig: Rig) -> None:
    morning(rig)
    real = next(e for e in rig.his.store.entries() if e["insutype"] == "390")
    rig.his.store.update_entry(real["id"], fund_pay_sumamt=Decimal("0.01"))
    outcome = rig.driver.day_end(DayEndInput(DAY))
    assert outcome.ok and outcome["balanced"] is True, outcome.body
    (correction,) = outcome["corrections"]
    assert correction["action"] == "amended"
    fixed = rig.his.store.entry(real["id"])
    assert fixed is not None and fixed["fund_pay_sumamt"] == real["fund_pay_sumamt"]


def test_the_reverse_policy_reverses_what_the_his_lost(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(center_only="reverse")
    visit_id = rig.visit(3, [(CONSULT, "1")])
    assert rig.settle(visit_id).ok
    (lost,) = rig.his.store.entries()
    rig.his.store.delete_entry(lost["id"])
    outcome = rig.driver.day_end(DayEndInput(DAY))
    assert outcome.ok and outcome["balanced"] is True, outcome.body
    assert [c["action"] for c in outcome["corrections"]] == ["reversed"]
    assert rig.settlements() == []


def test_day_end_of_a_day_without_settlements_is_balanced(rig: Rig) -> None:
    outcome = rig.driver.day_end(DayEndInput(DAY))
    assert outcome.ok and outcome["balanced"] is True and outcome["groups"] == []
