"""2601 reversal (冲正) by original msgid (fact sheet §3 2601, reference business rule 7).

- The original took effect: it is undone (2207 -> as if cancelled; 2208 -> the settlement takes
  effect again) and its msgid is marked reversed: a resend of it is refused, never replayed.
- The original never arrived: the reversal succeeds and leaves a tombstone, so that msgid can
  never take effect later (the lost-request case a timeout leaves the HIS unsure about).
- The original was refused: nothing to undo; the reversal succeeds.
- The msgid is another institution's settlement (its prefix names that institution): refused,
  so the HIS does not believe it reversed a settlement that stays in effect.
- Reversal later than the window (default: the same business day) is refused.
"""

from __future__ import annotations

from datetime import date

import orjson

from mock_insurer.ledger import LedgerTx, Settlement
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.settle import msgid_refusal, redo_settlement, undo_settlement

__all__ = ["REVERSIBLE", "handle_2601"]

# Transactions the national interface lets a HIS reverse (fact sheet §3, 2601).
REVERSIBLE = ("2102", "2103", "2207", "2208", "2304", "2305", "2401")


def handle_2601(call: Call, tx: LedgerTx) -> Outcome:
    if (too_long := msgid_refusal(call)) is not None:  # it becomes a row's medins_setl_id
        return too_long
    r = call.node("data")
    psn_no = r.text("psn_no", max_len=30)
    omsgid = r.text("omsgid", max_len=60)
    oinfno = r.text("oinfno", max_len=5)
    if r.problem:
        return r.problem
    if oinfno not in REVERSIBLE:
        return refuse("reversal_not_allowed", "data.oinfno", oinfno=oinfno)
    code = call.institution.fixmedins_code
    original = tx.keyed_message(code, omsgid)
    if original is None:
        elsewhere = _settled_by_another(tx, code, omsgid)
        if elsewhere is not None:  # not "never arrived": the HIS named the wrong institution
            return refuse("settlement_other_institution", "data.omsgid",
                          setl_id=elsewhere.setl_id)
        tx.add_message({
            "fixmedins_code": code, "msgid": omsgid, "infno": oinfno, "keyed": True,
            "input_hash": None, "psn_no": psn_no, "request": orjson.dumps({"tombstone_by":
                                                                            call.envelope.msgid}),
            "answer": None, "infcode": None, "rejection_code": None, "err_msg": None,
            "deviations": "[]", "status": "tombstone", "biz_time": call.biz_time,
            "received_ms": 0, "effect_ref": None,
        })
        return Answered({}, warn_msg="", effect_ref=omsgid, psn_no=psn_no)
    if original["infno"] != oinfno:
        return refuse("reversal_infno_mismatch", "data.oinfno", omsgid=omsgid,
                      actual=original["infno"], oinfno=oinfno)
    if original["psn_no"] and original["psn_no"] != psn_no:
        return refuse("reversal_person_mismatch", "data.psn_no", omsgid=omsgid)
    if original["status"] in ("reversed", "tombstone") or original["infcode"] != 0:
        if original["status"] == "answered":
            tx.update_message(original["id"], status="reversed")
        return Answered({}, effect_ref=omsgid, psn_no=psn_no)
    done_on = date.fromisoformat(str(original["biz_time"])[:10])
    if (call.now.date() - done_on).days > call.settings.reversal_window_days:
        window = ("当日" if call.settings.reversal_window_days == 0
                  else f"{call.settings.reversal_window_days}日")
        return refuse("reversal_window_passed", "data.omsgid", omsgid=omsgid, window=window)
    settlement = tx.settlement_by_msgid(code, omsgid)
    if settlement is not None:
        if oinfno == "2207":
            if settlement.cancelled_by is not None:
                return refuse("reversal_blocked", "data.omsgid", omsgid=omsgid)
            undo_settlement(call, tx, settlement, infno="2601", msgid=call.envelope.msgid)
        else:
            redone = redo_settlement(call, tx, settlement, msgid=call.envelope.msgid)
            if isinstance(redone, Refusal):
                return redone
    tx.update_message(original["id"], status="reversed")
    return Answered({}, effect_ref=omsgid, psn_no=psn_no)


def _settled_by_another(tx: LedgerTx, code: str, omsgid: str) -> Settlement | None:
    """The settlement (or cancellation) another institution made under *omsgid*, found by the
    msgid's own prefix (``fixmedins_code + yyyyMMddHHmmss + NNNN``). A HIS serving two
    institutions (two campuses) that reverses under the wrong code would otherwise be told
    the reversal succeeded while the settlement stays in effect — and settle the patient
    again."""
    other = omsgid[:-18]
    if not other or other == code:
        return None
    return tx.settlement_by_msgid(other, omsgid)
