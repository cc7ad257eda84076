"""The insurer's answers as the reference HIS reads them: the content of each success
(``infcode`` 0) checked once, where it arrives, before any of it is used, shown or stored.

The SDK checks the envelope (JSON, ``infcode``, ``output`` an object); this module checks what
the HIS takes from ``output`` — types, required fields, amounts (yuan, at most two places,
within :data:`~mock_insurer.money.MAX_MONEY`), times (``yyyy-MM-dd HH:mm:ss``) — following the
transactions' JSON Schemas (``mock_insurer/schemas/<infno>.output.json``), and no further than
the HIS needs: a field it does not use is not judged.

An answer whose content cannot be used is an :class:`AnswerUnusable`: a
:class:`~mock_insurer.client.MalformedAnswer` (effect unknown — the insurer said it did
something, the HIS cannot tell what), so every caller handles it as it handles a lost answer:
a settlement is queried (5203) or reversed (2601), a registration is resolved or cancelled, a
visit whose upload cannot be read is closed at the insurer.
:func:`simulator.his.desk.refusal_of` words it for
the cashier (``insurer_answer_unusable``, naming the field).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from mock_insurer.client import Answer, MalformedAnswer
from mock_insurer.client.bounded import cap_text
from mock_insurer.money import MAX_MONEY, MoneyParseError, parse_decimal, round_money
from simulator.his.operations import Refusal, json_type
from simulator.his.views import BILL_AMOUNTS

__all__ = [
    "AnswerUnusable",
    "fee_results",
    "file_query_no",
    "person",
    "registration",
    "result_file_info",
    "rule_results",
    "settlement",
    "settlement_row",
    "statement",
    "unusable",
    "unusable_refusal",
]

SETTLEMENT_AMOUNTS = (
    *BILL_AMOUNTS, "acct_mulaid_pay", "pool_prop_selfpay",
    # a 5203 row's names for the person's part and cash
    "psn_pay", "cash_payamt")
"""Amounts of a ``setlinfo`` (2206/2207/2208, a 5203 row), yuan; each checked when present."""

REQUIRED_AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
"""Amounts a settlement answer must carry (with the cash the patient pays: ``psn_cash_pay``,
``cash_payamt`` in 5203): the bill and the ledger row are made of them."""

SETTLEMENT_TEXTS = {"setl_id": 30, "mdtrt_id": 30, "psn_no": 30, "medins_setl_id": 30,
                    "insutype": 6, "clr_type": 6, "clr_optins": 6, "refd_setl_flag": 3,
                    "psn_name": 50, "certno": 50}
"""Texts of a ``setlinfo`` the HIS uses or shows, with their longest length (schemas)."""

FEE_AMOUNTS = ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt",
               "det_item_fee_sumamt", "pric_uplmt_amt")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_SCALARS = (str, int, Decimal, type(None))
_RATIO_PLACES = Decimal("0.00000001")


class AnswerUnusable(MalformedAnswer):
    """An ``infcode`` 0 answer whose content the HIS cannot use: ``field`` is its path
    (``output.setlinfo.medfee_sumamt``), ``why`` what is wrong with it. Effect unknown (the
    insurer reported success): handled as a lost answer."""

    def __init__(self, answer: Answer, field: str, why: str) -> None:
        super().__init__(f"{answer.infno} {answer.msgid}: the answer cannot be used: {field} "
                         f"{why}", msgid=answer.msgid, infno=answer.infno, body=b"",
                         request={})
        self.field = field
        self.why = why


def unusable_refusal(error: AnswerUnusable) -> Refusal:
    """What the cashier sees for an answer that cannot be used: ``insurer_answer_unusable``,
    naming the field and what is wrong with it."""
    return Refusal("insurer_answer_unusable",
                   f"医保中心{error.infno}应答内容无法使用({error.field} {error.why}) / the "
                   f"insurer's {error.infno} answer cannot be used: {error.field} {error.why}",
                   "his", error.infno, error.msgid)


# -- the checks ------------------------------------------------------------------------------
def _shown(value: Any) -> str:
    return cap_text(repr(value), 40)


def _node(answer: Answer, value: Any, path: str, *, required: bool = True
          ) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise AnswerUnusable(answer, path, "is missing" if value is None else
                             f"must be an object, got {json_type(value)}")
    return value


def _rows(answer: Answer, value: Any, path: str) -> list[Mapping[str, Any]]:
    """A list of objects (null or absent: none)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnswerUnusable(answer, path, f"must be an array, got {json_type(value)}")
    return [_node(answer, row, f"{path}[{n}]") for n, row in enumerate(value)]


