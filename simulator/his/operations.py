"""The operations of the HIS driver API (version 1): what each takes and what it answers.

Shared by the reference HIS, the HTTP driver server (:mod:`simulator.his.api`) and its client
(:class:`simulator.his.driver.HttpHisDriver`). Inputs are small frozen dataclasses, read from
JSON with ``from_json`` (raising :class:`~simulator.his.errors.DriverInputError` that names the
offending field) and written with ``to_json`` (where a field with no value is ``None`` or
``""``: the HTTP client leaves such fields out of the body it sends, never sending ``null`` or
``""`` — :func:`simulator.his.driver.leave_out_empty`; ``from_json`` reads an absent field as
its default). Every answer is an :class:`Outcome`:
``{"ok": true, ...}`` or ``{"ok": false, "refusal": {"code", "message", "source"}, ...}``.
Money is a string with two decimals (yuan), quantities are strings, dates ``YYYY-MM-DD``.
Formats: docs/his-driver.md and docs/his-driver-api.openapi.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from simulator.his.errors import DriverInputError

__all__ = [
    "API_VERSION",
    "CERT_TYPES",
    "ChargeInput",
    "ChargeItem",
    "DayEndInput",
    "DeclareInput",
    "IdentifyInput",
    "Outcome",
    "Override",
    "RefundInput",
    "Refusal",
    "RegisterInput",
    "SettleInput",
    "VisitInput",
    "json_type",
]

API_VERSION = "1"
CERT_TYPES = {"01": "e-certificate token (医保电子凭证)", "02": "resident ID number (身份证)",
              "03": "social-security card number + card_sn (社会保障卡)"}
MAX_ITEMS = 200
#: The longest text a quantity may be written in (``"12345678.1234"`` is 13 characters).
MAX_NUMBER_CHARS = 40
#: The digits a quantity may have before the point: every quantity is below 10^8.
MAX_NUMBER_DIGITS = 8
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# -- outcomes ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Refusal:
    """What the cashier saw when an operation could not be done. ``source`` ``insurer``: the
    insurer refused (``message`` is its ``err_msg`` as it came; ``infno`` and ``msgid`` name the
    message); ``his``: the HIS itself (a visit in the wrong state, the insurer unreachable)."""

    code: str
    message: str
    source: Literal["insurer", "his"]
    infno: str | None = None
    msgid: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message,
                                "source": self.source}
        if self.infno is not None:
            body["infno"] = self.infno
        if self.msgid is not None:
            body["msgid"] = self.msgid
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Refusal:
        source: Literal["insurer", "his"] = (
            "insurer" if body.get("source") == "insurer" else "his")
        return cls(str(body.get("code", "")), str(body.get("message", "")), source,
                   body.get("infno"), body.get("msgid"))


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of an operation: the whole JSON ``body`` (``body["ok"]`` is ``ok``)."""

    ok: bool
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def refusal(self) -> Refusal | None:
        found = self.body.get("refusal")
        return Refusal.from_json(found) if isinstance(found, Mapping) else None

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return {**self.body, "ok": self.ok}

    @classmethod
    def success(cls, **fields: Any) -> Outcome:
        return cls(True, {"ok": True, **fields})

    @classmethod
    def refused(cls, refusal: Refusal, **fields: Any) -> Outcome:
        return cls(False, {"ok": False, "refusal": refusal.to_json(), **fields})

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Outcome:
        return cls(bool(body.get("ok")), dict(body))


# -- reading fields ------------------------------------------------------------------------
def _object(body: Any, where: str = "") -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise DriverInputError(where or "(body)", "must be a JSON object")
    return body


