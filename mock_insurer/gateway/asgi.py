"""The gateway as a raw ASGI callable: every POST under the service's base routes by ``infno``.

Order per message: read the body (bounded in size, and in time by :data:`BODY_DEADLINE_S`) →
``service.prepare`` → fault effects that stop the message before it is handled (refuse, close,
HTTP error, not-envelope; a delay sleeps and goes on) → ``service.execute_async`` (the ledger's
writer runs it and commits, on SQLite together with the messages that arrived meanwhile) →
fault effects on the answer (lose it, truncate it, mangle it) → send. A fault never changes what
was committed, only what the caller sees; the record says which fault hit which message.

A body that cannot be read — a ``Content-Length`` over the limit (refused before anything is
read), a body that passes the limit while it arrives (reading stops there), a body not complete
within :data:`BODY_DEADLINE_S` — is answered like any other unreadable message (HTTP 200, an
envelope with ``infcode`` -1, recorded as refused) with ``Connection: close``: what the client
still sends is never handled (the server drops it for a few seconds, then closes: the
lingering close of :mod:`mock_insurer.server`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

from starlette.types import Receive, Scope, Send

from mock_insurer.faults import Close, Delay, HttpError, LoseAnswer, Malformed, Refuse, effects
from mock_insurer.gateway.disposition import content_disposition
from mock_insurer.gateway.service import InsurerService, Prepared, Reply
from mock_insurer.refusals import Refusal
from mock_insurer.wire.jsonio import dumps
from mock_insurer.wire.outcomes import Deviation
from mock_insurer.wire.texts import WIRE_TEXTS, fsi

__all__ = ["BODY_DEADLINE_S", "Gateway", "path_infno", "unavailable_reason"]

#: Seconds a request's body may take to arrive in full, from the moment its headers were read.
#: 2 MB (the largest body accepted) arrives in this time on a link of 70 KB/s; a client that
#: sends slower, or stops half-way, is refused and disconnected instead of holding a
#: connection and up to 2 MB of memory indefinitely.
BODY_DEADLINE_S = 30.0
#: The err_msg's text of a body not complete in time (``FSI-<text>[body]``, code ``body_timeout``).
BODY_TIMEOUT_TEXT = "报文未在{seconds}秒内传输完毕，连接已关闭，请检查网络后重发"
_CLOSE = ((b"connection", b"close"),)

_log = logging.getLogger("cardsettle.insurer")

_INFNO_IN_PATH = re.compile(r"/(\d{4}[A-Z]?)/?$")


def path_infno(path: str) -> str | None:
    """The infno a client put at the end of the URL path (``<base>/2207``), if any."""
    match = _INFNO_IN_PATH.search(path)
    return match.group(1) if match else None


class Gateway:
    """ASGI app for the national interface's POST endpoint(s)."""

    def __init__(self, service: InsurerService, *,
                 body_deadline_s: float = BODY_DEADLINE_S) -> None:
        self.service = service
        self.body_deadline_s = body_deadline_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.service.settings.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:  # refused unread
            await self._unreadable(scope, send, b"", _too_large(
                limit, f"Content-Length {declared}, limit {limit}: refused unread"))
            return
        chunks: list[bytes] = []
        try:
            async with asyncio.timeout(self.body_deadline_s):
                complete = await _read_body(receive, limit, chunks)
        except TimeoutError:
            await self._unreadable(scope, send, b"".join(chunks), _timed_out(
                self.body_deadline_s, sum(map(len, chunks))), waited=self.body_deadline_s)
            return
        body = b"".join(chunks)
        if not complete:  # passed the limit: reading stopped there
            await self._unreadable(scope, send, body, _too_large(
                limit, f"more than {limit} bytes: reading stopped there"))
            return
        # headers matter only to gateway authentication, and Content-Type to reading the body;
        # whitespace around a value is not part of it (RFC 9110 §5.5), a key read from a file
        # with a trailing space included
        headers = ({} if self.service.auth.mode == "none" else
                   {k.decode("latin-1"): v.decode("latin-1").strip()
                    for k, v in scope["headers"]})
        prepared = self.service.prepare(body, path_infno=path_infno(scope["path"]),
                                        headers=headers, content_type=_content_type(scope))
        try:
            if prepared.hit is not None and await self._before(prepared, scope, send):
                return
            reply = await self.service.execute_async(prepared)
        except self.service.ledger.unavailable as exc:  # one line in the log, a 503 envelope
            if isinstance(exc, self.service.ledger.bugs):
                raise
            _log.error("ledger unavailable, message %s answered 503: %s",
                       prepared.envelope.msgid if prepared.envelope else "(unparsed)",
                       unavailable_reason(exc))
            await effects.send_body(send, 503, self.service.unavailable_answer(prepared),
                                    b"application/json;charset=utf-8")
            return
        await self._answer(reply, scope, send)

    async def _unreadable(self, scope: Scope, send: Send, body: bytes,
                          refused: tuple[Refusal, Deviation], *, waited: float = 0.0) -> None:
        """Answer and record a body that could not be read (too large, too slow) as any
        unparsable message is (no fault applies: it names no institution), then close the
        connection (``Connection: close``): the rest of the body is never read. ``waited``:
        seconds since the request arrived (its record's time and duration)."""
        refusal, deviation = refused
        service = self.service
        prepared = Prepared(body=body, received_ms=service.wall_ms() - round(waited * 1000),
                            started=service.timer() - waited,
                            arrived=service.clock() - timedelta(seconds=waited),
                            refusal=refusal, deviations=[deviation])
        _log.warning("gateway %s refused from %s: %s", scope.get("path", ""),
                     _peer(scope), deviation.detail)
        try:
            reply = await service.execute_async(prepared)
        except service.ledger.unavailable as exc:
            if isinstance(exc, service.ledger.bugs):
                raise
            _log.error("ledger unavailable, unreadable message answered 503: %s",
                       unavailable_reason(exc))
            await effects.send_body(send, 503, service.unavailable_answer(prepared),
                                    b"application/json;charset=utf-8", _CLOSE)
            return
        await effects.send_body(send, reply.status, reply.body,
                                reply.content_type.encode("latin-1"), _CLOSE)

    async def _before(self, prepared: Prepared, scope: Scope, send: Send) -> bool:
        """Effects before handling; True when the message ends here."""
        assert prepared.hit is not None
        effect = prepared.hit.effect
        if isinstance(effect, Delay):
            await asyncio.sleep((prepared.hit.delay_ms or 0.0) / 1000.0)
            return False
        if isinstance(effect, Refuse):
            await self._record(prepared, None, effect.kind)
            await effects.refuse(scope)
            return True
        if isinstance(effect, Close):
            await self._record(prepared, None, effect.kind)
            await effects.close_without_answer(scope)
            return True
        if isinstance(effect, HttpError):
            await self._record(prepared, effect.status, effect.kind)
            await effects.http_error(send, effect.status, effect.body)
            return True
        if isinstance(effect, Malformed) and effect.how == "not_envelope":
            await self._record(prepared, 200, effect.kind)
            await effects.send_body(send, 200, effect.not_envelope_body.encode("utf-8"))
            return True
        return False

    async def _record(self, prepared: Prepared, status: int | None, effect: str) -> None:
        await self.service.record_fault_only_async(prepared, http_status=status, effect=effect)

    async def _answer(self, reply: Reply, scope: Scope, send: Send) -> None:
        effect = reply.hit.effect if reply.hit is not None else None
        if isinstance(effect, LoseAnswer):
            await effects.lose_answer(scope, effect.how, effect.hold_ms)
            return
        body = reply.body
        if isinstance(effect, Malformed) and reply.answer is not None:
            if effect.how == "truncated":
                await effects.send_truncated(scope, send, body)
                return
            if effect.how == "garbage":
                garbage = effect.body.encode("utf-8") if effect.body else effects.GARBAGE_BODY
                await effects.send_body(send, 200, garbage, b"application/json;charset=utf-8")
                return
            if effect.how == "infcode_string":
                body = dumps(effects.with_infcode_as_string(reply.answer))
            elif effect.how == "err_msg_on_success" and reply.answer.get("infcode") == 0:
                body = dumps(effects.with_err_msg_on_success(reply.answer,
                                                             effect.success_err_msg))
        headers = (((b"content-disposition", content_disposition(reply.filename)),)
                   if reply.filename is not None else ())
        await effects.send_body(send, reply.status, body, reply.content_type.encode("latin-1"),
                                headers)


