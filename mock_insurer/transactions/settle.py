"""2206 pre-settlement, 2207 settlement, 2208 settlement cancel (fact sheet §3, §4.2).

2206 computes and persists nothing. 2207 computes again and commits atomically: the settlement
row with its fund rows, the batch's details marked settled, the personal account debited and the
year-to-date counters moved — all in the gateway's one transaction together with the msgid
record. 2208 (and 2601 on a 2207) appends the negated settlement under a new ``setl_id``, puts
the details back to unsettled, credits the account and moves every counter back exactly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from mock_insurer.ledger import LedgerTx, Person, Settlement, Visit
from mock_insurer.ledger.enrolments import enrolments_of
from mock_insurer.money import ZERO
from mock_insurer.policy import (
    Decomposition,
    ParameterNotInForce,
    Parameters,
    PolicyError,
    Profile,
    RowSplit,
    SettlementFacts,
    YearToDate,
    decompose,
)
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.identity import (
    Certificate,
    insurance_refusal,
    insured_place,
    person_refusal,
    resolve,
)
from mock_insurer.transactions.person import age_on
from mock_insurer.transactions.visits import MED_TYPES, open_visit
from mock_insurer.wire.fields import Reader
from mock_insurer.wire.labels import label_of
from mock_insurer.wire.outcomes import FieldProblem

__all__ = ["MEDINS_SETL_ID_LEN", "handle_2206", "handle_2207", "handle_2208", "msgid_refusal",
           "redo_settlement", "undo_settlement"]

#: ``medins_setl_id`` is char 30 (fact sheet §3 2207) and is the sender's msgid.
MEDINS_SETL_ID_LEN = 30


def msgid_refusal(call: Call) -> Refusal | None:
    """Tolerant mode reads msgids up to 64 characters, but a settlement's msgid is its
    ``medins_setl_id`` (char 30) — answered, listed in 3202's result file, and the key 2601
    reverses by — so cutting it would change what it matches: 2206, 2207, 2208 and 2601 refuse
    a longer one (``msgid_too_long``). Strict mode never gets here (msgid is 30 characters)."""
    if len(call.envelope.msgid) > MEDINS_SETL_ID_LEN:
        return refuse("msgid_too_long", "msgid", length=len(call.envelope.msgid))
    return None

MONEY_KEYS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay",
    "maf_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay",
    "hosp_part_amt", "acct_mulaid_pay",
)
CHECKED_KEYS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
CLR_TYPE_OUTPATIENT = "11"
CLR_WAY_BY_ITEM = "01"


def parameters_on(call: Call, day: date, profile: Profile | None = None) -> Parameters | Refusal:
    """The parameters of ``profile`` (default: the treatment place's) in force on the business
    day, or why there are none."""
    try:
        return (profile or call.reference.profile).at(day)
    except ParameterNotInForce:
        return refuse("policy_not_in_force", "inf_time", day=day.isoformat())


def _retired(psn_type: str) -> bool:
    """Retired kinds of the psn_type code table (12xx 退休, 1300 离休; old 2-digit 12, 13)."""
    return psn_type.startswith("12") or psn_type in ("13", "1300")


def _split_of(row: Any) -> RowSplit:
    res = row.result
    return RowSplit(
        feedetl_sn=row.feedetl_sn, det_item_fee_sumamt=row.det_item_fee_sumamt, cnt=row.cnt,
        pric=row.pric, pric_uplmt_amt=Decimal(str(res["pric_uplmt_amt"])),
        selfpay_prop=Decimal(str(res["selfpay_prop"])),
        fulamt_ownpay_amt=row.fulamt_ownpay_amt, overlmt_amt=row.overlmt_amt,
        preselfpay_amt=row.preselfpay_amt, inscp_scp_amt=row.inscp_scp_amt,
        chrgitm_lv=str(res["chrgitm_lv"]), med_chrgitm_type=str(res["med_chrgitm_type"]),
        lmt_used_flag=str(res.get("lmt_used_flag", "0")), memo=str(res.get("memo", "")))


class _Priced:
    """A computed settlement of one batch, before anything is written."""

    def __init__(self, person: Person, visit: Visit, scheme: dict[str, Any], rows: list[Any],
                 decomposition: Decomposition, med_type: str, bchno: str, year: int) -> None:
        self.person, self.visit, self.scheme = person, visit, scheme
        self.rows, self.decomposition = rows, decomposition
        self.med_type, self.bchno, self.year = med_type, bchno, year


def _price(call: Call, tx: LedgerTx, r: Reader) -> _Priced | Refusal | FieldProblem:
    psn_no = r.text("psn_no", max_len=30)
    cert_type = r.code("mdtrt_cert_type", ("01", "02", "03"))
    cert_no = r.text("mdtrt_cert_no", max_len=50)
    med_type = r.code("med_type", MED_TYPES)
    medfee = r.money("medfee_sumamt")
    r.code("psn_setlway", ("01", "02", "0201", "0202"))
    mdtrt_id = r.text("mdtrt_id", max_len=30)
    bchno = r.text("chrg_bchno", max_len=30)
    acct_flag = r.code("acct_used_flag", ("0", "1"))
    insutype = r.text("insutype", max_len=6)
    if r.problem:
        return r.problem
    visit = open_visit(call, tx, mdtrt_id, psn_no, "data")
    if isinstance(visit, Refusal):
        return visit
    if insutype != visit.insutype:
        return refuse("insutype_mismatch", "data.insutype", insutype=insutype,
                      visit_insutype=visit.insutype)
    found = resolve(call, tx, Certificate(cert_type, cert_no), where="data", check_card_sn=False)
    if isinstance(found, Refusal):
        return found
    if found.psn_no != psn_no:
        return refuse("psn_no_mismatch", "data.psn_no", psn_no=psn_no)
    person = found
    problem = person_refusal(person, where="data", settle=True) or insurance_refusal(
        person, insutype, where="data")
    if problem:
        return problem
    statuses = ("uploaded",)
    rows = (tx.fee_rows(mdtrt_id, statuses=statuses) if bchno == "0000"
            else tx.fee_rows(mdtrt_id, statuses=statuses, chrg_bchno=bchno))
    if not rows:
        settled = (tx.fee_rows(mdtrt_id, statuses=("settled",)) if bchno == "0000"
                   else tx.fee_rows(mdtrt_id, statuses=("settled",), chrg_bchno=bchno))
        if settled:  # the other window won, or an answer was lost: never ask to upload again
            return refuse("details_already_settled", "data.chrg_bchno", chrg_bchno=bchno,
                          setl_id=settled[-1].setl_id or "")
        return refuse("no_unsettled_details", "data.chrg_bchno", chrg_bchno=bchno)
    total = sum((row.det_item_fee_sumamt for row in rows), ZERO)
    if medfee != total:
        return refuse("medfee_mismatch", "data.medfee_sumamt", given=medfee, computed=total)
    scheme = person.scheme(insutype) or {}
    day: date = call.now.date()
    home = call.reference.benefits_profile(insured_place(person, insutype),
                                           call.institution.admdvs)  # 异地: the home scheme's
    params = parameters_on(call, day, home)
    if isinstance(params, Refusal):
        return params
    if not params.covers(insutype):
        return refuse("scheme_not_covered", "data.insutype", insutype=insutype)
    balc = tx.lock_person(psn_no)
    ytd = YearToDate.from_mapping(tx.ytd(psn_no, day.year, insutype))
    facts = SettlementFacts(
        setl_date=day, insutype=insutype, psn_type=str(scheme.get("psn_type", "")),
        retired=_retired(str(scheme.get("psn_type", ""))),
        cvlserv_flag=str(scheme.get("cvlserv_flag") or "0"), maf_eligible=person.maf_eligible,
        tier=call.institution.tier, med_type=med_type, acct_used_flag=acct_flag == "1",
        balc=balc, registration_payment_due=not tx.has_live_settlement(mdtrt_id), ytd=ytd,
        enrolments=enrolments_of(tx, psn_no))
    try:
        decomposition = decompose([_split_of(row) for row in rows], facts, params)
    except ParameterNotInForce:  # a parameter these rates need starts later
        return refuse("policy_not_in_force", "inf_time", day=day.isoformat())
    except PolicyError as exc:  # a profile that cannot price this settlement: never a 500
        return refuse("policy_misconfigured", "data", detail=str(exc))
    return _Priced(person, visit, scheme, rows, decomposition, med_type, bchno, day.year)


def _setlinfo(call: Call, priced: _Priced, *, setl_id: str | None, setl_time: str | None,
              medins_setl_id: str, clr: bool) -> dict[str, Any]:
    person, d = priced.person, priced.decomposition
    info: dict[str, Any] = {
        "mdtrt_id": priced.visit.mdtrt_id, "setl_id": setl_id, "psn_no": person.psn_no,
        "psn_name": person.psn_name, "psn_cert_type": person.psn_cert_type,
        "certno": person.certno, "gend": person.gend, "naty": person.naty,
        "brdy": person.brdy, "age": age_on(person.brdy, call.now.date()),
        "insutype": priced.visit.insutype, "psn_type": priced.scheme.get("psn_type", ""),
        "cvlserv_flag": priced.scheme.get("cvlserv_flag") or "0", "setl_time": setl_time,
        "mdtrt_cert_type": priced.visit.mdtrt_cert_type, "med_type": priced.med_type,
    }
    for key in MONEY_KEYS:
        info[key] = getattr(d, key)
    info["pool_prop_selfpay"] = d.pool_prop_selfpay
    info["balc"] = d.balc
    info["medins_setl_id"] = medins_setl_id
    info["clr_optins"] = insured_place(person, priced.visit.insutype) if clr else None
    info["clr_way"] = CLR_WAY_BY_ITEM if clr else None
    info["clr_type"] = CLR_TYPE_OUTPATIENT
    return info


def _setldetail(d: Decomposition) -> list[dict[str, Any]]:
    return [{"fund_pay_type": f.fund_pay_type, "inscp_scp_amt": f.inscp_scp_amt,
             "crt_payb_lmt_amt": f.crt_payb_lmt_amt, "fund_payamt": f.fund_payamt,
             "fund_pay_type_name": f.fund_pay_type_name, "setl_proc_info": f.setl_proc_info}
            for f in d.fund_rows]


def handle_2206(call: Call, tx: LedgerTx) -> Outcome:
    if (too_long := msgid_refusal(call)) is not None:
        return too_long
    priced = _price(call, tx, call.node("data"))
    if isinstance(priced, (Refusal, FieldProblem)):
        return priced
    info = _setlinfo(call, priced, setl_id=None, setl_time=None,
                     medins_setl_id=call.envelope.msgid, clr=False)
    return Answered({"setlinfo": info, "setldetail": _setldetail(priced.decomposition)},
                    psn_no=priced.person.psn_no)


def handle_2207(call: Call, tx: LedgerTx) -> Outcome:
    if (too_long := msgid_refusal(call)) is not None:
        return too_long
    r = call.node("data")
    r.text("invono", max_len=20, required=False)
    sent = {key: r.money(key, required=False) for key in CHECKED_KEYS}
    priced = _price(call, tx, r)
    if isinstance(priced, (Refusal, FieldProblem)):
        return priced
    d = priced.decomposition
    warnings = []
    for key, given in sent.items():
        computed = getattr(d, key)
        if given is not None and given != computed:
            if call.settings.amounts_check == "refuse":
                return refuse("amounts_mismatch", f"data.{key}", field=f"{label_of(key)}({key})",
                              given=given, computed=computed)
            warnings.append(f"{key} {given}≠{computed}")
    setl_id = f"40{tx.next_seq('setl_id'):010d}"
    psn_no = priced.person.psn_no
    info = _setlinfo(call, priced, setl_id=setl_id, setl_time=call.biz_time,
                     medins_setl_id=call.envelope.msgid, clr=True)
    detail = _setldetail(d)
    if d.acct_pay:
        tx.move_account(psn_no, -d.acct_pay, setl_id, call.biz_time)
    tx.move_cum(psn_no, priced.year, priced.visit.insutype, d.counter_deltas, setl_id)
    tx.set_fee_status([row.id for row in priced.rows], "settled", setl_id)
    tx.add_settlement({
        "setl_id": setl_id, "mdtrt_id": priced.visit.mdtrt_id, "psn_no": psn_no,
        "fixmedins_code": call.institution.fixmedins_code, "insutype": priced.visit.insutype,
        "med_type": priced.med_type, "chrg_bchno": priced.bchno,
        "clr_type": info["clr_type"], "clr_way": info["clr_way"],
        "clr_optins": info["clr_optins"], "setl_time": call.biz_time,
        "biz_date": call.biz_date, "year": priced.year, "refd_setl_flag": "0",
        "orig_setl_id": None, "cancelled_by": None, "medins_setl_id": call.envelope.msgid,
        "made_by_infno": "2207", "medfee_sumamt": d.medfee_sumamt,
        "fund_pay_sumamt": d.fund_pay_sumamt, "acct_pay": d.acct_pay,
        "psn_cash_pay": d.psn_cash_pay, "hosp_part_amt": d.hosp_part_amt, "setlinfo": info,
        "setldetail": detail, "counter_deltas": dict(d.counter_deltas),
    })
    warn = ("FSI-结算金额与预结算不一致，已按医保中心计算结果结算：" + "；".join(warnings)
            if warnings else "")
    return Answered({"setlinfo": info, "setldetail": detail}, warn_msg=warn,
                    effect_ref=setl_id, psn_no=psn_no)


def _negate(value: Any) -> Any:
    return -value if isinstance(value, Decimal) else value


AMOUNT_COLUMNS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay", "hosp_part_amt")


def _append_row(call: Call, tx: LedgerTx, base: Settlement, *, new_id: str, sign: int,
                refd_setl_flag: str, orig_setl_id: str, msgid: str, infno: str,
                setlinfo: dict[str, Any], setldetail: list[dict[str, Any]],
                deltas: dict[str, Decimal]) -> Settlement:
    """Append a row that repeats ``base`` with its amounts times ``sign`` (a cancellation, or
    the reversal of one), made now by ``msgid``."""
    values: dict[str, Any] = {
        "setl_id": new_id, "mdtrt_id": base.mdtrt_id, "psn_no": base.psn_no,
        "fixmedins_code": base.fixmedins_code, "insutype": base.insutype,
        "med_type": base.med_type, "chrg_bchno": base.chrg_bchno, "clr_type": base.clr_type,
        "clr_way": base.clr_way, "clr_optins": base.clr_optins, "setl_time": call.biz_time,
        "biz_date": call.biz_date, "year": base.year, "refd_setl_flag": refd_setl_flag,
        "orig_setl_id": orig_setl_id, "cancelled_by": None, "medins_setl_id": msgid,
        "made_by_infno": infno, "setlinfo": setlinfo, "setldetail": setldetail,
        "counter_deltas": deltas,
    }
    values.update({column: sign * getattr(base, column) for column in AMOUNT_COLUMNS})
    tx.add_settlement(values)
    made = tx.settlement(new_id)
    assert made is not None
    return made


def undo_settlement(call: Call, tx: LedgerTx, original: Settlement, *, infno: str,
                    msgid: str) -> Settlement:
    """Append the negated copy of ``original`` (2208, or 2601 on a 2207) and undo its effects:
    account credited, counters moved back, details unsettled. Returns the new row."""
    new_id = f"40{tx.next_seq('setl_id'):010d}"
    balc_before = tx.lock_person(original.psn_no)
    balc_after = (tx.move_account(original.psn_no, original.acct_pay, new_id, call.biz_time)
                  if original.acct_pay else balc_before)
    negated = {k: -v for k, v in original.counter_deltas.items()}
    tx.move_cum(original.psn_no, original.year, original.insutype, negated, new_id)
    rows = [row for row in tx.fee_rows(original.mdtrt_id, statuses=("settled",))
            if row.setl_id == original.setl_id]
    # the rows go back to "uploaded" and keep the setl_id that last settled them, so that a
    # reversal of this cancellation settles exactly these rows again (redo_settlement)
    tx.set_fee_status([row.id for row in rows], "uploaded", original.setl_id)
    info = {k: _negate(v) for k, v in original.setlinfo.items()}
    info.update(setl_id=new_id, setl_time=call.biz_time, balc=balc_after, medins_setl_id=msgid,
                pool_prop_selfpay=original.setlinfo.get("pool_prop_selfpay"))
    detail = [{k: _negate(v) for k, v in row.items()} for row in original.setldetail]
    made = _append_row(call, tx, original, new_id=new_id, sign=-1, refd_setl_flag="1",
                       orig_setl_id=original.setl_id, msgid=msgid, infno=infno, setlinfo=info,
                       setldetail=detail, deltas=negated)
    tx.mark_cancelled(original.setl_id, new_id)
    return made


def redo_settlement(call: Call, tx: LedgerTx, cancel_row: Settlement, *,
                    msgid: str) -> Settlement | Refusal:
    """2601 on a 2208: the cancelled settlement takes effect again (account debited again,
    counters re-applied, details settled again) by appending the negation of the cancel row.
    The original is live again (a later 2208 names it); the appended row is bookkeeping that
    2208 refuses, so one settlement is never refunded twice."""
    original = tx.settlement(cancel_row.orig_setl_id or "")
    assert original is not None
    balc = tx.lock_person(original.psn_no)
    rows = [row for row in tx.fee_rows(original.mdtrt_id, statuses=("uploaded",))
            if row.setl_id == original.setl_id]
    if not rows or sum((row.det_item_fee_sumamt for row in rows), ZERO) != original.medfee_sumamt:
        # since the cancellation its rows were settled again or cancelled (2205/2202)
        return refuse("reversal_rows_changed", "data.omsgid", omsgid=cancel_row.medins_setl_id,
                      setl_id=original.setl_id)
    if original.acct_pay > balc:
        return refuse("reversal_account_spent", "data.omsgid", omsgid=cancel_row.medins_setl_id,
                      acct_pay=original.acct_pay, balc=balc)
    new_id = f"40{tx.next_seq('setl_id'):010d}"
    balc_after = (tx.move_account(original.psn_no, -original.acct_pay, new_id, call.biz_time)
                  if original.acct_pay else balc)
    tx.move_cum(original.psn_no, original.year, original.insutype, original.counter_deltas,
                new_id)
    tx.set_fee_status([row.id for row in rows], "settled", original.setl_id)
    info = {k: _negate(v) for k, v in cancel_row.setlinfo.items()}
    info.update(setl_id=new_id, setl_time=call.biz_time, balc=balc_after, medins_setl_id=msgid,
                pool_prop_selfpay=cancel_row.setlinfo.get("pool_prop_selfpay"))
    made = _append_row(call, tx, original, new_id=new_id, sign=1, refd_setl_flag="0",
                       orig_setl_id=cancel_row.setl_id, msgid=msgid, infno="2601",
                       setlinfo=info, setldetail=original.setldetail,
                       deltas=dict(original.counter_deltas))
    tx.mark_cancelled(cancel_row.setl_id, new_id)
    tx.mark_cancelled(original.setl_id, None)
    return made


def handle_2208(call: Call, tx: LedgerTx) -> Outcome:
    if (too_long := msgid_refusal(call)) is not None:
        return too_long
    r = call.node("data")
    setl_id = r.text("setl_id", max_len=30)
    mdtrt_id = r.text("mdtrt_id", max_len=30)
    psn_no = r.text("psn_no", max_len=30)
    if r.problem:
        return r.problem
    original = tx.settlement(setl_id)
    if original is None:
        return refuse("settlement_not_found", "data.setl_id", setl_id=setl_id)
    if original.fixmedins_code != call.institution.fixmedins_code:
        return refuse("settlement_other_institution", "data.setl_id", setl_id=setl_id)
    if original.mdtrt_id != mdtrt_id or original.psn_no != psn_no:
        return refuse("settlement_mismatch", "data.setl_id", setl_id=setl_id)
    if original.refd_setl_flag != "0":
        return refuse("settlement_is_cancellation", "data.setl_id", setl_id=setl_id)
    if original.made_by_infno == "2601":  # redo_settlement's row: the original is live again
        cancel_row = tx.settlement(original.orig_setl_id or "")
        return refuse("settlement_is_reversal_row", "data.setl_id", setl_id=setl_id,
                      orig_setl_id=(cancel_row.orig_setl_id if cancel_row else None) or "")
    if original.cancelled_by is not None:
        return refuse("settlement_cancelled", "data.setl_id", setl_id=setl_id)
    made = undo_settlement(call, tx, original, infno="2208", msgid=call.envelope.msgid)
    return Answered({"setlinfo": made.setlinfo, "setldetail": made.setldetail},
                    effect_ref=made.setl_id, psn_no=psn_no)
