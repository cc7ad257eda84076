"""How the reference HIS shows its records through the driver API: visits, charged lines,
bills, ledger rows. Money is rendered as text with two decimals (yuan); quantities as plain
decimal text; every value is JSON-ready."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from mock_insurer.money import ZERO, parse_decimal, render, round_money

__all__ = [
    "BILL_AMOUNTS",
    "amounts_of",
    "bill_json",
    "entry_json",
    "line_json",
    "money",
    "override_json",
    "payers_of",
    "visit_json",
    "warning_of",
    "with_payers",
]

BILL_AMOUNTS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay",
    "maf_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay",
    "hosp_part_amt", "balc",
)
"""The amounts of a settlement (2206/2207/2208 ``setlinfo``) a bill shows, in this order."""

_RESULT_AMOUNTS = ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")


def money(value: Any) -> Decimal:
    """An amount as the insurer sent it (number or text; null as 0), to the cent."""
    if value is None or value == "":
        return ZERO
    return round_money(parse_decimal(value))


def amounts_of(setlinfo: Mapping[str, Any]) -> dict[str, Decimal]:
    """The bill's amounts from a ``setlinfo`` (2207/2208) or a 5203 row (whose names differ:
    ``psn_pay``, ``cash_payamt``; the hospital's part is then what is left)."""
    info = dict(setlinfo)
    if "psn_part_amt" not in info and "psn_pay" in info:
        info["psn_part_amt"] = info["psn_pay"]
    if "psn_cash_pay" not in info and "cash_payamt" in info:
        info["psn_cash_pay"] = info["cash_payamt"]
    amounts = {key: money(info.get(key)) for key in BILL_AMOUNTS}
    if "hosp_part_amt" not in info:
        amounts["hosp_part_amt"] = (amounts["medfee_sumamt"] - amounts["fund_pay_sumamt"]
                                    - amounts["psn_part_amt"])
    return amounts


def with_payers(output: Mapping[str, Any]) -> dict[str, Any]:
    """A 2207/2208 answer's ``setlinfo`` with its ``setldetail`` rows kept beside it (so the
    bill and the HIS's ledger row can show what each payer paid)."""
    info = dict(output.get("setlinfo") or {})
    if isinstance(output.get("setldetail"), list):
        info["setldetail"] = list(output["setldetail"])
    return info


def payers_of(info: Mapping[str, Any]) -> list[dict[str, str]]:
    """What each payer paid, from the ``setldetail`` rows kept with a setlinfo (fact sheet §3:
    one row per fund, the personal account 310200 included): ``[{fund_pay_type, name,
    amount}]``, amounts as the insurer answered (negative on a refund slip)."""
    rows = info.get("setldetail")
    if not isinstance(rows, list):
        return []
    return [{"fund_pay_type": str(row.get("fund_pay_type") or ""),
             "name": str(row.get("fund_pay_type_name") or ""),
             "amount": render(money(row.get("fund_payamt")))}
            for row in rows if isinstance(row, Mapping)]


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def line_json(line: Mapping[str, Any]) -> dict[str, Any]:
    result = line.get("result") or {}
    shown: dict[str, Any] = {
        "line_no": line["line_no"], "feedetl_sn": line.get("feedetl_sn"),
        "code": line["code"], "name": line["name"],
        "national_code": line["national_code"], "qty": _plain(line["qty"]),
        "price": render(line["price"]), "amount": render(line["amount"]),
        "days": _plain(line["days"]), "status": line["status"],
        "chrgitm_lv": result.get("chrgitm_lv"), "selfpay_prop": _ratio(result),
    }
    for key in _RESULT_AMOUNTS:
        shown[key] = render(money(result[key])) if key in result else None
    shown["memo"] = result.get("memo") or ""
    return shown


def _ratio(result: Mapping[str, Any]) -> str | None:
    value = result.get("selfpay_prop")
    return None if value is None else format(parse_decimal(value), "f")


def warning_of(row: Mapping[str, Any], infno: str) -> dict[str, Any]:
    """A warning as the cashier sees it, from one 3101/3102 ``result`` row (fact sheet §3):
    ``rule_id``, ``rule_name``, ``sev_deg`` (1 severe — blocks —, 2 warning, 3 notice),
    ``message`` (``vola_cont``), ``lines`` (the HIS's ``feedetl_sn`` of the rows concerned,
    sent as ``rx_id``) and ``infno`` (which check answered it)."""
    try:
        sev = int(str(row.get("sev_deg") or "3"))
    except ValueError:
        sev = 3
    named = [str(d.get("rx_id")) for d in row.get("judge_result_detail_dtos") or []
             if isinstance(d, Mapping) and d.get("rx_id")]
    return {"rule_id": str(row.get("rule_id") or ""), "rule_name": str(row.get("rule_name") or ""),
            "sev_deg": sev, "message": str(row.get("vola_cont") or ""),
            "lines": list(dict.fromkeys(named)), "infno": infno}


def override_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"operation": row["operation"], "by": row["by"], "reason": row["reason"],
            "at": row["at"], "rule_ids": list(row["rule_ids"] or [])}


def visit_json(visit: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
               warnings: Sequence[Mapping[str, Any]] = (),
               overrides: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A visit with its lines, the warnings of its latest rule check and its overrides."""
    return {
        "visit_id": visit["visit_id"], "patient_id": str(visit["patient_id"]),
        "psn_no": visit["psn_no"], "mdtrt_id": visit["mdtrt_id"],
        "insutype": visit["insutype"], "med_type": visit["med_type"],
        "dept_code": visit["dept_code"], "doctor_code": visit["doctor_code"],
        "status": visit["status"], "setl_id": visit["setl_id"],
        "registered_at": visit["registered_at"],
        "diagnoses": list(visit["diagnoses"] or []),
        "lines": [line_json(line) for line in lines],
        "warnings": [dict(w) for w in warnings],
        "overrides": [override_json(row) for row in overrides],
    }


def bill_json(bill: Mapping[str, Any]) -> dict[str, Any]:
    return dict(bill["content"])


def entry_json(entry: Mapping[str, Any]) -> dict[str, Any]:
    shown = {key: entry[key] for key in (
        "setl_id", "mdtrt_id", "psn_no", "msgid", "infno", "visit_id", "refd_setl_flag",
        "orig_setl_id", "insutype", "clr_type", "clr_optins", "setl_time", "setl_date",
        "status", "note")}
    for key in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay",
                "hosp_part_amt"):
        shown[key] = None if entry[key] is None else render(entry[key])
    return shown
