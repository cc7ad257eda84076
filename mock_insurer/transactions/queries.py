"""5203 settlement query and 5206 year-to-date accumulators (fact sheet §3).

5203 is how a HIS that lost a 2207 answer learns what was committed. Our choice where the
specification is silent: ``setl_id`` may be empty when ``mdtrt_id`` is given — the HIS that lost
the answer does not know the ``setl_id`` — and then the visit's newest settlement row in effect
(a settlement or its cancellation) is answered. Rows a 2601 reversal appended, and the rows it
undid, are not in effect (as in 3201/3202): after a reversed settlement the visit has none
(refused ``settlement_not_found`` with :data:`NOT_SETTLED_TEXT`, which says that the *visit*
has no settlement); after a reversed cancellation, the original settlement again.
"""

from __future__ import annotations

from typing import Any

from mock_insurer.ledger import Institution, LedgerTx, Settlement
from mock_insurer.policy.home_schemes import pay_loc
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.identity import insured_place
from mock_insurer.transactions.reconcile import in_effect
from mock_insurer.wire.jsonio import loads, loads_text
from mock_insurer.wire.texts import PADDING

__all__ = ["NOT_SETTLED_TEXT", "handle_5203", "handle_5206", "institution_fields", "pool_area",
           "query_row"]

#: The ``settlement_not_found`` text of a 5203 asked by visit (``mdtrt_id``, no ``setl_id``)
#: that finds no settlement in effect: the visit was never settled, or its settlement was
#: reversed (2601). A HIS that lost a 2207 answer reads it as "nothing settled". (The code's
#: text in mock_insurer.refusals, "结算ID…不存在", names a settlement id the HIS did not give.)
NOT_SETTLED_TEXT = "就诊ID{mdtrt_id}的结算记录不存在（该就诊未结算，或结算已冲正）"

CUM_TYPE_CODES = {  # our counter names -> cum_type_code (accumulation kinds; our codes)
    "dedc_used": "C001",
    "hifp_paid": "C002",
    "hifob_paid": "C003",
    "hifmi_paid": "C004",
    "cvlserv_paid": "C005",
    "maf_paid": "C006",
    "hifmi_base_used": "C007",
}


def query_row(call: Call, tx: LedgerTx, s: Settlement) -> dict[str, Any]:
    """A settlement as 5203 names its fields (``psn_pay``/``cash_payamt`` instead of
    ``psn_part_amt``/``psn_cash_pay``). ``opter_id``/``opter_name`` are the operator who made
    the row (its message's envelope), not the one asking; ``invono`` is what the settlement's
    2207 sent (a cancellation row repeats its settlement's); ``dise_codg`` is the visit's (2203)
    or, failing that, the settled batch's (2204). The person's flags, employer and insured place
    come from the person's record; the institution's fields from its record
    (:func:`institution_fields`)."""
    info = dict(s.setlinfo)
    row: dict[str, Any] = {k: v for k, v in info.items()
                           if k not in ("psn_part_amt", "psn_cash_pay", "hosp_part_amt")}
    made = _request_of(tx, s)
    opter_id, opter_name = _operator(call, made)
    person = tx.person(s.psn_no)
    scheme = (person.scheme(s.insutype) if person else None) or {}
    psn_type = str(info.get("psn_type") or scheme.get("psn_type") or "")
    row.update(
        setl_id=s.setl_id, psn_pay=info.get("psn_part_amt"), cash_payamt=info.get("psn_cash_pay"),
        refd_setl_flag=s.refd_setl_flag, **institution_fields(call.institution),
        pay_loc=pay_loc(s.clr_optins, call.institution.admdvs), year=str(s.year),
        clr_type=s.clr_type, clr_way=s.clr_way,
        clr_optins=s.clr_optins, setl_time=s.setl_time, medins_setl_id=s.medins_setl_id,
        begndate=s.biz_date, enddate=s.biz_date, dise_codg=_dise_codg(tx, s), dise_name=None,
        invono=_invono(tx, s, made),
        opter_id=opter_id, opter_name=opter_name, opt_time=s.setl_time,
        flxempe_flag="1" if psn_type in _FLEXIBLE_EMPLOYMENT else "0",
        nwb_flag="1" if psn_type == _NEWBORN else "0",
        insu_optins=insured_place(person, s.insutype) if person else None,
        emp_name=scheme.get("emp_name") or None,
    )
    return row


_FLEXIBLE_EMPLOYMENT = frozenset({"1103", "1203"})  # psn_type 灵活就业人员 在职/退休 (fact sheet §4.1)
_NEWBORN = "1401"  # psn_type 新生儿 (fact sheet §4.1)
#: Direct-controlled municipalities (北京 天津 上海 重庆): one pool for the whole province-level
#: area, so the pool area is ``xx0000``; elsewhere the prefecture (``xxxx00``).
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
#: Lengths of the envelope's and 2207's texts that 5203 repeats (fact sheet §2.1, §3 2207):
#: tolerant mode reads longer ones, the center keeps this much (docs/wire.md).
_OPTER_LEN, _OPTER_NAME_LEN, _INVONO_LEN = 30, 50, 20


def pool_area(admdvs: str) -> str:
    """The pool area (统筹区, 6-digit admdvs) an institution in district ``admdvs`` belongs to:
    ``110105`` → ``110000`` (a municipality), ``320102`` → ``320100`` (a prefecture)."""
    if len(admdvs) != 6 or not admdvs.isdigit():
        return admdvs[:6]
    if admdvs[:2] in _MUNICIPALITIES:
        return admdvs[:2] + "0000"
    return admdvs[:4] + "00"


