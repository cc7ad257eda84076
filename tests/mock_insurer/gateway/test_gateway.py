"""The gateway: envelopes as real clients send them, what is refused before any handler runs,
gateway authentication, and that every answer matches its JSON Schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from mock_insurer import schemas
from mock_insurer.client import InsurerRefusal, TifAuth
from mock_insurer.errors import InsurerError
from mock_insurer.gateway import Insurer, InsurerConfig
from mock_insurer.gateway.app import ledger_holds_data
from mock_insurer.gateway.loading import DataFileError, load_population
from mock_insurer.server import start_in_thread
from mock_insurer.wire.jsonio import loads
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import make_client
from tests.mock_insurer.gateway.driver import Window

D = Decimal
PATH = "/fsi/api/rsfComIfsService/callService"


def post(url: str, body: bytes | str, path: str = PATH, **headers: str) -> dict[str, Any]:
    response = requests.post(url + path, data=body, headers=headers, timeout=5)
    assert response.status_code == 200
    result: dict[str, Any] = loads(response.content)
    return result


@pytest.mark.parametrize(("body", "words"), [
    (b"{not json", "JSON"),
    (b"[1, 2]", ""),
    (b"", ""),
    ("\xff\xfe".encode("latin-1"), ""),
    (orjson.dumps({"infno": "1101"}), ""),
])
def test_malformed_bodies_get_a_clear_refusal_not_a_500(server: Any, body: bytes,
                                                        words: str) -> None:
    answer = post(server.url, body)
    assert answer["infcode"] == -1
    assert answer["err_msg"].startswith("FSI-")
    assert words in answer["err_msg"]


def test_unknown_infno_and_institutions_are_refused(window: Window, server: Any) -> None:
    envelope = window.client.build("1101", {"data": {}})
    for change, code in ((("infno", "8888"), "8888"),
                         (("fixmedins_code", "H99999999999"), "H99999999999"),
                         (("fixmedins_code", dataset.BLACKLISTED_HOSPITAL), "暂停")):
        bad = {**envelope, change[0]: change[1]}
        if change[0] == "fixmedins_code":
            bad["msgid"] = change[1] + envelope["msgid"][12:]
        answer = post(server.url, orjson.dumps(bad))
        assert answer["infcode"] == -1 and code in answer["err_msg"]


def test_every_post_path_under_the_base_routes_by_infno(window: Window, server: Any) -> None:
    envelope = window.client.build("1101", {"data": {
        "mdtrt_cert_type": "02", "mdtrt_cert_no": dataset.PERSONS[0]["certno"]}})
    for path in (PATH, "/fsi/api/fsiPsnInfoService/queryPsnInfo", "/1101",
                 "/mbs/fmi/fsi/api/callFsiService/callService"):
        envelope["msgid"] = window.client.new_msgid()
        answer = post(server.url, orjson.dumps(envelope), path, **{"Content-Type":
                                                                   "text/plain"})
        assert answer["infcode"] == 0, (path, answer)


def test_input_as_a_json_string_is_accepted(window: Window, server: Any) -> None:
    envelope = window.client.build("1101", {})
    envelope["input"] = orjson.dumps({"data": {
        "mdtrt_cert_type": "02", "mdtrt_cert_no": dataset.PERSONS[0]["certno"]}}).decode()
    assert post(server.url, orjson.dumps(envelope))["infcode"] == 0


def test_tolerant_mode_normalises_typed_values_and_records_it(
        make_insurer: Callable[..., Insurer]) -> None:
    insurer = make_insurer(mode="tolerant")
    with start_in_thread(insurer) as server:
        client = make_client(server.url)
        client.sign_in(opter_no="C01", mac="m", ip="i")
        answer = Window(client).info(2, mdtrt_cert_no=" 11010519550303002x ")
        assert answer.output["baseinfo"]["psn_name"] == "王秀英"
        # the ID number sent beside the certificate is read the same way (full-width, x)
        answer = Window(client).info(2, mdtrt_cert_no="１１０１０５１９５５０３０３００２x",
                                     certno="11010519550303002x")
        assert answer.output["baseinfo"]["certno"] == "11010519550303002X"
    with insurer.ledger.read() as tx:
        last = tx.messages(limit=1000)[-1]
    assert "typed_value_normalised" in last["deviations"] and "data.certno" in last["deviations"]


def test_tif_gateway_signature(make_insurer: Callable[..., Insurer]) -> None:
    insurer = make_insurer(auth="tif")
    with start_in_thread(insurer) as server:
        good = make_client(server.url, auth=TifAuth("paas03", "token03"))
        good.sign_in(opter_no="C01", mac="m", ip="i")
        bad = make_client(server.url, auth=TifAuth("paas03", "wrong"))
        with pytest.raises(InsurerRefusal) as caught:
            bad.sign_in(opter_no="C01", mac="m", ip="i")
        assert caught.value.err_msg.startswith("FSI-网关认证失败：签名不一致，请核对 token")
        unsigned = make_client(server.url)
        with pytest.raises(InsurerRefusal) as missing:
            unsigned.sign_in(opter_no="C01", mac="m", ip="i")
        assert missing.value.err_msg == "FSI-网关认证失败：缺少请求头 x-tif-paasid[headers]"
        other = make_client(server.url, auth=TifAuth("paas01", "token01"))  # another hospital's
        with pytest.raises(InsurerRefusal) as foreign:
            other.sign_in(opter_no="C01", mac="m", ip="i")
        assert "不是本机构的网关账号" in foreign.value.err_msg
        # timestamps are checked against the wall clock, not the business date an operator set
        insurer.clock.set_business_date(date(2026, 6, 1))
        assert good.sign_in(opter_no="C01", mac="m", ip="i")


def test_every_recorded_message_matches_the_schemas(window: Window, insurer: Insurer) -> None:
    """Drive every transaction once, then check each request's input and each successful
    answer's output against the JSON Schemas under mock_insurer/schemas."""
    answer = window.visit(1, [("001102000010000", "1"), ("XJ01CAA040A001010100568", "1")])
    s = answer.output["setlinfo"]
    window.info(1)
    window.pre_settle  # noqa: B018 - 2206 is covered below on a second visit
    other = window.register(2)
    window.diagnose(2, other)
    window.upload([window.row(2, other, "001102000010000", "1")])
    window.pre_settle(2, other, D("30.00"))
    window.client.call("2205", {"data": {"mdtrt_id": other, "chrg_bchno": "0000",
                                         "psn_no": dataset.PERSONS[1]["psn_no"]}})
    window.client.call("2202", {"data": {"mdtrt_id": other, "ipt_otp_no": window.outpatient_no[other],
                                         "psn_no": dataset.PERSONS[1]["psn_no"]}})
    window.client.call("5203", {"data": {"psn_no": s["psn_no"], "setl_id": s["setl_id"],
                                         "mdtrt_id": s["mdtrt_id"]}})
    window.client.call("5206", {"data": {"psn_no": s["psn_no"], "cum_ym": "202603"}})
    window.cancel(1, s["mdtrt_id"], s["setl_id"])
    window.client.reverse(psn_no=s["psn_no"], omsgid=window.client.new_msgid(), oinfno="2207")
    window.client.call("3201", {"data": {
        "insutype": "310", "clr_type": "11", "setl_optins": "110000",
        "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02", "medfee_sumamt": "0",
        "fund_pay_sumamt": "0", "acct_pay": "0", "fixmedins_setl_cnt": 2}})
    window.client.sign_out("C01")
    with insurer.ledger.read() as tx:
        messages = tx.messages(limit=1000)
    checked = set()
    for message in messages:
        if message["infcode"] != 0 or message["status"] != "answered":
            continue
        infno = message["infno"]
        request = loads(bytes(message["request"]))
        answer_env = loads(bytes(message["answer"]))
        assert schemas.validate(f"{infno}.input", request["input"]) == [], infno
        assert schemas.validate(f"{infno}.output", answer_env["output"]) == [], infno
        assert schemas.validate("envelope.answer", answer_env) == [], infno
        checked.add(infno)
    assert checked >= {"9001", "9002", "1101", "2201", "2202", "2203", "2204", "2205", "2206",
                       "2207", "2208", "2601", "5203", "5206", "3201"}


