"""A vendor's HIS, built for the real national interface, pointed at the mock with nothing
changed but the URL and credentials: raw HTTP, envelopes built by hand, the quirks such HIS
have (ids read from CHAR columns with their padding, Base64 wrapped by a MIME encoder, an API
key copied with a trailing space), and what the cashier is told when the mock refuses."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Callable
from itertools import count
from typing import Any

import orjson
import pytest
import requests

from mock_insurer import schemas
from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

PATH = "/fsi/api/rsfComIfsService/callService"
CODE = dataset.HOSPITAL
PERSON = dataset.PERSONS[0]  # 张伟, 310 in service


class Vendor:
    """The vendor's own client: an envelope dict, json, requests (no SDK)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url + PATH
        self.headers = {"Content-Type": "application/json;charset=utf-8", **(headers or {})}
        self.seq = count(1)
        self.sign_no = ""

    def envelope(self, infno: str, input: Any, **changes: Any) -> dict[str, Any]:
        # msgids at 12:00, apart from those of the SDK's window (which count from 08:00)
        body = {
            "infno": infno, "msgid": f"{CODE}20260302120000{next(self.seq):04d}",
            "mdtrtarea_admvs": "110105", "insuplc_admdvs": "110000", "recer_sys_code": "YBXT",
            "dev_no": "", "dev_safe_info": "", "cainfo": "", "signtype": "", "infver": "V1.0",
            "opter_type": "1", "opter": "C01", "opter_name": "王收费",
            "inf_time": "2026-03-02 08:00:00", "fixmedins_code": CODE,
            "fixmedins_name": "北京测试第三医院", "sign_no": self.sign_no, "input": input,
        }
        body.update(changes)
        return body

    def post(self, infno: str, input: Any, **changes: Any) -> dict[str, Any]:
        body = orjson.dumps(self.envelope(infno, input, **changes))
        answer: dict[str, Any] = requests.post(self.url, data=body, headers=self.headers,
                                               timeout=10).json()
        assert schemas.validate("envelope.answer", answer) == [], answer
        return answer

    def sign_in(self) -> None:
        answer = self.post("9001", {"signIn": {"opter_no": "C01", "mac": "m", "ip": "10.1.2.3"}},
                           insuplc_admdvs="")
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]


def person_info(**data: Any) -> dict[str, Any]:
    return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": PERSON["certno"], **data}}


def recorded(insurer: Insurer) -> dict[str, Any]:
    with insurer.ledger.read() as tx:
        return dict(tx.messages(limit=1000)[-1])


def deviations(insurer: Insurer) -> set[tuple[str, str]]:
    return {(d["code"], d["field"]) for d in orjson.loads(recorded(insurer)["deviations"])}


