"""Bodies the gateway cannot read — declared too large, growing past the limit, not complete in
time — are answered at once with an envelope (``infcode`` -1), recorded like any unreadable
message, and the connection is closed (security review, finding 5). A client that writes its
whole body before reading still gets the answer (the server's lingering close)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from mock_insurer import server as server_module
from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer, start_in_thread
from tests.mock_insurer.gateway.conftest import make_client

PATH = "/fsi/api/rsfComIfsService/callService"
LIMIT = 10_000  # max_body_bytes of these insurers: small bodies, fast tests
TOO_LARGE = f"FSI-报文长度超过上限{LIMIT}字节，请分批上传[body]"

Serve = Callable[..., tuple[Insurer, str]]


@pytest.fixture(autouse=True)
def nothing_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Bad input is answered, never a traceback or an error in the log."""
    yield
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def connect(url: str, head: str, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port_of(url)), timeout=5)
    sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode("latin-1") + body)
    return sock


def read_until_closed(sock: socket.socket, seconds: float = 3.0) -> tuple[bytes, bool]:
    """What the server sent, and whether it then closed its side (FIN) within ``seconds``."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, False
    return data, True


def envelope_of(response: bytes) -> tuple[str, dict[str, str], dict[str, Any]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body)


def messages(insurer: Insurer) -> list[Any]:
    with insurer.ledger.read() as tx:
        return list(tx.messages(limit=1000))


def assert_refused(response: bytes, err_msg: str) -> None:
    status, headers, answer = envelope_of(response)
    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert answer["infcode"] == -1
    assert answer["err_msg"] == err_msg


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_sent(serve: Serve) -> None:
    insurer, url = serve(max_body_bytes=LIMIT)
    started = time.perf_counter()
    with connect(url, f"Content-Type: application/json\r\nContent-Length: {LIMIT + 1}\r\n") as sock:
        response, closed = read_until_closed(sock)
    assert time.perf_counter() - started < 2
    assert closed
    assert_refused(response, TOO_LARGE)
    [record] = messages(insurer)  # recorded once, like any unreadable message
    assert (record["rejection_code"], record["infcode"], bytes(record["request"])) == (
        "body_too_large", -1, b"")
    assert "refused unread" in record["deviations"]


def test_a_chunked_body_is_refused_once_it_passes_the_limit(serve: Serve) -> None:
    insurer, url = serve(max_body_bytes=LIMIT)
    chunk = b"x" * 1000
    with connect(url, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n") as sock:
        for _ in range(LIMIT // len(chunk) + 2):  # past the limit, and never the last chunk
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        response, closed = read_until_closed(sock)
    assert closed
    assert_refused(response, TOO_LARGE)
    [record] = messages(insurer)
    assert record["rejection_code"] == "body_too_large"
    assert len(bytes(record["request"])) <= LIMIT + 1


@pytest.fixture(params=[("httptools", "auto"), ("h11", "asyncio")], ids=["httptools", "h11"])
def small_server(request: pytest.FixtureRequest,
                 make_insurer: Callable[..., Insurer]) -> Iterator[tuple[Insurer, RunningServer]]:
    http, loop = request.param
    insurer = make_insurer(max_body_bytes=LIMIT)
    with start_in_thread(insurer, http=http, loop=loop) as running:
        yield insurer, running


def test_a_client_that_sends_its_whole_oversized_body_first_still_gets_the_answer(
        small_server: tuple[Insurer, RunningServer]) -> None:
    """Most HTTP libraries write the whole body before they read: closing at once, with the
    rest of the body unread, would reset the connection and lose the answer."""
    _insurer, running = small_server
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    connection.request("POST", PATH, body=b"x" * 5_000_000,
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert (response.status, answer["infcode"], answer["err_msg"]) == (200, -1, TOO_LARGE)


def test_a_lingering_connection_is_closed_after_linger_s(
        small_server: tuple[Insurer, RunningServer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "LINGER_S", 0.2)
    _insurer, running = small_server
    with connect(running.url, f"Content-Length: {LIMIT * 10}\r\n", b"x" * 100) as sock:
        response, closed = read_until_closed(sock)
        assert closed  # FIN after the answer
        assert_refused(response, TOO_LARGE)
        sock.sendall(b"x" * 1000)  # still read (and dropped) while lingering
        time.sleep(0.6)
        with pytest.raises(OSError):  # then the socket is gone: RST, broken pipe
            for _ in range(50):
                sock.sendall(b"x" * 1000)
                time.sleep(0.01)


def test_a_body_not_complete_in_time_is_refused_and_the_connection_closed(
        insurer: Insurer, server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    insurer.gateway.body_deadline_s = 0.3
    started = time.perf_counter()
    with connect(server.url, "Content-Type: application/json\r\nContent-Length: 100\r\n",
                 b"{") as sock:
        response, closed = read_until_closed(sock)
    waited = time.perf_counter() - started
    assert 0.3 <= waited < 2
    assert closed
    assert_refused(response, "FSI-报文未在0.3秒内传输完毕，连接已关闭，请检查网络后重发[body]")
    [record] = messages(insurer)
    assert (record["rejection_code"], record["http_status"], bytes(record["request"])) == (
        "body_timeout", 200, b"{")
    assert record["duration_ms"] >= 300  # from the request's arrival
    assert "body_timeout" in record["deviations"]
    assert "body not complete in 0.3 s" in caplog.text  # one line in the log


def test_a_body_arriving_in_pieces_within_the_deadline_is_handled(
        insurer: Insurer, server: RunningServer) -> None:
    insurer.gateway.body_deadline_s = 2.0
    client = make_client(server.url)
    body = orjson.dumps(client.build("9001", {"signIn": {
        "opter_no": "C01", "mac": "00-1A-2B-3C-4D-5E", "ip": "127.0.0.1"}}))
    client.close()
    third = len(body) // 3
    with connect(server.url, f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n",
                 body[:third]) as sock:
        for piece in (body[third:2 * third], body[2 * third:]):
            time.sleep(0.1)
            sock.sendall(piece)
        sock.settimeout(5)
        response = sock.recv(65536)
    _status, headers, answer = envelope_of(response)
    assert answer["infcode"] == 0, answer
    assert headers.get("connection") != "close"
