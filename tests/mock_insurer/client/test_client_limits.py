"""The client SDK against a hostile center: an answer that trickles in is stopped at the
exchange's deadline (security review, finding 4), an over-large or inflating answer is refused
unread past the limit, and the insurer's texts are cut to what a screen can show (finding 7).
Each is an error the HIS already knows how to recover from (effect unknown)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from mock_insurer.client import (
    InsurerRefusal,
    InsurerTimeout,
    MalformedAnswer,
    RequestNotSent,
)
from mock_insurer.client.bounded import (
    MAX_SHOWN_TEXT,
    BoundedAdapter,
    bounded_session,
    cap_text,
)
from mock_insurer.wire.jsonio import dumps
from tests.mock_insurer.client.fake_insurer import Behaviour, FakeInsurer, ok, reply
from tests.mock_insurer.client.test_client import client_for


@pytest.fixture
def insurer() -> Iterator[FakeInsurer]:
    fake = FakeInsurer()
    yield fake
    fake.close()


def send_slowly(handler: BaseHTTPRequestHandler, data: bytes, every: float, *,
                chunked: bool = False) -> None:
    """Write *data* one byte every *every* seconds (as chunks of one byte if *chunked*), until
    done or the client gives up; then close."""
    try:
        for byte in data:
            piece = bytes([byte])
            handler.wfile.write(b"1\r\n" + piece + b"\r\n" if chunked else piece)
            handler.wfile.flush()
            time.sleep(every)
    except OSError:
        pass  # the client gave up: what the test wants
    handler.close_connection = True


def drip(every: float, count: int = 400, *, chunked: bool = False) -> Behaviour:
    """Headers, then one byte of a valid answer every *every* seconds (never idle as long as
    a read timeout)."""
    body = dumps(ok({"x": "y" * count}))

    def behave(handler: BaseHTTPRequestHandler, request: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        send_slowly(handler, body, every, chunked=chunked)

    return behave


def chunked(body: bytes, *, encoding: str = "") -> Behaviour:
    """*body* sent chunked (no Content-Length), optionally with a Content-Encoding."""
    def behave(handler: BaseHTTPRequestHandler, request: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        if encoding:
            handler.send_header("Content-Encoding", encoding)
        handler.end_headers()
        try:
            for start in range(0, len(body), 65536):
                part = body[start:start + 65536]
                handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        handler.close_connection = True

    return behave


@pytest.mark.parametrize("is_chunked", [False, True], ids=["content-length", "chunked"])
def test_an_answer_trickling_in_times_out_at_the_exchange_deadline(
        insurer: FakeInsurer, is_chunked: bool) -> None:
    insurer.behaviour = drip(0.05, chunked=is_chunked)  # a byte every 50 ms: no read waits 0.6 s
    client = client_for(insurer.url, timeout=0.6)
    started = time.monotonic()
    with pytest.raises(InsurerTimeout) as caught:
        client.call("2207", {"data": {}})
    took = time.monotonic() - started
    assert 0.5 <= took < 2.0, took  # the whole answer would take 20 s
    assert caught.value.effect_unknown
    assert "whole answer did not" in str(caught.value)


def trickled_head(every: float) -> Behaviour:
    """The status line and headers one byte every *every* seconds (a slowloris answer)."""
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n"
            + b"".join(f"X-Pad-{n}: {'p' * 40}\r\n".encode() for n in range(20)) + b"\r\n")

    def behave(handler: BaseHTTPRequestHandler, request: bytes) -> None:
        send_slowly(handler, head, every)

    return behave


def test_headers_trickling_in_time_out_at_the_exchange_deadline(insurer: FakeInsurer) -> None:
    """Security review (SDK): the deadline covered the body only, so headers sent a byte every
    50 ms held a window for minutes with a timeout of 0.6 s."""
    insurer.behaviour = trickled_head(0.05)  # ~1,000 bytes: 50 s in all
    client = client_for(insurer.url, timeout=0.6)
    started = time.monotonic()
    with pytest.raises(InsurerTimeout) as caught:
        client.call("2207", {"data": {}})
    took = time.monotonic() - started
    assert 0.5 <= took < 2.0, took
    assert caught.value.effect_unknown
    assert "no answer within 0.6 s" in str(caught.value)


def test_the_reference_his_pool_bounds_heads_too(insurer: FakeInsurer) -> None:
    """The reference HIS's clients share one pool (a :class:`BoundedAdapter`)."""
    insurer.behaviour = trickled_head(0.05)
    client = client_for(insurer.url, timeout=0.6,
                        session=bounded_session(BoundedAdapter(pool_maxsize=4)))
    started = time.monotonic()
    with pytest.raises(InsurerTimeout):
        client.call("2207", {"data": {}})
    assert time.monotonic() - started < 2.0