# --- ids padded by a CHAR column ---------------------------------------------------------
def test_strict_mode_tells_the_cashier_the_sign_no_has_a_trailing_space(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    insurer, url = serve()
    his = Vendor(url)
    his.sign_in()
    answer = his.post("1101", person_info(), insuplc_admdvs="", sign_no=his.sign_no + " ")
    # before: "FSI-报文字段超长：交易签到流水号(sign_no)超过30位" for a 30-character sign_no
    assert answer["infcode"] == -1
    assert answer["err_msg"] == ("FSI-报文字段首尾含空格或不可见字符：交易签到流水号(sign_no)，"
                                 "请去除后重发[sign_no]")
    assert recorded(insurer)["rejection_code"] == "whitespace"
    answer = his.post("1101", person_info(psn_name=PERSON["psn_name"] + " "), insuplc_admdvs="")
    # before: "姓名与医保登记信息不符(医保登记为张伟)" — the same name on the cashier's screen
    assert answer["err_msg"] == ("FSI-人员姓名(psn_name)首尾含空格或不可见字符，请去除后重新上传"
                                 "[data.psn_name]")


def test_tolerant_mode_serves_a_his_that_pads_its_ids(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    insurer, url = serve(mode="tolerant")
    his = Vendor(url)
    his.sign_in()
    answer = his.post("1101", person_info(psn_name=PERSON["psn_name"] + "  "),
                      insuplc_admdvs="", sign_no=his.sign_no + " ", fixmedins_code=CODE + " ")
    # before: "签到信息不存在或已失效" (re-signing gives the same padded sign_no: a loop)
    assert answer["infcode"] == 0, answer["err_msg"]
    assert answer["output"]["baseinfo"]["psn_no"] == PERSON["psn_no"]
    assert {("whitespace", "sign_no"), ("whitespace", "fixmedins_code"),
            ("whitespace", "data.psn_name")} <= deviations(insurer)


# --- err_msg is char 200 ---------------------------------------------------------------------
def test_an_echoed_value_never_makes_err_msg_longer_than_its_200_characters(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    insurer, url = serve(mode="tolerant")
    his = Vendor(url)
    his.sign_in()
    answer = his.post("5203", {"data": {"psn_no": PERSON["psn_no"], "setl_id": "4" * 3000,
                                        "mdtrt_id": ""}})
    # before: an err_msg of 3,025 characters (the setl_id echoed whole); an identifier the
    # center matches is not cut in tolerant mode (that would change what it finds): refused
    # as too long, naming the limit (bounded_err_msg still guards every echo: test_vendor_wire)
    assert answer["infcode"] == -1
    assert len(answer["err_msg"]) <= 200
    assert answer["err_msg"] == "FSI-结算ID(setl_id)长度超过30位[data.setl_id]"
    assert recorded(insurer)["err_msg"] == answer["err_msg"]


# --- bodies no HIS should send, answered as envelopes ------------------------------------------
@pytest.mark.parametrize("depth", [600, 900])
def test_deeply_nested_input_is_an_envelope_refusal_not_a_500(
        serve: Callable[..., tuple[Insurer, str]], depth: int) -> None:
    insurer, url = serve()
    his = Vendor(url)
    his.sign_in()
    body = orjson.dumps(his.envelope("1101", person_info(), insuplc_admdvs=""))
    body = body.replace(b'"mdtrt_cert_type"', b'"x":' + b"[" * depth + b"]" * depth
                        + b',"mdtrt_cert_type"')
    reply = requests.post(his.url, data=body, headers=his.headers, timeout=10)
    # before: HTTP 500 "Internal Server Error" and a RecursionError traceback in the log
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["infcode"] == -1
    assert answer["err_msg"] == "FSI-交易输入(input)嵌套超过32层，请检查报文结构[input]"
    assert recorded(insurer)["rejection_code"] == "input_too_deep"


# --- gateway credentials -------------------------------------------------------------------
def test_an_api_key_header_with_a_trailing_space_is_the_key(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    _insurer, url = serve(auth="apikey")
    his = Vendor(url, headers={"apikey": "key03 "})  # HTTP: surrounding whitespace is no part
    his.sign_in()                                     # of a header's value (RFC 9110 §5.5)
    assert his.sign_no
    wrong = Vendor(url, headers={"apikey": "key01"}).post(
        "9001", {"signIn": {"opter_no": "C01", "mac": "m", "ip": "10.1.2.3"}}, insuplc_admdvs="")
    assert wrong["infcode"] == -1 and "apikey" in wrong["err_msg"]


# --- 9101 file upload as Java and .NET clients encode it ---------------------------------------
@pytest.mark.parametrize("encode", [
    pytest.param(lambda b: base64.encodebytes(b).decode(), id="mime-lines"),
    pytest.param(lambda b: base64.encodebytes(b).decode().replace("\n", "\r\n"), id="crlf-lines"),
    pytest.param(lambda b: base64.b64encode(b).decode().rstrip("="), id="no-padding"),
])
def test_9101_reads_base64_as_a_mime_encoder_writes_it(
        serve: Callable[..., tuple[Insurer, str]], encode: Callable[[bytes], str]) -> None:
    insurer, url = serve()
    his = Vendor(url)
    his.sign_in()
    text = "".join(f"40000000{i:04d}\t300000000001\t{PERSON['psn_no']}\t1.00\t0.00\t1.00\t0\n"
                   for i in range(40))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", text)
    content = buffer.getvalue()
    assert len(encode(content)) > 76  # several lines
    answer = his.post("9101", {"fsUploadIn": {"in": encode(content), "filename": "detail.zip",
                                              "fixmedins_code": CODE}})
    # before: "FSI-文件内容(in)应为Base64字符串或字节数组[fsUploadIn.in]"
    assert answer["infcode"] == 0, answer["err_msg"]
    assert ("base64_layout", "fsUploadIn.in") in deviations(insurer)
    stored = his.post("3202", {"data": {
        "setl_optins": "110000", "file_qury_no": answer["output"]["file_qury_no"],
        "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02", "medfee_sumamt": "40.00",
        "fund_pay_sumamt": "0.00", "cash_payamt": "0.00", "fixmedins_setl_cnt": 40}})
    assert stored["infcode"] == 0, stored["err_msg"]  # the 40 rows were read from the zip


# --- 2601 under the wrong institution ---------------------------------------------------------
def test_a_reversal_sent_under_another_institutions_code_is_refused(
        window: Window, server: RunningServer, insurer: Insurer) -> None:
    settled = window.visit(1, [("001102000010000", "1")])  # by the tier-3 hospital
    setl_id = settled.output["setlinfo"]["setl_id"]
    campus = Vendor(server.url)  # the same HIS, other campus: the community centre's code
    campus_code = dataset.COMMUNITY
    nine = campus.envelope("9001", {"signIn": {"opter_no": "C01", "mac": "m", "ip": "10.1.2.3"}},
                           insuplc_admdvs="", fixmedins_code=campus_code,
                           msgid=f"{campus_code}202603020800000001")
    signed = requests.post(campus.url, data=orjson.dumps(nine), headers=campus.headers,
                           timeout=10).json()
    answer = campus.post("2601", {"data": {"psn_no": PERSON["psn_no"], "omsgid": settled.msgid,
                                           "oinfno": "2207"}},
                         fixmedins_code=campus_code, msgid=f"{campus_code}202603020800000002",
                         sign_no=signed["output"]["signinoutb"]["sign_no"])
    # before: infcode 0 — the HIS took the settlement as reversed, and settled the patient again
    assert answer["infcode"] == -1
    assert answer["err_msg"] == f"FSI-结算{setl_id}不是本机构办理的，不能撤销[data.omsgid]"
    with insurer.ledger.read() as tx:
        kept = tx.settlement(setl_id)
    assert kept is not None and kept.cancelled_by is None  # still in effect


# --- 5203 answers the settlement's own facts, whoever asks -------------------------------------
def test_5203_names_the_operator_who_settled_not_the_one_asking(
        window: Window, server: RunningServer) -> None:
    settled = window.visit(1, [("001102000010000", "1")])  # settled by C01 王收费
    setlinfo = settled.output["setlinfo"]
    office = Vendor(server.url)  # the insurance office's terminal asks later
    office.sign_in()
    answer = office.post("5203", {"data": {"psn_no": PERSON["psn_no"],
                                           "setl_id": setlinfo["setl_id"],
                                           "mdtrt_id": setlinfo["mdtrt_id"]}},
                         opter="Y07", opter_name="医保办查询")
    assert answer["infcode"] == 0, answer["err_msg"]
    row = answer["output"]["setlinfo"]
    # before: opter_id "Y07", opter_name "医保办查询" — the asker, not who took the money
    assert (row["opter_id"], row["opter_name"]) == ("C01", "王收费")
    assert (row["flxempe_flag"], row["nwb_flag"]) == ("0", "0")
    assert (row["insu_optins"], row["emp_name"]) == ("110000", "北京测试科技有限公司")
    assert schemas.validate("5203.output", answer["output"]) == []
