"""docs/client-sdk.md runs: its setup and its complete visit are executed against a scripted
insurer that checks every request (strict envelope, input schema) and answers outputs that
satisfy the output schemas."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from mock_insurer import schemas
from mock_insurer.client import ConnectionLost, InsurerRefusal, InsurerTimeout
from mock_insurer.wire.envelope import build_answer, parse_request
from mock_insurer.wire.jsonio import loads
from tests.mock_insurer.client.fake_insurer import FakeInsurer, ok, reply

DOC = Path(__file__).resolve().parents[3] / "docs" / "client-sdk.md"
ITEMS = [{"national_code": "XA01BCA011A001010104019", "hospital_code": "YP0001",
          "price": Decimal("2.26"), "cnt": Decimal("2")},
         {"national_code": "001102000010000", "hospital_code": "ZL0001",
          "price": Decimal("10.00"), "cnt": Decimal("1")}]

PERSON = {
    "baseinfo": {"psn_no": "11000011000000000001", "psn_cert_type": "01",
                 "certno": "110108199001011234", "psn_name": "张三", "gend": "1", "naty": "01",
                 "brdy": "1990-01-01", "age": Decimal("34.1"), "exp_content": None},
    "insuinfo": [{"balc": Decimal("1378.15"), "insutype": "310", "psn_type": "1101",
                  "psn_insu_stas": "1", "psn_insu_date": "2010-01-01", "paus_insu_date": None,
                  "cvlserv_flag": "0", "insuplc_admdvs": "110108", "emp_name": "某公司"}],
    "idetinfo": [],
}


def _setlinfo(data: dict[str, Any], *, pre: bool, msgid: str) -> dict[str, Any]:
    medfee = Decimal(str(data["medfee_sumamt"]))
    zero = Decimal("0.00")
    info: dict[str, Any] = {
        "mdtrt_id": data["mdtrt_id"], "setl_id": None if pre else "400125241",
        "psn_no": data["psn_no"], "psn_name": "张三", "psn_cert_type": "01",
        "certno": "110108199001011234", "gend": "1", "naty": "01", "brdy": "1990-01-01",
        "age": Decimal("34.1"), "insutype": "310", "psn_type": "1101", "cvlserv_flag": "0",
        "setl_time": None if pre else "2024-03-01 09:30:00", "mdtrt_cert_type": "03",
        "med_type": "11", "medfee_sumamt": medfee, "fulamt_ownpay_amt": zero,
        "overlmt_selfpay": zero, "preselfpay_amt": zero, "inscp_scp_amt": medfee,
        "act_pay_dedc": medfee, "hifp_pay": zero, "pool_prop_selfpay": Decimal("0.0000"),
        "cvlserv_pay": zero, "hifes_pay": zero, "hifmi_pay": zero, "hifob_pay": zero,
        "maf_pay": zero, "oth_pay": zero, "fund_pay_sumamt": zero, "psn_part_amt": medfee,
        "acct_pay": medfee, "psn_cash_pay": zero, "hosp_part_amt": zero,
        "balc": Decimal("1378.15") - medfee, "acct_mulaid_pay": zero, "medins_setl_id": msgid,
        "clr_optins": None if pre else "110108", "clr_way": None if pre else "01",
        "clr_type": "11",
    }
    return {"setlinfo": info, "setldetail": [
        {"fund_pay_type": "310200", "inscp_scp_amt": medfee, "crt_payb_lmt_amt": None,
         "fund_payamt": medfee, "fund_pay_type_name": "职工基本医疗保险个人账户基金",
         "setl_proc_info": None}]}


def _output(infno: str, business: dict[str, Any], msgid: str) -> dict[str, Any]:
    if infno == "9001":
        return {"signinoutb": {"sign_no": "110108202403010900000000000001",
                               "sign_time": "2024-03-01 09:00:00"}}
    if infno == "1101":
        return PERSON
    if infno == "2201":
        data = business["data"]
        return {"data": {"mdtrt_id": f"3001787{len(data['ipt_otp_no']):02d}",
                         "psn_no": data["psn_no"], "ipt_otp_no": data["ipt_otp_no"],
                         "exp_content": None}}
    if infno == "2204":
        return {"result": [{
            "feedetl_sn": row["feedetl_sn"], "det_item_fee_sumamt": row["det_item_fee_sumamt"],
            "cnt": row["cnt"], "pric": row["pric"], "pric_uplmt_amt": Decimal("999999"),
            "selfpay_prop": Decimal("0.0000"), "fulamt_ownpay_amt": Decimal("0.00"),
            "overlmt_amt": Decimal("0.00"), "preselfpay_amt": Decimal("0.00"),
            "inscp_scp_amt": row["det_item_fee_sumamt"], "chrgitm_lv": "01",
            "med_chrgitm_type": "09", "lmt_used_flag": "0"} for row in business["feedetail"]]}
    if infno in ("2206", "2207"):
        return _setlinfo(business["data"], pre=infno == "2206", msgid=msgid)
    return {}


class Scripted:
    """Answers each transaction from the fixtures above; records what it saw and every
    problem with a request or an answer."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.infnos: list[str] = []
        self.msgids: dict[str, str] = {}
        self.inputs: dict[str, list[Any]] = {}
        self.special: dict[str, Any] = {}
        self.visits: dict[str, str] = {}  # ipt_otp_no -> mdtrt_id, as the insurer keeps them

    def __call__(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        outcome = parse_request(body, mode="strict", path_infno=None, max_body=1 << 20)
        env = outcome.envelope
        if env is None or outcome.deviations:
            self.problems.append(f"request: {outcome.err_msg} {outcome.deviations}")
            return reply(build_answer(infcode=-1, output=None, err_msg=outcome.err_msg,
                                      inf_refmsgid="1", refmsg_time="2",
                                      respond_time="3"))(handler, body)
        self.infnos.append(env.infno)
        self.msgids[env.infno] = env.msgid
        self.inputs.setdefault(env.infno, []).append(env.input)
        self.problems += [f"{env.infno}.input {p}" for p in
                          schemas.validate(f"{env.infno}.input", env.input)]
        if env.infno in self.special:
            return self.special[env.infno](handler, body)
        if env.infno == "2201":  # the insurer refuses an outpatient number in use
            number = env.input["data"]["ipt_otp_no"]
            if number in self.visits:
                return reply(build_answer(
                    infcode=-1, output=None, inf_refmsgid="1", refmsg_time="2",
                    respond_time="3", err_msg=f"FSI-门诊号{number}已用于就诊"
                    f"{self.visits[number]}，请使用该就诊或先撤销挂号(2202)[data.ipt_otp_no]",
                ))(handler, body)
            self.visits[number] = f"3001787{len(number):02d}"
        output = _output(env.infno, env.input, env.msgid)
        self.problems += [f"{env.infno}.output {p}" for p in
                          schemas.validate(f"{env.infno}.output", output)]
        return reply(ok(output))(handler, body)


@pytest.fixture
def insurer() -> Iterator[tuple[FakeInsurer, Scripted]]:
    fake = FakeInsurer()
    script = Scripted()
    fake.behaviour = script
    yield fake, script
    fake.close()


def _run_doc(url: str) -> dict[str, Any]:
    blocks = _blocks()
    screens: dict[str, list[Any]] = {"patient": [], "cashier": [], "receipt": []}
    namespace: dict[str, Any] = {
        "BASE_URL": url, "AUTH": None,
        "show_patient": lambda *a: screens["patient"].append(a),
        "show_cashier": lambda *a: screens["cashier"].append(a),
        "print_receipt": lambda *a: screens["receipt"].append(a),
        "screens": screens,
    }
    exec(compile(blocks[0], f"{DOC}:setup", "exec"), namespace)
    exec(compile(blocks[1], f"{DOC}:visit", "exec"), namespace)
    return namespace


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_documented_visit_runs(insurer: tuple[FakeInsurer, Scripted]) -> None:
    fake, script = insurer
    doc = _run_doc(fake.url)
    setlinfo = doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS,
                                   "MZ20240301000123")
    assert script.infnos == ["9001", "1101", "2201", "2203", "2204", "2206", "2207"]
    assert script.problems == []
    assert setlinfo["medfee_sumamt"] == Decimal("14.52")
    assert doc["screens"]["patient"] == [(Decimal("0.00"), Decimal("14.52"), Decimal("0.00"))]
    assert doc["screens"]["receipt"] == [("400125241", Decimal("14.52"), Decimal("0.00"),
                                          Decimal("14.52"), Decimal("1363.63"))]