def json_type(value: Any) -> str:
    """The JSON type of ``value`` as a vendor reads it (``number``, not ``int``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _text(body: Mapping[str, Any], name: str, *, required: bool = True, max_len: int = 50,
          where: str = "") -> str:
    path = f"{where}{name}"
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise DriverInputError(path, "is required")
        return ""
    if not isinstance(value, str):
        raise DriverInputError(path, f"must be a string, got {json_type(value)} {value!r:.40}")
    if len(value) > max_len:
        raise DriverInputError(path, f"must be at most {max_len} characters")
    return value


def _number(body: Mapping[str, Any], name: str, *, places: int, required: bool = True,
            positive: bool = False, where: str = "") -> Decimal | None:
    """A quantity (``qty``, ``days``): at most ``places`` decimal places, below 10^8, written in
    at most :data:`MAX_NUMBER_CHARS` characters. Digits and exponent are checked on the parsed
    tuple before any arithmetic, so that ``"1e-999999999"`` or ``"1e1000000"`` is refused
    naming the field instead of being expanded to a billion digits (or overflowing)."""
    path = f"{where}{name}"
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise DriverInputError(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DriverInputError(path, "must be a number or a numeric string")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise DriverInputError(path, f"must be written in at most {MAX_NUMBER_CHARS} "
                                     f"characters, got {len(text)}: {text[:20]}...")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DriverInputError(path, f"is not a number: {value!r}") from None
    if not number.is_finite():
        raise DriverInputError(path, f"is not a finite number: {value!r}")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    if not any(digits):  # a zero: its exponent says nothing of its size
        if positive:
            raise DriverInputError(path, f"must be above 0, got {value}")
        return number if not sign and -places <= exponent <= 0 else Decimal(0)
    if sign:
        raise DriverInputError(path, f"must be {'above' if positive else 'at least'} 0, "
                                     f"got {value}")
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if -(exponent + trailing) > places:
        raise DriverInputError(path, f"has more than {places} decimal places: {value}")
    if exponent + len(digits) > MAX_NUMBER_DIGITS:  # the integer part's digits
        raise DriverInputError(path, f"is too large: {value} (at most "
                                     f"{MAX_NUMBER_DIGITS} digits before the point)")
    return number


def _flag(body: Mapping[str, Any], name: str, default: bool | None) -> bool | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise DriverInputError(name, "must be true or false")
    return value


def _codes(body: Mapping[str, Any], name: str, *, required: bool) -> tuple[str, ...] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise DriverInputError(name, "is required")
        return None
    if not isinstance(value, list):
        raise DriverInputError(name, "must be a list of codes")
    codes = []
    for index, code in enumerate(value):
        if not isinstance(code, str) or not code:
            raise DriverInputError(f"{name}[{index}]", "must be a non-empty string")
        codes.append(code)
    return tuple(codes)


def _day(body: Mapping[str, Any], name: str) -> date:
    text = _text(body, name, max_len=10)
    if not _DATE.fullmatch(text):
        raise DriverInputError(name, f"must be a date YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DriverInputError(name, f"is not a real date: {text!r}") from None


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _override(body: Mapping[str, Any]) -> Override | None:
    value = body.get("override")
    if value is None:
        return None
    o = _object(value, "override")
    return Override(_text(o, "by", max_len=30, where="override."),
                    _text(o, "reason", max_len=200, where="override."))


# -- inputs --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Override:
    """The cashier's decision to go on past a severe rule-check warning (3101/3102 ``sev_deg``
    1): ``by`` (the operator id who decided) and ``reason`` (free text, required). The HIS
    records it with its own clock and the rule ids it overrode."""

    by: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class IdentifyInput:
    """A certificate as presented at the window: ``cert_type`` 01 e-certificate token, 02 ID
    number, 03 card number (with ``card_sn`` from the card reader); typed text as typed.
    ``psn_name`` (optional) is what the cashier typed, checked by the insurer."""

    cert_type: str
    cert_no: str
    card_sn: str = ""
    psn_name: str = ""
    operator: str = ""

    @classmethod
    def from_json(cls, body: Any) -> IdentifyInput:
        b = _object(body)
        cert_type = _text(b, "cert_type", max_len=2)
        if cert_type not in CERT_TYPES:
            raise DriverInputError("cert_type", "must be 01 (e-certificate), 02 (ID number) "
                                                f"or 03 (social-security card), got {cert_type!r}")
        card_sn = _text(b, "card_sn", required=cert_type == "03", max_len=64)
        return cls(cert_type, _text(b, "cert_no", max_len=64), card_sn,
                   _text(b, "psn_name", required=False, max_len=50),
                   _text(b, "operator", required=False, max_len=30))

    def to_json(self) -> dict[str, Any]:
        return {"cert_type": self.cert_type, "cert_no": self.cert_no, "card_sn": self.card_sn,
                "psn_name": self.psn_name, "operator": self.operator}


@dataclass(frozen=True, slots=True)
class RegisterInput:
    """Register an outpatient visit of an identified patient. ``insutype`` empty: the
    patient's main scheme (the first insurance row); ``med_type`` 11 普通门诊 by default."""

    patient_id: str
    dept_code: str
    doctor_code: str
    dept_name: str = ""
    doctor_name: str = ""
    insutype: str = ""
    med_type: str = "11"
    caty: str = ""
    operator: str = ""

    @classmethod
    def from_json(cls, body: Any) -> RegisterInput:
        b = _object(body)
        patient_id = b.get("patient_id")
        if patient_id is not None and not isinstance(patient_id, str):
            # the OpenAPI says string: a number is refused, not converted, so a driver that
            # sends one learns it here rather than from another HIS that keeps ids as text
            raise DriverInputError("patient_id", "must be a string (the patient_id identify "
                                                 f"answered, e.g. \"17\"), got "
                                                 f"{json_type(patient_id)} {patient_id!r}")
        return cls(_text(b, "patient_id", max_len=30),
                   _text(b, "dept_code", max_len=30), _text(b, "doctor_code", max_len=30),
                   _text(b, "dept_name", required=False, max_len=100),
                   _text(b, "doctor_name", required=False, max_len=50),
                   _text(b, "insutype", required=False, max_len=6),
                   _text(b, "med_type", required=False, max_len=6) or "11",
                   _text(b, "caty", required=False, max_len=6),
                   _text(b, "operator", required=False, max_len=30))

    def to_json(self) -> dict[str, Any]:
        return {"patient_id": self.patient_id, "dept_code": self.dept_code,
                "doctor_code": self.doctor_code, "dept_name": self.dept_name,
                "doctor_name": self.doctor_name, "insutype": self.insutype,
                "med_type": self.med_type, "caty": self.caty, "operator": self.operator}