def _text(answer: Answer, node: Mapping[str, Any], name: str, path: str, *,
          max_len: int, required: bool = False) -> str | None:
    """A text (a whole number is taken as its digits); ``None`` when absent or null."""
    value = node.get(name)
    where = f"{path}.{name}"
    if value is None or value == "":
        if required:
            raise AnswerUnusable(answer, where, "is missing")
        return None if value is None else ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise AnswerUnusable(answer, where, f"must be text, got {json_type(value)} "
                                            f"{_shown(value)}")
    if len(value) > max_len:
        raise AnswerUnusable(answer, where, f"is longer than {max_len} characters "
                                            f"({len(value)})")
    return value


def yuan(value: Any) -> Decimal:
    """Yuan as the other side wrote it (a number or numeric text): at most two places, within
    ±MAX_MONEY; else :class:`ValueError` saying why (the insurer's answers and its portal's)."""
    try:
        amount = parse_decimal(value)
    except MoneyParseError:
        raise ValueError(f"is not an amount: {_shown(value)}") from None
    if abs(amount) > MAX_MONEY or amount != round_money(amount):
        raise ValueError(f"is not an amount in yuan (two places, at most {MAX_MONEY}): "
                         f"{_shown(value)}")
    return amount


def _amount(answer: Answer, node: Mapping[str, Any], name: str, path: str, *,
            required: bool = False) -> Decimal | None:
    """Yuan: a number or numeric text, at most two places, within ±MAX_MONEY."""
    value = node.get(name)
    where = f"{path}.{name}"
    if value is None or value == "":
        if required:
            raise AnswerUnusable(answer, where, "is missing")
        return None
    try:
        return yuan(value)
    except ValueError as problem:
        raise AnswerUnusable(answer, where, str(problem)) from None


def _ratio(answer: Answer, node: Mapping[str, Any], name: str, path: str) -> Decimal | None:
    value = node.get(name)
    if value is None or value == "":
        return None
    try:
        ratio = parse_decimal(value)
    except MoneyParseError:
        ratio = Decimal(-1)
    if not 0 <= ratio <= 1 or ratio != ratio.quantize(_RATIO_PLACES):
        raise AnswerUnusable(answer, f"{path}.{name}", f"is not a ratio from 0 to 1: "
                                                      f"{_shown(value)}")
    return ratio


def _time(answer: Answer, node: Mapping[str, Any], name: str, path: str) -> str | None:
    """``yyyy-MM-dd HH:mm:ss`` (a real time), or ``None`` when absent or null."""
    value = node.get(name)
    if value is None or value == "":
        return None
    where = f"{path}.{name}"
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise AnswerUnusable(answer, where, f"must be a time yyyy-MM-dd HH:mm:ss, got "
                                            f"{json_type(value)} {_shown(value)}")
    try:
        datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 (a China-time text)
    except ValueError:
        raise AnswerUnusable(answer, where, f"is not a real time: {_shown(value)}") from None
    return value


def _scalars(node: Mapping[str, Any]) -> dict[str, Any]:
    """The plain values of *node* (texts, numbers, nulls): what is kept of fields the HIS
    does not use — never a nested structure it has not checked."""
    return {str(k): v for k, v in node.items()
            if isinstance(v, _SCALARS) and not isinstance(v, bool)}


