"""The input schemas accept an optional field left empty in each way HIS send it (reference
README, "body": ``""``, ``null``, omitted, or the string ``"null"``), as the gateway does; the
answer schema holds err_msg to its 200 characters (fact sheet §2.2)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_insurer import schemas

PERSON_INFO = {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110105198001010016"}


@pytest.mark.parametrize("empty", ["", None, "null"])
def test_an_optional_date_code_or_amount_may_be_empty_in_every_form(empty: Any) -> None:
    assert schemas.validate("1101.input", {"data": {**PERSON_INFO, "begntime": empty}}) == []
    reconcile = {"insutype": "310", "clr_type": "11", "setl_optins": "110000",
                 "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02",
                 "medfee_sumamt": "1.00", "fund_pay_sumamt": "0.00", "acct_pay": "1.00",
                 "fixmedins_setl_cnt": 1, "refd_setl_flag": empty}
    assert schemas.validate("3201.input", {"data": reconcile}) == []


def test_a_required_field_is_not_empty_as_the_string_null() -> None:
    problems = schemas.validate("1101.input", {"data": {**PERSON_INFO,
                                                        "mdtrt_cert_type": "null"}})
    assert {p.path for p in problems} == {"data.mdtrt_cert_type"}


def test_insuplc_admdvs_as_the_string_null_is_an_empty_envelope_field() -> None:
    envelope = {"infno": "1101", "msgid": "H11010500003202603020800000001",
                "mdtrtarea_admvs": "110105", "insuplc_admdvs": "null", "recer_sys_code": "YBXT",
                "infver": "V1.0", "opter_type": "1", "opter": "C01", "opter_name": "王收费",
                "inf_time": "2026-03-02 08:00:00", "fixmedins_code": "H11010500003",
                "fixmedins_name": "北京测试第三医院", "input": {"data": PERSON_INFO}}
    assert schemas.validate("envelope.request", envelope) == []


def test_err_msg_longer_than_its_column_is_not_a_valid_answer() -> None:
    answer = {"infcode": -1, "inf_refmsgid": "1" * 30, "refmsg_time": "2" * 17,
              "respond_time": "2" * 17, "err_msg": "FSI-" + "长" * 196, "warn_msg": "",
              "output": {}}
    assert schemas.validate("envelope.answer", answer) == []
    answer["err_msg"] += "长"
    assert [p.path for p in schemas.validate("envelope.answer", answer)] == ["err_msg"]
