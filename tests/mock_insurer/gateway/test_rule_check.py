"""3101/3102 rule check over HTTP: the rules a HIS is warned about before settlement are the
refusals it meets at 2204, with the same words (issue 10)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest

from mock_insurer import schemas
from mock_insurer.client import InsurerRefusal
from mock_insurer.gateway import Insurer
from mock_insurer.money import round_money
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

D = Decimal
AMOXICILLIN = "XJ01CAA040A001010100568"  # 乙类, at most 20 per prescription and 7 days


def order(code: str, cnt: str, pric: str | None = None, rx_id: str = "RX1",
          **extra: Any) -> dict[str, Any]:
    items = cast("list[dict[str, Any]]", dataset.ITEMS)
    item = next(i for i in items if i["med_list_codg"] == code)
    price = D(pric or item["pric"])
    return {"rx_id": rx_id, "rxno": "P001", "hilist_code": code,
            "hilist_name": item["med_list_name"], "cnt": cnt, "pric": str(price),
            "sumamt": round_money(D(cnt) * price), "drord_dr_codg": "D001", **extra}


def rule_check(window: Window, orders: list[dict[str, Any]] | None, *, n: int = 1,
               infno: str = "3101", diagnoses: tuple[str, ...] = ("J06.900",),
               **patient: Any) -> list[dict[str, Any]]:
    person = window.person(n)
    answer = window.client.call(infno, {"data": {
        "syscode": "HIS", "trig_scen": "1",
        "patient_dtos": [{
            "patn_id": person["psn_no"], "patn_name": person["psn_name"], **patient,
            "fsi_encounter_dtos": [{
                "mdtrt_id": "M0001", "medins_id": dataset.HOSPITAL, "med_type": "11",
                "fsi_diagnose_dtos": [{"dise_codg": code, "dise_name": code,
                                       "maindise_flag": "1"} for code in diagnoses],
                "fsi_order_dtos": orders}]}]}})
    return list(answer.output["result"])


def test_over_quantity_is_warned_with_the_rule_and_refused_by_2204_alike(
        window: Window) -> None:
    rows = rule_check(window, [order(AMOXICILLIN, "30")])
    assert len(rows) == 1
    row = rows[0]
    assert (row["rule_id"], row["rule_name"], row["sev_deg"]) == \
        ("R-QTY-001", "超单张处方限量", "1")
    assert row["vola_cont"] == "阿莫西林胶囊 单张处方数量 30 超过限量 20"
    assert row["vola_amt"] == D("135.60")
    assert row["judge_result_detail_dtos"] == [{
        "jrd_id": f"{row['jr_id']}-1", "patn_id": dataset.PERSONS[0]["psn_no"],
        "mdtrt_id": "M0001", "rx_id": "RX1", "vola_item_type": "1", "vola_amt": D("135.60")}]
    # the same order uploaded to 2204: refused, with the same words and the rule's id
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    with pytest.raises(InsurerRefusal) as refused:
        window.upload([window.row(1, mdtrt_id, AMOXICILLIN, "30")])
    assert refused.value.err_msg == \
        f"FSI-{row['vola_cont']}（规则 {row['rule_id']}）[feedetail[0].med_list_codg]"


def test_answers_match_the_published_schemas(window: Window) -> None:
    rows = rule_check(window, [order(AMOXICILLIN, "30", prd_days="10"),
                               order("C01010101001000001234", "3", pric="12.50", rx_id="RX2")])
    assert len(rows) == 3
    for infno in ("3101", "3102"):
        assert schemas.validate(f"{infno}.output", {"result": rows}) == []
        assert schemas.validate(f"{infno}.output", {"result": []}) == []


def test_clean_orders_answer_no_violation_and_3102_agrees(window: Window) -> None:
    assert rule_check(window, []) == []  # an encounter without orders breaks nothing
    clean = [order("001102000010000", "1"), order(AMOXICILLIN, "2", rx_id="RX2",
                                                  prd_days="5")]
    assert rule_check(window, clean) == []
    assert rule_check(window, clean, infno="3102") == []
    over = [order(AMOXICILLIN, "30")]

    def seen(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(r["rule_id"], r["sev_deg"], r["vola_cont"]) for r in rows]

    assert seen(rule_check(window, over, infno="3102")) == seen(rule_check(window, over))

def test_each_rule_kind_answers_its_rule(window: Window) -> None:
    rows = rule_check(window, [
        order(AMOXICILLIN, "1", rx_id="RX1", prd_days="10"),
        order("XG03AAA001A001010101234", "1", rx_id="RX2"),
        order("XA10BAA001A001010101234", "1", rx_id="RX3"),
        order("C01010101001000001234", "3", pric="12.50", rx_id="RX4"),
    ])
    found = {(r["judge_result_detail_dtos"][0]["rx_id"], r["rule_id"], r["sev_deg"]) for r in rows}
    assert found == {("RX1", "R-DAY-001", "1"), ("RX2", "R-GND-001", "1"),
                     ("RX3", "R-IND-001", "2"), ("RX4", "R-PRC-001", "3")}
    by_rule = {r["rule_id"]: r["vola_cont"] for r in rows}
    assert "超过限定 7 天" in by_rule["R-DAY-001"]
    assert "限女性使用" in by_rule["R-GND-001"]  # person 1 is a man, from the ledger
    assert "E11.900" in by_rule["R-IND-001"]
    assert "限价10.00" in by_rule["R-PRC-001"]
    # the gender sent in the message wins; the diabetes diagnosis meets the indication
    rows = rule_check(window, [order("XG03AAA001A001010101234", "1"),
                               order("XA10BAA001A001010101234", "1")],
                      gend="2", brdy="1980-01-01", diagnoses=("E11.900",))
    assert rows == []


def test_rule_ids_narrow_the_check(window: Window, insurer: Insurer) -> None:
    orders = [order(AMOXICILLIN, "30", prd_days="10")]
    assert [r["rule_id"] for r in rule_check(window, orders)] == ["R-QTY-001", "R-DAY-001"]
    person = window.person(1)
    answer = window.client.call("3101", {"data": {"rule_ids": ["R-DAY-001"], "patient_dtos": [
        {"patn_id": person["psn_no"], "fsi_encounter_dtos": [
            {"mdtrt_id": "M1", "fsi_order_dtos": orders}]}]}})
    assert [r["rule_id"] for r in answer.output["result"]] == ["R-DAY-001"]
    with pytest.raises(InsurerRefusal) as refused:
        window.client.call("3101", {"data": {"rule_ids": "R-NOPE-9", "patient_dtos": [
            {"patn_id": person["psn_no"], "fsi_encounter_dtos": [
                {"mdtrt_id": "M1", "fsi_order_dtos": orders}]}]}})
    assert "R-NOPE-9" in refused.value.err_msg and "[data.rule_ids]" in refused.value.err_msg


@pytest.mark.parametrize(("orders", "where"), [
    ([order(AMOXICILLIN, "1") | {"cnt": "many"}],
     "[data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0].cnt]"),
    ([{k: v for k, v in order(AMOXICILLIN, "1").items() if k != "hilist_code"}],
     "[data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0].hilist_code]"),
    ([order(AMOXICILLIN, "1") | {"hilist_code": "X000"}],
     "[data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0].hilist_code]"),
    (None, "[data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos]"),
])
def test_malformed_input_is_refused_naming_the_field(window: Window, insurer: Insurer,
                                                     orders: list[dict[str, Any]] | None,
                                                     where: str) -> None:
    with pytest.raises(InsurerRefusal) as refused:
        rule_check(window, orders)
    assert refused.value.answer.infcode == -1
    assert refused.value.err_msg.startswith("FSI-") and refused.value.err_msg.endswith(where)
    with insurer.ledger.read() as tx:
        assert tx.fee_rows("M0001") == []


def test_missing_patients_are_refused(window: Window) -> None:
    with pytest.raises(InsurerRefusal) as refused:
        window.client.call("3101", {"data": {"syscode": "HIS"}})
    assert refused.value.err_msg.endswith("[data.patient_dtos]")
