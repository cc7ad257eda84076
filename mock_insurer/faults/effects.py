"""Applying the effects that touch the HTTP exchange itself, inside an ASGI app.

The gateway awaits these with the request's ``scope`` and ``send``; effects that change what
the insurer *does* (sign-in invalidated, clock skew, business error, delay via
``asyncio.sleep``) are the gateway's own and do not need this module.

Connection control. Resetting or closing a TCP connection is beyond ASGI; the server runner
(:mod:`mock_insurer.server`) puts an object in every request's scope under
``scope["extensions"]["cardsettle.transport"]`` (:data:`TRANSPORT_EXTENSION`) that can do it
(:class:`TransportControl`). When it is missing — the app is run by another server, or by
``httpx.ASGITransport`` in unit tests — the effects fall back:

- :func:`refuse`, :func:`close_without_answer` and :func:`lose_answer` raise
  :class:`TransportUnavailable`. The gateway should let it propagate: under
  ``httpx.ASGITransport`` the test's client call then raises it, which is how "no answer
  arrived" looks there. (Under :mod:`mock_insurer.server` it never happens.)
- :func:`send_truncated` sends the first half of the body as a complete response (the client
  gets text that does not parse, but no connection error).

What a client sees, on a real socket (``requests``): refuse → ``ConnectionError`` (reset by
peer); close → ``ConnectionError`` (remote end closed without a response); truncated →
``ChunkedEncodingError`` (incomplete read); lose_answer timeout → ``ReadTimeout`` if the
client's timeout is shorter than the hold.

Sources: ``shared/reference/nhsa-interface-facts.md`` §1.2 (clients treat non-200 as a
transport failure), §5 (``{"code":"999","msg":...}`` intermediary answers; Hunan's ``infcode``
0 + ``err_msg``), §7 "Timeouts and retries".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal, Protocol, runtime_checkable

from starlette.types import Scope, Send

from mock_insurer.errors import InsurerError

__all__ = [
    "GARBAGE_BODY",
    "TRANSPORT_EXTENSION",
    "TransportControl",
    "TransportUnavailable",
    "close_without_answer",
    "gateway_page",
    "http_error",
    "lose_answer",
    "refuse",
    "send_body",
    "send_truncated",
    "transport_of",
    "with_err_msg_on_success",
    "with_infcode_as_string",
]

#: The key of the connection-control object in ``scope["extensions"]``.
TRANSPORT_EXTENSION = "cardsettle.transport"

#: What ``malformed: garbage`` sends when the plan gives no body: neither JSON nor valid UTF-8
#: (a half-written GBK error page with stray bytes, as a broken proxy might pass on).
GARBAGE_BODY = (
    b"\x00\x1f\x8b<html><head><title>\xb7\xfe\xce\xf1\xc6\xf7\xc3\xa6</title></head>"
    b"<body>\xc7\xeb\xc9\xd4\xba\xf3\xd6\xd8\xca\xd4\xff\xfe"
)


@runtime_checkable
class TransportControl(Protocol):
    """Control of the TCP connection a request arrived on (provided by the server runner)."""

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (closed by either side)."""
        ...

    def abort(self) -> None:
        """Reset the connection (RST): ``SO_LINGER`` 0, then abort; pending output is lost."""

    def close(self) -> None:
        """Close the connection (FIN) after anything already written; no answer follows."""

    async def wait_closed(self) -> None:
        """Return once the server has seen the connection go."""

    async def hold(self, seconds: float) -> None:
        """Keep the connection open, answering nothing, for ``seconds`` (wall clock), or until
        the client goes away or the server shuts down, whichever is first."""


class TransportUnavailable(InsurerError):
    """An effect needs control of the connection and the server gave none (see the module
    docstring: let it propagate)."""

    def __init__(self, effect: str) -> None:
        self.effect = effect
        super().__init__(
            f"the fault effect {effect!r} needs control of the TCP connection, which this "
            f"server does not offer (scope['extensions'][{TRANSPORT_EXTENSION!r}] is missing); "
            "run the app with mock_insurer.server.run or start_in_thread"
        )


