"""Who may use the admin API: a bearer token, or (with none configured) this machine only.

With ``InsurerConfig.admin_token`` set (the CLI fills it from ``--admin-token`` or
``CARDSETTLE_ADMIN_TOKEN``), every admin request must carry ``Authorization: Bearer <token>``;
a missing or wrong token is answered 401. With no token configured the API answers only
requests from the loopback interface (127.0.0.0/8, ``::1``) and 403 to anyone else, so that
a quick-start insurer on a shared network cannot be reset by a neighbour.

The OpenAPI description and the index of ``/admin/`` (:data:`PUBLIC_PATHS`) are readable
without a token: they hold no data.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_insurer.admin.errors import AdminError, Forbidden, Unauthorized
from mock_insurer.admin.web import error_response

__all__ = ["PUBLIC_PATHS", "AdminAuth", "check_access", "is_loopback"]

PUBLIC_PATHS = frozenset({"/", "/openapi.json"})
"""Paths under ``/admin`` that need no token (relative to the mount)."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (the peer address of the connection) is this machine."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def check_access(scope: Scope, token: str | None) -> None:
    """Raise :class:`Unauthorized`/:class:`Forbidden` unless the request may pass."""
    if token:
        given = _bearer(scope)
        if given is None:
            raise Unauthorized("this endpoint needs the header Authorization: Bearer <admin "
                               "token> (--admin-token or CARDSETTLE_ADMIN_TOKEN)",
                               where="header.Authorization")
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise Unauthorized("the admin token is wrong", where="header.Authorization")
        return
    client = scope.get("client")
    host = client[0] if client else None
    if not is_loopback(host):
        raise Forbidden("no admin token is configured, so the admin API answers only requests "
                        "from this machine; start the insurer with --admin-token to allow "
                        "others", where="client")


class AdminAuth:
    """ASGI middleware in front of the admin app (plain callable, no framework)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _relative_path(scope) not in PUBLIC_PATHS:
            try:
                check_access(scope, self.token)
            except AdminError as error:
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _relative_path(scope: Scope) -> str:
    """The path below the mount point (``/openapi.json`` for ``/admin/openapi.json``)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path
