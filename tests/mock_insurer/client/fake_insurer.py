"""A tiny scripted HTTP server standing in for the insurer in the client tests."""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from mock_insurer.wire.envelope import build_answer
from mock_insurer.wire.jsonio import dumps
from tests.support.http_server import ThreadServer

__all__ = ["Behaviour", "FakeInsurer", "close_without_answer", "headers_then_stall", "ok",
           "reply", "reset_midway", "sleep_then"]

Behaviour = Callable[[BaseHTTPRequestHandler, bytes], None]


class FakeInsurer:
    """An HTTP server on 127.0.0.1 whose next answers are scripted; records every request."""

    def __init__(self) -> None:
        self.behaviour: Behaviour = reply(ok({}))
        self.requests: list[tuple[dict[str, str], bytes]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fake.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                fake.behaviour(self, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadServer(Handler)
        self.url = self.http.url

    def close(self) -> None:
        self.http.close()


def ok(output: Any, **extra: Any) -> dict[str, Any]:
    answer = build_answer(infcode=0, output=output, inf_refmsgid="110000202403010910110000000001",
                          refmsg_time="20240301091011000", respond_time="20240301091011005")
    answer.update(extra)
    return answer


def reply(envelope: dict[str, Any] | bytes, status: int = 200,
          content_type: str = "application/json;charset=utf-8",
          declared_length: int | None = None) -> Behaviour:
    body = envelope if isinstance(envelope, bytes) else dumps(envelope)

    def behave(handler: BaseHTTPRequestHandler, request: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(declared_length or len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def close_without_answer(handler: BaseHTTPRequestHandler, request: bytes) -> None:
    handler.close_connection = True


def sleep_then(seconds: float, then: Behaviour) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler, request: bytes) -> None:
        time.sleep(seconds)
        with contextlib.suppress(OSError):  # the client gave up and closed
            then(handler, request)

    return behave


def headers_then_stall(seconds: float, status: int = 200) -> Behaviour:
    """Send the status line, headers announcing 100 bytes and a few of them, then nothing
    for *seconds* (a center that hangs in the middle of its answer)."""
    def behave(handler: BaseHTTPRequestHandler, request: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b'{"infcode":0,')
        handler.wfile.flush()
        time.sleep(seconds)
        handler.close_connection = True

    return behave


def reset_midway(handler: BaseHTTPRequestHandler, request: bytes) -> None:
    """Send the headers and part of the body, then reset the connection (RST)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json;charset=utf-8")
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    handler.wfile.write(b'{"infcode":0,')
    handler.wfile.flush()
    time.sleep(0.05)
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.wfile = io.BytesIO()  # nothing left to flush on the closed socket
    handler.close_connection = True