def test_a_lost_settlement_answer_is_reversed(insurer: tuple[FakeInsurer, Scripted]) -> None:
    fake, script = insurer

    def never_answer(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.close_connection = True

    script.special["2207"] = never_answer
    doc = _run_doc(fake.url)
    with pytest.raises(ConnectionLost) as caught:
        doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS, "MZ20240301000123")
    assert caught.value.effect_unknown
    assert script.infnos[-2:] == ["2207", "2601"]
    reversal = doc["client"].last_request["input"]["data"]
    assert reversal["omsgid"] == script.msgids["2207"] and reversal["oinfno"] == "2207"
    assert script.problems == []


def test_a_timeout_is_reversed_too(insurer: tuple[FakeInsurer, Scripted]) -> None:
    fake, script = insurer
    doc = _run_doc(fake.url)
    doc["client"].timeout = 0.2

    def slow(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        time.sleep(0.6)

    script.special["2207"] = slow
    with pytest.raises(InsurerTimeout):
        doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS, "MZ20240301000123")
    assert script.infnos[-1] == "2601"


def test_a_refused_settlement_is_shown_not_reversed(
        insurer: tuple[FakeInsurer, Scripted]) -> None:
    fake, script = insurer
    script.special["2207"] = reply(build_answer(
        infcode=-1, output=None, err_msg="FSI-医疗费总额与明细不符[data.medfee_sumamt]",
        inf_refmsgid="1", refmsg_time="2", respond_time="3"))
    doc = _run_doc(fake.url)
    with pytest.raises(InsurerRefusal):
        doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS, "MZ20240301000123")
    assert doc["screens"]["cashier"] == [("FSI-医疗费总额与明细不符[data.medfee_sumamt]",)]
    assert script.infnos[-1] == "2207"


