"""The rules across visits: the review's pure function flags exactly the later charges, the
rule library's new entries are valid data naming real catalogue codes, and cumulative
over-supply is warned exactly when 2204 refuses (issue 10)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_insurer.policy import CatalogueEntry, FeeLine, PersonFacts, check_line, load_profile
from mock_insurer.policy.checks import REFUSAL_CODES
from mock_insurer.policy.history import ChargedRow, Finding, review_findings
from mock_insurer.policy.rules import (
    ENFORCED_BY,
    RuleFileError,
    apply_rules,
    default_rules,
    load_rules,
    realtime_rule_for,
)
from simulator.catalogue import build_items

D = Decimal
PARAMS = load_profile("beijing").at(dt.date(2026, 3, 2))
RULES = default_rules()
DAY = dt.date(2026, 3, 2)
CONSULT, REGISTER, GENERAL, HBA1C = ("001102000010000", "001101000010000", "001109000010000",
                                     "002503020050000")


def _item(code: str, name: str, kind: str) -> CatalogueEntry:
    return CatalogueEntry(code, name, "01", kind, D("999999"), D("0"), "0", None, None, (),
                          None, None, None)


ITEMS = {code: _item(code, name, kind) for code, name, kind in [
    (CONSULT, "普通门诊诊察费", "02"), (REGISTER, "挂号费", "13"), (GENERAL, "一般诊疗费", "12"),
    (HBA1C, "糖化血红蛋白测定", "04")]}


def row(sn: str, code: str, day: dt.date = DAY, *, visit: str = "M1", psn: str = "P1",
        cnt: str = "1", amount: str = "10.00") -> ChargedRow:
    return ChargedRow(f"S-{visit}", visit, psn, sn, day, code, D(cnt), None, D(amount),
                      D(amount))


def flagged(rows: list[ChargedRow]) -> list[tuple[str, str]]:
    return [(f.rule_id, f.feedetl_sn) for f in review_findings(rows, ITEMS, RULES)]


def test_the_second_consultation_of_a_day_is_flagged_not_the_first() -> None:
    rows = [row("F1", CONSULT, visit="M1"), row("F2", CONSULT, visit="M2", amount="30.00")]
    [finding] = review_findings(rows, ITEMS, RULES)
    assert finding == Finding("R-DUP-001", "S-M2", "M2", "F2", D("30.00"),
                              "普通门诊诊察费 同日重复收费：2026-03-02 就诊 M1已收取，"
                              "每人每日限收 1 次")


@pytest.mark.parametrize("rows", [
    [row("F1", CONSULT), row("F2", CONSULT, DAY + dt.timedelta(days=1))],  # another day
    [row("F1", CONSULT), row("F2", CONSULT, psn="P2")],                    # another person
    [row("F1", REGISTER), row("F2", REGISTER)],  # 挂号费 is not a once-a-day type
    [row("F1", CONSULT), row("F2", REGISTER)],   # the ordinary visit
])
def test_charges_that_break_nothing(rows: list[ChargedRow]) -> None:
    assert review_findings(rows, ITEMS, RULES) == []


def test_exclusive_services_flag_the_later_other_code() -> None:
    rows = [row("F1", GENERAL, visit="M1"), row("F2", REGISTER, visit="M2"),
            row("F3", CONSULT, visit="M2"), row("F4", GENERAL, visit="M3")]
    assert flagged(rows) == [("R-EXC-001", "F2"), ("R-EXC-001", "F3"), ("R-DUP-001", "F4")]
    texts = [f.vola_cont for f in review_findings(rows, ITEMS, RULES)]
    assert texts[0] == ("挂号费 与 一般诊疗费 为互斥项目（一般诊疗费不得与挂号费同时收取）："
                        "2026-03-02 就诊 M1已收取 一般诊疗费")


def test_a_frequency_limit_flags_each_charge_over_it_in_its_window() -> None:
    day = dt.date(2026, 1, 1)
    rows = [row("F1", HBA1C, day), row("F2", HBA1C, day + dt.timedelta(days=89)),
            row("F3", HBA1C, day + dt.timedelta(days=200)),
            row("F4", HBA1C, day + dt.timedelta(days=300), cnt="2")]
    assert flagged(rows) == [("R-FRQ-001", "F2"), ("R-FRQ-001", "F4")]
    text = review_findings(rows, ITEMS, RULES)[0].vola_cont
    assert text == "糖化血红蛋白测定 超频次：此前 2026-01-01 本次就诊已收取，90 天内累计 2 次，限 1 次"
    # 90 days after the first is outside its window
    assert flagged([rows[0], row("F2", HBA1C, day + dt.timedelta(days=90))]) == []


def test_findings_do_not_depend_on_the_order_of_the_days_given() -> None:
    rows = [row("F1", HBA1C, DAY - dt.timedelta(days=10), visit="M0"), row("F2", CONSULT),
            row("F3", CONSULT, visit="M2"), row("F4", HBA1C, visit="M2")]
    forward = review_findings(rows, ITEMS, RULES)
    assert [(f.rule_id, f.feedetl_sn) for f in forward] == [("R-DUP-001", "F3"),
                                                           ("R-FRQ-001", "F4")]
    # the earlier day given last: same findings (rows of one day keep the order given)
    assert review_findings([rows[1], rows[2], rows[3], rows[0]], ITEMS, RULES) == forward


def test_only_review_rules_are_applied_and_unknown_codes_are_named_by_code() -> None:
    realtime = [rule for rule in RULES if rule.enforced == "realtime"]
    rows = [row("F1", CONSULT), row("F2", CONSULT)]
    assert review_findings(rows, ITEMS, realtime) == []
    frequency = [rule for rule in RULES if rule.inspects == "frequency"]
    [finding] = review_findings([row("F1", HBA1C), row("F2", HBA1C)], {}, frequency)
    assert finding.vola_cont.startswith(f"{HBA1C} 超频次")


def test_the_library_names_how_each_rule_is_enforced() -> None:
    enforced = {rule.rule_id: (rule.enforced, rule.sev_deg) for rule in RULES}
    assert enforced == {
        "R-QTY-001": ("realtime", 1), "R-DAY-001": ("realtime", 1),
        "R-GND-001": ("realtime", 1), "R-AGE-001": ("realtime", 1),
        "R-IND-001": ("realtime", 2), "R-PRC-001": ("realtime", 3),
        "R-CUM-001": ("realtime", 1), "R-DUP-001": ("review", 2),
        "R-EXC-001": ("review", 2), "R-FRQ-001": ("review", 2)}
    # each severe realtime rule is the one a 2204 refusal names
    named = {code: getattr(realtime_rule_for(code), "rule_id", None) for code in REFUSAL_CODES}
    assert named == {
        "gender_restricted": "R-GND-001", "age_restricted": "R-AGE-001",
        "over_quantity": "R-QTY-001", "over_days": "R-DAY-001",
        "cumulative_over_supply": "R-CUM-001"}


def test_every_code_the_library_names_is_in_the_default_generated_catalogue() -> None:
    catalogue = {item["med_list_codg"]: item for item in build_items(seed=1)}
    named = {code for rule in RULES for group in rule.groups for code in group.codes}
    named |= {code for rule in RULES for limit in rule.limits for code in limit.codes}
    assert named and named <= set(catalogue)
    # service codes do not depend on the seed
    assert named <= {item["med_list_codg"] for item in build_items(seed=7)}
    kinds = {item["med_chrgitm_type"] for item in catalogue.values()}
    duplicate = next(rule for rule in RULES if rule.inspects == "same_day_duplicate")
    assert set(duplicate.item_types) <= kinds


@pytest.mark.parametrize(("extra", "words"), [
    ("inspects: age, enforced: review", "field enforced: 'review': a rule inspecting age is "
                                        "enforced 'realtime'"),
    ("inspects: frequency", "field limits: expected a list of {codes, times, days}"),
    ("inspects: frequency, limits: [{codes: [A], times: 0, days: 30}]",
     "field limits[0].times: expected a whole number of at least 1"),
    ("inspects: exclusive_same_day, groups: [{name: 甲, codes: [A, A]}]",
     "field groups[0].codes: expected at least 2 different codes"),
    ("inspects: same_day_duplicate, item_types: [1]", "field item_types: expected a list of codes (text)"),
    ("inspects: age, groups: [{name: 甲, codes: [A, B]}]",
     "field groups: not used by a rule inspecting age"),
])
def test_a_bad_review_rule_is_one_clear_error(tmp_path: Path, extra: str, words: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(f"rules: [{{rule_id: R-1, name: {{zh: 甲, en: A}}, sev_deg: 2, source: s, "
                    f"{extra}}}]", encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules(path)
    assert str(caught.value) == f"{path}: rules[0] (R-1): {words}"


PLAIN = CatalogueEntry("XA10BAA001A001010101234", "二甲双胍缓释片", "02", "09", D("999999"),
                       D("0.1"), "0", None, None, (), None, None, None)


@settings(max_examples=200, deadline=None)
@given(supplied=st.integers(0, 80), days=st.integers(0, 60))
def test_r_cum_001_warns_exactly_when_the_line_check_refuses(supplied: int, days: int) -> None:
    line = FeeLine("RX1", PLAIN.med_list_codg, D(1), D("25.00"), D(days), "1")
    person = PersonFacts(gend="1", age=40, psn_no="P1")
    refused = check_line(line, PLAIN, person, ("E11.900",), D(supplied), PARAMS)
    warned = [v for v in apply_rules(RULES, line, PLAIN, person, ("E11.900",), PARAMS,
                                     supplied_days=D(supplied))
              if v.rule.rule_id == "R-CUM-001"]
    assert bool(warned) == (refused.refusal == "cumulative_over_supply")
    if warned:
        assert warned[0].detail == refused.detail


def test_r_cum_001_is_not_confused_with_the_per_prescription_days() -> None:
    limited = dataclasses.replace(PLAIN, max_days_per_rx=D(7))
    line = FeeLine("RX1", PLAIN.med_list_codg, D(1), D("25.00"), D(10), "1")
    found = [v.rule.rule_id for v in apply_rules(RULES, line, limited, None, ("E11.900",),
                                                 PARAMS, supplied_days=D(30))]
    assert found == ["R-DAY-001", "R-CUM-001"]


def test_old_catalogue_records_without_new_attributes_still_load() -> None:
    record = {"med_list_codg": CONSULT, "med_list_name": "普通门诊诊察费", "chrgitm_lv": "01",
              "med_chrgitm_type": "02", "pric_uplmt_amt": "999999.00", "selfpay_prop": "0"}
    assert CatalogueEntry.from_record(record).med_chrgitm_type == "02"
    assert ENFORCED_BY["frequency"] == "review"
