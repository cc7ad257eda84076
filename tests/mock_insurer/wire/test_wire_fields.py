"""Reading business fields: values, the FSI texts a cashier sees, strict and tolerant."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from mock_insurer.wire.fields import (
    FieldProblem,
    Reader,
    read_code,
    read_date,
    read_list,
    read_money,
    read_str,
)


def fee_rows(**third: object) -> dict[str, object]:
    row = {"feedetl_sn": "1", "cnt": 2, "pric": Decimal("2.26"),
           "det_item_fee_sumamt": Decimal("4.52"), "fee_ocur_time": "2024-03-01 09:00:00"}
    return {"feedetail": [row, dict(row, feedetl_sn="2"), dict(row, feedetl_sn="3", **third)]}


def test_a_handler_reads_fields_tersely() -> None:
    data = Reader({"data": {"psn_no": "130300", "medfee_sumamt": Decimal("4.52"),
                            "acct_used_flag": "1", "begntime": "2024-03-01 09:00:00",
                            "invono": None}}).node("data")
    assert data.text("psn_no", max_len=30) == "130300"
    assert data.money("medfee_sumamt") == Decimal("4.52")
    assert data.code("acct_used_flag", {"0", "1"}) == "1"
    assert data.datetime("begntime") == datetime(2024, 3, 1, 9)
    assert data.text("invono", required=False) is None
    assert data.problem is None and data.deviations == []


def test_the_example_text_of_the_brief() -> None:
    rows = Reader(fee_rows(cnt="two")).rows("feedetail")
    assert [r.qty("cnt") for r in rows] == [Decimal("2.0000"), Decimal("2.0000"), None]
    assert rows[0].problem == FieldProblem(
        "not_number", "feedetail[2].cnt", "FSI-费用明细第3条 数量(cnt)不是有效数字[feedetail[2].cnt]")


def test_missing_and_empty_values() -> None:
    data = Reader({"data": {"psn_no": "", "mdtrt_id": "null", "setl_id": None}}).node("data")
    for name in ("psn_no", "mdtrt_id", "setl_id", "chrg_bchno"):
        assert data.text(name) is None
    assert [p.err_msg for p in data.problems] == [
        "FSI-人员编号(psn_no)不能为空[data.psn_no]",
        "FSI-就诊ID(mdtrt_id)不能为空[data.mdtrt_id]",
        "FSI-结算ID(setl_id)不能为空[data.setl_id]",
        "FSI-收费批次号(chrg_bchno)不能为空[data.chrg_bchno]",
    ]


def test_missing_node() -> None:
    reader = Reader({})
    assert reader.node("mdtrtinfo").text("psn_no") is None
    assert reader.problem is not None
    assert reader.problem.err_msg == "FSI-缺少交易输入节点就诊信息(mdtrtinfo)[mdtrtinfo]"


@pytest.mark.parametrize(("given", "value"), [
    (Decimal("4.52"), Decimal("4.52")), (4, Decimal("4.00")), ("4.5", Decimal("4.50")),
    (" 4.52 ", Decimal("4.52")), (4.52, Decimal("4.52")), (Decimal("4.500"), Decimal("4.50")),
])
def test_money_accepts_numbers_integers_and_numeric_strings(given: object,
                                                           value: Decimal) -> None:
    reader = Reader({"medfee_sumamt": given})
    assert str(reader.money("medfee_sumamt")) == str(value)
    assert reader.problem is None
    expected = ["number_as_string"] if isinstance(given, str) else []
    assert [d.code for d in reader.deviations] == expected


def test_money_precision_strict_and_tolerant() -> None:
    strict = Reader({"medfee_sumamt": Decimal("4.525")})
    assert strict.money("medfee_sumamt") is None
    assert strict.problem is not None
    assert strict.problem.err_msg == "FSI-医疗费总额(medfee_sumamt)最多2位小数[medfee_sumamt]"
    tolerant = Reader({"medfee_sumamt": Decimal("4.525")}, strict=False)
    assert tolerant.money("medfee_sumamt") == Decimal("4.53")
    assert [d.code for d in tolerant.deviations] == ["precision"]


@pytest.mark.parametrize(("given", "code"), [
    ("-1", "negative"), (Decimal("100000000000000"), "too_large"), (True, "bad_type"),
    ({"a": 1}, "bad_type"), ("1e999999", "too_large"), ("NaN", "not_number"), ("", "missing"),
])
def test_bad_money(given: object, code: str) -> None:
    reader = Reader({"acct_pay": given})
    assert reader.money("acct_pay") is None
    assert reader.problem is not None and reader.problem.code == code


def test_signed_money_and_ratio_range() -> None:
    reader = Reader({"acct_pay": "-25.10", "selfpay_prop": "0.05", "bad": Decimal("1.5")})
    assert reader.money("acct_pay", signed=True) == Decimal("-25.10")
    assert reader.ratio("selfpay_prop") == Decimal("0.0500")
    assert reader.ratio("bad", label="自付比例") is None
    assert reader.problem is not None and reader.problem.code == "out_of_range"


def test_price_and_integer() -> None:
    reader = Reader({"pric": "3.1234567", "fixmedins_setl_cnt": "12", "frac": Decimal("1.5")})
    assert reader.price("pric") is None  # seven places, strict
    assert reader.integer("fixmedins_setl_cnt") == 12
    assert reader.integer("frac") is None
    assert [p.code for p in reader.problems] == ["too_many_places", "not_integer"]


def test_text_types_and_lengths() -> None:
    strict = Reader({"psn_no": 130300, "dr_name": "名" * 51})
    assert strict.text("psn_no") is None
    assert strict.text("dr_name", max_len=50) is None
    assert [p.err_msg for p in strict.problems] == [
        "FSI-人员编号(psn_no)类型错误，应为字符串[psn_no]",
        "FSI-医师姓名(dr_name)长度超过50位[dr_name]",
    ]
    tolerant = Reader({"psn_no": 130300, "dr_name": "名" * 51, "mdtrt_id": "3" * 31},
                      strict=False)
    assert tolerant.text("psn_no") == "130300"
    assert tolerant.text("dr_name", max_len=50) == "名" * 50  # kept as the center's column holds it
    assert [d.code for d in tolerant.deviations] == ["field_not_string", "field_too_long"]
    assert tolerant.problem is None
    # an identifier the center matches is not cut (that would change what it matches)
    assert tolerant.text("mdtrt_id", max_len=30) is None
    assert tolerant.problem is not None
    assert tolerant.problem.err_msg == "FSI-就诊ID(mdtrt_id)长度超过30位[mdtrt_id]"


def test_amount_digits_must_be_ascii_and_unsigned_zero_has_no_minus() -> None:
    sent = {"medfee_sumamt": "１２.００", "acct_pay": "-0.00", "fund_pay_sumamt": Decimal("-0.00"),
            "cash_payamt": "１２．５０"}
    strict = Reader({"data": sent}).node("data")
    assert [strict.money(name) for name in sent] == [None] * 4
    assert [p.err_msg for p in strict.problems] == [
        "FSI-医疗费总额(medfee_sumamt)含全角或非ASCII字符（“１２.００”），数值应为半角数字0-9和小数点"
        "[data.medfee_sumamt]",
        "FSI-个人账户支出(acct_pay)为“-0.00”：该字段不能带负号，零请上传0或0.00[data.acct_pay]",
        "FSI-基金支付总额(fund_pay_sumamt)为“-0.00”：该字段不能带负号，零请上传0或0.00"
        "[data.fund_pay_sumamt]",
        "FSI-现金支付金额(cash_payamt)含全角或非ASCII字符（“１２．５０”），数值应为半角数字0-9和小数点"
        "[data.cash_payamt]",
    ]
    tolerant = Reader({"data": sent}, strict=False).node("data")
    assert [tolerant.money(name) for name in sent] == [
        Decimal("12.00"), Decimal("0.00"), Decimal("0.00"), Decimal("12.50")]
    assert tolerant.problem is None
    assert {d.code for d in tolerant.deviations} == {
        "fullwidth_number", "number_as_string", "negative_zero"}
    # a signed amount (a refund's) may be -0.00; plain ASCII numbers take the fast path unchanged
    assert Reader({"a": "-0.00"}).money("a", signed=True) == 0
    assert Reader({"a": Decimal("12.00"), "b": 0, "c": Decimal("0.00")}).money("a") == Decimal("12.00")


def test_codes() -> None:
    strict = Reader({"mdtrt_cert_type": "2"})
    assert strict.code("mdtrt_cert_type", {"01", "02", "03"}) is None
    assert strict.problem is not None
    assert strict.problem.err_msg == "FSI-就诊凭证类型(mdtrt_cert_type)的值“2”不在代码表中[mdtrt_cert_type]"
    tolerant = Reader({"mdtrt_cert_type": 2}, strict=False)
    assert tolerant.code("mdtrt_cert_type", {"01", "02", "03"}) == "02"
    assert [d.code for d in tolerant.deviations] == ["field_not_string", "code_unpadded"]


def test_dates_and_times() -> None:
    strict = Reader({"brdy": "1990-01-02", "begntime": "2024-03-01", "stmt_enddate": "2024-2-1"})
    assert strict.date("brdy") == date(1990, 1, 2)
    assert strict.datetime("begntime") is None
    assert strict.date("stmt_enddate") is None
    assert [p.err_msg for p in strict.problems] == [
        "FSI-开始时间(begntime)不是有效时间，应为yyyy-MM-dd HH:mm:ss[begntime]",
        "FSI-对账结束日期(stmt_enddate)不是有效日期，应为yyyy-MM-dd[stmt_enddate]",
    ]
    tolerant = Reader({"begntime": "2024-03-01T09:00:00"}, strict=False)
    assert tolerant.datetime("begntime") == datetime(2024, 3, 1, 9)
    assert [d.code for d in tolerant.deviations] == ["time_format"]


def test_structure_leniency_in_tolerant_mode() -> None:
    given = {"feedetail": {"feedetl_sn": "1"}, "mdtrtinfo": [{"psn_no": "1"}]}
    strict = Reader(given)
    assert strict.rows("feedetail") == []
    assert strict.node("mdtrtinfo").text("psn_no") is None
    assert [p.code for p in strict.problems] == ["node_not_list", "node_not_object", "missing"]
    tolerant = Reader(given, strict=False)
    assert [r.text("feedetl_sn") for r in tolerant.rows("feedetail")] == ["1"]
    assert tolerant.node("mdtrtinfo").text("psn_no") == "1"
    assert [d.code for d in tolerant.deviations] == ["node_not_list", "node_is_list"]


def test_exp_content() -> None:
    reader = Reader({"a": '{"er_flag": "1"}', "b": {"x": 1}, "c": "{bad", "d": ""})
    assert reader.exp_content("a") == {"er_flag": "1"}
    assert reader.exp_content("b") == {"x": 1}
    assert reader.exp_content("c") is None
    assert reader.exp_content("d") is None
    assert reader.problem is None and [d.code for d in reader.deviations] == ["bad_json"]


def test_one_field_functions() -> None:
    data = {"psn_no": "1", "acct_pay": "x", "brdy": "1990-01-02", "flag": "1"}
    assert read_str(data, "psn_no", where="data") == "1"
    problem = read_money(data, "acct_pay", where="data")
    assert isinstance(problem, FieldProblem) and problem.field == "data.acct_pay"
    assert read_date(data, "brdy") == date(1990, 1, 2)
    assert read_code(data, "flag", {"0", "1"}) == "1"
    assert read_str(data, "memo", required=False) is None
    rows = read_list({"feedetail": [{"cnt": 1}]}, "feedetail")
    assert not isinstance(rows, FieldProblem) and rows[0].qty("cnt") == Decimal("1.0000")
    assert isinstance(read_list({}, "feedetail"), FieldProblem)