@dataclass(frozen=True, slots=True)
class ChargeItem:
    """One prescribed item: the hospital's own item ``code``, the quantity (up to four
    decimals, above 0) and, for drugs, the days it is for (optional)."""

    code: str
    qty: Decimal
    days: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChargeInput:
    """Charge items to a visit, with the diagnoses (ICD codes; needed on the first charge) and
    the ordering department and doctor (default: the visit's). ``override``: upload the lines
    even when the rule check (3101) answers a severe warning for them."""

    items: tuple[ChargeItem, ...]
    diagnoses: tuple[str, ...] = ()
    dept_code: str = ""
    doctor_code: str = ""
    operator: str = ""
    override: Override | None = None

    @classmethod
    def from_json(cls, body: Any) -> ChargeInput:
        b = _object(body)
        raw = b.get("items")
        if not isinstance(raw, list) or not raw:
            raise DriverInputError("items", "must be a non-empty list of {code, qty}")
        if len(raw) > MAX_ITEMS:
            raise DriverInputError("items", f"at most {MAX_ITEMS} items per charge")
        items = []
        for index, entry in enumerate(raw):
            where = f"items[{index}]."
            e = _object(entry, f"items[{index}]")
            qty = _number(e, "qty", places=4, positive=True, where=where)
            assert qty is not None
            items.append(ChargeItem(_text(e, "code", max_len=150, where=where), qty,
                                    _number(e, "days", places=2, required=False, where=where)))
        return cls(tuple(items), _codes(b, "diagnoses", required=False) or (),
                   _text(b, "dept_code", required=False, max_len=30),
                   _text(b, "doctor_code", required=False, max_len=30),
                   _text(b, "operator", required=False, max_len=30), _override(b))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "items": [{"code": i.code, "qty": _plain(i.qty), "days": _plain(i.days)}
                      for i in self.items],
            "diagnoses": list(self.diagnoses), "dept_code": self.dept_code,
            "doctor_code": self.doctor_code, "operator": self.operator}
        if self.override is not None:
            body["override"] = self.override.to_json()
        return body