def test_a_bad_population_file_leaves_the_old_population(insurer: Insurer,
                                                         tmp_path: Any) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(orjson.dumps({**dataset.PERSONS[0], "cards": [1]}) + b"\n")
    twice = tmp_path / "twice.jsonl"
    twice.write_bytes(orjson.dumps(dataset.PERSONS[0]) * 1 + b"\n"
                      + orjson.dumps(dataset.PERSONS[0]) + b"\n")
    for path, words in ((empty, "no persons"), (broken, r"cards\[0\]: must be an object"),
                        (twice, "duplicate")):
        with pytest.raises(DataFileError, match=words):
            load_population(insurer.ledger, path)
        with insurer.ledger.read() as tx:
            assert tx.count("persons") == len(dataset.PERSONS)


@pytest.mark.parametrize("refused", ["catalogue", "policy"])
def test_a_start_refused_after_loading_leaves_the_ledger_empty(
        tmp_path: Path, backend_url: str, refused: str) -> None:
    """A catalogue with a bad line in the middle (or an unknown policy) refuses the start, and
    the ledger is not left holding the institutions and persons loaded before it: the next
    start begins anew instead of continuing a half-loaded ledger. A ledger that already held
    data keeps it when a start fails."""
    paths = dataset.write(tmp_path)
    catalogue, policy = paths["catalogue"], "beijing"
    if refused == "catalogue":
        lines = catalogue.read_text(encoding="utf-8").splitlines()
        catalogue = tmp_path / "bad-catalogue.jsonl"
        catalogue.write_text("\n".join([*lines[:2], "[1, 2]", *lines[2:]]) + "\n",
                             encoding="utf-8")
    else:
        policy = "no-such-policy"
    config = InsurerConfig(db_url=backend_url, population=paths["population"],
                           catalogue=catalogue, institutions=paths["institutions"],
                           policy=policy, fresh=True)
    with pytest.raises(InsurerError):
        Insurer.open(config)
    assert not ledger_holds_data(backend_url)
    # a ledger that holds data is not emptied by a start that fails
    Insurer.open(replace(config, catalogue=paths["catalogue"], policy="beijing")).close()
    with pytest.raises(InsurerError):
        Insurer.open(InsurerConfig(db_url=backend_url, policy="no-such-policy"))
    assert ledger_holds_data(backend_url)