def institution_fields(institution: Institution) -> dict[str, str]:
    """5203's fields about the institution, from its record: code, name, ``hosp_lv`` (our tier:
    ``community``/``1``/``2``/``3``), ``fixmedins_poolarea`` (:func:`pool_area`), and
    ``lmtpric_hosp_lv`` / ``dedc_hosp_lv`` — the tier that sets its price caps and its
    deductible, which in our policy profiles is the same tier (docs/policy.md)."""
    return {"fixmedins_code": institution.fixmedins_code,
            "fixmedins_name": institution.fixmedins_name, "hosp_lv": institution.tier,
            "fixmedins_poolarea": pool_area(institution.admdvs),
            "lmtpric_hosp_lv": institution.tier, "dedc_hosp_lv": institution.tier}


def _request_of(tx: LedgerTx, s: Settlement) -> dict[str, Any] | None:
    """The envelope of the message that made settlement row *s* (its msgid is
    ``medins_setl_id``), ``None`` when that record is gone."""
    made = tx.keyed_message(s.fixmedins_code, s.medins_setl_id)
    if made is None:
        return None
    try:
        envelope = loads(bytes(made["request"]))
    except (ValueError, TypeError):
        return None
    return envelope if isinstance(envelope, dict) else None


def _operator(call: Call, made: dict[str, Any] | None) -> tuple[str, str]:
    """The operator (``opter``, ``opter_name``) of the message that made the row; the asking
    envelope's only when that record is gone. Kept within their lengths (30, 50)."""
    if made is not None and isinstance(made.get("opter"), str):
        opter, name = made["opter"], str(made.get("opter_name") or "")
    else:
        opter, name = call.envelope.opter, call.envelope.opter_name
    return opter.strip()[:_OPTER_LEN], name.strip()[:_OPTER_NAME_LEN]


def _invono(tx: LedgerTx, s: Settlement, made: dict[str, Any] | None) -> str | None:
    """The invoice number (``invono``) the settlement's 2207 sent; a cancellation row's is its
    settlement's. ``None`` when none was sent."""
    if s.refd_setl_flag != "0" and s.orig_setl_id:
        original = tx.settlement(s.orig_setl_id)
        if original is not None and original.refd_setl_flag == "0":
            return _invono(tx, original, _request_of(tx, original))
    if made is None:
        return None
    data = _data_of(made.get("input"))
    value = data.get("invono") if data is not None else None
    if not isinstance(value, str):
        return None
    text = value.strip(PADDING)
    return text[:_INVONO_LEN] if text and text not in ("null", "NULL", "Null") else None


def _data_of(value: Any) -> dict[str, Any] | None:
    """``input.data`` of a recorded request (``input`` may be a JSON text, ``data`` a
    one-element list: what tolerant mode read)."""
    if isinstance(value, str):
        try:
            value = loads_text(value)
        except ValueError:
            return None
    data = value.get("data") if isinstance(value, dict) else None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, str):
        try:
            data = loads_text(data)
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def _dise_codg(tx: LedgerTx, s: Settlement) -> str | None:
    """The disease code (病种编码) of the settlement: the visit's from 2203, else the one the
    settled batch's 2204 rows carry (one per ``chrg_bchno``)."""
    visit = tx.visit(s.mdtrt_id)
    if visit is not None and visit.dise_codg:
        return visit.dise_codg
    for fee in tx.fee_rows(s.mdtrt_id, statuses=("uploaded", "settled", "cancelled"),
                           chrg_bchno=s.chrg_bchno):
        if fee.dise_codg:
            return fee.dise_codg
    return None


def handle_5203(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    psn_no = r.text("psn_no", max_len=30)
    setl_id = r.text("setl_id", max_len=30, required=False)
    mdtrt_id = r.text("mdtrt_id", max_len=30, required=False)
    if r.problem:
        return r.problem
    code = call.institution.fixmedins_code
    if setl_id:
        s = tx.settlement(setl_id)
        if s is None or s.fixmedins_code != code or s.psn_no != psn_no:
            return refuse("settlement_not_found", "data.setl_id", setl_id=setl_id)
        return Answered({"setlinfo": query_row(call, tx, s), "setldetail": s.setldetail},
                        psn_no=psn_no)
    found = in_effect(tx, [s for s in tx.settlements_of_visit(mdtrt_id or "")
                           if s.fixmedins_code == code and s.psn_no == psn_no])
    if not found:
        text = NOT_SETTLED_TEXT.format(mdtrt_id=mdtrt_id)
        return Refusal("settlement_not_found", f"FSI-{text}[data.mdtrt_id]")
    newest = found[-1]
    return Answered({"setlinfo": query_row(call, tx, newest), "setldetail": newest.setldetail},
                    psn_no=psn_no)


def handle_5206(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    psn_no = r.text("psn_no", max_len=30)
    cum_ym = r.text("cum_ym", max_len=6, required=False) or call.now.strftime("%Y%m")
    if r.problem:
        return r.problem
    if len(cum_ym) != 6 or not cum_ym.isdigit():
        return refuse("cum_month_invalid", "data.cum_ym", value=cum_ym)
    if tx.person(psn_no) is None:
        return refuse("person_not_found", "data.psn_no", what="人员编号")
    year = int(cum_ym[:4])
    rows = [{"insutype": row["insutype"], "year": str(row["year"]), "cum_ym": cum_ym,
             "cum_type_code": CUM_TYPE_CODES.get(row["name"], row["name"]),
             "cum": row["value"]}
            for row in tx.all_cum(psn_no) if row["year"] == year]
    return Answered({"cuminfo": rows}, psn_no=psn_no)
