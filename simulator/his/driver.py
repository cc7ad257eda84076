"""Driving a HIS: the operations as a Python base class, and the client of the HTTP driver API.

:class:`HisDriver` is what the scenario runner, the conformance suite and the load tests call.
A vendor who prefers Python subclasses it over their HIS (and can serve it as the HTTP driver
API with :func:`simulator.his.api.driver_app`); a vendor who prefers HTTP implements
docs/his-driver-api.openapi.yaml and is driven by :class:`HttpHisDriver`. Either way an
operation answers an :class:`~simulator.his.operations.Outcome` (a refusal is an outcome, not
an exception) and bad input raises :class:`~simulator.his.errors.DriverInputError`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from simulator.his.errors import DriverError, DriverInputError, UnknownRecord
from simulator.his.operations import (
    ChargeInput,
    DayEndInput,
    DeclareInput,
    IdentifyInput,
    Outcome,
    RefundInput,
    Refusal,
    RegisterInput,
    SettleInput,
    VisitInput,
    json_type,
)

__all__ = ["ANSWER_FIELDS", "BASE_PATH", "HisDriver", "HttpHisDriver", "answer_problem",
           "leave_out_empty", "not_supported"]

BASE_PATH = "/his/v1"


#: How much of a request body an error quotes (characters of its JSON).
SENT_CHARS = 500


def leave_out_empty(body: Any) -> Any:
    """``body`` as the harness sends it: every field of an object (at any depth, in arrays
    too) whose value is null or ``""`` left out — an optional field with no value is absent,
    never ``null`` or ``""`` (docs/his-driver-api.openapi.yaml). Arrays are kept as they are,
    empty or not: ``"items": []`` is a request of its own, not the same as no ``items``."""
    if isinstance(body, Mapping):
        return {key: leave_out_empty(value) for key, value in body.items()
                if value is not None and value != ""}
    if isinstance(body, list | tuple):
        return [leave_out_empty(value) for value in body]
    return body


def _request_text(method: str, url: str, sent: Any,
                  params: dict[str, str] | None = None) -> str:
    """The request as an error names it: method, path (and query) and the JSON body sent,
    cut to :data:`SENT_CHARS` characters."""
    path = urlsplit(url).path
    if params:
        path += "?" + urlencode(params)
    if sent is None:
        return f"{method} {path} (no body)"
    text = json.dumps(sent, ensure_ascii=False, separators=(",", ":"))
    if len(text) > SENT_CHARS:
        text = text[:SENT_CHARS] + f"… ({len(text)} characters)"
    return f"{method} {path} with the body {text}"


def not_supported(operation: str) -> Outcome:
    """The answer of an optional operation a HIS does not have."""
    return Outcome.refused(Refusal(
        "not_supported", f"this HIS does not support {operation} (an optional operation of the "
                         "driver API)", "his"))


#: What an answer must hold for the harness to read it (docs/his-driver-api.openapi.yaml):
#: per operation, for ``ok`` true, each field's path and JSON type ("?" after the type: may
#: be null). A refusal must carry ``refusal`` with ``code`` and ``message`` strings.
ANSWER_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "info": (),  # the harness says itself what is wrong with an info (its institution)
    "identify": (("patient", "object"), ("patient.patient_id", "string"),
                 ("patient.psn_no", "string"), ("insurance", "array")),
    "visit": (("visit", "object"), ("visit.visit_id", "string"), ("visit.status", "string")),
    "charge": (("lines", "array"), ("visit", "object"), ("warnings", "array?")),
    "pre_settle": (("estimate", "object"), ("warnings", "array?")),
    "settle": (("bill", "object"), ("bill.amounts", "object"), ("bill.charged", "object"),
               ("bill.setl_id", "string"), ("warnings", "array?")),
    "refund": (("refund", "object"), ("refund.amounts", "object"), ("bill", "object?")),
    "bill": (("bill", "object?"), ("bills", "array")),
    "day_end": (("balanced", "boolean"), ("groups", "array"), ("corrections", "array")),
    "ledger": (("settlements", "array"),),
}
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,)}


def answer_problem(operation: str, payload: dict[str, Any]) -> str:
    """What makes ``payload`` (a JSON object with ``ok``) no answer of ``operation`` — ``ok``
    not a boolean, a refusal without its code and message, a field the harness reads missing
    or of the wrong JSON type — or "" when it is one. The harness cannot drive a HIS on
    answers it cannot read: it says which field, rather than failing later on a KeyError."""
    ok = payload.get("ok")
    if not isinstance(ok, bool):
        return f"ok must be true or false, got {json_type(ok)} {ok!r:.40}"
    if not ok:
        refusal = payload.get("refusal")
        if not isinstance(refusal, dict):
            return f"a refusal (ok false) must carry refusal as an object, got {json_type(refusal)}"
        for name in ("code", "message"):
            if not isinstance(refusal.get(name), str):
                return f"refusal.{name} must be a string, got {json_type(refusal.get(name))}"
        return ""
    for path, kind in ANSWER_FIELDS.get(operation, ()):
        value: Any = payload
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        nullable = kind.endswith("?")
        kind = kind.rstrip("?")
        if value is None:
            if nullable:
                continue
            return f"{path} is missing" if _absent(payload, path) else f"{path} is null"
        if not isinstance(value, _JSON_TYPES[kind]) or (kind != "boolean"
                                                         and isinstance(value, bool)):
            return f"{path} must be {'an' if kind[0] in 'ao' else 'a'} {kind}, got " \
                   f"{json_type(value)} {value!r:.40}"
    return ""


def _absent(payload: dict[str, Any], path: str) -> bool:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return True
        value = value[part]
    return False


class HisDriver(ABC):
    """The operations a cashier performs, plus what the harness reads back. Every method
    answers an :class:`Outcome` (``ok`` true, or false with a ``refusal``); the shapes of the
    bodies are those of the HTTP driver API (docs/his-driver.md)."""

    @abstractmethod
    def info(self) -> Outcome:
        """``name``, ``version``, ``api_version``, ``institution``."""

    @abstractmethod
    def identify(self, request: IdentifyInput) -> Outcome:
        """Read a certificate (1101): ``patient``, ``insurance``, ``balc``."""

    @abstractmethod
    def register(self, request: RegisterInput) -> Outcome:
        """Register an outpatient visit (2201): ``visit``."""

    @abstractmethod
    def charge(self, visit_id: str, request: ChargeInput) -> Outcome:
        """Charge the hospital's items with diagnoses (2203, 3101, 2204): ``lines``,
        ``visit``, ``warnings`` (the rule check's; a line a severe one names is ``blocked``)."""

    @abstractmethod
    def pre_settle(self, visit_id: str, request: SettleInput) -> Outcome:
        """Pre-settle (3102, 2206): ``estimate`` (the amounts shown to the patient),
        ``warnings``."""

    @abstractmethod
    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        """Settle (3102, 2206, 2207): ``bill`` (what was printed and charged), ``warnings``;
        refused ``rule_check_severe`` past a severe warning without ``override``."""

    @abstractmethod
    def refund(self, visit_id: str, request: RefundInput) -> Outcome:
        """Refund all or some items (2208, 2205, 2204, 2207): ``refund``, ``bill``."""

    @abstractmethod
    def cancel(self, visit_id: str, request: VisitInput) -> Outcome:
        """Cancel an unsettled visit (2205, 2202): ``visit``."""

    @abstractmethod
    def visit(self, visit_id: str) -> Outcome:
        """The visit as the HIS holds it: ``visit``."""

    @abstractmethod
    def bill(self, visit_id: str) -> Outcome:
        """The bills printed for a visit: ``bill`` (the current one or null), ``bills``."""

    @abstractmethod
    def day_end(self, request: DayEndInput) -> Outcome:
        """Day-end reconciliation (3201, 3202): ``balanced``, ``groups``, ``corrections``."""

    @abstractmethod
    def ledger(self, day: date | None = None) -> Outcome:
        """Every settlement row the HIS believes in (of ``day``, or all): ``settlements``."""

    # -- after the window (optional: a HIS without them answers not_supported) -----------
    def declare(self, request: DeclareInput) -> Outcome:
        """Check the month with 3201, then declare it at the insurer's portal: ``declared``,
        ``groups``, ``declaration`` (docs/his-driver.md, "After the window")."""
        return not_supported("declare")

    def collect_payments(self) -> Outcome:
        """Read the portal's reviews and payments and match each item to its settlement:
        ``matched``, ``unmatched``, ``totals``."""
        return not_supported("collect_payments")

    def receivables(self, period: str | None = None) -> Outcome:
        """The receivables ledger (of ``period`` YYYY-MM, or all): ``receivables``,
        ``totals``, ``deductions``."""
        return not_supported("receivables")

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release what the driver holds."""

    def __enter__(self) -> HisDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HttpHisDriver(HisDriver):
    """Drives any HIS that serves the HTTP driver API at ``base_url`` (``http://host:port``).
    ``timeout`` is seconds per request (a day-end may take a while)."""

    def __init__(self, base_url: str, *, timeout: float = 60.0,
                 session: requests.Session | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.headers = dict(headers or {})

    def _url(self, *parts: str) -> str:
        return self.base_url + BASE_PATH + "".join("/" + quote(p, safe="-") for p in parts)

    def _request(self, method: str, url: str, body: Any = None,
                 params: dict[str, str] | None = None, *, answer: str = "") -> Outcome:
        sent = None if body is None else leave_out_empty(body)
        try:
            response = self.session.request(method, url, json=sent, params=params,
                                            headers=self.headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise DriverError(f"{method} {url}: the HIS did not answer within "
                              f"{self.timeout:g} s ({exc})") from exc
        except requests.RequestException as exc:
            raise DriverError(f"{method} {url}: no answer from the HIS ({exc})") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code == 200 and isinstance(payload, dict) and "ok" in payload:
            problem = answer_problem(answer, payload)
            if problem:
                raise DriverError(f"{method} {url}: the answer does not follow the driver API "
                                  f"({problem}; docs/his-driver-api.openapi.yaml): "
                                  f"{response.text[:200]!r}")
            return Outcome.from_json(payload)
        request = _request_text(method, url, sent, params)
        if 400 <= response.status_code < 500 and isinstance(payload, dict):
            error = payload.get("error")
            if isinstance(error, dict):
                kind = UnknownRecord if response.status_code == 404 else DriverInputError
                raise kind(str(error.get("field", "")),
                           f"{error.get('message', '')} (HTTP {response.status_code} to "
                           f"{request})")
        if payload is None:
            why = f"the answer is not JSON ({response.headers.get('Content-Type') or 'no type'})"
        elif response.status_code == 200:
            why = ("the answer has no ok (true or false)" if isinstance(payload, dict)
                   else f"the answer is a JSON {json_type(payload)}, not an object with ok")
        elif response.status_code >= 500:
            why = "the HIS failed (a 5xx is no driver-API answer)"
        else:
            why = "the driver API answers 200, or 4xx with an error object"
        raise DriverError(f"{method} {url}: HTTP {response.status_code} is not a driver-API "
                          f"answer: {why}: {response.text[:200]!r} (to {request})")

    def info(self) -> Outcome:
        return self._request("GET", self._url("info"), answer="info")

    def identify(self, request: IdentifyInput) -> Outcome:
        return self._request("POST", self._url("identify"), request.to_json(),
                             answer="identify")

    def register(self, request: RegisterInput) -> Outcome:
        return self._request("POST", self._url("visits"), request.to_json(), answer="visit")

    def charge(self, visit_id: str, request: ChargeInput) -> Outcome:
        return self._request("POST", self._url("visits", visit_id, "charges"),
                             request.to_json(), answer="charge")

    def pre_settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return self._request("POST", self._url("visits", visit_id, "pre-settle"),
                             request.to_json(), answer="pre_settle")

    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return self._request("POST", self._url("visits", visit_id, "settle"),
                             request.to_json(), answer="settle")

    def refund(self, visit_id: str, request: RefundInput) -> Outcome:
        return self._request("POST", self._url("visits", visit_id, "refund"),
                             request.to_json(), answer="refund")

    def cancel(self, visit_id: str, request: VisitInput) -> Outcome:
        return self._request("POST", self._url("visits", visit_id, "cancel"),
                             request.to_json(), answer="visit")

    def visit(self, visit_id: str) -> Outcome:
        return self._request("GET", self._url("visits", visit_id), answer="visit")

    def bill(self, visit_id: str) -> Outcome:
        return self._request("GET", self._url("visits", visit_id, "bill"), answer="bill")

    def day_end(self, request: DayEndInput) -> Outcome:
        return self._request("POST", self._url("day-end"), request.to_json(), answer="day_end")

    def ledger(self, day: date | None = None) -> Outcome:
        params = {"date": day.isoformat()} if day is not None else None
        return self._request("GET", self._url("ledger"), params=params, answer="ledger")

    def _optional(self, operation: str, method: str, url: str, body: Any = None,
                  params: dict[str, str] | None = None) -> Outcome:
        """An optional operation: a HIS that has no such path answers ``not_supported``."""
        try:
            return self._request(method, url, body, params)
        except UnknownRecord as exc:
            if exc.field in ("(path)", "(method)", ""):
                return not_supported(operation)
            raise
        except DriverError as exc:  # a server that does not know the path at all
            if ": HTTP 404 " in str(exc) or ": HTTP 405 " in str(exc):
                return not_supported(operation)
            raise

    def declare(self, request: DeclareInput) -> Outcome:
        return self._optional("declare", "POST", self._url("declarations"), request.to_json())

    def collect_payments(self) -> Outcome:
        return self._optional("collect_payments", "POST", self._url("payments", "collect"), {})

    def receivables(self, period: str | None = None) -> Outcome:
        params = {"period": period} if period else None
        return self._optional("receivables", "GET", self._url("receivables"), params=params)

    def close(self) -> None:
        self.session.close()
