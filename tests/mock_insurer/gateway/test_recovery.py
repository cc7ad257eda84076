"""Exactly-once settlement: msgid idempotency, reversal before and after the original arrives,
lost answers, and the query a HIS uses to learn what was committed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.client import ConnectionLost, InsurerClient, InsurerRefusal
from mock_insurer.faults import FaultPlan
from mock_insurer.gateway import Insurer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

D = Decimal
PSN1 = dataset.PERSONS[0]["psn_no"]


def prepared_visit(window: Window) -> str:
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    window.upload([window.row(1, mdtrt_id, "002203000010000", "1")])
    return mdtrt_id


def settlements(insurer: Insurer) -> int:
    with insurer.ledger.read() as tx:
        return tx.count("settlements")


def test_identical_resend_replays_the_answer_and_applies_nothing(window: Window,
                                                                   insurer: Insurer) -> None:
    mdtrt_id = prepared_visit(window)
    first = window.settle(1, mdtrt_id, D("3000.00"))
    envelope = window.client.last_request
    assert envelope is not None
    again = window.client.send_raw(envelope)
    assert again.output == first.output
    assert settlements(insurer) == 1
    with insurer.ledger.read() as tx:
        assert tx.balance(PSN1) == first.output["setlinfo"]["balc"]
        statuses = [m["status"] for m in tx.messages(limit=1000)]
    assert statuses[-1] == "replayed"


def test_same_msgid_with_other_input_is_refused(window: Window, insurer: Insurer) -> None:
    mdtrt_id = prepared_visit(window)
    window.settle(1, mdtrt_id, D("3000.00"))
    envelope = dict(window.client.last_request or {})
    envelope["input"] = {"data": {**envelope["input"]["data"], "acct_used_flag": "0"}}
    with pytest.raises(InsurerRefusal) as caught:
        window.client.send_raw(envelope)
    assert "报文ID重复" in caught.value.err_msg
    assert settlements(insurer) == 1


def test_lost_answer_then_reversal_undoes_the_committed_settlement(
        window: Window, insurer: Insurer) -> None:
    insurer.service.faults.set_plan(FaultPlan.from_dict({"faults": [
        {"id": "lose", "match": {"infno": "2207", "first": 1},
         "effect": {"kind": "lose_answer", "how": "close"}}]}))
    mdtrt_id = prepared_visit(window)
    with pytest.raises(ConnectionLost) as caught:
        window.settle(1, mdtrt_id, D("3000.00"))
    assert caught.value.effect == "unknown"
    assert settlements(insurer) == 1  # committed: the ledger is the truth
    omsgid = caught.value.msgid
    window.client.reverse(psn_no=PSN1, omsgid=omsgid, oinfno="2207")
    with insurer.ledger.read() as tx:
        assert tx.balance(PSN1) == D("1378.15")
        assert not any(tx.ytd(PSN1, 2026, "310").values())
        assert [r.status for r in tx.fee_rows(mdtrt_id)] == ["uploaded"]
    # the reversed msgid can never take effect again, even resent
    with pytest.raises(InsurerRefusal) as resend:
        window.client.call("2207", window.settle_input(1, mdtrt_id, D("3000.00")), msgid=omsgid)
    assert "已被冲正" in resend.value.err_msg
    # settling again under a new msgid works once
    again_ok = window.settle(1, mdtrt_id, D("3000.00"))
    assert again_ok.output["setlinfo"]["medfee_sumamt"] == D("3000.00")


def test_reversal_before_the_original_arrives_blocks_it(window: Window,
                                                        insurer: Insurer) -> None:
    mdtrt_id = prepared_visit(window)
    omsgid = window.client.new_msgid()
    window.client.reverse(psn_no=PSN1, omsgid=omsgid, oinfno="2207")
    with pytest.raises(InsurerRefusal) as caught:
        window.client.call("2207", window.settle_input(1, mdtrt_id, D("3000.00")), msgid=omsgid)
    assert "已被冲正" in caught.value.err_msg
    assert settlements(insurer) == 0


def settled_and_cancelled(window: Window) -> tuple[str, dict[str, Any], str]:
    """A visit settled and cancelled (2208): the visit, the settlement's setlinfo and the 2208's
    msgid."""
    mdtrt_id = prepared_visit(window)
    s = window.settle(1, mdtrt_id, D("3000.00")).output["setlinfo"]
    window.cancel(1, mdtrt_id, s["setl_id"])
    return mdtrt_id, s, window.client.last_request["msgid"]  # type: ignore[index]


def settled_cancelled_and_reversed(window: Window) -> tuple[str, dict[str, Any], str]:
    """A visit settled, cancelled (2208), and the cancellation reversed (2601): the visit, the
    settlement's setlinfo and the 2208's msgid."""
    mdtrt_id, s, cancel_msgid = settled_and_cancelled(window)
    window.client.reverse(psn_no=PSN1, omsgid=cancel_msgid, oinfno="2208")
    return mdtrt_id, s, cancel_msgid


def test_reversal_of_a_cancel_restores_the_settlement(window: Window, insurer: Insurer) -> None:
    _, s, cancel_msgid = settled_cancelled_and_reversed(window)
    with insurer.ledger.read() as tx:
        original = tx.settlement(s["setl_id"])
        assert original is not None and original.cancelled_by is None
        assert tx.balance(PSN1) == s["balc"]
    with pytest.raises(InsurerRefusal):  # the settlement is live again: cancel it once more
        window.client.reverse(psn_no=PSN1, omsgid=cancel_msgid, oinfno="2205")


def test_a_settlement_restored_by_reversal_is_refunded_once_not_twice(
        window: Window, insurer: Insurer) -> None:
    mdtrt_id, s, _ = settled_cancelled_and_reversed(window)
    with insurer.ledger.read() as tx:
        rows = tx.settlements_of_visit(mdtrt_id)
        restoring = rows[-1]
        # the row 2601 appended tells the balance after, as every settlement row does
        assert restoring.made_by_infno == "2601" and restoring.setlinfo["balc"] == s["balc"]
    with pytest.raises(InsurerRefusal) as caught:  # the bookkeeping row cannot be refunded
        window.cancel(1, mdtrt_id, restoring.setl_id)
    assert f"原结算{s['setl_id']}" in caught.value.err_msg
    assert query_by_visit(window, mdtrt_id)["setl_id"] == s["setl_id"]  # live again
    window.cancel(1, mdtrt_id, s["setl_id"])  # the original can, once
    with pytest.raises(InsurerRefusal) as again:
        window.cancel(1, mdtrt_id, s["setl_id"])
    assert "已撤销" in again.value.err_msg
    with insurer.ledger.read() as tx:
        assert tx.balance(PSN1) == D("1378.15")  # the account holds what it held before the visit
        assert not any(tx.ytd(PSN1, 2026, "310").values())


def query_by_visit(window: Window, mdtrt_id: str) -> dict[str, Any]:
    """5203 as a HIS that lost the answer asks it: by visit, with no setl_id."""
    return window.client.call("5203", {"data": {"psn_no": PSN1, "mdtrt_id": mdtrt_id,
                                                "setl_id": ""}}).output["setlinfo"]


def test_the_query_by_visit_answers_what_is_in_effect(window: Window) -> None:
    mdtrt_id = prepared_visit(window)
    window.settle(1, mdtrt_id, D("3000.00"))
    window.client.reverse(psn_no=PSN1, omsgid=window.client.last_request["msgid"],  # type: ignore[index]
                          oinfno="2207")
    with pytest.raises(InsurerRefusal) as caught:  # reversed: nothing in effect, settle again
        query_by_visit(window, mdtrt_id)
    assert caught.value.err_msg == \
        f"FSI-就诊ID{mdtrt_id}的结算记录不存在（该就诊未结算，或结算已冲正）[data.mdtrt_id]"
    again = window.settle(1, mdtrt_id, D("3000.00")).output["setlinfo"]
    assert query_by_visit(window, mdtrt_id)["setl_id"] == again["setl_id"]


def test_a_visit_never_settled_is_answered_as_such_by_5203(window: Window,
                                                            insurer: Insurer) -> None:
    """What a HIS that lost a 2207 answer reads as "nothing settled": the words name the
    visit (not a settlement id it never gave), the where-marker and the stable code stay."""
    mdtrt_id = prepared_visit(window)
    with pytest.raises(InsurerRefusal) as caught:
        query_by_visit(window, mdtrt_id)
    refusal = caught.value
    assert refusal.effect == "none" and refusal.infcode == -1
    assert refusal.err_msg == \
        f"FSI-就诊ID{mdtrt_id}的结算记录不存在（该就诊未结算，或结算已冲正）[data.mdtrt_id]"
    assert refusal.where == "data.mdtrt_id" and "结算ID(" not in refusal.err_msg
    with insurer.ledger.read() as tx:
        assert tx.messages(limit=1000)[-1]["rejection_code"] == "settlement_not_found"


def test_a_resend_may_carry_a_new_inf_time_and_sign_no_but_not_other_input(
        window: Window, insurer: Insurer) -> None:
    """docs/insurer.md, "Exactly once": a resend is recognised by institution, msgid, infno
    and input (numbers by their text); the rest of the envelope may differ."""
    mdtrt_id = prepared_visit(window)
    first = window.settle(1, mdtrt_id, D("3000.00"))
    envelope = window.client.last_request
    assert envelope is not None
    old_sign_no = envelope["sign_no"]
    window.client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")  # signed in again
    assert window.client.sign_no != old_sign_no
    data = envelope["input"]["data"]
    resend = {**envelope, "inf_time": "2026-03-02 08:59:59", "sign_no": window.client.sign_no,
              "opter_name": "李收费", "input": {"data": dict(reversed(list(data.items())))}}
    again = window.client.send_raw(resend)
    assert again.output == first.output
    assert settlements(insurer) == 1
    with insurer.ledger.read() as tx:
        assert tx.messages(limit=1000)[-1]["status"] == "replayed"
    other = {**envelope, "sign_no": window.client.sign_no,
             "input": {"data": {**data, "medfee_sumamt": D("3000.0")}}}  # same value, other text
    with pytest.raises(InsurerRefusal) as caught:
        window.client.send_raw(other)
    assert "报文ID重复" in caught.value.err_msg
    assert settlements(insurer) == 1


def test_reversal_after_the_business_day_is_refused(window: Window, insurer: Insurer) -> None:
    mdtrt_id = prepared_visit(window)
    window.settle(1, mdtrt_id, D("3000.00"))
    omsgid = window.client.last_request["msgid"]  # type: ignore[index]
    insurer.clock.set_business_date(date(2026, 3, 3))
    window.client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
    with pytest.raises(InsurerRefusal) as caught:
        window.client.reverse(psn_no=PSN1, omsgid=omsgid, oinfno="2207")
    assert "冲正时限" in caught.value.err_msg


def test_settlement_query_finds_what_a_lost_answer_committed(window: Window) -> None:
    mdtrt_id = prepared_visit(window)
    s = window.settle(1, mdtrt_id, D("3000.00")).output["setlinfo"]
    by_visit = window.client.call("5203", {"data": {"psn_no": PSN1, "mdtrt_id": mdtrt_id,
                                                    "setl_id": ""}})
    row = by_visit.output["setlinfo"]
    assert row["setl_id"] == s["setl_id"]
    assert row["psn_pay"] == s["psn_part_amt"] and row["cash_payamt"] == s["psn_cash_pay"]
    assert row["refd_setl_flag"] == "0"
    cum = window.client.call("5206", {"data": {"psn_no": PSN1, "cum_ym": "202603"}})
    kinds = {r["cum_type_code"]: r["cum"] for r in cum.output["cuminfo"]}
    assert kinds["C001"] == D("1800.00")  # the deductible used (dedc_used)


def test_signin_is_required_and_sign_out_ends_it(server_client: InsurerClient,
                                                 insurer: Insurer) -> None:
    window = Window(server_client)
    with pytest.raises(InsurerRefusal) as caught:
        window.info(1)
    assert "签到" in caught.value.err_msg
    server_client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
    window.info(1)
    server_client.sign_out("C01")
    with pytest.raises(InsurerRefusal):
        window.info(1)


def reverse_last_cancel(window: Window) -> None:
    window.client.reverse(psn_no=PSN1, omsgid=window.client.last_request["msgid"],  # type: ignore[index]
                          oinfno="2208")


def test_a_cancel_is_not_reversed_once_its_rows_were_settled_again(
        window: Window, insurer: Insurer) -> None:
    mdtrt_id, _, cancel_msgid = settled_and_cancelled(window)
    again = window.settle(1, mdtrt_id, D("3000.00")).output["setlinfo"]  # the same rows
    with pytest.raises(InsurerRefusal) as caught:
        window.client.reverse(psn_no=PSN1, omsgid=cancel_msgid, oinfno="2208")
    assert "费用明细之后已重新结算或撤销，不能冲正" in caught.value.err_msg
    with insurer.ledger.read() as tx:
        assert tx.balance(PSN1) == again["balc"]  # debited once, for the one settlement
        live = [r for r in tx.settlements_of_visit(mdtrt_id)
                if r.refd_setl_flag == "0" and r.cancelled_by is None]
    assert [r.setl_id for r in live] == [again["setl_id"]]


def test_a_cancel_is_not_reversed_once_its_rows_were_cancelled(window: Window) -> None:
    mdtrt_id, _, cancel_msgid = settled_and_cancelled(window)
    window.client.call("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B1",
                                         "psn_no": PSN1}})
    with pytest.raises(InsurerRefusal) as caught:
        window.client.reverse(psn_no=PSN1, omsgid=cancel_msgid, oinfno="2208")
    assert "不能冲正" in caught.value.err_msg


def test_a_reversed_cancel_settles_its_own_rows_again_whatever_the_batch(
        window: Window, insurer: Insurer) -> None:
    mdtrt_id = prepared_visit(window)  # one row in batch B1
    s = window.settle(1, mdtrt_id, D("3000.00"), bchno="0000").output["setlinfo"]  # every batch
    window.upload([window.row(1, mdtrt_id, "001102000010000", "1")])  # a row added later, B1
    window.cancel(1, mdtrt_id, s["setl_id"])
    reverse_last_cancel(window)
    with insurer.ledger.read() as tx:
        rows = {r.feedetl_sn: (r.status, r.setl_id) for r in tx.fee_rows(mdtrt_id)}
    assert sorted(rows.values()) == [("settled", s["setl_id"]), ("uploaded", None)]
    # the original's row is settled again; the later row is still there to settle, once
    later = window.settle(1, mdtrt_id, D("30.00")).output["setlinfo"]
    assert later["medfee_sumamt"] == D("30.00")
    with pytest.raises(InsurerRefusal) as caught:  # everything is settled now
        window.settle(1, mdtrt_id, D("30.00"))
    assert caught.value.err_msg.startswith("FSI-收费批次B1的费用明细已结算(结算ID")
    assert "请勿重复结算" in caught.value.err_msg


def test_a_cancel_is_not_reversed_when_the_refunded_account_money_was_spent(
        window: Window, insurer: Insurer) -> None:
    _, _, cancel_msgid = settled_and_cancelled(window)
    spend = window.visit(1, [("002203000010000", "1")])  # the account pays this visit
    assert spend.output["setlinfo"]["acct_pay"] > 0
    with pytest.raises(InsurerRefusal) as caught:
        window.client.reverse(psn_no=PSN1, omsgid=cancel_msgid, oinfno="2208")
    assert "已被使用" in caught.value.err_msg and "不能冲正" in caught.value.err_msg
