"""The gateway as a raw ASGI callable: every POST under the service's base routes by ``infno``.

Order per message: read the body (bounded) → ``service.prepare`` → fault effects that stop the
message before it is handled (refuse, close, HTTP error, not-envelope; a delay sleeps and goes
on) → ``service.execute_async`` (the ledger's writer runs it and commits, on SQLite together
with the messages that arrived meanwhile) → fault effects on the answer (lose it, truncate it,
mangle it) → send. A fault never changes what was committed, only
what the caller sees; the record says which fault hit which message.
"""

from __future__ import annotations

import asyncio
import logging
import re

from starlette.types import Receive, Scope, Send

from mock_insurer.faults import Close, Delay, HttpError, LoseAnswer, Malformed, Refuse, effects
from mock_insurer.gateway.disposition import content_disposition
from mock_insurer.gateway.service import InsurerService, Prepared, Reply
from mock_insurer.wire.jsonio import dumps

__all__ = ["Gateway", "path_infno", "unavailable_reason"]

_log = logging.getLogger("cardsettle.insurer")

_INFNO_IN_PATH = re.compile(r"/(\d{4}[A-Z]?)/?$")


def path_infno(path: str) -> str | None:
    """The infno a client put at the end of the URL path (``<base>/2207``), if any."""
    match = _INFNO_IN_PATH.search(path)
    return match.group(1) if match else None


class Gateway:
    """ASGI app for the national interface's POST endpoint(s)."""

    def __init__(self, service: InsurerService) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive, self.service.settings.max_body_bytes + 1)
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
            _log.error("ledger unavailable, message %s answered 503: %s",
                       prepared.envelope.msgid if prepared.envelope else "(unparsed)",
                       unavailable_reason(exc))
            await effects.send_body(send, 503, self.service.unavailable_answer(prepared),
                                    b"application/json;charset=utf-8")
            return
        await self._answer(reply, scope, send)

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


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, cut at ``limit`` bytes (the parser refuses an over-long body)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if size < limit:
            chunks.append(chunk[: limit - size])
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
