"""The HIS driver API over HTTP (version 1, paths under ``/his/v1/``): a Starlette app that
serves any :class:`~simulator.his.driver.HisDriver` — the reference HIS, or a vendor's Python
driver. docs/his-driver-api.openapi.yaml describes it; docs/his-driver.md explains it.

Every operation answers HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "refusal":
{...}}``; bad input answers 400 (the body is not a JSON object), 422 (a field is wrong) or 404
(an unknown visit or patient) with ``{"error": {"code", "field", "message"}}``.

The API has no authentication, so it refuses what a web page in a browser on this machine
could send (:mod:`mock_insurer.sameorigin`), 403 with ``{"error": {"code": "forbidden",
"field": "(header.Host)" or "(header.Origin)", ...}}``: a ``Host`` that names neither this
machine (``localhost``, a loopback address, the address the HIS listens on) nor one of the
``hosts`` it was told to listen on (DNS rebinding), and a POST whose ``Origin`` is not the
HIS's own (CSRF).

A request body must arrive in full within :data:`BODY_DEADLINE_S` of its head (408
``body_timeout``) and be at most :data:`MAX_BODY_BYTES` (413 ``too_large``); either answer closes
the connection, so a client that sends slowly holds none. ``GET /his/v1/info`` shows every URL
without its user-info (``http://***@host:port``): credentials put in ``--insurer-url`` are not
for the driver's callers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_insurer.gateway.asgi import BODY_DEADLINE_S
from mock_insurer.sameorigin import host_refusal, origin_refusal
from simulator.his.driver import BASE_PATH, HisDriver
from simulator.his.errors import DriverInputError
from simulator.his.operations import (
    ChargeInput,
    DayEndInput,
    DeclareInput,
    IdentifyInput,
    Outcome,
    RefundInput,
    RegisterInput,
    SettleInput,
    VisitInput,
)

__all__ = ["BODY_DEADLINE_S", "MAX_BODY_BYTES", "driver_app", "shown_url"]

#: The largest request body the driver API reads (a charge of hundreds of items is ~100 KiB).
MAX_BODY_BYTES = 1024 * 1024

logger = logging.getLogger(__name__)

_AUTHORITY = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)"
                        r"(?P<rest>.*)", re.DOTALL)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body, default=str), status_code=status,
                    media_type="application/json")


def _error(status: int, code: str, field: str, message: str, *,
           close: bool = False) -> Response:
    response = _json({"error": {"code": code, "field": field, "message": message}}, status)
    if close:  # the rest of the body is never read: the connection cannot be reused
        response.headers["Connection"] = "close"
    return response


def shown_url(url: str) -> str:
    """``url`` as it may be shown to anyone: its user-info (``user:password@``) replaced by
    ``***``; a URL without one, as it is."""
    found = _AUTHORITY.match(url)
    if found is None or "@" not in found["authority"]:
        return url
    return f"{found['scheme']}***@{found['authority'].rpartition('@')[2]}{found['rest']}"


def _shown(body: dict[str, Any]) -> dict[str, Any]:
    """An info answer with every ``*_url`` text shown by :func:`shown_url`."""
    return {key: shown_url(value) if key.endswith("_url") and isinstance(value, str) else value
            for key, value in body.items()}


async def _read(request: Request, deadline: float, *, optional: bool = False) -> Any:
    """The request's JSON body: 413 past :data:`MAX_BODY_BYTES`, 408 when it has not arrived
    in full within ``deadline`` seconds, 400 when it is not JSON, {} when empty and
    ``optional``."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):  # a slow client holds no connection
            async for chunk in request.stream():  # up to the limit, not a whole huge body
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _TooLarge()
                chunks.append(chunk)
    except TimeoutError:
        raise _TooSlow(deadline, size) from None
    raw = b"".join(chunks)
    if not raw.strip():
        if optional:
            return {}
        raise DriverInputError("(body)", "a JSON object is required")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _BadJson(str(exc)) from exc


class _TooLarge(DriverInputError):
    status = 413

    def __init__(self) -> None:
        super().__init__("(body)", f"larger than {MAX_BODY_BYTES // 1024} KiB: a driver-API "
                                   "request is a few KiB")


class _TooSlow(DriverInputError):
    status = 408

    def __init__(self, deadline: float, received: int) -> None:
        super().__init__("(body)", f"did not arrive in full within {deadline:g} s ({received} "
                                   "bytes received); the connection is closed: send it again")


class _BadJson(DriverInputError):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__("(body)", f"not JSON: {detail}")


