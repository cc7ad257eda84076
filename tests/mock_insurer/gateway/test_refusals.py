"""Every real-time refusal: infcode -1, an err_msg a cashier can act on, a stable code in the
record, and nothing left behind in the ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.client import InsurerRefusal
from mock_insurer.gateway import Insurer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

D = Decimal


def last_rejection(insurer: Insurer) -> str | None:
    with insurer.ledger.read() as tx:
        rows = tx.messages(limit=1000)
    return rows[-1]["rejection_code"]


def refused(insurer: Insurer, call: Any, *args: Any, **kwargs: Any) -> tuple[str, str | None]:
    with pytest.raises(InsurerRefusal) as caught:
        call(*args, **kwargs)
    assert caught.value.err_msg.startswith("FSI-")
    return caught.value.err_msg, last_rejection(insurer)


@pytest.mark.parametrize(("n", "extra", "code", "words"), [
    (1, {"mdtrt_cert_no": "110105198001010099"}, "person_not_found", "未查询到人员参保信息"),
    (1, {"psn_name": "张卫"}, "identity_mismatch", "姓名"),
    (1, {"certno": "110105198001010017"}, "identity_mismatch", "证件号码"),
    (2, {"mdtrt_cert_no": "11010519550303002x"}, "person_not_found", "末位X大写"),
    (6, {}, "person_deceased", "死亡"),
])
def test_person_info_refusals(window: Window, insurer: Insurer, n: int, extra: dict[str, str],
                              code: str, words: str) -> None:
    err_msg, recorded = refused(insurer, window.info, n, **extra)
    assert recorded == code
    assert words in err_msg


def test_card_refusals(window: Window, insurer: Insurer) -> None:
    lost = dataset.PERSONS[7]["cards"][0]
    err, code = refused(insurer, window.info, 8, cert_type="03", mdtrt_cert_no=lost["card_no"],
                        card_sn=lost["card_sn"])
    assert code == "card_lost" and "挂失" in err
    _, code = refused(insurer, window.info, 1, cert_type="03", card_sn="WRONG")
    assert code == "card_sn_mismatch"
    _, code = refused(insurer, window.info, 1, cert_type="03", mdtrt_cert_no="A99999999")
    assert code == "card_not_found"
    _, code = refused(insurer, window.info, 1, cert_type="01", mdtrt_cert_no="nosuchtoken")
    assert code == "ec_token_invalid"
    assert window.info(8, cert_type="03").output["baseinfo"]["psn_name"] == "欧阳明"


@pytest.mark.parametrize(("n", "insutype", "code"), [
    (4, None, "insurance_suspended"),
    (5, None, "insurance_terminated"),
    (7, None, "person_blacklisted"),
    (1, "390", "not_insured"),
])
def test_registration_refusals_leave_no_visit(window: Window, insurer: Insurer, n: int,
                                              insutype: str | None, code: str) -> None:
    _, recorded = refused(insurer, window.register, n, insutype)
    assert recorded == code
    with insurer.ledger.read() as tx:
        assert tx.count("visits") == 0


def test_fee_row_refusals_store_nothing(window: Window, insurer: Insurer) -> None:
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    good = window.row(1, mdtrt_id, "001102000010000", "1")
    cases = [
        (window.row(1, mdtrt_id, "XJ01CAA040A001010100568", "30"), "over_quantity"),
        (window.row(1, mdtrt_id, "XJ01CAA040A001010100568", "1", prd_days="10"), "over_days"),
        (window.row(1, mdtrt_id, "XG03AAA001A001010101234", "1"), "gender_restricted"),
        (window.row(1, mdtrt_id, "001102000010000", "1", med_list_codg="X000"),
         "item_not_mapped"),
        (window.row(1, mdtrt_id, "001102000010000", "1",
                    med_list_codg="002203000010000"), "item_mapping_mismatch"),
        (window.row(1, mdtrt_id, "001102000010000", "2", det_item_fee_sumamt="59.00"),
         "det_amount_mismatch"),
        ({**window.row(1, mdtrt_id, "001102000010000", "1"), "feedetl_sn": good["feedetl_sn"]},
         "feedetl_sn_duplicate"),
    ]
    for bad, code in cases:
        _, recorded = refused(insurer, window.upload, [good, bad])
        assert recorded == code, code
    with insurer.ledger.read() as tx:
        assert tx.fee_rows(mdtrt_id) == []
    assert window.upload([good]).output["result"][0]["inscp_scp_amt"] == D("30.00")


def test_details_adding_up_past_the_money_field_are_refused(window: Window,
                                                              insurer: Insurer) -> None:
    """A visit's unsettled details may not add up to more than medfee_sumamt (16,2) can say:
    otherwise no 2206/2207 could settle them. The line that crosses it is refused, with the
    total and the limit; nothing of that upload is stored, and what was uploaded before can
    still be settled."""
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    big = ("001102000010000", "1000000", "99999999.99")  # 99,999,999,990,000.00 a line
    window.upload([window.row(1, mdtrt_id, *big)])
    err_msg, recorded = refused(insurer, window.upload, [window.row(1, mdtrt_id, *big)])
    assert recorded == "visit_total_too_large"
    assert "199999999980000.00" in err_msg and "99999999999999.99" in err_msg
    assert "feedetail[0].det_item_fee_sumamt" in err_msg
    with insurer.ledger.read() as tx:
        assert len(tx.fee_rows(mdtrt_id)) == 1
    settled = window.settle(1, mdtrt_id, D("99999999990000.00"))
    assert settled.output["setlinfo"]["medfee_sumamt"] == D("99999999990000.00")


def test_indication_not_met_is_self_pay_not_a_refusal(window: Window) -> None:
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id, ("J06.900",))
    out = window.upload([window.row(1, mdtrt_id, "XA10BAA001A001010101234", "1")])
    row = out.output["result"][0]
    assert row["fulamt_ownpay_amt"] == D("25.00") and row["inscp_scp_amt"] == D("0.00")
    other = window.register(1)
    window.diagnose(1, other, ("E11.900",))
    row = window.upload([window.row(1, other, "XA10BAA001A001010101234", "1")]).output[
        "result"][0]
    assert row["fulamt_ownpay_amt"] == D("0.00") and row["preselfpay_amt"] == D("2.50")


def test_price_above_cap_is_over_limit_self_pay(window: Window) -> None:
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    row = window.upload([window.row(1, mdtrt_id, "C01010101001000001234", "3", pric="12.50")])
    result = row.output["result"][0]
    assert result["overlmt_amt"] == D("7.50")
    assert result["inscp_scp_amt"] == D("30.00")


def test_settlement_refusals(window: Window, insurer: Insurer) -> None:
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    window.upload([window.row(1, mdtrt_id, "001102000010000", "1")])
    _, code = refused(insurer, window.settle, 1, mdtrt_id, D("31.00"))
    assert code == "medfee_mismatch"
    err_msg, code = refused(insurer, window.settle, 1, mdtrt_id, D("30.00"), preselfpay_amt="1.00")
    assert code == "amounts_mismatch"
    assert err_msg.startswith("FSI-先行自付金额(preselfpay_amt)为1.00，与医保中心计算结果")
    _, code = refused(insurer, window.settle, 1, mdtrt_id, D("30.00"), bchno="B9")
    assert code == "no_unsettled_details"
    with insurer.ledger.read() as tx:
        assert tx.count("settlements") == 0
        assert tx.balance(dataset.PERSONS[0]["psn_no"]) == D("1378.15")
    done = window.settle(1, mdtrt_id, D("30.00")).output["setlinfo"]
    err_msg, code = refused(insurer, window.settle, 1, mdtrt_id, D("30.00"))
    assert code == "details_already_settled"  # says so, never "upload the details again"
    assert f"已结算(结算ID{done['setl_id']})" in err_msg and "2204" not in err_msg
    window.cancel(1, mdtrt_id, done["setl_id"])
    _, code = refused(insurer, window.cancel, 1, mdtrt_id, done["setl_id"])
    assert code == "settlement_cancelled"
    _, code = refused(insurer, window.cancel, 1, mdtrt_id, "4099999999")
    assert code == "settlement_not_found"


def test_settled_details_cannot_be_cancelled_nor_the_registration(window: Window,
                                                                  insurer: Insurer) -> None:
    answer = window.visit(1, [("001102000010000", "1")])
    s = answer.output["setlinfo"]
    psn_no = dataset.PERSONS[0]["psn_no"]
    with pytest.raises(InsurerRefusal):
        window.client.call("2205", {"data": {"mdtrt_id": s["mdtrt_id"], "chrg_bchno": "B1",
                                             "psn_no": psn_no}})
    assert last_rejection(insurer) == "details_settled"
    with pytest.raises(InsurerRefusal):
        window.client.call("2202", {"data": {"mdtrt_id": s["mdtrt_id"], "psn_no": psn_no,
                                             "ipt_otp_no": window.outpatient_no[s["mdtrt_id"]]}})
    assert last_rejection(insurer) == "visit_has_settlement"


def test_refund_then_resettle_the_rest(window: Window, insurer: Insurer) -> None:
    """2208 → 2205 → upload the rest → settle again (a partial refund)."""
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    rows = [window.row(1, mdtrt_id, "001102000010000", "1"),
            window.row(1, mdtrt_id, "XJ01CAA040A001010100568", "2")]
    window.upload(rows)
    first = window.settle(1, mdtrt_id, D("39.04")).output["setlinfo"]
    window.cancel(1, mdtrt_id, first["setl_id"])
    window.client.call("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B1",
                                         "psn_no": dataset.PERSONS[0]["psn_no"]}})
    window.upload([{**rows[0], "chrg_bchno": "B2"}])
    second = window.settle(1, mdtrt_id, D("30.00"), bchno="B2").output["setlinfo"]
    assert second["medfee_sumamt"] == D("30.00")
    assert second["balc"] == D("1378.15") - second["acct_pay"]


def test_registration_cancel_before_settlement(window: Window, insurer: Insurer) -> None:
    mdtrt_id = window.register(1)
    window.upload([window.row(1, mdtrt_id, "001102000010000", "1")])
    window.client.call("2202", {"data": {"mdtrt_id": mdtrt_id, "ipt_otp_no": window.outpatient_no[mdtrt_id],
                                         "psn_no": dataset.PERSONS[0]["psn_no"]}})
    _, code = refused(insurer, window.settle, 1, mdtrt_id, D("30.00"))
    assert code == "visit_cancelled"
    with insurer.ledger.read() as tx:
        assert tx.fee_rows(mdtrt_id) == []


def test_registration_cancel_names_the_visits_outpatient_number(window: Window,
                                                                insurer: Insurer) -> None:
    mdtrt_id = window.register(1)
    own = window.outpatient_no[mdtrt_id]  # what the driver sent on 2201
    psn_no = window.person(1)["psn_no"]
    cancel = {"psn_no": psn_no, "mdtrt_id": mdtrt_id}
    err_msg, code = refused(insurer, window.client.call, "2202",
                            {"data": {**cancel, "ipt_otp_no": "x"}})
    assert code == "ipt_otp_no_mismatch"
    assert err_msg == (f"FSI-门诊号x与就诊{mdtrt_id}挂号时上传的门诊号{own}不一致，请核对后撤销"
                       "[data.ipt_otp_no]")
    assert window.client.call("2202", {"data": {**cancel, "ipt_otp_no": own}}).infcode == 0
