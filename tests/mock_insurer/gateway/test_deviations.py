"""Deviations a vendor sees in the record: business fields read leniently in tolerant mode,
sign-in as Jiangxi sends it, the Content-Type header, and 9101's multipart form."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import requests

from mock_insurer.client import InsurerClient, InsurerRefusal
from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer, start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import make_client
from tests.mock_insurer.gateway.driver import Window

PATH = "/fsi/api/rsfComIfsService/callService"
UPLOAD = "/fsi/api/fileupload/upload"


@pytest.fixture
def tolerant(make_insurer: Callable[..., Insurer]) -> Iterator[tuple[Insurer, RunningServer]]:
    insurer = make_insurer(mode="tolerant")
    with start_in_thread(insurer) as server:
        yield insurer, server


def last_deviations(insurer: Insurer) -> list[dict[str, Any]]:
    with insurer.ledger.read() as tx:
        recorded = tx.messages(limit=1000)[-1]["deviations"]
    found: list[dict[str, Any]] = orjson.loads(recorded)
    return found


def codes(insurer: Insurer) -> set[tuple[str, str]]:
    return {(d["code"], d["field"]) for d in last_deviations(insurer)}


def signed_in(server: RunningServer) -> InsurerClient:
    client = make_client(server.url)
    client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
    return client


def test_tolerant_mode_records_the_business_fields_it_read_leniently(
        tolerant: tuple[Insurer, RunningServer]) -> None:
    insurer, server = tolerant
    window = Window(signed_in(server))
    window.info(1, mdtrt_cert_type=2)  # a number, and without its zero
    assert {("field_not_string", "data.mdtrt_cert_type"),
            ("code_unpadded", "data.mdtrt_cert_type")} <= codes(insurer)
    person = dataset.PERSONS[0]
    window.client.call("1101", {"data": [{"mdtrt_cert_type": "02",
                                          "mdtrt_cert_no": person["certno"]}]})
    assert ("node_is_list", "data") in codes(insurer)


def test_strict_mode_refuses_what_tolerant_mode_records(server: RunningServer,
                                                       insurer: Insurer) -> None:
    window = Window(signed_in(server))
    with pytest.raises(InsurerRefusal) as caught:
        window.info(1, mdtrt_cert_type=2)
    assert "mdtrt_cert_type" in caught.value.err_msg


def test_strict_sign_in_needs_ip_and_the_signin_node(server: RunningServer) -> None:
    strict = make_client(server.url)
    with pytest.raises(InsurerRefusal) as no_ip:
        strict.call("9001", {"signIn": {"opter_no": "C01", "mac": "m"}})
    assert "(ip)" in no_ip.value.err_msg and "[signIn.ip]" in no_ip.value.err_msg
    with pytest.raises(InsurerRefusal) as unwrapped:
        strict.call("9001", {"opter_no": "C01", "mac": "m", "ip": "127.0.0.1"})
    assert "signIn" in unwrapped.value.err_msg


def test_tolerant_sign_in_records_a_missing_ip_and_the_unwrapped_form(
        tolerant: tuple[Insurer, RunningServer]) -> None:
    insurer, tolerant_server = tolerant
    lenient = make_client(tolerant_server.url)
    lenient.call("9001", {"signIn": {"opter_no": "C01", "mac": "m"}})
    assert ("field_missing", "signIn.ip") in codes(insurer)
    answer = lenient.call("9001", {"opter_no": "C01", "mac": "m", "ip": "127.0.0.1"})
    assert answer.output["signinoutb"]["sign_no"]
    assert ("node_unwrapped", "signIn") in codes(insurer)


def test_diagnosis_order_is_a_number_as_the_specification_says(window: Window) -> None:
    mdtrt_id = window.register(1)
    answer = window.diagnose(1, mdtrt_id, codes=("J06.900", "K29.700"))  # sent as 1, 2
    assert answer.infcode == 0


def test_a_content_type_other_than_json_is_recorded_not_refused(
        window: Window, server: RunningServer, insurer: Insurer) -> None:
    envelope = window.client.build("1101", {"data": {
        "mdtrt_cert_type": "02", "mdtrt_cert_no": dataset.PERSONS[0]["certno"]}})
    for content_type, recorded in (("text/plain", True), ("application/json;charset=utf-8", False)):
        envelope["msgid"] = window.client.new_msgid()
        response = requests.post(server.url + PATH, data=orjson.dumps(envelope),
                                 headers={"Content-Type": content_type}, timeout=5)
        assert response.json()["infcode"] == 0
        assert (("content_type", "header:content-type") in codes(insurer)) is recorded


def detail_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", "")
    return buffer.getvalue()


def test_9101_as_a_multipart_form(window: Window, server: RunningServer,
                                  insurer: Insurer) -> None:
    content = detail_zip()
    envelope = window.client.build("9101", {"fsUploadIn": {"fixmedins_code": dataset.HOSPITAL,
                                                           "filename": "detail.zip"}})
    response = requests.post(server.url + UPLOAD, timeout=5,
                             data={"jsonStr": orjson.dumps(envelope).decode()},
                             files={"file": ("detail.zip", content, "application/zip")})
    answer = response.json()
    assert answer["infcode"] == 0, answer["err_msg"]
    number = answer["output"]["file_qury_no"]
    # what was uploaded is what 9102 gives back
    download = window.client.build("9102", {"fsDownloadIn": {
        "file_qury_no": number, "filename": "detail.zip", "fixmedins_code": dataset.HOSPITAL}})
    again = requests.post(server.url + "/fsi/api/fileupload/download", timeout=5,
                          data=orjson.dumps(download))
    assert again.content == content
    # the form without its envelope part: one clear line, nothing stored
    broken = requests.post(server.url + UPLOAD, timeout=5,
                           files={"file": ("detail.zip", content, "application/zip")})
    assert broken.json()["infcode"] == -1
    assert broken.json()["err_msg"] == "FSI-文件上传表单缺少jsonStr部分（报文）[body:multipart]"
    with insurer.ledger.read() as tx:  # recorded as the envelope it carried, file in Base64
        uploads = [m for m in tx.messages(limit=1000) if m["infno"] == "9101" and m["infcode"] == 0]
    recorded = orjson.loads(uploads[-1]["request"])
    assert recorded["input"]["fsUploadIn"]["in"] == base64.b64encode(content).decode()
