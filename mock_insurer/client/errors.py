"""The client SDK's errors: one root, one class per way a call can fail.

What a HIS must know first is whether the call may have *taken effect* at the insurer
(``effect == "unknown"``: a settlement may have been committed — reverse it with 2601 naming
this msgid, or query it with 5203, before settling again) or certainly *did not*
(``effect == "none"``: nothing happened; fix and retry with a new msgid, or show the message).
Fact sheet §5 and §7 ("Timeouts and retries"): the prescribed recovery after a timeout on a
settlement is reversal by original msgid, not a blind retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

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
]

Effect = Literal["unknown", "none"]


class ClientError(InsurerError):
    """Root of the SDK's errors. ``msgid`` and ``infno`` name the call; ``effect`` says
    whether it may have taken effect (``"unknown"``) or not (``"none"``)."""

    effect: Effect = "unknown"

    def __init__(self, message: str, *, msgid: str, infno: str,
                 effect: Effect | None = None) -> None:
        super().__init__(message)
        self.msgid = msgid
        self.infno = infno
        if effect is not None:
            self.effect = effect

    @property
    def effect_unknown(self) -> bool:
        """True when the insurer may have applied the request (reverse or query first)."""
        return self.effect == "unknown"


class InsurerTimeout(ClientError):
    """No answer within the timeout. The request may or may not have taken effect: reverse
    it with 2601 (``omsgid`` = this msgid) or query it with 5203."""

    effect: Effect = "unknown"


class InsurerUnavailable(ClientError):
    """No connection could be made (refused, unreachable, connect timeout): nothing was sent,
    nothing happened."""

    effect: Effect = "none"


class ConnectionLost(ClientError):
    """The connection broke after the request was sent, with no or a partial answer. The
    effect is unknown."""

    effect: Effect = "unknown"


class GatewayError(ClientError):
    """An HTTP status other than 200, or a JSON answer that is not an envelope (e.g.
    ``{"code": "999", "msg": …}`` from a gateway). A 4xx means the gateway refused the
    request (effect none); a 5xx or a non-envelope answer leaves the effect unknown."""

    def __init__(self, message: str, *, msgid: str, infno: str, status: int, body: bytes,
                 effect: Effect | None = None) -> None:
        chosen: Effect = effect or ("none" if 400 <= status < 500 else "unknown")
        super().__init__(message, msgid=msgid, infno=infno, effect=chosen)
        self.status = status
        self.body = body


class MalformedAnswer(ClientError):
    """HTTP 200 but the body is not a readable envelope (truncated, garbage, wrong types).
    The insurer may have committed before the answer was mangled: effect unknown."""

    effect: Effect = "unknown"

    def __init__(self, message: str, *, msgid: str, infno: str, body: bytes) -> None:
        super().__init__(message, msgid=msgid, infno=infno)
        self.body = body


class InsurerRefusal(ClientError):
    """A well-formed answer with ``infcode`` -1: the insurer refused, nothing happened;
    ``err_msg`` is the text to show the cashier. Also raised, when the client's
    ``strict_err_msg`` is on, for ``infcode`` 0 with a non-empty ``err_msg`` (a Hunan quirk,
    fact sheet §5) — then the insurer reported success, so the effect is unknown."""

    def __init__(self, message: str, *, msgid: str, infno: str, err_msg: str,
                 answer: Answer, effect: Effect = "none") -> None:
        super().__init__(message, msgid=msgid, infno=infno, effect=effect)
        self.err_msg = err_msg
        self.answer = answer
