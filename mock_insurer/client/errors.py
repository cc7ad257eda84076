"""The client SDK's errors: one root, one class per way a call can fail.

What a HIS must know first is whether the call may have *taken effect* at the insurer
(``effect == "unknown"``: a settlement may have been committed — reverse it with 2601 naming
this msgid, or query it with 5203, before settling again) or certainly *did not*
(``effect == "none"``: nothing happened; fix and retry with a new msgid, or show the message).
Fact sheet §5 and §7 ("Timeouts and retries"): the prescribed recovery after a timeout on a
settlement is reversal by original msgid, not a blind retry.

Every error carries the envelope the call built in ``request`` (as sent, parsed back from the
bytes; ``None`` only when no envelope was built), so a HIS can resend or reverse it without
copying :attr:`~mock_insurer.client.InsurerClient.last_request` first.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from mock_insurer.errors import InsurerError

if TYPE_CHECKING:
    from mock_insurer.client.answer import Answer

__all__ = [
    "ClientError",
    "ConnectionLost",
    "Effect",
    "GatewayError",
    "InsurerRefusal",
    "InsurerTimeout",
    "InsurerUnavailable",
    "MalformedAnswer",
    "RequestNotSent",
]

Effect = Literal["unknown", "none"]

_WHERE = re.compile(r"\[([^\[\]]*)\]\s*$")


class ClientError(InsurerError):
    """Root of the SDK's errors. ``msgid`` and ``infno`` name the call; ``effect`` says
    whether it may have taken effect (``"unknown"``) or not (``"none"``); ``request`` is the
    envelope the call built (``None`` when none was built)."""

    effect: Effect = "unknown"
    request: dict[str, Any] | None

    def __init__(self, message: str, *, msgid: str, infno: str,
                 effect: Effect | None = None,
                 request: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.msgid = msgid
        self.infno = infno
        self.request = request
        if effect is not None:
            self.effect = effect

    @property
    def effect_unknown(self) -> bool:
        """True when the insurer may have applied the request (reverse or query first)."""
        return self.effect == "unknown"


class RequestNotSent(ClientError):
    """Nothing was sent, because a setting or the input cannot be sent as given: a
    configuration or input error, never a network one (effect none). ``field`` names what
    is wrong — a setting (``base_url``, ``timeout``, ``auth.key``, ``auth.paasid``, a
    gateway header ``header:<name>``) or a field of the envelope by its path
    (``input.feedetail[0].pric``). Raised when the client or its auth is created (bad
    settings show at start-up) and by a call whose input holds a float, a NaN or infinite
    Decimal, or anything else JSON cannot carry exactly. ``last_request`` is left as it was:
    the message never left, so there is nothing to resend or reverse."""

    effect: Effect = "none"

    def __init__(self, message: str, *, field: str, msgid: str = "", infno: str = "",
                 request: dict[str, Any] | None = None) -> None:
        super().__init__(message, msgid=msgid, infno=infno, request=request)
        self.field = field


class InsurerTimeout(ClientError):
    """No answer within the timeout — none at all, or the answer's headers came and then
    the data stalled. The request may or may not have taken effect: reverse it with 2601
    (``omsgid`` = this msgid) or query it with 5203."""

    effect: Effect = "unknown"
    request: dict[str, Any]

    def __init__(self, message: str, *, msgid: str, infno: str,
                 request: dict[str, Any]) -> None:
        super().__init__(message, msgid=msgid, infno=infno, request=request)


class InsurerUnavailable(ClientError):
    """No connection could be made (refused, unreachable, connect timeout): nothing was sent,
    nothing happened. ``request`` is the envelope that could not be delivered."""

    effect: Effect = "none"
    request: dict[str, Any]

    def __init__(self, message: str, *, msgid: str, infno: str,
                 request: dict[str, Any]) -> None:
        super().__init__(message, msgid=msgid, infno=infno, request=request)


class ConnectionLost(ClientError):
    """The connection broke after the request was sent: closed or reset before an answer's
    headers arrived, or reset while its body was arriving. The effect is unknown."""

    effect: Effect = "unknown"
    request: dict[str, Any]

    def __init__(self, message: str, *, msgid: str, infno: str,
                 request: dict[str, Any]) -> None:
        super().__init__(message, msgid=msgid, infno=infno, request=request)


class GatewayError(ClientError):
    """An HTTP status other than 200, or a JSON answer that is not an envelope (e.g.
    ``{"code": "999", "msg": …}`` from a gateway). A 4xx means the gateway refused the
    request (effect none); a 5xx or a non-envelope answer leaves the effect unknown.
    ``status`` is the HTTP status, ``body`` the bytes received (empty when the body was cut
    off)."""

    request: dict[str, Any]

    def __init__(self, message: str, *, msgid: str, infno: str, status: int, body: bytes,
                 request: dict[str, Any], effect: Effect | None = None) -> None:
        chosen: Effect = effect or ("none" if 400 <= status < 500 else "unknown")
        super().__init__(message, msgid=msgid, infno=infno, effect=chosen, request=request)
        self.status = status
        self.body = body


class MalformedAnswer(ClientError):
    """HTTP 200 but not a readable envelope: garbage, not JSON, wrong types, or *truncated*
    (the headers announced more bytes than arrived before the connection closed; ``body`` is
    then empty). The insurer may have committed before the answer was mangled: effect
    unknown."""

    effect: Effect = "unknown"
    request: dict[str, Any]

    def __init__(self, message: str, *, msgid: str, infno: str, body: bytes,
                 request: dict[str, Any]) -> None:
        super().__init__(message, msgid=msgid, infno=infno, request=request)
        self.body = body


class InsurerRefusal(ClientError):
    """A well-formed answer with ``infcode`` ≠ 0 (the national interface uses -1): the
    insurer refused, nothing happened; ``err_msg`` is the text to show the cashier
    (``FSI-<what>[<where>]``), ``infcode`` the code as answered, ``answer`` the whole
    :class:`~mock_insurer.client.Answer`.

    Also raised, only when the client was made with ``strict_err_msg=True``, for ``infcode``
    0 with a non-empty ``err_msg`` (for centers where that means failure; fact sheet §5) —
    then the insurer reported success, so the effect is unknown."""

    request: dict[str, Any]

    def __init__(self, message: str, *, msgid: str, infno: str, err_msg: str,
                 answer: Answer, request: dict[str, Any], effect: Effect = "none") -> None:
        super().__init__(message, msgid=msgid, infno=infno, effect=effect, request=request)
        self.err_msg = err_msg
        self.infcode: int = answer.infcode
        self.answer = answer

    @property
    def where(self) -> str:
        """The locator at the end of ``err_msg`` (``"data.mdtrt_id"`` for
        ``FSI-…[data.mdtrt_id]``); ``""`` when the text has none."""
        found = _WHERE.search(self.err_msg)
        return found.group(1) if found else ""
