"""2204 fee detail upload and 2205 fee detail cancel (fact sheet §3).

2204 checks every row before writing any (one refused row refuses the message and nothing is
stored): open visit of the same person, ``feedetl_sn`` unique within the visit, one ``dise_codg``
per ``chrg_bchno``, a national code known to the catalogue and equal to the institution's filed
mapping, ``det_item_fee_sumamt`` = round(cnt × pric, 2), and the policy's line checks
(per-prescription quantity and days, cumulative over-supply, gender and age limits). An
indication limit that the visit's diagnoses do not meet is not a refusal: the row becomes full
self-pay, with the reason in ``memo``. A line-check refusal names the rule of the library that
3101/3102 warn with (``…（规则 R-QTY-001）``), the stable refusal code unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mock_insurer.ledger import LedgerTx, Visit
from mock_insurer.money import ZERO, round_money
from mock_insurer.policy import FeeLine, PersonFacts, RowSplit, check_line, split_row
from mock_insurer.policy.checks import supply_window_start
from mock_insurer.policy.rules import realtime_rule_for
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.person import age_on
from mock_insurer.transactions.settle import parameters_on
from mock_insurer.transactions.visits import open_visit
from mock_insurer.wire.timefmt import format_datetime

#: The largest amount a money field (16,2) holds: what a visit's unsettled details may add up
#: to, so that the 2206/2207 ``medfee_sumamt`` that settles them can be sent at all.
MAX_AMOUNT = Decimal("99999999999999.99")

__all__ = ["handle_2204", "handle_2205", "result_row"]


def result_row(split: RowSplit, record: Mapping[str, Any]) -> dict[str, Any]:
    """The 2204 ``result`` row for one split (fact sheet §3, 2204 output)."""
    return {
        "feedetl_sn": split.feedetl_sn,
        "det_item_fee_sumamt": split.det_item_fee_sumamt,
        "cnt": split.cnt,
        "pric": split.pric,
        "pric_uplmt_amt": split.pric_uplmt_amt,
        "selfpay_prop": split.selfpay_prop,
        "fulamt_ownpay_amt": split.fulamt_ownpay_amt,
        "overlmt_amt": split.overlmt_amt,
        "preselfpay_amt": split.preselfpay_amt,
        "inscp_scp_amt": split.inscp_scp_amt,
        "chrgitm_lv": split.chrgitm_lv,
        "med_chrgitm_type": split.med_chrgitm_type,
        "bas_medn_flag": record.get("bas_medn_flag", "0"),
        "hi_nego_drug_flag": record.get("hi_nego_drug_flag", "0"),
        "chld_medc_flag": record.get("chld_medc_flag", "0"),
        "list_sp_item_flag": record.get("list_sp_item_flag", "0"),
        "lmt_used_flag": split.lmt_used_flag,
        "drt_reim_flag": record.get("drt_reim_flag", "0"),
        "memo": split.memo,
    }


def handle_2204(call: Call, tx: LedgerTx) -> Outcome:
    root, readers = call.rows("feedetail")
    if root.problem:
        return root.problem
    if not readers:
        return refuse("no_fee_rows", "feedetail")
    visits: dict[str, Visit] = {}
    persons: dict[str, PersonFacts] = {}
    seen_sn: dict[str, set[str]] = {}
    unsettled: dict[str, Decimal] = {}  # per visit: the uploaded, unsettled details' total
    batch_disease: dict[tuple[str, str], str | None] = {}
    code_of_institution = call.institution.fixmedins_code
    today = call.now.date()
    params = parameters_on(call, today)
    if isinstance(params, Refusal):
        return params
    window_start = f"{supply_window_start(today, params).isoformat()} 00:00:00"
    pending_days: dict[tuple[str, str], Decimal] = {}
    stored: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, r in enumerate(readers):
        where = f"feedetail[{index}]"
        sn = r.text("feedetl_sn", max_len=30)
        mdtrt_id = r.text("mdtrt_id", max_len=30)
        psn_no = r.text("psn_no", max_len=30)
        bchno = r.text("chrg_bchno", max_len=30)
        dise = r.text("dise_codg", max_len=30, required=False)
        r.text("rxno", max_len=30, required=False)
        r.code("rx_circ_flag", ("0", "1"))
        occurred = r.datetime("fee_ocur_time")
        code = r.text("med_list_codg", max_len=50, required=False)
        hosp_code = r.text("medins_list_codg", max_len=150)
        det = r.money("det_item_fee_sumamt")
        cnt = r.qty("cnt")
        pric = r.price("pric")
        prd_days = r.decimal("prd_days", places=2, digits=4, required=False)
        dept_code = r.text("bilg_dept_codg", max_len=30)
        dept_name = r.text("bilg_dept_name", max_len=100)
        dr_code = r.text("bilg_dr_codg", max_len=30)
        dr_name = r.text("bilg_dr_name", max_len=50)
        appr = r.code("hosp_appr_flag", ("0", "1", "2"))
        if r.problem:
            return r.problem
        visit = visits.get(mdtrt_id)
        if visit is None:
            found = open_visit(call, tx, mdtrt_id, psn_no, where)
            if isinstance(found, Refusal):
                return found
            visit = visits[mdtrt_id] = found
            earlier = tx.fee_rows(mdtrt_id)
            seen_sn[mdtrt_id] = {row.feedetl_sn for row in earlier}
            unsettled[mdtrt_id] = sum((row.det_item_fee_sumamt for row in earlier
                                       if row.status == "uploaded"), ZERO)
            for row in earlier:
                batch_disease.setdefault((mdtrt_id, row.chrg_bchno), row.dise_codg)
        elif visit.psn_no != psn_no:
            return refuse("visit_person_mismatch", f"{where}.psn_no", mdtrt_id=mdtrt_id,
                          psn_no=psn_no)
        if sn in seen_sn[mdtrt_id]:
            return refuse("feedetl_sn_duplicate", f"{where}.feedetl_sn", feedetl_sn=sn)
        seen_sn[mdtrt_id].add(sn)
        key = (mdtrt_id, bchno)
        if key in batch_disease and (batch_disease[key] or None) != (dise or None):
            return refuse("batch_disease_mismatch", f"{where}.dise_codg", chrg_bchno=bchno)
        batch_disease[key] = dise
        item = call.reference.catalogue.get(code or "")
        if item is None:
            return refuse("item_not_mapped", f"{where}.med_list_codg", code=code or "(空)")
        filed = tx.filed_mappings(code_of_institution, [hosp_code])
        if hosp_code in filed and filed[hosp_code] != code:
            return refuse("item_mapping_mismatch", f"{where}.med_list_codg", hosp_code=hosp_code,
                          filed=filed[hosp_code] or "(未对照)", code=code)
        computed = round_money(cnt * pric)
        if det != computed:
            return refuse("det_amount_mismatch", f"{where}.det_item_fee_sumamt", given=det,
                          computed=computed)
        unsettled[mdtrt_id] += det
        if unsettled[mdtrt_id] > MAX_AMOUNT:
            return refuse("visit_total_too_large", f"{where}.det_item_fee_sumamt",
                          mdtrt_id=mdtrt_id, total=unsettled[mdtrt_id], limit=MAX_AMOUNT)
        facts = persons.get(psn_no)
        if facts is None:
            person = tx.person(psn_no)
            assert person is not None  # the visit was registered for this person
            facts = persons[psn_no] = PersonFacts(gend=person.gend,
                                                  age=age_on(person.brdy, today),
                                                  psn_no=psn_no)
        supply_key = (psn_no, code or "")
        supplied = pending_days.get(supply_key)
        if supplied is None:
            supplied = tx.supplied_days(psn_no, code or "", window_start)
        line = FeeLine(feedetl_sn=sn, med_list_codg=code or "", cnt=cnt, pric=pric,
                       prd_days=prd_days, hosp_appr_flag=appr)
        diagnoses = [*visit.diagnoses, *([dise] if dise else [])]
        check = check_line(line, item, facts, diagnoses, supplied, params)
        if check.refusal:
            rule = realtime_rule_for(check.refusal)
            return refuse(check.refusal, f"{where}.med_list_codg", detail=check.detail,
                          rule_id=rule.rule_id if rule else "未列入规则库")
        pending_days[supply_key] = supplied + (prd_days or ZERO)
        split = split_row(line, item, in_scope=check.in_scope, memo=check.memo)
        result = result_row(split, call.reference.catalogue_records[item.med_list_codg])
        results.append(result)
        stored.append({
            "mdtrt_id": mdtrt_id, "feedetl_sn": sn, "chrg_bchno": bchno, "psn_no": psn_no,
            "dise_codg": dise, "med_list_codg": code, "medins_list_codg": hosp_code,
            "cnt": cnt, "pric": pric, "prd_days": prd_days,
            "fee_ocur_time": format_datetime(occurred) if occurred else call.biz_time,
            "bilg_dept_codg": dept_code, "bilg_dept_name": dept_name, "bilg_dr_codg": dr_code,
            "bilg_dr_name": dr_name, "det_item_fee_sumamt": split.det_item_fee_sumamt,
            "fulamt_ownpay_amt": split.fulamt_ownpay_amt, "overlmt_amt": split.overlmt_amt,
            "preselfpay_amt": split.preselfpay_amt, "inscp_scp_amt": split.inscp_scp_amt,
            "result": result, "status": "uploaded", "setl_id": None,
            "upload_msgid": call.envelope.msgid, "biz_time": call.biz_time,
        })
    tx.add_fee_rows(stored)
    first = next(iter(visits.values()))
    return Answered({"result": results}, effect_ref=first.mdtrt_id, psn_no=first.psn_no)


def handle_2205(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    mdtrt_id = r.text("mdtrt_id", max_len=30)
    bchno = r.text("chrg_bchno", max_len=30)
    psn_no = r.text("psn_no", max_len=30)
    if r.problem:
        return r.problem
    visit = open_visit(call, tx, mdtrt_id, psn_no, "data")
    if isinstance(visit, Refusal):
        return visit
    if bchno == "0000":
        rows = tx.fee_rows(mdtrt_id, statuses=("uploaded",))
    else:
        rows = tx.fee_rows(mdtrt_id, chrg_bchno=bchno)
        if any(row.status == "settled" for row in rows):
            return refuse("details_settled", "data.chrg_bchno", chrg_bchno=bchno)
    tx.set_fee_status([row.id for row in rows], "cancelled", None)
    return Answered({}, effect_ref=mdtrt_id, psn_no=psn_no)