def test_two_visits_in_a_row_are_both_settled(insurer: tuple[FakeInsurer, Scripted]) -> None:
    """The example takes the HIS's visit number: a second patient is not refused for an
    outpatient number or batch already used, and the 2203 names the visit's disease."""
    fake, script = insurer
    doc = _run_doc(fake.url)
    for number in ("MZ20240301000123", "MZ20240301000124"):
        doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS, number)
    assert script.problems == [] and len(doc["screens"]["receipt"]) == 2
    assert [i["data"]["ipt_otp_no"] for i in script.inputs["2201"]] == \
        ["MZ20240301000123", "MZ20240301000124"]
    batches = [{row["chrg_bchno"] for row in i["feedetail"]} for i in script.inputs["2204"]]
    assert batches == [{"MZ20240301000123-1"}, {"MZ20240301000124-1"}]
    assert [i["mdtrtinfo"]["dise_codg"] for i in script.inputs["2203"]] == ["J06.900"] * 2
    with pytest.raises(InsurerRefusal) as caught:  # the number of a visit already opened
        doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS, "MZ20240301000123")
    assert "[data.ipt_otp_no]" in caught.value.err_msg


def test_a_success_with_a_notice_is_a_settlement(insurer: tuple[FakeInsurer, Scripted]) -> None:
    """infcode 0 with an err_msg (docs/faults.md): the documented visit prints the receipt
    and shows the text as a notice; nothing is reversed or settled twice."""
    fake, script = insurer

    def with_notice(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        env = loads(body)
        reply(ok(_output("2207", env["input"], env["msgid"]),
                 err_msg="FSI-交易成功[setlinfo]"))(handler, body)

    script.special["2207"] = with_notice
    doc = _run_doc(fake.url)
    setlinfo = doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS,
                                   "MZ20240301000123")
    assert setlinfo["setl_id"] == "400125241"
    assert doc["screens"]["cashier"] == [("FSI-交易成功[setlinfo]",)]
    assert len(doc["screens"]["receipt"]) == 1 and script.infnos[-1] == "2207"


def test_strict_centers_reverse_not_show_nothing_happened(
        insurer: tuple[FakeInsurer, Scripted]) -> None:
    """With strict_err_msg=True the same answer is a refusal of unknown effect: the example
    reverses it and never tells the cashier that nothing happened."""
    fake, script = insurer
    script.special["2207"] = reply(ok({}, err_msg="FSI-已结算"))
    doc = _run_doc(fake.url)
    doc["client"].strict_err_msg = True
    with pytest.raises(InsurerRefusal) as caught:
        doc["settle_visit"](doc["client"], "A12345678", "C0001", ITEMS, "MZ20240301000123")
    assert caught.value.effect_unknown
    assert script.infnos[-2:] == ["2207", "2601"]
    assert doc["screens"]["cashier"] == [] and doc["screens"]["receipt"] == []


def test_the_typed_recovery_checks_under_mypy_strict(tmp_path: Path) -> None:
    """An embedder checked with mypy --strict can resend from the error and read the
    refusal's infcode as the docs show."""
    block = next(b for b in _blocks() if "def settle_or_resend" in b)
    snippet = tmp_path / "snippet.py"
    snippet.write_text(block, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-incremental", str(snippet)],
        cwd=DOC.parents[1], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_typed_recovery_resends_the_same_envelope(
        insurer: tuple[FakeInsurer, Scripted]) -> None:
    fake, script = insurer
    doc = _run_doc(fake.url)
    exec(compile(next(b for b in _blocks() if "def settle_or_resend" in b), f"{DOC}:typed",
                 "exec"), doc)
    answers = iter([reply(b"<html>502</html>", status=502, content_type="text/html"),
                    reply(ok({"setlinfo": {}}))])
    script.special["2207"] = lambda handler, body: next(answers)(handler, body)
    answer = doc["settle_or_resend"](doc["client"], {"psn_no": "1"}, "110108", print)
    assert answer.infcode == 0
    first, second = (body for _, body in fake.requests[-2:])
    assert first == second
