"""The request envelope as the gateway sees it: its fields, and what parsing made of it.

Fields and lengths: fact sheet §2.1. Parsing lives in :mod:`mock_insurer.wire.parsing`;
building envelopes in :mod:`mock_insurer.wire.envelope` (which re-exports all of this).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from mock_insurer.wire.outcomes import Deviation

__all__ = [
    "ENVELOPE_FIELDS",
    "FIELD_MAX_LEN",
    "INPUT_MAX_CHARS",
    "MAX_DEVIATIONS",
    "OPTIONAL_FIELDS",
    "REFUSAL_CODES",
    "REQUIRED_FIELDS",
    "TOLERANT_MSGID_MAX",
    "Mode",
    "ParseOutcome",
    "RequestEnvelope",
]

Mode = Literal["strict", "tolerant"]
"""``strict`` refuses what the specification forbids; ``tolerant`` accepts and records."""

REQUIRED_FIELDS = ("infno", "msgid", "mdtrtarea_admvs", "recer_sys_code", "infver",
                   "opter_type", "opter", "opter_name", "inf_time", "fixmedins_code",
                   "fixmedins_name", "input")
"""Fields marked required (必填 Y) in the specification's envelope table (fact sheet §2.1).
``insuplc_admdvs`` is conditional: required when the input carries a ``psn_no``."""

OPTIONAL_FIELDS = ("insuplc_admdvs", "dev_no", "dev_safe_info", "cainfo", "signtype",
                   "sign_no")
"""The envelope's other fields (``sign_no`` is not marked required; the gateway's sign-in
switch decides whether it must be present)."""

ENVELOPE_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

FIELD_MAX_LEN: Mapping[str, int] = MappingProxyType({
    "mdtrtarea_admvs": 6, "insuplc_admdvs": 6, "recer_sys_code": 10, "dev_no": 100,
    "dev_safe_info": 2000, "cainfo": 1024, "signtype": 10, "infver": 6, "opter_type": 3,
    "opter": 30, "opter_name": 50, "fixmedins_code": 30, "fixmedins_name": 200, "sign_no": 30,
})
"""Maximum lengths (characters) of the envelope's text fields (fact sheet §2.1; for
``fixmedins_code`` the longer of the two sources, 30). msgid, infno and inf_time have their
own checks."""

INPUT_MAX_CHARS = 40000
"""``input`` ≤ 40000 (fact sheet §2.1), counted in characters of its compact JSON text."""

TOLERANT_MSGID_MAX = 64
"""Even tolerant mode refuses a msgid longer than this (it is a key of the record)."""

MAX_DEVIATIONS = 100
"""At most this many deviations are listed per request; a last one says how many more."""

REFUSAL_CODES = ("empty_body", "body_too_large", "bad_encoding", "malformed_json",
                 "not_an_object", "bad_field_type", "missing_field", "field_too_long",
                 "whitespace", "bad_infno", "unknown_infno", "msgid_format", "time_format", "bad_code",
                 "admdvs_format", "input_malformed_json", "input_not_object",
                 "input_too_long", "input_too_deep")
"""Every ``ParseOutcome.refusal_code`` (when several apply, the first found is given)."""



@dataclass(frozen=True, slots=True)
class RequestEnvelope:
    """A request the gateway can serve. Text fields are ``""`` when empty (``""``, ``null``,
    ``"null"`` or omitted on the wire); ``input`` is the parsed business data with every
    empty value (``""`` / ``"null"``) turned into ``None`` and ``expContent`` renamed
    ``exp_content``; numbers in it are exact :class:`~decimal.Decimal` or ``int``."""

    infno: str
    msgid: str
    fixmedins_code: str
    fixmedins_name: str
    sign_no: str
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    recer_sys_code: str
    infver: str
    opter_type: str
    opter: str
    opter_name: str
    inf_time: str
    input: dict[str, Any]
    raw: dict[str, Any]
    dev_no: str = ""
    dev_safe_info: str = ""
    cainfo: str = ""
    signtype: str = ""


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """What :func:`parse_request` made of a body.

    Either ``envelope`` is set and ``refusal_code`` is ``None``, or ``envelope`` is ``None``
    and ``refusal_code`` (one of :data:`REFUSAL_CODES`) and ``err_msg``
    (``FSI-…[where]``) say why. ``deviations`` lists every departure seen, refused or not.
    ``raw``, ``msgid``, ``infno`` and ``fixmedins_code`` are filled in as far as the body
    could be read, so a refusal can still be recorded against its message."""

    envelope: RequestEnvelope | None
    refusal_code: str | None
    err_msg: str
    deviations: tuple[Deviation, ...]
    raw: dict[str, Any] | None = None
    msgid: str = ""
    infno: str = ""
    fixmedins_code: str = ""
