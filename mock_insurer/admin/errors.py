"""The admin API's errors: each is one HTTP status, a stable code, a message and where.

A handler raises one of these for bad input (a query value, a body, an unknown id); the
routing layer turns it into ``{"error": {"code": ..., "message": ..., "where": ...}}`` with
the status. ``where`` names the query parameter, body field, path parameter or ``file:line``
that is wrong, so a user can fix it without reading code. Anything else that escapes a
handler is a bug, not an outcome.
"""

from __future__ import annotations

from collections.abc import Mapping

from mock_insurer.errors import InsurerError

__all__ = [
    "AdminError",
    "BadRequest",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RequestTimeout",
    "Unauthorized",
    "Unprocessable",
]


class AdminError(InsurerError):
    """An admin request that cannot be served as sent (4xx)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, where: str = "", code: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, dict[str, str]]:
        """The JSON body of the error answer."""
        return {"error": {"code": self.code, "message": self.message, "where": self.where}}


class BadRequest(AdminError):
    """A query value, path value or body that cannot be read (400)."""

    status = 400
    code = "bad_request"


class Unauthorized(AdminError):
    """No bearer token, or the wrong one (401)."""

    status = 401
    code = "unauthorized"


class Forbidden(AdminError):
    """No admin token is configured and the caller is not on this machine (403)."""

    status = 403
    code = "forbidden"


class NotFound(AdminError):
    """No such institution, person, item, message, visit, settlement, fault or path (404)."""

    status = 404
    code = "not_found"


class MethodNotAllowed(AdminError):
    """The path exists but not with this HTTP method (405)."""

    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(AdminError):
    """The request body is larger than the endpoint accepts (413)."""

    status = 413
    code = "payload_too_large"


class RequestTimeout(AdminError):
    """The request body did not arrive in full in time (408); the connection is closed."""

    status = 408
    code = "request_timeout"


class Unprocessable(AdminError):
    """A body that reads but says something unusable: a bad fault plan, a data file with a
    bad line, a date out of range (422)."""

    status = 422
    code = "invalid"


class OneProcessOnly(AdminError):
    """A change that lives in one process (a fault plan, the business clock, the drill, the
    in-memory reference data) asked of an insurer served by several (409)."""

    status = 409
    code = "one_process_only"
