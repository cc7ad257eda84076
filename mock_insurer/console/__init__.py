"""The drill console: a web page served by the insurer at ``/console`` for the drill coordinator.

One static page (``console.html``, ``console.css`` and the JavaScript modules ``console.js``
(the entry), ``api.js``, ``text.js``, ``panels.js``, ``feed.js`` beside this module: plain
JavaScript, no build step, nothing from a CDN) that polls the admin API from the browser: the
live message feed (``/admin/messages``), the drill and its current phase (``/admin/drill``), the
fault plan with a start and a stop button per fault (``/admin/faults``) and the counters
(``/admin/counters``). The page itself is public — it holds no data; the admin API it reads
asks for the admin token as usual (the coordinator types it once; the page keeps it in the
tab's ``sessionStorage``). Guide: ``docs/console.md``.

Routes (all ``GET``): ``/console`` and ``/console/`` (the page), ``/console/<name>.js`` for each
module, ``/console/console.css``, and ``/console/transactions.json`` (transaction numbers with their
Chinese and English names, from :data:`mock_insurer.schemas.catalog.TRANSACTIONS`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_insurer.schemas.catalog import TRANSACTIONS
from mock_insurer.wire.jsonio import dumps

__all__ = ["ASSETS", "CONTENT_SECURITY_POLICY", "asset", "console_routes", "transaction_names"]

ASSETS = {
    "console.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "text.js": "text/javascript; charset=utf-8",
    "panels.js": "text/javascript; charset=utf-8",
    "feed.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
"""The package files served, with their media types."""

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                           "form-action 'none'; frame-ancestors 'none'")
"""Only this insurer's own files and its admin API: no inline script, nothing from elsewhere."""

_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}


@functools.cache
def asset(name: str) -> bytes:
    """One of :data:`ASSETS`, read once from the package."""
    if name not in ASSETS:
        raise KeyError(name)
    return resources.files(__name__).joinpath(name).read_bytes()


@functools.cache
def transaction_names() -> bytes:
    """``{"2207": {"zh": "门诊结算", "en": "..."}, ...}`` as JSON."""
    return dumps({t.infno: {"zh": t.name_zh, "en": t.name_en} for t in TRANSACTIONS})


def _serve(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(_request: Request) -> Response:
        headers = dict(_HEADERS)
        if name.endswith(".html"):
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            headers["X-Frame-Options"] = "DENY"
        return Response(asset(name), media_type=ASSETS[name], headers=headers)

    serve.__name__ = f"console_{name.replace('.', '_')}"
    return serve


async def _names(_request: Request) -> Response:
    return Response(transaction_names(), media_type="application/json", headers=_HEADERS)


def console_routes() -> list[Route]:
    """The console's routes, to mount at the insurer's root."""
    page = _serve("console.html")
    return [
        Route("/console", page, methods=["GET"]),
        Route("/console/", page, methods=["GET"]),
        *[Route(f"/console/{name}", _serve(name), methods=["GET"])
          for name in ASSETS if name != "console.html"],
        Route("/console/transactions.json", _names, methods=["GET"]),
    ]
