"""A hostile insurer for the reference HIS's tests: a tiny HTTP proxy in front of the real mock
insurer that passes every message on and, when a test says so, edits the answer the insurer
gave (its content well-formed JSON, ``infcode`` 0, but unusable), replaces it with bytes of its
own, or trickles it. Keyed by ``infno`` for the national interface and by ``"METHOD /path"``
for the portal (the mock's admin API)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import requests

from mock_insurer.wire.jsonio import dumps, loads
from tests.support.http_server import ThreadServer

__all__ = ["HostileInsurer", "Raw", "Tamper"]

Tamper = Callable[[dict[str, Any]], Any]
"""Edits the parsed answer in place (its return value is ignored)."""


class Raw:
    """An answer of the proxy's own: *body* with *content_type*; *every* > 0 sends it a byte
    at a time, *every* seconds apart."""

    def __init__(self, body: bytes, content_type: str = "application/json;charset=utf-8",
                 *, every: float = 0.0) -> None:
        self.body = body
        self.content_type = content_type
        self.every = every


class HostileInsurer:
    """The proxy (on 127.0.0.1) in front of *upstream*; :meth:`once` plans what to do to the
    next answer of a message, :meth:`always` to every one."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._once: dict[str, list[Tamper | Raw]] = {}
        self._always: dict[str, Tamper | Raw] = {}
        self._lock = threading.Lock()
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_GET(self) -> None:
                proxy._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadServer(Handler)
        self.url = self.http.url

    def once(self, key: str, action: Tamper | Raw) -> None:
        with self._lock:
            self._once.setdefault(key, []).append(action)

    def always(self, key: str, action: Tamper | Raw | None) -> None:
        with self._lock:
            if action is None:
                self._always.pop(key, None)
            else:
                self._always[key] = action

    def close(self) -> None:
        self.http.close()

    def _action(self, key: str) -> Tamper | Raw | None:
        with self._lock:
            queued = self._once.get(key)
            if queued:
                return queued.pop(0)
            return self._always.get(key)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        key = f"{handler.command} {path}"
        if handler.command == "POST" and path.startswith("/fsi/"):
            with contextlib.suppress(ValueError, AttributeError):
                key = str(loads(body).get("infno"))
        self.seen.append(key)
        action = self._action(key)
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        if isinstance(action, Raw):
            self._send(handler, 200, action.body, action.content_type, action.every)
            return
        answer = requests.request(handler.command, self.upstream + handler.path, data=body,
                                  headers=headers, timeout=30)
        content, media = answer.content, answer.headers.get("Content-Type", "")
        if action is not None and media.startswith("application/json"):
            parsed = loads(content)
            action(parsed)
            content = dumps(parsed)
        self._send(handler, answer.status_code, content, media, 0.0)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, media: str,
              every: float) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", media)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            if every > 0:
                for byte in body:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(every)
            else:
                handler.wfile.write(body)
        except OSError:
            handler.close_connection = True  # the HIS gave up
