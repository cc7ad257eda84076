"""The client SDK against a tiny local HTTP server: every way a call can end maps to the
right typed error, and what the client sends is a conforming envelope."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.client import (
    Answer,
    ApiKeyAuth,
    ClientError,
    ConnectionLost,
    GatewayError,
    InsurerClient,
    InsurerError,
    InsurerRefusal,
    InsurerTimeout,
    InsurerUnavailable,
    MalformedAnswer,
    TifAuth,
)
from mock_insurer.wire import MsgidFactory
from mock_insurer.wire.envelope import build_answer, parse_request
from mock_insurer.wire.jsonio import dumps, loads
from mock_insurer.wire.tif import NonceCache, verify_tif
from tests.mock_insurer.client.fake_insurer import (
    Behaviour,
    FakeInsurer,
    close_without_answer,
    headers_then_stall,
    ok,
    reply,
    reset_midway,
    sleep_then,
)

CODE = "H11010200001"
NOW = datetime(2024, 3, 1, 9, 10, 11)

@pytest.fixture
def insurer() -> Iterator[FakeInsurer]:
    fake = FakeInsurer()
    yield fake
    fake.close()


def client_for(url: str, **kw: Any) -> InsurerClient:
    defaults: dict[str, Any] = {
        "fixmedins_code": CODE, "fixmedins_name": "北京市某医院", "mdtrtarea_admvs": "110000",
        "insuplc_admdvs": "110000", "opter": "001", "opter_name": "收费员",
        "clock": lambda: NOW, "nonce": iter(f"nonce-{n}" for n in range(1000)).__next__,
        "timeout": 2.0,
    }
    defaults.update(kw)
    return InsurerClient(url, **defaults)


SETLINFO = b'{"setlinfo": {"medfee_sumamt": 4.52, "acct_pay": 4.52, "pool_prop_selfpay": 0.0500,'\
           b' "balc": 99999999999999.99}, "setldetail": []}'


def test_a_successful_call_reads_amounts_as_exact_decimals(insurer: FakeInsurer) -> None:
    body = dumps(ok({})).replace(b'"output":{}', b'"output":' + SETLINFO)
    insurer.behaviour = reply(body)
    client = client_for(insurer.url)
    answer = client.call("2207", {"data": {"psn_no": "1", "medfee_sumamt": Decimal("4.52")}})
    assert isinstance(answer, Answer) and answer.ok and answer.infcode == 0
    setl = answer.output["setlinfo"]
    assert setl["medfee_sumamt"] == Decimal("4.52")
    assert str(setl["pool_prop_selfpay"]) == "0.0500"
    assert setl["balc"] == Decimal("99999999999999.99")
    assert answer.msgid == f"{CODE}202403010910110001"
    assert answer.inf_refmsgid == "110000202403010910110000000001"
    assert answer.elapsed_ms >= 0


def test_the_client_sends_a_conforming_envelope(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url)
    client.call("2207", {"data": {"psn_no": "1", "medfee_sumamt": Decimal("4.52")}})
    headers, body = insurer.requests[-1]
    assert headers["content-type"].startswith("application/json")
    outcome = parse_request(body, mode="strict", path_infno=None, max_body=1 << 20)
    assert outcome.envelope is not None and outcome.deviations == ()
    assert outcome.envelope.input == {"data": {"psn_no": "1", "medfee_sumamt": Decimal("4.52")}}
    assert b'"medfee_sumamt":4.52' in body
    assert client.last_request is not None
    assert client.last_request["msgid"] == outcome.envelope.msgid


def test_sign_in_keeps_the_sign_no_for_later_calls(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(ok({"signinoutb": {"sign_no": "359754",
                                                 "sign_time": "2024-03-01 09:10:11"}}))
    client = client_for(insurer.url)
    assert client.sign_in("001", "00-1A-2B-3C-4D-5E", "192.168.1.10") == "359754"
    first = loads(insurer.requests[-1][1])
    assert first["infno"] == "9001" and first["sign_no"] == ""
    assert first["input"] == {"signIn": {"opter_no": "001", "mac": "00-1A-2B-3C-4D-5E",
                                         "ip": "192.168.1.10"}}
    insurer.behaviour = reply(ok({}))
    client.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "1"}})
    assert loads(insurer.requests[-1][1])["sign_no"] == "359754"


SIGNED_IN = ok({"signinoutb": {"sign_no": "359754", "sign_time": "2024-03-01 09:10:11"}})


def test_a_resent_sign_in_sets_the_sign_no(insurer: FakeInsurer) -> None:
    """A 9001 whose answer was lost, resent through send_raw, signs the client in exactly as
    sign_in() does: later calls carry the sign_no instead of being refused "no sign-in"."""
    insurer.behaviour = close_without_answer
    client = client_for(insurer.url)
    with pytest.raises(ConnectionLost) as caught:
        client.sign_in("001", "00-1A-2B-3C-4D-5E", "192.168.1.10")
    assert client.sign_no == ""
    insurer.behaviour = reply(SIGNED_IN)
    assert caught.value.request is not None
    client.send_raw(caught.value.request)
    assert client.sign_no == "359754"
    insurer.behaviour = reply(ok({}))
    client.call("1101", {"data": {}})
    assert loads(insurer.requests[-1][1])["sign_no"] == "359754"


def test_a_sign_in_by_call_and_a_sign_out_by_send_raw(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(SIGNED_IN)
    client = client_for(insurer.url)
    client.call("9001", {"signIn": {"opter_no": "001", "mac": "m", "ip": "1"}})
    assert client.sign_no == "359754"
    insurer.behaviour = reply(ok({}))
    client.send_raw(client.build("9002", {"signOut": {"sign_no": "359754", "opter_no": "001"}}))
    assert client.sign_no == ""


def test_a_sign_in_answer_without_a_sign_no_is_malformed(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(ok({"signinoutb": {}}))
    client = client_for(insurer.url)
    with pytest.raises(MalformedAnswer) as caught:
        client.sign_in("001", "m", "1")
    assert caught.value.effect_unknown and caught.value.request["infno"] == "9001"
    assert client.sign_no == ""


def test_send_raw_resends_the_same_msgid(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url)
    client.call("2207", {"data": {"psn_no": "1"}})
    assert client.last_request is not None
    client.send_raw(client.last_request)
    first, second = (body for _, body in insurer.requests)
    assert first == second


def test_tif_headers_verify_at_the_gateway(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url, auth=TifAuth("hosp01", "s3cr3t"))
    client.call("1101", {"data": {}})
    client.call("1101", {"data": {}})
    seen = NonceCache(300, lambda: 0.0)  # each request is checked at its own timestamp
    for headers, _ in insurer.requests:
        stamp = int(headers["x-tif-timestamp"])
        assert verify_tif(headers, {"hosp01": "s3cr3t"}.get, stamp, 60, seen) is None
    assert insurer.requests[0][0]["x-tif-nonce"] != insurer.requests[1][0]["x-tif-nonce"]


def test_api_key_header(insurer: FakeInsurer) -> None:
    client_for(insurer.url, auth=ApiKeyAuth("k-123")).call("1101", {"data": {}})
    assert insurer.requests[-1][0]["apikey"] == "k-123"


def test_refusal(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(build_answer(
        infcode=-1, output=None, err_msg="FSI-未查询到人员参保信息[data.psn_no]",
        inf_refmsgid="1", refmsg_time="2", respond_time="3"))
    with pytest.raises(InsurerRefusal) as caught:
        client_for(insurer.url).call("1101", {"data": {}})
    error = caught.value
    assert error.err_msg == "FSI-未查询到人员参保信息[data.psn_no]"
    assert error.infcode == -1 and error.where == "data.psn_no"
    assert error.effect == "none" and not error.effect_unknown
    assert (error.infno, error.msgid) == ("1101", f"{CODE}202403010910110001")
    assert error.answer.infcode == -1
    assert isinstance(error, InsurerError)


def _refusal(handler: Any, body: bytes) -> None:
    reply(build_answer(infcode=-1, output=None, err_msg="FSI-x[data.psn_no]",
                       inf_refmsgid="1", refmsg_time="2", respond_time="3"))(handler, body)


@pytest.mark.parametrize("behaviour", [
    _refusal, close_without_answer, reset_midway, headers_then_stall(1.0),
    reply(b"<html>Bad Gateway</html>", status=502, content_type="text/html"),
    reply(b"garbage"), reply(b'{"infcode": 0, "output": {', declared_length=400),
], ids=["refusal", "closed", "reset", "stall", "502", "garbage", "truncated"])
def test_every_error_carries_the_envelope_it_sent(insurer: FakeInsurer,
                                                  behaviour: Behaviour) -> None:
    """A HIS keeps the failed message from the error itself, not from last_request, which
    the next call (a reversal, a query) replaces."""
    insurer.behaviour = behaviour
    client = client_for(insurer.url, timeout=0.3)
    with pytest.raises(ClientError) as caught:
        client.call("2207", {"data": {"psn_no": "1", "medfee_sumamt": Decimal("4.52")}})
    sent = caught.value.request
    assert sent is not None and sent == loads(insurer.requests[-1][1])
    assert sent["msgid"] == caught.value.msgid
    insurer.behaviour = reply(ok({}))
    client.reverse(psn_no="1", omsgid=caught.value.msgid, oinfno="2207")
    assert caught.value.request == sent  # untouched by the call after
    assert client.last_request is not None and client.last_request["infno"] == "2601"


def test_a_gateway_5xx_is_resent_from_the_error(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(b"<html>Bad Gateway</html>", status=502, content_type="text/html")
    client = client_for(insurer.url)
    with pytest.raises(GatewayError) as caught:
        client.call("2207", {"data": {"psn_no": "1", "medfee_sumamt": Decimal("4.52")}})
    insurer.behaviour = reply(ok({}))
    answer = client.send_raw(caught.value.request)
    assert answer.msgid == caught.value.msgid
    first, second = (body for _, body in insurer.requests)
    assert first == second


def test_infcode_as_a_string(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(ok({}, infcode="0"))
    assert client_for(insurer.url).call("1101", {"data": {}}).infcode == 0
    insurer.behaviour = reply(ok({}, infcode="-1", err_msg="FSI-x[y]"))
    with pytest.raises(InsurerRefusal):
        client_for(insurer.url).call("1101", {"data": {}})


def test_a_success_with_an_error_text_is_a_success_with_a_notice(insurer: FakeInsurer) -> None:
    """infcode decides (docs/faults.md): by default infcode 0 with an err_msg is returned,
    the text readable as a notice — not raised as a failure the HIS would settle again."""
    body = dumps(ok({}, err_msg="FSI-交易成功，个人账户余额不足部分已转现金[setlinfo]"))
    insurer.behaviour = reply(body.replace(b'"output":{}', b'"output":' + SETLINFO))
    answer = client_for(insurer.url).call("2207", {"data": {}})
    assert answer.infcode == 0
    assert answer.err_msg == "FSI-交易成功，个人账户余额不足部分已转现金[setlinfo]"
    assert not answer.ok  # a success, but not a clean one: show the notice
    assert answer.output["setlinfo"]["medfee_sumamt"] == Decimal("4.52")


def test_strict_err_msg_is_an_opt_in_refusal_of_unknown_effect(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(ok({}, err_msg="FSI-已结算"))
    with pytest.raises(InsurerRefusal) as caught:
        client_for(insurer.url, strict_err_msg=True).call("2207", {"data": {}})
    refusal = caught.value
    assert refusal.effect == "unknown" and refusal.effect_unknown
    assert refusal.infcode == 0 and refusal.err_msg == "FSI-已结算"


def test_timeout_leaves_the_effect_unknown(insurer: FakeInsurer) -> None:
    insurer.behaviour = sleep_then(1.5, reply(ok({})))
    started = time.perf_counter()
    with pytest.raises(InsurerTimeout) as caught:
        client_for(insurer.url, timeout=0.3).call("2207", {"data": {}})
    assert time.perf_counter() - started < 1.4
    assert caught.value.effect == "unknown" and caught.value.infno == "2207"
    assert "2601" in str(caught.value)


def test_connection_refused_means_nothing_happened() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(InsurerUnavailable) as caught:
        client_for(f"http://127.0.0.1:{port}").call("2207", {"data": {}})
    assert caught.value.effect == "none"


def test_closed_without_answer_is_a_lost_connection(insurer: FakeInsurer) -> None:
    insurer.behaviour = close_without_answer
    with pytest.raises(ConnectionLost) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.effect == "unknown"
    assert len(insurer.requests) == 1


def test_a_truncated_answer_is_malformed_with_the_effect_unknown(insurer: FakeInsurer) -> None:
    """HTTP 200 announced N bytes, fewer came before the close: MalformedAnswer, as its
    docstring and docs/client-sdk.md's table say."""
    body = dumps(ok({"setlinfo": {"medfee_sumamt": Decimal("4.52")}}))
    insurer.behaviour = reply(body[:20], declared_length=len(body))
    with pytest.raises(MalformedAnswer) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.effect_unknown and "cut off" in str(caught.value)
    assert caught.value.body == b""


