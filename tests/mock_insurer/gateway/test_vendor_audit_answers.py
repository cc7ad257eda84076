"""The vendor's audit, second part: what the HIS reads in the answers. Tolerant mode never
answers more than the interface's lengths (every answer checked against the schema the insurer
serves), 5203 repeats what the settlement was made with, strict mode refuses amounts a HIS
should not send, a borrowed sign-in is named as such, and 9102's file has a name."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import jsonschema
import orjson
import pytest
import requests

from mock_insurer.gateway import Insurer
from mock_insurer.gateway.disposition import content_disposition
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.test_vendor_audit import CODE, PERSON, Vendor, recorded

NOW = "2026-03-02 08:30:00"
ITEM = "001102000010000"  # 门诊诊查费 30.00, 甲类


class Checked(Vendor):
    """The vendor's HIS that validates every answer's ``output`` against the output schema the
    insurer serves (``GET /schemas/<infno>.output.json``), as a careful HIS does."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.base = url
        self.schemas: dict[str, Any] = {}

    def output_problems(self, infno: str, output: Any) -> list[str]:
        if infno not in self.schemas:
            reply = requests.get(f"{self.base}/schemas/{infno}.output.json", timeout=10)
            assert reply.status_code == 200, reply.text
            self.schemas[infno] = jsonschema.Draft202012Validator(reply.json())
        return [f"{'.'.join(map(str, e.path))}: {e.message}"
                for e in self.schemas[infno].iter_errors(output)]

    def post(self, infno: str, input: Any, **changes: Any) -> dict[str, Any]:
        answer = super().post(infno, input, **changes)
        if answer["infcode"] == 0:
            assert self.output_problems(infno, answer["output"]) == [], (infno, answer["output"])
        return answer


def register(his: Vendor, ipt_otp_no: str = "MZ0001", **data: Any) -> dict[str, Any]:
    return his.post("2201", {"data": {
        "psn_no": PERSON["psn_no"], "insutype": "310", "begntime": NOW,
        "mdtrt_cert_type": "02", "mdtrt_cert_no": PERSON["certno"], "ipt_otp_no": ipt_otp_no,
        "atddr_no": "D001", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科",
        "caty": "A03", **data}})


def diagnose(his: Vendor, mdtrt_id: str, **mdtrtinfo: Any) -> dict[str, Any]:
    return his.post("2203", {
        "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": PERSON["psn_no"], "med_type": "11",
                      "begntime": NOW, **mdtrtinfo},
        "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "J06.900",
                      "diag_name": "急性上呼吸道感染", "diag_dept": "内科", "dise_dor_no": "D001",
                      "dise_dor_name": "李医生", "diag_time": NOW, "vali_flag": "1"}]})


def fee_row(mdtrt_id: str, feedetl_sn: str = "F0001", **extra: Any) -> dict[str, Any]:
    return {"feedetl_sn": feedetl_sn, "mdtrt_id": mdtrt_id, "psn_no": PERSON["psn_no"],
            "chrg_bchno": "B1", "rx_circ_flag": "0", "fee_ocur_time": NOW,
            "med_list_codg": ITEM, "medins_list_codg": dataset.HOSP_CODES[ITEM],
            "det_item_fee_sumamt": "30.00", "cnt": "1", "pric": "30.00",
            "bilg_dept_codg": "A01", "bilg_dept_name": "内科", "bilg_dr_codg": "D001",
            "bilg_dr_name": "李医生", "hosp_appr_flag": "1", **extra}


def settle_data(mdtrt_id: str, **extra: Any) -> dict[str, Any]:
    return {"data": {"psn_no": PERSON["psn_no"], "mdtrt_cert_type": "02",
                     "mdtrt_cert_no": PERSON["certno"], "med_type": "11",
                     "medfee_sumamt": "30.00", "psn_setlway": "01", "mdtrt_id": mdtrt_id,
                     "chrg_bchno": "B1", "acct_used_flag": "1", "insutype": "310", **extra}}


