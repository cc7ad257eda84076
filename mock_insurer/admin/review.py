"""Declaration, review and payment under ``/admin`` (:mod:`mock_insurer.review`).

Routes (relative to the mount; the guide and API reference are ``docs/review.md``)::

    POST /declarations                      {"fixmedins_code", "period", "declared"}
    GET  /declarations?fixmedins_code=X[&period=YYYY-MM]
    GET  /declarations/{dcla_id}
    DELETE /declarations/{dcla_id}          withdraw (撤回) it while it is not reviewed
    POST /declarations/{dcla_id}/review     {} or {"seed": 7}
    POST /declarations/{dcla_id}/pay
    PUT  /advance                           {"fixmedins_code", "year", "base_amount", "ratio"}
    GET  /payments?fixmedins_code=X[&year=2026]

An institution's settlement-portal credential (:mod:`mock_insurer.admin.auth`) may declare,
withdraw and read its own declarations and payments (``fixmedins_code`` may then be left out of
the queries and of the declaration's body; given, it must be its own);
another institution's code is refused (403), another's declaration is not found (404).

Money is a JSON *string* with at most two decimals (yuan) in and two decimals out; dates are
the business clock's. A refusal is ``{"error": {"code", "message", "where", "field"}}``:
``field`` names the field (``declared.acct_pay``), ``where`` the same with its place
(``body.declared.acct_pay``, ``query.period``) as in the rest of the admin API; 422 for a bad
field, 404 for an unknown declaration, 409 for a conflict or a step not yet allowed. A refused
request writes nothing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mock_insurer.admin.control import json_object, printable
from mock_insurer.admin.errors import AdminError
from mock_insurer.admin.params import path_text
from mock_insurer.admin.web import AdminCall, Op, json_response
from mock_insurer.review import (
    ReviewConflict,
    ReviewError,
    ReviewInputError,
    ReviewNotFound,
    ReviewOffice,
    Totals,
)

if TYPE_CHECKING:
    from mock_insurer.gateway.app import Insurer

__all__ = ["FieldError", "review_office", "review_ops"]

DECLARATION_FIELDS = ("fixmedins_code", "period", "declared")
DECLARATION_STATUSES = ("declared", "reviewed", "paid", "withdrawn")
TOTAL_FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "setl_cnt")
ADVANCE_FIELDS = ("fixmedins_code", "year", "base_amount", "ratio")
YEARS = (1900, 2199)
MAX_COUNT = 999_999_999
MAX_SEED = 999_999_999_999_999_999
MAX_CODE = 100

_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_AMOUNT = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,2})?")
_RATIO = re.compile(r"(0(\.[0-9]{1,4})?|1(\.0{1,4})?)")
_YEAR = re.compile(r"[0-9]{4}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class FieldError(AdminError):
    """An admin error that also names the field (``field``), as the contract asks."""

    def __init__(self, message: str, *, field: str, where: str, status: int,
                 code: str) -> None:
        super().__init__(message, where=where, code=code)
        self.status = status
        self.field = field

    def body(self) -> dict[str, dict[str, str]]:
        body = super().body()
        body["error"]["field"] = self.field
        return body


def _invalid(message: str, field: str, place: str = "body") -> FieldError:
    return FieldError(message, field=field, where=f"{place}.{field}", status=422,
                      code="invalid")


def _code(value: Any, field: str, place: str = "body") -> str:
    if not isinstance(value, str) or not value:
        raise _invalid(f"{field} must be a non-empty text", field, place)
    if len(value) > MAX_CODE or _CONTROL.search(value) or printable(value, MAX_CODE) != value:
        raise _invalid(f"{field} must be at most {MAX_CODE} printable characters", field, place)
    return value


def _shown(value: Any) -> str:
    """What was sent, quoted for an error (text as is, anything else as its JSON type)."""
    if isinstance(value, str):
        return repr(printable(value, 40))
    return "null" if value is None else f"{type(value).__name__} {printable(repr(value), 40)}"


def _period(value: Any, place: str = "body") -> str:
    if not isinstance(value, str) or not _PERIOD.fullmatch(value):
        raise _invalid(f'period must be a month like "2026-01", got {_shown(value)}', "period",
                       place)
    if not YEARS[0] <= int(value[:4]) <= YEARS[1]:
        raise _invalid(f"period must be in the years {YEARS[0]}..{YEARS[1]}, got "
                       f"{_shown(value)}", "period", place)
    return value


def _money(value: Any, field: str, *, negative: bool = False) -> Decimal:
    if (not isinstance(value, str) or not _AMOUNT.fullmatch(value)
            or (value.startswith("-") and not negative)):
        sign = "" if negative else "a non-negative "
        raise _invalid(f'{field} must be {sign}yuan as a string like "1234.50" '
                       f"(at most two decimals)", field)
    return Decimal(value)


def _whole(value: Any, field: str, low: int, high: int, place: str = "body") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"{field} must be a whole number from {low} to {high}", field, place)
    return value


def _totals(value: Any) -> Totals:
    if not isinstance(value, dict):
        raise _invalid("declared must be an object with " + ", ".join(TOTAL_FIELDS),
                       "declared")
    for key in value:
        if key not in TOTAL_FIELDS:
            raise _invalid(f"unknown field {printable(key)!r}; expected "
                           f"{', '.join(TOTAL_FIELDS)}", f"declared.{printable(key)}")
    for key in TOTAL_FIELDS:
        if key not in value:
            raise _invalid(f"declared needs {key}", f"declared.{key}")
    return Totals(
        _money(value["medfee_sumamt"], "declared.medfee_sumamt", negative=True),
        _money(value["fund_pay_sumamt"], "declared.fund_pay_sumamt", negative=True),
        _money(value["acct_pay"], "declared.acct_pay", negative=True),
        _whole(value["setl_cnt"], "declared.setl_cnt", 0, MAX_COUNT))


def _own(call: AdminCall, code: str, place: str) -> str:
    """``code``, unless the request carries another institution's portal credential (403)."""
    if call.portal is not None and code != call.portal:
        raise FieldError(f"the settlement-portal credential of {call.portal} is for that "
                         f"institution only, not {code}", field="fixmedins_code",
                         where=f"{place}.fixmedins_code", status=403, code="forbidden")
    return code


