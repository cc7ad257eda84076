"""3101/3102 rules across visits, over HTTP: cumulative over-supply (warned exactly when 2204
refuses), the same item twice a day, mutually exclusive services and frequency limits — from the
ledger's history and from the request itself (issue 10)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.client import InsurerRefusal
from mock_insurer.gateway import Insurer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window
from tests.mock_insurer.gateway.test_rule_check import order, rule_check

D = Decimal
CONSULT = "001102000010000"      # 门诊诊查费 (诊察费, type 02): once a day
REGISTER = "001101000010000"     # 普通门诊挂号费 (type 13)
GENERAL = "001109000010000"      # 一般诊疗费: excludes 挂号费 and 诊察费 the same day
SENIOR = "001102000020000"       # 副主任医师门诊诊察费: one consultation level a day
HBA1C = "002503020050000"        # 糖化血红蛋白测定: at most once in 90 days
METFORMIN = "XA10BAA001A001010101234"  # no per-prescription days limit
TODAY = "2026-03-02"

EXTRA_ITEMS = [
    {"med_list_codg": GENERAL, "med_list_name": "一般诊疗费", "list_type": "service",
     "chrgitm_lv": "01", "med_chrgitm_type": "12", "spec": "", "unit": "次", "pric": "10.00",
     "pric_uplmt_amt": "10.00", "selfpay_prop": "0.0000"},
    {"med_list_codg": SENIOR, "med_list_name": "副主任医师门诊诊察费", "list_type": "service",
     "chrgitm_lv": "01", "med_chrgitm_type": "02", "spec": "", "unit": "次", "pric": "20.00",
     "pric_uplmt_amt": "20.00", "selfpay_prop": "0.0000"},
    {"med_list_codg": HBA1C, "med_list_name": "糖化血红蛋白测定", "list_type": "service",
     "chrgitm_lv": "01", "med_chrgitm_type": "04", "spec": "", "unit": "次", "pric": "60.00",
     "pric_uplmt_amt": "60.00", "selfpay_prop": "0.0000"},
]


@pytest.fixture(autouse=True)
def _more_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test catalogue plus three service items the review rules name (data files without
    any new attribute: the limits are in the rule library)."""
    items = [*dataset.ITEMS, *EXTRA_ITEMS]
    monkeypatch.setattr(dataset, "ITEMS", items)
    monkeypatch.setattr(dataset, "HOSP_CODES", {
        item["med_list_codg"]: f"HOSP{index:04d}" for index, item in enumerate(items)})


def charge(window: Window, rows: list[tuple[str, str, dict[str, Any]]], *, n: int = 1,
           settle: bool = True) -> str:
    """One visit of person *n*: register, diagnose, upload ``(code, cnt, extra)`` rows, and
    settle unless told not to; returns the mdtrt_id."""
    mdtrt_id = window.register(n)
    window.diagnose(n, mdtrt_id)
    uploaded = [window.row(n, mdtrt_id, code, cnt, **extra) for code, cnt, extra in rows]
    window.upload(uploaded)
    if settle:
        total = sum((D(str(r["det_item_fee_sumamt"])) for r in uploaded), D("0.00"))
        window.settle(n, mdtrt_id, total)
    return mdtrt_id


def by_rule(rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        found.setdefault(row["rule_id"], []).append(
            (row["judge_result_detail_dtos"][0]["rx_id"], row["vola_cont"]))
    return found


def test_a_clean_day_answers_nothing(window: Window) -> None:
    assert rule_check(window, [order(CONSULT, "1"), order(REGISTER, "1", rx_id="RX2"),
                               order(HBA1C, "1", rx_id="RX3")]) == []


def test_the_same_consultation_twice_a_day_is_warned_from_history(window: Window) -> None:
    earlier = charge(window, [(CONSULT, "1", {})])
    rows = rule_check(window, [order(CONSULT, "1"), order(REGISTER, "1", rx_id="RX2")])
    assert [(r["rule_id"], r["sev_deg"], r["vola_bhvr_type"]) for r in rows] == \
        [("R-DUP-001", "2", "same_day_duplicate")]
    row = rows[0]
    assert row["rule_name"] == "同日重复收费"
    assert row["vola_cont"] == (f"门诊诊查费 同日重复收费：{TODAY} 就诊 {earlier}已收取，"
                                "每人每日限收 1 次")
    assert row["vola_amt"] == D("30.00") and row["mdtrt_id"] == "M0001"
    assert rule_check(window, [order(CONSULT, "1")], infno="3102") != []
    # another person: clean
    assert rule_check(window, [order(CONSULT, "1")], n=3) == []


def test_the_same_item_twice_in_the_request_warns_the_second(window: Window) -> None:
    rows = rule_check(window, [order(CONSULT, "1"), order(CONSULT, "1", rx_id="RX2")])
    assert by_rule(rows) == {"R-DUP-001": [
        ("RX2", f"门诊诊查费 同日重复收费：{TODAY} 本次就诊已收取，每人每日限收 1 次")]}


def test_cancelled_rows_and_the_visit_asked_about_are_not_history(window: Window,
                                                                   insurer: Insurer) -> None:
    mdtrt_id = charge(window, [(CONSULT, "1", {})], settle=False)
    person = window.person(1)
    # 3102 before settling the same visit: its uploaded rows are the orders asked about
    answer = window.client.call("3102", {"data": {"patient_dtos": [{
        "patn_id": person["psn_no"], "fsi_encounter_dtos": [{
            "mdtrt_id": mdtrt_id, "fsi_order_dtos": [order(CONSULT, "1")]}]}]}})
    assert answer.output["result"] == []
    # the uploaded (not yet settled) row counts for another encounter
    assert [r["rule_id"] for r in rule_check(window, [order(CONSULT, "1")])] == ["R-DUP-001"]
    window.client.call("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000",
                                         "psn_no": person["psn_no"]}})
    assert rule_check(window, [order(CONSULT, "1")]) == []