def test_a_truncated_error_page_keeps_its_status(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(b"<html>Bad", status=502, content_type="text/html",
                              declared_length=400)
    with pytest.raises(GatewayError) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.status == 502 and caught.value.effect_unknown


def test_headers_then_a_stall_is_a_timeout(insurer: FakeInsurer) -> None:
    insurer.behaviour = headers_then_stall(1.5)
    started = time.perf_counter()
    with pytest.raises(InsurerTimeout) as caught:
        client_for(insurer.url, timeout=0.3).call("2207", {"data": {}})
    assert time.perf_counter() - started < 1.4
    assert caught.value.effect_unknown and "2601" in str(caught.value)
    assert "HTTP 200 headers arrived" in str(caught.value)


def test_a_reset_while_the_answer_arrives_is_a_lost_connection(insurer: FakeInsurer) -> None:
    insurer.behaviour = reset_midway
    with pytest.raises(ConnectionLost) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.effect_unknown


@pytest.mark.parametrize(("status", "effect"), [(502, "unknown"), (500, "unknown"),
                                                (401, "none"), (413, "none")])
def test_http_errors_are_gateway_errors(insurer: FakeInsurer, status: int, effect: str) -> None:
    insurer.behaviour = reply(b"<html>Bad Gateway</html>", status=status,
                              content_type="text/html")
    with pytest.raises(GatewayError) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.status == status and caught.value.effect == effect
    assert caught.value.body == b"<html>Bad Gateway</html>"


def test_a_non_envelope_json_is_a_gateway_error(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply({"code": "999", "msg": "网关超时"})
    with pytest.raises(GatewayError) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.effect == "unknown" and "999" in str(caught.value)


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"infcode": 0, "output": {',
                                  b"[1, 2]", b'{"infcode": "ok"}', b'{"infcode": true}'])
def test_garbage_is_a_malformed_answer(insurer: FakeInsurer, body: bytes) -> None:
    insurer.behaviour = reply(body)
    with pytest.raises(MalformedAnswer) as caught:
        client_for(insurer.url).call("2207", {"data": {}})
    assert caught.value.effect == "unknown" and caught.value.body == body


def test_file_download_and_upload(insurer: FakeInsurer) -> None:
    insurer.behaviour = reply(b"PK\x03\x04zipbytes", content_type="application/octet-stream")
    client = client_for(insurer.url)
    assert client.download_file("F0001", "result.zip") == b"PK\x03\x04zipbytes"
    insurer.behaviour = reply(ok({"file_qury_no": "F0002", "filename": "d.zip",
                                  "dld_endtime": "2024-03-02 00:00:00"}))
    answer = client.upload_file("d.zip", b"\x00\x01zip")
    assert answer.output["file_qury_no"] == "F0002"
    sent = loads(insurer.requests[-1][1])["input"]["fsUploadIn"]
    assert sent == {"in": "AAF6aXA=", "filename": "d.zip", "fixmedins_code": CODE}


def test_reverse_names_the_original_message(insurer: FakeInsurer) -> None:
    client_for(insurer.url).reverse(psn_no="1", omsgid=f"{CODE}202403010910110001",
                                    oinfno="2207")
    sent = loads(insurer.requests[-1][1])
    assert sent["infno"] == "2601"
    assert sent["input"] == {"data": {"psn_no": "1", "omsgid": f"{CODE}202403010910110001",
                                      "oinfno": "2207"}}


def test_whole_numbers_in_answers_are_ints_and_money_reads_them_as_decimals(
        insurer: FakeInsurer) -> None:
    body = dumps(ok({})).replace(b'"output":{}', b'"output":{"setlinfo": {"psn_cash_pay": 0, '
                                 b'"acct_pay": 45, "balc": 4.50, "hifp_pay": "12.30", '
                                 b'"fund_pay_sumamt": null}}')
    insurer.behaviour = reply(body)
    answer = client_for(insurer.url).call("2207", {"data": {}})
    setl = answer.output["setlinfo"]
    assert type(setl["psn_cash_pay"]) is int and type(setl["balc"]) is Decimal
    for name, value in [("psn_cash_pay", "0"), ("acct_pay", "45"), ("balc", "4.50"),
                        ("hifp_pay", "12.30")]:
        amount = answer.money("setlinfo", name)
        assert type(amount) is Decimal and str(amount) == value
    with pytest.raises(ValueError):
        answer.money("setlinfo", "fund_pay_sumamt")
    with pytest.raises(KeyError):
        answer.money("setlinfo", "absent")


# --- msgids of several windows ------------------------------------------------------------------
def _two_windows(url: str, **kw: Any) -> tuple[InsurerClient, InsurerClient]:
    return client_for(url, **kw), client_for(url, **kw)


def test_windows_made_with_one_clock_never_share_a_msgid(insurer: FakeInsurer) -> None:
    """Two windows of one institution, made in the same second with the same clock and no
    msgid_factory, draw from one sequence (the process's default factory)."""
    def clock() -> datetime:
        return NOW

    first, second = _two_windows(insurer.url, clock=clock)
    msgids = [first.new_msgid(), second.new_msgid(), first.new_msgid()]
    assert len(set(msgids)) == 3
    assert msgids == [f"{CODE}20240301091011{n:04d}" for n in (1, 2, 3)]


def test_a_window_with_a_clock_of_its_own_counts_on_its_own(insurer: FakeInsurer) -> None:
    first = client_for(insurer.url, clock=lambda: NOW)
    other = client_for(insurer.url, clock=lambda: NOW, fixmedins_code="H11010200002")
    second = client_for(insurer.url, clock=lambda: NOW)
    assert first.new_msgid() == second.new_msgid() == f"{CODE}202403010910110001"
    assert other.new_msgid() == "H11010200002202403010910110001"


def test_an_explicit_factory_is_shared_and_starts_where_told(insurer: FakeInsurer) -> None:
    factory = MsgidFactory(CODE, lambda: NOW, start=3000)
    first, second = _two_windows(insurer.url, msgid_factory=factory)
    assert [first.new_msgid(), second.new_msgid()] == \
        [f"{CODE}202403010910113000", f"{CODE}202403010910113001"]
