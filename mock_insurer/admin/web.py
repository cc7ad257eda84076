"""The admin API's HTTP plumbing: JSON answers, bounded bodies, and the endpoint wrapper.

An endpoint is a plain function ``work(call: AdminCall) -> Any`` that returns JSON-ready data
(Decimal yuan become JSON numbers written exactly, as on the wire) or raises an
:class:`~mock_insurer.admin.errors.AdminError`. :func:`endpoint` turns it into a Starlette
endpoint that reads the body (bounded), runs the work in a worker thread (it talks to the
ledger) and answers JSON, or the error as ``{"error": {...}}`` with its status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_insurer.admin.errors import (
    AdminError,
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
)
from mock_insurer.admin.params import Query
from mock_insurer.gateway.asgi import BODY_DEADLINE_S
from mock_insurer.wire.jsonio import dumps

__all__ = [
    "JSON",
    "MAX_BODY",
    "MAX_DATA_BODY",
    "PORTAL_SCOPE",
    "AdminCall",
    "Op",
    "Work",
    "endpoint",
    "error_response",
    "http_exception_response",
    "json_response",
    "routes",
]

JSON = "application/json"
MAX_BODY = 1_000_000
"""Largest body (bytes) of a fault plan, a clock setting or a reset."""
MAX_DATA_BODY = 512_000_000
"""Largest data file (bytes) posted to ``/admin/population``, ``/catalogue``, ``/institutions``."""
PORTAL_SCOPE = "cardsettle.portal"
"""The ASGI scope's key for the institution whose settlement-portal credential the request
carries (set by :class:`~mock_insurer.admin.auth.AdminAuth`); absent with the admin token."""


@dataclass(frozen=True, slots=True)
class AdminCall:
    """One admin request as the work function sees it: path values, query, headers, body."""

    path: Mapping[str, str]
    query: Query
    headers: Mapping[str, str]
    body: bytes
    portal: str | None = None
    """The institution (``fixmedins_code``) whose settlement-portal credential the request
    carries: it may see and declare for itself only. None: the admin token (or loopback)."""

    @property
    def media_type(self) -> str:
        """The body's media type, lower case, without parameters (``""`` when not given)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def json_response(data: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type=JSON, headers=dict(headers or {}))


def error_response(error: AdminError) -> Response:
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="cardsettle-admin"')
    return json_response(error.body(), error.status, headers)


async def http_exception_response(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route, wrong method) as the admin API's JSON error."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    path = request.url.path
    if status == 405:
        allow = (exc.headers or {}).get("Allow", "") if isinstance(exc, HTTPException) else ""
        return error_response(MethodNotAllowed(
            f"{request.method} is not allowed on {path}" + (f"; use {allow}" if allow else ""),
            where="method", headers={"Allow": allow} if allow else None))
    if status == 404:
        return error_response(NotFound(f"no such endpoint: {path}", where="path"))
    return error_response(BadRequest(str(getattr(exc, "detail", "bad request")),
                                     where="request"))


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it grows past ``limit`` bytes, and with 408 when it has
    not arrived in full within :data:`~mock_insurer.gateway.asgi.BODY_DEADLINE_S` (the
    gateway's deadline); either closes the connection."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 15
                                                      or int(declared) > limit):
        raise PayloadTooLarge(f"the body is {declared[:20]} bytes; at most {limit} are "
                              "accepted", where="body")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_DEADLINE_S):  # a slow client holds no connection
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the body is larger than {limit} bytes", where="body",
                                          headers={"Connection": "close"})
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(f"the body did not arrive in full within {BODY_DEADLINE_S:g} s "
                             f"({size} bytes received); send it again", where="body",
                             headers={"Connection": "close"}) from None
    return b"".join(chunks)


Work = Callable[[AdminCall], Any]
"""An endpoint's work: JSON-ready data (or a ready Response) from one admin request."""


def _check_names(given: Iterable[str], known: frozenset[str]) -> None:
    for name in given:
        if name not in known:
            expected = ", ".join(sorted(known)) if known else "no query parameters"
            raise BadRequest(f"unknown query parameter {name[:100]!r}; this endpoint takes "
                             f"{expected}", where=name[:100])


def _portal_refusal(institution: str) -> Forbidden:
    return Forbidden(f"this is the settlement-portal credential of {institution[:100]}: it may "
                     "declare that institution's months, withdraw a declaration not yet "
                     "reviewed and read its declarations and payments (POST "
                     "/admin/declarations, DELETE /admin/declarations/ID, GET "
                     "/admin/declarations[/ID], GET /admin/payments); everything else needs "
                     "the admin token",
                     where="header.Authorization")


def endpoint(work: Work, *, body_limit: int = MAX_BODY, params: Iterable[str] = (),
             portal: bool = False) -> Callable[[Request], Any]:
    """A Starlette endpoint running ``work`` in a worker thread and answering its JSON.

    ``params`` are the query parameters the endpoint takes; any other is refused (400), so
    that a misspelt filter is reported instead of silently matching everything. ``portal``:
    an institution's settlement-portal credential may call it (the work then sees
    ``call.portal`` and keeps to that institution); otherwise such a credential is refused
    (403)."""
    known = frozenset(params)

    async def handle(request: Request) -> Response:
        institution = request.scope.get(PORTAL_SCOPE)
        try:
            if institution is not None and not portal:
                raise _portal_refusal(institution)
            _check_names(request.query_params.keys(), known)
            body = b""
            if request.method in ("POST", "PUT", "PATCH"):
                body = await _read_body(request, body_limit)
            call = AdminCall(path=dict(request.path_params),
                             query=Query(dict(request.query_params)),
                             headers={k.lower(): v for k, v in request.headers.items()},
                             body=body, portal=institution)
            result = await run_in_threadpool(work, call)
        except AdminError as error:
            return error_response(error)
        if isinstance(result, Response):
            return result
        return json_response(result)

    handle.__name__ = getattr(work, "__name__", "admin_endpoint")
    return handle


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of the admin API: method, path (relative to the mount) and its work."""

    method: str
    path: str
    work: Work
    params: tuple[str, ...] = ()
    body_limit: int = MAX_BODY
    portal: bool = False
    """Open to an institution's settlement-portal credential (for its own data only)."""


def routes(ops: Iterable[Op]) -> list[Route]:
    """One Starlette route per path, dispatching by method (so that a wrong method is
    answered 405 with an ``Allow`` header naming every method of the path)."""
    by_path: dict[str, dict[str, Callable[[Request], Any]]] = {}
    for op in ops:
        by_path.setdefault(op.path, {})[op.method] = endpoint(
            op.work, body_limit=op.body_limit, params=op.params, portal=op.portal)
    built = []
    for path, handlers in by_path.items():

        async def dispatch(request: Request,
                           handlers: dict[str, Callable[[Request], Any]] = handlers) -> Any:
            method = "GET" if request.method == "HEAD" else request.method
            return await handlers[method](request)

        built.append(Route(path, dispatch, methods=sorted(handlers)))
    return built