def test_an_answer_within_the_deadline_is_read_whole(insurer: FakeInsurer) -> None:
    insurer.behaviour = drip(0.001, count=50)
    answer = client_for(insurer.url, timeout=2.0).call("1101", {"data": {}})
    assert answer.output == {"x": "y" * 50}


class ReadingSession(requests.Session):
    """A session that reads every body itself before returning, as locust's does for its
    statistics (the load tests hand theirs to the SDK)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        _ = response.content
        return response


def test_a_session_that_read_the_answer_itself_still_gives_it_to_the_sdk(
        insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(ok({"x": "y" * 50}))
    answer = client_for(insurer.url, session=ReadingSession()).call("1101", {"data": {}})
    assert answer.output == {"x": "y" * 50}
    insurer.behaviour = reply(ok({"x": "y" * 5000}))
    with pytest.raises(MalformedAnswer, match="larger than 1000 bytes"):
        client_for(insurer.url, session=ReadingSession(),
                   max_answer_bytes=1000).call("1101", {"data": {}})


def test_an_answer_announced_larger_than_the_limit_is_not_read(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(dumps(ok({"x": "y" * 5000})))
    with pytest.raises(MalformedAnswer) as caught:
        client_for(insurer.url, max_answer_bytes=1000).call("2207", {"data": {}})
    assert caught.value.effect_unknown and caught.value.body == b""
    assert "larger than 1000 bytes" in str(caught.value)


def test_a_chunked_answer_growing_past_the_limit_is_refused(insurer: FakeInsurer) -> None:
    insurer.behaviour = chunked(dumps(ok({"x": "y" * 300_000})))
    with pytest.raises(MalformedAnswer, match="larger than 100000 bytes"):
        client_for(insurer.url, max_answer_bytes=100_000).call("1101", {"data": {}})


def test_a_gzip_bomb_is_refused_at_the_limit_not_inflated(insurer: FakeInsurer) -> None:
    inflated = dumps(ok({"x": "0" * (50 * 1024 * 1024)}))  # 50 MiB inside ~50 KiB
    insurer.behaviour = chunked(gzip.compress(inflated), encoding="gzip")
    with pytest.raises(MalformedAnswer, match="larger than 1048576 bytes"):
        client_for(insurer.url, max_answer_bytes=1024 * 1024).call("1101", {"data": {}})


def test_the_limit_must_be_a_positive_number_of_bytes(insurer: FakeInsurer) -> None:
    with pytest.raises(RequestNotSent) as caught:
        client_for(insurer.url, max_answer_bytes=0)
    assert caught.value.field == "max_answer_bytes"


def test_a_huge_err_msg_is_cut_with_a_marker_and_keeps_its_locator(
        insurer: FakeInsurer) -> None:
    text = "FSI-" + "错" * 50_000 + "[data.mdtrt_id]"
    insurer.behaviour = reply({**ok({}), "infcode": -1, "err_msg": text})
    with pytest.raises(InsurerRefusal) as caught:
        client_for(insurer.url).call("2201", {"data": {}})
    refusal = caught.value
    assert len(refusal.err_msg) < MAX_SHOWN_TEXT + 100
    assert refusal.err_msg.startswith("FSI-错错")
    assert f"{len(text)} characters, cut" in refusal.err_msg
    assert refusal.where == "data.mdtrt_id"
    assert len(str(refusal)) < MAX_SHOWN_TEXT + 300  # what a HIS logs of it is short too


def test_cap_text_leaves_short_texts_alone() -> None:
    assert cap_text("FSI-卡已挂失[data.card_sn]") == "FSI-卡已挂失[data.card_sn]"


@pytest.mark.parametrize("output", [[1, 2], "text", 7], ids=["array", "string", "number"])
def test_a_success_whose_output_is_not_an_object_is_malformed(insurer: FakeInsurer,
                                                              output: Any) -> None:
    insurer.behaviour = reply(ok(output))
    with pytest.raises(MalformedAnswer, match="output is a JSON") as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.effect_unknown


def test_a_sign_in_answer_whose_sign_no_is_not_text_is_malformed(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(ok({"signinoutb": {"sign_no": {"x": 1}}}))
    client = client_for(insurer.url)
    with pytest.raises(MalformedAnswer, match="no sign_no"):
        client.sign_in("001", "00-00", "127.0.0.1")
    assert client.sign_no == ""
