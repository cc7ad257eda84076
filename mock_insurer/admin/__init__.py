"""The admin and inspection API under ``/admin``, and the JSON Schemas under ``/schemas/``.

``admin_routes(insurer)`` gives the Starlette routes the insurer mounts beside the gateway:

- ``/admin/...`` — inspection (institutions, persons, catalogue, messages, visits,
  settlements, counters) and control (fault plan, business clock, reset, data loads,
  settings, the drill being run), behind a bearer token or, with none configured, loopback only
  (:mod:`.auth`). JSON in and out; every refusal is a 4xx with
  ``{"error": {"code", "message", "where"}}``. Described by ``/admin/openapi.json``
  (``openapi.yaml`` in this package); a guide is in ``docs/admin-api.md``.
- ``/schemas/`` — the transactions' JSON Schemas (public).
- ``/console`` — the drill console (:mod:`mock_insurer.console`): a static page (public) whose
  data come from ``/admin`` with the coordinator's token.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount

from mock_insurer.admin.auth import AdminAuth
from mock_insurer.admin.control import control_ops
from mock_insurer.admin.documents import openapi, openapi_ops, schemas_routes
from mock_insurer.admin.drill import drill_ops
from mock_insurer.admin.errors import AdminError
from mock_insurer.admin.inspect import inspect_ops
from mock_insurer.admin.payers import payer_ops
from mock_insurer.admin.review import review_ops
from mock_insurer.admin.web import http_exception_response, routes
from mock_insurer.console import console_routes

if TYPE_CHECKING:
    from mock_insurer.gateway.app import Insurer

__all__ = ["AdminError", "admin_app", "admin_routes", "openapi", "schemas_app"]


class _Mount(Mount):
    """A mount whose prefix matches any path below it, control characters included (a plain
    Mount's ``.*`` stops at a newline, and the outer app would answer a plain-text 404)."""

    def __init__(self, path: str, app: Any) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def _app(route_list: list[Any], handlers: dict[Any, Any] | None = None) -> Starlette:
    return Starlette(routes=route_list,
                     exception_handlers={HTTPException: http_exception_response,
                                         **(handlers or {})})


def admin_app(insurer: Insurer) -> AdminAuth:
    """The ``/admin`` ASGI app (paths relative to the mount), behind its access check."""
    ops = [*inspect_ops(insurer.ledger), *control_ops(insurer), *drill_ops(insurer),
           *payer_ops(insurer.ledger), *review_ops(insurer), *openapi_ops()]
    down = {kind: insurer.ledger_unavailable for kind in insurer.ledger.unavailable}
    return AdminAuth(_app(routes(ops), down), insurer.config.admin_token,
                     insurer.config.host_names,
                     portal=lambda token: insurer.service.portal_institution(token))


def schemas_app() -> Starlette:
    """The ``/schemas`` ASGI app."""
    return _app(schemas_routes())


def admin_routes(insurer: Insurer) -> list[Any]:
    """Routes of the admin API, the schema documents and the drill console for ``insurer``."""
    return [_Mount("/admin", admin_app(insurer)), _Mount("/schemas", schemas_app()),
            *console_routes()]
