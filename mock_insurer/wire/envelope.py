"""The national envelope: parsing requests as real clients send them, building requests and
answers. The one place envelopes are built (STYLE.md, habit 5).

Request (fact sheet §2.1): top-level ``infno``, ``msgid``, areas, operator, ``inf_time``,
institution, ``sign_no`` and the business data under ``input``. Answer (§2.2): ``infcode``
(0 / -1), ``inf_refmsgid``, ``refmsg_time``, ``respond_time``, ``err_msg``, ``warn_msg``,
``output``. How lenient the parser is, mode by mode, is tabled in docs/wire.md; every
departure is returned as a :class:`Deviation`, whether or not it was refused.

Outcomes are data: :func:`parse_request` never raises for anything in the body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mock_insurer.wire.jsonio import dumps
from mock_insurer.wire.msgid import RefMsgidFactory
from mock_insurer.wire.outcomes import Deviation
from mock_insurer.wire.parsing import parse_request
from mock_insurer.wire.request import (
    ENVELOPE_FIELDS,
    FIELD_MAX_LEN,
    INPUT_MAX_CHARS,
    MAX_DEVIATIONS,
    OPTIONAL_FIELDS,
    REFUSAL_CODES,
    REQUIRED_FIELDS,
    TOLERANT_MSGID_MAX,
    Mode,
    ParseOutcome,
    RequestEnvelope,
)
from mock_insurer.wire.timefmt import format_datetime

__all__ = [
    "ENVELOPE_FIELDS",
    "FIELD_MAX_LEN",
    "INPUT_MAX_CHARS",
    "MAX_DEVIATIONS",
    "OPTIONAL_FIELDS",
    "REFUSAL_CODES",
    "REQUIRED_FIELDS",
    "TOLERANT_MSGID_MAX",
    "Deviation",
    "Mode",
    "ParseOutcome",
    "RefMsgidFactory",
    "RequestEnvelope",
    "build_answer",
    "build_request",
    "content_type_deviation",
    "parse_request",
    "request_fingerprint",
]


def content_type_deviation(content_type: str | None) -> Deviation | None:
    """A ``content_type`` deviation unless the header says ``application/json`` (with any
    parameters). The body is parsed the same either way (fact sheet §1.2: ``text/plain``
    occurs)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json":
        return None
    shown = content_type if content_type else "absent"
    return Deviation("content_type", "header:content-type",
                     f"Content-Type {shown!r}, application/json expected")


def request_fingerprint(envelope: RequestEnvelope) -> str:
    """SHA-256 (hex) of the request's ``infno`` and normalised ``input`` (keys sorted): two
    requests under one msgid are "the same" when their fingerprints are equal. Numbers
    compare by their text (``4.5`` and ``4.50`` differ), as a byte-identical resend keeps."""
    canonical = dumps({"infno": envelope.infno, "input": envelope.input}, sort_keys=True)
    return hashlib.sha256(canonical).hexdigest()


def build_request(*, infno: str, msgid: str, input: Mapping[str, Any], fixmedins_code: str,
                  fixmedins_name: str, mdtrtarea_admvs: str, insuplc_admdvs: str,
                  recer_sys_code: str, infver: str, opter_type: str, opter: str,
                  opter_name: str, inf_time: datetime | str, sign_no: str = "",
                  dev_no: str = "", dev_safe_info: str = "", cainfo: str = "",
                  signtype: str = "") -> dict[str, Any]:
    """A request envelope in the specification's field order (fact sheet §2.1).

    *inf_time* as a datetime is written ``yyyy-MM-dd HH:mm:ss`` (China wall clock)."""
    when = inf_time if isinstance(inf_time, str) else format_datetime(inf_time)
    return {
        "infno": infno, "msgid": msgid, "mdtrtarea_admvs": mdtrtarea_admvs,
        "insuplc_admdvs": insuplc_admdvs, "recer_sys_code": recer_sys_code,
        "dev_no": dev_no, "dev_safe_info": dev_safe_info, "cainfo": cainfo,
        "signtype": signtype, "infver": infver, "opter_type": opter_type, "opter": opter,
        "opter_name": opter_name, "inf_time": when, "fixmedins_code": fixmedins_code,
        "fixmedins_name": fixmedins_name, "sign_no": sign_no, "input": dict(input),
    }


def build_answer(*, infcode: int, output: Any, err_msg: str = "", warn_msg: str = "",
                 inf_refmsgid: str, refmsg_time: str, respond_time: str,
                 infcode_as_string: bool = False) -> dict[str, Any]:
    """An answer envelope (fact sheet §2.2; shared/reference/README.md, "answer").

    *output* ``None`` is written ``{}`` (failures, and transactions without output), so a
    client can always index it. *refmsg_time* / *respond_time* are ``yyyyMMddHHmmssSSS``
    (:func:`mock_insurer.wire.timefmt.format_stamp17`). *infcode_as_string* writes ``"0"`` /
    ``"-1"`` as some switches do."""
    return {
        "infcode": str(infcode) if infcode_as_string else infcode,
        "inf_refmsgid": inf_refmsgid,
        "refmsg_time": refmsg_time,
        "respond_time": respond_time,
        "err_msg": err_msg,
        "warn_msg": warn_msg,
        "enctype": "",
        "signtype": "",
        "cainfo": "",
        "output": {} if output is None else output,
    }

