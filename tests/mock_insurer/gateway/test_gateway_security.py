"""The gateway against someone without credentials: a captured TIF request is not accepted
twice (even when the business clock is moved meanwhile), institution codes cannot be probed,
an apikey is checked in full, and refused garbage cannot fill the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import orjson
import requests

from mock_insurer.gateway import Insurer
from mock_insurer.gateway.service import UNAUTHENTICATED_KEPT_BYTES
from mock_insurer.server import start_in_thread
from mock_insurer.wire.envelope import build_request
from mock_insurer.wire.tif import tif_headers
from tests.mock_insurer.gateway import dataset

PATH = "/fsi/api/rsfComIfsService/callService"
ADMIN = {"Authorization": "Bearer secret"}  # the fixture's admin token


def signin_body(code: str = dataset.HOSPITAL, msgid_tail: str = "0001") -> bytes:
    envelope = build_request(
        infno="9001", msgid=f"{code}20260301090000{msgid_tail}",
        input={"signIn": {"opter_no": "C01", "mac": "m", "ip": "i"}}, fixmedins_code=code,
        fixmedins_name="测试医院", mdtrtarea_admvs="110105", insuplc_admdvs="110000",
        recer_sys_code="HIS", infver="V1.0", opter_type="1", opter="C01", opter_name="收费员",
        inf_time="2026-03-01 09:00:00")
    return orjson.dumps(envelope)


def test_a_captured_tif_request_is_refused_after_the_business_clock_moved(
        make_insurer: Callable[..., Insurer]) -> None:
    """The audit's replay: a request signed on the wall clock, then one signed on a business
    clock moved a day ahead (which used to sweep every remembered nonce), then the first
    request's headers again with another body — refused as a reused nonce."""
    insurer = make_insurer(auth="tif")
    service = insurer.service
    captured = tif_headers("paas03", "token03", insurer.config.wall, "nonce-A")
    first = service.prepare(signin_body(msgid_tail="0001"), path_infno=None, headers=captured)
    assert first.refusal is None
    insurer.clock.set_business_date(date(2026, 12, 25))
    moved = tif_headers("paas03", "token03", insurer.clock.now, "nonce-B")
    assert service.prepare(signin_body(msgid_tail="0002"), path_infno=None,
                           headers=moved).refusal is None
    replay = service.prepare(signin_body(msgid_tail="0003"), path_infno=None, headers=captured)
    assert replay.refusal is not None
    assert replay.refusal.err_msg == "FSI-网关认证失败：x-tif-nonce 已被使用[headers]"


def test_a_request_signed_before_the_insurer_started_is_refused(
        make_insurer: Callable[..., Insurer]) -> None:
    """A new process does not know the nonces its previous run took: a timestamp from before
    it started cannot be a replay it has caught, so it is refused, asking to sign again."""
    insurer = make_insurer(auth="tif")
    now = insurer.config.wall()
    earlier = datetime.fromtimestamp(now.timestamp() - 30, tz=now.tzinfo)
    headers = tif_headers("paas03", "token03", lambda: earlier, "nonce-old")
    refused = insurer.service.prepare(signin_body(), path_infno=None, headers=headers)
    assert refused.refusal is not None
    assert "签名时间早于医保中心本次启动" in refused.refusal.err_msg
    assert "请重新签名" in refused.refusal.err_msg


def test_an_unknown_institution_is_told_no_more_than_a_failed_check(
        make_insurer: Callable[..., Insurer]) -> None:
    insurer = make_insurer(auth="apikey")
    with start_in_thread(insurer) as server:
        def call(code: str, key: str) -> dict[str, object]:
            answer: dict[str, object] = requests.post(
                server.url + PATH, data=signin_body(code), headers={"x-api-key": key},
                timeout=5).json()
            return answer

        unknown = call("H99999999999", "anything")
        known_wrong_key = call(dataset.HOSPITAL, "key0")  # a prefix of the real key03
        assert unknown["infcode"] == known_wrong_key["infcode"] == -1
        assert str(unknown["err_msg"]).startswith("FSI-网关认证失败")
        assert "H99999999999" not in str(unknown["err_msg"])
        assert str(known_wrong_key["err_msg"]).startswith("FSI-网关认证失败")
        assert call(dataset.HOSPITAL, "key03")["infcode"] == 0
        codes = [m["rejection_code"] for m in
                 requests.get(server.url + "/admin/messages", headers=ADMIN, timeout=5).json()["items"]]
        assert codes == ["unknown_institution", "auth_failed", None]


def test_garbage_from_anyone_is_recorded_in_part(make_insurer: Callable[..., Insurer]) -> None:
    """A 1 MB body that is not an envelope is refused as before, and the record keeps its
    first 4 KiB and says how long it was; an authenticated message is recorded whole."""
    insurer = make_insurer(auth="apikey")
    with start_in_thread(insurer) as server:
        garbage = b"\x00not an envelope" * 65_536
        answer = requests.post(server.url + PATH, data=garbage, timeout=10).json()
        assert answer["infcode"] == -1
        good = signin_body()
        assert requests.post(server.url + PATH, data=good, headers={"x-api-key": "key03"},
                             timeout=5).json()["infcode"] == 0
        first, second = requests.get(server.url + "/admin/messages", headers=ADMIN, timeout=5).json()["items"]
    assert first["request"]["size"] == UNAUTHENTICATED_KEPT_BYTES
    assert {"code": "body_kept_in_part", "field": "body",
            "detail": f"{len(garbage)} bytes, refused before authentication: the first "
                      f"{UNAUTHENTICATED_KEPT_BYTES} kept"} in first["deviations"]
    assert second["request"]["size"] == len(good)
