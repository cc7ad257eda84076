"""Who may use the admin API: a bearer token, or (with none configured) this machine only.

With ``InsurerConfig.admin_token`` set (the CLI fills it from ``--admin-token`` or
``CARDSETTLE_ADMIN_TOKEN``), every admin request must carry ``Authorization: Bearer <token>``;
a missing or wrong token is answered 401. With no token configured the API answers only
requests from the loopback interface (127.0.0.0/8, ``::1``) and 403 to anyone else, so that
a quick-start insurer on a shared network cannot be reset by a neighbour.

A browser on this machine is not trusted for being there (:mod:`mock_insurer.sameorigin`):
without a token the request's ``Host`` must name this machine (``localhost``, a loopback address, or the
address the insurer listens on), so that a web page cannot read the API through a DNS name of
its own (DNS rebinding); and with or without a token a state-changing request (POST, PUT,
PATCH, DELETE) whose ``Origin`` is not the insurer's own is refused (CSRF). Both are 403.
With a token the ``Host`` is not checked: a page cannot send the bearer header, and an
insurer started with a token is meant to be reached from other machines, by any name (a
reverse proxy included).

The OpenAPI description and the index of ``/admin/`` (:data:`PUBLIC_PATHS`) are readable
without a token: they hold no data.

An institution's **settlement-portal credential** (``credentials.portal`` in the institutions
file) is a bearer token too, whether or not an admin token is configured and from any address:
it opens only the operations marked ``portal`` (declaring, reading declarations and payments),
for that institution's own data (:data:`~mock_insurer.admin.web.PORTAL_SCOPE`). So a HIS is
given its hospital's portal credential, not the insurer's admin token.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_insurer.admin.errors import AdminError, Forbidden, Unauthorized
from mock_insurer.admin.web import PORTAL_SCOPE, error_response
from mock_insurer.sameorigin import host_refusal, normal_host, origin_refusal

__all__ = ["PUBLIC_PATHS", "WRONG_TOKEN", "AdminAuth", "PortalLookup", "check_access", "is_loopback"]

PortalLookup = Callable[[str], "str | None"]
"""The institution whose settlement-portal credential a bearer token is, or None."""

WRONG_TOKEN = ("令牌既不是管理令牌，也不是任何机构的结算平台凭证 / the token is neither the "
               "admin token nor an institution's settlement-portal credential")
"""The 401 of a bearer token that opens nothing (a HIS may be holding the wrong one)."""

PUBLIC_PATHS = frozenset({"/", "/openapi.json"})
"""Paths under ``/admin`` that need no token (relative to the mount)."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (the peer address of the connection) is this machine."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(normal_host(host)).is_loopback  # ::ffff:127.0.0.1 too
    except ValueError:
        return False


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def check_access(scope: Scope, token: str | None, hosts: Iterable[str] = (),
                 portal: PortalLookup | None = None) -> str | None:
    """Raise :class:`Unauthorized`/:class:`Forbidden` unless the request may pass; return the
    institution whose settlement-portal credential it carries (``portal`` finds it), or None
    for the admin token or, with none configured, a request from this machine.

    ``hosts``: names the insurer was told to listen on, accepted in ``Host`` besides the
    loopback names and the address the connection arrived on (loopback mode only)."""
    given = _bearer(scope)
    if given is not None and portal is not None and not (
            token and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))):
        institution = portal(given)
        if institution is not None:
            _check_origin(scope)
            return institution
    if token:
        if given is None:
            raise Unauthorized("this endpoint needs the header Authorization: Bearer <admin "
                               "token> (--admin-token or CARDSETTLE_ADMIN_TOKEN)",
                               where="header.Authorization")
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise Unauthorized(WRONG_TOKEN, where="header.Authorization")
    else:
        client = scope.get("client")
        host = client[0] if client else None
        if not is_loopback(host):
            raise Forbidden("no admin token is configured, so the admin API answers only "
                            "requests from this machine; start the insurer with --admin-token "
                            "to allow others", where="client")
        refusal = host_refusal(scope, hosts)
        if refusal is not None:
            raise Forbidden(refusal.message + " (or start the insurer with --admin-token)",
                            where=refusal.where)
    _check_origin(scope)
    return None


def _check_origin(scope: Scope) -> None:
    refusal = origin_refusal(scope)
    if refusal is not None:
        raise Forbidden(refusal.message, where=refusal.where)


class AdminAuth:
    """ASGI middleware in front of the admin app (plain callable, no framework)."""

    def __init__(self, app: ASGIApp, token: str | None, hosts: Iterable[str] = (),
                 portal: PortalLookup | None = None) -> None:
        self.app = app
        self.token = token or None
        self.hosts = tuple(hosts)
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _relative_path(scope) not in PUBLIC_PATHS:
            try:
                institution = check_access(scope, self.token, self.hosts, self.portal)
            except AdminError as error:
                await error_response(error)(scope, receive, send)
                return
            if institution is not None:
                scope[PORTAL_SCOPE] = institution
        await self.app(scope, receive, send)


def _relative_path(scope: Scope) -> str:
    """The path below the mount point (``/openapi.json`` for ``/admin/openapi.json``)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path
