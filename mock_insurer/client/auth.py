"""Gateway authentication for the client (fact sheet §1.3): none (a local front-end
processor), the TIF signature headers, or a Kong ``apikey`` header. The signature itself is
computed in one place, :mod:`mock_insurer.wire.tif`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mock_insurer.wire.tif import tif_headers

__all__ = ["ApiKeyAuth", "Auth", "NoAuth", "TifAuth"]


class Auth(Protocol):
    """Gives the headers of one request (called for every send, resends included)."""

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

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]:
        return tif_headers(self.paasid, self.token, clock, nonce())


@dataclass(frozen=True)
class ApiKeyAuth:
    """Kong gateway: header ``apikey: <key>``."""

    key: str = field(repr=False)

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]:
        return {"apikey": self.key}
