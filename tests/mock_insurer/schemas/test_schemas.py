"""The JSON Schemas: valid Draft 2020-12, current with the catalogue, accept the fact sheet's
samples, and reject wrong instances naming where."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from mock_insurer import schemas
from mock_insurer.schemas import generate
from mock_insurer.schemas.catalog import TRANSACTIONS
from mock_insurer.wire.envelope import build_answer, build_request
from mock_insurer.wire.jsonio import loads
from mock_insurer.wire.labels import FIELD_LABELS

CJK = re.compile(r"[\u4e00-\u9fff]")

# --- samples restated in shared/reference/nhsa-interface-facts.md ------------------------------
HEBEI_2207 = loads("""{
 "setlinfo": {"mdtrt_id": "300179916", "setl_id": "400125241", "psn_no": "13030011303013321217",
  "psn_name": "张三", "psn_cert_type": "01", "certno": "130303199001011234", "gend": "1",
  "naty": "01", "brdy": "1990-01-01", "age": 31.0, "insutype": "310", "psn_type": "1101",
  "cvlserv_flag": "0", "setl_time": "2021-11-29 18:09:53", "mdtrt_cert_type": "02",
  "med_type": "11", "medfee_sumamt": 4.52, "fulamt_ownpay_amt": 0, "overlmt_selfpay": 0,
  "preselfpay_amt": 0.23, "inscp_scp_amt": 4.29, "act_pay_dedc": 4.29, "hifp_pay": 0,
  "pool_prop_selfpay": 0.0, "cvlserv_pay": 0, "hifes_pay": 0, "hifmi_pay": 0, "hifob_pay": 0,
  "maf_pay": 0, "oth_pay": 0, "fund_pay_sumamt": 0, "psn_part_amt": 4.52, "acct_pay": 4.52,
  "psn_cash_pay": 0, "hosp_part_amt": 0, "balc": 1373.63, "acct_mulaid_pay": 0,
  "medins_setl_id": "H13110200026202111291809520478", "clr_optins": "131100", "clr_way": "1",
  "clr_type": "11"},
 "setldetail": [{"fund_pay_type": "310200", "inscp_scp_amt": 4.29, "crt_payb_lmt_amt": null,
  "fund_payamt": 4.52, "fund_pay_type_name": "城镇职工基本医疗保险个人账户基金",
  "setl_proc_info": null}]
}""")

HEBEI_2208 = loads("""{
 "setlinfo": {"mdtrt_id": "300178725", "setl_id": "400125300", "clr_optins": "131100",
  "setl_time": "2021-11-29 18:30:00", "medfee_sumamt": -25.1, "fulamt_ownpay_amt": 0,
  "overlmt_selfpay": 0, "preselfpay_amt": -0.23, "inscp_scp_amt": -24.87,
  "act_pay_dedc": -24.87, "hifp_pay": 0, "pool_prop_selfpay": 0, "cvlserv_pay": 0,
  "hifes_pay": 0, "hifmi_pay": 0, "hifob_pay": 0, "maf_pay": 0, "oth_pay": 0,
  "fund_pay_sumamt": 0, "psn_part_amt": null, "acct_pay": -25.1, "balc": 1398.73,
  "acct_mulaid_pay": 0, "hosp_part_amt": null,
  "medins_setl_id": "H13110200026202111291830000001", "psn_cash_pay": 0},
 "setldetail": [{"fund_pay_type": "310200", "inscp_scp_amt": -24.87, "fund_payamt": -25.1}]
}""")

HEBEI_1101 = loads("""{
 "baseinfo": {"psn_no": "13030011303013321217", "psn_cert_type": "01",
  "certno": "130303199001011234", "psn_name": "张三", "gend": "1", "naty": "01",
  "brdy": "1990-01-01", "age": 31.9, "exp_content": null},
 "insuinfo": [
  {"balc": 1378.15, "insutype": "310", "psn_type": "1101", "psn_insu_stas": "1",
   "psn_insu_date": "2010-01-01", "paus_insu_date": null, "cvlserv_flag": "0",
   "insuplc_admdvs": "130300", "emp_name": "某单位"},
  {"balc": 0, "insutype": "330", "psn_type": "1101", "psn_insu_stas": "1",
   "cvlserv_flag": "0", "insuplc_admdvs": "130300"},
  {"balc": 0, "insutype": "39999", "psn_type": "1101", "psn_insu_stas": "4",
   "paus_insu_date": "2015-06-30", "cvlserv_flag": "0", "insuplc_admdvs": "130300"},
  {"balc": 0, "insutype": "510", "psn_type": "1101", "psn_insu_stas": "1",
   "cvlserv_flag": "0", "insuplc_admdvs": "130300"}],
 "idetinfo": []
}""")

HEBEI_2204 = loads("""{"result": [
 {"feedetl_sn": "1", "det_item_fee_sumamt": 4.52, "cnt": 1, "pric": 4.52,
  "pric_uplmt_amt": 999999, "selfpay_prop": 0.05, "fulamt_ownpay_amt": 0, "overlmt_amt": 0,
  "preselfpay_amt": 0.23, "inscp_scp_amt": 4.29, "chrgitm_lv": "02", "med_chrgitm_type": "09",
  "lmt_used_flag": "0", "memo": null},
 {"feedetl_sn": "2", "det_item_fee_sumamt": 31.5, "cnt": 9, "pric": 3.5,
  "pric_uplmt_amt": 3.5, "selfpay_prop": 0, "fulamt_ownpay_amt": 0, "overlmt_amt": 0,
  "preselfpay_amt": 0, "inscp_scp_amt": 31.5, "chrgitm_lv": "01", "med_chrgitm_type": "05",
  "lmt_used_flag": "0"},
 {"feedetl_sn": "3", "det_item_fee_sumamt": 12, "cnt": 1, "pric": 12,
  "pric_uplmt_amt": 999999, "selfpay_prop": 1, "fulamt_ownpay_amt": 12, "overlmt_amt": 0,
  "preselfpay_amt": 0, "inscp_scp_amt": 0, "chrgitm_lv": "03", "med_chrgitm_type": "14",
  "lmt_used_flag": "0"}]}""")

FEEDETAIL_ROW = {
    "feedetl_sn": "20240301001", "mdtrt_id": "300178725", "psn_no": "13040011304012963751",
    "chrg_bchno": "B20240301001", "dise_codg": "", "rxno": "", "rx_circ_flag": "0",
    "fee_ocur_time": "2024-03-01 09:00:00", "med_list_codg": "XA01BCA011A001010104019",
    "medins_list_codg": "YP0001", "det_item_fee_sumamt": 4.52, "cnt": "2", "pric": "2.26",
    "bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D001",
    "bilg_dr_name": "李四", "hosp_appr_flag": "0", "exp_content": "",
}

SAMPLES: list[tuple[str, Any]] = [
    ("9001.output", {"signinoutb": {"sign_no": "359754", "sign_time": "2021-08-29 19:35:27"}}),
    ("2201.output", {"data": {"psn_no": "13040011304012963751", "mdtrt_id": "300178725",
                              "exp_content": None, "ipt_otp_no": "2111241810003"}}),
    ("2207.output", HEBEI_2207),
    ("2206.output", {**HEBEI_2207, "setlinfo": {**HEBEI_2207["setlinfo"], "setl_id": None,
                                                "setl_time": None, "clr_way": None,
                                                "clr_optins": None}}),
    ("1101.output", HEBEI_1101),
    ("2204.output", HEBEI_2204),
    ("2202.output", {}),
    ("9001.input", {"signIn": {"opter_no": "001", "mac": "00-1A-2B-3C-4D-5E",
                               "ip": "192.168.1.10"}}),
    ("1101.input", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A12345678",
                             "card_sn": "C0001", "begntime": "", "psn_cert_type": "01",
                             "certno": "130303199001011234", "psn_name": "张三"}}),
    ("2204.input", {"feedetail": [FEEDETAIL_ROW]}),
    ("2207.input", {"data": {"psn_no": "13040011304012963751", "mdtrt_cert_type": "02",
                             "mdtrt_cert_no": "130303199001011234", "med_type": "11",
                             "medfee_sumamt": Decimal("4.52"), "psn_setlway": "01",
                             "mdtrt_id": "300178725", "chrg_bchno": "B20240301001",
                             "acct_used_flag": "1", "insutype": "310", "invono": None,
                             "fulamt_ownpay_amt": "0", "overlmt_selfpay": 0,
                             "preselfpay_amt": Decimal("0.23"), "inscp_scp_amt": "4.29"}}),
    ("2601.input", {"data": {"psn_no": "13040011304012963751", "oinfno": "2207",
                             "omsgid": "H13110200026202111291809520478"}}),
    ("3201.input", {"data": {"insutype": "310", "clr_type": "11", "setl_optins": "131100",
                             "stmt_begndate": "2024-03-01", "stmt_enddate": "2024-03-01",
                             "medfee_sumamt": 4.52, "fund_pay_sumamt": 0, "acct_pay": 4.52,
                             "fixmedins_setl_cnt": 1, "refd_setl_flag": "0"}}),
]


@pytest.mark.parametrize("name", schemas.names())
def test_every_schema_is_valid_draft_2020_12(name: str) -> None:
    doc = schemas.schema(name)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["$id"] == generate.schema_id(name)
    assert CJK.search(doc["title"]) and re.search("[A-Za-z]{4}", doc["title"])
    assert (CJK.search(doc["description"]) and "Source" in doc["description"]) or \
        name.startswith("envelope")
    schemas.validate(name, {})  # compiles with the runtime backend too


def test_every_transaction_has_both_schemas() -> None:
    expected = {"envelope.request", "envelope.answer"}
    for tx in TRANSACTIONS:
        expected |= {f"{tx.infno}.input", f"{tx.infno}.output"}
    assert set(schemas.names()) == expected
    assert {tx.infno for tx in TRANSACTIONS} >= {
        "9001", "9002", "1101", "2201", "2202", "2203", "2203A", "2204", "2205", "2206", "2207",
        "2208", "2601", "5203", "5206", "3201", "3202", "9101", "9102"}


def test_files_are_current_with_the_catalogue() -> None:
    assert generate.write(check=True) == [], \
        "run: python -m mock_insurer.schemas.generate"


def test_every_field_has_a_chinese_label_and_no_node_repeats_a_field() -> None:
    for tx in TRANSACTIONS:
        for node in (*tx.inputs, *tx.outputs):
            names = [f.name for f in node.fields]
            assert len(names) == len(set(names)), (tx.infno, node.name)
            missing = [n for n in names if n not in FIELD_LABELS]
            assert not missing, (tx.infno, node.name, missing)


@pytest.mark.parametrize(("name", "instance"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_samples_validate(name: str, instance: Any) -> None:
    assert schemas.validate(name, instance) == []


def test_the_hebei_2208_sample_has_nulls_the_mock_never_answers() -> None:
    problems = schemas.validate("2208.output", HEBEI_2208)
    assert [p.path for p in problems] == ["setlinfo.hosp_part_amt", "setlinfo.psn_part_amt"]
    fixed = {**HEBEI_2208, "setlinfo": {**HEBEI_2208["setlinfo"],
                                        "psn_part_amt": Decimal("-25.10"), "hosp_part_amt": 0}}
    assert schemas.validate("2208.output", fixed) == []


def envelope() -> dict[str, Any]:
    return build_request(
        infno="2207", msgid="H13110200026202111291809520478", input={"data": {}},
        fixmedins_code="H13110200026", fixmedins_name="某医院", mdtrtarea_admvs="131100",
        insuplc_admdvs="130300", recer_sys_code="YBXT", infver="V1.0", opter_type="1",
        opter="001", opter_name="收费员", inf_time=datetime(2021, 11, 29, 18, 9, 52))


def test_envelopes() -> None:
    assert schemas.validate("envelope.request", envelope()) == []
    ok = build_answer(infcode=0, output=HEBEI_2207, inf_refmsgid="500000202107141108170000514555",
                      refmsg_time="20210714110817000", respond_time="20210714110817123")
    assert schemas.validate("envelope.answer", ok) == []
    refused = build_answer(infcode=-1, output=None, err_msg="FSI-发送方报文ID重复[msgid]",
                           inf_refmsgid="500000202107141108170000514556",
                           refmsg_time="20210714110817000", respond_time="20210714110817123",
                           infcode_as_string=True)
    assert schemas.validate("envelope.answer", refused) == []
    assert schemas.validate("envelope.answer", {**refused, "err_msg": ""}) != []
    assert schemas.validate("envelope.answer", {**ok, "err_msg": "FSI-x[y]"}) != []


WRONG: list[tuple[str, Any, str, str]] = [
    ("2207.output", {**HEBEI_2207, "setlinfo": {**HEBEI_2207["setlinfo"],
                                                "medfee_sumamt": None}},
     "setlinfo.medfee_sumamt", "type"),
    ("2207.output", {**HEBEI_2207, "setlinfo": {**HEBEI_2207["setlinfo"],
                                                "acct_pay": Decimal("-1.00")}},
     "setlinfo.acct_pay", "minimum"),
    ("2207.output", {**HEBEI_2207, "setlinfo": {**HEBEI_2207["setlinfo"],
                                                "pdn_cash_pay": 0}},
     "setlinfo", "additionalproperties"),
    ("2207.output", {**HEBEI_2207, "setldetail": [{"fund_pay_type": "3102",
                                                   "inscp_scp_amt": 1, "fund_payamt": 1}]},
     "setldetail[0].fund_pay_type", "pattern"),
    ("2204.input", {"feedetail": [{**FEEDETAIL_ROW, "cnt": "two"}]}, "feedetail[0].cnt",
     "anyof"),
    ("2204.input", {"feedetail": []}, "feedetail", "minitems"),
    ("2207.input", {"data": {**SAMPLES[10][1]["data"], "medfee_sumamt": "4.525"}},
     "data.medfee_sumamt", "anyof"),
    ("1101.input", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A1"}}, "data",
     "required"),
    ("1101.input", {"data": {"mdtrt_cert_type": "04", "mdtrt_cert_no": "A1"}},
     "data.mdtrt_cert_type", "enum"),
    ("envelope.request", {**envelope(), "msgid": "H1311020002620211129180952047"}, "msgid",
     "pattern"),
    ("9001.output", {"signinoutb": {"sign_no": "359754", "sign_time": "2021-08-29T19:35:27"}},
     "signinoutb.sign_time", "pattern"),
]


@pytest.mark.parametrize(("name", "instance", "path", "keyword"), WRONG,
                         ids=[f"{w[0]}:{w[2]}" for w in WRONG])
def test_wrong_instances_fail_naming_where(name: str, instance: Any, path: str,
                                           keyword: str) -> None:
    problems = schemas.validate(name, instance)
    assert path in [p.path for p in problems], problems
    assert keyword in [p.keyword for p in problems if p.path == path], problems


@pytest.mark.parametrize(("name", "instance", "path", "keyword"), WRONG,
                         ids=[f"{w[0]}:{w[2]}" for w in WRONG])
def test_the_fallback_backend_finds_the_same_place(name: str, instance: Any, path: str,
                                                   keyword: str) -> None:
    check = schemas._compile_py(schemas.schema(name))
    assert path in [p.path for p in check(instance)]
    for sample_name, sample in SAMPLES:
        assert schemas._compile_py(schemas.schema(sample_name))(sample) == []
