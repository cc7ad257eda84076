"""A whole outpatient visit through the real HTTP server: what a cashier would see."""

from __future__ import annotations

from decimal import Decimal

from mock_insurer.gateway import Insurer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

D = Decimal


def test_person_info_answers_the_record_and_the_balance(window: Window) -> None:
    answer = window.info(1)
    base = answer.output["baseinfo"]
    assert base["psn_name"] == "张伟"
    assert base["certno"] == "110105198001010016"
    assert base["gend"] == "1"
    assert base["age"] == 46
    insu = answer.output["insuinfo"][0]
    assert insu["insutype"] == "310"
    assert insu["balc"] == D("1378.15")
    assert answer.err_msg == ""


def test_a_small_bill_settles_to_the_cent(window: Window, insurer: Insurer) -> None:
    # The Hebei sample's row (fact sheet §3, 2207): 乙类 4.52 with 5 % first self-pay ->
    # preselfpay 0.23, in scope 4.29. Under the beijing profile the pooled fund first pays the
    # 2-yuan registration payment; the other 2.29 goes to the deductible; the person's 2.52 is
    # paid from the account: balance 1378.15 -> 1375.63.
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    result = window.upload([window.row(1, mdtrt_id, "XJ01CAA040A001010100568", "1")])
    row = result.output["result"][0]
    assert (row["det_item_fee_sumamt"], row["preselfpay_amt"], row["inscp_scp_amt"]) == (
        D("4.52"), D("0.23"), D("4.29"))
    pre = window.pre_settle(1, mdtrt_id, D("4.52")).output["setlinfo"]
    assert pre["setl_id"] is None
    done = window.settle(1, mdtrt_id, D("4.52")).output["setlinfo"]
    for key in ("medfee_sumamt", "preselfpay_amt", "inscp_scp_amt", "acct_pay", "psn_cash_pay",
                "fund_pay_sumamt"):
        assert done[key] == pre[key], key
    assert done["medfee_sumamt"] == D("4.52")
    assert done["act_pay_dedc"] == D("2.29")
    assert done["hifp_pay"] == D("2.00")
    assert done["acct_pay"] == D("2.52")
    assert done["psn_cash_pay"] == D("0.00")
    assert done["balc"] == D("1375.63")
    assert done["setl_id"]
    assert done["medins_setl_id"] == window.client.last_request["msgid"]  # type: ignore[index]
    assert window.info(1).output["insuinfo"][0]["balc"] == D("1375.63")
    with insurer.ledger.read() as tx:
        assert tx.ytd(dataset.PERSONS[0]["psn_no"], 2026, "310")["dedc_used"] == D("2.29")


def test_settlement_invariants_hold_on_a_mixed_bill(window: Window) -> None:
    answer = window.visit(1, [("002203000010000", "1"), ("XJ01CAA040A001010100568", "2"),
                              ("ZA01AAA0001010101234", "1"), ("001102000010000", "1")])
    s = answer.output["setlinfo"]
    funds = (s["hifp_pay"] + s["cvlserv_pay"] + s["hifes_pay"] + s["hifmi_pay"]
             + s["hifob_pay"] + s["maf_pay"] + s["oth_pay"])
    assert s["medfee_sumamt"] == D("3097.04")
    assert s["fund_pay_sumamt"] == funds
    assert s["psn_part_amt"] == s["medfee_sumamt"] - s["fund_pay_sumamt"] - s["hosp_part_amt"]
    assert s["psn_part_amt"] == s["acct_pay"] + s["psn_cash_pay"]
    assert s["inscp_scp_amt"] == (s["medfee_sumamt"] - s["fulamt_ownpay_amt"]
                                  - s["overlmt_selfpay"] - s["preselfpay_amt"])
    assert s["fulamt_ownpay_amt"] == D("58.00")
    detail = answer.output["setldetail"]
    assert sum(r["fund_payamt"] for r in detail) == (s["fund_pay_sumamt"] + s["acct_pay"]
                                                     + s["hosp_part_amt"])
    assert s["hifp_pay"] > 0  # above the 1,800 deductible at tier 3: the pooled fund pays


def test_cancel_returns_the_account_and_every_counter(window: Window, insurer: Insurer) -> None:
    psn_no = dataset.PERSONS[0]["psn_no"]
    with insurer.ledger.read() as tx:
        before = (tx.balance(psn_no), tx.ytd(psn_no, 2026, "310"))
    answer = window.visit(1, [("002203000010000", "1")])
    s = answer.output["setlinfo"]
    cancelled = window.cancel(1, s["mdtrt_id"], s["setl_id"]).output["setlinfo"]
    assert cancelled["setl_id"] != s["setl_id"]
    assert cancelled["medfee_sumamt"] == -s["medfee_sumamt"]
    assert cancelled["acct_pay"] == -s["acct_pay"]
    assert cancelled["balc"] == D("1378.15")
    with insurer.ledger.read() as tx:
        after = (tx.balance(psn_no), tx.ytd(psn_no, 2026, "310"))
    assert after[0] == before[0]
    assert {k: v for k, v in after[1].items() if v} == {k: v for k, v in before[1].items() if v}