def detail_zip(rows: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", rows)
    import base64
    return base64.b64encode(buffer.getvalue()).decode()


# --- 1. tolerant mode answers within the interface's lengths ----------------------------------
def test_tolerant_answers_fit_their_output_schemas_whatever_length_was_sent(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    insurer, url = serve(mode="tolerant")
    his = Checked(url)
    signed = his.post("9001", {"signIn": {"opter_no": "C01", "mac": "m" * 40,
                                          "ip": "10.1.2.3" * 5}}, insuplc_admdvs="")
    assert signed["infcode"] == 0, signed["err_msg"]
    his.sign_no = signed["output"]["signinoutb"]["sign_no"]

    # an identifier the center matches and echoes: cutting it would change what it matches
    refused = register(his, ipt_otp_no="MZ" + "0" * 38)
    # before: infcode 0 and output.data.ipt_otp_no of 40 characters (the schema says 30)
    assert refused["infcode"] == -1
    assert refused["err_msg"] == "FSI-住院/门诊号(ipt_otp_no)长度超过30位[data.ipt_otp_no]"
    assert recorded(insurer)["rejection_code"] == "too_long"

    # free text: kept as the center's column holds it (deviation field_too_long)
    reg = register(his, dr_name="李" * 60, dept_name="内" * 120, atddr_no="D" * 40)
    assert reg["infcode"] == 0, reg["err_msg"]
    mdtrt_id = reg["output"]["data"]["mdtrt_id"]
    assert ("field_too_long", "data.dr_name") in {
        (d["code"], d["field"]) for d in orjson.loads(recorded(insurer)["deviations"])}

    assert diagnose(his, mdtrt_id, main_cond_dscr="咳" * 1200, dise_name="病" * 600,
                    dise_codg="M03900")["infcode"] == 0
    too_long_sn = his.post("2204", {"feedetail": [fee_row(mdtrt_id, "F" * 31)]})
    assert too_long_sn["infcode"] == -1
    assert too_long_sn["err_msg"].endswith("长度超过30位[feedetail[0].feedetl_sn]")
    uploaded = his.post("2204", {"feedetail": [fee_row(mdtrt_id, bilg_dr_name="王" * 80,
                                                       sin_dos_dscr="x" * 300)]})
    assert uploaded["infcode"] == 0, uploaded["err_msg"]

    long_msgid = f"{CODE}20260302120000" + "9" * 14  # 40 characters: a HIS's own id scheme
    pre = his.post("2206", settle_data(mdtrt_id), msgid=long_msgid)
    # before: medins_setl_id of 40 characters (char 30), the key 2601 reverses by
    assert pre["infcode"] == -1
    assert pre["err_msg"].startswith("FSI-发送方报文ID(msgid)共40位，超过30位")
    assert recorded(insurer)["rejection_code"] == "msgid_too_long"
    assert his.post("2206", settle_data(mdtrt_id))["infcode"] == 0
    settled = his.post("2207", settle_data(mdtrt_id, invono="FP" + "7" * 28),
                       opter="O" * 40, opter_name="收" * 60)
    assert settled["infcode"] == 0, settled["err_msg"]
    setlinfo = settled["output"]["setlinfo"]

    query = his.post("5203", {"data": {"psn_no": PERSON["psn_no"], "setl_id": setlinfo["setl_id"],
                                       "mdtrt_id": mdtrt_id}})
    assert query["infcode"] == 0, query["err_msg"]
    row = query["output"]["setlinfo"]
    assert row["invono"] == "FP" + "7" * 18        # as the center keeps it: 20 characters
    assert (row["opter_id"], row["opter_name"]) == ("O" * 30, "收" * 50)

    optins = {"insutype": "310", "clr_type": "11", "stmt_begndate": "2026-03-02",
              "stmt_enddate": "2026-03-02", "medfee_sumamt": "30.00",
              "fund_pay_sumamt": str(setlinfo["fund_pay_sumamt"]),
              "acct_pay": str(setlinfo["acct_pay"]), "fixmedins_setl_cnt": 1}
    wrong = his.post("3201", {"data": {**optins, "setl_optins": "1100001"}})
    # before: infcode 0, stmtinfo.setl_optins "1100001" (char 6)
    assert wrong["infcode"] == -1
    assert wrong["err_msg"] == "FSI-结算经办机构(setl_optins)长度超过6位[data.setl_optins]"
    totals = his.post("3201", {"data": {**optins, "setl_optins": setlinfo["clr_optins"]}})
    assert totals["infcode"] == 0 and totals["output"]["stmtinfo"]["stmt_rslt"] == "0"

    name = "对账明细" + "d" * 250 + ".zip"
    rows = (f"{setlinfo['setl_id']}\t{mdtrt_id}\t{PERSON['psn_no']}\t30.00\t"
            f"{setlinfo['fund_pay_sumamt']}\t{setlinfo['acct_pay']}\t0\n")
    upload = his.post("9101", {"fsUploadIn": {"in": detail_zip(rows), "filename": name,
                                              "fixmedins_code": CODE}})
    assert upload["infcode"] == 0, upload["err_msg"]
    assert upload["output"]["filename"] == name[:200]
    detail = his.post("3202", {"data": {
        "setl_optins": setlinfo["clr_optins"], "file_qury_no": upload["output"]["file_qury_no"],
        "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02", "medfee_sumamt": "30.00",
        "fund_pay_sumamt": str(setlinfo["fund_pay_sumamt"]),
        "cash_payamt": str(setlinfo["psn_cash_pay"]), "fixmedins_setl_cnt": 1}})
    assert detail["infcode"] == 0, detail["err_msg"]

    cancelled = his.post("2208", {"data": {"setl_id": setlinfo["setl_id"], "mdtrt_id": mdtrt_id,
                                           "psn_no": PERSON["psn_no"]}})
    assert cancelled["infcode"] == 0, cancelled["err_msg"]
    refund = his.post("5203", {"data": {"psn_no": PERSON["psn_no"], "setl_id": "",
                                        "mdtrt_id": mdtrt_id}})
    assert refund["output"]["setlinfo"]["refd_setl_flag"] == "1"
    assert refund["output"]["setlinfo"]["invono"] == "FP" + "7" * 18  # the settlement's invoice


def test_strict_mode_still_refuses_what_tolerant_mode_cuts(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    _insurer, url = serve()
    his = Checked(url)
    his.sign_in()
    answer = register(his, dr_name="李" * 51)
    assert answer["infcode"] == -1
    assert answer["err_msg"] == "FSI-医师姓名(dr_name)长度超过50位[data.dr_name]"


# --- 2. 5203 repeats what the settlement was made with -----------------------------------------
def test_5203_answers_the_invoice_disease_and_institution_fields_a_his_prints(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    _insurer, url = serve()
    his = Checked(url)
    his.sign_in()
    mdtrt_id = register(his)["output"]["data"]["mdtrt_id"]
    assert diagnose(his, mdtrt_id, dise_codg="M03900", dise_name="高血压")["infcode"] == 0
    assert his.post("2204", {"feedetail": [fee_row(mdtrt_id, dise_codg="M03900")]})[
        "infcode"] == 0
    settled = his.post("2207", settle_data(mdtrt_id, invono="FP20260302001"))
    assert settled["infcode"] == 0, settled["err_msg"]
    setl_id = settled["output"]["setlinfo"]["setl_id"]
    answer = his.post("5203", {"data": {"psn_no": PERSON["psn_no"], "setl_id": setl_id,
                                        "mdtrt_id": mdtrt_id}})
    row = answer["output"]["setlinfo"]
    # before: invono null, dise_codg null; no fixmedins_poolarea, lmtpric_hosp_lv, dedc_hosp_lv
    assert (row["invono"], row["dise_codg"]) == ("FP20260302001", "M03900")
    assert (row["fixmedins_code"], row["hosp_lv"]) == (CODE, "3")
    assert row["fixmedins_poolarea"] == "110000"  # district 110105 of Beijing's one pool
    assert (row["lmtpric_hosp_lv"], row["dedc_hosp_lv"]) == ("3", "3")


def test_5203_dise_codg_comes_from_the_batch_when_2203_named_none(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    _insurer, url = serve()
    his = Checked(url)
    his.sign_in()
    mdtrt_id = register(his)["output"]["data"]["mdtrt_id"]
    diagnose(his, mdtrt_id)
    his.post("2204", {"feedetail": [fee_row(mdtrt_id, dise_codg="M01603")]})
    setl_id = his.post("2207", settle_data(mdtrt_id))["output"]["setlinfo"]["setl_id"]
    row = his.post("5203", {"data": {"psn_no": PERSON["psn_no"], "setl_id": setl_id,
                                      "mdtrt_id": mdtrt_id}})["output"]["setlinfo"]
    assert (row["dise_codg"], row["invono"]) == ("M01603", None)  # no invoice number was sent


def test_pool_area_of_an_institution() -> None:
    from mock_insurer.transactions.queries import pool_area
    assert [pool_area(a) for a in ("110105", "310115", "320102", "440305")] == [
        "110000", "310000", "320100", "440300"]


# --- 3. amounts in ASCII digits ------------------------------------------------------------
@pytest.mark.parametrize(("sent", "text"), [
    ("３０.００", "FSI-医疗费总额(medfee_sumamt)含全角或非ASCII字符（“３０.００”），"
                 "数值应为半角数字0-9和小数点[data.medfee_sumamt]"),
    ("-0.00", None),
])
def test_strict_mode_refuses_full_width_digits_and_a_minus_zero(
        serve: Callable[..., tuple[Insurer, str]], sent: str, text: str | None) -> None:
    _insurer, url = serve()
    his = Checked(url)
    his.sign_in()
    mdtrt_id = register(his)["output"]["data"]["mdtrt_id"]
    diagnose(his, mdtrt_id)
    his.post("2204", {"feedetail": [fee_row(mdtrt_id)]})
    if text is not None:
        answer = his.post("2206", settle_data(mdtrt_id, medfee_sumamt=sent))
    else:
        answer = his.post("2207", settle_data(mdtrt_id, preselfpay_amt=sent))
        text = ("FSI-先行自付金额(preselfpay_amt)为“-0.00”：该字段不能带负号，零请上传0或0.00"
                "[data.preselfpay_amt]")
    # before: infcode 0 — "３０.００" read as 30.00, "-0.00" as 0
    assert answer["infcode"] == -1
    assert answer["err_msg"] == text


def test_tolerant_mode_reads_full_width_digits_with_a_deviation(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    insurer, url = serve(mode="tolerant")
    his = Checked(url)
    his.sign_in()
    mdtrt_id = register(his)["output"]["data"]["mdtrt_id"]
    diagnose(his, mdtrt_id)
    his.post("2204", {"feedetail": [fee_row(mdtrt_id)]})
    answer = his.post("2207", settle_data(mdtrt_id, medfee_sumamt="３０.００",
                                          preselfpay_amt="-0.00"))
    assert answer["infcode"] == 0, answer["err_msg"]
    assert Decimal(str(answer["output"]["setlinfo"]["medfee_sumamt"])) == Decimal("30.00")
    codes = {(d["code"], d["field"]) for d in orjson.loads(recorded(insurer)["deviations"])}
    assert {("fullwidth_number", "data.medfee_sumamt"),
            ("negative_zero", "data.preselfpay_amt")} <= codes


# --- 4. a sign-in of another institution ---------------------------------------------------
def test_a_sign_no_of_another_institution_is_named_as_such(
        serve: Callable[..., tuple[Insurer, str]]) -> None:
    insurer, url = serve()
    main = Checked(url)
    main.sign_in()
    campus = Checked(url)  # the same HIS, other campus: the community centre's code
    answer = campus.post("1101", {"data": {"mdtrt_cert_type": "02",
                                           "mdtrt_cert_no": PERSON["certno"]}},
                         insuplc_admdvs="", fixmedins_code=dataset.COMMUNITY,
                         msgid=f"{dataset.COMMUNITY}202603021200000001", sign_no=main.sign_no)
    # before: "FSI-签到信息不存在或已失效，请重新签到(9001)后再试[sign_no]" — re-signing as the
    # main campus (the HIS's configured code) gives the same answer again
    assert answer["infcode"] == -1
    assert answer["err_msg"] == (
        f"FSI-签到编号{main.sign_no}是定点医药机构{CODE}的签到，不是本机构{dataset.COMMUNITY}的："
        "每个机构编号须用本机构编号签到(9001)，使用自己的签到编号[sign_no]")
    assert recorded(insurer)["rejection_code"] == "signin_other_institution"


# --- 5. 9102 names its file ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["result_20260302.zip", "对账结果 3月.zip"])
def test_9102_sends_the_file_name_in_content_disposition(
        serve: Callable[..., tuple[Insurer, str]], name: str) -> None:
    _insurer, url = serve()
    his = Checked(url)
    his.sign_in()
    upload = his.post("9101", {"fsUploadIn": {"in": detail_zip(""), "filename": name,
                                              "fixmedins_code": CODE}})
    number = upload["output"]["file_qury_no"]
    body = orjson.dumps(his.envelope("9102", {"fsDownloadIn": {
        "file_qury_no": number, "filename": name, "fixmedins_code": CODE}}))
    for _ in range(2):  # the answer and its replay (same msgid, same body)
        reply = requests.post(his.url, data=body, headers=his.headers, timeout=10)
        assert reply.headers["Content-Type"] == "application/octet-stream"
        # before: no Content-Disposition (a browser or HttpClient saved "callService")
        disposition = reply.headers["Content-Disposition"].encode("latin-1").decode("utf-8")
        if name.isascii():
            assert disposition == f'attachment; filename="{name}"'
        else:
            assert disposition == ('attachment; filename="____ 3_.zip"; '
                                   f"filename*=UTF-8''{quote(name, safe='')}")


def test_content_disposition_values() -> None:
    assert content_disposition("a.zip") == b'attachment; filename="a.zip"'
    assert content_disposition('x"y\\z.zip') == b'attachment; filename="z.zip"'
    assert content_disposition('say "hi".zip') == (
        b'attachment; filename="say _hi_.zip"; filename*=UTF-8\'\'say%20%22hi%22.zip')
    assert content_disposition("") == b'attachment; filename="download"'
