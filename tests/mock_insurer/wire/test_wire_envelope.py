"""The envelope: what each mode accepts, refuses and records, and that nothing in a body can
make the parser raise."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_insurer.wire.envelope import (
    REFUSAL_CODES,
    ParseOutcome,
    build_answer,
    build_request,
    content_type_deviation,
    parse_request,
    request_fingerprint,
)
from mock_insurer.wire.jsonio import dumps

CODE = "H11010200001"
MAX = 1_000_000


def envelope(**changes: Any) -> dict[str, Any]:
    body = build_request(
        infno="2207", msgid=f"{CODE}202403010910110001",
        input={"data": {"psn_no": "13030011303013321217", "medfee_sumamt": Decimal("4.52"),
                        "invono": ""}},
        fixmedins_code=CODE, fixmedins_name="北京市某医院", mdtrtarea_admvs="110000",
        insuplc_admdvs="110000", recer_sys_code="YBXT", infver="V1.0", opter_type="1",
        opter="001", opter_name="收费员", inf_time=datetime(2024, 3, 1, 9, 10, 11),
        sign_no="110000202403010900000000000001")
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def parse(body: dict[str, Any] | bytes, mode: str = "strict", **kw: Any) -> ParseOutcome:
    raw = body if isinstance(body, bytes) else dumps(body)
    return parse_request(raw, mode=mode, path_infno=kw.pop("path_infno", None),  # type: ignore[arg-type]
                         max_body=kw.pop("max_body", MAX), **kw)


def codes(outcome: ParseOutcome) -> list[str]:
    return [d.code for d in outcome.deviations]


def test_a_conforming_request_is_served_without_deviations() -> None:
    outcome = parse(envelope())
    assert outcome.refusal_code is None and outcome.err_msg == ""
    assert outcome.deviations == ()
    env = outcome.envelope
    assert env is not None
    assert (env.infno, env.msgid, env.fixmedins_code, env.sign_no) == (
        "2207", f"{CODE}202403010910110001", CODE, "110000202403010900000000000001")
    assert env.input == {"data": {"psn_no": "13030011303013321217",
                                  "medfee_sumamt": Decimal("4.52"), "invono": None}}
    assert env.raw["input"]["data"]["invono"] == ""


@pytest.mark.parametrize("mode", ["strict", "tolerant"])
def test_input_as_a_json_string_is_accepted_in_both_modes(mode: str) -> None:
    body = envelope(input=json.dumps({"data": {"psn_no": "1", "medfee_sumamt": 4.52}}))
    outcome = parse(body, mode)
    assert outcome.envelope is not None
    assert outcome.envelope.input["data"]["medfee_sumamt"] == Decimal("4.52")
    assert codes(outcome) == ["input_as_string"]


@pytest.mark.parametrize("empty", ["", None, "null", ...])
def test_empty_optional_values_in_every_form(empty: Any) -> None:
    outcome = parse(envelope(dev_no=empty, sign_no=empty), "strict")
    assert outcome.envelope is not None
    assert outcome.envelope.dev_no == "" and outcome.envelope.sign_no == ""
    expected = ["null_string", "null_string"] if empty == "null" else []
    assert codes(outcome) == expected


def test_null_strings_in_input_become_none() -> None:
    outcome = parse(envelope(input={"data": {"psn_no": "1", "rxno": "null", "memo": "",
                                             "rows": [{"a": "NULL"}]}}))
    assert outcome.envelope is not None
    assert outcome.envelope.input == {"data": {"psn_no": "1", "rxno": None, "memo": None,
                                               "rows": [{"a": None}]}}
    assert [(d.code, d.field) for d in outcome.deviations] == [
        ("null_string", "input.data.rxno"), ("null_string", "input.data.rows[0].a")]


def test_unknown_fields_are_ignored_and_recorded() -> None:
    outcome = parse(envelope(enc_type="SM4", fixmedins_soft_fcty="某软件公司", INFNO="2207"))
    assert outcome.envelope is not None
    assert sorted((d.code, d.field) for d in outcome.deviations) == [
        ("extra_field", "INFNO"), ("extra_field", "enc_type"),
        ("extra_field", "fixmedins_soft_fcty")]


def test_an_upper_case_field_alone_is_read_in_tolerant_mode_only() -> None:
    body = envelope(opter_name=..., OPTER_NAME="收费员")
    tolerant = parse(body, "tolerant")
    assert tolerant.envelope is not None and tolerant.envelope.opter_name == "收费员"
    assert codes(tolerant) == ["field_case"]
    strict = parse(body, "strict")
    assert strict.refusal_code == "missing_field"
    assert strict.err_msg == "FSI-报文缺少必填项：经办人姓名(opter_name)[opter_name]"


def test_missing_required_fields() -> None:
    body = envelope(opter=..., infver="")
    strict = parse(body, "strict")
    assert strict.envelope is None and strict.refusal_code == "missing_field"
    assert strict.err_msg == "FSI-报文缺少必填项：接口版本号(infver)、经办人(opter)[infver]"
    tolerant = parse(body, "tolerant")
    assert tolerant.envelope is not None and tolerant.envelope.opter == ""
    assert codes(tolerant) == ["missing_field", "missing_field"]


@pytest.mark.parametrize("field", ["msgid", "fixmedins_code", "infno"])
def test_keys_of_the_record_are_required_even_when_tolerant(field: str) -> None:
    outcome = parse(envelope(**{field: ...}), "tolerant")
    assert outcome.refusal_code == "missing_field"
    assert f"({field})" in outcome.err_msg


def test_psn_no_in_input_needs_insuplc_admdvs() -> None:
    body = envelope(insuplc_admdvs="")
    assert parse(body, "strict").refusal_code == "missing_field"
    tolerant = parse(body, "tolerant")
    assert tolerant.envelope is not None
    assert [(d.code, d.field) for d in tolerant.deviations] == [
        ("missing_field", "insuplc_admdvs")]
    no_person = envelope(insuplc_admdvs="", infno="9001",
                         input={"signIn": {"opter_no": "1", "ip": "10.0.0.1"}})
    assert parse(no_person, "strict").envelope is not None


@pytest.mark.parametrize(("msgid", "first"), [
    ("H110102000012024030109101100", "msgid_length"),
    ("123456789012202403010910110001", "msgid_prefix"),
    ("H11010200001202402300910110001", "msgid_time"),
])
def test_msgid_format_is_refused_when_strict_and_recorded_when_tolerant(msgid: str,
                                                                       first: str) -> None:
    strict = parse(envelope(msgid=msgid), "strict")
    assert strict.refusal_code == "msgid_format"
    assert strict.err_msg.startswith("FSI-发送方报文ID(msgid)格式错误：")
    assert strict.err_msg.endswith("[msgid]")
    assert strict.msgid == msgid
    tolerant = parse(envelope(msgid=msgid), "tolerant")
    assert tolerant.envelope is not None and tolerant.envelope.msgid == msgid
    assert codes(tolerant)[0] == first


def test_an_absurd_msgid_is_refused_even_when_tolerant() -> None:
    assert parse(envelope(msgid="H" * 65), "tolerant").refusal_code == "field_too_long"


@pytest.mark.parametrize("inf_time", ["2024-03-01", "2024-03-01T09:10:11", "now"])
def test_inf_time_format(inf_time: str) -> None:
    strict = parse(envelope(inf_time=inf_time), "strict")
    assert strict.refusal_code == "time_format"
    assert inf_time in strict.err_msg
    tolerant = parse(envelope(inf_time=inf_time), "tolerant")
    assert tolerant.envelope is not None
    assert codes(tolerant) == ["time_format"]


def test_numbers_where_text_is_expected() -> None:
    body = envelope(opter_type=1, infno=2207)
    strict = parse(body, "strict")
    assert strict.refusal_code == "bad_field_type"
    assert strict.err_msg == ("FSI-报文字段类型错误：交易编号(infno)、经办人类别(opter_type)应为字符串"
                              "[infno]")
    tolerant = parse(body, "tolerant")
    assert tolerant.envelope is not None
    assert (tolerant.envelope.infno, tolerant.envelope.opter_type) == ("2207", "1")
    assert codes(tolerant) == ["field_not_string", "field_not_string"]


@pytest.mark.parametrize("mode", ["strict", "tolerant"])
def test_objects_where_text_is_expected_are_refused(mode: str) -> None:
    assert parse(envelope(opter={"id": 1}), mode).refusal_code == "bad_field_type"


def test_codes_and_areas() -> None:
    strict = parse(envelope(opter_type="9"), "strict")
    assert strict.refusal_code == "bad_code"
    assert parse(envelope(mdtrtarea_admvs="11000"), "strict").refusal_code == "admdvs_format"
    tolerant = parse(envelope(opter_type="9", mdtrtarea_admvs="11000"), "tolerant")
    assert codes(tolerant) == ["bad_code", "admdvs_format"]


def test_too_long_fields() -> None:
    strict = parse(envelope(opter_name="名" * 51), "strict")
    assert strict.refusal_code == "field_too_long"
    assert strict.err_msg == "FSI-报文字段超长：经办人姓名(opter_name)超过50位[opter_name]"
    assert codes(parse(envelope(opter_name="名" * 51), "tolerant")) == ["field_too_long"]


def test_infno_from_the_path_and_mismatches() -> None:
    without = envelope(infno=...)
    assert parse(without, "strict", path_infno="2207").refusal_code == "missing_field"
    tolerant = parse(without, "tolerant", path_infno="2207")
    assert tolerant.envelope is not None and tolerant.envelope.infno == "2207"
    assert codes(tolerant) == ["infno_from_path"]
    differs = parse(envelope(), "strict", path_infno="2206")
    assert differs.envelope is not None and differs.envelope.infno == "2207"
    assert codes(differs) == ["infno_path_mismatch"]


def test_infno_shape_case_and_known_set() -> None:
    assert parse(envelope(infno="22O7"), "tolerant").refusal_code == "bad_infno"
    assert parse(envelope(infno="2203a"), "strict").refusal_code == "bad_infno"
    lower = parse(envelope(infno="2203a"), "tolerant")
    assert lower.envelope is not None and lower.envelope.infno == "2203A"
    unknown = parse(envelope(infno="1234"), "tolerant", known_infnos={"2207"})
    assert unknown.refusal_code == "unknown_infno"
    assert unknown.err_msg == "FSI-交易编号(infno)不存在：1234[infno]"


@pytest.mark.parametrize(("body", "code", "err_msg"), [
    (b"", "empty_body", "FSI-报文为空，请发送交易报文[body]"),
    (b"   \n", "empty_body", "FSI-报文为空，请发送交易报文[body]"),
    (b'{"infno": "2207",}', "malformed_json", "FSI-报文格式错误，不是合法的JSON[body:line 1 col 18]"),
    (b"[1, 2]", "not_an_object", "FSI-报文格式错误，报文应为JSON对象[body]"),
    (b'{"a": NaN}', "malformed_json", "FSI-报文格式错误，不是合法的JSON[body]"),
    (b"[" * 100000, "malformed_json", None),
    (b'{"a": "\\udc00"}', "malformed_json", None),
])
def test_unreadable_bodies(body: bytes, code: str, err_msg: str | None) -> None:
    for mode in ("strict", "tolerant"):
        outcome = parse(body, mode)
        assert outcome.envelope is None and outcome.refusal_code == code
        if err_msg is not None:
            assert outcome.err_msg == err_msg


def test_huge_integers_are_read_and_can_be_recorded() -> None:
    body = dumps(envelope(input={"data": {"psn_no": "1"}})).replace(
        b'"psn_no":"1"', b'"psn_no":"1","n":' + b"9" * 40)
    outcome = parse(body, "strict")
    assert outcome.envelope is not None
    assert outcome.envelope.input["data"]["n"] == int("9" * 40)
    assert dumps(outcome.envelope.raw) == body
    absurd = body.replace(b"9" * 40, b"9" * 5000)
    assert parse(absurd, "strict").refusal_code == "malformed_json"


def test_body_too_large() -> None:
    outcome = parse(dumps(envelope()), max_body=100)
    assert outcome.refusal_code == "body_too_large"
    assert outcome.err_msg == "FSI-报文长度超过上限100字节，请分批上传[body]"


def test_encodings() -> None:
    gbk = dumps(envelope()).decode("utf-8").encode("gb18030")
    strict = parse(gbk, "strict")
    assert strict.refusal_code == "bad_encoding"
    assert strict.err_msg.startswith("FSI-报文不是UTF-8编码") and "[body:byte " in strict.err_msg
    tolerant = parse(gbk, "tolerant")
    assert tolerant.envelope is not None and tolerant.envelope.opter_name == "收费员"
    assert codes(tolerant) == ["encoding_gb18030"]
    bom = parse(b"\xef\xbb\xbf" + dumps(envelope()), "strict")
    assert bom.envelope is not None and codes(bom) == ["utf8_bom"]


def test_input_problems() -> None:
    assert parse(envelope(input="{not json"), "tolerant").refusal_code == "input_malformed_json"
    assert parse(envelope(input="[1]"), "tolerant").refusal_code == "input_not_object"
    assert parse(envelope(input=[{"data": {}}]), "tolerant").refusal_code == "input_not_object"
    assert parse(envelope(input=...), "strict").refusal_code == "missing_field"
    absent = parse(envelope(input=..., insuplc_admdvs=""), "tolerant")
    assert absent.envelope is not None and absent.envelope.input == {}


def test_input_longer_than_40000_characters() -> None:
    rows = [{"feedetl_sn": str(n), "memo": "x" * 400} for n in range(100)]
    body = envelope(infno="2204", input={"feedetail": rows})
    assert parse(body, "strict").refusal_code == "input_too_long"
    assert "input_too_long" in codes(parse(body, "tolerant"))
    as_string = envelope(infno="2204", input=json.dumps({"feedetail": rows}))
    assert parse(as_string, "strict").refusal_code == "input_too_long"


def test_exp_content_forms() -> None:
    body = envelope(input={"data": {"psn_no": "1", "expContent": {"er_flag": "1"}}})
    outcome = parse(body, "strict")
    assert outcome.envelope is not None
    assert outcome.envelope.input["data"]["exp_content"] == {"er_flag": "1"}
    assert codes(outcome) == ["exp_content_name", "exp_content_type"]


def test_refusals_still_name_the_message() -> None:
    outcome = parse(envelope(opter_type="9"), "strict")
    assert (outcome.msgid, outcome.infno, outcome.fixmedins_code) == (
        f"{CODE}202403010910110001", "2207", CODE)
    assert outcome.raw is not None and outcome.raw["opter_type"] == "9"


def test_content_type() -> None:
    assert content_type_deviation("application/json;charset=UTF-8") is None
    deviation = content_type_deviation("text/plain")
    assert deviation is not None and deviation.code == "content_type"
    assert content_type_deviation(None) is not None


def test_fingerprint_tells_same_from_different_input() -> None:
    first = parse(envelope()).envelope
    again = parse(envelope(input=dumps(envelope()["input"]).decode())).envelope
    other = parse(envelope(input={"data": {"psn_no": "2"}})).envelope
    assert first is not None and again is not None and other is not None
    assert request_fingerprint(first) == request_fingerprint(again)
    assert request_fingerprint(first) != request_fingerprint(other)


def test_build_answer() -> None:
    ok = build_answer(infcode=0, output={"setlinfo": {"medfee_sumamt": Decimal("4.52")}},
                      inf_refmsgid="110000202403010910110000000001",
                      refmsg_time="20240301091011000", respond_time="20240301091011012")
    assert list(ok) == ["infcode", "inf_refmsgid", "refmsg_time", "respond_time", "err_msg",
                        "warn_msg", "enctype", "signtype", "cainfo", "output"]
    assert dumps(ok).endswith(b'"output":{"setlinfo":{"medfee_sumamt":4.52}}}')
    failed = build_answer(infcode=-1, output=None, err_msg="FSI-x[y]", inf_refmsgid="1",
                          refmsg_time="2", respond_time="3", infcode_as_string=True)
    assert failed["infcode"] == "-1" and failed["output"] == {}


# --- nothing in a body makes the parser raise --------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
field_names = st.sampled_from(["infno", "msgid", "input", "inf_time", "opter_type",
                               "fixmedins_code", "mdtrtarea_admvs", "insuplc_admdvs", "sign_no",
                               "opter", "INFNO", "expContent"])


def _consistent(outcome: ParseOutcome) -> None:
    assert (outcome.envelope is None) == (outcome.refusal_code is not None)
    if outcome.refusal_code is not None:
        assert outcome.refusal_code in REFUSAL_CODES
        assert outcome.err_msg.startswith("FSI-") and outcome.err_msg.endswith("]")
    else:
        assert outcome.err_msg == ""
        dumps(outcome.envelope.raw if outcome.envelope else None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.sampled_from(["strict", "tolerant"]))
def test_any_bytes(body: bytes, mode: str) -> None:
    _consistent(parse(body, mode))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(field_names, json_values, max_size=6),
       st.sampled_from(["strict", "tolerant"]))
def test_any_changes_to_a_good_envelope(changes: dict[str, Any], mode: str) -> None:
    _consistent(parse(dumps(envelope(**changes)), mode))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json(value: Any) -> None:
    _consistent(parse(dumps(value), "tolerant"))
