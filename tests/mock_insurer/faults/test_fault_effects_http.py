"""The transport-level effects end to end: a tiny ASGI app served by
``mock_insurer.server.start_in_thread``, called with ``requests`` over a real socket, and what
the client sees for each effect. Also the runner itself and the fallbacks without a server."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import requests
from starlette.types import Receive, Scope, Send

from mock_insurer.errors import InsurerError
from mock_insurer.faults.effects import (
    GARBAGE_BODY,
    TransportControl,
    TransportUnavailable,
    close_without_answer,
    gateway_page,
    http_error,
    lose_answer,
    refuse,
    send_body,
    send_truncated,
    transport_of,
    with_err_msg_on_success,
    with_infcode_as_string,
)
from mock_insurer.server import ServerError, protocol_class, run, start_in_thread

ANSWER = json.dumps(
    {
        "infcode": 0,
        "err_msg": "",
        "output": {"setlinfo": {"setl_id": "S0001", "psn_cash_pay": 12.5}},
    }
).encode()


class TinyInsurer:
    """An ASGI app whose path names the effect; ``committed`` records what "took effect"
    (for the effects that process the message first) and ``done`` when each call returned."""

    def __init__(self) -> None:
        self.committed: list[str] = []
        self.done: dict[str, float] = {}
        self.controls: list[TransportControl | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path: str = scope["path"]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        tag = query.get("tag", path)
        self.controls.append(transport_of(scope))
        try:
            await self._effect(scope, send, path, query, tag)
        finally:
            self.done[tag] = time.monotonic()

    async def _effect(
        self, scope: Scope, send: Send, path: str, query: dict[str, str], tag: str
    ) -> None:
        if path == "/ok":
            await send_body(send, 200, ANSWER)
        elif path == "/refuse":
            await refuse(scope)
        elif path == "/close":
            await close_without_answer(scope)
        elif path == "/http_error":
            await http_error(send, int(query["status"]), query.get("body"))
        elif path == "/garbage":
            self.committed.append(tag)
            await send_body(send, 200, GARBAGE_BODY)
        elif path == "/truncated":
            self.committed.append(tag)
            await send_truncated(scope, send, ANSWER)
        elif path == "/lose":
            self.committed.append(tag)
            await lose_answer(scope, query["how"], float(query.get("after_ms", "0")))  # type: ignore[arg-type]
        else:
            await send_body(send, 404, b"no such path")


@pytest.fixture(
    scope="module",
    params=[("httptools", "auto"), ("h11", "asyncio")],
    ids=["httptools-uvloop", "h11-asyncio"],
)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, TinyInsurer]]:
    http, loop = request.param
    app = TinyInsurer()
    with start_in_thread(app, http=http, loop=loop) as server:
        yield server.url, app


def post(url: str, *, timeout: float = 5.0) -> requests.Response:
    # A fresh session each time: no pooled connection survives from an earlier fault.
    with requests.Session() as session:
        return session.post(url, data=b'{"infno":"2207"}', timeout=timeout)


def cause(error: BaseException) -> BaseException:
    """The innermost exception that requests/urllib3 wrapped."""
    while error.args and isinstance(error.args[-1], BaseException):
        error = error.args[-1]
    return error


def was_reset(error: BaseException) -> bool:
    """The peer sent RST (``ECONNRESET``), as opposed to closing with FIN."""
    inner = cause(error)
    return isinstance(inner, ConnectionResetError) and inner.errno == errno.ECONNRESET


def was_closed(error: BaseException) -> bool:
    """The peer closed (FIN) before any answer."""
    return isinstance(cause(error), RemoteDisconnected)


def test_the_server_answers_normally(served: tuple[str, TinyInsurer]) -> None:
    url, _ = served
    response = post(url + "/ok")
    assert response.status_code == 200
    assert response.json()["output"]["setlinfo"]["setl_id"] == "S0001"


def test_refuse_resets_the_connection(served: tuple[str, TinyInsurer]) -> None:
    url, _ = served
    with pytest.raises(requests.ConnectionError) as caught:
        post(url + "/refuse")
    assert was_reset(caught.value)
    assert post(url + "/ok").status_code == 200  # the server itself is fine


def test_close_answers_nothing(served: tuple[str, TinyInsurer]) -> None:
    url, _ = served
    with pytest.raises(requests.ConnectionError) as caught:
        post(url + "/close")
    assert was_closed(caught.value)  # FIN, not RST
    assert not was_reset(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_error_status_and_body(served: tuple[str, TinyInsurer], status: int) -> None:
    url, _ = served
    plain = post(f"{url}/http_error?status={status}")
    assert plain.status_code == status
    assert plain.headers["content-type"].startswith("text/html")
    assert f"{status} " in plain.text
    gateway = post(f"{url}/http_error?status={status}&body=" + '{"code":"999","msg":"busy"}')
    assert gateway.status_code == status
    assert gateway.json() == {"code": "999", "msg": "busy"}
    assert gateway.headers["content-type"].startswith("application/json")


def test_garbage_does_not_parse(served: tuple[str, TinyInsurer]) -> None:
    url, app = served
    response = post(url + "/garbage?tag=garbage-1")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert "garbage-1" in app.committed


def test_truncated_answer_is_incomplete_after_the_commit(served: tuple[str, TinyInsurer]) -> None:
    url, app = served
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as caught:
        post(url + "/truncated?tag=cut-1")
    assert "IncompleteRead" in str(caught.value)
    assert f"{len(ANSWER) // 2} bytes read" in str(caught.value)
    assert "cut-1" in app.committed


@pytest.mark.parametrize("how", ["reset", "close"])
def test_lose_answer_drops_the_connection_after_the_commit(
    served: tuple[str, TinyInsurer], how: str
) -> None:
    url, app = served
    tag = f"lose-{how}"
    with pytest.raises(requests.ConnectionError) as caught:
        post(f"{url}/lose?how={how}&after_ms=50&tag={tag}")
    assert was_reset(caught.value) if how == "reset" else was_closed(caught.value)
    assert tag in app.committed


def test_lose_answer_timeout_makes_the_client_time_out(served: tuple[str, TinyInsurer]) -> None:
    url, app = served
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        post(f"{url}/lose?how=timeout&after_ms=20000&tag=held", timeout=0.3)
    assert "held" in app.committed
    # The client gave up and closed; the server stops holding at once, not after 20 s.
    deadline = time.monotonic() + 5
    while "held" not in app.done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert app.done["held"] - started < 5


def test_lose_answer_timeout_then_close_when_the_client_waits_longer(
    served: tuple[str, TinyInsurer],
) -> None:
    url, _ = served
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError) as caught:
        post(f"{url}/lose?how=timeout&after_ms=300", timeout=5)
    assert was_closed(caught.value)
    assert 0.25 < time.monotonic() - started < 4


def test_every_request_gets_its_connection_control(served: tuple[str, TinyInsurer]) -> None:
    url, app = served
    with requests.Session() as session:
        session.post(url + "/ok")
        session.post(url + "/ok")  # same keep-alive connection
    post(url + "/ok")  # a new one
    first, second, third = app.controls[-3:]
    assert isinstance(first, TransportControl)
    assert first is second
    assert third is not first


def test_no_server_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = TinyInsurer()
    with caplog.at_level(logging.WARNING), start_in_thread(app) as server:
        for path in ("/refuse", "/close", "/truncated", "/lose?how=reset"):
            with pytest.raises(requests.RequestException):
                post(server.url + path)
        assert post(server.url + "/ok").status_code == 200
    assert [r for r in caplog.records if r.name.startswith("uvicorn")] == []


# --- the runner -----------------------------------------------------------------------------


def test_start_in_thread_binds_a_free_port_and_stops() -> None:
    app = TinyInsurer()
    server = start_in_thread(app)
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.running
    assert post(server.url + "/ok").status_code == 200
    server.stop()
    server.stop()  # again: nothing happens
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        post(server.url + "/ok", timeout=2)


def test_stop_releases_a_held_connection() -> None:
    app = TinyInsurer()
    server = start_in_thread(app)
    outcome: list[BaseException | int] = []

    def call() -> None:
        try:
            outcome.append(
                post(f"{server.url}/lose?how=timeout&after_ms=60000", timeout=30).status_code
            )
        except requests.RequestException as exc:
            outcome.append(exc)

    client = threading.Thread(target=call)
    client.start()
    deadline = time.monotonic() + 5
    while not app.committed and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    client.join(10)
    assert time.monotonic() - started < 5
    assert len(outcome) == 1 and isinstance(outcome[0], requests.ConnectionError)


def test_a_failed_startup_is_an_error() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(ServerError, match="failed to start"):
        start_in_thread(broken, lifespan="on")


def test_a_busy_port_is_an_error() -> None:
    with (
        start_in_thread(TinyInsurer()) as server,
        pytest.raises(ServerError, match="cannot listen"),
    ):
        start_in_thread(TinyInsurer(), port=server.port)


def test_protocol_choice() -> None:
    assert protocol_class("h11").__name__ == "H11TransportProtocol"
    assert protocol_class("auto").__name__ == "HttpToolsTransportProtocol"
    with pytest.raises(ServerError, match="unknown HTTP implementation"):
        protocol_class("zttp")  # type: ignore[arg-type]


def test_several_workers_need_an_import_string() -> None:
    with pytest.raises(ServerError, match="import string"):
        run(TinyInsurer(), workers=2)
    assert issubclass(ServerError, InsurerError)


# --- without connection control (httpx.ASGITransport) ---------------------------------------


def call_in_process(path: str) -> httpx.Response:
    app = TinyInsurer()

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://insurer") as client:
            return await client.post(path, content=b"{}")

    return asyncio.run(go())


@pytest.mark.parametrize("path", ["/refuse", "/close", "/lose?how=timeout&after_ms=10"])
def test_without_a_transport_the_connection_effects_raise(path: str) -> None:
    with pytest.raises(TransportUnavailable, match="needs control of the TCP connection"):
        call_in_process(path)


def test_without_a_transport_truncated_sends_half_the_answer() -> None:
    response = call_in_process("/truncated")
    assert response.status_code == 200
    assert response.content == ANSWER[: len(ANSWER) // 2]


def test_without_a_transport_http_error_works_as_usual() -> None:
    response = call_in_process("/http_error?status=503")
    assert response.status_code == 503
    assert response.text == gateway_page(503).decode()


# --- envelope variants ----------------------------------------------------------------------


def test_envelope_variants_keep_everything_else() -> None:
    answer: dict[str, Any] = json.loads(ANSWER)
    as_string = with_infcode_as_string(answer)
    assert as_string["infcode"] == "0"
    assert as_string["output"] == answer["output"]
    quirk = with_err_msg_on_success(answer, "FSI-提示[x]")
    assert (quirk["infcode"], quirk["err_msg"]) == (0, "FSI-提示[x]")
    assert answer["err_msg"] == ""  # the original is untouched
