"""What a vendor's HIS built for the real interface sends, read as a cashier would need it:
values padded by a CHAR column, nodes serialised twice, texts echoed back at any length."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from mock_insurer.wire.envelope import ParseOutcome, build_request, parse_request
from mock_insurer.wire.fields import Reader
from mock_insurer.wire.jsonio import dumps
from mock_insurer.wire.labels import label_of
from mock_insurer.wire.texts import ERR_MSG_MAX, bounded_err_msg

CODE = "H11010200001"
SIGN_NO = "110000202403010900000000000001"


def envelope(**changes: Any) -> dict[str, Any]:
    body = build_request(
        infno="1101", msgid=f"{CODE}202403010910110001",
        input={"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110105198001010016"}},
        fixmedins_code=CODE, fixmedins_name="北京市某医院", mdtrtarea_admvs="110000",
        insuplc_admdvs="", recer_sys_code="YBXT", infver="V1.0", opter_type="1",
        opter="001", opter_name="收费员", inf_time=datetime(2024, 3, 1, 9, 10, 11),
        sign_no=SIGN_NO)
    body.update(changes)
    return body


def parse(body: dict[str, Any], mode: str) -> ParseOutcome:
    return parse_request(dumps(body), mode=mode, path_infno=None,  # type: ignore[arg-type]
                         max_body=1_000_000)


# --- the envelope --------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value"), [
    ("sign_no", SIGN_NO + " "),                 # 31 characters: was "超过30位"
    ("fixmedins_code", CODE + " "),             # was "msgid不以…开头"
    ("inf_time", "2024-03-01 09:10:11 "),       # was "格式错误"
    ("mdtrtarea_admvs", "110000\t"),            # was "应为6位数字"
])
def test_strict_mode_says_a_key_field_has_surrounding_whitespace(field: str, value: str) -> None:
    outcome = parse(envelope(**{field: value}), "strict")
    assert outcome.refusal_code == "whitespace"
    assert outcome.err_msg == (f"FSI-报文字段首尾含空格或不可见字符：{label_of(field)}({field})，"
                               f"请去除后重发[{field}]")
    assert ("whitespace", field) in {(d.code, d.field) for d in outcome.deviations}


def test_tolerant_mode_reads_ids_padded_by_a_char_column() -> None:
    outcome = parse(envelope(sign_no=SIGN_NO + "  ", fixmedins_code=CODE + " ",
                             opter_name=" 收费员 "), "tolerant")
    env = outcome.envelope
    assert env is not None, outcome.err_msg
    assert (env.sign_no, env.fixmedins_code, env.opter_name) == (SIGN_NO, CODE, "收费员")
    assert {(d.code, d.field) for d in outcome.deviations} == {
        ("whitespace", "sign_no"), ("whitespace", "fixmedins_code"), ("whitespace", "opter_name")}


def test_free_text_with_spaces_is_trimmed_in_strict_mode_too() -> None:
    outcome = parse(envelope(opter_name="收费员 ", fixmedins_name=" 北京市某医院"), "strict")
    assert outcome.envelope is not None, outcome.err_msg
    assert (outcome.envelope.opter_name, outcome.envelope.fixmedins_name) == ("收费员", "北京市某医院")


def test_a_field_of_only_spaces_is_empty_not_a_whitespace_refusal() -> None:
    outcome = parse(envelope(opter="   "), "strict")
    assert outcome.refusal_code == "missing_field" and "(opter)" in outcome.err_msg


# --- business fields -----------------------------------------------------------------------
def test_strict_reader_names_the_padded_identifier_instead_of_not_found() -> None:
    data = Reader({"psn_no": "11000000000000000001 ", "psn_name": "张伟 ",
                   "dr_name": "李医生 ", "insutype": " 310"}, "data", strict=True)
    assert data.text("psn_no", max_len=30) is None
    assert data.text("psn_name", max_len=50) is None
    assert data.text("dr_name", max_len=50) == "李医生"
    assert data.code("insutype", {"310"}) is None
    assert [p.err_msg for p in data.problems] == [
        "FSI-人员编号(psn_no)首尾含空格或不可见字符，请去除后重新上传[data.psn_no]",
        "FSI-人员姓名(psn_name)首尾含空格或不可见字符，请去除后重新上传[data.psn_name]",
        "FSI-险种类型(insutype)首尾含空格或不可见字符，请去除后重新上传[data.insutype]",
    ]


def test_tolerant_reader_trims_and_records() -> None:
    data = Reader({"psn_no": "11000000000000000001 ", "psn_name": "张伟 ",
                   "insutype": " 310", "begntime": "2024-03-01 09:10:11\n"}, "data",
                  strict=False)
    assert data.text("psn_no", max_len=30) == "11000000000000000001"
    assert data.text("psn_name", max_len=50) == "张伟"
    assert data.code("insutype", {"310"}) == "310"
    assert data.datetime("begntime") == datetime(2024, 3, 1, 9, 10, 11)
    assert data.problem is None
    assert [(d.code, d.field) for d in data.deviations] == [
        ("whitespace", "data.psn_no"), ("whitespace", "data.psn_name"),
        ("whitespace", "data.insutype"), ("whitespace", "data.begntime")]


def test_a_padded_sign_no_of_30_characters_is_not_called_too_long() -> None:
    data = Reader({"sign_no": SIGN_NO + " "}, "signOut", strict=True)
    assert data.text("sign_no", max_len=30) is None
    assert data.problem is not None and data.problem.code == "whitespace"


@pytest.mark.parametrize("mode", ["strict", "tolerant"])
def test_list_node_as_a_json_text_is_read_in_tolerant_mode_like_an_object_node(mode: str) -> None:
    rows = [{"feedetl_sn": "1"}, {"feedetl_sn": "2"}]
    root = Reader({"feedetail": json.dumps(rows)}, strict=mode == "strict")
    read = root.rows("feedetail")
    if mode == "strict":
        assert read == [] and root.problem is not None
        assert root.problem.err_msg == "FSI-费用明细(feedetail)应为JSON数组[feedetail]"
    else:
        assert [r.text("feedetl_sn") for r in read] == ["1", "2"]
        assert [d.code for d in root.deviations] == ["node_as_string"]


# --- err_msg is char 200 -------------------------------------------------------------------
def test_an_echoed_value_is_shortened_so_err_msg_fits_its_column() -> None:
    err = bounded_err_msg("FSI-结算ID" + "9" * 3000 + "不存在[data.setl_id]")
    assert len(err) <= ERR_MSG_MAX
    assert err.startswith("FSI-结算ID999") and err.endswith("不存在[data.setl_id]")
    assert "共" in err  # says how long the value was


def test_a_long_text_keeps_its_locator() -> None:
    err = bounded_err_msg("FSI-" + "张" * 400 + "[feedetail[3].psn_name]")
    assert len(err) == ERR_MSG_MAX and err.endswith("…[feedetail[3].psn_name]")


def test_a_normal_err_msg_is_untouched() -> None:
    text = "FSI-医疗目录编码" + "X" * 50 + "未对照或不在医保目录内，请维护医保对码[feedetail[0].med_list_codg]"
    assert bounded_err_msg(text) == text


# --- nesting ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["strict", "tolerant"])
@pytest.mark.parametrize(("depth", "pad"), [(40, 0), (600, 0), (300, 45_000)])
def test_input_nested_deeper_than_any_transaction_is_refused_never_raised(
        mode: str, depth: int, pad: int) -> None:
    # 600 levels: Python's recursion limit while reading input (was an HTTP 500); 300 levels in
    # a body over 40,000 characters: the JSON writer's limit while measuring input (the same)
    body = envelope(input={"data": {"pad": "x" * pad, "deep": 0}})
    text = dumps(body).decode().replace('"deep":0', '"deep":' + "[" * depth + "]" * depth)
    outcome = parse_request(text.encode(), mode=mode, path_infno=None,  # type: ignore[arg-type]
                            max_body=1_000_000)
    assert outcome.refusal_code == "input_too_deep"
    assert outcome.err_msg == "FSI-交易输入(input)嵌套超过32层，请检查报文结构[input]"


def test_the_deepest_input_of_the_interface_is_read() -> None:
    orders = [{"rx_id": "1", "exp_content": {"a": {"b": [1]}}}]
    patients = [{"fsi_encounter_dtos": [{"fsi_order_dtos": orders}]}]
    outcome = parse(envelope(infno="3101", input={"data": {"patient_dtos": patients}}), "strict")
    assert outcome.envelope is not None, outcome.err_msg


@pytest.mark.parametrize("pad", ["\x00\x00", "\u3000", "\r\n", "\t"])
def test_a_card_readers_nul_padding_and_a_full_width_space_count_as_padding(pad: str) -> None:
    card_sn = "110100D156000005000000000000000A"
    strict = Reader({"card_sn": card_sn + pad}, "data", strict=True)
    assert strict.text("card_sn", max_len=32) is None
    assert strict.problem is not None and strict.problem.code == "whitespace"
    tolerant = Reader({"card_sn": card_sn + pad}, "data", strict=False)
    assert tolerant.text("card_sn", max_len=32) == card_sn


def test_a_missing_insured_place_says_where_to_take_it_from() -> None:
    body = envelope(infno="2201", input={"data": {"psn_no": "11000000000000000001"}})
    outcome = parse(body, "strict")
    assert outcome.refusal_code == "missing_field"
    # before: "FSI-报文缺少必填项：参保地医保区划(insuplc_admdvs)" — but 1101 went through without it
    assert outcome.err_msg == ("FSI-报文缺少参保地医保区划(insuplc_admdvs)：交易含人员编号(psn_no)时必填，"
                               "请按1101返回的insuinfo.insuplc_admdvs上传[insuplc_admdvs]")


@pytest.mark.parametrize("strict", [True, False])
def test_a_typed_certificate_number_is_left_to_the_identity_rules(strict: bool) -> None:
    typed = "\u300011010519550303002X "  # judged by 1101 (transactions/identity.py), as sent
    data = Reader({"mdtrt_cert_no": typed, "certno": typed}, "data", strict=strict)
    assert data.text("mdtrt_cert_no", max_len=50) == typed
    assert data.text("certno", max_len=50) == typed
    assert data.problem is None and data.deviations == []
