"""A connection must complete each request's head (request line and headers) in time: a client
that connects and says nothing, or sends its headers a byte at a time ("slowloris"), cannot hold
a connection of the insurer — or of the reference HIS, served the same way — for ever. With part
of a head received the server answers 408 in words, then closes; with nothing, it just closes.
The body has its own deadline (test_body_limits.py); an answer that takes long is not cut."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from mock_insurer.gateway import Insurer
from mock_insurer.server import HEAD_TIMEOUT_S, ServerError, protocol_class, start_in_thread
from tests.mock_insurer.gateway.conftest import make_client
from tests.mock_insurer.gateway.test_body_limits import envelope_of, messages, read_until_closed

DEADLINE = 0.3
PATH = "/fsi/api/rsfComIfsService/callService"
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def backend_url(tmp_path: Path) -> str:
    """The HTTP server's concern, not the ledger's: SQLite only."""
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture(params=["httptools", "h11"])
def url(request: pytest.FixtureRequest, insurer: Insurer) -> Iterator[str]:
    with start_in_thread(insurer, http=request.param, head_timeout=DEADLINE) as running:
        yield running.url


def connect(url: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5)


def read_response(sock: socket.socket) -> bytes:
    """One answer whose head says its length (the insurer's answers do)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_head_sent_too_slowly_gets_408_in_words_and_the_connection_closed(
        url: str, insurer: Insurer) -> None:
    started = time.perf_counter()
    with connect(url) as sock:
        sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        time.sleep(DEADLINE / 3)
        sock.sendall(b"Content-Type: app")  # bytes keep arriving: the deadline is not moved
        response, closed = read_until_closed(sock)
    waited = time.perf_counter() - started
    assert closed
    assert DEADLINE <= waited < DEADLINE + 1.5
    head, _, text = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert text.decode() == (f"请求头未在 {DEADLINE:g} 秒内收全 / request head not complete "
                             f"within {DEADLINE:g} s")
    assert messages(insurer) == []  # no request was made: nothing recorded


def test_a_connection_that_says_nothing_is_closed_without_an_answer(url: str) -> None:
    with connect(url) as sock:
        response, closed = read_until_closed(sock)
    assert (response, closed) == (b"", True)


def test_the_deadline_restarts_after_each_answer_on_a_kept_alive_connection(url: str) -> None:
    with connect(url) as sock:
        for _ in range(3):  # each head complete in time, the whole exchange longer than one deadline
            time.sleep(DEADLINE / 2)
            sock.sendall(HEALTH)
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # then a head left half-sent
        response, closed = read_until_closed(sock)
    assert closed and response.startswith(b"HTTP/1.1 408 ")


def test_a_head_in_pieces_within_the_deadline_and_a_slow_body_after_it_are_answered(
        url: str, insurer: Insurer) -> None:
    insurer.gateway.body_deadline_s = 5.0  # the body's own deadline, longer than the head's
    client = make_client(url)
    body = orjson.dumps(client.build("9001", {"signIn": {
        "opter_no": "C01", "mac": "00-1A-2B-3C-4D-5E", "ip": "127.0.0.1"}}))
    client.close()
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with connect(url) as sock:
        for piece in (head[:20], head[20:]):
            sock.sendall(piece)
            time.sleep(DEADLINE / 3)
        for piece in (body[:10], body[10:]):  # the body takes longer than the head's deadline
            time.sleep(DEADLINE)
            sock.sendall(piece)
        _status, _headers, answer = envelope_of(read_response(sock))
    assert answer["infcode"] == 0, answer


def test_the_default_deadline_and_a_bad_one() -> None:
    assert HEAD_TIMEOUT_S == 30.0
    assert protocol_class("h11", HEAD_TIMEOUT_S) is protocol_class("h11")
    assert protocol_class("h11", 2).head_timeout_s == 2.0  # type: ignore[attr-defined]
    with pytest.raises(ServerError, match="head_timeout must be a positive number"):
        protocol_class("h11", 0)