# -- per transaction -------------------------------------------------------------------------
def person(answer: Answer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """1101: ``baseinfo`` (``psn_no`` required) and the ``insuinfo`` rows (``balc`` an
    amount, ``insutype`` and ``insuplc_admdvs`` texts), as the HIS keeps them."""
    output = answer.output
    base = _node(answer, output.get("baseinfo"), "output.baseinfo")
    kept = _scalars(base)
    kept["psn_no"] = _text(answer, base, "psn_no", "output.baseinfo", max_len=30,
                           required=True)
    for name, longest in (("psn_name", 50), ("certno", 50), ("psn_cert_type", 6),
                          ("gend", 6), ("brdy", 10), ("naty", 3)):
        kept[name] = _text(answer, base, name, "output.baseinfo", max_len=longest)
    age = base.get("age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, (int, Decimal, str))
                            or len(str(age)) > 6):
        raise AnswerUnusable(answer, "output.baseinfo.age", f"is not an age: {_shown(age)}")
    insuinfo = []
    for n, row in enumerate(_rows(answer, output.get("insuinfo"), "output.insuinfo")):
        path = f"output.insuinfo[{n}]"
        clean = _scalars(row)
        clean["insutype"] = _text(answer, row, "insutype", path, max_len=6)
        clean["insuplc_admdvs"] = _text(answer, row, "insuplc_admdvs", path, max_len=6)
        clean["balc"] = _amount(answer, row, "balc", path)
        insuinfo.append(clean)
    return kept, insuinfo


def registration(answer: Answer) -> str:
    """2201: the visit's ``mdtrt_id``."""
    data = _node(answer, answer.output.get("data"), "output.data")
    mdtrt_id = _text(answer, data, "mdtrt_id", "output.data", max_len=30, required=True)
    assert mdtrt_id is not None
    return mdtrt_id


def fee_results(answer: Answer) -> dict[str, dict[str, Any]]:
    """2204: each uploaded detail's result by ``feedetl_sn`` — its amounts, ``selfpay_prop``,
    ``chrgitm_lv`` and ``memo``, checked (only these are kept)."""
    results: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(_rows(answer, answer.output.get("result"), "output.result")):
        path = f"output.result[{n}]"
        sn = _text(answer, row, "feedetl_sn", path, max_len=30, required=True)
        assert sn is not None
        clean: dict[str, Any] = {"feedetl_sn": sn}
        for name in FEE_AMOUNTS:
            if row.get(name) is not None:
                clean[name] = _amount(answer, row, name, path)
        if row.get("selfpay_prop") is not None:
            clean["selfpay_prop"] = _ratio(answer, row, "selfpay_prop", path)
        for name, longest in (("chrgitm_lv", 6), ("med_chrgitm_type", 6), ("memo", 500)):
            if row.get(name) is not None:
                clean[name] = _text(answer, row, name, path, max_len=longest)
        results[sn] = clean
    return results


def rule_results(answer: Answer) -> list[Mapping[str, Any]]:
    """3101/3102: the warnings (``result`` rows), each with its ``judge_result_detail_dtos``
    (the lines concerned) a list of objects; texts checked by
    :func:`simulator.his.views.warning_of` as it shows them."""
    rows = _rows(answer, answer.output.get("result"), "output.result")
    for n, row in enumerate(rows):
        path = f"output.result[{n}]"
        _text(answer, row, "rule_id", path, max_len=30)
        _text(answer, row, "sev_deg", path, max_len=3)
        for k, detail in enumerate(_rows(answer, row.get("judge_result_detail_dtos"),
                                         f"{path}.judge_result_detail_dtos")):
            _text(answer, detail, "rx_id", f"{path}.judge_result_detail_dtos[{k}]", max_len=30)
    return rows


def _setlinfo(answer: Answer, info: Mapping[str, Any], path: str, *,
              require_id: bool) -> dict[str, Any]:
    clean = _scalars(info)
    for name in SETTLEMENT_AMOUNTS:
        clean[name] = _amount(answer, info, name, path,
                              required=name in REQUIRED_AMOUNTS)
        if clean[name] is None:
            del clean[name]
    if "psn_cash_pay" not in clean and "cash_payamt" not in clean:
        raise AnswerUnusable(answer, f"{path}.psn_cash_pay", "is missing")
    for name, longest in SETTLEMENT_TEXTS.items():
        clean[name] = _text(answer, info, name, path, max_len=longest,
                            required=require_id and name == "setl_id")
    clean["setl_time"] = _time(answer, info, "setl_time", path)
    return clean


def _payers(answer: Answer, value: Any, path: str) -> list[dict[str, Any]]:
    payers = []
    for n, row in enumerate(_rows(answer, value, path)):
        where = f"{path}[{n}]"
        payers.append({
            "fund_pay_type": _text(answer, row, "fund_pay_type", where, max_len=6),
            "fund_pay_type_name": _text(answer, row, "fund_pay_type_name", where, max_len=200),
            "fund_payamt": _amount(answer, row, "fund_payamt", where),
            "inscp_scp_amt": _amount(answer, row, "inscp_scp_amt", where)})
    return payers


def settlement(answer: Answer) -> dict[str, Any]:
    """2206, 2207 or 2208: the ``setlinfo`` checked (its amounts, ``setl_id`` — required but
    for 2206 —, ``setl_time``), with its ``setldetail`` rows kept beside it (the payers)."""
    info = _setlinfo(answer, _node(answer, answer.output.get("setlinfo"), "output.setlinfo"),
                     "output.setlinfo", require_id=answer.infno != "2206")
    detail = answer.output.get("setldetail")
    if detail is not None:
        info["setldetail"] = _payers(answer, detail, "output.setldetail")
    return info


def settlement_row(answer: Answer) -> dict[str, Any] | None:
    """5203: the visit's newest settlement row (``setlinfo``, an object or a list of them),
    checked, with the payers; ``None`` when the answer holds none."""
    rows = answer.output.get("setlinfo")
    path = "output.setlinfo"
    if isinstance(rows, list):
        if not rows:
            return None
        path = f"{path}[{len(rows) - 1}]"
        rows = rows[-1]
    if rows is None:
        return None
    row = _setlinfo(answer, _node(answer, rows, path), path, require_id=True)
    detail = answer.output.get("setldetail")
    if detail is not None:
        row["setldetail"] = _payers(answer, detail, "output.setldetail")
    return row


def statement(answer: Answer) -> tuple[str, str]:
    """3201: ``stmt_rslt`` (``"0"`` balanced) and its description."""
    info = _node(answer, answer.output.get("stmtinfo"), "output.stmtinfo")
    result = _text(answer, info, "stmt_rslt", "output.stmtinfo", max_len=6, required=True)
    text = info.get("stmt_rslt_dscr")
    if text is not None and not isinstance(text, str):
        raise AnswerUnusable(answer, "output.stmtinfo.stmt_rslt_dscr",
                             f"must be text, got {json_type(text)}")
    return str(result), cap_text(text or "")


def file_query_no(answer: Answer) -> str:
    """9101: the uploaded file's ``file_qury_no``."""
    found = _text(answer, answer.output, "file_qury_no", "output", max_len=40, required=True)
    assert found is not None
    return found


def result_file_info(answer: Answer) -> tuple[str, str]:
    """3202: the result file's ``file_qury_no`` and ``filename``."""
    info = _node(answer, answer.output.get("fileinfo"), "output.fileinfo")
    number = _text(answer, info, "file_qury_no", "output.fileinfo", max_len=40, required=True)
    name = _text(answer, info, "filename", "output.fileinfo", max_len=200)
    return str(number), name or ""


READERS: Mapping[str, Callable[[Answer], object]] = {
    "1101": person, "2201": registration, "2204": fee_results, "3101": rule_results,
    "3102": rule_results, "2206": settlement, "2207": settlement, "2208": settlement,
    "5203": settlement_row, "3201": statement, "9101": file_query_no, "3202": result_file_info,
}
"""The reader of each transaction whose answer's content the HIS uses."""


def unusable(infno: str, answer: Answer) -> AnswerUnusable | None:
    """Why the HIS cannot use ``answer`` to ``infno`` (what its reader would raise), or
    ``None``: for the message log, which says what the HIS made of each answer."""
    reader = READERS.get(infno)
    if reader is None:
        return None
    try:
        reader(answer)
    except AnswerUnusable as error:
        return error
    return None
