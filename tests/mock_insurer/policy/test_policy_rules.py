"""The rule library of 3101/3102: a valid file, clear errors for a bad one, and rules that
agree with the real-time line checks (the same functions, one limit at a time)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from mock_insurer.policy import CatalogueEntry, FeeLine, PersonFacts, check_line, load_profile
from mock_insurer.policy.rules import (
    INSPECTS,
    RuleFileError,
    apply_rules,
    default_rules,
    load_rules,
)

PARAMS = load_profile("beijing").at(dt.date(2024, 6, 1))
ITEM = CatalogueEntry("XJ01CAA040A001010100568", "阿莫西林胶囊", "02", "09", Decimal("4.00"),
                      Decimal("0.05"), "0", Decimal("20"), Decimal("7"), ("E11",), "2", 18, 60)
MAN = PersonFacts(gend="1", age=70, psn_no="P1")


def _line(cnt: str = "1", pric: str = "4.00", days: str | None = None) -> FeeLine:
    return FeeLine("RX1", ITEM.med_list_codg, Decimal(cnt), Decimal(pric),
                   None if days is None else Decimal(days), "1")


def test_the_packaged_library_loads_and_every_rule_inspects_a_known_check() -> None:
    rules = default_rules()
    assert len({r.rule_id for r in rules}) == len(rules)
    assert {r.inspects for r in rules} == set(INSPECTS)
    assert all(r.sev_deg in (1, 2, 3) and r.source and r.name_zh and r.name_en for r in rules)


def test_every_broken_limit_is_its_own_violation() -> None:
    found = apply_rules(default_rules(), _line("30", "5.00", "10"), ITEM, MAN, ("J06.900",),
                        PARAMS)
    assert [v.rule.rule_id for v in found] == ["R-QTY-001", "R-DAY-001", "R-GND-001",
                                               "R-AGE-001", "R-IND-001", "R-PRC-001"]
    texts = {v.rule.inspects: v.detail for v in found}
    assert texts["price_over_cap"] == "阿莫西林胶囊 单价5.00超过医保支付限价4.00，超限价30.00自费"


def test_a_line_within_every_limit_breaks_no_rule() -> None:
    woman = PersonFacts(gend="2", age=40, psn_no="P2")
    assert apply_rules(default_rules(), _line("2", days="5"), ITEM, woman, ("E11.900",),
                       PARAMS) == []


def test_gender_and_age_rules_need_the_person() -> None:
    found = apply_rules(default_rules(), _line(), ITEM, None, ("E11.900",), PARAMS)
    assert found == []


def test_a_severe_rule_says_what_the_refusal_says() -> None:
    plain = dataclasses.replace(ITEM, gend_limit=None, age_min=None, age_max=None)
    line = _line("30")
    refusal = check_line(line, plain, MAN, ("E11.900",), Decimal(0), PARAMS)
    [violation] = apply_rules(default_rules(), line, plain, MAN, ("E11.900",), PARAMS)
    assert (violation.rule.rule_id, violation.detail) == ("R-QTY-001", refusal.detail)
    assert refusal.refusal == "over_quantity"


@pytest.mark.parametrize(("text", "words"), [
    ("rules: [", "not valid YAML"),
    ("version: 1", "a list 'rules'"),
    ("rules: []", "is empty"),
    ("rules: [{rule_id: R-1, name: {zh: 甲, en: A}, inspects: colour, sev_deg: 1, source: s}]",
     "rules[0] (R-1): field inspects: 'colour' is not one of over_quantity"),
    ("rules: [{rule_id: R-1, name: {zh: 甲, en: A}, inspects: age, sev_deg: 5, source: s}]",
     "rules[0] (R-1): field sev_deg: 5 is not 1 (severe)"),
    ("rules: [{rule_id: R-1, name: 甲, inspects: age, sev_deg: 1, source: s}]",
     "rules[0] (R-1): field name: expected {zh"),
    ("rules: [{rule_id: R-1, inspects: age, sev_deg: 1, source: s}]",
     "rules[0] (R-1): field name: missing"),
    ("rules: [{rule_id: R-1, name: {zh: 甲, en: A}, inspects: age, sev_deg: 1, source: s,"
     " colour: red}]", "rules[0] (R-1): unknown field colour"),
    ("rules: [{rule_id: R-1, name: {zh: 甲, en: A}, inspects: age, sev_deg: 1, source: s},"
     " {rule_id: R-1, name: {zh: 乙, en: B}, inspects: age, sev_deg: 2, source: s}]",
     "rules[1]: rule_id R-1 repeats"),
])
def test_a_bad_rule_file_is_one_clear_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and words in message
    assert "\n" not in message


def test_a_missing_rule_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read the rule library"):
        load_rules(tmp_path / "none.yaml")