def transport_of(scope: Scope) -> TransportControl | None:
    """The connection control of this request, or ``None`` when the server gives none."""
    extensions = scope.get("extensions") or {}
    control = extensions.get(TRANSPORT_EXTENSION)
    return control if isinstance(control, TransportControl) else None


def _require(scope: Scope, effect: str) -> TransportControl:
    control = transport_of(scope)
    if control is None:
        raise TransportUnavailable(effect)
    return control


# --- dropping the connection ----------------------------------------------------------------


async def refuse(scope: Scope) -> None:
    """Reset the connection (RST) without answering. Return without sending anything."""
    control = _require(scope, "refuse")
    control.abort()
    await control.wait_closed()


async def close_without_answer(scope: Scope) -> None:
    """Close the connection (FIN) without answering. Return without sending anything."""
    control = _require(scope, "close")
    control.close()
    await control.wait_closed()


async def lose_answer(
    scope: Scope, how: Literal["close", "reset", "timeout"], after_ms: float
) -> None:
    """Lose the answer of a message that has been processed: hold the connection for
    ``after_ms`` milliseconds (wall clock; cut short if the client leaves or the server
    stops), then close it (``close``, ``timeout``) or reset it (``reset``). The caller must not
    send the answer. With ``how="timeout"`` ``after_ms`` should exceed the client's timeout."""
    control = _require(scope, "lose_answer")
    if after_ms > 0:
        await control.hold(after_ms / 1000)
    if how == "reset":
        control.abort()
    else:
        control.close()
    await control.wait_closed()


# --- answers that are not the envelope ------------------------------------------------------


def _content_type(body: bytes) -> bytes:
    text = body.lstrip()
    if text.startswith((b"{", b"[")):
        try:
            json.loads(body)
        except ValueError:
            pass
        else:
            return b"application/json;charset=utf-8"
    if text[:1] == b"<":
        return b"text/html;charset=utf-8"
    return b"text/plain;charset=utf-8"


async def send_body(
    send: Send, status: int, body: bytes, content_type: bytes | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Send one complete response: ``status``, ``body``, a content type (guessed from the
    body when not given: JSON, HTML or plain text) and any further ``headers`` (a file's
    ``content-disposition``)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type or _content_type(body)),
                (b"content-length", str(len(body)).encode("ascii")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def gateway_page(status: int) -> bytes:
    """A plain error page such as a reverse proxy in front of the center sends."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Server Error"
    title = f"{status} {phrase}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1>"
        "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode("ascii")


async def http_error(send: Send, status: int, body: str | bytes | None = None) -> None:
    """Answer HTTP ``status`` (5xx) with ``body`` (text as UTF-8; ``None`` = a gateway page)."""
    if body is None:
        data = gateway_page(status)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = body
    await send_body(send, status, data)


async def send_truncated(
    scope: Scope,
    send: Send,
    body: bytes,
    *,
    status: int = 200,
    content_type: bytes = b"application/json;charset=utf-8",
) -> None:
    """Send the real answer cut in half: the headers announce the full length, the first half
    of ``body`` follows, then the connection is closed (FIN). Without connection control the
    half is sent as a complete, shorter response."""
    half = body[: len(body) // 2]
    control = transport_of(scope)
    if control is None:
        await send_body(send, status, half, content_type)
        return
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": half, "more_body": True})
    control.close()
    await control.wait_closed()


# --- envelope variants (pure; the gateway renders the result) -------------------------------


def with_infcode_as_string(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The answer with ``infcode`` as a string (``0`` → ``"0"``), as a switch emits it."""
    out = dict(answer)
    if "infcode" in out:
        out["infcode"] = str(out["infcode"])
    return out


def with_err_msg_on_success(answer: Mapping[str, Any], err_msg: str) -> dict[str, Any]:
    """The answer with a non-empty ``err_msg`` whatever its ``infcode`` (the Hunan quirk:
    ``infcode`` 0 together with an ``err_msg``)."""
    out = dict(answer)
    out["err_msg"] = err_msg
    return out
