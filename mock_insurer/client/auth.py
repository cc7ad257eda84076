"""Gateway authentication for the client (fact sheet §1.3): none (a local front-end
processor), the TIF signature headers, or a Kong ``apikey`` header. The signature itself is
computed in one place, :mod:`mock_insurer.wire.tif`.

What goes into a header is checked when the auth is created (an empty key, spaces around
it, characters outside printable ASCII): the mistake shows at start-up as a
:class:`~mock_insurer.client.errors.RequestNotSent` naming the setting, not as a refusal
or an HTTP library's exception at the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mock_insurer.client.errors import RequestNotSent
from mock_insurer.wire.tif import tif_headers

__all__ = ["ApiKeyAuth", "Auth", "NoAuth", "TifAuth", "header_problem"]

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789"
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def header_problem(name: str, value: object, *, secret: bool = False) -> str | None:
    """What makes ``name: value`` unfit to send as a gateway header, or ``None``. A name is
    an HTTP token; a value is non-empty printable ASCII without spaces at either end (a
    gateway compares it as it is; a space pasted with a key makes every call fail). A
    *secret* value is not repeated in the text."""
    if not name or not set(name) <= _TOKEN_CHARS:
        return f"the header name {name!r} is not an HTTP token"
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not text"
    if not value:
        return "is empty"
    shown = "" if secret else f" ({value!r})"
    if value != value.strip():
        return f"has spaces at the start or end{shown}"
    odd = next((ch for ch in value if not " " <= ch <= "~"), None)
    if odd is not None:
        return f"contains {odd!r}{shown}: only printable ASCII can be sent in a header"
    return None


def _check(setting: str, value: object, *, secret: bool = False) -> None:
    problem = header_problem("x", value, secret=secret)
    if problem is not None:
        raise RequestNotSent(f"{setting} {problem}; nothing can be sent with it", field=setting)


class Auth(Protocol):
    """Gives the headers of one request (called for every send, resends included). The
    client checks what it gives before sending (:func:`header_problem`)."""

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]: ...


@dataclass(frozen=True)
class NoAuth:
    """No gateway authentication."""

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class TifAuth:
    """TIF gateway: ``x-tif-paasid``, ``x-tif-timestamp`` (seconds), ``x-tif-nonce`` (new each
    request), ``x-tif-signature``."""

    paasid: str
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        _check("auth.paasid", self.paasid)
        if not isinstance(self.token, str) or not self.token:
            raise RequestNotSent("auth.token is empty or not text; nothing can be signed with it",
                                 field="auth.token")

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]:
        return tif_headers(self.paasid, self.token, clock, nonce())


@dataclass(frozen=True)
class ApiKeyAuth:
    """Kong gateway: header ``apikey: <key>``."""

    key: str = field(repr=False)

    def __post_init__(self) -> None:
        _check("auth.key", self.key, secret=True)

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]:
        return {"apikey": self.key}
