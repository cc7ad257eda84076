"""Real-time checks of a fee line: refusals with a cashier's text, and scope by diagnosis."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from mock_insurer.policy import (
    REFUSAL_CODES,
    CatalogueEntry,
    FeeLine,
    LineCheck,
    PersonFacts,
    check_line,
    load_profile,
)

PARAMS = load_profile("beijing").at(dt.date(2024, 6, 1))  # window 30 days, tolerance 7
ITEM = CatalogueEntry("XJ01CAA040A001010100568", "阿莫西林胶囊", "01", "09", Decimal("999999"),
                      Decimal(0), "0", None, None, (), None, None, None)
MAN = PersonFacts(gend="1", age=40, psn_no="P1")


def _check(item: CatalogueEntry = ITEM, *, cnt: str = "10", days: str | None = None,
           person: PersonFacts = MAN, diagnoses: tuple[str, ...] = ("J06.900",),
           supplied: str = "0", appr: str = "0") -> LineCheck:
    line = FeeLine("7", item.med_list_codg, Decimal(cnt), Decimal("0.50"),
                   None if days is None else Decimal(days), appr)
    return check_line(line, item, person, diagnoses, Decimal(supplied), PARAMS)


def test_an_unrestricted_line_is_accepted_in_scope() -> None:
    assert _check() == LineCheck("7", None, "", True, "")


def test_over_quantity_is_refused_with_numbers_a_cashier_can_act_on() -> None:
    item = dataclasses.replace(ITEM, max_cnt_per_rx=Decimal("20"))
    result = _check(item, cnt="30")
    assert result.refusal == "over_quantity"
    assert result.detail == "阿莫西林胶囊 单张处方数量 30 超过限量 20"
    assert _check(item, cnt="20").refusal is None  # the limit itself is allowed


def test_over_days_per_prescription() -> None:
    item = dataclasses.replace(ITEM, max_days_per_rx=Decimal("7"))
    assert _check(item, days="7").refusal is None
    result = _check(item, days="7.5")
    assert result.refusal == "over_days"
    assert "7.5 天" in result.detail and "限定 7 天" in result.detail
    assert _check(item, days=None).refusal is None  # days not given: nothing to check


def test_cumulative_over_supply_uses_the_window_and_tolerance_parameters() -> None:
    assert PARAMS.checks.supply_window_days == 30
    assert PARAMS.checks.supply_tolerance_days == 7
    assert _check(days="14", supplied="23").refusal is None           # 37 = 30 + 7
    result = _check(days="14", supplied="23.5")
    assert result.refusal == "cumulative_over_supply"
    assert "近 30 天内已开具 23.5 天，本次 14 天" in result.detail


@pytest.mark.parametrize(("limit", "gend", "refused"), [
    ("2", "1", True), ("2", "2", False), ("1", "2", True), ("1", "9", True), (None, "0", False),
])
def test_gender_limited_items(limit: str | None, gend: str, refused: bool) -> None:
    item = dataclasses.replace(ITEM, med_list_name="黄体酮胶囊", gend_limit=limit)
    result = _check(item, person=PersonFacts(gend, 30, "P"))
    assert (result.refusal == "gender_restricted") is refused
    if refused:
        assert result.detail.startswith("黄体酮胶囊 限")


@pytest.mark.parametrize(("low", "high", "age", "refused"), [
    (0, 14, 14, False), (0, 14, 15, True), (18, None, 17, True), (18, None, 18, False),
    (None, 6, 7, True),
])
def test_age_limits_are_inclusive(low: int | None, high: int | None, age: int,
                                  refused: bool) -> None:
    item = dataclasses.replace(ITEM, age_min=low, age_max=high)
    result = _check(item, person=PersonFacts("1", age, "P"))
    assert (result.refusal == "age_restricted") is refused
    if refused:
        assert f"患者年龄 {age} 岁" in result.detail


def test_indication_limited_items_depend_on_the_diagnosis() -> None:
    item = dataclasses.replace(ITEM, indications=("J15", "J18.900"))
    out = _check(item, diagnoses=("J06.900",))
    assert out.refusal is None and not out.in_scope
    assert "限适应症" in out.memo and "J06.900" in out.memo
    assert _check(item, diagnoses=("J06.900", "j15.901 ")).in_scope  # prefix, case, spaces
    assert _check(item, diagnoses=("J18.900",)).in_scope
    assert not _check(item, diagnoses=()).in_scope


def test_refused_hospital_approval_puts_a_restricted_item_out_of_scope() -> None:
    item = dataclasses.replace(ITEM, lmt_used_flag="1")
    result = _check(item, appr="2")
    assert result.refusal is None and not result.in_scope and "审批不通过" in result.memo
    assert _check(item, appr="1").in_scope
    assert _check(ITEM, appr="2").in_scope  # approval only matters for restricted items


def test_refusal_codes_are_the_ones_the_insurer_has_texts_for() -> None:
    from mock_insurer.refusals import TEXTS

    assert set(REFUSAL_CODES) <= set(TEXTS)