def _query_code(call: AdminCall) -> str:
    """The query's ``fixmedins_code``; with a portal credential it may be left out (its own)."""
    raw = call.query.values.get("fixmedins_code")
    if raw is None and call.portal is not None:
        return call.portal
    return _own(call, _code(raw, "fixmedins_code", "query"), "query")


def _only(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            expected = ", ".join(allowed) if allowed else "no fields"
            raise _invalid(f"unknown field {printable(key)!r}; expected {expected}",
                           printable(key))


def _required(data: dict[str, Any], fields: tuple[str, ...]) -> None:
    for key in fields:
        if key not in data:
            raise _invalid(f"the body needs {key}", key)


def _translate(error: ReviewError) -> FieldError:
    if isinstance(error, ReviewNotFound):
        return FieldError(error.message, field=error.field, where=f"path.{error.field}",
                          status=404, code="not_found")
    if isinstance(error, ReviewConflict):
        return FieldError(error.message, field=error.field, where=error.field, status=409,
                          code="conflict")
    if isinstance(error, ReviewInputError):
        return _invalid(error.message, error.field)
    raise error  # a configuration error is the operator's, not the caller's


class ReviewRoutes:
    """The endpoints over one :class:`~mock_insurer.review.ReviewOffice`."""

    def __init__(self, office: ReviewOffice) -> None:
        self.office = office

    def declare(self, call: AdminCall) -> Any:
        data = json_object(call)
        _only(data, DECLARATION_FIELDS)
        if call.portal is not None and "fixmedins_code" not in data:
            data = {**data, "fixmedins_code": call.portal}  # the credential names it
        _required(data, DECLARATION_FIELDS)
        code = _own(call, _code(data["fixmedins_code"], "fixmedins_code"), "body")
        period = _period(data["period"])
        declared = _totals(data["declared"])
        try:
            answer, created = self.office.declare(code, period, declared)
        except ReviewError as error:
            raise _translate(error) from None
        return json_response({"declaration": answer}, 201 if created else 200)

    def declarations(self, call: AdminCall) -> dict[str, Any]:
        """An institution's declarations; with the admin token and no ``fixmedins_code``,
        every institution's (the insurer's worklist: ``status=declared``)."""
        raw = call.query.values
        everyone = call.portal is None and "fixmedins_code" not in raw
        code = None if everyone else _query_code(call)
        period = _period(raw["period"], "query") if "period" in raw else None
        status = call.query.choice("status", DECLARATION_STATUSES)
        return {"declarations": self.office.declarations(code, period, status)}

    def declaration(self, call: AdminCall) -> dict[str, Any]:
        dcla_id = path_text(call.path, "dcla_id")
        try:
            found = self.office.declaration(dcla_id)
            if call.portal is not None and found.get("fixmedins_code") != call.portal:
                raise ReviewNotFound(f"no declaration {dcla_id!r}", field="dcla_id")  # not its own
        except ReviewError as error:
            raise _translate(error) from None
        return {"declaration": found}

    def withdraw(self, call: AdminCall) -> dict[str, Any]:
        dcla_id = path_text(call.path, "dcla_id")
        try:
            return {"declaration": self.office.withdraw(dcla_id, call.portal)}
        except ReviewError as error:
            raise _translate(error) from None

    def review(self, call: AdminCall) -> dict[str, Any]:
        dcla_id = path_text(call.path, "dcla_id")
        data = json_object(call, empty={})
        _only(data, ("seed",))
        seed = _whole(data["seed"], "seed", 0, MAX_SEED) if "seed" in data else None
        try:
            return {"declaration": self.office.review(dcla_id, seed)}
        except ReviewError as error:
            raise _translate(error) from None

    def pay(self, call: AdminCall) -> dict[str, Any]:
        dcla_id = path_text(call.path, "dcla_id")
        _only(json_object(call, empty={}), ())
        try:
            return {"payment": self.office.pay(dcla_id)}
        except ReviewError as error:
            raise _translate(error) from None

    def advance(self, call: AdminCall) -> dict[str, Any]:
        data = json_object(call)
        _only(data, ADVANCE_FIELDS)
        _required(data, ADVANCE_FIELDS)
        code = _code(data["fixmedins_code"], "fixmedins_code")
        year = _whole(data["year"], "year", *YEARS)
        base = _money(data["base_amount"], "base_amount")
        raw_ratio = data["ratio"]
        if not isinstance(raw_ratio, str) or not _RATIO.fullmatch(raw_ratio):
            raise _invalid('ratio must be a string from "0.0001" to "1" (at most four '
                           "decimals)", "ratio")
        ratio = Decimal(raw_ratio)
        if ratio <= 0:
            raise _invalid("ratio must be above 0", "ratio")
        try:
            return {"payment": self.office.set_advance(code, year, base, ratio)}
        except ReviewError as error:
            raise _translate(error) from None

    def payments(self, call: AdminCall) -> dict[str, Any]:
        raw = call.query.values
        code = _query_code(call)
        year = None
        if "year" in raw:
            text = raw["year"]
            if not _YEAR.fullmatch(text):
                raise _invalid(f"year must be a year from {YEARS[0]} to {YEARS[1]}", "year",
                               "query")
            year = _whole(int(text), "year", *YEARS, place="query")
        return {"payments": self.office.payments(code, year)}


def review_office(insurer: Insurer) -> ReviewOffice:
    """The review office of ``insurer``: its ledger, business clock and catalogue."""
    return ReviewOffice(insurer.ledger, today=lambda: insurer.clock.now().date(),
                        catalogue=lambda: insurer.service.reference.catalogue)


def review_ops(insurer: Insurer) -> list[Op]:
    """The declaration, review and payment operations, relative to the ``/admin`` mount."""
    r = ReviewRoutes(review_office(insurer))
    return [
        Op("POST", "/declarations", r.declare, portal=True),
        Op("GET", "/declarations", r.declarations, params=("fixmedins_code", "period", "status"),
           portal=True),
        Op("GET", "/declarations/{dcla_id}", r.declaration, portal=True),
        Op("DELETE", "/declarations/{dcla_id}", r.withdraw, portal=True),
        Op("POST", "/declarations/{dcla_id}/review", r.review),
        Op("POST", "/declarations/{dcla_id}/pay", r.pay),
        Op("PUT", "/advance", r.advance),
        Op("GET", "/payments", r.payments, params=("fixmedins_code", "year"), portal=True),
    ]
