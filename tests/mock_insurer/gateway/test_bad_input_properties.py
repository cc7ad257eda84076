"""Hypothesis: whatever arrives — broken envelopes, every transaction with fields dropped,
mistyped, oversized or garbled — the answer is an envelope (infcode 0 or -1, a clear err_msg on
-1), never an exception, and a refused message writes nothing to the business tables."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_insurer.gateway import Insurer
from mock_insurer.wire.jsonio import dumps, loads
from tests.mock_insurer.gateway import dataset

BUSINESS = ("visits", "fee_details", "settlements", "account_entries", "cum_entries", "files")
P1 = dataset.PERSONS[0]


def valid_inputs(mdtrt_id: str) -> dict[str, dict[str, Any]]:
    row = {"feedetl_sn": "S1", "mdtrt_id": mdtrt_id, "psn_no": P1["psn_no"], "chrg_bchno": "B1",
           "rx_circ_flag": "0", "fee_ocur_time": "2026-03-02 08:30:00",
           "med_list_codg": "001102000010000", "medins_list_codg": "HOSP0000",
           "det_item_fee_sumamt": "30.00", "cnt": "1", "pric": "30.00",
           "bilg_dept_codg": "A01", "bilg_dept_name": "内科", "bilg_dr_codg": "D1",
           "bilg_dr_name": "李", "hosp_appr_flag": "1"}
    settle = {"psn_no": P1["psn_no"], "mdtrt_cert_type": "02", "mdtrt_cert_no": P1["certno"],
              "med_type": "11", "medfee_sumamt": "30.00", "psn_setlway": "01",
              "mdtrt_id": mdtrt_id, "chrg_bchno": "B1", "acct_used_flag": "1",
              "insutype": "310"}
    return {
        "1101": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": P1["certno"]}},
        "2201": {"data": {"psn_no": P1["psn_no"], "insutype": "310",
                          "begntime": "2026-03-02 08:00:00", "mdtrt_cert_type": "02",
                          "mdtrt_cert_no": P1["certno"], "ipt_otp_no": "1", "atddr_no": "D1",
                          "dr_name": "李", "dept_code": "A01", "dept_name": "内科",
                          "caty": "A03"}},
        "2203": {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": P1["psn_no"], "med_type": "11",
                               "begntime": "2026-03-02 08:00:00"},
                 "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "J06.900",
                               "diag_name": "x", "diag_dept": "x", "dise_dor_no": "D1",
                               "dise_dor_name": "李", "diag_time": "2026-03-02 08:00:00",
                               "vali_flag": "1"}]},
        "2204": {"feedetail": [row]},
        "2205": {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000", "psn_no": P1["psn_no"]}},
        "2206": {"data": settle},
        "2207": {"data": settle},
        "2208": {"data": {"setl_id": "4000000001", "mdtrt_id": mdtrt_id,
                          "psn_no": P1["psn_no"]}},
        "2601": {"data": {"psn_no": P1["psn_no"], "omsgid": "X" * 30, "oinfno": "2207"}},
        "5203": {"data": {"psn_no": P1["psn_no"], "setl_id": "4000000001",
                          "mdtrt_id": mdtrt_id}},
        "5206": {"data": {"psn_no": P1["psn_no"], "cum_ym": "202603"}},
        "3201": {"data": {"insutype": "310", "clr_type": "11", "setl_optins": "110000",
                          "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02",
                          "medfee_sumamt": "0", "fund_pay_sumamt": "0", "acct_pay": "0",
                          "fixmedins_setl_cnt": 0}},
        "3202": {"data": {"setl_optins": "110000", "file_qury_no": "F1",
                          "stmt_begndate": "2026-03-02", "stmt_enddate": "2026-03-02",
                          "medfee_sumamt": "0", "fund_pay_sumamt": "0", "cash_payamt": "0",
                          "fixmedins_setl_cnt": 0}},
        "9101": {"fsUploadIn": {"in": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "filename": "a.zip",
                                "fixmedins_code": dataset.HOSPITAL}},
        "9102": {"fsDownloadIn": {"file_qury_no": "F1", "filename": "a.zip",
                                  "fixmedins_code": dataset.HOSPITAL}},
    }


ODD = st.one_of(st.none(), st.just(""), st.just("null"), st.integers(-10**20, 10**20),
                st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                st.text(max_size=60), st.integers(1, 45).map(lambda k: "x" * (1000 * k)),
                st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                      st.integers(), max_size=2))


def mutate(data: st.DataObject, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict) and value:
        out = dict(value)
        for key in data.draw(st.lists(st.sampled_from(sorted(out)), max_size=3, unique=True)):
            action = data.draw(st.sampled_from(["drop", "odd", "deep"]))
            if action == "drop":
                del out[key]
            elif action == "odd" or depth > 3:
                out[key] = data.draw(ODD)
            else:
                out[key] = mutate(data, out[key], depth + 1)
        return out
    if isinstance(value, list) and value:
        return [mutate(data, item, depth + 1) for item in value]
    return data.draw(ODD)


def business_counts(insurer: Insurer) -> dict[str, int]:
    with insurer.ledger.read() as tx:
        return {name: tx.count(name) for name in BUSINESS}


@pytest.fixture
def signed_in(make_insurer: Callable[..., Insurer]) -> tuple[Insurer, str, str]:
    insurer = make_insurer()
    sign = send(insurer, "9001", {"signIn": {"opter_no": "C1", "mac": "m", "ip": "i"}}, "")
    sign_no = sign["output"]["signinoutb"]["sign_no"]
    visit = send(insurer, "2201", valid_inputs("")["2201"], sign_no)
    return insurer, sign_no, visit["output"]["data"]["mdtrt_id"]


COUNTER = iter(range(10**9))


def envelope(infno: str, input_: Any, sign_no: str) -> dict[str, Any]:
    return {"infno": infno, "msgid": f"{dataset.HOSPITAL}20260302080000{next(COUNTER) % 10000:04d}",
            "mdtrtarea_admvs": "110105", "insuplc_admdvs": "110000", "recer_sys_code": "YBXT",
            "dev_no": "", "dev_uuid": "", "dev_safe_info": "", "cainfo": "", "signtype": "",
            "infver": "V1.0", "opter_type": "1", "opter": "C1", "opter_name": "王",
            "inf_time": "2026-03-02 08:00:00", "fixmedins_code": dataset.HOSPITAL,
            "fixmedins_name": "x", "sign_no": sign_no, "input": input_}


def deliver(insurer: Insurer, body: bytes) -> dict[str, Any]:
    service = insurer.service
    reply = service.execute(service.prepare(body, path_infno=None, headers={}))
    answer: dict[str, Any] = loads(reply.body)
    assert answer["infcode"] in (0, -1)
    if answer["infcode"] == -1:
        assert answer["err_msg"].startswith("FSI-")
    return answer


def send(insurer: Insurer, infno: str, input_: Any, sign_no: str) -> dict[str, Any]:
    return deliver(insurer, dumps(envelope(infno, input_, sign_no)))


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.mark.parametrize("infno", sorted(valid_inputs("M")))
@SETTINGS
@given(data=st.data())
def test_every_transaction_with_garbled_input(signed_in: tuple[Insurer, str, str], infno: str,
                                              data: st.DataObject) -> None:
    insurer, sign_no, mdtrt_id = signed_in
    input_ = mutate(data, copy.deepcopy(valid_inputs(mdtrt_id)[infno]))
    before = business_counts(insurer)
    answer = send(insurer, infno, input_, sign_no)
    if answer["infcode"] == -1:
        assert business_counts(insurer) == before


@SETTINGS
@given(data=st.data())
def test_garbled_envelopes(signed_in: tuple[Insurer, str, str], data: st.DataObject) -> None:
    insurer, sign_no, mdtrt_id = signed_in
    env = mutate(data, envelope("1101", valid_inputs(mdtrt_id)["1101"], sign_no))
    before = business_counts(insurer)
    try:
        body = orjson.dumps(env)
    except TypeError:
        return
    answer = deliver(insurer, body)
    if answer["infcode"] == -1:
        assert business_counts(insurer) == before


@SETTINGS
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes(signed_in: tuple[Insurer, str, str], body: bytes) -> None:
    insurer = signed_in[0]
    before = business_counts(insurer)
    assert deliver(insurer, body)["infcode"] == -1
    assert business_counts(insurer) == before


def test_a_huge_body_is_refused(signed_in: tuple[Insurer, str, str]) -> None:
    insurer = signed_in[0]
    answer = deliver(insurer, b'{"infno": "1101", "x": "' + b"x" * 3_000_000 + b'"}')
    assert answer["infcode"] == -1


def test_money_in_answers_never_is_a_float(signed_in: tuple[Insurer, str, str]) -> None:
    insurer, sign_no, _ = signed_in
    answer = send(insurer, "1101", valid_inputs("")["1101"], sign_no)
    assert isinstance(answer["output"]["insuinfo"][0]["balc"], Decimal)
