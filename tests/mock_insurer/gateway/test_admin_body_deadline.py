"""The admin API, like the gateway, does not let a client hold a connection by sending its body
slowly: a body not complete within the deadline is answered 408 and the connection closed, and
nothing is done (security review, finding 5)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest

from mock_insurer.admin import web
from mock_insurer.gateway import Insurer


def test_a_body_that_stops_half_way_is_answered_408_and_closed(
        serve: Callable[..., tuple[Insurer, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "BODY_DEADLINE_S", 0.5)
    insurer, url = serve()
    before = insurer.counts()
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5)
    sock.sendall(b"POST /admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Authorization: Bearer secret\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")  # 99 bytes never follow
    received = b""
    while chunk := sock.recv(65536):  # until the server closes its side
        received += chunk
    sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"connection: close" in head.lower()
    error = json.loads(body)["error"]
    assert error["code"] == "request_timeout" and error["where"] == "body"
    assert "did not arrive in full within 0.5 s (1 bytes received)" in error["message"]
    assert insurer.counts() == before  # the reset was never done