def unavailable_reason(exc: BaseException) -> str:
    """The database's reason, on one line, without SQLAlchemy's statement and links."""
    reason = getattr(exc, "orig", None) or exc
    return " ".join(str(reason).split("\n")[0].split())[:300]


def _content_type(scope: Scope) -> str:
    """The request's Content-Type header ("" when absent)."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def _content_length(scope: Scope) -> int | None:
    """The request's declared Content-Length (None when absent: a chunked body)."""
    for key, value in scope["headers"]:
        if key == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() else None  # the server checked it already
    return None


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "?"


def _too_large(limit: int, detail: str) -> tuple[Refusal, Deviation]:
    """The refusal of a body over ``limit`` bytes: what :func:`parse_request` answers to one."""
    text = fsi(WIRE_TEXTS["body_too_large"].format(limit=limit), "body")
    return Refusal("body_too_large", text), Deviation("body_too_large", "body", detail)


def _timed_out(seconds: float, received: int) -> tuple[Refusal, Deviation]:
    """The refusal of a body not complete within ``seconds``."""
    text = fsi(BODY_TIMEOUT_TEXT.format(seconds=f"{seconds:g}"), "body")
    return Refusal("body_timeout", text), Deviation(
        "body_timeout", "body", f"{received} bytes received, body not complete in {seconds:g} s")


async def _read_body(receive: Receive, limit: int, chunks: list[bytes]) -> bool:
    """Read the request body into ``chunks`` (what arrived stays there should the caller's
    deadline cut the reading). False when it is longer than ``limit`` bytes: reading stops
    once it passes, with ``limit`` + 1 bytes kept. A client that leaves mid-body leaves what
    it sent (the parser refuses it)."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return True
        chunk = message.get("body", b"")
        if size + len(chunk) > limit:
            chunks.append(chunk[: limit + 1 - size])
            return False
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return True