Handler = Callable[[Request], Awaitable[Outcome]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            outcome = await handler(request)
        except DriverInputError as exc:
            code = {400: "bad_request", 404: "not_found", 408: "body_timeout",
                    413: "too_large"}.get(exc.status, "bad_input")
            return _error(exc.status, code, exc.field, exc.message,
                          close=exc.status in (408, 413))
        except ClientDisconnect:  # the caller left mid-body: nothing was done, nobody to tell
            logger.info("%s %s: the client disconnected before its body arrived",
                        request.method, request.url.path)
            return _error(400, "bad_request", "(body)", "the client disconnected", close=True)
        except Exception as exc:  # a bug in the HIS: say so in the driver API's shape
            logger.exception("driver operation failed")
            return _error(500, "internal", "", f"{type(exc).__name__}: {exc}")
        return _json(outcome.to_json())

    return endpoint


class _SameOrigin:
    """ASGI middleware: 403 for a foreign ``Host`` (DNS rebinding) or, on a POST, a foreign
    ``Origin`` (CSRF), before the request reaches a route."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = tuple(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = host_refusal(scope, self.hosts) or origin_refusal(scope)
            if refusal is not None:
                await _error(403, "forbidden", f"({refusal.where})",
                             refusal.message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def driver_app(driver: HisDriver, *, hosts: Iterable[str] = (),
               body_deadline_s: float = BODY_DEADLINE_S) -> Starlette:
    """The HTTP driver API in front of ``driver`` (whose methods run in a worker thread).

    ``hosts``: names the HIS was told to listen on (``--host``), accepted in ``Host`` besides
    ``localhost``, the loopback addresses and the address a connection arrived on.
    ``body_deadline_s``: seconds a request body may take to arrive in full (wall clock, from
    when the route starts reading it); slower is answered 408 and the connection closed."""

    def call(method: Callable[..., Outcome], *args: Any) -> Awaitable[Outcome]:
        return run_in_threadpool(method, *args)

    async def _body(request: Request, *, optional: bool = False) -> Any:
        return await _read(request, body_deadline_s, optional=optional)

    async def info(_request: Request) -> Outcome:
        outcome = await call(driver.info)
        return Outcome(outcome.ok, _shown(dict(outcome.body)))

    async def identify(request: Request) -> Outcome:
        return await call(driver.identify, IdentifyInput.from_json(await _body(request)))

    async def register(request: Request) -> Outcome:
        return await call(driver.register, RegisterInput.from_json(await _body(request)))

    async def visit(request: Request) -> Outcome:
        return await call(driver.visit, request.path_params["visit_id"])

    async def charge(request: Request) -> Outcome:
        return await call(driver.charge, request.path_params["visit_id"],
                          ChargeInput.from_json(await _body(request)))

    async def pre_settle(request: Request) -> Outcome:
        return await call(driver.pre_settle, request.path_params["visit_id"],
                          SettleInput.from_json(await _body(request, optional=True)))

    async def settle(request: Request) -> Outcome:
        return await call(driver.settle, request.path_params["visit_id"],
                          SettleInput.from_json(await _body(request, optional=True)))

    async def refund(request: Request) -> Outcome:
        return await call(driver.refund, request.path_params["visit_id"],
                          RefundInput.from_json(await _body(request, optional=True)))

    async def cancel(request: Request) -> Outcome:
        return await call(driver.cancel, request.path_params["visit_id"],
                          VisitInput.from_json(await _body(request, optional=True)))

    async def bill(request: Request) -> Outcome:
        return await call(driver.bill, request.path_params["visit_id"])

    async def day_end(request: Request) -> Outcome:
        return await call(driver.day_end, DayEndInput.from_json(await _body(request)))

    async def ledger(request: Request) -> Outcome:
        text = request.query_params.get("date")
        day = None
        if text:
            day = DayEndInput.from_json({"date": text}).date
        return await call(driver.ledger, day)

    async def declare(request: Request) -> Outcome:
        return await call(driver.declare, DeclareInput.from_json(await _body(request)))

    async def collect_payments(request: Request) -> Outcome:
        VisitInput.from_json(await _body(request, optional=True))  # nothing, or an operator
        return await call(driver.collect_payments)

    async def receivables(request: Request) -> Outcome:
        period = request.query_params.get("period") or None
        if period is not None:
            period = DeclareInput.from_json({"period": period}).period
        return await call(driver.receivables, period)

    base = BASE_PATH
    routes = [
        Route(f"{base}/info", _endpoint(info), methods=["GET"]),
        Route(f"{base}/identify", _endpoint(identify), methods=["POST"]),
        Route(f"{base}/visits", _endpoint(register), methods=["POST"]),
        Route(f"{base}/visits/{{visit_id}}", _endpoint(visit), methods=["GET"]),
        Route(f"{base}/visits/{{visit_id}}/charges", _endpoint(charge), methods=["POST"]),
        Route(f"{base}/visits/{{visit_id}}/pre-settle", _endpoint(pre_settle), methods=["POST"]),
        Route(f"{base}/visits/{{visit_id}}/settle", _endpoint(settle), methods=["POST"]),
        Route(f"{base}/visits/{{visit_id}}/refund", _endpoint(refund), methods=["POST"]),
        Route(f"{base}/visits/{{visit_id}}/cancel", _endpoint(cancel), methods=["POST"]),
        Route(f"{base}/visits/{{visit_id}}/bill", _endpoint(bill), methods=["GET"]),
        Route(f"{base}/day-end", _endpoint(day_end), methods=["POST"]),
        Route(f"{base}/ledger", _endpoint(ledger), methods=["GET"]),
        Route(f"{base}/declarations", _endpoint(declare), methods=["POST"]),
        Route(f"{base}/payments/collect", _endpoint(collect_payments), methods=["POST"]),
        Route(f"{base}/receivables", _endpoint(receivables), methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_SameOrigin, hosts=hosts)],
                     exception_handlers={
        404: lambda _r, _e: _error(404, "not_found", "(path)", "no such driver-API path"),
        405: lambda _r, _e: _error(405, "method_not_allowed", "(method)",
                                   "this path does not take that method")})


