"""Ledger rows as the admin API shows them (plain JSON-ready dicts).

Money stays Decimal yuan (written as JSON numbers with two places); JSON columns are parsed;
flags become booleans. Business times are the insurer's business clock, ``YYYY-MM-DD
HH:MM:SS``; ``received_ms`` of a message is wall-clock milliseconds since the epoch and
``received_at`` the same instant in UTC.

A message's request and answer are shown decoded when they are JSON that can be written back
(``{"encoding": "json", "content": ...}``), otherwise as base64 (a 9102 result file, a body a
client garbled): ``{"encoding": "base64", "content": "..."}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mock_insurer.ledger import load_json
from mock_insurer.money import MoneyParseError, parse_decimal
from mock_insurer.wire.errors import WireEncodeError
from mock_insurer.wire.jsonio import dumps, loads

__all__ = [
    "Row",
    "body_view",
    "catalogue_item_view",
    "fee_detail_view",
    "institution_view",
    "mapping_view",
    "message_view",
    "nesting_depth",
    "person_view",
    "settlement_view",
    "visit_view",
]

Row = Mapping[Any, Any]
"""A ledger row (a SQLAlchemy ``RowMapping`` or a plain dict)."""

MAX_DEPTH = 64
"""Deepest JSON nesting shown decoded (a real envelope is about 5 deep); a deeper body is shown
as base64, so that the answer around it can always be written (orjson stops at 254)."""


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar); stops counting once
    past ``limit``. Iterative, so any depth the parser produced can be measured."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _json_column(text: str | None, default: Any) -> Any:
    if text is None or text == "":
        return default
    try:
        return load_json(text)
    except ValueError:
        return default


def _number_text(text: str | None) -> Any:
    """A decimal kept as text in the ledger (quantity, price, days) as a number."""
    if text is None or text == "":
        return None
    try:
        return parse_decimal(text)
    except MoneyParseError:
        return text


def institution_view(row: Row) -> dict[str, Any]:
    return {
        "fixmedins_code": row["fixmedins_code"], "fixmedins_name": row["fixmedins_name"],
        "tier": row["tier"], "admdvs": row["admdvs"], "blacklisted": bool(row["blacklisted"]),
        "credentials": _json_column(row["credentials"], {}),
    }


def person_view(row: Row) -> dict[str, Any]:
    """A person's record and account balance ``balc`` (yuan; null without an account)."""
    return {
        "psn_no": row["psn_no"], "psn_cert_type": row["psn_cert_type"], "certno": row["certno"],
        "psn_name": row["psn_name"], "gend": row["gend"], "brdy": row["brdy"],
        "naty": row["naty"], "insuplc_admdvs": row["insuplc_admdvs"],
        "insuinfo": _json_column(row["insuinfo"], []),
        "maf_eligible": bool(row["maf_eligible"]), "deceased": bool(row["deceased"]),
        "blacklisted": bool(row["blacklisted"]), "balc": row.get("balc"),
    }


def catalogue_item_view(row: Row) -> dict[str, Any]:
    return {"med_list_codg": row["med_list_codg"], "med_list_name": row["med_list_name"],
            "record": _json_column(row["record"], {})}


def mapping_view(row: Row) -> dict[str, Any]:
    return {"fixmedins_code": row["fixmedins_code"], "medins_list_codg": row["medins_list_codg"],
            "med_list_codg": row["med_list_codg"]}


def body_view(data: bytes | None) -> dict[str, Any] | None:
    """A recorded request or answer body, decoded as JSON when that is possible."""
    if data is None:
        return None
    raw = bytes(data)
    try:
        content = loads(raw)
        if nesting_depth(content) > MAX_DEPTH:
            raise ValueError("nested too deeply to show decoded")
        dumps(content)  # what cannot be written back (a 20-digit integer) goes as base64
    except (ValueError, RecursionError, WireEncodeError):
        return {"encoding": "base64", "size": len(raw),
                "content": base64.b64encode(raw).decode("ascii")}
    return {"encoding": "json", "size": len(raw), "content": content}


def message_view(row: Row) -> dict[str, Any]:
    """One recorded message: who sent what, what was answered, how long it took, and which
    fault (if any) hit it."""
    received_ms = int(row["received_ms"])
    received_at = datetime.fromtimestamp(received_ms / 1000, tz=UTC)
    fault = ({"id": row["fault_id"], "effect": row["fault_effect"]}
             if row["fault_id"] or row["fault_effect"] else None)
    return {
        "id": row["id"], "fixmedins_code": row["fixmedins_code"], "msgid": row["msgid"],
        "infno": row["infno"], "psn_no": row["psn_no"], "status": row["status"],
        "keyed": bool(row["keyed"]), "http_status": row["http_status"],
        "infcode": row["infcode"], "rejection_code": row["rejection_code"],
        "err_msg": row["err_msg"], "deviations": _json_column(row["deviations"], []),
        "fault": fault, "replay_of": row["replay_of"], "effect_ref": row["effect_ref"],
        "biz_time": row["biz_time"], "received_ms": received_ms,
        "received_at": received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "duration_ms": row["duration_ms"],
        "request": body_view(row["request"]), "answer": body_view(row["answer"]),
    }


def visit_view(row: Row) -> dict[str, Any]:
    keys = ("mdtrt_id", "psn_no", "fixmedins_code", "insutype", "ipt_otp_no",
            "mdtrt_cert_type", "mdtrt_cert_no", "begntime", "dept_code", "dept_name",
            "atddr_no", "dr_name", "caty", "med_type", "dise_codg", "status", "created_msgid",
            "biz_time")
    view = {key: row[key] for key in keys}
    view["diagnoses"] = _json_column(row["diagnoses"], [])
    return view


def fee_detail_view(row: Row) -> dict[str, Any]:
    """One uploaded fee row (amounts in yuan; ``cnt``, ``pric`` and ``prd_days`` as numbers)."""
    keys = ("id", "mdtrt_id", "feedetl_sn", "chrg_bchno", "psn_no", "dise_codg",
            "med_list_codg", "medins_list_codg", "fee_ocur_time", "bilg_dept_codg",
            "bilg_dept_name", "bilg_dr_codg", "bilg_dr_name", "det_item_fee_sumamt",
            "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt", "status",
            "setl_id", "upload_msgid", "biz_time")
    view = {key: row[key] for key in keys}
    for key in ("cnt", "pric", "prd_days"):
        view[key] = _number_text(row[key])
    view["result"] = _json_column(row["result"], {})
    return view


def settlement_view(row: Row) -> dict[str, Any]:
    """A settlement (``refd_setl_flag`` 0) or its cancellation (1); amounts in yuan, the
    year-to-date counter movements it made in ``counter_deltas``."""
    keys = ("setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "insutype", "med_type",
            "chrg_bchno", "clr_type", "clr_way", "clr_optins", "setl_time", "biz_date", "year",
            "refd_setl_flag", "orig_setl_id", "cancelled_by", "medins_setl_id",
            "made_by_infno", "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay",
            "hosp_part_amt")
    view = {key: row[key] for key in keys}
    view["setlinfo"] = _json_column(row["setlinfo"], {})
    view["setldetail"] = _json_column(row["setldetail"], [])
    deltas = _json_column(row["counter_deltas"], {})
    view["counter_deltas"] = ({name: _number_text(str(value)) for name, value in deltas.items()}
                              if isinstance(deltas, dict) else {})
    return view