@dataclass(frozen=True, slots=True)
class SettleInput:
    """Pre-settle or settle a visit's charges; ``acct_used``: pay from the personal account
    (个人账户) as far as it goes; ``override``: go on past a severe rule-check warning (3101 at
    charge or 3102 now) — recorded by the HIS; without it such a visit is refused
    ``rule_check_severe``."""

    acct_used: bool = True
    operator: str = ""
    override: Override | None = None

    @classmethod
    def from_json(cls, body: Any) -> SettleInput:
        b = _object(body)  # an empty body arrives as {}; null is not an object
        acct = _flag(b, "acct_used", True)
        return cls(bool(acct), _text(b, "operator", required=False, max_len=30), _override(b))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"acct_used": self.acct_used, "operator": self.operator}
        if self.override is not None:
            body["override"] = self.override.to_json()
        return body


@dataclass(frozen=True, slots=True)
class RefundInput:
    """Refund a settled visit: every item (``items`` None) or the lines of the listed hospital
    item codes; the rest is settled again. ``acct_used`` for the new settlement (default: as
    the original)."""

    items: tuple[str, ...] | None = None
    acct_used: bool | None = None
    operator: str = ""

    @classmethod
    def from_json(cls, body: Any) -> RefundInput:
        b = _object(body)  # an empty body arrives as {}; null is not an object
        items = _codes(b, "items", required=False)
        if items is not None and not items:
            raise DriverInputError("items", "must name at least one item code (leave it out "
                                            "to refund everything)")
        return cls(items, _flag(b, "acct_used", None),
                   _text(b, "operator", required=False, max_len=30))

    def to_json(self) -> dict[str, Any]:
        return {"items": None if self.items is None else list(self.items),
                "acct_used": self.acct_used, "operator": self.operator}


@dataclass(frozen=True, slots=True)
class VisitInput:
    """An operation on a visit that takes nothing else (cancel): who does it."""

    operator: str = ""

    @classmethod
    def from_json(cls, body: Any) -> VisitInput:
        b = _object(body)  # an empty body arrives as {}; null is not an object
        return cls(_text(b, "operator", required=False, max_len=30))

    def to_json(self) -> dict[str, Any]:
        return {"operator": self.operator}


@dataclass(frozen=True, slots=True)
class DayEndInput:
    """Reconcile the settlements of ``date`` (the insurer's settlement date, inclusive)."""

    date: date
    operator: str = ""

    @classmethod
    def from_json(cls, body: Any) -> DayEndInput:
        b = _object(body)
        return cls(_day(b, "date"), _text(b, "operator", required=False, max_len=30))

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "operator": self.operator}


@dataclass(frozen=True, slots=True)
class DeclareInput:
    """Declare the month ``period`` (``YYYY-MM``, the insurer's settlement dates) to the
    insurer's portal, after checking its totals with 3201. ``force``: declare even when a group
    does not balance (the office's decision; the insurer records the mismatch)."""

    period: str
    force: bool = False
    operator: str = ""

    @classmethod
    def from_json(cls, body: Any) -> DeclareInput:
        b = _object(body)
        period = _text(b, "period", max_len=7)
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
            raise DriverInputError("period", f"must be a month YYYY-MM, got {period!r}")
        return cls(period, bool(_flag(b, "force", False)),
                   _text(b, "operator", required=False, max_len=30))

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period, "force": self.force, "operator": self.operator}