def test_exclusive_services_are_warned_from_history_and_from_the_request(
        window: Window) -> None:
    earlier = charge(window, [(GENERAL, "1", {})])
    rows = rule_check(window, [order(REGISTER, "1")])
    assert by_rule(rows) == {"R-EXC-001": [(
        "RX1", f"普通门诊挂号费 与 一般诊疗费 为互斥项目（一般诊疗费不得与挂号费同时收取）："
               f"{TODAY} 就诊 {earlier}已收取 一般诊疗费")]}
    assert rows[0]["sev_deg"] == "2"
    # in one request: two consultation levels (person 3 has no history)
    rows = rule_check(window, [order(CONSULT, "1"), order(SENIOR, "1", rx_id="RX2")], n=3)
    assert [(rx, text.split("（")[1].split("）")[0]) for rx, text in
            by_rule(rows)["R-EXC-001"]] == [("RX2", "同日诊察费与一般诊疗费只收一项")]
    # 挂号费 beside 诊察费 is the ordinary visit
    assert rule_check(window, [order(CONSULT, "1"), order(REGISTER, "1", rx_id="RX2")],
                      n=3) == []


def test_a_frequency_limit_counts_visits_within_its_days(window: Window) -> None:
    earlier = charge(window, [(HBA1C, "1", {"fee_ocur_time": "2026-01-15 09:00:00"})])
    rows = rule_check(window, [order(HBA1C, "1")])
    assert by_rule(rows) == {"R-FRQ-001": [(
        "RX1", f"糖化血红蛋白测定 超频次：此前 2026-01-15 就诊 {earlier}已收取，"
               "90 天内累计 2 次，限 1 次")]}
    # 90 days back is outside the window (person 3: charged 2025-12-01, 91 days before)
    charge(window, [(HBA1C, "1", {"fee_ocur_time": "2025-12-01 09:00:00"})], n=3)
    assert rule_check(window, [order(HBA1C, "1")], n=3) == []
    # two in one order are over the limit by themselves
    rows = rule_check(window, [order(HBA1C, "2")], n=4)
    assert by_rule(rows) == {"R-FRQ-001": [("RX1", "糖化血红蛋白测定 超频次：90 天内累计 2 次，"
                                                   "限 1 次")]}


def test_cumulative_over_supply_is_warned_exactly_when_2204_refuses(window: Window) -> None:
    """30 days supplied in the 30-day window, tolerance 7: 7 more days pass, 8 are refused —
    and 3101 warns R-CUM-001 for exactly those, with 2204's words and the rule id."""
    charge(window, [(METFORMIN, "1", {"prd_days": "30", "fee_ocur_time": "2026-02-20 09:00:00"})])
    for days in ("1", "7", "7.5", "8", "20"):
        warned = [r for r in rule_check(window, [order(METFORMIN, "1", prd_days=days)])
                  if r["rule_id"] == "R-CUM-001"]
        mdtrt_id = window.register(1)
        window.diagnose(1, mdtrt_id)
        try:
            window.upload([window.row(1, mdtrt_id, METFORMIN, "1", prd_days=days)])
            refused = None
        except InsurerRefusal as caught:
            refused = caught.err_msg
        assert bool(warned) == (refused is not None) == (D(days) > 7), days
        if warned:
            assert warned[0]["sev_deg"] == "1"
            assert refused == (f"FSI-{warned[0]['vola_cont']}（规则 R-CUM-001）"
                               "[feedetail[0].med_list_codg]")
            assert "近 30 天内已开具 30 天" in warned[0]["vola_cont"]


def test_earlier_orders_of_the_request_add_to_the_supplied_days(window: Window) -> None:
    rows = rule_check(window, [order(METFORMIN, "1", prd_days="30"),
                               order(METFORMIN, "1", rx_id="RX2", prd_days="10")],
                      diagnoses=("E11.900",))
    assert [(r["rule_id"], r["judge_result_detail_dtos"][0]["rx_id"]) for r in rows] == \
        [("R-CUM-001", "RX2")]
