"""2201 registration, 2202 registration cancel, 2203/2203A visit information (fact sheet §3)."""

from __future__ import annotations

from mock_insurer.ledger import LedgerTx, Visit
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.identity import (
    Certificate,
    insurance_refusal,
    person_refusal,
    resolve,
)
from mock_insurer.wire.timefmt import format_datetime

__all__ = ["MED_TYPES", "handle_2201", "handle_2202", "handle_2203", "open_visit"]

# Outpatient medical types the mock settles (fact sheet §4.1, 门诊类 of Hebei's grouping).
MED_TYPES = ("11", "12", "13", "14", "15", "16", "19", "51", "53", "9901", "9903", "9906")


def open_visit(call: Call, tx: LedgerTx, mdtrt_id: str, psn_no: str | None,
               where: str) -> Visit | Refusal:
    """The visit, if it exists, is this institution's, is open and belongs to ``psn_no``."""
    visit = tx.visit(mdtrt_id)
    if visit is None:
        return refuse("visit_not_found", f"{where}.mdtrt_id", mdtrt_id=mdtrt_id)
    if visit.fixmedins_code != call.institution.fixmedins_code:
        return refuse("visit_other_institution", f"{where}.mdtrt_id", mdtrt_id=mdtrt_id)
    if psn_no is not None and visit.psn_no != psn_no:
        return refuse("visit_person_mismatch", f"{where}.psn_no", mdtrt_id=mdtrt_id,
                      psn_no=psn_no)
    if visit.status != "open":
        return refuse("visit_cancelled", f"{where}.mdtrt_id", mdtrt_id=mdtrt_id)
    return visit


def handle_2201(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    psn_no = r.text("psn_no", max_len=30)
    insutype = r.text("insutype", max_len=6)
    begun = r.datetime("begntime")
    cert_type = r.code("mdtrt_cert_type", ("01", "02", "03"))
    cert_no = r.text("mdtrt_cert_no", max_len=50)
    ipt_otp_no = r.text("ipt_otp_no", max_len=30)
    atddr_no = r.text("atddr_no", max_len=30)
    dr_name = r.text("dr_name", max_len=50)
    dept_code = r.text("dept_code", max_len=30)
    dept_name = r.text("dept_name", max_len=100)
    caty = r.text("caty", max_len=6)
    if r.problem:
        return r.problem
    found = resolve(call, tx, Certificate(cert_type, cert_no), where="data", check_card_sn=False)
    if isinstance(found, Refusal):
        return found
    if found.psn_no != psn_no:
        return refuse("psn_no_mismatch", "data.psn_no", psn_no=psn_no)
    problem = person_refusal(found, where="data", settle=True) or insurance_refusal(
        found, insutype, where="data")
    if problem:
        return problem
    # ipt_otp_no is 院内唯一流水 (fact sheet §3 2201): one open visit per number and institution
    # (a cancelled visit's number may be registered again)
    held = tx.lock_outpatient_number(call.institution.fixmedins_code, ipt_otp_no)
    if held is not None:
        return refuse("ipt_otp_no_in_use", "data.ipt_otp_no", ipt_otp_no=ipt_otp_no,
                      mdtrt_id=held)
    mdtrt_id = f"30{tx.next_seq('mdtrt_id'):010d}"
    tx.add_visit({
        "mdtrt_id": mdtrt_id, "psn_no": psn_no, "fixmedins_code": call.institution.fixmedins_code,
        "insutype": insutype, "ipt_otp_no": ipt_otp_no, "mdtrt_cert_type": cert_type,
        "mdtrt_cert_no": cert_no, "begntime": format_datetime(begun) if begun else "", "dept_code": dept_code,
        "dept_name": dept_name, "atddr_no": atddr_no, "dr_name": dr_name, "caty": caty,
        "med_type": None, "dise_codg": None, "diagnoses": [], "status": "open",
        "created_msgid": call.envelope.msgid, "biz_time": call.biz_time,
    })
    output = {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "ipt_otp_no": ipt_otp_no,
                       "exp_content": ""}}
    return Answered(output, effect_ref=mdtrt_id, psn_no=psn_no)


def handle_2202(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    psn_no = r.text("psn_no", max_len=30)
    mdtrt_id = r.text("mdtrt_id", max_len=30)
    ipt_otp_no = r.text("ipt_otp_no", max_len=30)
    if r.problem:
        return r.problem
    visit = open_visit(call, tx, mdtrt_id, psn_no, "data")
    if isinstance(visit, Refusal):
        return visit
    if ipt_otp_no.strip() != visit.ipt_otp_no.strip():  # the hospital's own number of the visit
        return refuse("ipt_otp_no_mismatch", "data.ipt_otp_no", given=ipt_otp_no[:30],
                      held=visit.ipt_otp_no, mdtrt_id=mdtrt_id)
    if tx.has_live_settlement(mdtrt_id):
        return refuse("visit_has_settlement", "data.mdtrt_id", mdtrt_id=mdtrt_id)
    unsettled = tx.fee_rows(mdtrt_id, statuses=("uploaded",))
    tx.set_fee_status([row.id for row in unsettled], "cancelled", None)
    tx.update_visit(mdtrt_id, status="cancelled")
    return Answered({}, effect_ref=mdtrt_id, psn_no=psn_no)


def handle_2203(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("mdtrtinfo")
    mdtrt_id = r.text("mdtrt_id", max_len=30)
    psn_no = r.text("psn_no", max_len=30)
    med_type = r.code("med_type", MED_TYPES)
    r.datetime("begntime")
    r.text("main_cond_dscr", max_len=1000, required=False)
    dise_codg = r.text("dise_codg", max_len=30, required=False)
    r.text("dise_name", max_len=500, required=False)
    diagnoses: list[str] = []
    root, rows = call.rows("diseinfo")
    for d in rows:
        d.code("diag_type", ("1", "2", "3"))
        d.integer("diag_srt_no", digits=2)  # num 2 (fact sheet §3 2203)
        code = d.text("diag_code", max_len=20)
        d.text("diag_name", max_len=100)
        d.text("diag_dept", max_len=50)
        d.text("dise_dor_no", max_len=30)
        d.text("dise_dor_name", max_len=50)
        d.datetime("diag_time")
        valid = d.code("vali_flag", ("0", "1"))
        if valid == "1" and code:
            diagnoses.append(code)
    problem = r.problem or root.problem
    if problem:
        return problem
    if not diagnoses:
        return refuse("diagnosis_missing", "diseinfo")
    visit = open_visit(call, tx, mdtrt_id, psn_no, "mdtrtinfo")
    if isinstance(visit, Refusal):
        return visit
    tx.update_visit(mdtrt_id, med_type=med_type, dise_codg=dise_codg, diagnoses=diagnoses)
    return Answered({}, effect_ref=mdtrt_id, psn_no=psn_no)
