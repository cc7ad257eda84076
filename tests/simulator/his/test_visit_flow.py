"""A whole visit through the driver API: identify, register, charge, pre-settle, settle, bill,
ledger — and what the insurer holds afterwards."""

from __future__ import annotations

from decimal import Decimal

from simulator.his.operations import SettleInput
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, HOSPITAL, TONIC, TUBING, Rig

D = Decimal


def test_a_full_visit_prints_a_bill_that_matches_the_insurer(rig: Rig) -> None:
    info = rig.driver.info()
    assert info.ok and info["institution"]["fixmedins_code"] == HOSPITAL
    assert info["api_version"] == "1"
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2"), (TONIC, "1"), (TUBING, "1")])
    estimate = rig.driver.pre_settle(visit_id, SettleInput(acct_used=True))
    assert estimate.ok, estimate.body
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    bill = settled["bill"]
    amounts = {k: D(v) for k, v in bill["amounts"].items()}
    # 30 + 2 x 4.52 + 58 + 12.50 (capped at 10: 2.50 over the limit)
    assert amounts["medfee_sumamt"] == D("109.54")
    assert amounts["fulamt_ownpay_amt"] == D("58.00")
    assert amounts["overlmt_selfpay"] == D("2.50")
    assert amounts["preselfpay_amt"] == D("0.45")  # 9.04 x 5 %
    assert amounts["medfee_sumamt"] == amounts["fund_pay_sumamt"] + amounts["psn_part_amt"] \
        + amounts["hosp_part_amt"]
    assert amounts["psn_part_amt"] == amounts["acct_pay"] + amounts["psn_cash_pay"]
    assert bill["charged"] == {"cash": bill["amounts"]["psn_cash_pay"],
                               "account": bill["amounts"]["acct_pay"]}
    assert {k: estimate["estimate"][k] for k in ("medfee_sumamt", "psn_cash_pay")} == \
        {k: bill["amounts"][k] for k in ("medfee_sumamt", "psn_cash_pay")}
    assert [line["code"] for line in bill["lines"]] == [CONSULT, AMOXI, TONIC, TUBING]
    assert bill["psn_name"] == dataset.PERSONS[0]["psn_name"]
    # the insurer holds exactly this settlement
    (held,) = rig.settlements()
    assert held.setl_id == bill["setl_id"]
    assert held.medfee_sumamt == amounts["medfee_sumamt"]
    assert held.acct_pay == amounts["acct_pay"]
    assert rig.orphans() == []
    # the HIS's ledger and its reprint say the same
    (row,) = rig.counted()
    assert row["setl_id"] == bill["setl_id"] and row["status"] == "settled"
    assert row["msgid"] == held.medins_setl_id
    reprint = rig.driver.bill(visit_id)
    assert reprint["bill"] == bill
    assert rig.driver.visit(visit_id)["visit"]["status"] == "settled"


def test_without_the_account_the_patient_pays_cash(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1")])
    bill = rig.settle(visit_id, acct_used=False)["bill"]
    assert bill["charged"]["account"] == "0.00"
    assert D(bill["charged"]["cash"]) == D(bill["amounts"]["psn_part_amt"])
